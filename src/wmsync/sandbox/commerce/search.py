"""searchCriteria: filters, sorting and paging over orders and shipments."""

from __future__ import annotations

import re
from typing import Any

from wmsync.sandbox.commerce.base import MagentoError, internal_error, required
from wmsync.sandbox.common import Ctx, ParsedRequest

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
