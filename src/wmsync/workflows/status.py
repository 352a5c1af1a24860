"""``wmsync status``: read both sides of an order and compare them (:mod:`compare`), once or until they agree.

The report types, the comparison and ``orders list`` live in :mod:`status_report`, :mod:`compare` and
:mod:`orders_list`; their names are re-exported here for callers of this module."""

from __future__ import annotations

from typing import Any

from wmsync.errors import NotFoundError, OrderNotFoundError
from wmsync.timeparse import from_epoch_ms
from wmsync.workflows.base import poll
from wmsync.workflows.compare import compare
from wmsync.workflows.context import Context
from wmsync.workflows.orders_list import FULFILMENT_FILTERS, STATUS_FILTERS, ListStats, list_orders
from wmsync.workflows.pairing import lines_by_sku
from wmsync.workflows.session import order_session
from wmsync.workflows.status_report import (
    CHANNEL_MANAGER_WINDOW,
    DIVERGED,
    IN_SYNC,
    PENDING_VERDICT,
    Difference,
    LineView,
    Risk,
    StatusReport,
    auto_cancel_risk,
    line_views,
    uses_channel_manager,
)

__all__ = [
    "CHANNEL_MANAGER_WINDOW",
    "DIVERGED",
    "FULFILMENT_FILTERS",
    "IN_SYNC",
    "PENDING_VERDICT",
    "STATUS_FILTERS",
    "Difference",
    "LineView",
    "ListStats",
    "Risk",
    "StatusReport",
    "auto_cancel_risk",
    "compare",
    "list_orders",
    "read_status",
    "uses_channel_manager",
    "watch",
]
def read_status(ctx: Context, order_arg: str) -> StatusReport:
    """Read both sides of one order (the order session, read-only: no lease) and the journal, and compare. A
    Walmart PO that Commerce has not imported yet is reported from the Walmart side alone (pending)."""
    try:
        return _read_both(ctx, order_arg)
    except OrderNotFoundError:
        report = _walmart_only(ctx, order_arg)
        if report is None:
            raise
        return report


def _walmart_only(ctx: Context, value: str) -> StatusReport | None:
    """The Walmart side of a PO no Commerce order carries, or None when Walmart does not know it either."""
    import re

    po = value.lstrip("#")
    if not re.fullmatch(ctx.store.po_pattern, po):
        return None
    try:
        wm = ctx.walmart.get_order(po)
    except NotFoundError:
        return None
    why = "not imported into Commerce yet: Walmart has the order, no Commerce order carries its PO"
    return StatusReport(
        verdict=PENDING_VERDICT,
        order=None,
        purchase_order_id=po,
        commerce_state=None,
        walmart_status=wm.overall_status(),
        lines=line_views(wm, lines_by_sku(wm), [], {}),
        differences=[],
        notes=[
            f"{why}; Channel Manager imports Walmart orders every few minutes — if it stays missing, check the "
            "import in Commerce (Channel Manager's order sync)"
        ],
        history=[],
        estimated_ship_date=from_epoch_ms(wm.shippingInfo.estimatedShipDate),
        risk=auto_cancel_risk(wm, ctx.clock.time()),
        pending_reasons=[why],
        shipping_program=wm.shipping_program,
        open_quantity=wm.open_qty,
    )


def _read_both(ctx: Context, order_arg: str) -> StatusReport:
    with order_session(ctx, order_arg, dry_run=True, lock_timeout=0) as session:
        order, po = session.order, session.purchase_order_id
        shipped = any(i.qty_shipped > 0 for i in order.items)
        shipments = ctx.commerce.list_shipments(order.entity_id) if shipped else []
        ops = ctx.journal.history(ctx.store_name, po, limit=50)
        report = compare(
            order,
            shipments,
            session.walmart,
            ops,
            ctx.clock.time(),
            channel_manager=uses_channel_manager(ctx.store, ops),
            resend_quiet=ctx.settings.resend_quiet,
        )
        report.notes.extend(_return_notes(ctx, session.walmart))
        return report


def _return_notes(ctx: Context, wm: Any) -> list[str]:
    """The order's open Walmart returns, in words (a returns read that fails is left out, never an error)."""
    from wmsync.errors import WmsyncError
    from wmsync.walmart.returns import AT_RETURN_CENTER
    from wmsync.workflows.returns import describe, open_returns

    customer_order = getattr(wm, "customerOrderId", None) or (wm.model_extra or {}).get("customerOrderId")
    try:
        rets = open_returns(ctx, str(customer_order) if customer_order else None, getattr(wm, "purchaseOrderId", None))
    except WmsyncError:
        return []
    notes = []
    for ret in rets:
        text = describe(ret)
        if ret.refund_by == "seller" and ret.state == AT_RETURN_CENTER:
            text += f"; its refund is yours to issue: `wmsync returns refund {ret.return_order_id}`"
        elif ret.refund_by == "walmart":
            text += "; Walmart refunds it"
        notes.append(text)
    return notes


def watch(ctx: Context, order_arg: str) -> StatusReport:
    """``read_status``, and when ``ctx.settings.wait`` re-read until the verdict is no longer ``pending`` or
    ``ctx.settings.timeout`` seconds pass."""
    report = read_status(ctx, order_arg)
    if not ctx.settings.wait or report.verdict != PENDING_VERDICT:
        return report
    report = _wait(ctx, order_arg, report)
    if report.verdict == IN_SYNC and report.purchase_order_id is not None:
        _record_confirmed(ctx, report.purchase_order_id)
    return report


def _record_confirmed(ctx: Context, po: str) -> None:
    """Both sides agree now: operations on this PO still journalled ``pending`` were confirmed (by Walmart
    showing them), and the journal says so rather than leaving them open."""
    from wmsync.journal import CONFIRMED, PENDING

    for op in ctx.journal.history(ctx.store_name, po, limit=50):
        if op.state == PENDING:
            ctx.journal.finish(
                op.id,
                CONFIRMED,
                result={"result": "confirmed", "confirmed_by": "status --wait"},
                correlation_ids=op.correlation_ids,
            )


def _wait(ctx: Context, order_arg: str, report: StatusReport) -> StatusReport:
    box = [report]

    def check() -> bool:
        box[0] = read_status(ctx, order_arg)
        return box[0].verdict != PENDING_VERDICT

    ctx.progress("waiting for Walmart")
    s = ctx.settings
    poll(
        check,
        clock=ctx.clock,
        timeout=s.timeout,
        initial=s.poll_initial,
        maximum=s.poll_max,
        on_wait=lambda el, d: ctx.progress(f"still pending ({el:.0f}s, next look in {d:.0f}s)"),
    )
    return box[0]
