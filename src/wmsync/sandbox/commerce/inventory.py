"""Multi-Source Inventory: the inventory endpoints wmsync uses, and the source check of a shipment.

Served only with the setting ``msi``; without it they are absent (Magento without MSI: "Request does not match
any route.", 404). Behaviour from magento/inventory (docs/real-services.md, "Multi-Source Inventory")."""

from __future__ import annotations

import sqlite3
from typing import Any

from wmsync.sandbox.commerce.base import MagentoError
from wmsync.sandbox.commerce.search import parse_search_criteria
from wmsync.sandbox.common import Ctx, ParsedRequest

NOT_AVAILABLE = "Not all of your products are available in the requested quantity."


def _sources(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM c_sources ORDER BY priority, source_code").fetchall()


def list_sources(ctx: Ctx) -> dict[str, Any]:
    items = [{"source_code": r["source_code"], "name": r["name"], "enabled": bool(r["enabled"])}
             for r in _sources(ctx.conn)]
    return {"items": items, "search_criteria": {"filter_groups": []}, "total_count": len(items)}


def list_source_items(ctx: Ctx, req: ParsedRequest) -> dict[str, Any]:
    criteria = parse_search_criteria(req.query) or {"filter_groups": []}
    where, args = [], []
    for group in criteria.get("filter_groups", []):
        ors = []
        for f in group.get("filters", []):
            field = str(f.get("field"))
            if field not in ("sku", "source_code", "status"):
                raise MagentoError(500, "Internal Error. Details are available in Magento log file.")
            cond = str(f.get("condition_type", "eq")).lower()
            if cond == "in":
                values = [v for v in str(f.get("value", "")).split(",") if v != ""]
                ors.append(f"{field} IN ({','.join('?' * len(values)) or 'NULL'})")
                args.extend(values)
            else:
                ors.append(f"{field} = ?")
                args.append(str(f.get("value", "")))
        if ors:
            where.append("(" + " OR ".join(ors) + ")")
    sql = "SELECT * FROM c_source_items" + (" WHERE " + " AND ".join(where) if where else "")
    rows = ctx.conn.execute(sql + " ORDER BY sku, source_code", args).fetchall()
    items = [{"sku": r["sku"], "source_code": r["source_code"], "quantity": r["quantity"], "status": r["status"]}
             for r in rows]
    return {"items": items, "search_criteria": criteria, "total_count": len(items)}


def select_sources(ctx: Ctx, body: Any) -> dict[str, Any]:
    """``priority`` source selection: each SKU from the sources in priority order, as much as each holds."""
    request = body.get("inventoryRequest") if isinstance(body, dict) else None
    if not isinstance(request, dict) or not isinstance(request.get("items"), list):
        raise MagentoError(400, '"%fieldName" is required. Enter and try again.', {"fieldName": "inventoryRequest"})
    sources = [r for r in _sources(ctx.conn) if r["enabled"]]
    selected: list[dict[str, Any]] = []
    shippable = True
    for item in request["items"]:
        sku, qty = str(item.get("sku")), float(item.get("qty") or 0)
        left = qty
        for src in sources:
            row = ctx.conn.execute(
                "SELECT quantity, status FROM c_source_items WHERE sku = ? AND source_code = ?",
                (sku, src["source_code"]),
            ).fetchone()
            available = float(row["quantity"]) if row is not None and row["status"] else 0.0
            take = min(left, available)
            if row is not None:
                selected.append({"source_code": src["source_code"], "sku": sku, "qty_to_deduct": take,
                                 "qty_available": available})
            left -= take
        if left > 0:
            shippable = False
    return {"source_selection_items": selected, "shippable": shippable}


def check_shipment(ctx: Ctx, source_code: str | None, items: list[tuple[str, float]]) -> None:
    """The source deduction of a new shipment: a source is needed when there are several (without one Magento
    deducts from ``default``), and it must hold every item in the quantity shipped."""
    if not ctx.settings.msi:
        return
    code = source_code or "default"
    for sku, qty in items:
        row = ctx.conn.execute(
            "SELECT quantity, status FROM c_source_items WHERE sku = ? AND source_code = ?", (sku, code)
        ).fetchone()
        if row is None:
            raise MagentoError(404, "Source item not found by source code: %1 and sku: %2.", [code, sku])
        if not row["status"] or float(row["quantity"]) < qty:
            raise MagentoError(400, NOT_AVAILABLE)


def deduct(ctx: Ctx, source_code: str | None, items: list[tuple[str, float]]) -> None:
    if not ctx.settings.msi:
        return
    for sku, qty in items:
        ctx.conn.execute(
            "UPDATE c_source_items SET quantity = quantity - ? WHERE sku = ? AND source_code = ?",
            (qty, sku, source_code or "default"),
        )
