"""How a Commerce order and its Walmart purchase order pair up, as pure functions over the two models.

One place for what ship, cancel and status must agree on: which Commerce item carries which Walmart SKU
(configurable products ship through their parent and are known to Walmart by the chosen child's SKU), how many
units Walmart shows shipped under a tracking number, which Commerce shipment carries a tracking number, and how
many units Walmart shows cancelled per SKU. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from wmsync.commerce.models import Order, OrderItem, Shipment
from wmsync.timeparse import parse_commerce_time
from wmsync.walmart.models import OrderLine, WalmartOrder, line_sort_key


def commerce_sku_items(
    items: Mapping[str, int | None] | None, skus: Mapping[str, str]
) -> Mapping[str, int | None] | None:
    """``--item`` quantities keyed by Commerce SKU: a Walmart SKU of the store's ``skus`` table (Walmart SKU ->
    Commerce SKU) is replaced by its Commerce SKU (Walmart orders are read under Commerce SKUs)."""
    if not items or not skus:
        return items
    out: dict[str, int | None] = {}
    for sku, qty in items.items():
        key = skus.get(sku, sku)
        if key not in out:
            out[key] = qty
        else:  # both SKUs of one item given: their quantities add up ("all" wins)
            before = out[key]
            out[key] = None if before is None or qty is None else before + qty
    return out


def walmart_skus(wm: WalmartOrder) -> set[str]:
    return {line.sku for line in wm.lines}


def lines_by_sku(wm: WalmartOrder) -> dict[str, list[OrderLine]]:
    """Walmart's lines grouped by SKU, each group in line-number order (one SKU may span several lines)."""
    out: dict[str, list[OrderLine]] = {}
    for ln in sorted(wm.lines, key=lambda x: line_sort_key(x.lineNumber)):
        out.setdefault(ln.sku, []).append(ln)
    return out


def sku_of_item(order: Order, item: OrderItem, skus: set[str]) -> str:
    """The Walmart SKU a Commerce item is sold as: its own SKU, else a child's (a configurable's chosen
    simple product) that Walmart knows, else its own."""
    return _sku_of(item.sku, (c.sku for c in order.children(item)), skus)


def _sku_of(item_sku: str, children: Iterable[str], skus: set[str]) -> str:
    if item_sku in skus:
        return item_sku
    for child in children:
        if child in skus:
            return child
    return item_sku


def item_skus(order: Order, skus: set[str]) -> dict[int, str]:
    """Commerce item id -> the Walmart SKU it is shipped as; child items map to their parent's SKU."""
    out: dict[int, str] = {}
    for item in order.top_items():
        out[item.item_id] = sku_of_item(order, item, skus)
    for item in order.items:
        if item.parent_item_id is not None and item.parent_item_id in out:
            out[item.item_id] = out[item.parent_item_id]
    return out


def shippable_item_for_sku(order: Order, sku: str) -> OrderItem | None:
    """The Commerce item to ship for a Walmart SKU: a simple item with that SKU, or the configurable parent
    whose child (or itself, as Magento stores the chosen child's SKU on the parent) has it."""
    for item in order.top_items():
        if item.sku == sku:
            return item
    for item in order.items:
        if item.sku == sku and item.parent_item_id is not None:
            parent = order.item_by_id(item.parent_item_id)
            if parent is not None:
                return parent
    return None


def shipped_with(wm: WalmartOrder, tracking: str) -> dict[str, int]:
    """Units Walmart shows shipped under this tracking number, per SKU."""
    out: dict[str, int] = {}
    for line in wm.lines:
        qty = line.shipped_with(tracking)
        if qty:
            out[line.sku] = out.get(line.sku, 0) + qty
    return out


def shipment_with_track(shipments: Sequence[Shipment], tracking: str) -> Shipment | None:
    """The Commerce shipment that carries this tracking number, if any."""
    for shipment in shipments:
        if shipment.has_track(tracking):
            return shipment
    return None


def cancelled_by_sku(wm: WalmartOrder) -> dict[str, int]:
    """Units Walmart shows cancelled, per SKU."""
    out: dict[str, int] = {}
    for line in wm.lines:
        qty = line.qty_in("Cancelled")
        if qty:
            out[line.sku] = out.get(line.sku, 0) + qty
    return out


@dataclass
class CommercePackage:
    """One Commerce shipment as status compares it: its tracks and the Walmart SKUs and units it carries."""

    shipment_id: int | None
    tracks: list[tuple[str, str | None, str | None]]  # (number, carrier_code, title)
    sku_qty: dict[str, int]
    created: datetime | None

    @property
    def label(self) -> str:
        return f"Commerce shipment #{self.shipment_id}" if self.shipment_id is not None else "a Commerce shipment"

    @property
    def numbers(self) -> list[str]:
        return [t[0] for t in self.tracks]


def shipment_units(order: Order, shipment: Shipment) -> dict[int, int]:
    """Units a Commerce shipment holds per top-level item. Child rows of configurables repeat their parent's
    quantity and are skipped; the items of a bundle that ships separately count as whole bundles."""
    out: dict[int, int] = {}
    parts: dict[int, dict[int, float]] = {}  # bundle item id -> its items' quantities in this shipment
    for si in shipment.items:
        if si.order_item_id is None or si.qty <= 0:
            continue
        item = order.item_by_id(si.order_item_id)
        if item is None:
            continue
        if item.parent_item_id is None:
            out[item.item_id] = out.get(item.item_id, 0) + round(si.qty)
            continue
        parent = order.item_by_id(item.parent_item_id)
        if parent is not None and parent.ships_separately:
            got = parts.setdefault(parent.item_id, {})
            got[item.item_id] = got.get(item.item_id, 0.0) + si.qty
    for parent_id, got in parts.items():
        parent = order.item_by_id(parent_id)
        if parent is None:
            continue
        whole = min((int(got.get(c.item_id, 0.0) / per + 1e-9) for c, per in order.bundle_parts(parent)), default=0)
        if whole > 0:
            out[parent_id] = out.get(parent_id, 0) + whole
    return out


def ship_items(order: Order, commerce_items: dict[int, int]) -> list[tuple[int, int]]:
    """(order item id, qty) to put in a Commerce shipment for units per top-level item: a bundle that ships
    separately is shipped by its items (Magento refuses the bundle item itself)."""
    out: list[tuple[int, int]] = []
    for item_id, qty in sorted(commerce_items.items()):
        item = order.item_by_id(item_id)
        parts = order.bundle_parts(item) if item is not None else []
        if parts:
            out.extend((c.item_id, round(qty * per)) for c, per in parts)
        else:
            out.append((item_id, qty))
    return out


def commerce_packages(order: Order, shipments: Sequence[Shipment], item_sku: dict[int, str]) -> list[CommercePackage]:
    """Each Commerce shipment with its units per Walmart SKU (``item_sku`` from :func:`item_skus`)."""
    out = []
    for sh in shipments:
        sku_qty: dict[str, int] = {}
        for item_id, qty in shipment_units(order, sh).items():
            item = order.item_by_id(item_id)
            sku = item_sku.get(item_id, item.sku if item is not None else "")
            sku_qty[sku] = sku_qty.get(sku, 0) + qty
        tracks = [(t.track_number, t.carrier_code, t.title) for t in sh.tracks if t.track_number]
        out.append(CommercePackage(sh.entity_id, tracks, sku_qty, parse_commerce_time(sh.created_at)))
    return out
