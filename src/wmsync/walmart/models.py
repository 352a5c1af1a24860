"""Walmart orders: response models tolerant of unknown fields; request models strict (field names from the
official orders OpenAPI spec: shippingUpdates, cancelOrderLines)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from wmsync.records import Before, Check, Field, Record, validator
from wmsync.tracking_key import same_tracking


def _to_str(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


Str = Annotated[str, Before(_to_str)]


def _qty(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


class _Tolerant(Record, extra="ignore"):
    pass


class Quantity(_Tolerant):
    unitOfMeasurement: str | None = None
    amount: Str | None = None

    @property
    def value(self) -> int:
        return _qty(self.amount)


class CarrierName(_Tolerant):
    carrier: str | None = None
    otherCarrier: str | None = None

    @property
    def name(self) -> str | None:
        return self.carrier or self.otherCarrier


class TrackingInfo(_Tolerant):
    shipDateTime: int | None = None
    carrierName: CarrierName | None = None
    methodCode: str | None = None
    trackingNumber: Str | None = None
    trackingURL: str | None = None

    @validator("shipDateTime", mode="before")
    @classmethod
    def _ts(cls, value: Any) -> Any:
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None


class LineStatus(_Tolerant):
    status: str
    statusQuantity: Quantity | None = None
    cancellationReason: str | None = None
    trackingInfo: TrackingInfo | None = None

    @property
    def quantity(self) -> int:
        return self.statusQuantity.value if self.statusQuantity else 0


class LineStatuses(_Tolerant):
    orderLineStatus: list[LineStatus] = Field(default_factory=list)

    @validator("orderLineStatus", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else (value or [])


class Item(_Tolerant):
    productName: str | None = None
    sku: Str = ""


class LineFulfillment(_Tolerant):
    shippingProgramType: str | None = None  # TWO_DAY, ONE_DAY, THREE_DAY, …


class OrderLine(_Tolerant):
    lineNumber: Str
    item: Item = Field(default_factory=Item)
    orderLineQuantity: Quantity | None = None
    orderLineStatuses: LineStatuses = Field(default_factory=LineStatuses)
    intentToCancel: Any = None
    sellerOrderId: str | None = None
    fulfillment: LineFulfillment | None = None
    charges: dict[str, Any] | None = None  # {"charge": [{chargeType, chargeAmount{amount}, tax{taxAmount}}]}
    refund: dict[str, Any] | None = None  # {refundId, refundComments, refundCharges{refundCharge[...]}}

    @property
    def sku(self) -> str:
        return self.item.sku

    @property
    def quantity(self) -> int:
        if self.orderLineQuantity is not None and self.orderLineQuantity.amount is not None:
            return self.orderLineQuantity.value
        return sum(s.quantity for s in self.statuses)

    @property
    def statuses(self) -> list[LineStatus]:
        return self.orderLineStatuses.orderLineStatus

    def qty_in(self, *statuses: str) -> int:
        return sum(s.quantity for s in self.statuses if s.status in statuses)

    @property
    def open_qty(self) -> int:
        """Quantity neither shipped, delivered, cancelled nor refunded."""
        closed = self.qty_in("Shipped", "Delivered", "Cancelled", "Refund")
        return max(0, self.quantity - closed)

    @property
    def created_qty(self) -> int:
        return self.qty_in("Created")

    @property
    def has_intent_to_cancel(self) -> bool:
        value = self.intentToCancel
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.strip().lower() in ("true", "yes", "y", "1")
        return False

    def tracking_numbers(self) -> set[str]:
        return {
            s.trackingInfo.trackingNumber
            for s in self.statuses
            if s.trackingInfo is not None and s.trackingInfo.trackingNumber
        }

    def shipped_with(self, tracking_number: str) -> int:
        return sum(
            s.quantity
            for s in self.statuses
            if s.status in ("Shipped", "Delivered")
            and s.trackingInfo is not None
            and same_tracking(s.trackingInfo.trackingNumber, tracking_number)
        )

    def status_summary(self) -> list[dict[str, Any]]:
        out = []
        for s in self.statuses:
            t = s.trackingInfo
            entry: dict[str, Any] = {
                "status": s.status,
                "quantity": s.quantity,
                "carrier": t.carrierName.name if t and t.carrierName else None,
                "tracking_number": t.trackingNumber if t else None,
            }
            if s.cancellationReason:
                entry["cancellation_reason"] = s.cancellationReason
            out.append(entry)
        return out


class OrderLines(_Tolerant):
    orderLine: list[OrderLine] = Field(default_factory=list)

    @validator("orderLine", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else (value or [])


class ShippingInfo(_Tolerant):
    methodCode: str | None = None
    estimatedShipDate: int | None = None
    estimatedDeliveryDate: int | None = None


#: ``shipNode.type``: who fulfils the order. Only seller-fulfilled orders are shipped (and cancelled) by the seller.
SELLER_FULFILLED = "SellerFulfilled"
FULFILMENT_LABEL = {
    "WFSFulfilled": "Walmart Fulfillment Services (WFS)",
    "3PLFulfilled": "a third-party logistics provider (3PL)",
}


class ShipNode(_Tolerant):
    type: str | None = None


class WalmartOrder(_Tolerant):
    purchaseOrderId: Str
    customerOrderId: Str | None = None
    orderDate: int | None = None
    shippingInfo: ShippingInfo = Field(default_factory=ShippingInfo)
    orderLines: OrderLines = Field(default_factory=OrderLines)
    shipNode: ShipNode = Field(default_factory=ShipNode)

    @property
    def fulfilment(self) -> str:
        """``shipNode.type``; an order without one is seller-fulfilled (Walmart's default)."""
        return self.shipNode.type or SELLER_FULFILLED

    @property
    def seller_fulfilled(self) -> bool:
        return self.fulfilment == SELLER_FULFILLED

    @property
    def shipping_program(self) -> str | None:
        """Walmart's shipping program of the order's lines (``TWO_DAY``, ``ONE_DAY``, …), several joined by
        commas; None when Walmart gives none."""
        found = {ln.fulfillment.shippingProgramType for ln in self.lines if ln.fulfillment is not None}
        found.discard(None)
        return ",".join(sorted(p for p in found if p)) or None

    @property
    def open_qty(self) -> int:
        """Units neither shipped, delivered, cancelled nor refunded, over all lines."""
        return sum(ln.open_qty for ln in self.lines)

    def not_sellers_reason(self) -> str | None:
        """Why the seller may not ship or cancel this order, or None when it is seller-fulfilled."""
        if self.seller_fulfilled:
            return None
        who = FULFILMENT_LABEL.get(self.fulfilment, self.fulfilment)
        return (
            f"PO {self.purchaseOrderId} is fulfilled by {who} (shipNode.type {self.fulfilment}), not by the seller: "
            "Walmart's seller ship and cancel endpoints are not for it"
        )

    @property
    def lines(self) -> list[OrderLine]:
        return self.orderLines.orderLine

    def line(self, number: str) -> OrderLine | None:
        for line in self.lines:
            if line.lineNumber == number:
                return line
        return None

    def overall_status(self) -> str:
        """One word, like Channel Manager's: Open, Partially Shipped, Shipped, Cancelled, Mixed."""
        qty = sum(line.quantity for line in self.lines)
        shipped = sum(line.qty_in("Shipped", "Delivered") for line in self.lines)
        cancelled = sum(line.qty_in("Cancelled") for line in self.lines)
        created = sum(line.qty_in("Created") for line in self.lines)
        if qty and cancelled == qty:
            return "Cancelled"
        if qty and shipped + cancelled == qty:
            return "Shipped"
        if shipped:
            return "Partially Shipped"
        if created:
            return "Created"
        return "Acknowledged"


def line_sort_key(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (1 << 30, number)


# ---------------------------------------------------------------- requests (strict)


class _Strict(Record, extra="forbid"):
    pass


class StatusQuantity(_Strict):
    unitOfMeasurement: Literal["EACH"] = "EACH"
    amount: str


class ShipCarrierName(_Strict):
    carrier: str | None = None
    otherCarrier: str | None = None


class ShipTrackingInfo(_Strict):
    shipDateTime: int
    carrierName: ShipCarrierName
    methodCode: str
    trackingNumber: str
    trackingURL: str | None = None


class ShipLineStatus(_Strict):
    status: Literal["Shipped"] = "Shipped"
    statusQuantity: StatusQuantity
    trackingInfo: ShipTrackingInfo


class ShipLineStatuses(_Strict):
    orderLineStatus: list[ShipLineStatus]


class ShipLine(_Strict):
    lineNumber: str
    sellerOrderId: Annotated[str, Check(max_length=30)]
    intentToCancelOverride: bool | None = None
    orderLineStatuses: ShipLineStatuses


class CancelLineStatus(_Strict):
    status: Literal["Cancelled"] = "Cancelled"
    cancellationReason: str
    statusQuantity: StatusQuantity


class CancelLineStatuses(_Strict):
    orderLineStatus: list[CancelLineStatus]


class CancelLine(_Strict):
    lineNumber: str
    orderLineStatuses: CancelLineStatuses


def ship_body(lines: list[ShipLine]) -> dict[str, Any]:
    return {
        "orderShipment": {"orderLines": {"orderLine": [line.model_dump(exclude_none=True) for line in lines]}}
    }


def cancel_body(lines: list[CancelLine]) -> dict[str, Any]:
    return {
        "orderCancellation": {
            "orderLines": {"orderLine": [line.model_dump(exclude_none=True) for line in lines]}
        }
    }
