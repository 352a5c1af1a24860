"""A simulated Adobe Commerce Channel Manager: pushes Commerce shipments and cancellations to Walmart.

With ``channel_manager=True`` every Commerce shipment or cancellation made through the API queues an event due
``walmart_delay`` seconds later. Due events run at the start of the next request (or state query), using the
sandbox clock, through the same validation as Walmart's API, so they fail the way Channel Manager's pushes
fail: a Walmart line that is already Shipped (e.g. because wmsync posted directly) gives "... is in SHIPPED
status" and the event ends in ``error`` (Channel Manager's "Error" order status, with the description as
status details).

How a push is built (the sandbox's model of Channel Manager; its internals are not public):

* lines are matched by SKU (a configurable's parent item carries the child's SKU, so it matches the Walmart
  line); quantities fill the SKU's lines in line order, open lines first;
* the first track of the shipment is sent; carrier codes ``ups``/``usps``/``fedex``/``dhl`` map to
  ``UPS``/``USPS``/``FedEx``/``DHL``; ``custom`` sends the track title as the carrier when it is on Walmart's
  list (exact spelling, case-insensitive match), otherwise as ``otherCarrier`` without a tracking URL —
  which Walmart refuses, so such pushes end in ``error``;
* ``methodCode`` is the order's ``shippingInfo.methodCode``; ``sellerOrderId`` is the Commerce increment id;
* a cancellation cancels every open quantity with the reason named in the newest order comment that contains
  a Walmart cancellation code, else ``SELLER_CANCEL_OUT_OF_STOCK``.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from wmsync.sandbox import walmart
from wmsync.sandbox.common import Ctx

__all__ = ["process_due"]

CARRIER_CODES = {"ups": "UPS", "usps": "USPS", "fedex": "FedEx", "dhl": "DHL"}
DEFAULT_REASON = "SELLER_CANCEL_OUT_OF_STOCK"


def process_due(ctx: Ctx) -> int:
    """Run every event due at ``ctx.now``; returns how many ran."""
    rows = ctx.conn.execute(
        "SELECT * FROM cm_events WHERE state = 'pending' AND due <= ? ORDER BY due, id", (ctx.now,)
    ).fetchall()
    for ev in rows:
        try:
            state, detail = _run(ctx, ev)
        except walmart.WalmartError as exc:
            state, detail = "error", json.dumps([e["description"] for e in exc.errors])
        ctx.conn.execute(
            "UPDATE cm_events SET state = ?, detail = ?, processed = ? WHERE id = ?",
            (state, detail, ctx.now, ev["id"]),
        )
    return len(rows)


def _walmart_po(conn: sqlite3.Connection, order: sqlite3.Row | None) -> str | None:
    if order is None or not order["ext_order_id"]:
        return None
    po = str(order["ext_order_id"])
    if conn.execute("SELECT 1 FROM w_orders WHERE po = ?", (po,)).fetchone() is None:
        return None
    return po


def _run(ctx: Ctx, ev: sqlite3.Row) -> tuple[str, str]:
    conn = ctx.conn
    order = conn.execute("SELECT * FROM c_orders WHERE entity_id = ?", (ev["order_id"],)).fetchone()
    po = _walmart_po(conn, order)
    if order is None or po is None:
        return "skipped", "not a Walmart order"
    if ev["kind"] == "ship":
        body = _ship_body(ctx, order, po, int(ev["shipment_id"]))
        items = walmart.validate_ship(conn, po, body)
        walmart.apply_ship(conn, po, items, ctx.now_ms, source="channel_manager")
        return "done", json.dumps(body)
    body = _cancel_body(conn, order, po)
    cancels = walmart.validate_cancel(conn, po, body)
    walmart.apply_cancel(conn, po, cancels, ctx.now_ms, source="channel_manager")
    return "done", json.dumps(body)


def _carrier(track: sqlite3.Row) -> dict[str, str]:
    code = str(track["carrier_code"]).lower()
    if code in CARRIER_CODES:
        return {"carrier": CARRIER_CODES[code]}
    title = str(track["title"]).strip()
    from wmsync.walmart.enums import carriers

    for name in carriers():
        if name.lower() == title.lower():
            return {"carrier": name}
    return {"otherCarrier": title or code}


def _allocate(
    conn: sqlite3.Connection, po: str, sku: str, qty: int, statuses: tuple[str, ...]
) -> list[tuple[str, int]]:
    """Spread ``qty`` of ``sku`` over the PO's lines of that SKU, open lines first."""
    lines = conn.execute(
        "SELECT line_number, qty FROM w_lines WHERE po = ? AND sku = ? ORDER BY position", (po, sku)
    ).fetchall()
    open_qty: dict[str, int] = {}
    for line in lines:
        row = conn.execute(
            f"SELECT COALESCE(SUM(qty), 0) FROM w_status WHERE po = ? AND line_number = ? AND status IN "
            f"({','.join('?' * len(statuses))})",
            (po, line["line_number"], *statuses),
        ).fetchone()
        open_qty[line["line_number"]] = int(row[0])
    out: list[tuple[str, int]] = []
    left = qty
    for line in lines:
        take = min(left, open_qty[line["line_number"]])
        if take > 0:
            out.append((line["line_number"], take))
            left -= take
    if left > 0 and lines:
        # nothing (or not enough) open: Channel Manager still posts, and Walmart refuses it
        out.append((lines[0]["line_number"], left))
    return out


def _ship_body(ctx: Ctx, order: sqlite3.Row, po: str, shipment_id: int) -> dict[str, Any]:
    conn = ctx.conn
    track = conn.execute(
        "SELECT * FROM c_tracks WHERE parent_id = ? ORDER BY entity_id LIMIT 1", (shipment_id,)
    ).fetchone()
    if track is None:
        raise walmart.WalmartError.invalid("trackingInfo is required: the shipment has no tracking number")
    method = conn.execute("SELECT method_code FROM w_orders WHERE po = ?", (po,)).fetchone()["method_code"]
    lines: list[dict[str, Any]] = []
    for item in conn.execute("SELECT sku, qty FROM c_shipment_items WHERE parent_id = ?", (shipment_id,)):
        for line_number, qty in _allocate(conn, po, item["sku"], int(item["qty"]), ("Acknowledged",)):
            lines.append(
                {
                    "lineNumber": line_number,
                    "sellerOrderId": order["increment_id"],
                    "orderLineStatuses": {
                        "orderLineStatus": [
                            {
                                "status": "Shipped",
                                "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty)},
                                "trackingInfo": {
                                    "shipDateTime": ctx.now_ms,
                                    "carrierName": _carrier(track),
                                    "methodCode": method,
                                    "trackingNumber": track["track_number"],
                                },
                            }
                        ]
                    },
                }
            )
    if not lines:
        raise walmart.WalmartError.invalid("No Walmart line matches the shipped items' SKUs")
    return {"orderShipment": {"orderLines": {"orderLine": lines}}}


def _cancel_reason(conn: sqlite3.Connection, order_id: int) -> str:
    from wmsync.walmart.enums import cancellation_reasons

    reasons = cancellation_reasons()
    for row in conn.execute(
        "SELECT comment FROM c_history WHERE parent_id = ? ORDER BY created_at DESC, entity_id DESC", (order_id,)
    ):
        for reason in reasons:
            if reason in str(row["comment"]):
                return reason
    return DEFAULT_REASON


def _cancel_body(conn: sqlite3.Connection, order: sqlite3.Row, po: str) -> dict[str, Any]:
    reason = _cancel_reason(conn, int(order["entity_id"]))
    lines = []
    all_lines = conn.execute("SELECT line_number, qty FROM w_lines WHERE po = ? ORDER BY position", (po,)).fetchall()
    for line in all_lines:
        open_qty = int(
            conn.execute(
                "SELECT COALESCE(SUM(qty), 0) FROM w_status WHERE po = ? AND line_number = ? AND status IN "
                "('Created', 'Acknowledged')",
                (po, line["line_number"]),
            ).fetchone()[0]
        )
        if open_qty > 0:
            lines.append((line["line_number"], open_qty))
    if not lines:  # nothing open: the push still goes out, and Walmart refuses it
        lines = [(line["line_number"], int(line["qty"])) for line in all_lines]
    return {
        "orderCancellation": {
            "orderLines": {
                "orderLine": [
                    {
                        "lineNumber": ln,
                        "orderLineStatuses": {
                            "orderLineStatus": [
                                {
                                    "status": "Cancelled",
                                    "cancellationReason": reason,
                                    "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty)},
                                }
                            ]
                        },
                    }
                    for ln, qty in lines
                ]
            }
        }
    }
