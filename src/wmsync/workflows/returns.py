"""``wmsync returns``: Walmart return orders for the store, joined with the Commerce order number, and the
refund of a return that Walmart leaves to the seller (``returns refund RETURN_ID``).

A return's refund is the seller's to issue when its ``refundChannel`` is ``SELLER_MANUAL_REFUND``; Walmart issues
the others itself (and every return of a WFS order: view only). The refund is checked before it is sent (open,
not refunded, the seller's), journalled, confirmed by reading the return again, and never issued twice."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wmsync.commerce.client import Filter
from wmsync.errors import NotFoundError, RefusedError
from wmsync.journal import ALREADY_DONE, CONFIRMED
from wmsync.timeparse import walmart_time
from wmsync.workflows.context import Context
from wmsync.workflows.results import Result
from wmsync.workflows.steps import operation, write_step

SELLER = "SELLER_MANUAL_REFUND"
OPEN_STATUSES = ("INITIATED", "DELIVERED")


def row_of(ret: dict[str, Any], orders: dict[str, str]) -> dict[str, Any]:
    """One return as ``returns list`` shows it (the ``--json`` row)."""
    lines = [ln for ln in ret.get("returnOrderLines") or [] if isinstance(ln, dict)]
    po = next((str(ln.get("purchaseOrderId")) for ln in lines if ln.get("purchaseOrderId")), None)
    tracking = [
        str(c.get("trackingNo"))
        for g in ret.get("returnLineGroups") or [] if isinstance(g, dict)
        for label in g.get("labels") or [] if isinstance(label, dict)
        for c in label.get("carrierInfoList") or [] if isinstance(c, dict) and c.get("trackingNo")
    ]
    channel = next((ln.get("refundChannel") for ln in lines if ln.get("refundChannel")), None)
    return {
        "return_order_id": ret.get("returnOrderId"),
        "order": orders.get(po or ""),
        "purchase_order_id": po,
        "customer_order_id": ret.get("customerOrderId"),
        "created_at": ret.get("returnOrderDate"),
        "status": next((ln.get("status") for ln in lines if ln.get("status")), None),
        "refund_status": next((ln.get("currentRefundStatus") for ln in lines if ln.get("currentRefundStatus")), None),
        "refund_by": "seller" if channel == SELLER else ("walmart" if channel else None),
        "return_tracking": tracking,
        "lines": [
            {
                "line_number": ln.get("returnOrderLineNumber"),
                "purchase_order_line": ln.get("purchaseOrderLineNumber"),
                "sku": (ln.get("item") or {}).get("sku"),
                "qty": (ln.get("quantity") or {}).get("measurementValue"),
                "reason": ln.get("returnReason"),
            }
            for ln in lines
        ],
        "total_refund": (ret.get("totalRefundAmount") or {}).get("currencyAmount"),
    }


def _orders_of(ctx: Context, pos: Sequence[str]) -> dict[str, str]:
    """Walmart PO -> Commerce order number, in one search."""
    if not pos:
        return {}
    found = ctx.commerce.search_orders([[Filter(ctx.store.po_field, ",".join(pos), "in")]], page_size=len(pos),
                                       sort=())
    return {str(o.field(ctx.store.po_field)): o.increment_id for o in found}


def list_returns(ctx: Context, *, status: str | None = None, since: datetime | None = None,
                 page: int = 50) -> Iterator[dict[str, Any]]:
    filters: dict[str, str] = {"limit": str(page)}
    if status:
        filters["status"] = status
    if since is not None:
        filters["returnCreationStartDate"] = walmart_time(since)
    batch: list[dict[str, Any]] = []
    for ret in ctx.walmart.list_returns(**filters):
        batch.append(ret)
        if len(batch) >= page:
            yield from _rows(ctx, batch)
            batch = []
    yield from _rows(ctx, batch)


def _rows(ctx: Context, batch: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    pos = sorted({str(ln.get("purchaseOrderId")) for r in batch for ln in r.get("returnOrderLines") or []
                  if isinstance(ln, dict) and ln.get("purchaseOrderId")})
    orders = _orders_of(ctx, pos)
    for ret in batch:
        yield row_of(ret, orders)


def open_returns(ctx: Context, customer_order_id: str | None) -> list[dict[str, Any]]:
    """The open returns of one customer order (for ``status``)."""
    if not customer_order_id:
        return []
    out = []
    for ret in ctx.walmart.list_returns(customerOrderId=customer_order_id):
        row = row_of(ret, {})
        if row["status"] in OPEN_STATUSES or row["refund_status"] == "PENDING":
            out.append(row)
    return out


@dataclass(frozen=True)
class ReturnRefundOutcome:
    return_order_id: str
    purchase_order_id: str | None
    result: Result
    row: dict[str, Any]
    sent: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"return_order_id": self.return_order_id, "purchase_order_id": self.purchase_order_id,
                "result": str(self.result), "return": self.row, "sent": list(self.sent)}


def _read(ctx: Context, return_id: str) -> dict[str, Any]:
    for ret in ctx.walmart.list_returns(returnOrderId=return_id):
        if ret.get("returnOrderId") == return_id:
            return ret
    raise RefusedError(f"Walmart has no return {return_id}", hint="`wmsync returns` lists the store's returns")


def refund_return(ctx: Context, return_id: str, *, dry_run: bool = False,
                  confirm: Any = lambda _row: True) -> ReturnRefundOutcome:
    ret = _read(ctx, return_id)
    row = row_of(ret, {})
    po = row["purchase_order_id"]
    if row["refund_status"] == "REFUNDED":
        return ReturnRefundOutcome(return_id, po, Result.ALREADY_DONE, row)
    if row["refund_by"] != "seller":
        raise RefusedError(f"Walmart refunds return {return_id} itself (refundChannel is not {SELLER})",
                           hint="nothing to do: the customer is refunded by Walmart")
    if row["status"] not in OPEN_STATUSES:
        raise RefusedError(f"return {return_id} is {row['status']}: there is nothing to refund")
    if po:
        try:
            wm = ctx.walmart.get_order(po)
        except NotFoundError:
            wm = None
        if wm is not None and not wm.seller_fulfilled:
            raise RefusedError(f"return {return_id} is of a {wm.fulfilment} order: its refund is Walmart's (view only)")
    if dry_run:
        return ReturnRefundOutcome(return_id, po, Result.DRY_RUN, row)
    if not confirm(row):
        raise RefusedError("refunded nothing: not confirmed")
    numbers = [int(ln["line_number"]) for ln in row["lines"] if ln.get("line_number") is not None] or [1]
    with operation(ctx, kind="return_refund", key=f"return_refund:{return_id}", order_number=po or return_id,
                   purchase_order_id=po or return_id, params={"return_order_id": return_id}) as op:
        write_step(
            op, "walmart_return_refund", progress="issuing the return's refund on Walmart",
            body={"customerOrderId": row["customer_order_id"], "refundLines": numbers},
            send=lambda: ctx.walmart.refund_return(return_id, str(row["customer_order_id"]), numbers),
            read=lambda: row_of(_read(ctx, return_id), {})["refund_status"] == "REFUNDED",
            applied=bool, what=f"the refund of return {return_id}",
        )
        done = row_of(_read(ctx, return_id), {})
        ok = done["refund_status"] == "REFUNDED"
        op.finish(CONFIRMED if ok else ALREADY_DONE, Result.CONFIRMED if ok else Result.PENDING)
        return ReturnRefundOutcome(return_id, po, Result.CONFIRMED if ok else Result.PENDING, done, tuple(op.sent))
