"""Ship, cancel, hold, unhold and comments, refused where Magento refuses them."""

from __future__ import annotations

import sqlite3
from typing import Any

from wmsync.sandbox.commerce.base import MagentoError, _order_row, required
from wmsync.sandbox.common import Ctx, magento_time


def _items(conn: sqlite3.Connection, order_id: int) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM c_items WHERE order_id = ? ORDER BY item_id", (order_id,)).fetchall()


def bundle_types(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> dict[int, str]:
    """Bundle items of an order -> their product's shipment type ("0" together, the default; "1" separately)."""
    out: dict[int, str] = {}
    for r in rows:
        if r["product_type"] == "bundle":
            p = conn.execute("SELECT shipment_type FROM c_products WHERE sku = ?", (r["sku"],)).fetchone()
            out[int(r["item_id"])] = str((p["shipment_type"] if p is not None else None) or "0")
    return out


def is_dummy(row: sqlite3.Row, bundles: dict[int, str]) -> bool:
    """``Order\\Item::isDummy(true)``: an item that is not shipped itself. A configurable's child; a bundle's
    items when the bundle ships together; the bundle item itself when its items ship separately."""
    if row["product_type"] == "bundle":
        return bundles.get(int(row["item_id"])) == "1"
    parent = row["parent_item_id"]
    if parent is None:
        return False
    if int(parent) in bundles:
        return bundles[int(parent)] != "1"
    return True


def qty_to_ship(row: sqlite3.Row, bundles: dict[int, str] | None = None) -> float:
    if is_dummy(row, bundles or {}):  # a configurable's child, a bundle part shipped with its bundle, …
        return 0.0
    left = (
        float(row["qty_ordered"]) - float(row["qty_shipped"]) - float(row["qty_refunded"]) - float(row["qty_canceled"])
    )
    return max(left, 0.0)


def qty_to_invoice(row: sqlite3.Row) -> float:
    if row["parent_item_id"] is not None:
        return 0.0
    return max(float(row["qty_ordered"]) - float(row["qty_invoiced"]) - float(row["qty_canceled"]), 0.0)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def ship_order(ctx: Ctx, order: sqlite3.Row, body: Any, *, source: str = "api") -> int:
    """``ShipOrder::execute``: validate, create the shipment, move the counters; returns the shipment id."""
    if not isinstance(body, dict):
        raise MagentoError(400, "Decoding error: \nSyntax error")
    conn = ctx.conn
    order_id = int(order["entity_id"])
    rows = _items(conn, order_id)
    raw_items = body.get("items") or []
    raw_tracks = body.get("tracks") or []
    if not isinstance(raw_items, list) or not isinstance(raw_tracks, list):
        raise MagentoError(400, "Decoding error: \nSyntax error")

    requested: dict[int, float] = {}
    if raw_items:
        for it in raw_items:
            if not isinstance(it, dict) or "order_item_id" not in it or "qty" not in it:
                raise required("order_item_id" if isinstance(it, dict) and "order_item_id" not in it else "qty")
            try:
                requested[int(it["order_item_id"])] = float(it["qty"])
            except (TypeError, ValueError) as exc:
                raise MagentoError(
                    400,
                    'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.',
                    {"value": str(it.get("qty")), "type": "float"},
                ) from exc
    bundles = bundle_types(conn, rows)
    if not raw_items:
        requested = {int(r["item_id"]): float(r["qty_ordered"]) for r in rows if not is_dummy(r, bundles)}

    # BundleShipmentTypeValidator: a dummy bundle item asked for is refused with the bundle's shipment type
    by_id = {int(r["item_id"]): r for r in rows}
    bundle_messages: list[str] = []
    for item_id, q in requested.items():
        r = by_id.get(item_id)
        if r is None or q <= 0 or not is_dummy(r, bundles):
            continue
        if r["product_type"] == "bundle":
            bundle_messages.append(
                f'Cannot create shipment as bundle product "{r["sku"]}" has shipment type "Separately". '
                "Bundle product options should be shipped instead."
            )
        elif r["parent_item_id"] is not None and int(r["parent_item_id"]) in bundles:
            parent = by_id[int(r["parent_item_id"])]
            bundle_messages.append(
                f'Cannot create shipment as bundle product "{parent["sku"]}" has shipment type "Together". '
                "Bundle product itself should be shipped instead."
            )
    if bundle_messages:
        raise MagentoError(400, "Shipment Document Validation Error(s):\n" + "\n".join(dict.fromkeys(bundle_messages)))

    to_ship: list[tuple[sqlite3.Row, float]] = []
    for r in rows:
        left = qty_to_ship(r, bundles)
        q = requested.get(int(r["item_id"]), 0.0)
        if left <= 0 or q <= 0:
            continue
        to_ship.append((r, float(int(min(q, left)))))
    total = sum(q for _, q in to_ship)

    messages: list[str] = []
    if order["state"] in ("payment_review", "holded", "canceled"):
        messages.append(f"A shipment cannot be created when an order has a status of {order['status']}")
    elif not any(qty_to_ship(r, bundles) > 0 for r in rows):
        messages.append("The order does not allow a shipment to be created.")
    if total <= 0:
        messages.append("You can't create a shipment without products.")
    tracks = []
    for t in raw_tracks:
        if not isinstance(t, dict):
            raise MagentoError(400, "Decoding error: \nSyntax error")
        number = str(t.get("track_number") or "").strip()
        if not number:
            messages.append("Please enter a tracking number.")
            continue
        tracks.append((number, str(t.get("title") or ""), str(t.get("carrier_code") or "")))
    if messages:
        raise MagentoError(400, "Shipment Document Validation Error(s):\n" + "\n".join(messages))

    now = magento_time(ctx.now)
    notify = _bool(body.get("notify", False))
    source_code = None
    arguments = body.get("arguments")
    if isinstance(arguments, dict) and isinstance(arguments.get("extension_attributes"), dict):
        sc = arguments["extension_attributes"].get("source_code")
        source_code = str(sc) if sc else None
    # Multi-Source Inventory deducts the shipped quantities from the shipment's source (or "default"); a
    # source that does not hold them refuses the whole shipment
    from wmsync.sandbox.commerce import inventory

    deducted = [(str(r["sku"]), q) for r, q in to_ship]
    inventory.check_shipment(ctx, source_code, deducted)
    inventory.deduct(ctx, source_code, deducted)
    next_id = int(conn.execute("SELECT COALESCE(MAX(entity_id), 0) + 1 FROM c_shipments").fetchone()[0])
    conn.execute(
        "INSERT INTO c_shipments (entity_id, increment_id, order_id, total_qty, email_sent, source_code, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (next_id, f"{next_id:09d}", order_id, total, 1 if notify else 0, source_code or "default", now, now),
    )
    for r, q in to_ship:
        conn.execute(
            "INSERT INTO c_shipment_items (parent_id, order_item_id, qty, sku, name, price, product_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (next_id, r["item_id"], q, r["sku"], r["name"], r["price"], r["product_id"]),
        )
        conn.execute(
            "UPDATE c_items SET qty_shipped = qty_shipped + ?, updated_at = ? WHERE item_id = ?",
            (q, now, r["item_id"]),
        )
    for number, title, carrier_code in tracks:
        conn.execute(
            "INSERT INTO c_tracks (parent_id, order_id, track_number, title, carrier_code, qty, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (next_id, order_id, number, title, carrier_code, total, now, now),
        )
    comment = body.get("comment")
    if isinstance(comment, dict) and str(comment.get("comment") or "").strip():
        conn.execute(
            "INSERT INTO c_shipment_comments (parent_id, comment, is_customer_notified, is_visible_on_front, "
            "created_at) VALUES (?, ?, ?, ?, ?)",
            (
                next_id,
                str(comment["comment"]),
                1 if notify and _bool(body.get("appendComment", False)) else 0,
                1 if _bool(comment.get("is_visible_on_front", 0)) else 0,
                now,
            ),
        )
    _resolve_state(ctx, order_id, now)
    if source == "api":
        _enqueue(ctx, "ship", order_id, next_id)
    return next_id


def _resolve_state(ctx: Ctx, order_id: int, now: str) -> None:
    order = _order_row(ctx.conn, order_id)
    rows = _items(ctx.conn, order_id)
    bundles = bundle_types(ctx.conn, rows)
    state = order["state"]
    if state == "new":
        state = "processing"
    if (
        state == "processing"
        and not any(qty_to_ship(r, bundles) > 0 for r in rows)
        and not any(qty_to_invoice(r) > 0 for r in rows)
    ):
        state = "complete"
    if state != order["state"]:
        ctx.conn.execute(
            "UPDATE c_orders SET state = ?, status = ?, updated_at = ? WHERE entity_id = ?",
            (state, state, now, order_id),
        )
    else:
        ctx.conn.execute("UPDATE c_orders SET updated_at = ? WHERE entity_id = ?", (now, order_id))


def can_cancel(conn: sqlite3.Connection, order: sqlite3.Row) -> bool:
    """``Order::canCancel()``."""
    state = order["state"]
    if state in ("payment_review", "holded"):
        return False
    rows = _items(conn, int(order["entity_id"]))
    if not any(qty_to_invoice(r) > 0 for r in rows):
        return False  # everything invoiced (a credit memo is the way out)
    return state not in ("canceled", "complete", "closed")


def cancel_order(ctx: Ctx, order: sqlite3.Row, *, source: str = "api") -> bool:
    if not can_cancel(ctx.conn, order):
        return False
    now = magento_time(ctx.now)
    order_id = int(order["entity_id"])
    for r in _items(ctx.conn, order_id):
        cancel = min(qty_to_ship(r), qty_to_invoice(r))
        if cancel > 0:
            ctx.conn.execute(
                "UPDATE c_items SET qty_canceled = qty_canceled + ?, updated_at = ? WHERE item_id = ?",
                (cancel, now, r["item_id"]),
            )
    ctx.conn.execute(
        "UPDATE c_orders SET state = 'canceled', status = 'canceled', updated_at = ? WHERE entity_id = ?",
        (now, order_id),
    )
    if source == "api":
        _enqueue(ctx, "cancel", order_id, None)
    return True


def _hold(ctx: Ctx, order: sqlite3.Row) -> bool:
    if order["state"] in ("holded", "payment_review", "canceled", "complete", "closed"):
        raise MagentoError(400, "A hold action is not available.")
    ctx.conn.execute(
        "UPDATE c_orders SET hold_before_state = state, hold_before_status = status, state = 'holded', "
        "status = 'holded', updated_at = ? WHERE entity_id = ?",
        (magento_time(ctx.now), order["entity_id"]),
    )
    return True


def _unhold(ctx: Ctx, order: sqlite3.Row) -> bool:
    if order["state"] != "holded":
        raise MagentoError(400, "You cannot remove the hold.")
    ctx.conn.execute(
        "UPDATE c_orders SET state = COALESCE(hold_before_state, 'processing'), "
        "status = COALESCE(hold_before_status, 'processing'), hold_before_state = NULL, "
        "hold_before_status = NULL, updated_at = ? WHERE entity_id = ?",
        (magento_time(ctx.now), order["entity_id"]),
    )
    return True


def _add_comment(ctx: Ctx, order: sqlite3.Row, body: Any) -> bool:
    history = body.get("statusHistory") if isinstance(body, dict) else None
    if not isinstance(history, dict):
        raise required("statusHistory")
    comment = history.get("comment")
    if not isinstance(comment, str):
        raise required("comment")
    status = history.get("status") or order["status"]
    now = magento_time(ctx.now)
    add_history(
        ctx.conn,
        int(order["entity_id"]),
        comment,
        now,
        status=str(status),
        notified=_bool(history.get("is_customer_notified", 0)),
        visible=_bool(history.get("is_visible_on_front", 0)),
    )
    if history.get("status") and history["status"] != order["status"]:
        ctx.conn.execute(
            "UPDATE c_orders SET status = ?, updated_at = ? WHERE entity_id = ?",
            (history["status"], now, order["entity_id"]),
        )
    else:
        ctx.conn.execute("UPDATE c_orders SET updated_at = ? WHERE entity_id = ?", (now, order["entity_id"]))
    return True


def add_history(
    conn: sqlite3.Connection,
    order_id: int,
    comment: str,
    created_at: str,
    *,
    status: str | None,
    notified: bool = False,
    visible: bool = False,
) -> None:
    conn.execute(
        "INSERT INTO c_history (parent_id, comment, status, is_customer_notified, is_visible_on_front, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (order_id, comment, status, 1 if notified else 0, 1 if visible else 0, created_at),
    )


def _enqueue(ctx: Ctx, kind: str, order_id: int, shipment_id: int | None) -> None:
    if not ctx.settings.channel_manager:
        return
    ctx.conn.execute(
        "INSERT INTO cm_events (kind, order_id, shipment_id, created, due) VALUES (?, ?, ?, ?, ?)",
        (kind, order_id, shipment_id, ctx.now, ctx.now + ctx.settings.walmart_delay),
    )
