"""The journal carries a schema version and migrates older files in place; a newer file is refused."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from wmsync import journal as jmod
from wmsync.errors import ConfigError, ExitCode
from wmsync.journal import SCHEMA_VERSION, Journal


def _version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def _old_journal(path: Path) -> None:
    """A journal as releases before schema versions wrote it: the tables, user_version 0, one operation."""
    db = sqlite3.connect(path)
    db.executescript(jmod.SCHEMA)
    db.execute(
        "INSERT INTO operations (id, store, kind, order_number, purchase_order_id, op_key, params, state, "
        "created_at, updated_at) VALUES ('op1', 's', 'ship', '000000101', '123', 'ship:123:T', ?, 'confirmed', 1, 1)",
        (json.dumps({"tracking": "T"}),),
    )
    db.commit()
    db.close()
    assert _version(path) == 0


def test_a_new_journal_is_at_the_current_version(tmp_path: Path) -> None:
    Journal(tmp_path / "j.sqlite3").close()
    assert _version(tmp_path / "j.sqlite3") == SCHEMA_VERSION


def test_a_journal_from_before_versions_is_migrated_and_keeps_its_history(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    _old_journal(path)
    j = Journal(path)
    try:
        assert [op.id for op in j.by_key("s", "ship:123:T")] == ["op1"]
    finally:
        j.close()
    assert _version(path) == SCHEMA_VERSION


def test_a_later_migration_step_runs_once_and_keeps_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j.sqlite3"
    _old_journal(path)
    monkeypatch.setattr(jmod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(
        jmod, "MIGRATIONS", {**jmod.MIGRATIONS, SCHEMA_VERSION + 1: "ALTER TABLE operations ADD COLUMN note TEXT"}
    )
    Journal(path).close()
    Journal(path).close()  # a second open finds it done: the ALTER would fail if it ran again
    assert _version(path) == SCHEMA_VERSION + 1
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT id, note FROM operations").fetchall() == [("op1", None)]


def test_a_failed_migration_leaves_the_journal_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j.sqlite3"
    _old_journal(path)
    monkeypatch.setattr(jmod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(jmod, "MIGRATIONS", {**jmod.MIGRATIONS, SCHEMA_VERSION + 1: "ALTER TABLE nowhere ADD x"})
    with pytest.raises(ConfigError) as info:  # exit 3 naming the file, not an internal error
        Journal(path)
    assert str(path) in info.value.message
    assert _version(path) == 0


def test_a_journal_from_a_newer_wmsync_is_refused_with_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ConfigError) as info:
        Journal(path)
    assert info.value.exit_code == ExitCode.CONFIG
    assert str(path) in info.value.message


def test_ship_with_a_newer_journal_sends_nothing_and_exits_3(cli, isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    from wmsync.sandbox import Sandbox, default_db_path

    sb = Sandbox(default_db_path())
    sb.ensure_seeded()
    sb.clear_request_log()
    path = jmod.default_journal_path()
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    r = cli("ship", "000000101", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010006", "--store", "sandbox")
    assert r.exit_code == 3, r
    assert "newer wmsync" in r.stderr
    assert [e.path for e in sb.request_log()] == []  # not even a read: the journal is opened first
    sb.close()
