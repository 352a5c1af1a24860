"""Both sides of an order, line by line, and whether they agree: the pure comparison behind ``wmsync status``.

:func:`compare` is pure: it takes the Commerce order, its shipments, the Walmart order, the journal entries for
the PO and the time, and returns a :class:`StatusReport` with a verdict, the exact differences and, for each,
the wmsync command that repairs it (or "fix by hand" where wmsync must not act).

Rules (what counts as agreeing):

* **Shipments** are compared per SKU and per tracking number: every unit Commerce shipped with tracking number
  T must show on Walmart as Shipped (or Delivered) with T, and every unit Walmart shows shipped with T must be
  on a Commerce shipment with T. Walmart's quantity-1 split lines are summed per SKU; configurable products
  count under their child's SKU, as in ``wmsync ship``.
* **Cancellations** are compared per SKU: Walmart's Cancelled quantity against Commerce's ``qty_canceled``
  (a Commerce order in state ``canceled`` counts everything not shipped or refunded as cancelled). Walmart
  quantities cancelled by a wmsync partial cancel, which Commerce cannot record except as an order comment with
  the marker ``[wmsync cancel:...]``, count as in sync, with a note.
* **Pending**, not diverged: a difference covered by a journal operation that is still within its
  confirmation window (state ``pending`` with a deadline in the future), or — in channel-manager mode — a
  Commerce shipment or cancellation younger than :data:`CHANNEL_MANAGER_WINDOW` (Channel Manager's pushes
  "can take up to five minutes").
* The verdict is ``in_sync`` with no differences, ``pending`` when every difference is pending, else
  ``diverged``.

No httpx, rich or Typer here; clients are passed in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from wmsync.commerce.models import Order, Shipment
from wmsync.journal import PENDING, Operation
from wmsync.timeparse import from_epoch_ms, parse_commerce_time, rfc3339
from wmsync.tracking_key import same_tracking, tracking_key
from wmsync.walmart import rules
from wmsync.walmart.models import OrderLine, WalmartOrder
from wmsync.workflows.pairing import CommercePackage, commerce_packages, item_skus, lines_by_sku
from wmsync.workflows.status_report import (
    BY_HAND_COMMERCE,
    BY_HAND_SELLER_CENTER,
    CHANNEL_MANAGER_WINDOW,
    DIVERGED,
    IN_SYNC,
    PENDING_VERDICT,
    Difference,
    StatusReport,
    Verdict,
    auto_cancel_risk,
    first_line,
    first_open_line,
    history_entries,
    line_views,
    lines_text,
    quote_arg,
    reason_from_comments,
    repeated_cancels,
    tracking_fails_format,
    walmart_state_text,
    wmsync_cancel_notes,
)


def compare(
    order: Order,
    shipments: Sequence[Shipment],
    walmart_order: WalmartOrder,
    journal_ops: Sequence[Operation],
    now: float,
    *,
    channel_manager: bool = False,
    resend_quiet: float = 0.0,
) -> StatusReport:
    """Both sides of one order → verdict, differences with repairs, per-line view and history. Pure.

    ``now`` is epoch seconds; ``journal_ops`` the journal's operations for this PO (any state);
    ``channel_manager`` whether Channel Manager pushes this store's Commerce changes to Walmart;
    ``resend_quiet`` how long a write whose outcome was unknown is held back (it may still be in flight)."""
    return _Comparison(order, shipments, walmart_order, journal_ops, now, channel_manager, resend_quiet).run()


class _Comparison:
    def __init__(
        self,
        order: Order,
        shipments: Sequence[Shipment],
        wm: WalmartOrder,
        ops: Sequence[Operation],
        now: float,
        channel_manager: bool,
        resend_quiet: float = 0.0,
    ) -> None:
        self.order, self.wm, self.ops, self.now = order, wm, ops, now
        self.resend_quiet = resend_quiet
        self.cm = channel_manager
        self.now_dt = datetime.fromtimestamp(now, tz=UTC)
        self.po = str(wm.purchaseOrderId)
        self.ship_cmd = f"wmsync ship {quote_arg(order.increment_id)}"
        self.cancel_cmd = f"wmsync cancel {quote_arg(order.increment_id)}"
        self.via_direct = " --via direct" if channel_manager else ""
        self.walmart_skus = {ln.sku for ln in wm.lines}
        self.item_sku = item_skus(order, self.walmart_skus)
        self.lines_by_sku = lines_by_sku(wm)
        self.packages = commerce_packages(order, shipments, self.item_sku)
        self.diffs: list[Difference] = []
        self.notes: list[str] = []
        self.pending_reasons: list[str] = []
        # Commerce quantities per Walmart SKU
        self.c_ordered: dict[str, int] = {}
        self.c_shipped: dict[str, int] = {}
        self.c_cancelled: dict[str, int] = {}
        self.c_refunded: dict[str, int] = {}
        for item in order.top_items():
            sku = self.item_sku[item.item_id]
            cancelled = round(item.qty_canceled)
            if order.state == "canceled":
                cancelled = max(cancelled, round(item.qty_ordered - item.qty_shipped - item.qty_refunded))
            for table, qty in (
                (self.c_ordered, round(item.qty_ordered)),
                (self.c_shipped, round(item.qty_shipped)),
                (self.c_refunded, round(item.qty_refunded)),
                (self.c_cancelled, cancelled),
            ):
                table[sku] = table.get(sku, 0) + qty

    def add(self, kind: str, sku: str, what: str, repair: str, **kw: Any) -> None:
        self.diffs.append(Difference(kind, sku, what, repair, **kw))

    def run(self) -> StatusReport:
        fulfilled_by_seller = self.wm.seller_fulfilled
        if fulfilled_by_seller:
            self.quantities()
            self.shipments()
            self.walmart_only_shipments()
            self.untracked_totals()
            self.cancellations()
            self.journal()
            self.other_notes()
        else:
            # Walmart (WFS) or a 3PL ships these: no Commerce shipment or cancel is owed by the seller, and
            # wmsync neither ships nor cancels them
            self.notes.append(f"{self.wm.not_sellers_reason()}; wmsync reports no differences for it")
        if not self.diffs:
            verdict: Verdict = IN_SYNC
        elif all(d.pending for d in self.diffs):
            verdict = PENDING_VERDICT
        else:
            verdict = DIVERGED
        return StatusReport(
            verdict=verdict,
            order=self.order.increment_id,
            purchase_order_id=self.po,
            commerce_state=self.order.state,
            walmart_status=self.wm.overall_status(),
            lines=line_views(self.wm, self.lines_by_sku, self.packages, self.c_cancelled),
            differences=self.diffs,
            notes=self.notes,
            history=history_entries(self.ops),
            estimated_ship_date=from_epoch_ms(self.wm.shippingInfo.estimatedShipDate),
            risk=auto_cancel_risk(self.wm, self.now) if fulfilled_by_seller else None,
            channel_manager=self.cm,
            fulfilment=self.wm.fulfilment,
            pending_reasons=self.pending_reasons,
            shipping_program=self.wm.shipping_program,
            open_quantity=self.wm.open_qty,
        )

    # ------------------------------------------------------------------ SKUs and ordered quantities

    def quantities(self) -> None:
        for sku in sorted(set(self.c_ordered) - self.walmart_skus):
            self.add(
                "commerce_item_not_on_walmart",
                sku,
                f"Commerce item {sku} ({self.c_ordered[sku]} ordered) is not on Walmart PO {self.po}",
                f"{BY_HAND_COMMERCE}: the order was imported with a different SKU; check the product mapping",
            )
        for sku, lines in self.lines_by_sku.items():
            w_qty = sum(ln.quantity for ln in lines)
            where = lines_text([ln.lineNumber for ln in lines])
            if sku not in self.c_ordered:
                self.add(
                    "walmart_line_not_in_commerce",
                    sku,
                    f"Walmart {where} ({w_qty} × {sku}) has no Commerce item",
                    f"{BY_HAND_COMMERCE}: the Commerce order lacks this SKU (edit the order or re-import it)",
                    line_number=lines[0].lineNumber,
                )
            elif self.c_ordered[sku] != w_qty:
                self.add(
                    "quantity_mismatch",
                    sku,
                    f"Commerce ordered {self.c_ordered[sku]} × {sku}; Walmart {where} total {w_qty}",
                    f"{BY_HAND_COMMERCE}: correct the ordered quantity to match Walmart",
                    line_number=lines[0].lineNumber,
                )

    # ------------------------------------------------------------------ shipments

    def _young(self, when: datetime | None) -> bool:
        """In channel-manager mode: a Commerce change Channel Manager may still be pushing."""
        return self.cm and when is not None and (self.now_dt - when).total_seconds() < CHANNEL_MANAGER_WINDOW

    def _walmart_tracks(self) -> None:
        # keyed by tracking_key(number): one package however either side spelt its number
        self.w_by_track: dict[str, dict[str, int]] = {}
        self.w_track_info: dict[str, tuple[str | None, str | None, bool]] = {}  # key -> (carrier, url, other)
        self.w_spelling: dict[str, str] = {}  # key -> the number as Walmart shows it
        for ln in self.wm.lines:
            for s in ln.statuses:
                if s.status not in ("Shipped", "Delivered") or s.quantity <= 0:
                    continue
                t = s.trackingInfo
                raw = (t.trackingNumber if t else None) or ""
                num = tracking_key(raw)
                self.w_spelling.setdefault(num, raw)
                per = self.w_by_track.setdefault(ln.sku, {})
                per[num] = per.get(num, 0) + s.quantity
                if t is not None and num:
                    cn = t.carrierName
                    self.w_track_info[num] = (
                        cn.name if cn else None,
                        t.trackingURL,
                        bool(cn and not cn.carrier and cn.otherCarrier),
                    )
        self.w_left = {sku: dict(v) for sku, v in self.w_by_track.items()}

    def shipments(self) -> None:
        """Every unit on a Commerce shipment must show on Walmart as shipped with one of its tracking numbers."""
        self._walmart_tracks()
        several = any(len(p.tracks) != 1 for p in self.packages)
        # tracking key -> the Commerce shipments that carry it (more than one: runs that did not share state)
        self.track_holders: dict[str, list[CommercePackage]] = {}
        for pkg in self.packages:
            for key in {tracking_key(n) for n in pkg.numbers}:
                self.track_holders.setdefault(key, []).append(pkg)
        self.duplicates_named: set[tuple[str, str]] = set()
        for pkg in self.packages:
            if not pkg.tracks:
                for sku, qty in sorted(pkg.sku_qty.items()):
                    self.add(
                        "commerce_shipment_without_tracking",
                        sku,
                        f"{pkg.label} holds {qty} × {sku} without a tracking number; Walmart needs one",
                        f"{BY_HAND_COMMERCE}: add the tracking number to {pkg.label}, then run "
                        f"`{self.ship_cmd}{self.via_direct}`",
                        line_number=first_line(self.lines_by_sku.get(sku, [])),
                    )
                continue
            for sku, qty in sorted(pkg.sku_qty.items()):
                if sku not in self.walmart_skus:
                    continue
                left = self.w_left.get(sku, {})
                covered = 0
                for num in map(tracking_key, pkg.numbers):
                    take = min(qty - covered, left.get(num, 0))
                    if take > 0:
                        left[num] -= take
                        covered += take
                if qty > covered:
                    self._not_on_walmart(pkg, sku, qty - covered, several)

    def _duplicate_shipments(self, pkg: CommercePackage, sku: str) -> bool:
        """Units of ``pkg`` not on Walmart because another Commerce shipment already carries the same tracking
        number, which Walmart shows: one package recorded twice in Commerce (two runs that did not share state).
        Named once per tracking number and SKU, with a repair that does not send the operator back to
        ``wmsync ship`` (it answers "already done"). True when that is what this is."""
        for key in sorted({tracking_key(n) for n in pkg.numbers}):
            holders = [p for p in self.track_holders.get(key, []) if p.sku_qty.get(sku, 0) > 0]
            w_units = self.w_by_track.get(sku, {}).get(key, 0)
            if len(holders) < 2 or w_units <= 0:
                continue
            if (key, sku) in self.duplicates_named:
                return True
            self.duplicates_named.add((key, sku))
            num = self.w_spelling.get(key, key)
            c_units = sum(p.sku_qty[sku] for p in holders)
            labels = ", ".join(f"#{p.shipment_id}" if p.shipment_id is not None else "(no id)" for p in holders)
            sku_lines = self.lines_by_sku.get(sku, [])
            self.add(
                "duplicate_commerce_shipments",
                sku,
                f"several Commerce shipments for one tracking number: shipments {labels} all carry {num} "
                f"({c_units} × {sku} in Commerce); Walmart shows {num} for {w_units} × {sku}",
                f"{BY_HAND_COMMERCE}: two runs that did not share state each recorded this package, and Magento "
                f"cannot delete a shipment. Ask the warehouse what left with {num}. If {w_units} × {sku}, as "
                f"Walmart shows, nothing more goes to Walmart under {num}: note on the Commerce order that the "
                f"extra shipment records units still in stock, and ship those with their own tracking number "
                f"when they leave. If {c_units} × {sku} left in that package, add the rest to the shipment in "
                "Walmart Seller Center. Shared state (README: set-up for teams) prevents this",
                line_number=first_line(sku_lines),
                tracking_number=num,
            )
            return True
        return False

    def _not_on_walmart(self, pkg: CommercePackage, sku: str, missing: int, several: bool) -> None:
        if self._duplicate_shipments(pkg, sku):
            return
        sku_lines = self.lines_by_sku.get(sku, [])
        num0, code0, title0 = pkg.tracks[0]
        carrier = rules.walmart_carrier_of_track(code0, title0)
        what = (
            f"Commerce shipped {missing} × {sku} with {carrier + ' ' if carrier else ''}{', '.join(pkg.numbers)}"
            f" ({pkg.label}); {walmart_state_text(sku_lines)}"
        )
        young = self._young(pkg.created)
        open_wm = sum(ln.open_qty for ln in sku_lines)
        if open_wm < missing:
            mine = {tracking_key(n) for n in pkg.numbers}
            other = sorted(
                self.w_spelling.get(k, k) for k, v in self.w_by_track.get(sku, {}).items() if k not in mine and v > 0
            )
            if other:
                what += "; Walmart shows it shipped with " + ", ".join(other)
                repair = (
                    "fix by hand in Commerce or Walmart Seller Center: the two sides used different tracking "
                    "numbers; correct the wrong one"
                )
            else:
                repair = (
                    f"{BY_HAND_SELLER_CENTER}: Walmart has no open quantity of {sku} left to ship (cancelled "
                    "there?); refund or cancel it in Commerce to match"
                )
            self.add(
                "commerce_shipment_not_on_walmart",
                sku,
                what,
                repair,
                line_number=first_line(sku_lines),
                pending=young,
                tracking_number=num0,
            )
            return
        if len(pkg.tracks) == 1 and not several:
            cmd = f"{self.ship_cmd}{self.via_direct}"
        else:
            cmd = (
                f"{self.ship_cmd} --carrier {quote_arg(rules.track_carrier(code0, title0))} "
                f"--tracking {quote_arg(num0)}"
                + (f" --item {quote_arg(sku)}={missing}" if len(pkg.tracks) > 1 else "")
                + self.via_direct
            )
        problem = tracking_fails_format(num0, carrier, self.po)
        if problem:
            cmd += " --skip-format-check"
            repair = f"{problem}: check it on the label first; if it is right, send it to Walmart with `{cmd}`"
        else:
            repair = f"send Commerce's tracking number to Walmart: `{cmd}`"
        if self.cm:
            repair += (
                f" (Channel Manager did not push it within {CHANNEL_MANAGER_WINDOW // 60} minutes; its order status "
                "shows why)"
            )
        self.add(
            "commerce_shipment_not_on_walmart",
            sku,
            what,
            repair,
            line_number=first_open_line(sku_lines),
            command=cmd,
            pending=young,
            tracking_number=num0,
        )

    def walmart_only_shipments(self) -> None:
        """Units Walmart shows shipped that no Commerce shipment accounts for."""
        c_tracks: dict[str, dict[str, int]] = {}
        for pkg in self.packages:
            for sku, qty in pkg.sku_qty.items():
                for num in map(tracking_key, pkg.numbers):
                    per = c_tracks.setdefault(sku, {})
                    per[num] = per.get(num, 0) + qty
        for sku in sorted(self.w_left):
            for key, qty in sorted(self.w_left[sku].items()):
                if qty > 0:
                    self._not_in_commerce(sku, key, qty, c_tracks.get(sku, {}).get(key, 0))

    def _not_in_commerce(self, sku: str, key: str, qty: int, in_commerce: int) -> None:
        num = self.w_spelling.get(key, key)
        shipped_lines = [
            ln.lineNumber
            for ln in self.lines_by_sku.get(sku, [])
            if any(
                s.status in ("Shipped", "Delivered")
                and tracking_key((s.trackingInfo.trackingNumber if s.trackingInfo else None) or "") == key
                for s in ln.statuses
            )
        ]
        line_number = shipped_lines[0] if shipped_lines else None
        carrier, url, is_other = self.w_track_info.get(key, (None, None, False))
        with_t = f" with {carrier + ' ' if carrier else ''}{num}" if num else " without a tracking number"
        what = f"Walmart {lines_text(shipped_lines)} shipped {qty} × {sku}{with_t}"
        what += (
            f"; Commerce's shipment with {num} holds only {in_commerce}"
            if in_commerce
            else ("; no Commerce shipment has it")
        )
        c_left = (
            self.c_ordered.get(sku, 0)
            - self.c_shipped.get(sku, 0)
            - self.c_cancelled.get(sku, 0)
            - self.c_refunded.get(sku, 0)
        )
        state = self.order.state or ""
        if (
            not num
            or not carrier
            or in_commerce
            or c_left < qty
            or state in ("canceled", "closed", "holded", "complete")
        ):
            if state in ("canceled", "closed", "holded", "complete"):
                why = f"the Commerce order is {state}"
            elif c_left < qty:
                why = f"Commerce has {max(c_left, 0)} × {sku} left to ship"
            else:
                why = "record the Walmart shipment on the Commerce order"
            self.add(
                "walmart_shipment_not_in_commerce",
                sku,
                what,
                f"{BY_HAND_COMMERCE}: create the Commerce shipment with this tracking number ({why})",
                line_number=line_number,
                tracking_number=num or None,
            )
            return
        cmd = (
            f"{self.ship_cmd} --carrier {quote_arg(carrier)} --tracking {quote_arg(num)} "
            f"--item {quote_arg(sku)}={qty}"
        )
        if is_other and url:
            cmd += f" --tracking-url {quote_arg(url)}"
        if tracking_fails_format(num, carrier, self.po):
            cmd += " --skip-format-check"  # Walmart already holds this number; nothing is sent to Walmart
        repair = (
            f"record Walmart's shipment in Commerce: `{cmd}` (Walmart already shows this tracking number, so wmsync "
            "only creates the Commerce shipment and posts nothing to Walmart)"
        )
        if self.cm:
            repair += (
                '; Channel Manager will then try to push the new Commerce shipment and show Error ("… is in '
                'SHIPPED status"), which is harmless here'
            )
        self.add(
            "walmart_shipment_not_in_commerce",
            sku,
            what,
            repair,
            line_number=line_number,
            command=cmd,
            tracking_number=num,
        )

    def untracked_totals(self) -> None:
        """Commerce shipped quantities no shipment explains (e.g. shipments that could not be read)."""
        for sku in sorted(self.walmart_skus & set(self.c_ordered)):
            in_packages = sum(p.sku_qty.get(sku, 0) for p in self.packages)
            shipped = self.c_shipped.get(sku, 0)
            if shipped <= in_packages or any(d.sku == sku and "shipment" in d.kind for d in self.diffs):
                continue
            w_shipped = sum(ln.qty_in("Shipped", "Delivered") for ln in self.lines_by_sku.get(sku, []))
            if shipped > w_shipped:
                self.add(
                    "commerce_shipped_quantity",
                    sku,
                    f"Commerce shows {shipped} × {sku} shipped but no shipment with a tracking number for "
                    f"{shipped - in_packages} of them; Walmart shows {w_shipped} shipped",
                    f"{BY_HAND_COMMERCE}: find the shipment, add its tracking number, then run `{self.ship_cmd}`",
                    line_number=first_line(self.lines_by_sku.get(sku, [])),
                )

    # ------------------------------------------------------------------ cancellations

    def cancellations(self) -> None:
        whole_note, noted_qty, _texts = wmsync_cancel_notes(self.order, self.po)
        for sku, sku_lines in self.lines_by_sku.items():
            if sku not in self.c_ordered:
                continue
            w_cancel = sum(ln.qty_in("Cancelled") for ln in sku_lines)
            c_cancel = self.c_cancelled.get(sku, 0)
            if w_cancel > c_cancel:
                extra = w_cancel - c_cancel
                repeated = repeated_cancels(self.order, self.po).get(sku)
                if repeated and extra > noted_qty.get(sku, 0):
                    self._repeated_cancel(sku, sku_lines, extra, noted_qty.get(sku, 0), repeated)
                elif (whole_note and not self._commerce_cancel_left()) or noted_qty.get(sku, 0) >= extra:
                    where = lines_text([ln.lineNumber for ln in sku_lines if ln.qty_in("Cancelled")])
                    self.notes.append(
                        f"Walmart cancelled {extra} × {sku} ({where}); wmsync recorded it as a Commerce order "
                        "comment — Commerce has no partial cancel, so it still shows it as ordered"
                    )
                else:
                    self._cancel_not_in_commerce(sku, sku_lines, extra, c_cancel)
            elif c_cancel > w_cancel:
                self._cancel_not_on_walmart(sku, sku_lines, c_cancel - w_cancel)

    def _repeated_cancel(
        self, sku: str, sku_lines: list[OrderLine], extra: int, asked: int, repeated: tuple[int, int]
    ) -> None:
        """One partial cancellation made more than once by runs that did not share state: Walmart cancelled more
        units than were asked. Nothing wmsync can send undoes a cancellation."""
        once, times = repeated
        where = lines_text([ln.lineNumber for ln in sku_lines if ln.qty_in("Cancelled")])
        self.add(
            "repeated_partial_cancel",
            sku,
            f"one partial cancellation of {once} × {sku} was made {times} times by runs that did not share state: "
            f"Walmart {where} cancelled {extra} × {sku} where {asked} was asked",
            f"{BY_HAND_SELLER_CENTER}: Walmart cannot undo a cancellation; the extra {extra - asked} × {sku} will not "
            "ship (tell the customer if needed). Shared state (README: set-up for teams) prevents this",
            line_number=first_line(sku_lines),
        )

    def _commerce_cancel_left(self) -> bool:
        """After a whole-order cancel that wmsync recorded only as a comment (``--walmart-only``): the Commerce
        order is still to be cancelled — it is open and Magento would cancel it, or it waits on a hold or a
        payment review. Not when only a refund is left (invoiced, shipped, complete)."""
        from wmsync.workflows.cancel import commerce_refusal

        if self.order.state == "canceled":
            return False
        return commerce_refusal(self.order) is None or self.order.state in ("holded", "payment_review")

    def _cancel_not_in_commerce(self, sku: str, sku_lines: list[OrderLine], extra: int, c_cancel: int) -> None:
        cancelled_lines = [ln.lineNumber for ln in sku_lines if ln.qty_in("Cancelled")]
        reasons = sorted(
            {
                s.cancellationReason
                for ln in sku_lines
                for s in ln.statuses
                if s.status == "Cancelled" and s.cancellationReason
            }
        )
        what = (
            f"Walmart {lines_text(cancelled_lines)} cancelled {extra} × {sku}"
            + (f" ({', '.join(reasons)})" if reasons else "")
            + f"; Commerce shows {c_cancel} cancelled"
        )
        cmd = None
        all_closed = all(ln.open_qty == 0 for ln in self.wm.lines)
        if all_closed and self.order.state != "canceled":
            from wmsync.workflows.cancel import commerce_refusal

            why = commerce_refusal(self.order)
            if why is None:
                reason = reasons[0] if len(reasons) == 1 else None
                shown = f"{self.cancel_cmd} --reason {reason or '<reason>'}"
                repair = f"cancel the Commerce order to match (Walmart's side is already done): `{shown}`"
                if reason is None:
                    repair += "; pick the reason with `wmsync cancel --list-reasons`"
                else:
                    cmd = shown
            else:
                repair = f"{BY_HAND_COMMERCE}: Commerce will not cancel the order — {why}"
        else:
            repair = (
                f"{BY_HAND_COMMERCE}: Commerce has no partial cancel over REST — edit the order or refund {extra} × "
                f"{sku} with a credit memo"
            )
        self.add(
            "walmart_cancel_not_in_commerce",
            sku,
            what,
            repair,
            line_number=cancelled_lines[0] if cancelled_lines else None,
            command=cmd,
        )

    def _cancel_not_on_walmart(self, sku: str, sku_lines: list[OrderLine], extra: int) -> None:
        whole = self.order.state == "canceled"
        what = (
            "the Commerce order is canceled" if whole else f"Commerce cancelled {extra} × {sku}"
        ) + f"; {walmart_state_text(sku_lines)}"
        open_wm = sum(ln.open_qty for ln in sku_lines)
        if open_wm < extra:
            self.add(
                "commerce_cancel_not_on_walmart",
                sku,
                what + f"; Walmart has only {open_wm} open",
                f"{BY_HAND_SELLER_CENTER}: Walmart shows it shipped — refund it there, or correct Commerce",
                line_number=first_line(sku_lines),
            )
            return
        reason = reason_from_comments(self.order)
        shown = f"{self.cancel_cmd} --reason {reason or '<reason>'}"
        if not whole:
            shown += f" --item {quote_arg(sku)}={extra}"
        repair = f"cancel it on Walmart too: `{shown}`"
        if reason is None:
            repair += "; pick Walmart's reason with `wmsync cancel --list-reasons`"
        if self.cm:
            repair += " (Channel Manager did not push the cancellation)"
        self.add(
            "commerce_cancel_not_on_walmart",
            sku,
            what,
            repair,
            line_number=first_open_line(sku_lines),
            command=shown if reason else None,
            pending=self._young(parse_commerce_time(self.order.updated_at)),
        )

    # ------------------------------------------------------------------ journal and notes

    def journal(self) -> None:
        """Operations still within their confirmation window make the differences they cover pending."""
        open_ops = [
            op
            for op in self.ops
            if op.state == PENDING and op.confirm_deadline is not None and op.confirm_deadline > self.now
        ]
        for op in open_ops:
            self.pending_reasons.append(
                f"{op.kind} sent; waiting for Walmart to confirm until {rfc3339(op.confirm_deadline)}"
            )
            self._mark_pending(op, other_kinds=True)
        self._in_flight()
        if self.cm and not open_ops and any(d.pending for d in self.diffs):
            self.pending_reasons.append(
                f"channel-manager mode: Channel Manager may still push it (allow {CHANNEL_MANAGER_WINDOW // 60} "
                "minutes after the Commerce change)"
            )
        for op in self.ops:
            if op.state in ("planned", "in_progress"):
                self.notes.append(
                    f"the journal shows a {op.kind} started at {rfc3339(op.created_at)} that did not finish "
                    "(crashed, or still running); re-running the same command completes it"
                )

    def _mark_pending(self, op: Operation, *, other_kinds: bool) -> None:
        """The differences ``op`` covers (its shipments by tracking number, its cancellations; with
        ``other_kinds`` every difference for an operation of another kind) become pending. A duplicate never
        settles by waiting."""
        track = op.params.get("tracking_number") if op.kind == "ship" else None
        for i, d in enumerate(self.diffs):
            related = (
                (
                    op.kind == "ship"
                    and "shipment" in d.kind
                    and (track is None or same_tracking(d.tracking_number, track))
                )
                or (op.kind == "cancel" and "cancel" in d.kind)
                or (other_kinds and op.kind not in ("ship", "cancel"))
            ) and d.kind not in ("duplicate_commerce_shipments", "repeated_partial_cancel")
            if related and not d.pending:
                self.diffs[i] = replace(d, pending=True)

    def _in_flight(self) -> None:
        """A write whose outcome was unknown, less than ``resend_quiet`` ago, may still reach the service: what
        it covers is pending (wmsync will not send it again before then), not diverged with a repair that
        would be refused."""
        for op in self.ops:
            for step, info in op.steps.items():
                if info.get("state") not in ("started", "unknown"):
                    continue
                since = float(info.get("updated_at") or 0)
                until = since + self.resend_quiet
                if until <= self.now:
                    continue
                what = step.replace("_", " ")
                self.pending_reasons.append(
                    f"the {what} sent at {rfc3339(since)} got no answer and may still be in flight; wmsync does not "
                    f"send it again before {rfc3339(until)}, then a re-run settles it"
                )
                self._mark_pending(op, other_kinds=False)

    def other_notes(self) -> None:
        created = [ln.lineNumber for ln in self.wm.lines if ln.created_qty > 0]
        if created:
            self.notes.append(
                f"Walmart {lines_text(created)} not acknowledged yet (Created); `wmsync ship` acknowledges first"
            )
        intent = [ln for ln in self.wm.lines if ln.has_intent_to_cancel and ln.open_qty > 0]
        if intent:
            skus = " ".join(f"--item {quote_arg(ln.sku)}" for ln in intent)
            self.notes.append(
                f"the customer asked to cancel Walmart {lines_text([ln.lineNumber for ln in intent])}: cancel with "
                f"`wmsync cancel {quote_arg(self.order.increment_id)} --reason customer-request {skus}` "
                "(shipping it needs --override-intent-to-cancel)"
            )
        refunded = sum(ln.qty_in("Refund") for ln in self.wm.lines)
        if refunded:
            self.notes.append(f"Walmart shows {refunded} unit(s) refunded")
        _whole, _qty, texts = wmsync_cancel_notes(self.order, self.po)
        if texts and not any("wmsync recorded it" in n for n in self.notes):
            self.notes.append("wmsync's cancellation comment on the Commerce order: " + texts[-1])
        risk = auto_cancel_risk(self.wm, self.now)
        if risk is not None:
            self.notes.append(risk.text)


