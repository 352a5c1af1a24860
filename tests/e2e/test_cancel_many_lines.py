"""Walmart takes at most 100 order lines in one cancellation request: a larger cancel goes in parts of at most
100 lines, and a re-run after a failure between parts cancels only what is left — nothing twice."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from wmsync.sandbox import Sandbox
from wmsync.sandbox import seed as s

LINES = 230
INCREMENT = 900


def _big_order(sb: Sandbox) -> str:
    now = time.time()
    with sb.db.transaction() as conn:
        b = s.Builder(conn, now)
        po = s.po_for(INCREMENT)
        created = now - 3600
        b.walmart_po(po, s.customer_order_for(INCREMENT), created, s.CUSTOMERS[0], s._email(INCREMENT), "Standard")
        oid = b.commerce_order(INCREMENT, created, s.CUSTOMERS[0], ext=po, email=s._email(INCREMENT))
        for n in range(1, LINES + 1):
            sku = f"WM-BULK-{n:05d}"
            b.item(oid, sku, f"Bulk item {n}", 1, 1.25)
            b.line(po, n, sku, f"Bulk item {n}", 1, 1.25)
        b.finish_order(oid)
    return f"{INCREMENT:09d}"


def _cancel_posts(sb: Sandbox) -> list[Any]:
    return [e for e in sb.request_log()
            if e.method == "POST" and e.path.startswith("/v3/") and e.path.endswith("/cancel")]


def _cancelled_lines(sb: Sandbox, po: str) -> list[str]:
    return [c["line_number"] for c in sb.cancellations(po)]


def test_a_cancel_of_many_lines_goes_in_parts_of_at_most_100(cli: Any, sandbox: Sandbox) -> None:
    order = _big_order(sandbox)
    po = s.po_for(INCREMENT)
    r = cli("cancel", order, "--store", "sandbox", "--reason", "out-of-stock", "--yes", "--json")
    assert r.exit_code == 0, r
    posts = _cancel_posts(sandbox)
    sizes = [len(json.loads(e.request_body)["orderCancellation"]["orderLines"]["orderLine"]) for e in posts]
    assert sizes == [100, 100, 30], sizes
    assert all(e.status == 200 for e in posts)
    cancelled = _cancelled_lines(sandbox, po)
    assert sorted(cancelled) == sorted(str(n) for n in range(1, LINES + 1))  # each line once


def test_a_rerun_after_a_failure_between_parts_cancels_nothing_twice(
    cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wmsync.errors import UnavailableError
    from wmsync.walmart.client import WalmartClient

    order = _big_order(sandbox)
    po = s.po_for(INCREMENT)
    real = WalmartClient.cancel
    calls = {"n": 0}

    def cancel(self: WalmartClient, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # the connection is gone before the second part is sent
            raise UnavailableError("Walmart POST cancel: connection refused")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(WalmartClient, "cancel", cancel)
    r = cli("cancel", order, "--store", "sandbox", "--reason", "out-of-stock", "--yes", "--json")
    assert r.exit_code != 0, r
    assert len(_cancelled_lines(sandbox, po)) == 100
    monkeypatch.setattr(WalmartClient, "cancel", real)
    r = cli("cancel", order, "--store", "sandbox", "--reason", "out-of-stock", "--yes", "--json")
    assert r.exit_code == 0, r
    cancelled = _cancelled_lines(sandbox, po)
    assert sorted(cancelled) == sorted(str(n) for n in range(1, LINES + 1)), "a line cancelled twice or missed"
    sizes = [len(json.loads(e.request_body)["orderCancellation"]["orderLines"]["orderLine"])
             for e in _cancel_posts(sandbox)]
    assert sizes == [100, 100, 30], sizes  # the re-run sent only what was left
