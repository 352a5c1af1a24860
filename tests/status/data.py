"""Builders for status tests: Commerce shipments and comments, Walmart lines in any mix of statuses, journal
operations. Built on ``tests/builders.py``."""

from __future__ import annotations

from typing import Any

from builders import NOW_MS, PO, c_item, w_line
from wmsync.commerce.models import Order, Shipment
from wmsync.journal import Operation
from wmsync.walmart.models import WalmartOrder

NOW = NOW_MS / 1000
T1 = "1Z999AA10123451001"  # valid UPS numbers (check digit right)
T2 = "1Z999AA10123451010"
T3 = "1Z999AA10123451029"

__all__ = ["NOW", "PO", "T1", "T2", "T3", "c_item", "order", "shipment", "status", "w_line", "wline", "worder"]


def order(items: list[dict[str, Any]], *, state: str = "processing", comments: list[str] | None = None,
          updated_at: str | None = None) -> Order:
    return Order.model_validate({
        "entity_id": 7, "increment_id": "000000007", "state": state, "status": state, "ext_order_id": PO,
        "created_at": "2026-09-20 10:00:00", "updated_at": updated_at or "2026-09-20 10:00:00", "items": items,
        "status_histories": [{"comment": c, "created_at": f"2026-09-21 10:00:{i:02d}"}
                             for i, c in enumerate(comments or [])],
    })


def shipment(items: dict[int, int], tracks: list[tuple[str, str, str]] | None = None, *, sid: int = 1,
             created_at: str = "2026-09-20 11:00:00") -> Shipment:
    """``items``: order_item_id → qty; ``tracks``: (number, carrier_code, title)."""
    return Shipment.model_validate({
        "entity_id": sid, "order_id": 7, "created_at": created_at,
        "items": [{"order_item_id": i, "qty": q} for i, q in items.items()],
        "tracks": [{"track_number": n, "carrier_code": c, "title": t} for n, c, t in (tracks or [])],
    })


def status(name: str, qty: int, tracking: str | None = None, carrier: str = "UPS",
           reason: str | None = None) -> dict[str, Any]:
    s: dict[str, Any] = {"status": name, "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty)}}
    if tracking is not None:
        s["trackingInfo"] = {"trackingNumber": tracking, "carrierName": {"carrier": carrier},
                             "methodCode": "Standard", "shipDateTime": NOW_MS}
    if reason is not None:
        s["cancellationReason"] = reason
    return s


def wline(number: int, sku: str, statuses: list[dict[str, Any]]) -> dict[str, Any]:
    line = w_line(number, sku, sum(int(s["statusQuantity"]["amount"]) for s in statuses))
    line["orderLineStatuses"]["orderLineStatus"] = statuses
    return line


def worder(lines: list[dict[str, Any]], *, est_ship_ms: int | None = None) -> WalmartOrder:
    info: dict[str, Any] = {"methodCode": "Standard"}
    if est_ship_ms is not None:
        info["estimatedShipDate"] = est_ship_ms
    return WalmartOrder.model_validate({"purchaseOrderId": PO, "orderDate": NOW_MS - 86_400_000,
                                        "shippingInfo": info, "orderLines": {"orderLine": lines}})


def op(kind: str, state: str, *, deadline: float | None = None, created: float = NOW - 60,
       params: dict[str, Any] | None = None, error_code: str | None = None,
       cids: list[str] | None = None) -> Operation:
    return Operation(
        id=f"op-{kind}-{state}-{created}", store="s", kind=kind, order_number="000000007", purchase_order_id=PO,
        op_key=f"{kind}:{PO}:x", params=params or {}, state=state, result=None, error=None,
        error_code=error_code, correlation_ids=cids or [], confirm_deadline=deadline, created_at=created,
        updated_at=created, steps={},
    )
