"""Constants and spec look-ups shared by the handlers."""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

from wmsync.sandbox.common import Reply

NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."

UNAUTHORIZED = "The consumer isn't authorized to access %resources."

KNOWN_STORES = ("default", "all")

ACL = {
    "commerce.list_orders": "Magento_Sales::actions_view",
    "commerce.get_order": "Magento_Sales::actions_view",
    "commerce.get_comments": "Magento_Sales::actions_view",
    "commerce.add_comment": "Magento_Sales::comment",
    "commerce.ship": "Magento_Sales::ship",
    "commerce.cancel": "Magento_Sales::cancel",
    "commerce.hold": "Magento_Sales::hold",
    "commerce.unhold": "Magento_Sales::unhold",
    "commerce.list_shipments": "Magento_Sales::shipment",
    "commerce.get_shipment": "Magento_Sales::shipment",
    "commerce.get_product": "Magento_Catalog::products",
    "commerce.add_track": "Magento_Sales::shipment",
    "commerce.refund": "Magento_Sales::creditmemo",
    "commerce.delete_track": "Magento_Sales::shipment",
    "commerce.list_sources": "Magento_InventoryApi::source",
    "commerce.list_source_items": "Magento_InventoryApi::source",
    "commerce.select_sources": "Magento_InventoryApi::source",
}

# Columns a searchCriteria filter or sort may name, with the SQL expression behind them.
ORDER_FIELDS: dict[str, str] = {
    name: name
    for name in (
        "entity_id",
        "increment_id",
        "ext_order_id",
        "state",
        "status",
        "created_at",
        "updated_at",
        "customer_email",
        "customer_firstname",
        "customer_lastname",
        "customer_is_guest",
        "grand_total",
        "subtotal",
        "shipping_amount",
        "tax_amount",
        "total_paid",
        "total_invoiced",
        "total_qty_ordered",
        "order_currency_code",
        "store_id",
        "shipping_description",
        "shipping_method",
        "hold_before_state",
        "hold_before_status",
    )
}

ORDER_FIELDS.update(
    {
        "base_grand_total": "grand_total",
        "base_subtotal": "subtotal",
        "base_shipping_amount": "shipping_amount",
        "base_tax_amount": "tax_amount",
        "base_total_paid": "total_paid",
        "base_total_invoiced": "total_invoiced",
        "base_currency_code": "order_currency_code",
        "global_currency_code": "order_currency_code",
        "store_currency_code": "order_currency_code",
    }
)

SHIPMENT_FIELDS: dict[str, str] = {
    name: name
    for name in (
        "entity_id",
        "increment_id",
        "order_id",
        "total_qty",
        "created_at",
        "updated_at",
        "store_id",
        "email_sent",
    )
}

class MagentoError(Exception):
    def __init__(self, status: int, message: str, parameters: list[Any] | dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters

    def reply(self) -> Reply:
        body: dict[str, Any] = {"message": self.message}
        if self.parameters is not None:
            body["parameters"] = self.parameters
        return Reply(self.status, body)

def internal_error() -> MagentoError:
    report = secrets.token_hex(6)
    return MagentoError(500, f"Internal Error. Details are available in Magento log file. Report ID: webapi-{report}")

def required(field: str) -> MagentoError:
    return MagentoError(400, '"%fieldName" is required. Enter and try again.', {"fieldName": field})


def _order_row(conn: sqlite3.Connection, entity_id: int) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute("SELECT * FROM c_orders WHERE entity_id = ?", (entity_id,)).fetchone()
    if row is None:
        raise MagentoError(404, NOT_FOUND)
    return row
