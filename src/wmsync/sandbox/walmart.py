"""The simulated Walmart Marketplace API: ``/v3/token``, ``/v3/token/detail`` and the orders endpoints.

Responses follow the orders OpenAPI spec (``{"order": {...}}``, ``{"list": {"meta", "elements"}}``); errors use
the shape the orders API returns in practice, ``{"errors": {"error": [{code, field, description, info,
severity, category, ...}]}}``, except ``INVALID_TOKEN.GMP_GATEWAY_API`` which comes in the gateway shape
``{"error": [...]}`` (clients must parse both).

Rules (each tested in ``tests/sandbox``):

* the token call answers in XML unless the request sends ``Accept: application/json``;
* every call needs ``WM_SVC.NAME`` and ``WM_QOS.CORRELATION_ID`` (400 ``MISSING_REQUEST_HEADER``) and, except
  the token call, a live ``WM_SEC.ACCESS_TOKEN``: unknown or missing → 401 ``UNAUTHORIZED.GMP_GATEWAY_API``,
  expired → 400 ``INVALID_TOKEN.GMP_GATEWAY_API``;
* only ``Acknowledged`` quantities ship; ``Created`` lines must be acknowledged first;
* a line with nothing left open answers "... is in SHIPPED status" (or CANCELLED);
* no over-shipping or over-cancelling; shipped quantities cannot be cancelled;
* ``carrier`` must be spelled exactly as in the spec's enum; ``otherCarrier`` needs ``trackingURL``;
* ``methodCode`` must be in the enum and equal the order's ``shippingInfo.methodCode`` (the sandbox's reading
  of "must fit the order": a different one gives "Method code is not supported in line number N");
* ``shipDateTime`` must be epoch milliseconds (seconds and .NET ticks are refused);
* ``sellerOrderId`` is required (the spec says so) and at most 30 characters;
* a customer's intent to cancel blocks shipping that line unless ``intentToCancelOverride`` is true.
  The order shows it as ``"intentToCancel": "true"`` on the line (the spec types the field as a string and
  documents no values; this rendering is the sandbox's choice).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from wmsync.sandbox.common import Ctx, ParsedRequest, Reply, json_body, take_token, throttle_headers
from wmsync.sandbox.constants import CREDENTIALS

__all__ = [
    "CancelItem",
    "ShipItem",
    "WalmartError",
    "acknowledge",
    "apply_cancel",
    "apply_ship",
    "handle",
    "render_orders",
    "route",
    "validate_cancel",
    "validate_ship",
]

ORDER_API = "GMP_ORDER_API"
GATEWAY = "GMP_GATEWAY_API"
INVALID_CONTENT = f"INVALID_REQUEST_CONTENT.{ORDER_API}"
INVALID_INFO = "Request content is invalid."
STATUS_RANK = {"Created": 0, "Acknowledged": 1, "Shipped": 2, "Delivered": 3, "Cancelled": 4, "Refund": 5}
SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000
MAX_LIMIT = 200
DEFAULT_LIMIT = 100


def _carriers() -> tuple[str, ...]:
    from wmsync.walmart.enums import carriers

    return carriers()


def _method_codes() -> tuple[str, ...]:
    from wmsync.walmart.enums import method_codes

    return method_codes()


def _cancellation_reasons() -> tuple[str, ...]:
    from wmsync.walmart.enums import cancellation_reasons

    return cancellation_reasons()


# --------------------------------------------------------------------------------------------------- errors


def error_entry(
    code: str,
    description: str,
    *,
    field: str = "",
    info: str = INVALID_INFO,
    category: str = "DATA",
    severity: str = "ERROR",
) -> dict[str, Any]:
    return {
        "code": code,
        "field": field,
        "description": description,
        "info": info,
        "severity": severity,
        "category": category,
        "causes": [],
        "errorIdentifiers": {"entry": []},
    }


class WalmartError(Exception):
    """A Walmart error response; ``shape`` is ``"errors"`` (orders API) or ``"gateway"`` (``{"error": [...]}``)."""

    def __init__(
        self,
        status: int,
        errors: list[dict[str, Any]],
        *,
        shape: str = "errors",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__("; ".join(str(e.get("description")) for e in errors))
        self.status = status
        self.errors = errors
        self.shape = shape
        self.headers = headers or {}

    @classmethod
    def one(cls, status: int, code: str, description: str, **kwargs: Any) -> WalmartError:
        shape = kwargs.pop("shape", "errors")
        headers = kwargs.pop("headers", None)
        return cls(status, [error_entry(code, description, **kwargs)], shape=shape, headers=headers)

    @classmethod
    def invalid(cls, description: str, field: str = "") -> WalmartError:
        return cls.one(400, INVALID_CONTENT, description, field=field)

    def reply(self) -> Reply:
        body: Any = {"error": self.errors} if self.shape == "gateway" else {"errors": {"error": self.errors}}
        return Reply(self.status, body, headers=dict(self.headers))


def not_found(description: str = "No Orders found for the given search criteria") -> WalmartError:
    return WalmartError.one(
        404,
        f"CONTENT_NOT_FOUND.{ORDER_API}",
        description,
        field="purchaseOrderId",
        info="Requested content could not be found.",
        category="REQUEST",
    )


def throttled(headers: dict[str, str]) -> WalmartError:
    return WalmartError.one(
        429,
        f"REQUEST_THRESHOLD_VIOLATED.{GATEWAY}",
        "Request threshold violated",
        info="The number of requests has exceeded the allowed threshold. Retry after some time.",
        category="REQUEST",
        headers=headers,
    )


# --------------------------------------------------------------------------------------------------- routing

_PO_PATH = re.compile(r"^/v3/orders/([^/]+)(?:/(acknowledge|shipping|cancel|refund))?/?$")


def route(method: str, path: str) -> tuple[str, dict[str, str]]:
    """The operation name for a ``/v3/...`` request (``walmart.unknown`` when nothing matches)."""
    path = path.rstrip("/") or "/"
    if path == "/v3/token":
        return ("walmart.token", {}) if method == "POST" else ("walmart.unknown", {})
    if path == "/v3/token/detail":
        return ("walmart.token_detail", {}) if method == "GET" else ("walmart.unknown", {})
    if path == "/v3/orders":
        return ("walmart.list", {}) if method == "GET" else ("walmart.unknown", {})
    m = _PO_PATH.match(path)
    if m:
        po, action = m.group(1), m.group(2)
        if action is None and method == "GET":
            return "walmart.get", {"po": po}
        if action in ("acknowledge", "shipping", "cancel") and method == "POST":
            op = {"acknowledge": "walmart.acknowledge", "shipping": "walmart.ship", "cancel": "walmart.cancel"}
            return op[action], {"po": po}
    return "walmart.unknown", {}


def handle(ctx: Ctx, req: ParsedRequest, operation: str, params: dict[str, str]) -> Reply:
    try:
        _require_headers(req)
        if operation == "walmart.token":
            return _token(ctx, req)
        if operation == "walmart.unknown":
            raise WalmartError.one(
                404,
                f"CONTENT_NOT_FOUND.{GATEWAY}",
                f"No resource matches {req.method} {req.path}",
                info="Requested content could not be found.",
                category="REQUEST",
            )
        if operation == "walmart.token_detail":
            return _token_detail(ctx, req)
        _require_token(ctx, req)
        quota = _rate_limit(ctx, operation)
        reply = _dispatch(ctx, req, operation, params)
        reply.headers.update(quota)
        return reply
    except WalmartError as exc:
        return exc.reply()


def _dispatch(ctx: Ctx, req: ParsedRequest, operation: str, params: dict[str, str]) -> Reply:
    if operation == "walmart.list":
        return _list(ctx, req)
    po = params["po"]
    if operation == "walmart.get":
        return Reply(200, {"order": _one(ctx.conn, po)})
    if operation == "walmart.acknowledge":
        _one(ctx.conn, po)
        acknowledge(ctx.conn, po, ctx.now_ms)
        return Reply(200, {"order": _one(ctx.conn, po)})
    if operation == "walmart.ship":
        _one(ctx.conn, po)
        items = validate_ship(ctx.conn, po, _body(req))
        apply_ship(ctx.conn, po, items, ctx.now_ms, source="api")
        return Reply(200, {"order": _one(ctx.conn, po)})
    if operation == "walmart.cancel":
        _one(ctx.conn, po)
        cancels = validate_cancel(ctx.conn, po, _body(req))
        apply_cancel(ctx.conn, po, cancels, ctx.now_ms, source="api")
        return Reply(200, {"order": _one(ctx.conn, po)})
    raise AssertionError(operation)  # pragma: no cover


def _body(req: ParsedRequest) -> Any:
    try:
        return json_body(req.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WalmartError.invalid(f"Unable to parse the request body: {exc}", "requestBody") from exc


def _one(conn: sqlite3.Connection, po: str) -> dict[str, Any]:
    orders = render_orders(conn, [po])
    if not orders:
        raise not_found(f"Order with purchaseOrderId {po} not found")
    return orders[0]


# --------------------------------------------------------------------------------------------------- auth


def _require_headers(req: ParsedRequest) -> None:
    missing = [h for h in ("WM_SVC.NAME", "WM_QOS.CORRELATION_ID") if not req.headers.get(h, "").strip()]
    if missing:
        raise WalmartError(
            400,
            [
                error_entry(
                    f"MISSING_REQUEST_HEADER.{GATEWAY}",
                    f"Required request header '{h}' is missing",
                    field=h,
                    info="Missing request header.",
                    category="REQUEST",
                )
                for h in missing
            ],
        )


def _unauthorized() -> WalmartError:
    return WalmartError.one(
        401,
        f"UNAUTHORIZED.{GATEWAY}",
        "Unauthorized",
        field="UNAUTHORIZED",
        info="Unauthorized token or invalid Client ID/Secret",
        category="DATA",
    )


def _require_token(ctx: Ctx, req: ParsedRequest) -> sqlite3.Row:
    token = req.headers.get("WM_SEC.ACCESS_TOKEN", "").strip()
    if not token:
        raise _unauthorized()
    row: sqlite3.Row | None = ctx.conn.execute("SELECT * FROM w_tokens WHERE token = ?", (token,)).fetchone()
    if row is None:
        raise _unauthorized()
    if float(row["expires_at"]) <= ctx.now:
        raise WalmartError.one(
            400,
            f"INVALID_TOKEN.{GATEWAY}",
            "Token is invalid or expired. Please verify your token.",
            field="INVALID_TOKEN",
            info="Access token is expired or invalid.",
            category="DATA",
            shape="gateway",
        )
    return row


def _token(ctx: Ctx, req: ParsedRequest) -> Reply:
    auth = req.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value else ""
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    client_id, _, client_secret = decoded.partition(":")
    if (
        scheme.lower() != "basic"
        or client_id != CREDENTIALS["WALMART_CLIENT_ID"]
        or client_secret != CREDENTIALS["WALMART_CLIENT_SECRET"]
    ):
        raise _unauthorized()
    form = dict(_parse_form(req.body))
    grant = form.get("grant_type")
    if grant != "client_credentials":
        raise WalmartError.one(
            400,
            f"INVALID_REQUEST_CONTENT.{GATEWAY}",
            f"Unsupported grant_type {grant!r}; this seller app supports client_credentials",
            field="grant_type",
        )
    token = "eyJraWQiOiJzYW5kYm94In0." + secrets.token_urlsafe(48)
    ttl = ctx.settings.token_ttl
    ctx.conn.execute(
        "INSERT INTO w_tokens (token, client_id, issued_at, expires_at) VALUES (?, ?, ?, ?)",
        (token, client_id, ctx.now, ctx.now + ttl),
    )
    if "json" not in req.headers.get("Accept", "").lower():
        # Without "Accept: application/json" the token API answers in XML.
        xml = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<OAuthTokenDTO xmlns="">'
            f"<accessToken>{token}</accessToken><tokenType>Bearer</tokenType><expiresIn>{ttl}</expiresIn>"
            "</OAuthTokenDTO>"
        )
        return Reply(200, raw=xml.encode(), content_type="application/xml")
    return Reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": ttl})


def _parse_form(body: bytes) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return []


def _token_detail(ctx: Ctx, req: ParsedRequest) -> Reply:
    token = req.headers.get("WM_SEC.ACCESS_TOKEN", "").strip()
    row = ctx.conn.execute("SELECT * FROM w_tokens WHERE token = ?", (token,)).fetchone() if token else None
    if row is None:
        raise _unauthorized()
    valid = float(row["expires_at"]) > ctx.now
    return Reply(
        200,
        {
            "expire_at": str(int(float(row["expires_at"]) * 1000)),
            "issued_at": str(int(float(row["issued_at"]) * 1000)),
            "is_valid": valid,
            "is_channel_match": True,
            "scopes": {
                "reports": "view_only",
                "item": "full_access",
                "shipping": "full_access",
                "price": "no_access",
                "lagtime": "view_only",
                "feeds": "view_only",
                "returns": "full_access",
                "orders": "full_access",
                "rules": "no_access",
                "inventory": "view_only",
                "content": "view_only",
            },
        },
    )


def _rate_limit(ctx: Ctx, operation: str) -> dict[str, str]:
    if operation in ("walmart.ship", "walmart.cancel"):
        rate = ctx.settings.ship_rate_per_min
    elif operation in ("walmart.list", "walmart.get"):
        rate = ctx.settings.read_rate_per_min
    else:
        return {}
    if rate is None:
        return {}
    bucket = "walmart.read" if operation in ("walmart.list", "walmart.get") else operation
    allowed, tokens, wait = take_token(ctx.conn, bucket, rate, ctx.now)
    if not allowed:
        raise throttled(throttle_headers(tokens, wait, ctx.now, retry=True))
    return throttle_headers(tokens, wait, ctx.now, retry=False)


# --------------------------------------------------------------------------------------------------- reads


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
    if q.get("shipNodeType") and q["shipNodeType"] != "SellerFulfilled":
        where.append("0")
    clause = " AND ".join(where)
    total = int(ctx.conn.execute(f"SELECT COUNT(*) FROM w_orders o WHERE {clause}", args).fetchone()[0])
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
    out = []
    for po in pos:
        o = orders.get(po)
        if o is None:
            continue
        address = json.loads(o["address_json"])
        rendered_lines = [
            _render_line(o, line, statuses.get((po, line["line_number"]), [])) for line in lines.get(po, [])
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
                "shipNode": {"type": "SellerFulfilled"},
            }
        )
    return out


def _money(amount: float) -> dict[str, Any]:
    return {"currency": "USD", "amount": round(amount, 2)}


def _render_line(order: sqlite3.Row, line: sqlite3.Row, rows: list[sqlite3.Row]) -> dict[str, Any]:
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
    if line["intent_to_cancel"]:
        out["intentToCancel"] = "true"
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


# --------------------------------------------------------------------------------------------------- writes


@dataclass(frozen=True)
class ShipItem:
    line_number: str
    qty: int
    ship_date_time: int
    carrier: str | None
    other_carrier: str | None
    method_code: str
    tracking_number: str
    tracking_url: str | None
    seller_order_id: str | None


@dataclass(frozen=True)
class CancelItem:
    line_number: str
    qty: int
    reason: str


@dataclass
class _Line:
    row: sqlite3.Row
    qty_by_status: dict[str, int]

    @property
    def number(self) -> str:
        return str(self.row["line_number"])

    def qty(self, status: str) -> int:
        return self.qty_by_status.get(status, 0)

    @property
    def open_qty(self) -> int:
        return self.qty("Created") + self.qty("Acknowledged")

    def closed_status(self) -> str:
        """The status a line with nothing open is "in", as Walmart words it."""
        if self.qty("Shipped") or self.qty("Delivered"):
            return "SHIPPED"
        if self.qty("Refund"):
            return "REFUND"
        return "CANCELLED"


def _lines(conn: sqlite3.Connection, po: str) -> dict[str, _Line]:
    out: dict[str, _Line] = {}
    for row in conn.execute("SELECT * FROM w_lines WHERE po = ? ORDER BY position", (po,)):
        out[row["line_number"]] = _Line(row, {})
    for r in conn.execute(
        "SELECT line_number, status, SUM(qty) AS qty FROM w_status WHERE po = ? GROUP BY line_number, status",
        (po,),
    ):
        line = out.get(r["line_number"])
        if line is not None:
            line.qty_by_status[r["status"]] = int(r["qty"])
    return out


def _status_error(po: str, line: str, status: str) -> dict[str, Any]:
    return error_entry(
        INVALID_CONTENT,
        f"Unable to process this request. The Line: {line} of PO: {po} is in {status} status",
        field="lineNumber",
    )


def _quantity(status: Any, where: str, errors: list[dict[str, Any]]) -> int | None:
    sq = status.get("statusQuantity") if isinstance(status, dict) else None
    if not isinstance(sq, dict):
        errors.append(error_entry(INVALID_CONTENT, f"statusQuantity is required ({where})", field="statusQuantity"))
        return None
    uom = sq.get("unitOfMeasurement")
    if uom not in ("EACH", "EA"):
        errors.append(
            error_entry(
                INVALID_CONTENT,
                f"Invalid unitOfMeasurement {uom!r} ({where}); use EACH",
                field="unitOfMeasurement",
            )
        )
    amount = sq.get("amount")
    if not isinstance(amount, str) or not amount.strip().isdigit() or int(amount) <= 0:
        errors.append(
            error_entry(
                INVALID_CONTENT,
                f"statusQuantity.amount must be a positive whole number in a string, got {amount!r} ({where})",
                field="amount",
            )
        )
        return None
    return int(amount)


def _order_lines(body: Any, root: str) -> list[Any]:
    container = body.get(root) if isinstance(body, dict) else None
    lines = container.get("orderLines") if isinstance(container, dict) else None
    items = lines.get("orderLine") if isinstance(lines, dict) else None
    if not isinstance(items, list) or not items:
        raise WalmartError.invalid(f"{root}.orderLines.orderLine is required and must not be empty", root)
    return items


def _statuses(entry: dict[str, Any], where: str, errors: list[dict[str, Any]]) -> list[Any]:
    sts = entry.get("orderLineStatuses")
    lst = sts.get("orderLineStatus") if isinstance(sts, dict) else None
    if not isinstance(lst, list) or not lst:
        errors.append(
            error_entry(
                INVALID_CONTENT,
                f"orderLineStatuses.orderLineStatus is required ({where})",
                field="orderLineStatuses",
            )
        )
        return []
    return lst


def validate_ship(conn: sqlite3.Connection, po: str, body: Any) -> list[ShipItem]:
    """Check a ship request against the order; returns what to apply or raises :class:`WalmartError`."""
    order = conn.execute("SELECT * FROM w_orders WHERE po = ?", (po,)).fetchone()
    if order is None:
        raise not_found(f"Order with purchaseOrderId {po} not found")
    entries = _order_lines(body, "orderShipment")
    lines = _lines(conn, po)
    carriers = set(_carriers())
    methods = set(_method_codes())
    errors: list[dict[str, Any]] = []
    items: list[ShipItem] = []
    override: dict[str, bool] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            errors.append(error_entry(INVALID_CONTENT, "orderLine entries must be objects", field="orderLine"))
            continue
        ln = entry.get("lineNumber")
        if not isinstance(ln, str) or not ln.strip():
            errors.append(error_entry(INVALID_CONTENT, "lineNumber is required (a string)", field="lineNumber"))
            continue
        where = f"line number {ln}"
        seller_order_id = entry.get("sellerOrderId")
        if not isinstance(seller_order_id, str) or not seller_order_id.strip():
            errors.append(error_entry(INVALID_CONTENT, f"sellerOrderId is required ({where})", field="sellerOrderId"))
            seller_order_id = None
        elif len(seller_order_id) > 30:
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"sellerOrderId must be at most 30 characters, got {len(seller_order_id)} ({where})",
                    field="sellerOrderId",
                )
            )
        flag = entry.get("intentToCancelOverride", False)
        if not isinstance(flag, bool):
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"intentToCancelOverride must be a boolean ({where})",
                    field="intentToCancelOverride",
                )
            )
            flag = False
        override[ln] = override.get(ln, False) or flag
        for status in _statuses(entry, where, errors):
            if not isinstance(status, dict):
                errors.append(error_entry(INVALID_CONTENT, f"orderLineStatus must be an object ({where})"))
                continue
            if status.get("status") != "Shipped":
                errors.append(
                    error_entry(
                        INVALID_CONTENT,
                        f"Invalid status {status.get('status')!r} for a shipping update ({where}); use Shipped",
                        field="status",
                    )
                )
            qty = _quantity(status, where, errors)
            tracking = status.get("trackingInfo")
            if not isinstance(tracking, dict):
                errors.append(error_entry(INVALID_CONTENT, f"trackingInfo is required ({where})", field="trackingInfo"))
                continue
            item = _tracking(ln, tracking, order["method_code"], carriers, methods, where, errors)
            if item is None or qty is None:
                continue
            items.append(
                ShipItem(
                    line_number=ln,
                    qty=qty,
                    ship_date_time=item[0],
                    carrier=item[1],
                    other_carrier=item[2],
                    method_code=item[3],
                    tracking_number=item[4],
                    tracking_url=item[5],
                    seller_order_id=seller_order_id,
                )
            )
    if errors:
        raise WalmartError(400, errors)

    wanted: dict[str, int] = {}
    for it in items:
        wanted[it.line_number] = wanted.get(it.line_number, 0) + it.qty
    for ln, qty in wanted.items():
        line = lines.get(ln)
        if line is None:
            errors.append(
                error_entry(INVALID_CONTENT, f"Invalid lineNumber {ln} for purchaseOrderId {po}", field="lineNumber")
            )
            continue
        if line.open_qty == 0:
            errors.append(_status_error(po, ln, line.closed_status()))
            continue
        if line.qty("Acknowledged") == 0:
            errors.append(_status_error(po, ln, "CREATED"))
            continue
        if line.row["intent_to_cancel"] and not override.get(ln):
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"The customer has requested to cancel line number {ln} of PO {po}. Cancel the line, or send "
                    "intentToCancelOverride: true to ship it anyway",
                    field="intentToCancelOverride",
                )
            )
            continue
        if qty > line.qty("Acknowledged"):
            what = f"{line.qty('Acknowledged')} acknowledged"
            if line.qty("Created"):
                what += f", {line.qty('Created')} not yet acknowledged"
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"Invalid quantity {qty} for line number {ln}: only {what} (ordered "
                    f"{line.row['qty']}, shipped {line.qty('Shipped')}, cancelled {line.qty('Cancelled')})",
                    field="statusQuantity",
                )
            )
    if errors:
        raise WalmartError(400, errors)
    return items


def _tracking(
    ln: str,
    tracking: dict[str, Any],
    order_method: str,
    carriers: set[str],
    methods: set[str],
    where: str,
    errors: list[dict[str, Any]],
) -> tuple[int, str | None, str | None, str, str, str | None] | None:
    n_errors = len(errors)
    ship_dt = tracking.get("shipDateTime")
    if isinstance(ship_dt, bool) or not isinstance(ship_dt, int):
        errors.append(
            error_entry(
                INVALID_CONTENT,
                f"shipDateTime must be epoch milliseconds (an integer), got {ship_dt!r} ({where})",
                field="shipDateTime",
            )
        )
    elif ship_dt < 100_000_000_000 or ship_dt > 99_999_999_999_999:
        kind = "seconds" if ship_dt < 100_000_000_000 else "not milliseconds (ticks or microseconds?)"
        errors.append(
            error_entry(
                INVALID_CONTENT,
                f"Invalid shipDateTime {ship_dt} ({where}): looks like {kind}; send epoch milliseconds",
                field="shipDateTime",
            )
        )
    name = tracking.get("carrierName")
    carrier = other = None
    if not isinstance(name, dict):
        errors.append(error_entry(INVALID_CONTENT, f"carrierName is required ({where})", field="carrierName"))
    else:
        carrier, other = name.get("carrier"), name.get("otherCarrier")
        if carrier is not None and other is not None:
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"Send either carrierName.carrier or carrierName.otherCarrier, not both ({where})",
                    field="carrierName",
                )
            )
        elif carrier is None and other is None:
            errors.append(error_entry(INVALID_CONTENT, f"carrierName.carrier is required ({where})", field="carrier"))
        elif carrier is not None and (not isinstance(carrier, str) or carrier not in carriers):
            hint = [c for c in carriers if isinstance(carrier, str) and c.lower() == carrier.lower()]
            suffix = f"; did you mean '{hint[0]}'?" if hint else ""
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"Invalid carrier name {carrier!r} in line number {ln}{suffix}",
                    field="carrier",
                )
            )
        elif other is not None and (not isinstance(other, str) or not other.strip()):
            errors.append(
                error_entry(INVALID_CONTENT, f"otherCarrier must not be empty ({where})", field="otherCarrier")
            )
    url = tracking.get("trackingURL")
    if url is not None and not isinstance(url, str):
        errors.append(error_entry(INVALID_CONTENT, f"trackingURL must be a string ({where})", field="trackingURL"))
        url = None
    if other is not None and not (isinstance(url, str) and url.strip()):
        errors.append(
            error_entry(
                INVALID_CONTENT,
                f"trackingURL is required when otherCarrier is used in line number {ln}",
                field="trackingURL",
            )
        )
    method = tracking.get("methodCode")
    if method not in methods or method != order_method:
        errors.append(
            error_entry(INVALID_CONTENT, f"Method code is not supported in line number {ln}", field="methodCode")
        )
    number = tracking.get("trackingNumber")
    if not isinstance(number, str) or not number.strip():
        errors.append(error_entry(INVALID_CONTENT, f"trackingNumber is required ({where})", field="trackingNumber"))
    if len(errors) != n_errors:
        return None
    assert isinstance(ship_dt, int)
    assert isinstance(number, str)
    assert isinstance(method, str)
    return (
        ship_dt,
        carrier if isinstance(carrier, str) else None,
        other if isinstance(other, str) else None,
        method,
        number.strip(),
        url.strip() if isinstance(url, str) and url.strip() else None,
    )


def validate_cancel(conn: sqlite3.Connection, po: str, body: Any) -> list[CancelItem]:
    if conn.execute("SELECT 1 FROM w_orders WHERE po = ?", (po,)).fetchone() is None:
        raise not_found(f"Order with purchaseOrderId {po} not found")
    entries = _order_lines(body, "orderCancellation")
    lines = _lines(conn, po)
    reasons = set(_cancellation_reasons())
    errors: list[dict[str, Any]] = []
    items: list[CancelItem] = []
    for entry in entries:
        if not isinstance(entry, dict):
            errors.append(error_entry(INVALID_CONTENT, "orderLine entries must be objects", field="orderLine"))
            continue
        ln = entry.get("lineNumber")
        if not isinstance(ln, str) or not ln.strip():
            errors.append(error_entry(INVALID_CONTENT, "lineNumber is required (a string)", field="lineNumber"))
            continue
        where = f"line number {ln}"
        for status in _statuses(entry, where, errors):
            if not isinstance(status, dict):
                errors.append(error_entry(INVALID_CONTENT, f"orderLineStatus must be an object ({where})"))
                continue
            if status.get("status") != "Cancelled":
                errors.append(
                    error_entry(
                        INVALID_CONTENT,
                        f"Invalid status {status.get('status')!r} for a cancellation ({where}); use Cancelled",
                        field="status",
                    )
                )
            reason = status.get("cancellationReason")
            if reason not in reasons:
                errors.append(
                    error_entry(
                        INVALID_CONTENT,
                        f"Invalid cancellationReason {reason!r} in line number {ln}",
                        field="cancellationReason",
                    )
                )
            qty = _quantity(status, where, errors)
            if qty is not None and isinstance(reason, str) and reason in reasons:
                items.append(CancelItem(ln, qty, reason))
    if errors:
        raise WalmartError(400, errors)
    wanted: dict[str, int] = {}
    for it in items:
        wanted[it.line_number] = wanted.get(it.line_number, 0) + it.qty
    for ln, qty in wanted.items():
        line = lines.get(ln)
        if line is None:
            errors.append(
                error_entry(INVALID_CONTENT, f"Invalid lineNumber {ln} for purchaseOrderId {po}", field="lineNumber")
            )
            continue
        if line.open_qty == 0:
            errors.append(_status_error(po, ln, line.closed_status()))
            continue
        if qty > line.open_qty:
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"Invalid quantity {qty} for line number {ln}: only {line.open_qty} can be cancelled "
                    f"(shipped {line.qty('Shipped')}, already cancelled {line.qty('Cancelled')}); "
                    "shipped quantities can only be refunded",
                    field="statusQuantity",
                )
            )
    if errors:
        raise WalmartError(400, errors)
    return items


def _take(conn: sqlite3.Connection, po: str, ln: str, statuses: tuple[str, ...], qty: int) -> None:
    left = qty
    for status in statuses:
        for r in conn.execute(
            "SELECT id, qty FROM w_status WHERE po = ? AND line_number = ? AND status = ? AND qty > 0 ORDER BY id",
            (po, ln, status),
        ).fetchall():
            if left <= 0:
                return
            used = min(left, int(r["qty"]))
            if used == int(r["qty"]):
                conn.execute("DELETE FROM w_status WHERE id = ?", (r["id"],))
            else:
                conn.execute("UPDATE w_status SET qty = qty - ? WHERE id = ?", (used, r["id"]))
            left -= used
    if left > 0:  # pragma: no cover - callers validate first
        raise AssertionError(f"not enough open quantity on line {ln} of {po}")


def _touch(conn: sqlite3.Connection, po: str, lines: set[str], now_ms: int) -> None:
    conn.execute("UPDATE w_orders SET last_modified = ? WHERE po = ?", (now_ms, po))
    for ln in lines:
        conn.execute("UPDATE w_lines SET status_date = ? WHERE po = ? AND line_number = ?", (now_ms, po, ln))


def acknowledge(conn: sqlite3.Connection, po: str, now_ms: int) -> None:
    created = conn.execute(
        "SELECT DISTINCT line_number FROM w_status WHERE po = ? AND status = 'Created'", (po,)
    ).fetchall()
    if not created:
        return
    conn.execute("UPDATE w_status SET status = 'Acknowledged' WHERE po = ? AND status = 'Created'", (po,))
    _touch(conn, po, {r["line_number"] for r in created}, now_ms)


def apply_ship(conn: sqlite3.Connection, po: str, items: list[ShipItem], now_ms: int, *, source: str) -> None:
    for it in items:
        _take(conn, po, it.line_number, ("Acknowledged",), it.qty)
        conn.execute(
            "INSERT INTO w_status (po, line_number, status, qty, ship_date_time, carrier, other_carrier, "
            "method_code, tracking_number, tracking_url, source) VALUES (?, ?, 'Shipped', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                po,
                it.line_number,
                it.qty,
                it.ship_date_time,
                it.carrier,
                it.other_carrier,
                it.method_code,
                it.tracking_number,
                it.tracking_url,
                source,
            ),
        )
        if it.seller_order_id:
            conn.execute(
                "UPDATE w_lines SET seller_order_id = ? WHERE po = ? AND line_number = ?",
                (it.seller_order_id, po, it.line_number),
            )
    _touch(conn, po, {it.line_number for it in items}, now_ms)


def apply_cancel(conn: sqlite3.Connection, po: str, items: list[CancelItem], now_ms: int, *, source: str) -> None:
    for it in items:
        _take(conn, po, it.line_number, ("Created", "Acknowledged"), it.qty)
        conn.execute(
            "INSERT INTO w_status (po, line_number, status, qty, reason, source) VALUES (?, ?, 'Cancelled', ?, ?, ?)",
            (po, it.line_number, it.qty, it.reason, source),
        )
    _touch(conn, po, {it.line_number for it in items}, now_ms)
