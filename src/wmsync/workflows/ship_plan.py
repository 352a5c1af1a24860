"""``wmsync ship``, the plan (pure): what one package holds, what is still missing on each side, and the exact
request bodies. Every rule is checked here, before anything is sent; :mod:`wmsync.workflows.ship` acts on it.

One invocation is one package: one tracking number for the items given. The package is defined by the
Commerce shipment carrying that tracking number once it exists, so a re-run after a crash or an unknown
outcome ships exactly what is missing and never creates a second shipment for one tracking number on either
side."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from wmsync.commerce.models import Order, ShipItem, Shipment, ShipTrack
from wmsync.commerce.models import ship_body as commerce_ship_body
from wmsync.config import StoreConfig
from wmsync.errors import RefusedError, UsageError
from wmsync.tracking_key import tracking_key
from wmsync.walmart import rules
from wmsync.walmart.models import (
    ShipCarrierName,
    ShipLine,
    ShipLineStatus,
    ShipLineStatuses,
    ShipTrackingInfo,
    StatusQuantity,
    WalmartOrder,
    line_sort_key,
)
from wmsync.walmart.models import ship_body as walmart_ship_body
from wmsync.workflows import pairing
from wmsync.workflows.base import OrderPair
from wmsync.workflows.pairing import (
    shipment_with_track,
    shippable_item_for_sku,
    shipped_with,
    sku_of_item,
)

Via = Literal["direct", "channel-manager"]


@dataclass(frozen=True)
class ShipRequest:
    order: str
    carrier: str | None = None
    tracking: str | None = None
    method: str | None = None
    tracking_url: str | None = None
    items: Mapping[str, int | None] | None = None
    ship_date: datetime | None = None
    via: Via = "direct"
    override_intent_to_cancel: bool = False
    skip_format_check: bool = False
    source: str | None = None  # the Multi-Source Inventory source (default: store's source_code, or Commerce's pick)


@dataclass
class Package:
    """What one tracking number covers."""

    tracking_number: str
    carrier: rules.ResolvedCarrier
    method_code: str
    ship_time_ms: int
    commerce_items: dict[int, int]  # order_item_id -> qty in the package
    sku_qty: dict[str, int]  # Walmart SKU -> qty in the package
    commerce_shipment_id: int | None  # existing Commerce shipment with this tracking number
    walmart_alloc: list[rules.Allocation]  # what still has to be posted to Walmart
    acknowledge: bool
    intent_override: bool
    commerce_body: dict[str, Any] | None
    walmart_body: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)

    @property
    def nothing_to_do(self) -> bool:
        return self.commerce_body is None and self.walmart_body is None and not self.acknowledge


@dataclass
class ShipPlan:
    order: Order
    purchase_order_id: str
    via: Via
    packages: list[Package]
    checks: list[str]
    notes: list[str]
    walmart: WalmartOrder
    #: the plan's Commerce shipments were read with the Walmart order, after the lease was taken, and no
    #: Commerce shipment has been created since: the re-read before creating one is already done
    shipments_fresh: bool = False


# ---------------------------------------------------------------- mapping Commerce items <-> Walmart lines


def _ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def refuse_if_not_sellers(wm: WalmartOrder) -> None:
    """Walmart's seller endpoints are for seller-fulfilled orders: a WFS or 3PL order is refused before
    anything (even the acknowledge) is sent."""
    why = wm.not_sellers_reason()
    if why is not None:
        raise RefusedError(why, hint="its fulfilment is handled outside the seller's store; nothing was sent")


def _violation(exc: rules.RuleViolation) -> RefusedError:
    return RefusedError(exc.message, hint=exc.hint)


# ---------------------------------------------------------------- planning (pure)


def plan_package(
    pair: OrderPair,
    store: StoreConfig,
    *,
    tracking: str,
    carrier: rules.ResolvedCarrier,
    method: str | None,
    requested: Mapping[str, int | None] | None,
    now_ms: int,
    ship_date: datetime | None,
    via: Via,
    override_intent_to_cancel: bool,
    skip_format_check: bool,
    existing: Shipment | None = None,
    taken: Mapping[str, int] | None = None,
) -> Package:
    """One package. ``taken``: Walmart quantities per line already allocated to earlier packages of this plan."""
    order, wm, po = pair.order, pair.walmart, pair.purchase_order_id
    taken = taken or {}
    try:
        rules.check_tracking_number(
            tracking, carrier=carrier.name, purchase_order_id=po, skip_format_check=skip_format_check
        )
    except rules.RuleViolation as exc:
        raise _violation(exc) from exc
    own = wm.shippingInfo.methodCode
    method_code = method or own or "Standard"
    try:
        method_code = rules.check_method_code(method_code)
    except rules.RuleViolation as exc:
        raise _violation(exc) from exc
    if method is not None and own and method_code.casefold() != own.casefold():
        # Walmart accepts only the order's own method code ("Method code is not supported in line number N"):
        # refused here, before the Commerce shipment exists
        raise RefusedError(
            f"--method {method_code}: Walmart accepts only the order's own method code, {own}, for PO {po}",
            hint=f"leave --method out (wmsync sends {own}), or pass --method {own}",
        )
    if ship_date is not None:
        ship_ms = _ms(ship_date)
        if ship_ms > now_ms + 24 * 3600 * 1000:
            raise UsageError("--ship-date is more than a day in the future")
        if wm.orderDate and ship_ms < wm.orderDate - 24 * 3600 * 1000:
            raise UsageError("--ship-date is before the order was placed")
    else:
        ship_ms = now_ms
    seller_order_id = order.increment_id
    if len(seller_order_id) > 30:
        raise RefusedError(
            f"Commerce order number {seller_order_id!r} is longer than Walmart's 30-character sellerOrderId"
        )

    walmart_skus = pairing.walmart_skus(wm)
    by_sku = pairing.lines_by_sku(wm)  # look-ups by SKU, not a scan of every line per item
    notes: list[str] = []
    shipment = existing if existing is not None else shipment_with_track(pair.shipments, tracking)
    # Magento's canShip(): no shipment on orders that are cancelled, closed, on hold or in payment review
    blocked = {"canceled": "cancelled", "closed": "closed", "holded": "on hold", "payment_review": "in payment review"}
    if order.state in blocked and (shipment is None or order.state in ("canceled", "holded")):
        raise RefusedError(
            f"Commerce order {order.increment_id} is {blocked[order.state or '']}; it cannot be shipped",
            hint={
                "holded": "release the hold in Commerce first",
                "payment_review": "accept or deny the payment in Commerce first",
            }.get(order.state or ""),
        )

    # 1. What the package holds, per Walmart SKU.
    sku_qty: dict[str, int] = {}
    commerce_items: dict[int, int] = {}
    if shipment is not None:
        for item_id, qty in pairing.shipment_units(order, shipment).items():
            item = order.item_by_id(item_id)
            if item is None:
                continue
            commerce_items[item.item_id] = commerce_items.get(item.item_id, 0) + qty
            sku = sku_of_item(order, item, walmart_skus)
            sku_qty[sku] = sku_qty.get(sku, 0) + qty
        if requested:
            for sku, asked in requested.items():
                if sku not in sku_qty or (asked is not None and asked > sku_qty[sku]):
                    raise RefusedError(
                        f"tracking number {tracking} is already on Commerce shipment #{shipment.entity_id}, "
                        f"which holds " + ", ".join(f"{q} × {s}" for s, q in sorted(sku_qty.items())),
                        hint="one tracking number is one package: use a new tracking number for other items",
                    )
        notes.append(f"Commerce shipment #{shipment.entity_id} already has tracking number {tracking}")
    else:
        shipped_t = shipped_with(wm, tracking)
        if requested:
            for sku, asked in requested.items():
                item = shippable_item_for_sku(order, sku)
                if item is None or sku not in walmart_skus:
                    known = sorted(walmart_skus)
                    raise UsageError(
                        f"SKU {sku!r} is not on order {order.increment_id}",
                        hint="the order's SKUs: " + ", ".join(known),
                    )
                open_wm = sum(line.open_qty for line in by_sku.get(sku, ())) + shipped_t.get(sku, 0)
                left = min(item.qty_to_ship, open_wm)
                want = left if asked is None else asked
                if want > left or left == 0:
                    raise RefusedError(
                        f"{want if asked is not None else 'all'} × {sku} asked, but {left} left to ship",
                        hint=f"`wmsync status {order.increment_id}` shows what was shipped",
                    )
                sku_qty[sku] = want
                commerce_items[item.item_id] = commerce_items.get(item.item_id, 0) + want
        else:
            for item in order.top_items():
                left = item.qty_to_ship
                sku = sku_of_item(order, item, walmart_skus)
                if sku not in walmart_skus:
                    if left > 0:
                        notes.append(
                            f"Commerce item {item.sku!r} is not on the Walmart order: left out of this "
                            "package (SKUs are matched exactly)"
                        )
                    continue
                open_wm = sum(line.open_qty for line in by_sku.get(sku, ())) + shipped_t.get(sku, 0)
                qty = min(left, open_wm)
                if qty > 0:
                    sku_qty[sku] = sku_qty.get(sku, 0) + qty
                    commerce_items[item.item_id] = commerce_items.get(item.item_id, 0) + qty
            if not sku_qty:
                if shipped_t:
                    # Walmart already shows this tracking number: the package is what Walmart shipped under it;
                    # Commerce records the items it still has open for those SKUs (none: no Commerce shipment)
                    sku_qty = dict(shipped_t)
                    for sku, qty in sorted(shipped_t.items()):
                        item = shippable_item_for_sku(order, sku)
                        if item is not None and min(item.qty_to_ship, qty) > 0:
                            commerce_items[item.item_id] = commerce_items.get(item.item_id, 0) + min(
                                item.qty_to_ship, qty
                            )
                else:
                    cancelled = (
                        all(line.qty_in("Cancelled") >= line.quantity for line in wm.lines) if wm.lines else False
                    )
                    if cancelled or order.state == "canceled":
                        raise RefusedError(
                            f"order {order.increment_id} is cancelled {'on Walmart' if cancelled else 'in Commerce'}; "
                            "nothing to ship"
                        )
                    raise RefusedError(
                        f"nothing is left to ship on order {order.increment_id}",
                        hint=f"`wmsync status {order.increment_id}` shows how it was shipped",
                    )

    # 2. Walmart lines: what still has to be posted with this tracking number.
    shipped_t = shipped_with(wm, tracking)
    need: dict[str, int] = {}
    for sku, qty in sku_qty.items():
        missing = qty - shipped_t.get(sku, 0)
        if missing > 0:
            need[sku] = missing
    alloc: list[rules.Allocation] = []
    acknowledge = False
    intent = False
    if need:
        cancelled_skus = [
            s
            for s in need
            if all(line.open_qty == 0 and line.qty_in("Cancelled") for line in by_sku.get(s, ()))
        ]
        if cancelled_skus:
            raise RefusedError(f"{', '.join(cancelled_skus)} cancelled on Walmart; it cannot be shipped")
        avail = [
            rules.LineAvailability(line.lineNumber, line.sku, max(0, line.open_qty - taken.get(line.lineNumber, 0)))
            for line in wm.lines
        ]
        try:
            alloc = rules.allocate(need, avail)
        except rules.RuleViolation as exc:
            raise _violation(exc) from exc
        touched = {a.line_number for a in alloc}
        for line in wm.lines:
            if line.lineNumber not in touched:
                continue
            if line.has_intent_to_cancel:
                if not override_intent_to_cancel:
                    raise RefusedError(
                        f"the customer asked to cancel line {line.lineNumber} ({line.sku}) of PO {po}",
                        hint=f"cancel it with `wmsync cancel {order.increment_id} --reason customer-request --item "
                        f"{line.sku}`, or ship anyway "
                        "with --override-intent-to-cancel",
                    )
                intent = True
            if line.created_qty > 0:
                # in both modes: Walmart ships only acknowledged lines, and Channel Manager's push of the
                # Commerce shipment fails on a Created one
                acknowledge = True
        if acknowledge:
            notes.append("some Walmart lines are still Created: they will be acknowledged first")
        if via == "channel-manager":
            notes.append(
                "channel-manager mode: Channel Manager posts the shipment to Walmart; wmsync "
                + ("acknowledges the Created lines, creates the Commerce shipment and waits" if acknowledge
                   else "creates the Commerce shipment and waits")
            )

    # 3. Bodies.
    commerce_body = None
    if shipment is None and not commerce_items:
        # never a body without items: Magento then ships every item still open (ShipmentFactory::prepareItems,
        # magento/magento2#23212), which may be one Walmart cancelled
        notes.append(
            f"no Commerce item is left to ship for tracking number {tracking}: no Commerce shipment is created"
        )
    elif shipment is None:
        code = rules.magento_code(carrier.carrier)
        commerce_body = commerce_ship_body(
            [ShipItem(order_item_id=i, qty=q) for i, q in pairing.ship_items(order, commerce_items)],
            ShipTrack(track_number=tracking, title=carrier.name, carrier_code=code),
            notify=store.notify_customer,
            source_code=store.source_code,
        )
    walmart_body = None
    if alloc and via == "direct":
        tinfo = ShipTrackingInfo(
            shipDateTime=ship_ms,
            carrierName=ShipCarrierName(**carrier.carrier_name()),
            methodCode=method_code,
            trackingNumber=tracking,
            trackingURL=carrier.tracking_url,
        )
        by_line: dict[str, int] = {}
        for a in alloc:
            by_line[a.line_number] = by_line.get(a.line_number, 0) + a.qty
        lines = [
            ShipLine(
                lineNumber=number,
                sellerOrderId=seller_order_id,
                intentToCancelOverride=True if intent else None,
                orderLineStatuses=ShipLineStatuses(
                    orderLineStatus=[ShipLineStatus(statusQuantity=StatusQuantity(amount=str(qty)), trackingInfo=tinfo)]
                ),
            )
            for number, qty in sorted(by_line.items(), key=lambda kv: line_sort_key(kv[0]))
        ]
        walmart_body = walmart_ship_body(lines)
    if shipped_t and not need:
        notes.append(f"Walmart already shows tracking number {tracking} on these lines")
    return Package(
        tracking_number=tracking,
        carrier=carrier,
        method_code=method_code,
        ship_time_ms=ship_ms,
        commerce_items=commerce_items,
        sku_qty=sku_qty,
        commerce_shipment_id=shipment.entity_id if shipment else None,
        walmart_alloc=alloc,
        acknowledge=acknowledge,
        intent_override=intent,
        commerce_body=commerce_body,
        walmart_body=walmart_body,
        notes=notes,
    )


def resolve(store: StoreConfig, value: str, *, tracking_url: str | None, tracking: str | None) -> rules.ResolvedCarrier:
    try:
        return rules.resolve_carrier(
            value,
            mapping=dict(_mapping(store)),
            extra_carriers=store.extra_carriers,
            tracking_url=tracking_url,
            tracking_number=tracking,
        )
    except rules.RuleViolation as exc:
        raise _violation(exc) from exc


def _mapping(store: StoreConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in store.carriers.items():
        out[key] = (
            value
            if isinstance(value, str)
            else {
                "other": value.other,
                **({"tracking_url": value.tracking_url} if value.tracking_url else {}),
            }
        )
    return out


def precheck(store: StoreConfig, req: ShipRequest) -> None:
    """The checks that need neither side's data, run before anything is read, so that bad input costs no
    request: carrier and tracking given together, the carrier (and tracking URL), the tracking number's
    characters and per-carrier format, and the method code. :func:`plan` checks them again with the order."""
    try:
        if req.method is not None:
            rules.check_method_code(req.method)
        if req.tracking is None and req.carrier is None:
            return
        if not req.tracking or not req.carrier:
            raise UsageError(
                "--carrier and --tracking go together",
                hint="or give neither to send the tracks already recorded on Commerce shipments",
            )
        carrier = resolve(store, req.carrier, tracking_url=req.tracking_url, tracking=req.tracking)
        rules.check_tracking_number(
            req.tracking, carrier=carrier.name, purchase_order_id=None, skip_format_check=req.skip_format_check
        )
    except rules.RuleViolation as exc:
        raise _violation(exc) from exc


def plan(pair: OrderPair, store: StoreConfig, req: ShipRequest, *, now_ms: int) -> ShipPlan:
    """The whole plan. Every rule is checked here, before anything is sent."""
    refuse_if_not_sellers(pair.walmart)
    via = req.via
    checks: list[str] = []
    packages: list[Package] = []
    if req.tracking is not None or req.carrier is not None:
        if not req.tracking or not req.carrier:
            raise UsageError(
                "--carrier and --tracking go together",
                hint="or give neither to send the tracks already recorded on Commerce shipments",
            )
        carrier = resolve(store, req.carrier, tracking_url=req.tracking_url, tracking=req.tracking)
        checks.append(f"carrier {req.carrier!r} → {carrier.name} ({carrier.source})")
        packages.append(
            plan_package(
                pair,
                store,
                tracking=req.tracking,
                carrier=carrier,
                method=req.method,
                requested=req.items,
                now_ms=now_ms,
                ship_date=req.ship_date,
                via=via,
                override_intent_to_cancel=req.override_intent_to_cancel,
                skip_format_check=req.skip_format_check,
            )
        )
        done = packages[-1]
        # units open on Walmart beyond what this package holds and Walmart has not shown shipped yet (a
        # channel-manager push still on its way)
        shown = shipped_with(pair.walmart, req.tracking)  # once, not once per SKU
        awaited = {s: q - shown.get(s, 0) for s, q in done.sku_qty.items()}
        beyond: dict[str, int] = {}
        for ln in pair.walmart.lines:
            beyond[ln.sku] = beyond.get(ln.sku, 0) + ln.open_qty
        open_skus = {s for s, q in beyond.items() if q - max(awaited.get(s, 0), 0) > 0}
        open_lines = [ln for ln in pair.walmart.lines if ln.open_qty > 0 and ln.sku in open_skus]
        if req.items is None and done.nothing_to_do and open_lines:
            # "ship ORDER --tracking T" means the package T; T is done, and answering "already done" would hide
            # the units still open (one tracking number is one package)
            held = ", ".join(f"{q} × {s}" for s, q in sorted(done.sku_qty.items()))
            still = "; ".join(f"line {ln.lineNumber}: {ln.open_qty} × {ln.sku}" for ln in open_lines)
            raise RefusedError(
                f"tracking number {req.tracking} is already shipped on both sides with {held}; still open on "
                f"Walmart: {still}",
                hint=f"ship the open units as their own package: `wmsync ship {pair.order.increment_id} "
                "--carrier CARRIER --tracking NEW_NUMBER`",
            )
        if req.skip_format_check:
            checks.append(
                f"tracking number {req.tracking} passes Walmart's general rules (carrier format check "
                "skipped: --skip-format-check)"
            )
        elif carrier.carrier is not None and carrier.carrier.casefold() in rules.format_checked_carriers():
            checks.append(f"tracking number {req.tracking} fits {carrier.name}'s format and Walmart's rules")
        else:
            checks.append(
                f"tracking number {req.tracking} passes Walmart's general rules (no format known for {carrier.name})"
            )
    else:
        if req.items:
            raise UsageError("--item needs --carrier and --tracking")
        if not pair.shipments:
            raise RefusedError(
                f"Commerce order {pair.order.increment_id} has no shipments with tracking numbers to send",
                hint="give --carrier and --tracking to ship it",
            )
        walmart_tracks = {tracking_key(t) for line in pair.walmart.lines for t in line.tracking_numbers()}
        taken: dict[str, int] = {}  # Walmart line -> quantity already given to an earlier package
        for shipment in pair.shipments:
            tracks = [t for t in shipment.tracks if t.track_number]
            if not tracks:
                raise RefusedError(
                    f"Commerce shipment #{shipment.entity_id} has no tracking number; Walmart needs one",
                    hint="add a track in Commerce, or ship with --carrier/--tracking",
                )
            if len(tracks) > 1:
                numbers = ", ".join(t.track_number or "" for t in tracks)
                raise RefusedError(
                    f"Commerce shipment #{shipment.entity_id} has several tracking numbers ({numbers}); wmsync "
                    "will not guess which items each covers",
                    hint="ship each package with --carrier, --tracking and --item",
                )
            track = tracks[0]
            number = track.track_number or ""
            value = rules.track_carrier(track.carrier_code, track.title)
            carrier = resolve(store, value, tracking_url=req.tracking_url, tracking=number)
            pkg = plan_package(
                pair,
                store,
                tracking=number,
                carrier=carrier,
                method=req.method,
                requested=None,
                now_ms=now_ms,
                ship_date=req.ship_date,
                via=via,
                override_intent_to_cancel=req.override_intent_to_cancel,
                skip_format_check=req.skip_format_check,
                existing=shipment,
                taken=taken,
            )
            for a in pkg.walmart_alloc:
                taken[a.line_number] = taken.get(a.line_number, 0) + a.qty
            if tracking_key(number) in walmart_tracks and pkg.walmart_body is None:
                pkg.notes.append("Walmart already has it")
            packages.append(pkg)
        checks.append(f"{len(packages)} Commerce shipment(s) with one track each")
    notes = [n for p in packages for n in p.notes]
    return ShipPlan(pair.order, pair.purchase_order_id, via, packages, checks, notes, pair.walmart)


def confirmed(wm: WalmartOrder, pkg: Package) -> bool:
    """Walmart shows the whole package under its tracking number."""
    shipped = shipped_with(wm, pkg.tracking_number)
    return all(shipped.get(sku, 0) >= qty for sku, qty in pkg.sku_qty.items())
