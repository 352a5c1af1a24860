"""``wmsync orders list``: Commerce orders that came from Walmart, streamed page by page with their Walmart
status beside them (Walmart orders read in batches, not one call per order)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from wmsync.commerce.client import CommerceClient, Filter
from wmsync.commerce.models import Order, Shipment
from wmsync.errors import ApiError, NotFoundError
from wmsync.timeparse import commerce_time, parse_commerce_time, rfc3339
from wmsync.walmart.client import WalmartClient
from wmsync.walmart.models import WalmartOrder
from wmsync.workflows.compare import compare
from wmsync.workflows.context import Context
from wmsync.workflows.status_report import DIVERGED, StatusReport, uses_channel_manager

#: ``--fulfilment``: seller-fulfilled orders only (the default), or all (WFS and 3PL ones marked).
FULFILMENT_FILTERS = ("seller", "all")
STATUS_FILTERS = ("all", "awaiting-shipment", "partially-shipped", "shipped", "cancelled", "diverged", "at-risk")
#: ``--status at-risk``: units still open and the ship-by time within this many seconds, or past
DEFAULT_AT_RISK_MARGIN = 4 * 3600.0
_FILTER_OF_STATUS = {
    "Created": "awaiting-shipment",
    "Acknowledged": "awaiting-shipment",
    "Partially Shipped": "partially-shipped",
    "Shipped": "shipped",
    "Cancelled": "cancelled",
}
#: Commerce orders are read (and Walmart orders fetched) this many at a time.
PAGE_SIZE = 100
#: Walmart's list endpoint: at most 200 per page; only orders of the last 180 days.
WALMART_PAGE = 200
WALMART_LIST_DAYS = 180
#: The Walmart window for a page of Commerce orders: their creation times, widened by this much (a PO is created
#: on Walmart shortly before Channel Manager imports it, so mostly earlier; POs imported later than this, or
#: older than Walmart's list reaches, are fetched one by one).
WINDOW_BEFORE = timedelta(hours=1)
WINDOW_AFTER = timedelta(minutes=10)
#: The ship node types listed: Walmart's default (seller-fulfilled), then WFS and 3PL.
SHIP_NODE_TYPES: tuple[str | None, ...] = (None, "WFSFulfilled", "3PLFulfilled")
#: Below this many POs in a page, fetch them one by one.
BATCH_MIN = 3


@dataclass
class ListStats:
    """Counters filled while the list streams (for the summary line and the benchmark)."""

    commerce_orders: int = 0
    other_channel: int = 0
    not_on_walmart: int = 0
    not_on_walmart_sample: list[str] = field(default_factory=list)  # the first few, for the message
    walmart_list_calls: int = 0
    walmart_get_calls: int = 0
    shown: int = 0
    other_fulfilment: int = 0  # orders Walmart or a 3PL fulfils, left out (``fulfilment="seller"``)


def row_json(report: StatusReport, order: Order) -> dict[str, Any]:
    created = parse_commerce_time(order.created_at)
    return {
        "order": report.order,
        "purchase_order_id": report.purchase_order_id,
        "created_at": rfc3339(created) if created else None,
        "commerce_state": report.commerce_state,
        "walmart_status": report.walmart_status,
        "verdict": report.verdict,
        "estimated_ship_date": rfc3339(report.estimated_ship_date),
        "shipping_program": report.shipping_program,
        "risk": report.risk.level if report.risk else None,
        "auto_cancel_at": rfc3339(report.risk.auto_cancel_at) if report.risk else None,
        "differences": [d.what for d in report.differences if not d.pending],
        "repair_commands": report.commands,
        "fulfilment": report.fulfilment,
    }


def matches(report: StatusReport, status: str, *, now: float = 0.0, margin: float = DEFAULT_AT_RISK_MARGIN) -> bool:
    if status == "all":
        return True
    if status == "at-risk":
        due = report.estimated_ship_date
        return report.open_quantity > 0 and due is not None and due.timestamp() <= now + margin
    if status == "diverged":
        return report.verdict == DIVERGED
    return _FILTER_OF_STATUS.get(report.walmart_status) == status


T = TypeVar("T")


def _chunks(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while True:
        chunk = list(itertools.islice(items, size))
        if not chunk:
            return
        yield chunk


def fetch_walmart_orders(
    walmart: WalmartClient,
    wanted: dict[str, datetime | None],
    now: datetime,
    stats: ListStats,
    *,
    page_size: int = PAGE_SIZE,
) -> dict[str, WalmartOrder]:
    """The Walmart orders of one page of POs. A listing (cursor-paged, ``page_size`` per Walmart page so that
    memory is bounded by the page size, not by how dense the window is) over the window of their creation
    times covers most of them, and stops once all are found; the rest are read one by one. Orders Walmart does
    not have are left out."""
    found: dict[str, WalmartOrder] = {}
    times = [t for t in wanted.values() if t is not None]
    if len(wanted) >= BATCH_MIN and times:
        start = min(times) - WINDOW_BEFORE
        end = max(times) + WINDOW_AFTER
        if start > now - timedelta(days=WALMART_LIST_DAYS - 1):
            # Walmart lists seller-fulfilled orders unless asked for another ship node type: the WFS and 3PL
            # orders of the page are listed by their own type while enough of them are left
            for node_type in SHIP_NODE_TYPES:
                if len(wanted) - len(found) < BATCH_MIN:
                    break
                _list_window(walmart, wanted, found, start, min(end, now), node_type, stats, page_size)
    for po in wanted:
        if po in found:
            continue
        stats.walmart_get_calls += 1
        try:
            found[po] = WalmartOrder.model_validate(walmart.get_order(po))
        except NotFoundError:
            continue
    return found


def _list_window(
    walmart: WalmartClient,
    wanted: dict[str, datetime | None],
    found: dict[str, WalmartOrder],
    start: datetime,
    end: datetime,
    node_type: str | None,
    stats: ListStats,
    page_size: int,
) -> None:
    """One listing over the window (cursor-paged, ``page_size`` per Walmart page), stopping once all are found."""
    limit = max(1, min(WALMART_PAGE, page_size))
    cap = 3 * len(wanted) + limit
    scanned = 0
    stats.walmart_list_calls += 1
    filters = {"limit": str(limit)}
    if node_type is not None:
        filters["shipNodeType"] = node_type
    try:
        # split into date ranges under Walmart's cap on one listing (docs/real-services.md)
        for raw in walmart.list_orders_windowed(int(start.timestamp() * 1000), int(end.timestamp() * 1000),
                                                filters):
            scanned += 1
            po = str(raw.get("purchaseOrderId", ""))
            if po in wanted and po not in found:
                found[po] = WalmartOrder.model_validate(raw)
                if len(found) == len(wanted):
                    break
            if scanned % limit == 0:
                stats.walmart_list_calls += 1
            if scanned >= cap:
                break
    except ApiError:
        pass  # the per-PO reads cover what the listing did not


def _shipments_of(commerce: CommerceClient, orders: Sequence[Order]) -> dict[int, list[Shipment]]:
    ids = [o.entity_id for o in orders if any(i.qty_shipped > 0 for i in o.items)]
    out: dict[int, list[Shipment]] = {}
    if not ids:
        return out
    for raw in commerce.search("shipments", [[Filter("order_id", ",".join(str(i) for i in ids), "in")]], sort=()):
        sh = Shipment.model_validate(raw)
        if sh.order_id is not None:
            out.setdefault(sh.order_id, []).append(sh)
    return out


def list_orders(
    ctx: Context,
    *,
    since: datetime | None,
    status: str = "all",
    limit: int | None = None,
    page_size: int = PAGE_SIZE,
    stats: ListStats | None = None,
    fulfilment: str = "seller",
    margin: float = DEFAULT_AT_RISK_MARGIN,
) -> Iterator[dict[str, Any]]:
    """Commerce orders carrying a Walmart PO, newest first, each compared with Walmart: one row (the ``--json``
    object) at a time. Reads page by page and keeps only the current page, so memory stays flat however
    many orders match."""
    stats = stats if stats is not None else ListStats()
    store = ctx.store
    pattern = re.compile(store.po_pattern)
    groups: list[list[Filter]] = [[Filter(store.po_field, None, "notnull")]]
    if since is not None:
        groups.append([Filter("created_at", commerce_time(since), "gteq")])
    # newest first, ties by entity_id: Commerce is then paged by key (no OFFSET), see CommerceClient.search
    stream = ctx.commerce.search_orders(groups, page_size=page_size,
                                        sort=(("created_at", "DESC"), ("entity_id", "DESC")))
    for chunk in _chunks(stream, page_size):
        now = ctx.clock.time()
        now_dt = datetime.fromtimestamp(now, tz=UTC)
        stats.commerce_orders += len(chunk)
        page: list[tuple[Order, str]] = []
        for raw in chunk:
            order = Order.model_validate(raw)
            po = order.field(store.po_field)
            po = str(po).strip() if po is not None else ""
            if not po or not pattern.fullmatch(po):
                stats.other_channel += 1
                continue
            page.append((order, po))
        if not page:
            continue
        ctx.progress(f"reading {len(page)} Walmart orders")
        wanted = {po: parse_commerce_time(o.created_at) for o, po in page}
        wm_orders = fetch_walmart_orders(ctx.walmart, wanted, now_dt, stats, page_size=page_size)
        shipments = _shipments_of(ctx.commerce, [o for o, po in page if po in wm_orders])
        for order, po in page:
            wm = wm_orders.get(po)
            if wm is None:
                stats.not_on_walmart += 1
                if len(stats.not_on_walmart_sample) < 5:
                    stats.not_on_walmart_sample.append(order.increment_id)
                continue
            if fulfilment == "seller" and not wm.seller_fulfilled:
                stats.other_fulfilment += 1
                continue
            ops = ctx.journal.history(ctx.store_name, po, limit=20)
            report = compare(
                order,
                shipments.get(order.entity_id, []),
                wm,
                ops,
                now,
                channel_manager=uses_channel_manager(store, ops),
            )
            if not matches(report, status, now=now, margin=margin):
                continue
            yield row_json(report, order)
            stats.shown += 1
            if limit is not None and stats.shown >= limit:
                return
        del page, wm_orders, shipments, chunk

