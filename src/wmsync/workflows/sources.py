"""Multi-Source Inventory: which source a Commerce shipment comes from, checked before anything is sent.

On a store with several inventory sources Magento deducts a shipment from the source it names (or from
``default``), and refuses it when that source does not hold the items ("Source item not found by source code …",
"Not all of your products are available in the requested quantity."; docs/real-services.md). So before the
first write wmsync settles the source — ``--source``, else the store's ``source_code``, else Commerce's own
source selection — and checks that it holds every item of the package. A store without MSI (its inventory
routes are absent) needs none of this; a store with one source ships from it without naming it."""

from __future__ import annotations

from collections.abc import Sequence

from wmsync.commerce.models import Order
from wmsync.errors import RefusedError
from wmsync.workflows.context import Context


def package_skus(order: Order, items: Sequence[tuple[int, int]]) -> dict[str, float]:
    """Catalog SKU -> quantity for the (order item id, qty) of a Commerce shipment body."""
    out: dict[str, float] = {}
    for item_id, qty in items:
        item = order.item_by_id(item_id)
        if item is not None and qty > 0:
            out[item.sku] = out.get(item.sku, 0.0) + qty
    return out


def choose_source(ctx: Context, order: Order, items: Sequence[tuple[int, int]], asked: str | None) -> str | None:
    """The source code to name in the shipment (None: name none). Raises RefusedError (exit 2) when the chosen
    source does not hold the items, or no single source does."""
    wanted = asked or ctx.store.source_code
    sources = ctx.commerce.msi_sources()
    if sources is None:  # no Multi-Source Inventory: nothing to check; a configured source is sent as it is
        return wanted
    enabled = [code for code, on in sources if on]
    if wanted is None and len(enabled) <= 1:
        return None  # one source: Magento deducts from it without being told
    skus = package_skus(order, items)
    if not skus:
        return wanted
    if wanted is None:
        shippable, picks = ctx.commerce.select_sources(sorted(skus.items()))
        used: dict[str, set[str]] = {}
        for code, sku, qty in picks:
            if qty > 0:
                used.setdefault(code, set()).add(sku)
        if not shippable or not used:
            raise RefusedError(
                "Commerce's source selection finds no stock for this package ("
                + ", ".join(f"{q:g} × {s}" for s, q in sorted(skus.items())) + ")",
                hint="pass --source CODE for the warehouse it leaves from",
            )
        if len(used) > 1:
            where = "; ".join(f"{code}: {', '.join(sorted(s))}" for code, s in sorted(used.items()))
            raise RefusedError(
                f"the items of this package come from several sources ({where}); a Commerce shipment comes from one",
                hint="ship each source's items as their own package: --item SKU and --source CODE",
            )
        wanted = next(iter(used))
    if wanted not in {code for code, _ in sources}:
        raise RefusedError(
            f"Commerce has no inventory source {wanted!r}",
            hint="its sources: " + ", ".join(code for code, _ in sources),
        )
    held = ctx.commerce.source_items(sorted(skus))
    for sku, qty in sorted(skus.items()):
        have = held.get((sku, wanted))
        if have is None:
            raise RefusedError(
                f"source {wanted!r} does not carry {sku}: Magento would refuse the shipment (source item not found)",
                hint="pass --source CODE for the warehouse the package leaves from",
            )
        quantity, in_stock = have
        if not in_stock or quantity < qty:
            raise RefusedError(
                f"source {wanted!r} holds {quantity:g} × {sku}{'' if in_stock else ' (out of stock)'}; this package "
                f"ships {qty:g}",
                hint="pass --source CODE for the warehouse the package leaves from, or correct the stock in Commerce",
            )
    return wanted
