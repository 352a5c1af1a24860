"""The token endpoints: /v3/token and /v3/token/detail."""

from __future__ import annotations

import base64
import binascii
import secrets
import sqlite3

from wmsync.sandbox.common import Ctx, ParsedRequest, Reply, take_token, throttle_headers
from wmsync.sandbox.constants import CREDENTIALS
from wmsync.sandbox.walmart.base import GATEWAY
from wmsync.sandbox.walmart.errors import WalmartError, error_entry, throttled


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


def _basic_client(req: ParsedRequest) -> str | None:
    """The client id of a valid ``Authorization: Basic`` header, else None."""
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
        return None
    return client_id


def require_basic_on_orders(ctx: Ctx, req: ParsedRequest) -> None:
    """The orders spec's global security is ``basicScheme``: an order call carries ``Authorization: Basic``
    (client id and secret) beside the access token. A wrong one is always refused; a missing one only with the
    setting ``orders_basic_auth`` (whether Walmart enforces it is not confirmed)."""
    if "Authorization" not in req.headers and not ctx.settings.orders_basic_auth:
        return
    if _basic_client(req) is None:
        raise _unauthorized()


def _token(ctx: Ctx, req: ParsedRequest) -> Reply:
    client_id = _basic_client(req)
    if client_id is None:
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
    """One token bucket per endpoint, each with its own limit (as Walmart's gateway counts them)."""
    if operation in ("walmart.ship", "walmart.cancel", "walmart.refund"):
        rate = ctx.settings.ship_rate_per_min
    elif operation in ("walmart.list", "walmart.get"):
        rate = ctx.settings.read_rate_per_min
    elif operation == "walmart.acknowledge":
        rate = ctx.settings.acknowledge_rate_per_min
    else:
        return {}
    if rate is None:
        return {}
    allowed, tokens, wait = take_token(ctx.conn, operation, rate, ctx.now,
                                       burst_seconds=ctx.settings.rate_burst_seconds)
    if not allowed:
        raise throttled(throttle_headers(tokens, wait, ctx.now, retry=True))
    return throttle_headers(tokens, wait, ctx.now, retry=False)
