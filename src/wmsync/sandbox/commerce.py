"""The simulated Adobe Commerce (Magento 2.4) admin REST API: orders, comments, ship, cancel, shipments.

Paths: ``/rest/V1/...``, ``/rest/<store>/V1/...`` (``default`` and ``all``). Errors are Magento's
``{"message": "... %1 ...", "parameters": [...]}`` with Magento's own wording.

Behaviour copied from Magento (each tested in ``tests/sandbox``):

* auth: ``Authorization: Bearer <integration token>`` (unless ``commerce_bearer`` is off) or OAuth 1.0a
  (HMAC-SHA256 or HMAC-SHA1) signed over the real method, URL and query; anything else is 401
  "The consumer isn't authorized to access %resources.";
* ``GET /V1/orders`` needs ``searchCriteria``; filters in one group are OR-ed, groups AND-ed; both
  ``filter_groups``/``filterGroups`` and ``condition_type``/``conditionType`` spellings work; a
  ``currentPage`` past the last page returns the **last page again** (Magento's collection quirk), so a
  client must stop at ``total_count``; an unknown field gives Magento's masked 500 "Internal Error";
* ``POST /V1/order/{id}/ship`` follows ``ShipOrder``: the requested quantity is **clamped** to what is left
  (ordered − shipped − refunded − canceled), items with nothing left are dropped, a configurable's child item
  is not shippable by itself (ship the parent; a child alone gives "You can't create a shipment without
  products."), holded / payment_review / canceled orders are refused, and the messages are joined under
  "Shipment Document Validation Error(s):". Success answers the shipment id as a JSON string (``"12"``).
  Only the parent's counters move: the child of a configurable keeps ``qty_shipped`` 0, as in Magento;
* ``POST /V1/orders/{id}/cancel`` answers a bare ``true``/``false`` following ``Order::canCancel()``.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from types import SimpleNamespace
from typing import Any

from wmsync.sandbox.common import Ctx, ParsedRequest, Reply, json_body, magento_time
from wmsync.sandbox.constants import CREDENTIALS

__all__ = [
    "MagentoError",
    "handle",
    "render_orders",
    "render_shipments",
    "route",
    "ship_order",
]

NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."
UNAUTHORIZED = "The consumer isn't authorized to access %resources."
KNOWN_STORES = ("default", "all")

ACL = {
    "commerce.list_orders": "Magento_Sales::actions_view",
    "commerce.get_order": "Magento_Sales::actions_view",
    "commerce.get_comments": "Magento_Sales::actions_view",
    "commerce.add_comment": "Magento_Sales::comment",
    "commerce.ship": "Magento_Sales::ship",
    "commerce.cancel": "Magento_Sales::cancel",
    "commerce.hold": "Magento_Sales::hold",
    "commerce.unhold": "Magento_Sales::unhold",
    "commerce.list_shipments": "Magento_Sales::shipment",
    "commerce.get_shipment": "Magento_Sales::shipment",
}

# Columns a searchCriteria filter or sort may name, with the SQL expression behind them.
ORDER_FIELDS: dict[str, str] = {
    name: name
    for name in (
        "entity_id",
        "increment_id",
        "ext_order_id",
        "state",
        "status",
        "created_at",
        "updated_at",
        "customer_email",
        "customer_firstname",
        "customer_lastname",
        "customer_is_guest",
        "grand_total",
        "subtotal",
        "shipping_amount",
        "tax_amount",
        "total_paid",
        "total_invoiced",
        "total_qty_ordered",
        "order_currency_code",
        "store_id",
        "shipping_description",
        "shipping_method",
        "hold_before_state",
        "hold_before_status",
    )
}
ORDER_FIELDS.update(
    {
        "base_grand_total": "grand_total",
        "base_subtotal": "subtotal",
        "base_shipping_amount": "shipping_amount",
        "base_tax_amount": "tax_amount",
        "base_total_paid": "total_paid",
        "base_total_invoiced": "total_invoiced",
        "base_currency_code": "order_currency_code",
        "global_currency_code": "order_currency_code",
        "store_currency_code": "order_currency_code",
    }
)
SHIPMENT_FIELDS: dict[str, str] = {
    name: name
    for name in (
        "entity_id",
        "increment_id",
        "order_id",
        "total_qty",
        "created_at",
        "updated_at",
        "store_id",
        "email_sent",
    )
}


class MagentoError(Exception):
    def __init__(self, status: int, message: str, parameters: list[Any] | dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters

    def reply(self) -> Reply:
        body: dict[str, Any] = {"message": self.message}
        if self.parameters is not None:
            body["parameters"] = self.parameters
        return Reply(self.status, body)


def internal_error() -> MagentoError:
    report = secrets.token_hex(6)
    return MagentoError(500, f"Internal Error. Details are available in Magento log file. Report ID: webapi-{report}")


def required(field: str) -> MagentoError:
    return MagentoError(400, '"%fieldName" is required. Enter and try again.', {"fieldName": field})


# --------------------------------------------------------------------------------------------------- routing

_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"^/V1/orders$"), "commerce.list_orders"),
    ("GET", re.compile(r"^/V1/orders/(?P<id>[^/]+)$"), "commerce.get_order"),
    ("GET", re.compile(r"^/V1/orders/(?P<id>[^/]+)/comments$"), "commerce.get_comments"),
    ("POST", re.compile(r"^/V1/orders/(?P<id>[^/]+)/comments$"), "commerce.add_comment"),
    ("POST", re.compile(r"^/V1/order/(?P<id>[^/]+)/ship$"), "commerce.ship"),
    ("POST", re.compile(r"^/V1/orders/(?P<id>[^/]+)/cancel$"), "commerce.cancel"),
    ("POST", re.compile(r"^/V1/orders/(?P<id>[^/]+)/hold$"), "commerce.hold"),
    ("POST", re.compile(r"^/V1/orders/(?P<id>[^/]+)/unhold$"), "commerce.unhold"),
    ("GET", re.compile(r"^/V1/shipments$"), "commerce.list_shipments"),
    ("GET", re.compile(r"^/V1/shipment/(?P<id>[^/]+)$"), "commerce.get_shipment"),
]

_REST = re.compile(r"^/rest(?:/(?P<store>[A-Za-z0-9_]+))?(?P<rest>/V1/.*)$")


def route(method: str, path: str) -> tuple[str, dict[str, str]]:
    m = _REST.match(path.rstrip("/"))
    if not m:
        return "commerce.unknown", {}
    store = m.group("store")
    if store is not None and store not in KNOWN_STORES:
        return "commerce.bad_store", {"store": store}
    rest = m.group("rest")
    for verb, pattern, name in _ROUTES:
        pm = pattern.match(rest)
        if pm and verb == method:
            return name, dict(pm.groupdict())
    return "commerce.unknown", {}


def handle(ctx: Ctx, req: ParsedRequest, operation: str, params: dict[str, str]) -> Reply:
    try:
        if operation == "commerce.bad_store":
            raise MagentoError(400, "Requested store is not found")
        if operation == "commerce.unknown":
            raise MagentoError(404, "Request does not match any route.")
        if not _authorized(ctx, req):
            raise MagentoError(401, UNAUTHORIZED, {"resources": ACL[operation]})
        return _dispatch(ctx, req, operation, params)
    except MagentoError as exc:
        return exc.reply()


def _dispatch(ctx: Ctx, req: ParsedRequest, operation: str, params: dict[str, str]) -> Reply:
    if operation == "commerce.list_orders":
        return Reply(200, _list(ctx, req, "c_orders", ORDER_FIELDS, _render_order_page))
    if operation == "commerce.list_shipments":
        return Reply(200, _list(ctx, req, "c_shipments", SHIPMENT_FIELDS, render_shipments))
    ident = _int_param(params["id"], "id" if operation != "commerce.ship" else "orderId")
    if operation == "commerce.get_shipment":
        shipments = render_shipments(ctx.conn, [ident])
        if not shipments:
            raise MagentoError(404, NOT_FOUND)
        return Reply(200, shipments[0])
    if operation == "commerce.get_comments":
        items = [render_history(r) for r in _histories(ctx.conn, ident, newest_first=False)]
        criteria = {
            "filter_groups": [{"filters": [{"field": "parent_id", "value": str(ident), "condition_type": "eq"}]}]
        }
        return Reply(200, {"items": items, "search_criteria": criteria, "total_count": len(items)})
    order = _order_row(ctx.conn, ident)
    if operation == "commerce.get_order":
        return Reply(200, render_orders(ctx.conn, [order])[0])
    if operation == "commerce.add_comment":
        return Reply(200, _add_comment(ctx, order, _json(req)))
    if operation == "commerce.ship":
        shipment_id = ship_order(ctx, order, _json(req, allow_empty=True))
        return Reply(200, str(shipment_id) if ctx.settings.ship_id_as_string else shipment_id)
    if operation == "commerce.cancel":
        return Reply(200, cancel_order(ctx, order))
    if operation == "commerce.hold":
        return Reply(200, _hold(ctx, order))
    if operation == "commerce.unhold":
        return Reply(200, _unhold(ctx, order))
    raise AssertionError(operation)  # pragma: no cover


def _int_param(value: str, name: str) -> int:
    if not re.fullmatch(r"-?\d+", value):
        raise MagentoError(
            400,
            'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.',
            {"value": value, "type": "int", "fieldName": name},
        )
    return int(value)


def _json(req: ParsedRequest, *, allow_empty: bool = False) -> Any:
    if allow_empty and not req.body.strip():
        return {}
    try:
        return json_body(req.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MagentoError(400, "Decoding error: \nSyntax error") from exc


def _order_row(conn: sqlite3.Connection, entity_id: int) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute("SELECT * FROM c_orders WHERE entity_id = ?", (entity_id,)).fetchone()
    if row is None:
        raise MagentoError(404, NOT_FOUND)
    return row


# --------------------------------------------------------------------------------------------------- auth


def _authorized(ctx: Ctx, req: ParsedRequest) -> bool:
    auth = req.headers.get("Authorization", "").strip()
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer":
        return ctx.settings.commerce_bearer and secrets.compare_digest(
            value.strip().encode(), CREDENTIALS["COMMERCE_TOKEN"].encode()
        )
    if scheme.lower() == "oauth":
        return _oauth_valid(ctx, req)
    return False


def _oauth_valid(ctx: Ctx, req: ParsedRequest) -> bool:
    from oauthlib.oauth1.rfc5849 import signature as oauth_signature

    signature: Any = oauth_signature  # the type stubs are narrower than the library

    content_type = req.headers.get("Content-Type", "")
    body: str | None = None
    if "application/x-www-form-urlencoded" in content_type and req.body:
        body = req.body.decode("utf-8", "replace")
    try:
        params = signature.collect_parameters(
            # Magento reads the query with rawurldecode: a '+' stays a literal plus (not a space) when it
            # rebuilds the signature base string; do the same, so a client sending '+' for spaces fails here too
            uri_query=req.raw_query.replace("+", "%2B"),
            body=body,
            headers={"Authorization": req.headers["Authorization"]},
            exclude_oauth_signature=False,
        )
    except (ValueError, TypeError):
        return False
    oauth = {k: v for k, v in params if k.startswith("oauth_")}
    if oauth.get("oauth_consumer_key") != CREDENTIALS["COMMERCE_CONSUMER_KEY"]:
        return False
    if oauth.get("oauth_token") != CREDENTIALS["COMMERCE_ACCESS_TOKEN"]:
        return False
    if oauth.get("oauth_version", "1.0") != "1.0" or not oauth.get("oauth_nonce") or not oauth.get("oauth_timestamp"):
        return False
    method = oauth.get("oauth_signature_method")
    sign = {
        "HMAC-SHA256": signature.sign_hmac_sha256_with_client,
        "HMAC-SHA1": signature.sign_hmac_sha1_with_client,
    }.get(method or "")
    given = oauth.get("oauth_signature")
    if sign is None or not given:
        return False
    secrets_holder = SimpleNamespace(
        client_secret=CREDENTIALS["COMMERCE_CONSUMER_SECRET"],
        resource_owner_secret=CREDENTIALS["COMMERCE_ACCESS_TOKEN_SECRET"],
    )
    normalized = signature.normalize_parameters([(k, v) for k, v in params if k != "oauth_signature"])
    for url in _candidate_urls(req, ctx.settings.oauth_base_urls):
        base = signature.signature_base_string(req.method, signature.base_string_uri(url), normalized)
        expected = sign(base, secrets_holder)
        if secrets.compare_digest(str(expected).encode(), given.encode()):
            return True
    return False


def _candidate_urls(req: ParsedRequest, extra_bases: tuple[str, ...]) -> list[str]:
    """The URLs the client may have signed: the one received; the one a proxy in front received, when the proxy
    says so (``Forwarded: host=...``, ``X-Forwarded-Host``); and the path under each ``oauth_base_urls``
    setting (Stoplight Prism rewrites Host and forwards nothing, so tests behind it name its URL there)."""
    urls = [req.url]
    urls += [base.rstrip("/") + req.path for base in extra_bases]
    scheme = req.url.split("://", 1)[0]
    forwarded: dict[str, str] = {}
    for part in req.headers.get("Forwarded", "").split(",")[0].split(";"):
        key, _, value = part.strip().partition("=")
        if key and value:
            forwarded[key.lower()] = value.strip().strip('"')
    host = forwarded.get("host") or req.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
    if host:
        proto = forwarded.get("proto") or req.headers.get("X-Forwarded-Proto", "").split(",")[0].strip()
        for p in [proto] if proto else [scheme, "https" if scheme == "http" else "http"]:
            urls.append(f"{p}://{host}{req.path}")
    return urls


# --------------------------------------------------------------------------------------------------- search

_CAMEL = {
    "filterGroups": "filter_groups",
    "conditionType": "condition_type",
    "sortOrders": "sort_orders",
    "pageSize": "page_size",
    "currentPage": "current_page",
}


def parse_search_criteria(query: list[tuple[str, str]]) -> dict[str, Any] | None:
    """``searchCriteria[...]`` query parameters as a dict in Magento's output shape (None if absent)."""
    tree: dict[str, Any] = {}
    present = False
    for key, value in query:
        parts = re.findall(r"[^\[\]]+", key)
        if not parts or parts[0] != "searchCriteria":
            continue
        present = True
        node: Any = tree
        for part in parts[1:-1]:
            nxt = node.setdefault(_CAMEL.get(part, part), {})
            if not isinstance(nxt, dict):
                break
            node = nxt
        else:
            if len(parts) > 1 and isinstance(node, dict):
                node[_CAMEL.get(parts[-1], parts[-1])] = value
    if not present:
        return None

    def indexed(node: Any) -> list[Any]:
        if not isinstance(node, dict):
            return []
        keys = sorted((k for k in node if str(k).isdigit()), key=int)
        return [node[k] for k in keys]

    out: dict[str, Any] = {"filter_groups": []}
    for group in indexed(tree.get("filter_groups")):
        filters = []
        for f in indexed(group.get("filters") if isinstance(group, dict) else None):
            if not isinstance(f, dict):
                continue
            entry: dict[str, Any] = {"field": f.get("field", ""), "value": f.get("value", "")}
            if "condition_type" in f:
                entry["condition_type"] = f["condition_type"]
            filters.append(entry)
        out["filter_groups"].append({"filters": filters})
    sorts = []
    for s in indexed(tree.get("sort_orders")):
        if isinstance(s, dict):
            sorts.append({"field": s.get("field", ""), "direction": s.get("direction", "ASC")})
    if sorts:
        out["sort_orders"] = sorts
    for name in ("page_size", "current_page"):
        if name in tree:
            raw = tree[name]
            if not isinstance(raw, str) or not re.fullmatch(r"-?\d+", raw.strip()):
                raise MagentoError(
                    400,
                    'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.',
                    {"value": str(raw), "type": "int", "fieldName": name},
                )
            out[name] = int(raw)
    return out


def _condition(column: str, ctype: str, value: str) -> tuple[str, list[Any]]:
    simple = {
        "eq": "=",
        "neq": "!=",
        "gt": ">",
        "lt": "<",
        "gteq": ">=",
        "lteq": "<=",
        "moreq": ">=",
        "from": ">=",
        "to": "<=",
    }
    if ctype in simple:
        return f"{column} {simple[ctype]} ?", [value]
    if ctype == "like":
        return f"{column} LIKE ?", [value]
    if ctype == "nlike":
        return f"{column} NOT LIKE ?", [value]
    if ctype in ("in", "nin"):
        values = [v.strip() for v in str(value).split(",")]
        marks = ",".join("?" * len(values))
        return f"{column} {'NOT IN' if ctype == 'nin' else 'IN'} ({marks})", values
    if ctype == "null":
        return f"{column} IS NULL", []
    if ctype == "notnull":
        return f"{column} IS NOT NULL", []
    if ctype == "finset":
        return f"(',' || {column} || ',') LIKE ('%,' || ? || ',%')", [value]
    raise MagentoError(
        400,
        'Invalid value of "%value" provided for the %fieldName field.',
        {"value": ctype, "fieldName": "condition_type"},
    )


def _list(
    ctx: Ctx,
    req: ParsedRequest,
    table: str,
    fields: dict[str, str],
    render: Any,
) -> dict[str, Any]:
    criteria = parse_search_criteria(req.query)
    if criteria is None:
        raise required("searchCriteria")
    where: list[str] = []
    args: list[Any] = []
    for group in criteria["filter_groups"]:
        ors = []
        for f in group["filters"]:
            column = fields.get(str(f["field"]))
            if column is None:
                raise internal_error()  # Magento: an SQL error on an unknown column, masked as a 500
            sql, a = _condition(column, str(f.get("condition_type", "eq")).lower(), str(f["value"]))
            ors.append(sql)
            args.extend(a)
        if ors:
            where.append("(" + " OR ".join(ors) + ")")
    clause = " AND ".join(where) if where else "1 = 1"
    total = int(ctx.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {clause}", args).fetchone()[0])
    order_by = []
    for s in criteria.get("sort_orders", []):
        column = fields.get(str(s["field"]))
        if column is None:
            raise internal_error()
        direction = "DESC" if str(s["direction"]).upper() == "DESC" else "ASC"
        order_by.append(f"{column} {direction}")
    order_by.append("entity_id ASC")
    sql = f"SELECT * FROM {table} WHERE {clause} ORDER BY {', '.join(order_by)}"
    page_size = criteria.get("page_size")
    if page_size:
        last_page = max(1, -(-total // page_size))
        page = criteria.get("current_page", 1)
        page = min(max(page, 1), last_page)  # Magento returns the last page for any page past it
        sql += f" LIMIT {int(page_size)} OFFSET {(page - 1) * int(page_size)}"
    rows = ctx.conn.execute(sql, args).fetchall()
    if table == "c_shipments":
        items = render(ctx.conn, [r["entity_id"] for r in rows])
    else:
        items = render(ctx.conn, rows)
    return {"items": items, "search_criteria": criteria, "total_count": total}


# --------------------------------------------------------------------------------------------------- render


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


# --------------------------------------------------------------------------------------------------- writes


def _items(conn: sqlite3.Connection, order_id: int) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM c_items WHERE order_id = ? ORDER BY item_id", (order_id,)).fetchall()


def qty_to_ship(row: sqlite3.Row) -> float:
    if row["parent_item_id"] is not None:  # a configurable's child is a "dummy" item: it never ships itself
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
    else:
        requested = {int(r["item_id"]): float(r["qty_ordered"]) for r in rows if r["parent_item_id"] is None}

    to_ship: list[tuple[sqlite3.Row, float]] = []
    for r in rows:
        left = qty_to_ship(r)
        q = requested.get(int(r["item_id"]), 0.0)
        if left <= 0 or q <= 0:
            continue
        to_ship.append((r, float(int(min(q, left)))))
    total = sum(q for _, q in to_ship)

    messages: list[str] = []
    if order["state"] in ("payment_review", "holded", "canceled"):
        messages.append(f"A shipment cannot be created when an order has a status of {order['status']}")
    elif not any(qty_to_ship(r) > 0 for r in rows):
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
    state = order["state"]
    if state == "new":
        state = "processing"
    if (
        state == "processing"
        and not any(qty_to_ship(r) > 0 for r in rows)
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
