"""Shared fixtures: every test runs with its own config, data and cache dirs, no colour, a fixed width,
and none of the caller's WMSYNC_* variables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("WMSYNC_") and key != "WMSYNC_PRISM" and key != "WMSYNC_SPECS_DIR":
            monkeypatch.delenv(key, raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("WMSYNC_CONFIG", str(home / "config" / "config.toml"))
    monkeypatch.setenv("WMSYNC_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("WMSYNC_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    # short waits everywhere unless a test sets its own
    monkeypatch.setenv("WMSYNC_POLL_INITIAL", "0.01")
    monkeypatch.setenv("WMSYNC_POLL_MAX", "0.05")
    monkeypatch.setenv("WMSYNC_BACKOFF_BASE", "0")
    monkeypatch.setenv("WMSYNC_BACKOFF_MAX", "0")
    # after an unknown outcome: re-read briefly (the sandbox applies writes at once); tests that prove the
    # resend guard set WMSYNC_RESEND_QUIET themselves
    monkeypatch.setenv("WMSYNC_UNKNOWN_GRACE", "0.3")
    monkeypatch.setenv("WMSYNC_RESEND_QUIET", "0")
    return home


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.exit_code = code
        self.stdout = out
        self.stderr = err

    def json(self) -> object:
        import json

        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"Result(exit_code={self.exit_code}, stdout={self.stdout[-2000:]!r}, stderr={self.stderr[-2000:]!r})"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run the CLI in-process: ``cli("orders", "list", "--store", "sandbox")`` → Result."""
    from wmsync.cli.app import run

    def invoke(*args: str, stdin: str | None = None) -> Result:
        import io
        import sys

        old = sys.stdin
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            capsys.readouterr()
            code = run(list(args))
        finally:
            sys.stdin = old
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """The seeded sandbox behind ``--store sandbox`` (the database the CLI uses in this test's data dir), with an
    empty request log. ``tests/sandbox`` and ``tests/reliability`` define their own."""
    from wmsync.sandbox import Sandbox, default_db_path

    sb = Sandbox(default_db_path())
    sb.ensure_seeded()
    sb.clear_request_log()
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def mariadb() -> Iterator[Any]:
    """A throwaway MariaDB server for the whole run (tests/mariadb_server.py). Outside CI the tests that need it
    skip when MariaDB is not installed; in CI they fail."""
    import mariadb_server

    if mariadb_server.binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("MariaDB is required in CI (apt-get install -y mariadb-server)")
        pytest.skip("MariaDB is not installed")
    server = mariadb_server.start()
    yield server
    server.stop()


@pytest.fixture
def state_db(mariadb: Any) -> Any:
    """A fresh database and user on the shared server: (StateURL, password)."""
    import uuid

    from wmsync.journal_mysql import StateURL

    name = "wm_" + uuid.uuid4().hex[:12]
    password = uuid.uuid4().hex
    mariadb.sql(
        f"CREATE DATABASE {name}; CREATE USER '{name}'@'127.0.0.1' IDENTIFIED BY '{password}';"
        f"GRANT ALL ON {name}.* TO '{name}'@'127.0.0.1';"
    )
    return StateURL(name, "127.0.0.1", mariadb.port, name), password
