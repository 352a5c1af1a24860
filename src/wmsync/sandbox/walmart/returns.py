"""Walmart return orders (the returns spec): ``GET /v3/returns`` (getReturns) with its filters and cursor paging,
and ``POST /v3/returns/{returnOrderId}/refund`` (issueRefund).

The rules, with their sources (docs/real-services.md, "Returns"):

* US return line statuses are ``INITIATED`` (events RETURN_INITIATED, RETURN_IN_TRANSIT), ``DELIVERED``
  (DELIVERED_AT_RETURN_CENTER) and ``COMPLETED`` (REFUND_INITIATED, REFUND_ISSUED, RETURN_CANCELLED, …): a
  cancelled return is ``COMPLETED`` with the event ``RETURN_CANCELLED`` and a ``returnCancellationReason``
  (``CANCELLED`` is a Canada/Mexico status). The ``status`` filter takes the three US values the spec names;
  anything else is refused (the sandbox's reading of the spec).
* the seller refunds a return only when Walmart leaves it to them (``refundChannel`` SELLER_MANUAL_REFUND), once
  the item is delivered to the return center, and never more than was returned: otherwise 400 "Requested quantity
  is not available. Please check if there is refundable quantity." (Walmart's error table);
* a return of more than one line needs ``returnOrderLineNumber`` in each refund line; with one line it is
  auto-selected (the spec);
* returns of WFS orders are view only: their refund is refused;
* an unknown return: 400 "The return order number is not valid".

Nothing matching a listing is an empty list (the spec declares only 200 for getReturns)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from wmsync.sandbox.walmart.errors import WalmartError
from wmsync.sandbox.walmart.reads import _parse_date

#: the US return line statuses (the spec's ``status`` filter takes these)
STATUSES = ("INITIATED", "DELIVERED", "COMPLETED")
#: the return reasons the spec lists (``returnReason``)
REASONS = (
    "ARRIVED_LATE", "AUTO_RETURN", "BOUGHT_ANOTHER_SIZE_OR_COLOR", "BOUGHT_SOMEWHERE_ELSE", "DAMAGED", "DEFECTIVE",
    "DUPLICATE_ITEM", "INADEQUATE_QUALITY", "INCORRECT_ITEM", "LOST_AFTER_DELIVERY", "LOST_IN_TRANSIT",
    "LOWER_PRICE", "MISSING_PARTS", "NOT_AS_DESCRIBED", "NO_LONGER_WANTED", "RETURN_TO_SENDER",
    "SHIPPING_BOX_DAMAGED", "TRIED_TO_CANCEL", "WRONG_SIZE/POOR_FIT",
)
#: the refund channel under which the refund is the seller's to issue
SELLER_REFUND = "SELLER_MANUAL_REFUND"
#: the events a line has been through, by its latest event (latest last)
_EVENTS = {
    "RETURN_INITIATED": ("RETURN_INITIATED",),
    "RETURN_IN_TRANSIT": ("RETURN_INITIATED", "RETURN_IN_TRANSIT"),
    "DELIVERED_AT_RETURN_CENTER": ("RETURN_INITIATED", "RETURN_IN_TRANSIT", "DELIVERED_AT_RETURN_CENTER"),
    "REFUND_ISSUED": ("RETURN_INITIATED", "RETURN_IN_TRANSIT", "DELIVERED_AT_RETURN_CENTER", "REFUND_ISSUED"),
    "RETURN_CANCELLED": ("RETURN_INITIATED", "RETURN_CANCELLED"),
}
_EVENT_TEXT = {
    "RETURN_INITIATED": "Return initiated for MARKET_PLACE",
    "RETURN_IN_TRANSIT": "A MARKET_PLACE Return in Transit",
    "DELIVERED_AT_RETURN_CENTER": "Return delivered at the return center",
    "REFUND_ISSUED": "Refund issued for MARKET_PLACE return",
    "RETURN_CANCELLED": "Return cancelled",
}
DEFAULT_LIMIT = 10
MAX_LIMIT = 200
_DAY = 86_400_000
_LIST_FILTERS = ("returnOrderId", "customerOrderId", "status", "returnType", "replacementInfo",
                 "returnCreationStartDate", "returnCreationEndDate", "returnLastModifiedStartDate",
                 "returnLastModifiedEndDate")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _money(amount: float) -> dict[str, Any]:
    return {"currencyAmount": round(amount, 2), "currencyUnit": "USD"}


def _render_line(ret: sqlite3.Row, ln: sqlite3.Row) -> dict[str, Any]:
    qty, price, tax = int(ln["qty"]), float(ln["unit_price"]), float(ln["unit_tax"])
    events = _EVENTS.get(ln["event_tag"], (ln["event_tag"],))
    detail = []
    for seq, tag in reversed(list(enumerate(events))):
        when = int(ln["status_ms"]) if seq == len(events) - 1 else int(ret["created_ms"]) + seq * 3_600_000
        detail.append({"sequenceNo": seq, "eventTag": tag, "eventDescription": _EVENT_TEXT.get(tag, tag),
                       "eventTime": _iso(when)})
    out: dict[str, Any] = {
        "returnOrderLineNumber": int(ln["line_no"]),
        "salesOrderLineNumber": int(ln["po_line"]),
        "purchaseOrderId": ret["po"],
        "purchaseOrderLineNumber": int(ln["po_line"]),
        "returnReason": ln["reason"],
        "item": {"sku": ln["sku"], "productName": ln["product_name"], "condition": "New"},
        "charges": [{
            "chargeCategory": "PRODUCT",
            "chargeName": "ItemPrice",
            "chargePerUnit": _money(price),
            "isDiscount": False,
            "isBillable": True,
            "tax": [{"taxName": "Tax1", "taxPerUnit": _money(tax)}],
        }],
        "unitPrice": _money(price),
        "chargeTotals": [
            {"name": "lineUnitPrice", "value": _money(price)},
            {"name": "lineProductTaxes", "value": _money(tax * qty)},
            {"name": "lineSubTotal", "value": _money(price * qty)},
            {"name": "lineTotal", "value": _money((price + tax) * qty)},
        ],
        "quantity": {"unitOfMeasure": "EACH", "measurementValue": float(qty)},
        "returnExpectedFlag": True,
        "isKeepIt": False,
        "refundedQty": float(ln["refunded_qty"]),
        "refundChannel": ret["refund_channel"],
        "returnTrackingDetail": detail,
        "status": ln["status"],
        "statusTime": _iso(int(ln["status_ms"])),
    }
    if ln["refund_status"]:
        out["currentRefundStatus"] = ln["refund_status"]
    if ln["cancel_reason"]:
        out["returnCancellationReason"] = ln["cancel_reason"]
    return out


def _render(ret: sqlite3.Row, lines: list[sqlite3.Row]) -> dict[str, Any]:
    group: dict[str, Any] = {
        "groupNo": 1,
        "returnLines": [{"returnOrderLineNumber": int(ln["line_no"])} for ln in lines],
        "returnExpectedFlag": True,
    }
    if ret["tracking_number"]:
        group["labels"] = [{"carrierInfoList": [{"carrierName": ret["carrier"] or "", "trackingNo":
                                                 ret["tracking_number"]}]}]
    total = sum((float(ln["unit_price"]) + float(ln["unit_tax"])) * int(ln["qty"]) for ln in lines)
    return {
        "returnOrderId": ret["return_id"],
        "customerOrderId": ret["customer_order_id"],
        "returnType": "REFUND",
        "returnOrderDate": _iso(int(ret["created_ms"])),
        "returnByDate": _iso(int(ret["created_ms"]) + 30 * _DAY),
        "refundMode": "POST_DELIVERY",
        "totalRefundAmount": _money(total),
        "returnLineGroups": [group],
        "returnOrderLines": [_render_line(ret, ln) for ln in lines],
        "returnChannel": {"channelName": "ONLINE"},
    }


def render_returns(conn: sqlite3.Connection, ids: list[str]) -> list[dict[str, Any]]:
    """The return orders as getReturns shows them, in the order of ``ids``."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rets = {r["return_id"]: r for r in conn.execute(f"SELECT * FROM w_returns WHERE return_id IN ({marks})", ids)}
    lines: dict[str, list[sqlite3.Row]] = {}
    for ln in conn.execute(f"SELECT * FROM w_return_lines WHERE return_id IN ({marks}) ORDER BY return_id, line_no",
                           ids):
        lines.setdefault(ln["return_id"], []).append(ln)
    return [_render(rets[i], lines.get(i, [])) for i in ids if i in rets]


def list_returns(conn: sqlite3.Connection, query: dict[str, str]) -> dict[str, Any]:
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    if query.get("returnOrderId"):
        where.append("r.return_id = ?")
        args.append(query["returnOrderId"])
    if query.get("customerOrderId"):
        where.append("r.customer_order_id = ?")
        args.append(query["customerOrderId"])
    if query.get("status"):
        if query["status"] not in STATUSES:
            raise WalmartError.invalid(
                f"Invalid status '{query['status']}'. Valid statuses are: {', '.join(STATUSES)}", "status")
        where.append("EXISTS (SELECT 1 FROM w_return_lines l WHERE l.return_id = r.return_id AND l.status = ?)")
        args.append(query["status"])
    for name, op in (("returnCreationStartDate", ">="), ("returnCreationEndDate", "<=")):
        if query.get(name):
            where.append(f"r.created_ms {op} ?")
            args.append(_parse_date(query[name], name))
    try:
        limit = int(query.get("limit", str(DEFAULT_LIMIT)))
        offset = int(query.get("offset", "0"))
    except ValueError as exc:
        raise WalmartError.invalid(f"Invalid limit '{query.get('limit')}'", "limit") from exc
    if limit < 1 or limit > MAX_LIMIT or offset < 0:
        raise WalmartError.invalid(f"limit must be between 1 and {MAX_LIMIT}, got {limit}", "limit")
    clause = " AND ".join(where)
    total = int(conn.execute(f"SELECT COUNT(*) FROM w_returns r WHERE {clause}", args).fetchone()[0])
    ids = [row[0] for row in conn.execute(
        f"SELECT r.return_id FROM w_returns r WHERE {clause} ORDER BY r.created_ms DESC, r.return_id DESC "
        "LIMIT ? OFFSET ?", [*args, limit, offset])]
    cursor = ""
    if offset + len(ids) < total:
        kept = [(k, query[k]) for k in _LIST_FILTERS if query.get(k)]
        cursor = "?" + urlencode([*kept, ("sellerId", "10000000"), ("limit", str(limit)),
                                  ("offset", str(offset + len(ids)))])
    return {"meta": {"totalCount": total, "limit": limit, "nextCursor": cursor},
            "returnOrders": render_returns(conn, ids)}


def _refundable(ln: sqlite3.Row) -> int:
    """Units of the line the seller may refund now: returned to the return center and not refunded yet."""
    if ln["status"] != "DELIVERED":
        return 0
    return max(0, int(ln["qty"]) - int(ln["refunded_qty"]))


def _no_quantity() -> WalmartError:
    return WalmartError.invalid("Requested quantity is not available. Please check if there is refundable quantity.",
                                "quantity")


def issue_refund(conn: sqlite3.Connection, return_id: str, body: Any, now_ms: int) -> dict[str, Any]:
    ret = conn.execute("SELECT * FROM w_returns WHERE return_id = ?", (return_id,)).fetchone()
    if ret is None:
        raise WalmartError.invalid("The return order number is not valid", "returnOrderId")
    refund_lines = body.get("refundLines") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(body.get("customerOrderId"), str) \
            or not isinstance(refund_lines, list) or not refund_lines:
        raise WalmartError.invalid("Invalid request. One or more mandatory fields are missing.", "refundLines")
    if body["customerOrderId"] != ret["customer_order_id"]:
        raise WalmartError.invalid("customerOrderId does not match the return order", "customerOrderId")
    if ret["ship_node_type"] == "WFSFulfilled":
        raise WalmartError.invalid(f"Return order {return_id} is a WFS return: view only, Walmart issues its refund",
                                   "returnOrderId")
    if ret["refund_channel"] != SELLER_REFUND:
        raise WalmartError.invalid(f"Return order {return_id} is refunded by Walmart ({ret['refund_channel']})",
                                   "returnOrderId")
    lines = {int(ln["line_no"]): ln for ln in conn.execute(
        "SELECT * FROM w_return_lines WHERE return_id = ? ORDER BY line_no", (return_id,))}
    wanted: dict[int, int] = {}
    for entry in refund_lines:
        if not isinstance(entry, dict):
            raise WalmartError.invalid("Invalid request. One or more mandatory fields are missing.", "refundLines")
        number = entry.get("returnOrderLineNumber")
        if number is None:
            if len(lines) > 1:
                raise WalmartError.invalid("Return Order has more than one line. Please specify the "
                                           "ReturnOrderLineNumber to be refunded.", "returnOrderLineNumber")
            number = next(iter(lines))
        if not isinstance(number, int) or number not in lines:
            raise WalmartError.invalid(f"Return order line {number} is not on return order {return_id}",
                                       "returnOrderLineNumber")
        quantity = entry.get("quantity")
        if quantity is None:
            n = _refundable(lines[number])
        else:
            value = quantity.get("measurementValue") if isinstance(quantity, dict) else None
            if not isinstance(value, int | float) or value <= 0 or value != int(value):
                raise WalmartError.invalid("Invalid quantity", "quantity")
            n = int(value)
        wanted[number] = wanted.get(number, 0) + n
    for number, n in wanted.items():
        if n < 1 or n > _refundable(lines[number]):
            raise _no_quantity()
    for number, n in wanted.items():
        ln = lines[number]
        done = int(ln["refunded_qty"]) + n
        full = done >= int(ln["qty"])
        conn.execute(
            "UPDATE w_return_lines SET refunded_qty = ?, refund_status = 'REFUND_COMPLETED', status = ?, "
            "event_tag = ?, status_ms = ? WHERE return_id = ? AND line_no = ?",
            (done, "COMPLETED" if full else ln["status"], "REFUND_ISSUED" if full else ln["event_tag"], now_ms,
             return_id, number),
        )
    return {
        "returnOrderId": return_id,
        "customerOrderId": ret["customer_order_id"],
        "refundLines": [{"returnOrderLineNumber": number,
                         "quantity": {"unitOfMeasure": "EACH", "measurementValue": float(n)}}
                        for number, n in sorted(wanted.items())],
    }


# ------------------------------------------------------------------------------------------------- seeding


@dataclass(frozen=True)
class SeedLine:
    po_line: str
    sku: str
    qty: int
    reason: str
    status: str
    event_tag: str
    refunded_qty: int = 0
    refund_status: str | None = None
    cancel_reason: str | None = None


def add_return(
    conn: sqlite3.Connection,
    return_id: str,
    po: str,
    lines: list[SeedLine],
    *,
    created_ms: int,
    refund_channel: str = SELLER_REFUND,
    tracking: tuple[str, str] | None = None,
) -> None:
    """One return order on the Walmart order ``po`` (its customer order, ship node type, prices and tax)."""
    order = conn.execute("SELECT customer_order_id, ship_node_type FROM w_orders WHERE po = ?", (po,)).fetchone()
    if order is None:
        raise ValueError(f"no Walmart order {po}")
    conn.execute(
        "INSERT INTO w_returns (return_id, customer_order_id, po, ship_node_type, refund_channel, tracking_number, "
        "carrier, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (return_id, order["customer_order_id"], po, order["ship_node_type"], refund_channel,
         tracking[1] if tracking else None, tracking[0] if tracking else None, created_ms),
    )
    for n, sl in enumerate(lines, start=1):
        wl = conn.execute("SELECT * FROM w_lines WHERE po = ? AND line_number = ?", (po, sl.po_line)).fetchone()
        if wl is None:
            raise ValueError(f"no line {sl.po_line} on Walmart order {po}")
        conn.execute(
            "INSERT INTO w_return_lines (return_id, line_no, po_line, sku, product_name, qty, unit_price, unit_tax, "
            "reason, status, event_tag, refunded_qty, refund_status, cancel_reason, status_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (return_id, n, sl.po_line, wl["sku"], wl["product_name"], sl.qty, float(wl["price"]),
             round(float(wl["tax"]) / max(1, int(wl["qty"])), 2), sl.reason, sl.status, sl.event_tag,
             sl.refunded_qty, sl.refund_status, sl.cancel_reason, created_ms + 3_600_000),
        )


def seed(conn: sqlite3.Connection, now_ms: int) -> None:
    """Returns on the seeded shipped orders (SEED.md, "Returns")."""
    hour = 3_600_000

    def po_of(increment: int) -> str | None:
        row = conn.execute("SELECT ext_order_id FROM c_orders WHERE increment_id = ?", (f"{increment:09d}",)).fetchone()
        return str(row[0]) if row is not None else None

    seeds: tuple[tuple[str, int, list[SeedLine], str, tuple[str, str] | None, int], ...] = (
        # delivered to the return center, the refund is the seller's: `returns refund RT0000000107`
        ("RT0000000107", 107, [SeedLine("1", "WM-PAN-007", 1, "DAMAGED", "DELIVERED", "DELIVERED_AT_RETURN_CENTER")],
         SELLER_REFUND, ("UPS", "1Z999AA10123456790"), 30),
        # refunded by Walmart and completed
        ("RT0000000110", 110, [SeedLine("1", "WM-MUG-001", 1, "NO_LONGER_WANTED", "COMPLETED", "REFUND_ISSUED",
                                        refunded_qty=1, refund_status="REFUND_COMPLETED")],
         "WALMART_SETTLED_REFUND", ("USPS", "9202090153540011223344"), 28),
        # on its way back, with the customer's return tracking: open, nothing to refund yet
        ("RT0000000116", 116, [SeedLine("1", "WM-BOTTLE-005", 1, "DEFECTIVE", "INITIATED", "RETURN_IN_TRANSIT")],
         SELLER_REFUND, ("FedEx", "785611449666"), 6),
        # cancelled before completion (US: COMPLETED with the event RETURN_CANCELLED)
        ("RT0000000114", 114, [SeedLine("1", "WM-LAMP-004", 1, "WRONG_SIZE/POOR_FIT", "COMPLETED", "RETURN_CANCELLED",
                                        cancel_reason="CUSTOMER_CANCELLED")],
         SELLER_REFUND, None, 20),
        # a WFS order's return: view only
        ("RT0000000131", 131, [SeedLine("1", "WM-MUG-001", 1, "NOT_AS_DESCRIBED", "DELIVERED",
                                        "DELIVERED_AT_RETURN_CENTER")],
         "WALMART_SETTLED_REFUND", ("FedEx", "785611440001"), 2),
    )
    for rid, increment, lines, channel, tracking, age in seeds:
        po = po_of(increment)
        if po is None:
            continue
        add_return(conn, rid, po, lines, created_ms=now_ms - age * hour, refund_channel=channel, tracking=tracking)
