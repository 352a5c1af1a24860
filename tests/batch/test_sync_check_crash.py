"""An order whose check fails unexpectedly stays outstanding: the sync window moves on without losing it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wmsync.journal import Journal, default_journal_path
from wmsync.sandbox import Sandbox, default_db_path


def test_order_whose_check_crashes_stays_outstanding(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from wmsync.workflows import status, sync

    real = status.compare

    def flaky(order: Any, *args: Any, **kwargs: Any) -> Any:
        if order.increment_id == "000000117":
            raise RuntimeError("simulated bug")
        return real(order, *args, **kwargs)

    monkeypatch.setattr(status, "compare", flaky)
    r = cli("sync", "--store", "sandbox", "--json", "--since", "30d")
    assert r.exit_code != 0, r
    with Sandbox(default_db_path()) as sb:
        po = sb.commerce_order("000000117")["ext_order_id"]  # type: ignore[index]
    journal = Journal(default_journal_path())
    outstanding = json.loads(journal.get_meta("sandbox", sync.META_OUTSTANDING) or "[]")
    journal.close()
    assert po in outstanding
    assert any(o["order"] == "000000117" and o["verdict"] == "failed" for o in r.json()["orders"])
    # the next run (nothing broken) handles it
    monkeypatch.setattr(status, "compare", real)
    r2 = cli("sync", "--store", "sandbox", "--json")
    assert any(o["order"] == "000000117" and any(a["action"] == "ship" and a["result"] == "confirmed"
                                                 for a in o["actions"]) for o in r2.json()["orders"]), r2
