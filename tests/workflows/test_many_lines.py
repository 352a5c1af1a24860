"""An order with many distinct SKUs costs time in proportion to its lines in ship planning and in status:
lines are found by SKU and items by id or parent through dict look-ups, not by scanning every line per item."""

from __future__ import annotations

import time
from collections.abc import Callable

from builders import NOW_MS, PO, STORE, c_item, c_order, w_line, w_order
from wmsync.commerce.models import Order
from wmsync.walmart.models import WalmartOrder
from wmsync.workflows.base import OrderPair
from wmsync.workflows.ship import ShipRequest, plan
from wmsync.workflows.status import compare

SMALL, LARGE = 150, 1500
#: linear growth is 10×; quadratic growth was about 100× here
MAX_GROWTH = 25.0


def _order(lines: int, shipped: int = 0) -> tuple[Order, WalmartOrder]:
    order = c_order([c_item(n, f"SKU-{n:05d}", 1, shipped=shipped) for n in range(1, lines + 1)])
    wm = w_order([w_line(n, f"SKU-{n:05d}") for n in range(1, lines + 1)])
    return order, wm


def _fastest(fn: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def _growth(make: Callable[[int], Callable[[], object]]) -> float:
    small, large = make(SMALL), make(LARGE)
    return _fastest(large) / max(_fastest(small), 1e-4)


def test_ship_planning_grows_linearly_with_lines() -> None:
    def make(lines: int) -> Callable[[], object]:
        order, wm = _order(lines)
        request = ShipRequest(order="000000007", carrier="UPS", tracking="1Z999AA10123456784")
        return lambda: plan(OrderPair(order, PO, wm, []), STORE, request, now_ms=NOW_MS)

    body = make(LARGE)().packages[0].walmart_body  # type: ignore[attr-defined]
    assert len(body["orderShipment"]["orderLines"]["orderLine"]) == LARGE
    assert _growth(make) <= MAX_GROWTH


def test_status_grows_linearly_with_lines() -> None:
    def make(lines: int) -> Callable[[], object]:
        order, wm = _order(lines)
        return lambda: compare(order, [], wm, [], NOW_MS / 1000)

    order, wm = _order(LARGE)
    assert len(compare(order, [], wm, [], NOW_MS / 1000).lines) == LARGE
    assert _growth(make) <= MAX_GROWTH
