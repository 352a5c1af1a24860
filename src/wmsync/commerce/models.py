"""Commerce orders and shipments (tolerant of unknown fields); the ship request body (strict)."""

from __future__ import annotations

from typing import Any

from wmsync.records import Field, Record, validator
from wmsync.tracking_key import same_tracking


class _Tolerant(Record, extra="allow"):
    pass


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


class OrderItem(_Tolerant):
    item_id: int
    sku: str = ""
    name: str | None = None
    product_type: str | None = None
    parent_item_id: int | None = None
    qty_ordered: float = 0
    qty_shipped: float = 0
    qty_canceled: float = 0
    qty_refunded: float = 0
    qty_invoiced: float = 0
    #: a bundle whose items ship separately (its product's shipment_type 1): Magento ships its items, never the
    #: bundle item itself. Set by the Commerce client from the catalog; not part of Magento's order item.
    ships_separately: bool = False

    @validator("qty_ordered", "qty_shipped", "qty_canceled", "qty_refunded", "qty_invoiced", mode="before")
    @classmethod
    def _qty(cls, value: Any) -> float:
        return _num(value)

    @property
    def qty_to_ship(self) -> int:
        """Magento's remaining quantity: ordered − shipped − refunded − canceled."""
        return max(0, round(self.qty_ordered - self.qty_shipped - self.qty_refunded - self.qty_canceled))


class Comment(_Tolerant):
    comment: str | None = None
    created_at: str | None = None
    status: str | None = None


class Order(_Tolerant):
    entity_id: int
    increment_id: str
    state: str | None = None
    status: str | None = None
    ext_order_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    items: list[OrderItem] = Field(default_factory=list)
    status_histories: list[Comment] = Field(default_factory=list)

    def field(self, name: str) -> Any:
        if name in type(self).model_field_names():
            return getattr(self, name)
        extra = self.model_extra or {}
        if name in extra:
            return extra[name]
        ext = extra.get("extension_attributes")
        if isinstance(ext, dict):
            return ext.get(name)
        return None

    def top_items(self) -> list[OrderItem]:
        """Items that are shipped directly: simple items without a parent, and parents of configurables."""
        return [i for i in self.items if i.parent_item_id is None]

    def children(self, parent: OrderItem) -> list[OrderItem]:
        return list(self._index()[1].get(parent.item_id, ()))

    def bundle_parts(self, parent: OrderItem) -> list[tuple[OrderItem, float]]:
        """The items of a bundle that ships separately, each with its units per bundle."""
        if not parent.ships_separately or parent.qty_ordered <= 0:
            return []
        return [(c, c.qty_ordered / parent.qty_ordered) for c in self.children(parent) if c.qty_ordered > 0]

    def mark_separately(self, parent: OrderItem) -> None:
        """``parent`` is a bundle that ships separately: Magento records its shipments on its items, so its own
        shipped quantity is the number of whole bundles its items' shipped quantities make up."""
        parent.ships_separately = True
        parts = self.bundle_parts(parent)
        if parts:
            whole = min(int(c.qty_shipped / per + 1e-9) for c, per in parts)
            parent.qty_shipped = max(parent.qty_shipped, float(whole))

    def item_by_id(self, item_id: int) -> OrderItem | None:
        return self._index()[0].get(item_id)

    # items by id and children by parent id, built on first use (dict look-ups, not a scan per item) and again
    # if the item list is replaced or changes length (kept beside the fields, in ``_item_index``)
    def _index(self) -> tuple[dict[int, OrderItem], dict[int, list[OrderItem]]]:
        cached: tuple[int, int, dict[int, OrderItem], dict[int, list[OrderItem]]] | None = \
            self.__dict__.get("_item_index")
        if cached is not None and cached[0] == id(self.items) and cached[1] == len(self.items):
            return cached[2], cached[3]
        by_id: dict[int, OrderItem] = {}
        by_parent: dict[int, list[OrderItem]] = {}
        for item in self.items:
            by_id.setdefault(item.item_id, item)
            if item.parent_item_id is not None:
                by_parent.setdefault(item.parent_item_id, []).append(item)
        self.__dict__["_item_index"] = (id(self.items), len(self.items), by_id, by_parent)
        return by_id, by_parent


class Track(_Tolerant):
    entity_id: int | None = None
    track_number: str | None = None
    title: str | None = None
    carrier_code: str | None = None


class ShipmentItem(_Tolerant):
    order_item_id: int | None = None
    qty: float = 0
    sku: str | None = None

    @validator("qty", mode="before")
    @classmethod
    def _qty(cls, value: Any) -> float:
        return _num(value)


class Shipment(_Tolerant):
    entity_id: int | None = None
    order_id: int | None = None
    created_at: str | None = None
    items: list[ShipmentItem] = Field(default_factory=list)
    tracks: list[Track] = Field(default_factory=list)

    def track_numbers(self) -> set[str]:
        return {t.track_number for t in self.tracks if t.track_number}

    def has_track(self, number: str) -> bool:
        """Whether this shipment carries the tracking number, however either was typed."""
        return any(same_tracking(t.track_number, number) for t in self.tracks)


class _Strict(Record, extra="forbid"):
    pass


class ShipItem(_Strict):
    order_item_id: int
    qty: float


class ShipTrack(_Strict):
    track_number: str
    title: str
    carrier_code: str


class ShipComment(_Strict):
    comment: str
    is_visible_on_front: int = 0


def ship_body(
    items: list[ShipItem],
    track: ShipTrack,
    *,
    notify: bool = False,
    comment: str | None = None,
    source_code: str | None = None,
) -> dict[str, Any]:
    """The body of ``POST /V1/order/{orderId}/ship`` (salesShipOrderV1ExecutePostBody). It always names its
    items: with none, Magento ships every item still open (magento/magento2#23212)."""
    if not items:
        raise ValueError("a Commerce shipment body must name its items")
    body: dict[str, Any] = {
        "items": [i.model_dump() for i in items],
        "notify": notify,
        "tracks": [track.model_dump()],
    }
    if comment:
        body["appendComment"] = True
        body["comment"] = ShipComment(comment=comment).model_dump()
    if source_code:
        body["arguments"] = {"extension_attributes": {"source_code": source_code}}
    return body
