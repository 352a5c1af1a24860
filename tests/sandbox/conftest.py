"""Fixtures for the sandbox tests: a fresh sandbox on a fake clock, a client wired to it, auth headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.helpers import FakeClock, get_token, wm_base_headers
from wmsync.sandbox import BASE_URL, CREDENTIALS, Sandbox


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.sqlite3"


@pytest.fixture
def sandbox(db_path: Path, clock: FakeClock) -> Iterator[Sandbox]:
    sb = Sandbox(db_path, clock=clock, sleep=clock.sleep)
    yield sb
    sb.close()


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as c:
        yield c


@pytest.fixture
def wm(client: httpx.Client) -> dict[str, str]:
    """Walmart headers with a fresh token."""
    return {**wm_base_headers(), "WM_SEC.ACCESS_TOKEN": get_token(client)}


@pytest.fixture
def mg() -> dict[str, str]:
    """Commerce headers (integration token as bearer)."""
    return {"Authorization": f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"}
