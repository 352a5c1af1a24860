"""Which handler answers a request: paths, methods and the token check."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from wmsync.sandbox.common import Ctx, ParsedRequest, Reply, json_body
from wmsync.sandbox.walmart.auth import (
    _rate_limit,
    _require_headers,
    _require_token,
    _token,
    _token_detail,
    require_basic_on_orders,
)
from wmsync.sandbox.walmart.base import GATEWAY
from wmsync.sandbox.walmart.errors import WalmartError, not_found
from wmsync.sandbox.walmart.reads import _list, render_orders
from wmsync.sandbox.walmart.writes import (
    acknowledge,
    apply_cancel,
    apply_ship,
    apply_tracking_update,
    is_tracking_update,
    validate_cancel,
    validate_ship,
    validate_tracking_update,
)

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
    if path == "/v3/returns":
        return ("walmart.returns", {}) if method == "GET" else ("walmart.unknown", {})
    rm = re.match(r"^/v3/returns/([^/]+)/refund$", path)
    if rm and method == "POST":
        return "walmart.return_refund", {"return_id": rm.group(1)}
    m = _PO_PATH.match(path)
    if m:
        po, action = m.group(1), m.group(2)
        if action is None and method == "GET":
            return "walmart.get", {"po": po}
        if action in ("acknowledge", "shipping", "cancel", "refund") and method == "POST":
            op = {"acknowledge": "walmart.acknowledge", "shipping": "walmart.ship", "cancel": "walmart.cancel",
                  "refund": "walmart.refund"}
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
        if req.path.startswith("/v3/orders"):
            require_basic_on_orders(ctx, req)
        if req.method == "POST" and not _json_content_type(req):
            # Walmart's gateway answers 500/520 SYSTEM_ERROR.GMP_GATEWAY_API to an order POST without
            # Content-Type: application/json, even a bodiless acknowledge (partnerapi_sdk_dotnet#11, #16).
            raise WalmartError.one(
                520,
                f"SYSTEM_ERROR.{GATEWAY}",
                "System encountered some internal error.",
                info="System encountered some internal error.",
                category="SYSTEM",
            )
        quota = _rate_limit(ctx, operation)
        reply = _dispatch(ctx, req, operation, params)
        reply.headers.update(quota)
        return reply
    except WalmartError as exc:
        return exc.reply()


def _json_content_type(req: ParsedRequest) -> bool:
    value = next((v for k, v in req.headers.items() if k.lower() == "content-type"), "")
    return value.split(";", 1)[0].strip().lower() == "application/json"


def _dispatch(ctx: Ctx, req: ParsedRequest, operation: str, params: dict[str, str]) -> Reply:
    if operation == "walmart.list":
        return _list(ctx, req)
    if operation == "walmart.returns":
        from wmsync.sandbox.walmart import returns

        return Reply(200, returns.list_returns(ctx.conn, dict(req.query)))
    if operation == "walmart.return_refund":
        from wmsync.sandbox.walmart import returns

        return Reply(200, returns.issue_refund(ctx.conn, params["return_id"], _body(req), ctx.now_ms))
    po = params["po"]
    if operation == "walmart.get":
        return Reply(200, {"order": _one(ctx.conn, po)})
    if operation == "walmart.acknowledge":
        _one(ctx.conn, po)
        acknowledge(ctx.conn, po, ctx.now_ms)
        return Reply(200, {"order": _one(ctx.conn, po)})
    if operation == "walmart.ship":
        _one(ctx.conn, po)
        body = _body(req)
        if is_tracking_update(body):
            updates = validate_tracking_update(ctx.conn, po, body, ctx.now_ms, ctx.settings.tracking_update_window_s)
            apply_tracking_update(ctx.conn, po, updates, ctx.now_ms)
            return Reply(200, {"order": _one(ctx.conn, po)})
        items = validate_ship(ctx.conn, po, body)
        apply_ship(ctx.conn, po, items, ctx.now_ms, source="api")
        return Reply(200, {"order": _one(ctx.conn, po)})
    if operation == "walmart.refund":
        from wmsync.sandbox.walmart import refunds

        _one(ctx.conn, po)
        refunds.validate_and_apply(ctx.conn, po, _body(req), ctx.now_ms)
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
