"""Fixtures for the conformance tests. Helpers live in conformance.spec (import them directly)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.spec import load_document, specs_dir, specs_missing_reason


@pytest.fixture(scope="session")
def specs_path() -> Path:
    """The official specs directory; skips the test when the specs are not available."""
    reason = specs_missing_reason()
    if reason:
        pytest.skip(reason)
    return specs_dir()


@pytest.fixture(scope="session")
def walmart_spec(specs_path: Path) -> dict[str, Any]:
    """The Walmart orders OpenAPI document with errata corrected (a private copy)."""
    return load_document("walmart-orders")


@pytest.fixture(scope="session")
def walmart_auth_spec(specs_path: Path) -> dict[str, Any]:
    """The Walmart authentication OpenAPI document with errata corrected (a private copy)."""
    return load_document("walmart-auth")


@pytest.fixture(scope="session")
def commerce_spec(specs_path: Path) -> dict[str, Any]:
    """The Commerce admin Swagger 2.0 schema (2.4.9) with errata corrected (a private copy)."""
    return load_document("commerce")
