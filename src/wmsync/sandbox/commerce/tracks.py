"""Shipment tracks on their own: ``POST /V1/shipment/track`` adds one to an existing shipment, ``DELETE
/V1/shipment/track/{id}`` removes one (Magento's ``ShipmentTrackRepository``: save / deleteById)."""

from __future__ import annotations

from typing import Any

from wmsync.sandbox.commerce.base import MagentoError, required
from wmsync.sandbox.common import Ctx, magento_time

NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."
REQUIRED = ("order_id", "parent_id", "weight", "qty", "description", "track_number", "title", "carrier_code")


def add_track(ctx: Ctx, body: Any) -> dict[str, Any]:
    entity = body.get("entity") if isinstance(body, dict) else None
    if not isinstance(entity, dict):
        raise required("entity")
    for name in REQUIRED:
        if entity.get(name) is None:
            raise required(name)
    number = str(entity["track_number"]).strip()
    if not number:
        raise MagentoError(400, "Please enter a tracking number.")
    shipment = ctx.conn.execute(
        "SELECT * FROM c_shipments WHERE entity_id = ?", (int(entity["parent_id"]),)
    ).fetchone()
    if shipment is None or int(shipment["order_id"]) != int(entity["order_id"]):
        raise MagentoError(400, "Could not save the shipment tracking.")
    now = magento_time(ctx.now)
    cur = ctx.conn.execute(
        "INSERT INTO c_tracks (parent_id, order_id, track_number, title, carrier_code, qty, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (int(entity["parent_id"]), int(entity["order_id"]), number, str(entity["title"]),
         str(entity["carrier_code"]), float(entity["qty"] or 0), now, now),
    )
    return {**entity, "entity_id": int(cur.lastrowid or 0), "created_at": now, "updated_at": now}


def delete_track(ctx: Ctx, track_id: int) -> bool:
    row = ctx.conn.execute("SELECT entity_id FROM c_tracks WHERE entity_id = ?", (track_id,)).fetchone()
    if row is None:
        raise MagentoError(404, NOT_FOUND)
    ctx.conn.execute("DELETE FROM c_tracks WHERE entity_id = ?", (track_id,))
    return True


def refund_order(ctx: Ctx, order_id: int, body: Any) -> int:
    """``POST /V1/order/{orderId}/refund`` (``RefundOrder``): an offline credit memo for invoiced items. Refused as
    Magento refuses: an order without invoice, a quantity above what is invoiced and not yet refunded."""
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise MagentoError(
            400, "Creditmemo Document Validation Error(s):\nYou can't create a creditmemo without products."
        )
    order = ctx.conn.execute("SELECT * FROM c_orders WHERE entity_id = ?", (order_id,)).fetchone()
    if order is None:
        raise MagentoError(404, NOT_FOUND)
    messages = []
    if order["state"] in ("canceled", "closed", "holded", "payment_review"):
        messages.append("The order does not allow a creditmemo to be created.")
    wanted = []
    for it in items:
        row = ctx.conn.execute(
            "SELECT * FROM c_items WHERE item_id = ? AND order_id = ?", (int(it.get("order_item_id", 0)), order_id)
        ).fetchone()
        if row is None:
            messages.append("The creditmemo contains product item that is not part of the original order.")
            continue
        qty = float(it.get("qty") or 0)
        if qty > float(row["qty_invoiced"]) - float(row["qty_refunded"]):
            messages.append("The quantity to creditmemo must not be greater than the unrefunded quantity.")
        wanted.append((row, qty))
    if messages:
        raise MagentoError(400, "Creditmemo Document Validation Error(s):\n" + "\n".join(dict.fromkeys(messages)))
    now = magento_time(ctx.now)
    for row, qty in wanted:
        ctx.conn.execute("UPDATE c_items SET qty_refunded = qty_refunded + ?, updated_at = ? WHERE item_id = ?",
                         (qty, now, row["item_id"]))
    memo = int(ctx.conn.execute("SELECT COUNT(*) FROM c_history").fetchone()[0]) + 1000
    ctx.conn.execute(
        "INSERT INTO c_history (parent_id, comment, status, is_customer_notified, is_visible_on_front, entity_name, "
        "created_at) VALUES (?, ?, ?, 0, 0, 'creditmemo', ?)",
        (order_id, f"We refunded {sum(q for _, q in wanted):g} item(s) offline.", order["status"], now),
    )
    return memo
