"""``wmsync ship``: read both sides → plan (pure, :mod:`wmsync.workflows.ship_plan`) → act → confirm.

Per package, in order: acknowledge Created Walmart lines (both modes), create the Commerce shipment, post the
shipment to Walmart (direct mode), wait until Walmart shows it. Each write is a journalled step
(:mod:`wmsync.workflows.steps`), so a re-run after a crash or an unknown outcome ships exactly what is missing
and never creates a second shipment for one tracking number on either side."""

from __future__ import annotations

import math
from dataclasses import replace

from wmsync.clock import Clock
from wmsync.commerce.models import Order, Shipment
from wmsync.errors import UnconfirmedError, WmsyncError
from wmsync.journal import ALREADY_DONE, CONFIRMED, PENDING
from wmsync.tracking_key import tracking_key
from wmsync.walmart.models import WalmartOrder
from wmsync.workflows.base import OrderPair
from wmsync.workflows.context import Context
from wmsync.workflows.pairing import commerce_sku_items, shipment_with_track, shipped_with
from wmsync.workflows.results import PackageOutcome, PlannedRequest, Result, ShipOutcome, line_report
from wmsync.workflows.session import order_session
from wmsync.workflows.ship_plan import (
    Package,
    ShipPlan,
    ShipRequest,
    Via,
    confirmed,
    plan,
    plan_package,
    precheck,
    resolve,
)
from wmsync.workflows.steps import Operation, operation, sent_earlier, wait_confirmed, write_step

__all__ = [
    "Package",
    "ShipPlan",
    "ShipRequest",
    "Via",
    "confirmed",
    "execute",
    "plan",
    "plan_package",
    "precheck",
    "resolve",
    "run_package",
]


def now_ms(clock: Clock) -> int:
    return math.floor(clock.time() * 1000)


def requests_of(plan_: ShipPlan) -> tuple[PlannedRequest, ...]:
    """The exact requests the plan will send, for --dry-run."""
    po, order = plan_.purchase_order_id, plan_.order
    out: list[PlannedRequest] = []
    for pkg in plan_.packages:
        if pkg.acknowledge:
            out.append(PlannedRequest("walmart", "POST", f"/v3/orders/{po}/acknowledge", None))
        if pkg.commerce_body is not None:
            out.append(PlannedRequest("commerce", "POST", f"/V1/order/{order.entity_id}/ship", pkg.commerce_body))
        if pkg.walmart_body is not None and plan_.via == "direct":
            out.append(PlannedRequest("walmart", "POST", f"/v3/orders/{po}/shipping", pkg.walmart_body))
    return tuple(out)


# ---------------------------------------------------------------- the steps of one package, in order


def _walmart_order(ctx: Context, po: str) -> WalmartOrder:
    return ctx.walmart.get_order(po)


def acknowledge(op: Operation, plan_: ShipPlan, pkg: Package, latest: WalmartOrder) -> WalmartOrder:
    """Created lines are acknowledged first, in both modes: Walmart ships only acknowledged lines, and Channel
    Manager's push of the Commerce shipment fails on a Created one. Safe to repeat, so not guarded."""
    if not pkg.acknowledge:
        return latest
    op.ctx.progress("acknowledging Walmart lines")
    plan_.shipments_fresh = False  # a round trip passes before the Commerce write: read Commerce again then
    op.step("acknowledge", "started")
    acked = op.ctx.walmart.acknowledge(plan_.purchase_order_id)
    op.step("acknowledge", "done")
    op.sent.append("acknowledge")
    return acked


def create_commerce_shipment(op: Operation, plan_: ShipPlan, pkg: Package) -> None:
    if pkg.commerce_body is None:
        return
    ctx, order, body, tracking = op.ctx, plan_.order, pkg.commerce_body, pkg.tracking_number

    def find() -> int | None:
        read = ctx.shipments_reader or ctx.commerce.list_shipments  # a file run's workers read together
        shipments = read(order.entity_id)
        found = shipment_with_track(shipments, tracking)
        return None if found is None else (found.entity_id or 0)

    # The plan creates a shipment only when none carries this tracking number. Another machine (its own data
    # directory, so its own leases) may have created one since the plan read Commerce: read again just before
    # the write, which narrows that window to one round trip. Shared state closes it
    # (with shared state the order's lease already keeps every other machine off it: no need)
    # (shipments read with the Walmart order, after the lease was taken, are that re-read: the first package
    # of a plan made from them need not read them again)
    other = None if ctx.journal.shared or plan_.shipments_fresh else find()
    plan_.shipments_fresh = False  # this run's own write follows: a next package reads again
    if other is not None:
        ctx.note(
            f"Commerce shipment #{other} with tracking number {tracking} was created meanwhile by another run; "
            "not creating a second one"
        )
        op.step("commerce_ship", "done", {"shipment_id": other, "note": "created by another run"})
        return

    write_step(
        op,
        "commerce_ship",
        progress="creating the Commerce shipment",
        body=body,
        send=lambda: ctx.commerce.ship(order.entity_id, body),
        read=find,
        applied=lambda sid: sid is not None,
        what=f"the Commerce shipment with tracking number {tracking}",
        done=lambda sid: {"shipment_id": sid},
    )


def post_to_walmart(op: Operation, plan_: ShipPlan, pkg: Package, latest: WalmartOrder) -> tuple[WalmartOrder, bool]:
    """Returns (latest Walmart order, whether it was already on Walmart — posted by something else)."""
    if pkg.walmart_body is None or plan_.via != "direct" or sent_earlier(op, "walmart_ship"):
        return latest, False
    ctx, po, body, tracking = op.ctx, plan_.purchase_order_id, pkg.walmart_body, pkg.tracking_number
    # Walmart applies a shipping update as a whole: any quantity with this tracking number beyond what the plan
    # saw means it went through
    before = sum(shipped_with(plan_.walmart, tracking).values())
    try:
        latest = write_step(
            op,
            "walmart_ship",
            progress="posting the shipment to Walmart",
            body=body,
            send=lambda: ctx.walmart.ship(po, body),
            read=lambda: _walmart_order(ctx, po),
            applied=lambda wm: sum(shipped_with(wm, tracking).values()) > before,
            what=f"the Walmart shipping update with tracking number {tracking}",
            correlation_id=lambda: ctx.walmart.correlation_ids[-1] if ctx.walmart.correlation_ids else None,
        )
    except WmsyncError as exc:
        # Something else (Channel Manager) may have posted it meanwhile: that is done, not an error.
        if getattr(exc, "status", None) == 400:
            latest = _walmart_order(ctx, po)
            if confirmed(latest, pkg):
                op.step("walmart_ship", "done", {"note": "already on Walmart"})
                return latest, True
        raise
    return latest, False


def await_walmart(op: Operation, pkg: Package, po: str, latest: WalmartOrder) -> tuple[Result, WalmartOrder]:
    ctx = op.ctx
    if confirmed(latest, pkg):
        op.finish(CONFIRMED, Result.CONFIRMED)
        return Result.CONFIRMED, latest
    deadline = ctx.clock.time() + ctx.settings.timeout
    if not ctx.settings.wait:
        op.finish(PENDING, Result.PENDING, confirm_deadline=deadline)
        return Result.PENDING, latest
    ctx.progress("waiting for Walmart to show the shipment")
    ok, seen = wait_confirmed(
        ctx,
        lambda: _walmart_order(ctx, po),
        lambda wm: confirmed(wm, pkg),
        on_wait=lambda el, d: ctx.progress(f"waiting for Walmart ({el:.0f}s, next look in {d:.0f}s)"),
    )
    result = Result.CONFIRMED if ok else Result.PENDING
    op.finish(CONFIRMED if ok else PENDING, result, confirm_deadline=None if ok else deadline)
    return result, seen or latest


def run_package(
    ctx: Context, plan_: ShipPlan, pkg: Package, sent: list[str] | None = None
) -> tuple[Result, WalmartOrder]:
    """One package, journalled as one operation. Returns (result, latest Walmart order); the writes it made
    are added to ``sent``."""
    order, po = plan_.order, plan_.purchase_order_id
    params = {
        "tracking_number": pkg.tracking_number,
        "carrier": pkg.carrier.name,
        "items": pkg.sku_qty,
        "via": plan_.via,
    }
    key = f"ship:{po}:{tracking_key(pkg.tracking_number)}"
    with operation(
        ctx, kind="ship", key=key, order_number=order.increment_id, purchase_order_id=po, params=params
    ) as op:
        if sent is not None:
            op = replace(op, sent=sent)  # the caller's list: the writes count even when a later step raises
        if pkg.nothing_to_do and confirmed(plan_.walmart, pkg):
            op.finish(ALREADY_DONE, Result.ALREADY_DONE)
            return Result.ALREADY_DONE, plan_.walmart
        latest = acknowledge(op, plan_, pkg, plan_.walmart)
        create_commerce_shipment(op, plan_, pkg)
        latest, already = post_to_walmart(op, plan_, pkg, latest)
        if already:
            op.finish(ALREADY_DONE, Result.ALREADY_DONE)
            return Result.ALREADY_DONE, latest
        return await_walmart(op, pkg, po, latest)


# ---------------------------------------------------------------- the whole command


def _settle_sources(ctx: Context, plan_: ShipPlan, asked: str | None) -> None:
    """Each Commerce shipment names the inventory source it leaves from, checked to hold its items, before
    anything is sent (:mod:`wmsync.workflows.sources`)."""
    from wmsync.workflows.sources import choose_source

    for pkg in plan_.packages:
        body = pkg.commerce_body
        if body is None:
            continue
        items = [(int(i["order_item_id"]), int(i["qty"])) for i in body.get("items", [])]
        code = choose_source(ctx, plan_.order, items, asked)
        new = {k: v for k, v in body.items() if k != "arguments"}
        if code:
            new["arguments"] = {"extension_attributes": {"source_code": code}}
            if ctx.commerce.msi_sources() is not None:
                plan_.checks.append(f"inventory source {code!r} holds the package's items")
        pkg.commerce_body = new


def execute(
    ctx: Context,
    req: ShipRequest,
    *,
    dry_run: bool = False,
    lock_timeout: float = 60.0,
    order: Order | None = None,
    shipments: list[Shipment] | None = None,
    read_at: float | None = None,
) -> ShipOutcome:
    """Read → plan → act → confirm. Raises WmsyncError on refusal/failure, UnconfirmedError (with the outcome)
    when Walmart did not show it in time.

    ``order`` and ``shipments``: the Commerce order and its shipments when the caller has read them in bulk
    (``wmsync sync``, file runs), so they are not searched again, and ``read_at`` the journal time of that read;
    the Walmart order is always read afresh once the order's lease is held."""
    req = replace(req, items=commerce_sku_items(req.items, ctx.store.skus))
    precheck(ctx.store, req)
    commerce = ctx.commerce

    def wants_shipments(o: Order) -> bool:
        # the plan needs them (no carrier, or some items shipped); a write reads them just before creating a
        # shipment anyway (another machine may have made one) unless the lease is shared: read them now, with
        # the Walmart order, so that re-read is this one
        return req.carrier is None or any(i.qty_shipped > 0 for i in o.items) or (
            not dry_run and not ctx.journal.shared)

    def read_shipments(o: Order) -> list[Shipment] | None:
        return commerce.list_shipments(o.entity_id) if wants_shipments(o) else None

    with order_session(ctx, req.order, dry_run=dry_run, lock_timeout=lock_timeout, order=order,
                       read_at=read_at, also=read_shipments if shipments is None else None) as session:
        ctx, order, po = session.ctx, session.order, session.purchase_order_id
        if session.changed and shipments is not None:
            shipments = ctx.commerce.list_shipments(order.entity_id)
        wm = session.walmart
        pair = OrderPair(order, po, wm)
        fresh = False  # the shipments were read with the Walmart order, once the lease was held
        if shipments is not None:
            pair.shipments = list(shipments)
        elif session.also is not None:
            pair.shipments = list(session.also)
            fresh = True
        the_plan = plan(pair, ctx.store, req, now_ms=now_ms(ctx.clock))
        the_plan.shipments_fresh = fresh
        _settle_sources(ctx, the_plan, req.source)
        sent: list[str] = []  # the writes this run makes, for the headline
        for note in the_plan.notes:
            ctx.note(note)
        single = the_plan.packages[0] if len(the_plan.packages) == 1 else None
        all_skus = {s for p in the_plan.packages for s in p.sku_qty}

        def outcome(
            result: Result,
            latest: WalmartOrder,
            *,
            requests: tuple[PlannedRequest, ...] | None = None,
            packages: tuple[PackageOutcome, ...] | None = None,
        ) -> ShipOutcome:
            return ShipOutcome(
                order=order.increment_id,
                purchase_order_id=po,
                via=the_plan.via,
                checks=tuple(the_plan.checks),
                notes=tuple(the_plan.notes),
                carrier=single.carrier.name if single else None,
                tracking_number=single.tracking_number if single else None,
                result=result,
                lines=line_report(latest, all_skus),
                correlation_ids=tuple(ctx.walmart.correlation_ids),
                requests=requests,
                packages=packages,
                sent=tuple(dict.fromkeys(sent)),
            )

        if dry_run:
            return outcome(Result.DRY_RUN, wm, requests=requests_of(the_plan))
        results: list[PackageOutcome] = []
        latest = wm
        for pkg in the_plan.packages:
            res, latest = run_package(ctx, the_plan, pkg, sent)
            results.append(PackageOutcome(pkg.tracking_number, pkg.carrier.name, res, dict(pkg.sku_qty)))
        overall = Result.overall(r.result for r in results)
        done = outcome(overall, latest, packages=tuple(results) if len(results) > 1 else None)
        if overall is Result.PENDING and ctx.settings.wait:
            raise UnconfirmedError(
                f"sent, but Walmart did not show the shipment within {ctx.settings.timeout:.0f}s",
                hint=f"`wmsync status {order.increment_id} --wait` keeps watching; re-running ship never sends it "
                "twice",
                outcome=done,
            )
        return done
