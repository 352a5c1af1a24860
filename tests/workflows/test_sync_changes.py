"""sync keeps the Walmart orders changed in the window off the heap: memory does not grow with their number."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from wmsync.workflows.sync import walmart_changes


class _Walmart:
    """A Walmart listing of ``n`` orders of about 1.5 kB each."""

    def __init__(self, n: int) -> None:
        self.n = n

    def list_orders_windowed(self, _start: int, _end: int, _filters: Any) -> Iterator[dict[str, Any]]:
        for i in range(self.n):
            yield {"purchaseOrderId": f"{108000000000000 + i}", "customerOrderId": f"{200000000 + i}",
                   "orderLines": {"orderLine": [{"lineNumber": str(n), "item": {"sku": f"SKU-{i}-{n}",
                                                 "productName": "x" * 200}} for n in range(1, 5)]}}


def _held(n: int) -> tuple[int, Any]:
    now = datetime(2026, 1, 10, tzinfo=UTC)
    tracemalloc.start()
    try:
        changes = walmart_changes(_Walmart(n), now - timedelta(hours=1), now)  # type: ignore[arg-type]
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return held, changes


def test_changes_are_not_held_in_memory() -> None:
    held_small, small = _held(200)
    held_large, large = _held(4000)
    assert len(small) == 200
    assert len(large) == 4000
    # 20 times the orders: about 6 MB as JSON strings; off the heap the difference stays small
    assert held_large - held_small < 1_000_000, f"{(held_large - held_small) / 1e6:.1f} MB more for 3,800 orders"


def test_changes_give_back_what_was_listed_by_po() -> None:
    _held_bytes, changes = _held(300)
    po = f"{108000000000000 + 123}"
    assert po in changes
    assert "999" not in changes
    doc = changes.get(po)
    assert doc is not None
    assert json.loads(doc)["customerOrderId"] == "200000123"
    assert changes.get("999") is None
    assert list(changes)[:2] == [f"{108000000000000}", f"{108000000000001}"]
