"""Orders, items, shipments and comments rendered as Magento's REST API returns them."""

from __future__ import annotations

import json
import sqlite3
from typing import Any


def _num(value: Any) -> int | float:
    f = float(value)
    return int(f) if f.is_integer() else round(f, 4)


def _address(order: sqlite3.Row, kind: str) -> dict[str, Any]:
    a = json.loads(order["address_json"])
    eid = int(order["entity_id"])
    out = {
        "address_type": kind,
        "city": a["city"],
        "country_id": a["country_id"],
        "email": order["customer_email"],
        "entity_id": eid * 2 - (1 if kind == "billing" else 0),
        "firstname": a["firstname"],
        "lastname": a["lastname"],
        "parent_id": eid,
        "postcode": a["postcode"],
        "region": a["region"],
        "region_code": a["region_code"],
        "street": list(a["street"]),
        "telephone": a["telephone"],
    }
    return out


def render_item(row: sqlite3.Row, parent: dict[str, Any] | None = None) -> dict[str, Any]:
    qty = float(row["qty_ordered"])
    price = float(row["price"])
    item: dict[str, Any] = {
        "amount_refunded": 0,
        "base_amount_refunded": 0,
        "base_discount_amount": 0,
        "base_original_price": _num(price),
        "base_price": _num(price),
        "base_row_total": _num(price * qty),
        "created_at": row["created_at"],
        "discount_amount": 0,
        "is_qty_decimal": 0,
        "is_virtual": 0,
        "item_id": int(row["item_id"]),
        "name": row["name"],
        "no_discount": 0,
        "order_id": int(row["order_id"]),
        "original_price": _num(price),
        "price": _num(price),
        "product_id": int(row["product_id"]),
        "product_type": row["product_type"],
        "qty_canceled": _num(row["qty_canceled"]),
        "qty_invoiced": _num(row["qty_invoiced"]),
        "qty_ordered": _num(qty),
        "qty_refunded": _num(row["qty_refunded"]),
        "qty_shipped": _num(row["qty_shipped"]),
        "row_total": _num(price * qty),
        "sku": row["sku"],
        "store_id": 1,
        "updated_at": row["updated_at"],
        "weight": 1,
    }
    if row["parent_item_id"] is not None:
        item["parent_item_id"] = int(row["parent_item_id"])
        if parent is not None:
            item["parent_item"] = parent
    return item


def render_history(row: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "comment": row["comment"],
        "created_at": row["created_at"],
        "entity_id": int(row["entity_id"]),
        "entity_name": row["entity_name"],
        "is_customer_notified": int(row["is_customer_notified"]),
        "is_visible_on_front": int(row["is_visible_on_front"]),
        "parent_id": int(row["parent_id"]),
    }
    if row["status"]:
        out["status"] = row["status"]
    return out


def _histories(conn: sqlite3.Connection, order_id: int, *, newest_first: bool) -> list[sqlite3.Row]:
    direction = "DESC" if newest_first else "ASC"
    return conn.execute(
        f"SELECT * FROM c_history WHERE parent_id = ? ORDER BY created_at {direction}, entity_id {direction}",
        (order_id,),
    ).fetchall()


def _render_order_page(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
    return render_orders(conn, rows)


def render_orders(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
    """Orders as ``GET /V1/orders/{id}`` returns them (nulls omitted, as Magento does)."""
    if not rows:
        return []
    ids = [int(r["entity_id"]) for r in rows]
    marks = ",".join("?" * len(ids))
    items: dict[int, list[sqlite3.Row]] = {}
    for r in conn.execute(f"SELECT * FROM c_items WHERE order_id IN ({marks}) ORDER BY item_id", ids):
        items.setdefault(int(r["order_id"]), []).append(r)
    histories: dict[int, list[sqlite3.Row]] = {}
    for r in conn.execute(
        f"SELECT * FROM c_history WHERE parent_id IN ({marks}) ORDER BY created_at DESC, entity_id DESC", ids
    ):
        histories.setdefault(int(r["parent_id"]), []).append(r)
    return [_render_order(o, items.get(int(o["entity_id"]), []), histories.get(int(o["entity_id"]), [])) for o in rows]


def _render_order(o: sqlite3.Row, item_rows: list[sqlite3.Row], history_rows: list[sqlite3.Row]) -> dict[str, Any]:
    parents: dict[int, dict[str, Any]] = {}
    items = []
    for r in item_rows:
        parent = parents.get(int(r["parent_item_id"])) if r["parent_item_id"] is not None else None
        item = render_item(r, parent)
        if r["parent_item_id"] is None:
            parents[int(r["item_id"])] = dict(item)
        items.append(item)
    grand_total = float(o["grand_total"])
    paid = float(o["total_paid"])
    currency = o["order_currency_code"]
    order: dict[str, Any] = {
        "base_currency_code": currency,
        "base_discount_amount": 0,
        "base_grand_total": _num(grand_total),
        "base_shipping_amount": _num(o["shipping_amount"]),
        "base_subtotal": _num(o["subtotal"]),
        "base_tax_amount": _num(o["tax_amount"]),
        "base_total_due": _num(grand_total - paid),
        "base_total_invoiced": _num(o["total_invoiced"]),
        "base_total_paid": _num(paid),
        "created_at": o["created_at"],
        "customer_email": o["customer_email"],
        "customer_firstname": o["customer_firstname"],
        "customer_is_guest": int(o["customer_is_guest"]),
        "customer_lastname": o["customer_lastname"],
        "customer_note_notify": 0,
        "discount_amount": 0,
        "email_sent": 1,
        "entity_id": int(o["entity_id"]),
        "ext_order_id": o["ext_order_id"],
        "global_currency_code": currency,
        "grand_total": _num(grand_total),
        "hold_before_state": o["hold_before_state"],
        "hold_before_status": o["hold_before_status"],
        "increment_id": o["increment_id"],
        "is_virtual": 0,
        "order_currency_code": currency,
        "shipping_amount": _num(o["shipping_amount"]),
        "shipping_description": o["shipping_description"],
        "state": o["state"],
        "status": o["status"],
        "store_currency_code": currency,
        "store_id": int(o["store_id"]),
        "store_name": "Main Website\nMain Website Store\nDefault Store View",
        "subtotal": _num(o["subtotal"]),
        "tax_amount": _num(o["tax_amount"]),
        "total_due": _num(grand_total - paid),
        "total_invoiced": _num(o["total_invoiced"]),
        "total_item_count": len(item_rows),
        "total_paid": _num(paid),
        "total_qty_ordered": _num(o["total_qty_ordered"]),
        "updated_at": o["updated_at"],
        "weight": _num(sum(float(r["qty_ordered"]) for r in item_rows if r["parent_item_id"] is None)),
        "items": items,
        "billing_address": _address(o, "billing"),
        "payment": {
            "account_status": "",
            "additional_information": [o["payment_title"]],
            "amount_ordered": _num(grand_total),
            "amount_paid": _num(paid),
            "base_amount_ordered": _num(grand_total),
            "base_amount_paid": _num(paid),
            "base_shipping_amount": _num(o["shipping_amount"]),
            "cc_last4": "",  # required by the schema; Magento sends it for every payment method
            "entity_id": int(o["entity_id"]),
            "method": o["payment_method"],
            "parent_id": int(o["entity_id"]),
            "shipping_amount": _num(o["shipping_amount"]),
        },
        "status_histories": [render_history(h) for h in history_rows],
        "extension_attributes": {
            "shipping_assignments": [
                {
                    "shipping": {
                        "address": _address(o, "shipping"),
                        "method": o["shipping_method"],
                        "total": {
                            "base_shipping_amount": _num(o["shipping_amount"]),
                            "shipping_amount": _num(o["shipping_amount"]),
                            "base_shipping_incl_tax": _num(o["shipping_amount"]),
                            "shipping_incl_tax": _num(o["shipping_amount"]),
                        },
                    },
                    "items": items,
                }
            ],
            "payment_additional_info": [{"key": "method_title", "value": o["payment_title"]}],
        },
    }
    return {k: v for k, v in order.items() if v is not None}


def render_shipments(conn: sqlite3.Connection, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = {
        int(r["entity_id"]): r for r in conn.execute(f"SELECT * FROM c_shipments WHERE entity_id IN ({marks})", ids)
    }
    items: dict[int, list[sqlite3.Row]] = {}
    for r in conn.execute(f"SELECT * FROM c_shipment_items WHERE parent_id IN ({marks}) ORDER BY entity_id", ids):
        items.setdefault(int(r["parent_id"]), []).append(r)
    tracks: dict[int, list[sqlite3.Row]] = {}
    for r in conn.execute(f"SELECT * FROM c_tracks WHERE parent_id IN ({marks}) ORDER BY entity_id", ids):
        tracks.setdefault(int(r["parent_id"]), []).append(r)
    comments: dict[int, list[sqlite3.Row]] = {}
    for r in conn.execute(f"SELECT * FROM c_shipment_comments WHERE parent_id IN ({marks}) ORDER BY entity_id", ids):
        comments.setdefault(int(r["parent_id"]), []).append(r)
    out = []
    for sid in ids:
        s = rows.get(sid)
        if s is None:
            continue
        order_id = int(s["order_id"])
        out.append(
            {
                "billing_address_id": order_id * 2 - 1,
                "created_at": s["created_at"],
                "email_sent": int(s["email_sent"]),
                "entity_id": sid,
                "increment_id": s["increment_id"],
                "order_id": order_id,
                "packages": [],
                "shipping_address_id": order_id * 2,
                "store_id": int(s["store_id"]),
                "total_qty": _num(s["total_qty"]),
                "updated_at": s["updated_at"],
                "items": [
                    {
                        "entity_id": int(i["entity_id"]),
                        "name": i["name"],
                        "parent_id": sid,
                        "price": _num(i["price"]),
                        "product_id": int(i["product_id"]),
                        "row_total": _num(float(i["price"]) * float(i["qty"])),
                        "sku": i["sku"],
                        "weight": 1,
                        "order_item_id": int(i["order_item_id"]),
                        "qty": _num(i["qty"]),
                    }
                    for i in items.get(sid, [])
                ],
                "tracks": [
                    {
                        "order_id": int(t["order_id"]),
                        "created_at": t["created_at"],
                        "entity_id": int(t["entity_id"]),
                        "parent_id": sid,
                        "updated_at": t["updated_at"],
                        "weight": 0,
                        "qty": _num(t["qty"]),
                        "description": "",
                        "track_number": t["track_number"],
                        "title": t["title"],
                        "carrier_code": t["carrier_code"],
                    }
                    for t in tracks.get(sid, [])
                ],
                "comments": [
                    {
                        "is_customer_notified": int(c["is_customer_notified"]),
                        "parent_id": sid,
                        "comment": c["comment"],
                        "is_visible_on_front": int(c["is_visible_on_front"]),
                        "created_at": c["created_at"],
                        "entity_id": int(c["entity_id"]),
                    }
                    for c in comments.get(sid, [])
                ],
                "extension_attributes": {"source_code": s["source_code"] or "default"},
            }
        )
    return out
