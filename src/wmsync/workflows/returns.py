"""``wmsync returns``: Walmart return orders for the store, joined with the Commerce order number, and the
refund of a return that Walmart leaves to the seller (``returns refund RETURN_ID``).

The refund goes through the write protocol: read the return → check (not the seller's, a WFS order's, cancelled,
still on its way back, already refunded: refused or ``already_done`` before anything is sent) → journal → send
(issueRefund) → after an unknown outcome, settle by reading the return again (never sent twice) → confirm by
reading it again. A re-run finds the refunded quantities on Walmart and sends nothing, from any machine."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from wmsync.commerce.client import Filter
from wmsync.errors import NotFoundError, RefusedError, UnconfirmedError
from wmsync.journal import CONFIRMED, PENDING
from wmsync.timeparse import walmart_time
from wmsync.walmart.returns import (
    AT_RETURN_CENTER,
    CANCELLED,
    COMPLETED,
    IN_TRANSIT,
    REFUNDED,
    SELLER_REFUND,
    ReturnOrder,
    parse_return,
    refund_body,
)
from wmsync.workflows.context import Context
from wmsync.workflows.results import PlannedRequest, Result
from wmsync.workflows.steps import operation, write_step

#: ``--status``: the choice → (Walmart's ``status`` filter, the ``state`` values kept; None = all)
STATUS_FILTERS: dict[str, tuple[str | None, tuple[str, ...] | None]] = {
    "all": (None, None),
    "open": (None, (IN_TRANSIT, AT_RETURN_CENTER)),
    "initiated": ("INITIATED", None),
    "delivered": ("DELIVERED", None),
    "completed": ("COMPLETED", (REFUNDED, COMPLETED)),
    "cancelled": ("COMPLETED", (CANCELLED,)),
}
#: return orders asked of Walmart per page (getReturns takes at most 200)
PAGE = 50


def row_of(ret: ReturnOrder, orders: dict[str, str]) -> dict[str, Any]:
    """One return as ``returns list`` shows it (the ``--json`` row)."""
    return {
        "return_order_id": ret.return_order_id,
        "order": orders.get(ret.purchase_order_id or ""),
        "purchase_order_id": ret.purchase_order_id,
        "customer_order_id": ret.customer_order_id,
        "created_at": ret.created_at,
        "status": ret.status,
        "state": ret.state,
        "refund_status": ret.refund_status,
        "refund_by": ret.refund_by,
        "return_tracking": list(ret.return_tracking),
        "lines": [
            {
                "line_number": ln.number,
                "purchase_order_line": ln.purchase_order_line,
                "sku": ln.sku,
                "qty": ln.qty,
                "reason": ln.reason,
                "status": ln.status,
                "refunded_qty": ln.refunded_qty,
                "refundable_qty": ln.refundable,
                "cancel_reason": ln.cancel_reason,
            }
            for ln in ret.lines
        ],
        "total_refund": ret.total_refund,
    }


def _orders_of(ctx: Context, pos: Sequence[str]) -> dict[str, str]:
    """Walmart PO -> Commerce order number, in one search (as ``orders list`` pairs them: the store's PO field)."""
    if not pos:
        return {}
    found = ctx.commerce.search_orders([[Filter(ctx.store.po_field, ",".join(pos), "in")]], page_size=len(pos),
                                       sort=())
    out: dict[str, str] = {}
    for order in found:
        po = order.field(ctx.store.po_field)
        if po is not None:
            out[str(po).strip()] = order.increment_id
    return out


def list_returns(ctx: Context, *, status: str = "all", since: datetime | None = None,
                 page: int = PAGE) -> Iterator[dict[str, Any]]:
    """The store's return orders, newest first (Walmart's order), one row at a time: every page of getReturns is
    read (``nextCursor``), each page joined with the Commerce order numbers in one search."""
    walmart_status, states = STATUS_FILTERS[status]
    filters: dict[str, str] = {"limit": str(page)}
    if walmart_status:
        filters["status"] = walmart_status
    if since is not None:
        filters["returnCreationStartDate"] = walmart_time(since)
    batch: list[ReturnOrder] = []
    for raw in ctx.walmart.list_returns(**filters):
        ret = parse_return(raw)
        if states is not None and ret.state not in states:
            continue
        batch.append(ret)
        if len(batch) >= page:
            yield from _rows(ctx, batch)
            batch = []
    yield from _rows(ctx, batch)


def _rows(ctx: Context, batch: list[ReturnOrder]) -> Iterator[dict[str, Any]]:
    orders = _orders_of(ctx, sorted({r.purchase_order_id for r in batch if r.purchase_order_id}))
    for ret in batch:
        yield row_of(ret, orders)


def open_returns(
    ctx: Context, customer_order_id: str | None, purchase_order_id: str | None = None
) -> list[ReturnOrder]:
    """The open returns of one Walmart order (for ``status``)."""
    if not customer_order_id:
        return []
    out = []
    for raw in ctx.walmart.list_returns(customerOrderId=customer_order_id):
        ret = parse_return(raw)
        if purchase_order_id and ret.purchase_order_id not in (None, purchase_order_id):
            continue
        if ret.open:
            out.append(ret)
    return out


def describe(ret: ReturnOrder) -> str:
    """One return in words (``status`` notes, the prompt)."""
    what = ", ".join(f"{ln.qty:g} × {ln.sku} ({ln.reason})" for ln in ret.lines)
    where = {IN_TRANSIT: "on its way back", AT_RETURN_CENTER: "at the return center"}.get(ret.state, ret.state)
    return f"Walmart return {ret.return_order_id} is open ({where}): {what}"


# ---------------------------------------------------------------------------------------------- the refund


@dataclass(frozen=True)
class ReturnRefundOutcome:
    return_order_id: str
    purchase_order_id: str | None
    order: str | None
    result: Result
    row: dict[str, Any]
    sent: tuple[str, ...] = ()
    requests: tuple[PlannedRequest, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "return_order_id": self.return_order_id,
            "purchase_order_id": self.purchase_order_id,
            "order": self.order,
            "result": str(self.result),
            "return": self.row,
            "sent": list(self.sent),
        }
        if self.requests is not None:
            out["requests"] = [r.to_json() for r in self.requests]
        return out


def read_return(ctx: Context, return_id: str) -> ReturnOrder:
    for raw in ctx.walmart.list_returns(returnOrderId=return_id):
        if str(raw.get("returnOrderId")) == return_id:
            return parse_return(raw)
    raise RefusedError(f"Walmart has no return {return_id}; nothing was sent",
                       hint="`wmsync returns` lists the store's returns")


def _refusal(ctx: Context, ret: ReturnOrder) -> str | None:
    """Why the seller may not refund this return now (checked before anything is sent), or None."""
    rid = ret.return_order_id
    if ret.state == CANCELLED:
        return f"return {rid} was cancelled: there is nothing to refund"
    if ret.purchase_order_id:
        try:
            wm = ctx.walmart.get_order(ret.purchase_order_id)
        except NotFoundError:
            wm = None
        if wm is not None and not wm.seller_fulfilled:
            return (f"return {rid} is of a {wm.fulfilment} order (PO {ret.purchase_order_id}): Walmart handles its "
                    "refund, the seller can only view it")
    if ret.refund_by != "seller":
        return (f"Walmart refunds return {rid} itself (refundChannel {ret.refund_channel}, not {SELLER_REFUND}): "
                "nothing for the seller to send")
    if ret.state == IN_TRANSIT:
        return (f"return {rid} has not reached the return center yet: its refund is issued once it is delivered "
                "there (Walmart refunds it itself 48 hours after delivery if the seller has not)")
    return None


def refund_return(
    ctx: Context,
    return_id: str,
    *,
    dry_run: bool = False,
    confirm: Callable[[ReturnOrder], bool] = lambda _r: True,
) -> ReturnRefundOutcome:
    """Read → check → (dry run: the request) → confirm → journalled write → confirmed by reading the return."""
    ret = read_return(ctx, return_id)
    orders = _orders_of(ctx, [ret.purchase_order_id] if ret.purchase_order_id else [])
    order = orders.get(ret.purchase_order_id or "")

    def outcome(result: Result, r: ReturnOrder, sent: Sequence[str] = (),
                requests: tuple[PlannedRequest, ...] | None = None) -> ReturnRefundOutcome:
        return ReturnRefundOutcome(return_id, r.purchase_order_id, order, result, row_of(r, orders), tuple(sent),
                                   requests)

    if ret.state == REFUNDED:
        return outcome(Result.ALREADY_DONE, ret)
    why = _refusal(ctx, ret)
    if why is not None:
        raise RefusedError(why, hint="nothing was sent")
    body = refund_body(ret)
    if body is None:  # completed without a refundable unit: nothing the seller can still do
        if ret.state == COMPLETED:
            return outcome(Result.ALREADY_DONE, ret)
        raise RefusedError(f"return {return_id} has nothing left to refund", hint="nothing was sent")
    path = f"/v3/returns/{return_id}/refund"
    if dry_run:
        return outcome(Result.DRY_RUN, ret, requests=(PlannedRequest("walmart", "POST", path, body),))
    if not confirm(ret):
        raise RefusedError("refunded nothing: not confirmed")
    before = {ln.number: ln.refunded_qty for ln in ret.lines}
    want = {int(x["returnOrderLineNumber"]): float(x["quantity"]["measurementValue"]) for x in body["refundLines"]}

    def refunded(r: ReturnOrder) -> bool:
        now = {ln.number: ln.refunded_qty for ln in r.lines}
        return all(now.get(n, 0.0) >= before.get(n, 0.0) + q for n, q in want.items())

    po = ret.purchase_order_id or return_id
    with operation(ctx, kind="return_refund", key=f"return_refund:{return_id}", order_number=order or po,
                   purchase_order_id=po, params={"return_order_id": return_id, "body": body}) as op:
        write_step(
            op, "walmart_return_refund", progress=f"issuing the refund of return {return_id} on Walmart",
            body=body,
            send=lambda: ctx.walmart.refund_return(return_id, body),
            read=lambda: read_return(ctx, return_id),
            applied=lambda v: isinstance(v, ReturnOrder) and refunded(v),
            what=f"the refund of return {return_id}",
        )
        latest = read_return(ctx, return_id)
        ok = refunded(latest)
        result = Result.CONFIRMED if ok else Result.PENDING
        op.finish(CONFIRMED if ok else PENDING, result,
                  confirm_deadline=None if ok else ctx.clock.time() + ctx.settings.timeout)
    done = outcome(result, latest, op.sent)
    if not ok:
        # printed like the other write outcomes (emit_unconfirmed needs only to_json)
        raise UnconfirmedError(f"sent, but Walmart does not show return {return_id} refunded yet",
                               outcome=cast(Any, done))
    return done
