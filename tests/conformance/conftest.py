from __future__ import annotations

import pytest

from conformance.spec import specs_dir, specs_missing_reason


@pytest.fixture(scope="session")
def specs_path():
    reason = specs_missing_reason()
    if reason:
        pytest.skip(reason)
    return specs_dir()
