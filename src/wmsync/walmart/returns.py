"""Walmart return orders (the returns spec's ``getReturns`` documents), read into a small typed view, and the
rules about them that wmsync applies before sending ``issueRefund`` (docs/real-services.md, "Returns").

* US line statuses: ``INITIATED`` (on its way back), ``DELIVERED`` (at the return center), ``COMPLETED`` (refunded,
  or cancelled: the event ``RETURN_CANCELLED``). ``CANCELLED`` (Canada/Mexico) is read as cancelled too.
* the refund is the seller's to issue only when ``refundChannel`` is ``SELLER_MANUAL_REFUND``; Walmart issues the
  others itself, and every refund of a WFS order's return (view only);
* the seller refunds what reached the return center (``DELIVERED``), not more than was returned and not twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SELLER_REFUND = "SELLER_MANUAL_REFUND"
#: the ``status`` values getReturns filters by (the spec)
STATUSES = ("INITIATED", "DELIVERED", "COMPLETED")
CANCELLED_EVENT = "RETURN_CANCELLED"

#: what ``state`` a return is in, as wmsync shows it
IN_TRANSIT, AT_RETURN_CENTER, REFUNDED, CANCELLED, COMPLETED = (
    "in_transit", "delivered", "refunded", "cancelled", "completed")


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class ReturnLine:
    number: int | None
    purchase_order_line: int | None
    sku: str | None
    qty: float
    reason: str | None
    status: str | None
    event: str | None
    refunded_qty: float
    refund_status: str | None
    cancel_reason: str | None

    @property
    def cancelled(self) -> bool:
        return self.status == "CANCELLED" or self.event == CANCELLED_EVENT

    @property
    def open(self) -> bool:
        return not self.cancelled and self.status in ("INITIATED", "DELIVERED")

    @property
    def refunded(self) -> bool:
        return self.qty > 0 and self.refunded_qty >= self.qty

    @property
    def refundable(self) -> int:
        """Units the seller may refund now: at the return center, not refunded yet."""
        if self.cancelled or self.status != "DELIVERED":
            return 0
        return max(0, int(self.qty - self.refunded_qty))


@dataclass(frozen=True)
class ReturnOrder:
    return_order_id: str
    customer_order_id: str | None
    purchase_order_id: str | None
    created_at: str | None
    refund_channel: str | None
    lines: tuple[ReturnLine, ...]
    return_tracking: tuple[str, ...]
    total_refund: float | None

    @property
    def refund_by(self) -> str | None:
        if not self.refund_channel:
            return None
        return "seller" if self.refund_channel == SELLER_REFUND else "walmart"

    @property
    def status(self) -> str | None:
        """Walmart's status of the return: its lines' when they agree, else the least advanced open one."""
        statuses = [ln.status for ln in self.lines if ln.status]
        for s in ("INITIATED", "DELIVERED"):
            if s in statuses:
                return s
        return statuses[0] if statuses else None

    @property
    def state(self) -> str:
        live = [ln for ln in self.lines if not ln.cancelled]
        if self.lines and not live:
            return CANCELLED
        if any(ln.refundable for ln in live):
            return AT_RETURN_CENTER
        if any(ln.status == "INITIATED" for ln in live):
            return IN_TRANSIT
        if live and all(ln.refunded for ln in live):
            return REFUNDED
        return COMPLETED

    @property
    def open(self) -> bool:
        return any(ln.open for ln in self.lines)

    @property
    def refund_status(self) -> str | None:
        return next((ln.refund_status for ln in self.lines if ln.refund_status), None)


def _latest_event(line: dict[str, Any]) -> str | None:
    events = [e for e in line.get("returnTrackingDetail") or [] if isinstance(e, dict) and e.get("eventTag")]
    if not events:
        return None
    return str(max(events, key=lambda e: _num(e.get("sequenceNo"))).get("eventTag"))


def parse_return(raw: dict[str, Any]) -> ReturnOrder:
    """A getReturns return order as wmsync reads it (never raises on missing fields)."""
    raw_lines = [ln for ln in raw.get("returnOrderLines") or [] if isinstance(ln, dict)]
    lines = tuple(
        ReturnLine(
            number=_int(ln.get("returnOrderLineNumber")),
            purchase_order_line=_int(ln.get("purchaseOrderLineNumber")),
            sku=(ln.get("item") or {}).get("sku") if isinstance(ln.get("item"), dict) else None,
            qty=_num((ln.get("quantity") or {}).get("measurementValue") if isinstance(ln.get("quantity"), dict)
                     else None),
            reason=ln.get("returnReason"),
            status=ln.get("status"),
            event=_latest_event(ln),
            refunded_qty=_num(ln.get("refundedQty")),
            refund_status=ln.get("currentRefundStatus"),
            cancel_reason=ln.get("returnCancellationReason"),
        )
        for ln in raw_lines
    )
    tracking = tuple(
        str(c.get("trackingNo"))
        for g in raw.get("returnLineGroups") or [] if isinstance(g, dict)
        for label in g.get("labels") or [] if isinstance(label, dict)
        for c in label.get("carrierInfoList") or [] if isinstance(c, dict) and c.get("trackingNo")
    )
    po = next((str(ln.get("purchaseOrderId")) for ln in raw_lines if ln.get("purchaseOrderId")), None)
    channel = next((str(ln.get("refundChannel")) for ln in raw_lines if ln.get("refundChannel")), None)
    total = raw.get("totalRefundAmount")
    return ReturnOrder(
        return_order_id=str(raw.get("returnOrderId") or ""),
        customer_order_id=str(raw["customerOrderId"]) if raw.get("customerOrderId") else None,
        purchase_order_id=po,
        created_at=raw.get("returnOrderDate"),
        refund_channel=channel,
        lines=lines,
        return_tracking=tracking,
        total_refund=_num(total.get("currencyAmount")) if isinstance(total, dict) else None,
    )


def refund_body(ret: ReturnOrder) -> dict[str, Any] | None:
    """issueRefund's body for every unit the seller may refund now (None when there is none)."""
    lines = [
        {"returnOrderLineNumber": ln.number,
         "quantity": {"unitOfMeasure": "EACH", "measurementValue": ln.refundable}}
        for ln in ret.lines if ln.refundable and ln.number is not None
    ]
    if not lines or not ret.customer_order_id:
        return None
    return {"customerOrderId": ret.customer_order_id, "refundLines": lines}
