"""Walmart return orders (the returns spec): ``GET /v3/returns`` with its filters and cursor paging, and
``POST /v3/returns/{returnOrderId}/refund`` (issueRefund) — allowed once, only for a return whose refund is the
seller's to issue (``refundChannel`` SELLER_MANUAL_REFUND) and still open, never for one Walmart fulfilled (WFS
returns are view-only)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from wmsync.sandbox.walmart.errors import WalmartError, not_found

STATUSES = ("INITIATED", "DELIVERED", "COMPLETED", "CANCELLED")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _render(r: sqlite3.Row) -> dict[str, Any]:
    line: dict[str, Any] = {
        "returnOrderLineNumber": 1,
        "salesOrderLineNumber": int(r["line_number"]),
        "purchaseOrderId": r["po"],
        "purchaseOrderLineNumber": int(r["line_number"]),
        "returnReason": r["reason"],
        "item": {"sku": r["sku"], "productName": r["sku"]},
        "unitPrice": {"currencyAmount": float(r["unit_price"]), "currencyUnit": "USD"},
        "quantity": {"unitOfMeasure": "EACH", "measurementValue": float(r["qty"])},
        "status": r["status"],
        "statusTime": _iso(int(r["updated_ms"])),
        "currentRefundStatus": r["refund_status"],
        "refundChannel": r["refund_channel"],
        "refundedQty": float(r["qty"]) if r["refund_status"] == "REFUNDED" else 0.0,
    }
    group: dict[str, Any] = {"groupNo": 1, "returnLines": [{"returnOrderLineNumber": 1}], "returnExpectedFlag": True}
    if r["tracking_number"]:
        carrier = {"carrierName": r["carrier"] or "", "trackingNo": r["tracking_number"]}
        group["labels"] = [{"carrierInfoList": [carrier]}]
    return {
        "returnOrderId": r["return_id"],
        "customerOrderId": r["customer_order_id"],
        "returnOrderDate": _iso(int(r["created_ms"])),
        "returnType": "REFUND",
        "totalRefundAmount": {"currencyAmount": float(r["unit_price"]) * int(r["qty"]), "currencyUnit": "USD"},
        "returnOrderLines": [line],
        "returnLineGroups": [group],
    }


def list_returns(conn: sqlite3.Connection, query: dict[str, str]) -> dict[str, Any]:
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    if query.get("returnOrderId"):
        where.append("return_id = ?")
        args.append(query["returnOrderId"])
    if query.get("customerOrderId"):
        where.append("customer_order_id = ?")
        args.append(query["customerOrderId"])
    if query.get("status"):
        if query["status"] not in STATUSES:
            raise WalmartError.invalid(f"Invalid status '{query['status']}'", "status")
        where.append("status = ?")
        args.append(query["status"])
    if query.get("returnCreationStartDate"):
        try:
            start = datetime.fromisoformat(query["returnCreationStartDate"].replace("Z", "+00:00"))
        except ValueError as exc:
            raise WalmartError.invalid("Invalid returnCreationStartDate", "returnCreationStartDate") from exc
        where.append("created_ms >= ?")
        args.append(int(start.timestamp() * 1000))
    try:
        limit = max(1, min(200, int(query.get("limit", "10"))))
        offset = max(0, int(query.get("offset", "0")))
    except ValueError as exc:
        raise WalmartError.invalid("Invalid limit", "limit") from exc
    clause = " AND ".join(where)
    total = int(conn.execute(f"SELECT COUNT(*) FROM w_returns WHERE {clause}", args).fetchone()[0])
    rows = conn.execute(
        f"SELECT * FROM w_returns WHERE {clause} ORDER BY created_ms DESC, return_id LIMIT ? OFFSET ?",
        [*args, limit, offset],
    ).fetchall()
    # none found: an empty list (the returns spec declares 200 only)
    cursor = ""
    if offset + len(rows) < total:
        params = {k: v for k, v in query.items() if k not in ("offset", "limit")}
        cursor = "?" + urlencode({**params, "limit": str(limit), "offset": str(offset + len(rows))})
    return {"meta": {"totalCount": total, "limit": limit, "nextCursor": cursor},
            "returnOrders": [_render(r) for r in rows]}


def issue_refund(conn: sqlite3.Connection, return_id: str, body: Any, now_ms: int) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM w_returns WHERE return_id = ?", (return_id,)).fetchone()
    if row is None:
        raise not_found(f"Return order {return_id} not found")
    if not isinstance(body, dict) or body.get("customerOrderId") != row["customer_order_id"]:
        raise WalmartError.invalid("customerOrderId does not match the return order", "customerOrderId")
    if row["ship_node_type"] == "WFSFulfilled":
        raise WalmartError.invalid(f"Return {return_id} is of a WFS order: Walmart issues its refund", "returnOrderId")
    if row["refund_channel"] != "SELLER_MANUAL_REFUND":
        raise WalmartError.invalid(f"Return {return_id} is refunded by Walmart ({row['refund_channel']})",
                                   "returnOrderId")
    if row["refund_status"] == "REFUNDED":
        raise WalmartError.invalid(f"Return {return_id} is already refunded", "returnOrderId")
    if row["status"] == "CANCELLED":
        raise WalmartError.invalid(f"Return {return_id} is cancelled", "returnOrderId")
    conn.execute("UPDATE w_returns SET refund_status = 'REFUNDED', status = 'COMPLETED', updated_ms = ? "
                 "WHERE return_id = ?", (now_ms, return_id))
    return {"returnOrderId": return_id, "customerOrderId": row["customer_order_id"],
            "refundLines": [{"returnOrderLineNumber": 1}]}


def seed(conn: sqlite3.Connection, now_ms: int) -> None:
    """Returns on seeded orders: one awaiting the seller's refund, one refunded and completed, one on its way back
    with the customer's tracking, one cancelled, one of a WFS order (view only)."""
    hour = 3_600_000
    for rid, po_increment, line, sku, price, status, refund_status, channel, tracking, node, age in (
        ("RT0000000107", 107, "1", "WM-PAN-007", 34.5, "DELIVERED", "PENDING", "SELLER_MANUAL_REFUND", None,
         "SellerFulfilled", 5),
        ("RT0000000110", 110, "1", "WM-MUG-001", 14.99, "COMPLETED", "REFUNDED", "WALMART_SETTLED_REFUND", None,
         "SellerFulfilled", 30),
        ("RT0000000116", 116, "1", "WM-BOTTLE-005", 24.95, "INITIATED", "PENDING", "SELLER_MANUAL_REFUND",
         "1Z999AA10123456819", "SellerFulfilled", 2),
        ("RT0000000114", 114, "1", "WM-LAMP-004", 39.0, "CANCELLED", "NOT_REFUNDED", "SELLER_MANUAL_REFUND", None,
         "SellerFulfilled", 20),
        ("RT0000000131", 131, "1", "WM-MUG-001", 14.99, "INITIATED", "PENDING", "WALMART_SETTLED_REFUND", None,
         "WFSFulfilled", 1),
    ):
        order = conn.execute("SELECT ext_order_id FROM c_orders WHERE increment_id = ?",
                             (f"{po_increment:09d}",)).fetchone()
        if order is None:
            continue
        po = str(order[0])
        w = conn.execute("SELECT customer_order_id FROM w_orders WHERE po = ?", (po,)).fetchone()
        conn.execute(
            "INSERT INTO w_returns (return_id, customer_order_id, po, line_number, sku, qty, unit_price, reason, "
            "status, refund_status, refund_channel, tracking_number, carrier, ship_node_type, created_ms, updated_ms)"
            " VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rid, w[0] if w else "", po, line, sku, price, "DAMAGED_ITEM" if age < 10 else "CHANGED_MIND", status,
             refund_status, channel, tracking, "UPS" if tracking else None, node, now_ms - age * hour,
             now_ms - age * hour),
        )
