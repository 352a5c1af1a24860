"""Builders of Commerce and Walmart order data for plain-function tests."""

from __future__ import annotations

from typing import Any

from wmsync.commerce.models import Order
from wmsync.config import StoreConfig
from wmsync.walmart.models import WalmartOrder

PO = "1088283912345"
NOW_MS = 1_790_000_000_000
STORE = StoreConfig(commerce_url="https://shop.test", walmart_client_id="cid")


def c_item(item_id: int, sku: str, qty: int, shipped: int = 0, **kw: Any) -> dict[str, Any]:
    return {"item_id": item_id, "sku": sku, "qty_ordered": qty, "qty_shipped": shipped, "product_type": "simple",
            **kw}


def c_order(items: list[dict[str, Any]], state: str = "processing") -> Order:
    return Order.model_validate({"entity_id": 7, "increment_id": "000000007", "state": state, "status": state,
                                 "ext_order_id": PO, "items": items})


def w_line(number: int, sku: str, qty: int = 1, status: str = "Acknowledged", tracking: str | None = None,
           intent: str | None = None, shipped: int = 0) -> dict[str, Any]:
    statuses = []
    if qty - shipped > 0:
        statuses.append({"status": status, "statusQuantity": {"unitOfMeasurement": "EACH",
                                                               "amount": str(qty - shipped)}})
    if shipped:
        statuses.append({"status": "Shipped", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(shipped)},
                         "trackingInfo": {"trackingNumber": tracking, "carrierName": {"carrier": "UPS"},
                                          "methodCode": "Standard", "shipDateTime": NOW_MS}})
    line: dict[str, Any] = {"lineNumber": str(number), "item": {"sku": sku, "productName": sku},
                            "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty)},
                            "orderLineStatuses": {"orderLineStatus": statuses}}
    if intent:
        line["intentToCancel"] = intent
    return line


def w_order(lines: list[dict[str, Any]]) -> WalmartOrder:
    return WalmartOrder.model_validate({"purchaseOrderId": PO, "orderDate": NOW_MS - 86_400_000,
                                        "shippingInfo": {"methodCode": "Standard"},
                                        "orderLines": {"orderLine": lines}})


