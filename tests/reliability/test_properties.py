"""Property tests (issue item 6): the ship and cancel planners on random multi-SKU orders with split lines,
earlier partial shipments and cancellations, Created lines and customer intents to cancel; and the error parsers
on any body and header.

The planners' properties: allocation never exceeds what is left, never touches a line (or a Commerce item) that
was not asked for, a valid request is never refused, and a plan applied twice equals the plan applied once —
also when the first attempt stopped between its writes (a crash): re-planning from the resulting state and
applying finishes in exactly the state one uninterrupted run reaches. "Apply" mutates the order data as the
services would, and refuses anything they would refuse (more than is open, a line that does not exist)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from wmsync.commerce import client as commerce_client
from wmsync.commerce.models import Order, Shipment
from wmsync.config import StoreConfig
from wmsync.errors import ApiError, RefusedError, UsageError
from wmsync.http import RetryPolicy, decide, parse_retry_after
from wmsync.walmart import client as walmart_client
from wmsync.walmart.models import WalmartOrder
from wmsync.workflows import cancel as cancel_wf
from wmsync.workflows import ship as ship_wf
from wmsync.workflows.base import OrderPair

PO = "1077700012345"
NOW_MS = 1_790_000_000_000
STORE = StoreConfig(commerce_url="https://shop.test", walmart_client_id="cid")
SKUS = ("SKU-A", "SKU-B", "SKU-C", "SKU-D")
PAST_TRACKING = ("1ZPAST0000000001", "1ZPAST0000000002")
NEW_TRACKING = "1ZNEWPACKAGE00042"
PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- a small model of both sides


@dataclass
class Line:
    number: int
    sku: str
    created: int
    acked: int
    shipped: list[tuple[int, str]] = field(default_factory=list)  # (qty, tracking number)
    cancelled: list[tuple[int, str]] = field(default_factory=list)  # (qty, reason)
    intent: bool = False

    @property
    def quantity(self) -> int:
        return self.created + self.acked + sum(q for q, _ in self.shipped) + sum(q for q, _ in self.cancelled)

    @property
    def open(self) -> int:
        return self.created + self.acked

    def take_open(self, qty: int) -> None:
        """Walmart refuses more than the line has open."""
        assert 0 < qty <= self.open, f"line {self.number}: {qty} asked, {self.open} open"
        from_acked = min(qty, self.acked)
        self.acked -= from_acked
        self.created -= qty - from_acked


@dataclass
class Item:
    item_id: int
    sku: str
    ordered: int
    shipped: int = 0
    canceled: int = 0


@dataclass
class World:
    items: list[Item]
    lines: list[Line]
    shipments: list[dict[str, Any]] = field(default_factory=list)
    state: str = "processing"
    comments: list[str] = field(default_factory=list)

    # ------------------------------------------------------------ as the services show it

    def order(self) -> Order:
        return Order.model_validate({
            "entity_id": 7, "increment_id": "000000007", "state": self.state, "status": self.state,
            "ext_order_id": PO,
            "items": [{"item_id": i.item_id, "sku": i.sku, "qty_ordered": i.ordered, "qty_shipped": i.shipped,
                       "qty_canceled": i.canceled, "product_type": "simple"} for i in self.items],
            "status_histories": [{"comment": c} for c in self.comments],
        })

    def walmart(self) -> WalmartOrder:
        lines = []
        for ln in self.lines:
            statuses: list[dict[str, Any]] = []
            for status, qty in (("Created", ln.created), ("Acknowledged", ln.acked)):
                if qty:
                    statuses.append({"status": status, "statusQuantity": {"unitOfMeasurement": "EACH",
                                                                          "amount": str(qty)}})
            for qty, tracking in ln.shipped:
                statuses.append({"status": "Shipped", "statusQuantity": {"unitOfMeasurement": "EACH",
                                                                         "amount": str(qty)},
                                 "trackingInfo": {"trackingNumber": tracking, "carrierName": {"carrier": "UPS"},
                                                  "methodCode": "Standard", "shipDateTime": NOW_MS}})
            for qty, reason in ln.cancelled:
                statuses.append({"status": "Cancelled", "cancellationReason": reason,
                                 "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty)}})
            line: dict[str, Any] = {"lineNumber": str(ln.number), "item": {"sku": ln.sku, "productName": ln.sku},
                                    "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": str(ln.quantity)},
                                    "orderLineStatuses": {"orderLineStatus": statuses}}
            if ln.intent:
                line["intentToCancel"] = "Yes"
            lines.append(line)
        return WalmartOrder.model_validate({"purchaseOrderId": PO, "orderDate": NOW_MS - 86_400_000,
                                            "shippingInfo": {"methodCode": "Standard"},
                                            "orderLines": {"orderLine": lines}})

    def commerce_shipments(self) -> list[Shipment]:
        return [Shipment.model_validate(s) for s in self.shipments]

    def line(self, number: str) -> Line:
        found = [ln for ln in self.lines if str(ln.number) == number]
        assert len(found) == 1, f"no line {number}"  # Walmart refuses an unknown line
        return found[0]

    def item(self, item_id: int) -> Item:
        found = [i for i in self.items if i.item_id == item_id]
        assert len(found) == 1, f"no item {item_id}"
        return found[0]

    def canonical(self) -> Any:
        """The state, with what the services would number differently left out (shipment ids)."""
        return (
            sorted((i.item_id, i.sku, i.ordered, i.shipped, i.canceled) for i in self.items),
            sorted((ln.number, ln.sku, ln.created, ln.acked, tuple(sorted(ln.shipped)), tuple(sorted(ln.cancelled)))
                   for ln in self.lines),
            sorted((tuple(sorted((x["order_item_id"], x["qty"]) for x in s["items"])),
                    tuple(sorted(t["track_number"] for t in s["tracks"]))) for s in self.shipments),
            self.state,
            sorted(self.comments),
        )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """A random order: 1-4 SKUs, each quantity on one line or split over several, some units already shipped
    (with one of two past tracking numbers, on both sides) or cancelled on Walmart (Commerce has no partial
    cancel, so it still counts them as ordered), lines Created or Acknowledged, maybe an intent to cancel."""
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=4, unique=True))
    items: list[Item] = []
    lines: list[Line] = []
    shipments: dict[str, dict[int, int]] = {}
    number = 0
    for k, sku in enumerate(skus):
        total = draw(st.integers(min_value=1, max_value=5))
        parts = draw(st.sampled_from(["one", "ones", "random"]))
        if parts == "one":
            split = [total]
        elif parts == "ones":
            split = [1] * total
        else:
            split, left = [], total
            while left:
                q = draw(st.integers(min_value=1, max_value=left))
                split.append(q)
                left -= q
        item = Item(item_id=k + 1, sku=sku, ordered=total)
        items.append(item)
        for qty in split:
            number += 1
            created = draw(st.booleans())
            ln = Line(number=number, sku=sku, created=qty if created else 0, acked=0 if created else qty,
                      intent=draw(st.integers(0, 9)) == 0)
            if not created:
                shipped = draw(st.integers(min_value=0, max_value=ln.open))
                if shipped:
                    tracking = draw(st.sampled_from(PAST_TRACKING))
                    ln.take_open(shipped)
                    ln.shipped.append((shipped, tracking))
                    item.shipped += shipped
                    per_item = shipments.setdefault(tracking, {})
                    per_item[item.item_id] = per_item.get(item.item_id, 0) + shipped
                cancelled = draw(st.integers(min_value=0, max_value=ln.open))
                if cancelled:
                    ln.take_open(cancelled)
                    ln.cancelled.append((cancelled, "SELLER_CANCEL_OUT_OF_STOCK"))
            lines.append(ln)
    world = World(items=items, lines=lines)
    for sid, (tracking, per_item) in enumerate(sorted(shipments.items()), start=1):
        world.shipments.append({"entity_id": sid, "order_id": 7,
                                "items": [{"order_item_id": i, "qty": q} for i, q in sorted(per_item.items())],
                                "tracks": [{"track_number": tracking, "carrier_code": "ups", "title": "UPS"}]})
    return world


# ---------------------------------------------------------------- ship


def ship_plan(world: World, items: dict[str, int | None] | None, override: bool) -> ship_wf.Package:
    req = ship_wf.ShipRequest(order="000000007", carrier="UPS", tracking=NEW_TRACKING, items=items,
                              override_intent_to_cancel=override, skip_format_check=True)
    pair = OrderPair(world.order(), PO, world.walmart(), world.commerce_shipments())
    p = ship_wf.plan(pair, STORE, req, now_ms=NOW_MS)
    assert len(p.packages) == 1
    return p.packages[0]


def apply_ship(world: World, pkg: ship_wf.Package, *, commerce: bool = True, walmart: bool = True) -> None:
    """What Walmart and Commerce do with the package's requests (each refuses more than is left)."""
    if pkg.acknowledge and walmart:
        for ln in world.lines:
            ln.acked += ln.created
            ln.created = 0
    if commerce and pkg.commerce_body is not None:
        body = pkg.commerce_body
        assert body["tracks"][0]["track_number"] == pkg.tracking_number
        for entry in body["items"]:
            item = world.item(entry["order_item_id"])
            assert 0 < entry["qty"] <= item.ordered - item.shipped - item.canceled, "Commerce: more than left"
            item.shipped += entry["qty"]
        world.shipments.append({"entity_id": 100 + len(world.shipments), "order_id": 7, "items": body["items"],
                                "tracks": body["tracks"]})
    if walmart and pkg.walmart_body is not None:
        for entry in pkg.walmart_body["orderShipment"]["orderLines"]["orderLine"]:
            ln = world.line(entry["lineNumber"])
            for status in entry["orderLineStatuses"]["orderLineStatus"]:
                qty = int(status["statusQuantity"]["amount"])
                assert status["trackingInfo"]["trackingNumber"] == pkg.tracking_number
                ln.take_open(qty)
                ln.shipped.append((qty, pkg.tracking_number))


def left_to_ship(world: World, sku: str) -> int:
    item = next(i for i in world.items if i.sku == sku)
    open_wm = sum(ln.open for ln in world.lines if ln.sku == sku)
    return min(item.ordered - item.shipped - item.canceled, open_wm)


@st.composite
def ship_cases(draw: st.DrawFn) -> tuple[World, dict[str, int | None] | None, bool]:
    world = draw(worlds())
    if draw(st.booleans()):
        items = None
    else:
        present = [i.sku for i in world.items]
        chosen = draw(st.lists(st.sampled_from(present), min_size=1, max_size=len(present), unique=True))
        items = {sku: draw(st.one_of(st.none(), st.integers(min_value=1, max_value=6))) for sku in chosen}
    return world, items, draw(st.booleans())


@PROPERTY
@given(case=ship_cases(), crash=st.sampled_from(["none", "after_commerce", "after_walmart"]))
def test_ship_plan_properties(case: tuple[World, dict[str, int | None] | None, bool], crash: str) -> None:
    world, items, override = case
    asked = {i.sku: None for i in world.items} if items is None else items
    left = {sku: left_to_ship(world, sku) for sku in asked}
    refusal: Exception | None = None
    try:
        pkg = ship_plan(world, items, override)
    except (RefusedError, UsageError) as exc:
        refusal = exc
    if refusal is not None:  # refused: only when it had to be
        event("ship: refused")
        too_much = [s for s, q in asked.items() if items is not None and (left[s] == 0 or (q or 0) > left[s])]
        nothing = items is None and not any(left.values())
        intent = not override and any(ln.intent and ln.open and ln.sku in asked for ln in world.lines)
        assert too_much or nothing or intent, f"a valid request was refused: {refusal}"
        if not (too_much or nothing):
            assert "asked to cancel" in str(refusal)
        return

    event(f"ship: planned, {len(pkg.walmart_alloc)} allocation(s), crash {crash}")
    # nothing more than what is left, nothing that was not asked
    want = {s: (left[s] if q is None else q) for s, q in asked.items()}
    want = {s: q for s, q in want.items() if q}
    assert pkg.sku_qty == want
    per_line: dict[str, int] = {}
    for a in pkg.walmart_alloc:
        per_line[a.line_number] = per_line.get(a.line_number, 0) + a.qty
    for number, qty in per_line.items():
        ln = world.line(number)
        assert ln.sku in want, f"line {number} ({ln.sku}) was not asked for"
        assert 0 < qty <= ln.open
        assert override or not ln.intent
    for sku, qty in want.items():
        assert sum(q for n, q in per_line.items() if world.line(n).sku == sku) == qty
    assert pkg.commerce_body is not None
    assert {world.item(e["order_item_id"]).sku for e in pkg.commerce_body["items"]} == set(want)
    assert pkg.acknowledge == any(world.line(n).created for n in per_line)

    once = copy.deepcopy(world)
    apply_ship(once, pkg)
    # the plan applied twice equals the plan applied once: planning again finds nothing to send
    again = ship_plan(once, items, override)
    assert again.nothing_to_do, again
    assert ship_wf.confirmed(once.walmart(), again)
    twice = copy.deepcopy(once)
    apply_ship(twice, again)
    assert twice.canonical() == once.canonical()

    # a first attempt that stopped between its writes: the re-plan sends only what is missing
    if crash != "none":
        partial = copy.deepcopy(world)
        apply_ship(partial, pkg, commerce=crash == "after_commerce", walmart=crash == "after_walmart")
        rest = ship_plan(partial, items, override)
        if crash == "after_commerce":
            assert rest.commerce_body is None, "a second Commerce shipment for one tracking number"
        else:
            assert rest.walmart_body is None, "a second Walmart shipment for one tracking number"
        apply_ship(partial, rest)
        assert partial.canonical() == once.canonical()


# ---------------------------------------------------------------- cancel


def cancel_plan(world: World, items: dict[str, int | None] | None, baseline: dict[str, int] | None,
                walmart_only: bool) -> cancel_wf.CancelPlan:
    req = cancel_wf.CancelRequest(order="000000007", reason="out-of-stock", items=items, walmart_only=walmart_only)
    marker = f"[wmsync {cancel_wf.op_key(PO, items)}]"
    present = any(marker in c for c in world.comments)
    return cancel_wf.plan(world.order(), PO, world.walmart(), req, baseline=baseline, comment_present=present)


def apply_cancel(world: World, p: cancel_wf.CancelPlan, *, walmart: bool = True, commerce: bool = True) -> None:
    if walmart and p.walmart_body is not None:
        for entry in p.walmart_body["orderCancellation"]["orderLines"]["orderLine"]:
            ln = world.line(entry["lineNumber"])
            for status in entry["orderLineStatuses"]["orderLineStatus"]:
                qty = int(status["statusQuantity"]["amount"])
                ln.take_open(qty)
                ln.cancelled.append((qty, status["cancellationReason"]))
    if commerce and p.commerce_cancel:
        assert world.state != "canceled", "Commerce cancelled twice"
        world.state = "canceled"
        for item in world.items:
            item.canceled = item.ordered - item.shipped
    if commerce and p.comment is not None:
        world.comments.append(p.comment)


@st.composite
def cancel_cases(draw: st.DrawFn) -> tuple[World, dict[str, int | None] | None, bool]:
    world = draw(worlds())
    if draw(st.booleans()):
        items = None
    else:
        present = [i.sku for i in world.items]
        chosen = draw(st.lists(st.sampled_from(present), min_size=1, max_size=len(present), unique=True))
        items = {sku: draw(st.one_of(st.none(), st.integers(min_value=1, max_value=6))) for sku in chosen}
    return world, items, draw(st.booleans())


@PROPERTY
@given(case=cancel_cases(), crash=st.booleans())
def test_cancel_plan_properties(case: tuple[World, dict[str, int | None] | None, bool], crash: bool) -> None:
    world, items, walmart_only = case
    baseline = cancel_wf.cancelled_by_sku(world.walmart())  # what the journal records before the first attempt
    open_by_sku = {i.sku: sum(ln.open for ln in world.lines if ln.sku == i.sku) for i in world.items}
    refusal: Exception | None = None
    try:
        p = cancel_plan(world, items, None, walmart_only)
    except (RefusedError, UsageError) as exc:
        refusal = exc
    if refusal is not None:  # refused: only when it had to be
        event("cancel: refused")
        if items is not None:
            assert any(open_by_sku[s] == 0 or (q or 0) > open_by_sku[s] for s, q in items.items()), \
                f"a valid partial cancel was refused: {refusal}"
        else:
            everything_shipped = all(i.shipped >= i.ordered - i.canceled for i in world.items)
            assert not any(open_by_sku.values()) or (everything_shipped and not walmart_only), \
                f"a valid whole cancel was refused: {refusal}"
        return

    event(f"cancel: planned ({'whole' if items is None else 'partial'}), crash {crash}")
    per_line: dict[str, int] = {}
    for a in p.alloc:
        per_line[a.line_number] = per_line.get(a.line_number, 0) + a.qty
    for number, qty in per_line.items():
        ln = world.line(number)
        assert 0 < qty <= ln.open, "more cancelled than is open"
        assert items is None or ln.sku in items, f"line {number} ({ln.sku}) was not asked for"
    wanted = open_by_sku if items is None else {s: (open_by_sku[s] if q is None else q) for s, q in items.items()}
    for sku, qty in wanted.items():
        assert sum(q for n, q in per_line.items() if world.line(n).sku == sku) == qty
    assert p.commerce_cancel == (items is None and not walmart_only)
    if p.walmart_body is not None:
        reasons = {s["cancellationReason"] for e in p.walmart_body["orderCancellation"]["orderLines"]["orderLine"]
                   for s in e["orderLineStatuses"]["orderLineStatus"]}
        assert reasons == {"SELLER_CANCEL_OUT_OF_STOCK"}

    once = copy.deepcopy(world)
    apply_cancel(once, p)
    again = cancel_plan(once, items, baseline, walmart_only)
    assert again.nothing_to_do, again
    twice = copy.deepcopy(once)
    apply_cancel(twice, again)
    assert twice.canonical() == once.canonical()

    if crash:  # stopped after the Walmart cancel, before Commerce
        partial = copy.deepcopy(world)
        apply_cancel(partial, p, commerce=False)
        rest = cancel_plan(partial, items, baseline, walmart_only)
        assert rest.walmart_body is None, "cancelled twice on Walmart"
        apply_cancel(partial, rest)
        assert partial.canonical() == once.canonical()


# ---------------------------------------------------------------- error parsers never crash

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["errors", "error", "code", "field", "description", "info", "message", "parameters",
                         "order", "purchaseOrderId", "x"]) | st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"<html><body>502 Bad Gateway</body></html>", b"", b"null", b"[]", b"{\"errors\": ",
                     b"\xff\xfe\x00", b"{" * 5000 + b"}" * 5000, b"[" * 100_000]),
)
statuses = st.sampled_from([400, 401, 403, 404, 409, 429, 500, 502, 503, 504, 418, 299, 600])


@settings(max_examples=300, deadline=None)
@given(status=statuses, body=bodies)
@example(status=400, body=json.dumps({"message": "%" + "1" * 5000, "parameters": ["x"]}).encode())
@example(status=400, body=json.dumps({"message": "%1 %name", "parameters": {"name": {"deep": [1] * 3}}}).encode())
@example(status=400, body=json.dumps({"errors": {"error": {"code": 5, "description": ["x"]}}}).encode())
def test_error_parsers_never_crash(status: int, body: bytes) -> None:
    for parse in (walmart_client.parse_errors,):
        found = parse(body)
        assert isinstance(found, list)
    message, nested = commerce_client.parse_error(body)
    assert message is None or isinstance(message, str)
    assert all(isinstance(n, str) for n in nested)
    for factory in (walmart_client.error_from_response, commerce_client.error_from_response):
        err = factory(status, body, httpx.Headers({}), "cid-1")
        assert isinstance(err, ApiError)
        assert isinstance(err.message, str)
        assert err.message
        assert err.status == status
        json.dumps(err.to_json())  # the --json error document can always be written


@settings(max_examples=200, deadline=None)
@given(message=st.text(max_size=80), parameters=json_values)
@example(message="%" + "9" * 5000, parameters=["a"])
def test_commerce_placeholders_never_crash(message: str, parameters: Any) -> None:
    assert isinstance(commerce_client.fill_placeholders(message, parameters), str)


header_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["5", "0", "-3", "1e400", "nan", "inf", "-inf", "Fri, 27 Nov 2026 03:00:00 GMT",
                     "Fri, 27 Nov 99999 03:00:00 GMT", "Mon, 32 Foo 2026 25:61:61 XYZ", "1800000000000",
                     "1800000000", "9" * 400, "", "  ", "\x00"]),
)


@settings(max_examples=300, deadline=None)
@given(headers=st.dictionaries(st.sampled_from(["Retry-After", "retry-after", "retry-after-ms",
                                                "x-next-replenish-time", "X-Next-Replenish-Time", "other"]),
                               header_values, max_size=4),
       now=st.floats(min_value=0, max_value=4e9), attempt=st.integers(min_value=1, max_value=30),
       status=statuses, idempotent=st.booleans())
def test_retry_after_and_decision_never_crash(headers: dict[str, str], now: float, attempt: int, status: int,
                                              idempotent: bool) -> None:
    wait = parse_retry_after(headers, now)
    assert wait is None or wait >= 0
    policy = RetryPolicy(max_attempts=5, backoff_base=0.5, backoff_max=30, retry_after_max=120)
    d = decide(idempotent=idempotent, attempt=attempt, policy=policy, status=status, headers=headers, now=now)
    assert 0 <= d.wait <= 120
    if d.retry:
        assert attempt < policy.max_attempts
        assert idempotent or status == 429, "a write retried after it may have been applied"
