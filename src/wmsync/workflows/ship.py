"""``wmsync ship``: read both sides → plan (pure) → act → confirm.

One invocation is one package: one tracking number for the items given. The package is defined by the
Commerce shipment carrying that tracking number once it exists, so a re-run after a crash or an unknown
outcome ships exactly what is missing and never creates a second shipment for one tracking number on either
side."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from wmsync.clock import Clock
from wmsync.commerce.client import CommerceClient
from wmsync.commerce.models import Order, OrderItem, ShipItem, Shipment, ShipTrack
from wmsync.commerce.models import ship_body as commerce_ship_body
from wmsync.config import StoreConfig
from wmsync.errors import OutcomeUnknownError, RefusedError, UsageError, WmsyncError
from wmsync.journal import ALREADY_DONE, CONFIRMED, FAILED, PENDING, Journal
from wmsync.walmart import rules
from wmsync.walmart.client import WalmartClient
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
from wmsync.workflows.base import (
    OrderPair,
    awaiting_confirmation,
    guard_resend,
    order_lease,
    poll,
    read_walmart_order,
    renewing,
    settle_unknown,
)

Via = Literal["direct", "channel-manager"]
MAGENTO_CODES = {"UPS": "ups", "USPS": "usps", "FedEx": "fedex", "DHL": "dhl"}


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


# ---------------------------------------------------------------- mapping Commerce items <-> Walmart lines


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


def sku_of_item(order: Order, item: OrderItem, walmart_skus: set[str]) -> str:
    if item.sku in walmart_skus:
        return item.sku
    for child in order.children(item):
        if child.sku in walmart_skus:
            return child.sku
    return item.sku


def _walmart_skus(wm: WalmartOrder) -> set[str]:
    return {line.sku for line in wm.lines}


def _shipped_with(wm: WalmartOrder, tracking: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in wm.lines:
        qty = line.shipped_with(tracking)
        if qty:
            out[line.sku] = out.get(line.sku, 0) + qty
    return out


def _shipment_with_track(shipments: list[Shipment], tracking: str) -> Shipment | None:
    for shipment in shipments:
        if tracking in shipment.track_numbers():
            return shipment
    return None


def _ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


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
    method_code = method or wm.shippingInfo.methodCode or "Standard"
    try:
        method_code = rules.check_method_code(method_code)
    except rules.RuleViolation as exc:
        raise _violation(exc) from exc
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

    walmart_skus = _walmart_skus(wm)
    notes: list[str] = []
    shipment = existing if existing is not None else _shipment_with_track(pair.shipments, tracking)
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
        for sitem in shipment.items:
            if sitem.order_item_id is None or sitem.qty <= 0:
                continue
            item = order.item_by_id(sitem.order_item_id)
            if item is None or item.parent_item_id is not None:
                continue
            qty = round(sitem.qty)
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
        shipped_t = _shipped_with(wm, tracking)
        if requested:
            for sku, asked in requested.items():
                item = shippable_item_for_sku(order, sku)
                if item is None or sku not in walmart_skus:
                    known = sorted(walmart_skus)
                    raise UsageError(
                        f"SKU {sku!r} is not on order {order.increment_id}",
                        hint="the order's SKUs: " + ", ".join(known),
                    )
                open_wm = sum(line.open_qty for line in wm.lines if line.sku == sku) + shipped_t.get(sku, 0)
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
                open_wm = sum(line.open_qty for line in wm.lines if line.sku == sku) + shipped_t.get(sku, 0)
                qty = min(left, open_wm)
                if qty > 0:
                    sku_qty[sku] = sku_qty.get(sku, 0) + qty
                    commerce_items[item.item_id] = commerce_items.get(item.item_id, 0) + qty
            if not sku_qty:
                if shipped_t:
                    sku_qty = dict(shipped_t)
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
    shipped_t = _shipped_with(wm, tracking)
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
            if all(line.open_qty == 0 and line.qty_in("Cancelled") for line in wm.lines if line.sku == s)
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
                acknowledge = via == "direct"
        if acknowledge:
            notes.append("some Walmart lines are still Created: they will be acknowledged first")
        if via == "channel-manager":
            notes.append("channel-manager mode: Channel Manager posts the shipment to Walmart; wmsync only waits")

    # 3. Bodies.
    commerce_body = None
    if shipment is None:
        code = MAGENTO_CODES.get(carrier.carrier or "", "custom")
        commerce_body = commerce_ship_body(
            [ShipItem(order_item_id=i, qty=q) for i, q in sorted(commerce_items.items())],
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
        walmart_tracks = {t for line in pair.walmart.lines for t in line.tracking_numbers()}
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
            code = (track.carrier_code or "").strip()
            value = code if code and code.lower() != "custom" else (track.title or "")
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
            if number in walmart_tracks and pkg.walmart_body is None:
                pkg.notes.append("Walmart already has it")
            packages.append(pkg)
        checks.append(f"{len(packages)} Commerce shipment(s) with one track each")
    notes = [n for p in packages for n in p.notes]
    return ShipPlan(pair.order, pair.purchase_order_id, via, packages, checks, notes, pair.walmart)


# ---------------------------------------------------------------- act and confirm


@dataclass
class Settings:
    timeout: float = 300.0
    poll_initial: float = 1.0
    poll_max: float = 30.0
    wait: bool = True
    unknown_grace: float = field(default_factory=lambda: _env_seconds("WMSYNC_UNKNOWN_GRACE", 30.0))
    resend_quiet: float = field(default_factory=lambda: _env_seconds("WMSYNC_RESEND_QUIET", 120.0))


def _env_seconds(name: str, default: float) -> float:
    import os

    try:
        return max(0.0, float(os.environ.get(name, default)))
    except ValueError:
        return default


def confirmed(wm: WalmartOrder, pkg: Package) -> bool:
    shipped = _shipped_with(wm, pkg.tracking_number)
    return all(shipped.get(sku, 0) >= qty for sku, qty in pkg.sku_qty.items())


def line_report(wm: WalmartOrder, skus: set[str] | None = None) -> list[dict[str, Any]]:
    out = []
    for line in sorted(wm.lines, key=lambda ln: line_sort_key(ln.lineNumber)):
        if skus is not None and line.sku not in skus:
            continue
        out.append(
            {
                "line_number": line.lineNumber,
                "sku": line.sku,
                "quantity": line.quantity,
                "walmart_statuses": line.status_summary(),
            }
        )
    return out


class ShipRunner:
    """Acts on a plan: journal, Commerce shipment, Walmart post, confirmation. ``reread`` re-reads both sides
    (used after an unknown outcome)."""

    def __init__(
        self,
        *,
        store_name: str,
        store: StoreConfig,
        commerce: CommerceClient,
        walmart: WalmartClient,
        journal: Journal,
        clock: Clock,
        settings: Settings,
        progress: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.store_name = store_name
        self.store = store
        self.commerce = commerce
        self.walmart = walmart
        self.journal = journal
        self.clock = clock
        self.settings = settings
        self.progress = progress

    def _commerce_has(self, order: Order, tracking: str) -> Shipment | None:
        shipments = [Shipment.model_validate(s) for s in self.commerce.list_shipments(order.entity_id)]
        return _shipment_with_track(shipments, tracking)

    def _walmart_order(self, po: str) -> WalmartOrder:
        return WalmartOrder.model_validate(self.walmart.get_order(po))

    def run_package(self, plan_: ShipPlan, pkg: Package) -> tuple[str, WalmartOrder | None]:
        """Returns (result, latest Walmart order)."""
        order, po = plan_.order, plan_.purchase_order_id
        key = f"ship:{po}:{pkg.tracking_number}"
        op = self.journal.start(
            store=self.store_name,
            kind="ship",
            op_key=key,
            order_number=order.increment_id,
            purchase_order_id=po,
            params={
                "tracking_number": pkg.tracking_number,
                "carrier": pkg.carrier.name,
                "items": pkg.sku_qty,
                "via": plan_.via,
            },
        )
        latest: WalmartOrder | None = None
        try:
            if pkg.nothing_to_do and confirmed(plan_.walmart, pkg):
                self.journal.finish(
                    op,
                    ALREADY_DONE,
                    result={"result": "already_done"},
                    correlation_ids=self.walmart.correlation_ids[-5:],
                )
                return "already_done", plan_.walmart
            latest = plan_.walmart
            if pkg.acknowledge and plan_.via == "direct":
                self.progress("acknowledging Walmart lines")
                self.journal.step(op, "acknowledge", "started")
                latest_ack = self.walmart.acknowledge(po)
                self.journal.step(op, "acknowledge", "done")
                latest = WalmartOrder.model_validate(latest_ack)
            if pkg.commerce_body is not None:
                self.progress("creating the Commerce shipment")
                guard_resend(
                    self.journal,
                    self.store_name,
                    key,
                    "commerce_ship",
                    now=self.clock.time(),
                    quiet=self.settings.resend_quiet,
                )
                self.journal.step(op, "commerce_ship", "started", {"body": pkg.commerce_body})
                try:
                    sid = self.commerce.ship(order.entity_id, pkg.commerce_body)
                except OutcomeUnknownError as exc:
                    self.journal.step(op, "commerce_ship", "unknown")
                    found = settle_unknown(
                        lambda: self._commerce_has(order, pkg.tracking_number),
                        lambda shipment: shipment is not None,
                        clock=self.clock,
                        grace=self.settings.unknown_grace,
                        what=f"the Commerce shipment with tracking number {pkg.tracking_number}",
                        correlation_id=exc.correlation_id,
                    )
                    sid = found.entity_id or 0
                self.journal.step(op, "commerce_ship", "done", {"shipment_id": sid})
            if (
                pkg.walmart_body is not None
                and plan_.via == "direct"
                and awaiting_confirmation(self.journal, self.store_name, key, "walmart_ship", now=self.clock.time())
            ):
                self.progress("sent by an earlier run: waiting for Walmart to show it, not sending it again")
            elif pkg.walmart_body is not None and plan_.via == "direct":
                self.progress("posting the shipment to Walmart")
                guard_resend(
                    self.journal,
                    self.store_name,
                    key,
                    "walmart_ship",
                    now=self.clock.time(),
                    quiet=self.settings.resend_quiet,
                )
                self.journal.step(op, "walmart_ship", "started", {"body": pkg.walmart_body})
                try:
                    latest = WalmartOrder.model_validate(self.walmart.ship(po, pkg.walmart_body))
                except OutcomeUnknownError as exc:
                    self.journal.step(op, "walmart_ship", "unknown")
                    # Walmart applies a shipping update as a whole: any quantity with this tracking number beyond
                    # what the plan saw means it went through
                    before = sum(_shipped_with(plan_.walmart, pkg.tracking_number).values())
                    latest = settle_unknown(
                        lambda: self._walmart_order(po),
                        lambda wm: sum(_shipped_with(wm, pkg.tracking_number).values()) > before,
                        clock=self.clock,
                        grace=self.settings.unknown_grace,
                        what=f"the Walmart shipping update with tracking number {pkg.tracking_number}",
                        correlation_id=exc.correlation_id,
                    )
                except WmsyncError as exc:
                    # Something else (Channel Manager) may have posted it meanwhile: that is done, not an error.
                    if getattr(exc, "status", None) == 400:
                        latest = self._walmart_order(po)
                        if confirmed(latest, pkg):
                            self.journal.step(op, "walmart_ship", "done", {"note": "already on Walmart"})
                            self.journal.finish(
                                op,
                                ALREADY_DONE,
                                result={"result": "already_done"},
                                correlation_ids=self.walmart.correlation_ids[-10:],
                            )
                            return "already_done", latest
                    raise
                self.journal.step(
                    op,
                    "walmart_ship",
                    "done",
                    correlation_id=self.walmart.correlation_ids[-1] if self.walmart.correlation_ids else None,
                )
            # confirm
            if latest is not None and confirmed(latest, pkg):
                self.journal.finish(
                    op,
                    CONFIRMED,
                    result={"result": "confirmed"},
                    correlation_ids=self.walmart.correlation_ids[-10:],
                )
                return "confirmed", latest
            deadline = self.clock.time() + self.settings.timeout
            if not self.settings.wait:
                self.journal.finish(
                    op,
                    PENDING,
                    result={"result": "pending"},
                    confirm_deadline=deadline,
                    correlation_ids=self.walmart.correlation_ids[-10:],
                )
                return "pending", latest
            box: list[WalmartOrder] = []

            def check() -> bool:
                wm = self._walmart_order(po)
                box[:] = [wm]
                return confirmed(wm, pkg)

            self.progress("waiting for Walmart to show the shipment")
            ok = poll(
                check,
                clock=self.clock,
                timeout=self.settings.timeout,
                initial=self.settings.poll_initial,
                maximum=self.settings.poll_max,
                on_wait=lambda el, d: self.progress(f"waiting for Walmart ({el:.0f}s, next look in {d:.0f}s)"),
            )
            latest = box[0] if box else latest
            state = CONFIRMED if ok else PENDING
            self.journal.finish(
                op,
                state,
                result={"result": state},
                confirm_deadline=None if ok else deadline,
                correlation_ids=self.walmart.correlation_ids[-10:],
            )
            return ("confirmed" if ok else "pending"), latest
        except BaseException as exc:
            code = getattr(exc, "code", None)
            self.journal.finish(
                op,
                FAILED,
                error=(str(exc) or ("interrupted" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__))[:500],
                error_code=code if isinstance(code, str) else None,
                correlation_ids=self.walmart.correlation_ids[-10:],
            )
            raise


def now_ms(clock: Clock) -> int:
    return math.floor(clock.time() * 1000)


# ---------------------------------------------------------------- the whole command


@dataclass
class Deps:
    store_name: str
    store: StoreConfig
    commerce: CommerceClient
    walmart: WalmartClient
    journal: Journal
    clock: Clock
    progress: Callable[[str], None] = lambda _m: None
    note: Callable[[str], None] = lambda _m: None


def request_list(plan_: ShipPlan) -> list[dict[str, Any]]:
    """The exact requests the plan will send, for --dry-run."""
    po, order = plan_.purchase_order_id, plan_.order
    out: list[dict[str, Any]] = []
    for pkg in plan_.packages:
        if pkg.acknowledge and plan_.via == "direct":
            out.append({"service": "walmart", "method": "POST", "path": f"/v3/orders/{po}/acknowledge", "body": None})
        if pkg.commerce_body is not None:
            out.append(
                {
                    "service": "commerce",
                    "method": "POST",
                    "path": f"/V1/order/{order.entity_id}/ship",
                    "body": pkg.commerce_body,
                }
            )
        if pkg.walmart_body is not None and plan_.via == "direct":
            out.append(
                {
                    "service": "walmart",
                    "method": "POST",
                    "path": f"/v3/orders/{po}/shipping",
                    "body": pkg.walmart_body,
                }
            )
    return out


def execute(
    deps: Deps,
    req: ShipRequest,
    settings: Settings,
    *,
    dry_run: bool = False,
    lock_timeout: float = 60.0,
    lease_ttl: float = 600.0,
    order: Order | None = None,
    shipments: list[Shipment] | None = None,
) -> dict[str, Any]:
    """Read → plan → act → confirm. Returns the --json document; raises WmsyncError on refusal/failure.

    ``order`` and ``shipments``: the Commerce order and its shipments when the caller has just read them in
    bulk (``wmsync sync``), so they are not searched again; the Walmart order is always read afresh once the
    order's lease is held."""
    from wmsync.errors import UnconfirmedError
    from wmsync.workflows.base import find_commerce_order, purchase_order_of

    precheck(deps.store, req)
    read_at = deps.journal.now()
    if order is None:
        order = find_commerce_order(deps.commerce, deps.store, req.order)
    po = purchase_order_of(order, deps.store)
    with order_lease(
        deps.journal,
        deps.store_name,
        po,
        order.increment_id,
        dry_run=dry_run,
        wait=lock_timeout,
        ttl=lease_ttl + settings.timeout + settings.unknown_grace,
        sleep=deps.clock.sleep,
    ):
        if not dry_run and deps.journal.changed_since(deps.store_name, po, read_at):
            # another run worked on this order after it was read: plan from what it left, not from before
            order = Order.model_validate(deps.commerce.get_order(order.entity_id))
            if shipments is not None:
                shipments = [Shipment.model_validate(s) for s in deps.commerce.list_shipments(order.entity_id)]
        wm = read_walmart_order(deps.walmart, po, order.increment_id)
        pair = OrderPair(order, po, wm)
        if shipments is not None:
            pair.shipments = list(shipments)
        elif req.carrier is None or any(i.qty_shipped > 0 for i in order.items):
            pair.shipments = [Shipment.model_validate(s) for s in deps.commerce.list_shipments(order.entity_id)]
        the_plan = plan(pair, deps.store, req, now_ms=now_ms(deps.clock))
        for note in the_plan.notes:
            deps.note(note)
        base: dict[str, Any] = {
            "order": order.increment_id,
            "purchase_order_id": po,
            "via": the_plan.via,
            "checks": the_plan.checks,
            "notes": the_plan.notes,
        }
        single = the_plan.packages[0] if len(the_plan.packages) == 1 else None
        base["carrier"] = single.carrier.name if single else None
        base["tracking_number"] = single.tracking_number if single else None
        all_skus = {s for p in the_plan.packages for s in p.sku_qty}
        if dry_run:
            base["result"] = "dry_run"
            base["requests"] = request_list(the_plan)
            base["lines"] = line_report(wm, all_skus)
            base["correlation_ids"] = list(deps.walmart.correlation_ids)
            return base
        runner = ShipRunner(
            store_name=deps.store_name,
            store=deps.store,
            commerce=deps.commerce,
            walmart=deps.walmart,
            journal=deps.journal,
            clock=deps.clock,
            settings=settings,
            progress=renewing(
                deps.progress,
                deps.journal,
                deps.store_name,
                po,
                dry_run=dry_run,
                ttl=lease_ttl + settings.timeout + settings.unknown_grace,
            ),
        )
        results: list[dict[str, Any]] = []
        latest = wm
        for pkg in the_plan.packages:
            res, wm_after = runner.run_package(the_plan, pkg)
            if wm_after is not None:
                latest = wm_after
            results.append(
                {
                    "tracking_number": pkg.tracking_number,
                    "carrier": pkg.carrier.name,
                    "result": res,
                    "items": pkg.sku_qty,
                }
            )
        order_of = {"pending": 3, "confirmed": 2, "already_done": 1}
        overall = max((r["result"] for r in results), key=lambda r: order_of.get(r, 0)) if results else "already_done"
        base["result"] = overall
        if len(results) > 1:
            base["packages"] = results
        base["lines"] = line_report(latest, all_skus)
        base["correlation_ids"] = list(deps.walmart.correlation_ids)
        if overall == "pending" and settings.wait:
            err = UnconfirmedError(
                f"sent, but Walmart did not show the shipment within {settings.timeout:.0f}s",
                hint=f"`wmsync status {order.increment_id} --wait` keeps watching; re-running ship never sends it "
                "twice",
            )
            err.payload = base  # type: ignore[attr-defined]
            raise err
        return base
