"""Fixtures of the reliability suite: a store whose secrets are canaries, served by fakes over the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability.canary import STORE, CanaryServices, new_canaries, store_toml
from wmsync.sandbox import Sandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """An in-process sandbox outside the wmsync home, so the files scanned for leaks are only wmsync's."""
    sb = Sandbox(tmp_path / "services" / "sandbox.sqlite3")
    sb.ensure_seeded()
    yield sb
    sb.close()


@pytest.fixture
def canaries(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every secret of store ``canary`` in its per-store environment variable."""
    values = new_canaries()
    for name, value in values.items():
        monkeypatch.setenv(f"WMSYNC_{STORE.upper()}_{name}", value)
    return values


def write_config(home: Path, auth: str = "oauth1") -> Path:
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(store_toml(auth))
    return path


@pytest.fixture
def services(httpx_mock, sandbox: Sandbox, canaries: dict[str, str]) -> CanaryServices:  # type: ignore[no-untyped-def]
    fake = CanaryServices(sandbox=sandbox, canaries=canaries)
    httpx_mock.add_callback(fake, is_reusable=True, is_optional=True)
    return fake
