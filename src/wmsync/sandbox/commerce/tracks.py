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
