"""Which handler answers a request: /rest/<store>/V1 paths and methods."""

from __future__ import annotations

import re
from typing import Any

from wmsync.sandbox.commerce import inventory, tracks
from wmsync.sandbox.commerce.auth import _authorized
from wmsync.sandbox.commerce.base import (
    ACL,
    KNOWN_STORES,
    NOT_FOUND,
    ORDER_FIELDS,
    SHIPMENT_FIELDS,
    UNAUTHORIZED,
    MagentoError,
    _order_row,
)
from wmsync.sandbox.commerce.render import (
    _histories,
    _render_order_page,
    render_history,
    render_orders,
    render_shipments,
)
from wmsync.sandbox.commerce.search import _list
from wmsync.sandbox.commerce.writes import _add_comment, _hold, _unhold, cancel_order, ship_order
from wmsync.sandbox.common import Ctx, ParsedRequest, Reply, json_body

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
    ("GET", re.compile(r"^/V1/products/(?P<sku>[^/]+)$"), "commerce.get_product"),
    ("POST", re.compile(r"^/V1/shipment/track$"), "commerce.add_track"),
    ("POST", re.compile(r"^/V1/order/(?P<id>[^/]+)/refund$"), "commerce.refund"),
    ("DELETE", re.compile(r"^/V1/shipment/track/(?P<id>[^/]+)$"), "commerce.delete_track"),
    ("GET", re.compile(r"^/V1/inventory/sources$"), "commerce.list_sources"),
    ("GET", re.compile(r"^/V1/inventory/source-items$"), "commerce.list_source_items"),
    ("POST", re.compile(r"^/V1/inventory/source-selection-algorithm-result$"), "commerce.select_sources"),
]

#: the Multi-Source Inventory endpoints: absent unless the sandbox runs MSI (setting ``msi``)
_MSI = frozenset({"commerce.list_sources", "commerce.list_source_items", "commerce.select_sources"})

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
        if operation == "commerce.unknown" or (operation in _MSI and not ctx.settings.msi):
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
    if operation == "commerce.get_product":
        return Reply(200, _product(ctx, params["sku"]))
    if operation == "commerce.add_track":
        return Reply(200, tracks.add_track(ctx, _json(req)))
    if operation == "commerce.refund":
        return Reply(200, tracks.refund_order(ctx, _int_param(params["id"], "orderId"), _json(req)))
    if operation == "commerce.delete_track":
        return Reply(200, tracks.delete_track(ctx, _int_param(params["id"], "id")))
    if operation == "commerce.list_sources":
        return Reply(200, inventory.list_sources(ctx))
    if operation == "commerce.list_source_items":
        return Reply(200, inventory.list_source_items(ctx, req))
    if operation == "commerce.select_sources":
        return Reply(200, inventory.select_sources(ctx, _json(req)))
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


def _product(ctx: Ctx, raw_sku: str) -> dict[str, object]:
    """``GET /V1/products/{sku}``: the parts wmsync reads. A bundle carries its "Ship Bundle Items" setting as
    the custom attribute ``shipment_type`` ("0" together, "1" separately)."""
    from urllib.parse import unquote

    sku = unquote(raw_sku)
    row = ctx.conn.execute("SELECT * FROM c_products WHERE sku = ?", (sku,)).fetchone()
    if row is None:
        item = ctx.conn.execute(
            "SELECT sku, product_type, product_id, name FROM c_items WHERE sku = ? LIMIT 1", (sku,)
        ).fetchone()
        if item is None:
            raise MagentoError(
                404, "The product that was requested doesn't exist. Verify the product and try again."
            )
        return {"sku": sku, "type_id": item["product_type"], "custom_attributes": []}
    return {
        "sku": sku,
        "type_id": row["type_id"],
        "custom_attributes": [{"attribute_code": "shipment_type", "value": row["shipment_type"]}],
    }


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
