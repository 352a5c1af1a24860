"""Fixtures for tests run through Stoplight Prism (see tests/prism/harness.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conformance.spec import specs_dir, specs_missing_reason
from prism.harness import PrismProcess, require_prism
from prism.overlay import write_documents


@pytest.fixture(scope="session")
def specs_path() -> Path:
    """The official specs directory; skips the test when the specs are not available."""
    reason = specs_missing_reason()
    if reason:
        pytest.skip(reason)
    return specs_dir()


@pytest.fixture(scope="session")
def prism_bin() -> Path:
    """The Prism binary; skips the test when it is missing, fails it when $CI is set."""
    return require_prism()


@pytest.fixture(scope="session")
def prism_documents(specs_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{"walmart": walmart.json, "commerce": commerce.json}, generated once per session from ../shared/specs."""
    return write_documents(tmp_path_factory.mktemp("prism-documents"))


@pytest.fixture
def start_prism(
    prism_bin: Path, prism_documents: dict[str, Path], tmp_path: Path
) -> Iterator[Callable[[str, str], PrismProcess]]:
    """Factory: ``start_prism("walmart" | "commerce" | <path>, upstream_url)`` -> a running PrismProcess
    (``.url``, ``.startup_seconds``, ``.log_text()``); every one started is stopped after the test."""
    started: list[PrismProcess] = []

    def start(document: str, upstream_url: str) -> PrismProcess:
        path = prism_documents.get(document, Path(document))
        proxy = PrismProcess.start(path, upstream_url, prism=prism_bin, log_dir=tmp_path)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()
