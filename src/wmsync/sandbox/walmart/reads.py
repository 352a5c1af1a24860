"""Reading orders: one order, and the cursor-paged list."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from wmsync.sandbox.common import Ctx, ParsedRequest, Reply
from wmsync.sandbox.walmart.base import DEFAULT_LIMIT, MAX_LIMIT, SEVEN_DAYS_MS, STATUS_RANK
from wmsync.sandbox.walmart.errors import WalmartError, not_found


def _parse_date(value: str, name: str) -> int:
    """Walmart accepts ``yyyy-MM-dd`` and ISO 8601 date-times (UTC); returns epoch milliseconds."""
    text = value.strip()
    if re.fullmatch(r"\d{12,14}", text):
        return int(text)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            dt = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        else:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
    except ValueError as exc:
        raise WalmartError.invalid(
            f"Invalid {name} '{value}'. Use UTC or ISO 8601 formats, e.g. '2020-03-16' or '2020-03-16T10:30:15Z'",
            name,
        ) from exc
    return int(dt.timestamp() * 1000)


#: ``shipNode.type`` values (orders spec); the list endpoint's default is the first.
SHIP_NODE_TYPES = ("SellerFulfilled", "WFSFulfilled", "3PLFulfilled")

_LIST_PARAMS = (
    "sku",
    "customerOrderId",
    "purchaseOrderId",
    "status",
    "createdStartDate",
    "createdEndDate",
    "fromExpectedShipDate",
    "toExpectedShipDate",
    "lastModifiedStartDate",
    "lastModifiedEndDate",
    "limit",
    "productInfo",
    "shipNodeType",
    "shippingProgramType",
    "replacementInfo",
    "orderType",
)


def _list(ctx: Ctx, req: ParsedRequest) -> Reply:
    q = dict(req.query)
    try:
        limit = int(q.get("limit", DEFAULT_LIMIT))
    except ValueError as exc:
        raise WalmartError.invalid(f"Invalid limit '{q.get('limit')}'", "limit") from exc
    if limit < 1 or limit > MAX_LIMIT:
        raise WalmartError.invalid(f"limit must be between 1 and {MAX_LIMIT}, got {limit}", "limit")
    try:
        offset = int(q.get("poIndex", "0")) if q.get("hasMoreElements") else 0
    except ValueError:
        offset = 0

    where = ["1 = 1"]
    args: list[Any] = []
    if q.get("purchaseOrderId"):
        where.append("o.po = ?")
        args.append(q["purchaseOrderId"])
    if q.get("customerOrderId"):
        where.append("o.customer_order_id = ?")
        args.append(q["customerOrderId"])
    if q.get("sku"):
        where.append("EXISTS (SELECT 1 FROM w_lines l WHERE l.po = o.po AND l.sku = ?)")
        args.append(q["sku"])
    if q.get("status"):
        status = q["status"]
        allowed = ("Created", "Acknowledged", "Shipped", "Delivered", "Cancelled")
        if status not in allowed:
            raise WalmartError.invalid(f"Invalid status '{status}'. Valid statuses are: {', '.join(allowed)}", "status")
        where.append("EXISTS (SELECT 1 FROM w_status s WHERE s.po = o.po AND s.status = ? AND s.qty > 0)")
        args.append(status)
    created_start = q.get("createdStartDate")
    if created_start:
        where.append("o.order_date >= ?")
        args.append(_parse_date(created_start, "createdStartDate"))
    elif not q.get("purchaseOrderId") and not q.get("customerOrderId"):
        where.append("o.order_date >= ?")  # Walmart's default: the last 7 days
        args.append(ctx.now_ms - SEVEN_DAYS_MS)
    for name, column, op in (
        ("createdEndDate", "o.order_date", "<="),
        ("lastModifiedStartDate", "o.last_modified", ">="),
        ("lastModifiedEndDate", "o.last_modified", "<="),
        ("fromExpectedShipDate", "o.est_ship", ">="),
        ("toExpectedShipDate", "o.est_ship", "<="),
    ):
        if q.get(name):
            where.append(f"{column} {op} ?")
            args.append(_parse_date(q[name], name))
    # Walmart lists seller-fulfilled orders unless asked for another ship node type
    node_type = q.get("shipNodeType") or "SellerFulfilled"
    if node_type not in SHIP_NODE_TYPES:
        raise WalmartError.invalid(
            f"Invalid shipNodeType '{node_type}'. Valid values are: {', '.join(SHIP_NODE_TYPES)}", "shipNodeType"
        )
    if not (q.get("purchaseOrderId") or q.get("customerOrderId")):
        where.append("o.ship_node_type = ?")
        args.append(node_type)
    clause = " AND ".join(where)
    total = int(ctx.conn.execute(f"SELECT COUNT(*) FROM w_orders o WHERE {clause}", args).fetchone()[0])
    cap = ctx.settings.order_list_cap
    if cap and total > cap:
        # Walmart: "a maximum of 10000 orders can be fetched at a time. Attempting to download more than 10000
        # orders will return an error" (developer.walmart.com, getallorders; older pages said 20,000)
        raise WalmartError.invalid(
            f"The search matches {total} orders; at most {cap} orders can be fetched at a time. Narrow the date "
            "range.",
            "createdStartDate",
        )
    rows = ctx.conn.execute(
        f"SELECT o.po FROM w_orders o WHERE {clause} ORDER BY o.order_date DESC, o.po DESC LIMIT ? OFFSET ?",
        [*args, limit, offset],
    ).fetchall()
    if total == 0 or not rows:
        raise not_found()
    orders = render_orders(ctx.conn, [r["po"] for r in rows])
    meta: dict[str, Any] = {"totalCount": total, "limit": limit}
    if offset + len(rows) < total:
        cursor: list[tuple[str, str]] = [
            ("limit", str(limit)),
            ("hasMoreElements", "true"),
            ("soIndex", str(total)),
            ("poIndex", str(offset + len(rows))),
            ("sellerId", "10000000"),
        ]
        for name in _LIST_PARAMS:
            if name != "limit" and q.get(name):
                cursor.append((name, q[name]))
        if not created_start and not q.get("purchaseOrderId") and not q.get("customerOrderId"):
            cursor.append(("createdStartDate", _iso(ctx.now_ms - SEVEN_DAYS_MS)))
        meta["nextCursor"] = "?" + urlencode(cursor)
    return Reply(200, {"list": {"meta": meta, "elements": {"order": orders}}})


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def walmart_tracking_url(po: str, tracking: str) -> str:
    return f"https://www.walmart.com/tracking?tracking_id={tracking}&order_id={po}"


def render_orders(conn: sqlite3.Connection, pos: list[str]) -> list[dict[str, Any]]:
    """The orders as Walmart returns them, in the order of ``pos`` (unknown POs are skipped)."""
    from wmsync.sandbox.walmart import refunds

    if not pos:
        return []
    marks = ",".join("?" * len(pos))
    orders = {r["po"]: r for r in conn.execute(f"SELECT * FROM w_orders WHERE po IN ({marks})", pos)}
    lines: dict[str, list[sqlite3.Row]] = {}
    for r in conn.execute(f"SELECT * FROM w_lines WHERE po IN ({marks}) ORDER BY po, position", pos):
        lines.setdefault(r["po"], []).append(r)
    statuses: dict[tuple[str, str], list[sqlite3.Row]] = {}
    for r in conn.execute(f"SELECT * FROM w_status WHERE po IN ({marks}) AND qty > 0 ORDER BY id", pos):
        statuses.setdefault((r["po"], r["line_number"]), []).append(r)
    refunded = {
        (r["po"], r["line_number"])
        for r in conn.execute(f"SELECT DISTINCT po, line_number FROM w_refunds WHERE po IN ({marks})", pos)
    }
    out = []
    for po in pos:
        o = orders.get(po)
        if o is None:
            continue
        address = json.loads(o["address_json"])
        rendered_lines = [
            _render_line(
                o,
                line,
                statuses.get((po, line["line_number"]), []),
                refunds.render(conn, po, line["line_number"]) if (po, line["line_number"]) in refunded else None,
            )
            for line in lines.get(po, [])
        ]
        out.append(
            {
                "purchaseOrderId": po,
                "customerOrderId": o["customer_order_id"],
                "customerEmailId": o["customer_email"],
                "orderDate": int(o["order_date"]),
                "shippingInfo": {
                    "phone": o["phone"],
                    "estimatedDeliveryDate": int(o["est_delivery"]),
                    "estimatedShipDate": int(o["est_ship"]),
                    "methodCode": o["method_code"],
                    "postalAddress": address,
                },
                "orderLines": {"orderLine": rendered_lines},
                "shipNode": {"type": o["ship_node_type"]},
            }
        )
    return out


def _money(amount: float) -> dict[str, Any]:
    return {"currency": "USD", "amount": round(amount, 2)}


def _render_line(
    order: sqlite3.Row, line: sqlite3.Row, rows: list[sqlite3.Row], refund: dict[str, Any] | None = None
) -> dict[str, Any]:
    rows = sorted(rows, key=lambda r: (STATUS_RANK.get(r["status"], 9), r["id"]))
    out: dict[str, Any] = {
        "lineNumber": line["line_number"],
        "item": {"productName": line["product_name"], "sku": line["sku"]},
        "charges": {
            "charge": [
                {
                    "chargeType": "PRODUCT",
                    "chargeName": "ItemPrice",
                    "chargeAmount": _money(float(line["price"]) * int(line["qty"])),
                    "tax": {"taxName": "Tax1", "taxAmount": _money(float(line["tax"]))},
                }
            ]
        },
        "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": str(line["qty"])},
        "statusDate": int(line["status_date"]),
        "orderLineStatuses": {"orderLineStatus": [_render_status(order["po"], r) for r in rows]},
        "fulfillment": {
            "fulfillmentOption": "S2H",
            "shipMethod": str(order["method_code"]).upper(),
            "pickUpDateTime": int(order["est_delivery"]),
        },
    }
    if order["shipping_program"]:
        out["fulfillment"]["shippingProgramType"] = order["shipping_program"]
    if line["intent_to_cancel"]:
        out["intentToCancel"] = "true"
    if refund is not None:
        out["refund"] = refund
    if line["seller_order_id"]:
        out["sellerOrderId"] = line["seller_order_id"]
    return out


def _render_status(po: str, r: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": r["status"],
        "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(r["qty"])},
    }
    if r["reason"]:
        out["cancellationReason"] = r["reason"]
    if r["tracking_number"]:
        carrier: dict[str, str] = {}
        if r["carrier"]:
            carrier["carrier"] = r["carrier"]
        if r["other_carrier"]:
            carrier["otherCarrier"] = r["other_carrier"]
        out["trackingInfo"] = {
            "shipDateTime": int(r["ship_date_time"]),
            "carrierName": carrier,
            "methodCode": r["method_code"],
            "trackingNumber": r["tracking_number"],
            "trackingURL": r["tracking_url"] or walmart_tracking_url(po, r["tracking_number"]),
        }
    return out
