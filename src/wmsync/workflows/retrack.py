"""``wmsync ship ORDER --carrier C --tracking NEW --replaces OLD``: the package that shipped under OLD now has NEW.

Checked before anything is sent: NEW passes the carrier's checks, OLD is on the order, and Walmart's window for
tracking corrections (``tracking_update_window``, 4 hours after the first shipping information; Walmart's
ship-an-order guide) is still open. Then, each a journalled write step, in this order:

1. Walmart: a ``PARTIAL_UPDATE`` of exactly the lines shipped under OLD, each naming OLD as
   ``currentTrackingInfo`` (the customer sees the right number first);
2. Commerce: the NEW track added to the shipment that carries OLD;
3. Commerce: the OLD track removed from it.

Every step is planned from what both sides show now, so a re-run after a crash between two steps does only
what is left (Walmart already shows NEW: step 1 is skipped; Commerce has both tracks: only step 3), and a re-run
after all three is ``already_done`` with no write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wmsync.commerce.models import Shipment
from wmsync.errors import RefusedError, UsageError
from wmsync.journal import ALREADY_DONE, CONFIRMED
from wmsync.tracking_key import tracking_key
from wmsync.walmart import rules
from wmsync.walmart.models import WalmartOrder
from wmsync.workflows.context import Context
from wmsync.workflows.results import PlannedRequest, Result, line_report, write_json_tail
from wmsync.workflows.session import order_session
from wmsync.workflows.ship_plan import ShipRequest, precheck, resolve
from wmsync.workflows.steps import operation, write_step

#: Walmart accepts a tracking correction this long after a line's first shipping information (4 hours)
DEFAULT_WINDOW_S = 4 * 3600.0


@dataclass(frozen=True)
class RetrackRequest:
    order: str
    carrier: str
    tracking: str
    replaces: str
    tracking_url: str | None = None
    skip_format_check: bool = False


@dataclass(frozen=True)
class RetrackOutcome:
    order: str
    purchase_order_id: str
    carrier: str
    tracking_number: str
    replaces: str
    result: Result
    lines: tuple[Any, ...]
    sent: tuple[str, ...] = ()
    requests: tuple[PlannedRequest, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "order": self.order,
            "purchase_order_id": self.purchase_order_id,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "replaces": self.replaces,
            "result": str(self.result),
        }
        return write_json_tail(out, self.requests, self.lines, self.sent)


def _shipped_under(wm: WalmartOrder, number: str) -> list[tuple[str, int, Any]]:
    """(line number, quantity, the Shipped status) of the lines Walmart shows shipped under ``number``."""
    key = tracking_key(number)
    out = []
    for line in wm.lines:
        for s in line.statuses:
            t = s.trackingInfo
            if s.status == "Shipped" and t is not None and tracking_key(t.trackingNumber or "") == key:
                out.append((line.lineNumber, s.quantity, s))
    return out


def _track_of(shipments: list[Shipment], number: str) -> tuple[Shipment, Any] | None:
    key = tracking_key(number)
    for sh in shipments:
        for t in sh.tracks:
            if tracking_key(t.track_number or "") == key:
                return sh, t
    return None


def walmart_body(order_number: str, lines: list[tuple[str, int, Any]], carrier: rules.ResolvedCarrier,
                 new: str, old: str) -> dict[str, Any]:
    entries = []
    for number, qty, status in lines:
        t = status.trackingInfo
        info: dict[str, Any] = {
            "shipDateTime": t.shipDateTime,
            "carrierName": carrier.carrier_name(),
            "methodCode": t.methodCode or "Standard",
            "trackingNumber": new,
        }
        if carrier.tracking_url:
            info["trackingURL"] = carrier.tracking_url
        entries.append({
            "lineNumber": number,
            "sellerOrderId": order_number,
            "orderLineStatuses": {"orderLineStatus": [{
                "status": "Shipped",
                "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty)},
                "trackingInfo": info,
                "currentTrackingInfo": {"trackingNumber": old},
            }]},
        })
    return {"orderShipment": {"processMode": "PARTIAL_UPDATE", "orderLines": {"orderLine": entries}}}


def execute(ctx: Context, req: RetrackRequest, *, dry_run: bool = False, lock_timeout: float = 60.0) -> RetrackOutcome:
    if tracking_key(req.tracking) == tracking_key(req.replaces):
        raise UsageError("--replaces names the same tracking number as --tracking")
    precheck(ctx.store, ShipRequest(order=req.order, carrier=req.carrier, tracking=req.tracking,
                                    tracking_url=req.tracking_url, skip_format_check=req.skip_format_check))
    carrier = resolve(ctx.store, req.carrier, tracking_url=req.tracking_url, tracking=req.tracking)
    with order_session(ctx, req.order, dry_run=dry_run, lock_timeout=lock_timeout) as session:
        ctx, order, po, wm = session.ctx, session.order, session.purchase_order_id, session.walmart
        shipments = ctx.commerce.list_shipments(order.entity_id)
        old_lines = _shipped_under(wm, req.replaces)
        new_lines = _shipped_under(wm, req.tracking)
        old_track = _track_of(shipments, req.replaces)
        new_track = _track_of(shipments, req.tracking)
        if not old_lines and not new_lines and old_track is None and new_track is None:
            raise RefusedError(
                f"tracking number {req.replaces} is not on order {order.increment_id} (neither side shows it)",
                hint=f"`wmsync status {order.increment_id}` shows the tracking numbers it was shipped with",
            )
        if old_lines:
            window = ctx.store.tracking_update_window_s
            first = min((s.trackingInfo.shipDateTime or 0) for _n, _q, s in old_lines)
            age = ctx.clock.time() - first / 1000 if first else 0.0
            if age > window:
                raise RefusedError(
                    f"Walmart corrects a tracking number only within {window / 3600:g} hours of the first shipping "
                    f"information; {req.replaces} was sent {age / 3600:.1f} hours ago",
                    hint="correct it in Walmart Seller Center (or ask Walmart support); nothing was sent",
                )
        body = walmart_body(order.increment_id, old_lines, carrier, req.tracking, req.replaces) if old_lines else None
        code = rules.magento_code(carrier.carrier)
        requests: list[PlannedRequest] = []
        if body is not None:
            requests.append(PlannedRequest("walmart", "POST", f"/v3/orders/{po}/shipping", body))
        holder = (old_track or new_track)
        if new_track is None and holder is not None:
            requests.append(PlannedRequest("commerce", "POST", "/V1/shipment/track", {"entity": {
                "order_id": order.entity_id, "parent_id": holder[0].entity_id, "track_number": req.tracking,
                "title": carrier.name, "carrier_code": code}}))
        if old_track is not None and old_track[1].entity_id is not None:
            requests.append(PlannedRequest("commerce", "DELETE", f"/V1/shipment/track/{old_track[1].entity_id}",
                                           None))

        def outcome(result: Result, latest: WalmartOrder, sent: tuple[str, ...] = (),
                    planned: tuple[PlannedRequest, ...] | None = None) -> RetrackOutcome:
            return RetrackOutcome(order.increment_id, po, carrier.name, req.tracking, req.replaces, result,
                                  line_report(latest), sent, planned)

        if dry_run:
            return outcome(Result.DRY_RUN, wm, planned=tuple(requests))
        key = f"retrack:{po}:{tracking_key(req.replaces)}:{tracking_key(req.tracking)}"
        params = {"tracking_number": req.tracking, "replaces": req.replaces, "carrier": carrier.name}
        with operation(ctx, kind="retrack", key=key, order_number=order.increment_id, purchase_order_id=po,
                       params=params) as op:
            if not requests:
                op.finish(ALREADY_DONE, Result.ALREADY_DONE)
                return outcome(Result.ALREADY_DONE, wm)
            latest = wm
            if body is not None:
                latest = write_step(
                    op, "walmart_retrack", progress="correcting the tracking number on Walmart", body=body,
                    send=lambda: ctx.walmart.ship(po, body),
                    read=lambda: ctx.walmart.get_order(po),
                    applied=lambda w: not _shipped_under(w, req.replaces) and bool(_shipped_under(w, req.tracking)),
                    what=f"the Walmart tracking correction {req.replaces} → {req.tracking}",
                )
            if new_track is None and holder is not None:
                sh = holder[0]
                qty = float(getattr(holder[1], "qty", None) or sum(i.qty for i in sh.items) or 1)
                write_step(
                    op, "commerce_add_track", progress="adding the new track to the Commerce shipment",
                    send=lambda: ctx.commerce.add_track(order.entity_id, sh.entity_id or 0, req.tracking,
                                                        title=carrier.name, carrier_code=code, qty=qty),
                    read=lambda: _track_of(ctx.commerce.list_shipments(order.entity_id), req.tracking) is not None,
                    applied=bool,
                    what=f"the Commerce track {req.tracking}",
                )
            if old_track is not None and old_track[1].entity_id is not None:
                track_id = int(old_track[1].entity_id)
                write_step(
                    op, "commerce_delete_track", progress="removing the old track from the Commerce shipment",
                    send=lambda: ctx.commerce.delete_track(track_id),
                    read=lambda: _track_of(ctx.commerce.list_shipments(order.entity_id), req.replaces) is None,
                    applied=bool,
                    what=f"the removal of Commerce track {req.replaces}",
                )
            op.finish(CONFIRMED, Result.CONFIRMED)
            return outcome(Result.CONFIRMED, latest, tuple(op.sent))
