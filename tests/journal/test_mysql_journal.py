"""The journal and leases on a shared MariaDB/MySQL database behave as the SQLite journal does, and its leases
are the server's named locks: one holder across machines, released when the holder's connection dies."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from wmsync.errors import ConfigError, LeaseTimeoutError
from wmsync.journal import CONFIRMED, PENDING, Journal
from wmsync.journal_mysql import MySQLJournal, StateURL


@pytest.fixture(params=["sqlite", "mysql"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        j: Journal = Journal(tmp_path / "j.sqlite3")
    else:
        url, password = request.getfixturevalue("state_db")
        j = MySQLJournal(url, password)
    yield j
    j.close()


def test_operations_steps_and_history_read_back_the_same(journal: Journal) -> None:
    op = journal.start(store="s", kind="ship", op_key="ship:123:1Z", order_number="000000101",
                       purchase_order_id="123", params={"tracking_number": "1Z", "items": {"A": 1}})
    journal.step(op, "commerce_ship", "started", {"body": {"x": "é"}})
    journal.step(op, "commerce_ship", "done", {"shipment_id": 7}, correlation_id="c-1")
    journal.step(op, "walmart_ship", "unknown")
    journal.finish(op, PENDING, result={"result": "pending"}, correlation_ids=["c-1", "c-2"], confirm_deadline=99.5)
    [got] = journal.by_key("s", "ship:123:1Z")
    assert got.state == PENDING
    assert got.params == {"tracking_number": "1Z", "items": {"A": 1}}
    assert got.steps["commerce_ship"]["state"] == "done"
    assert got.steps["commerce_ship"]["detail"] == {"shipment_id": 7}
    assert got.steps["commerce_ship"]["correlation_id"] == "c-1"
    assert got.steps["walmart_ship"]["state"] == "unknown"
    assert got.correlation_ids == ["c-1", "c-2"]
    assert got.confirm_deadline == 99.5
    assert [o.id for o in journal.history("s", "123")] == [op]
    assert journal.changed_since("s", "123", got.updated_at - 1)
    assert not journal.changed_since("s", "123", got.updated_at + 10)
    journal.finish(op, CONFIRMED, result={"result": "confirmed"})
    done = journal.done_operations("s", "ship", ["000000101"])
    assert [d.op_key for d in done] == ["ship:123:1Z"]
    assert journal.get(op) is not None
    journal.set_meta("s", "since", "a")
    journal.set_meta("s", "since", "b")
    assert journal.get_meta("s", "since") == "b"
    assert journal.get_meta("s", "other") is None


def test_a_lease_is_held_once_across_machines_and_names_its_holder(state_db: Any) -> None:
    url, password = state_db
    a, b = MySQLJournal(url, password), MySQLJournal(url, password)  # two machines
    try:
        assert a.acquire("s", "po:1", ttl=60, wait=0)
        assert not b.acquire("s", "po:1", ttl=60, wait=0)
        held = b.holder("s", "po:1")
        assert held is not None
        assert held["host"] == socket.gethostname()
        assert held["pid"] == os.getpid()
        assert held["since"] is not None
        a.renew("s", "po:1", ttl=60)
        with pytest.raises(LeaseTimeoutError):
            b.renew("s", "po:1", ttl=60)  # never act on an order another run holds
        assert b.acquire("s", "po:2", ttl=60, wait=0)  # another order: free
        a.release("s", "po:1")
        assert b.holder("s", "po:1") is None
        assert b.acquire("s", "po:1", ttl=60, wait=0)
    finally:
        a.close()
        b.close()


def test_a_crashed_holder_frees_the_order_at_once(state_db: Any) -> None:
    url, password = state_db
    a, b = MySQLJournal(url, password), MySQLJournal(url, password)
    try:
        assert a.acquire("s", "po:9", ttl=3600, wait=0)
        a.my.conn.close()  # the process dies: its connection goes, without releasing anything
        assert b.acquire("s", "po:9", ttl=60, wait=5)  # not after the hour's ttl: now
    finally:
        b.close()


def test_the_schema_is_created_once_and_versioned(state_db: Any) -> None:
    url, password = state_db
    first = MySQLJournal(url, password)
    second = MySQLJournal(url, password)  # opens the existing schema
    try:
        from wmsync.journal import SCHEMA_VERSION

        assert first.schema_version == second.schema_version == SCHEMA_VERSION
    finally:
        first.close()
        second.close()


def test_bad_credentials_are_a_configuration_error(state_db: Any) -> None:
    url, _ = state_db
    with pytest.raises(ConfigError) as info:
        MySQLJournal(url, "wrong")
    assert "state database" in info.value.message
    assert "wrong" not in info.value.message


@pytest.mark.parametrize("url", ["postgres://u@h/db", "mysql://h/db", "mysql://u:pw@h/db", "mysql://u@h/"])
def test_state_urls_are_checked(url: str) -> None:
    with pytest.raises(ConfigError):
        StateURL.parse(url)
