"""Problems with wmsync's own files are configuration errors (exit 3) that name the file and what to do, and
nothing is sent; durations that are not numbers are usage errors (exit 2)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from wmsync.journal import Journal, default_journal_path
from wmsync.sandbox import Sandbox

SHIP = ("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010006")



def nothing_sent(sb: Sandbox) -> bool:
    return [e.path for e in sb.request_log() if e.method == "POST" and not e.path.endswith("/token")] == []


def test_a_corrupt_journal_is_exit_3_naming_it(cli: Any, sandbox: Sandbox) -> None:
    path = default_journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database, it was cut short by a full disk" * 20)
    r = cli(*SHIP)
    assert r.exit_code == 3, r
    assert str(path) in r.stderr
    assert "move it aside" in r.stderr
    assert nothing_sent(sandbox)


def test_a_journal_path_that_is_a_directory_is_exit_3(cli: Any, sandbox: Sandbox) -> None:
    default_journal_path().mkdir(parents=True)
    r = cli(*SHIP)
    assert r.exit_code == 3, r
    assert "is a directory" in r.stderr
    assert nothing_sent(sandbox)


def test_a_journal_readable_by_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    Journal(path).close()
    path.chmod(0o644)
    Journal(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_unwritable_trace_file_is_exit_3(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    r = cli(*SHIP, "--trace-file", str(blocker / "trace.json"))
    assert r.exit_code == 3, r
    assert "trace file" in r.stderr
    assert nothing_sent(sandbox)


def test_an_unusable_token_cache_directory_is_exit_3(cli: Any, sandbox: Sandbox, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("x")
    monkeypatch.setenv("WMSYNC_CACHE_DIR", str(blocker))
    r = cli(*SHIP)
    assert r.exit_code == 3, r
    assert "token cache" in r.stderr
    assert nothing_sent(sandbox)


@pytest.mark.parametrize("option", ["--timeout", "--lock-timeout"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_duration_that_is_not_a_number_is_exit_2(cli: Any, sandbox: Sandbox, option: str, value: str) -> None:
    r = cli(*SHIP, option, value)
    assert r.exit_code == 2, r
    assert nothing_sent(sandbox)
