"""``wmsync status`` and ``wmsync orders list``: both sides of an order, line by line, and whether they agree.

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

No httpx, rich or Typer here; clients are passed in.
"""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from wmsync.clock import Clock
from wmsync.commerce.client import CommerceClient, Filter
from wmsync.commerce.models import Order, Shipment
from wmsync.config import StoreConfig
from wmsync.errors import ApiError, NotFoundError
from wmsync.journal import PENDING, Journal, Operation
from wmsync.timeparse import commerce_time, from_epoch_ms, parse_commerce_time, rfc3339, walmart_time
from wmsync.walmart import rules
from wmsync.walmart.client import WalmartClient
from wmsync.walmart.models import OrderLine, WalmartOrder, line_sort_key
from wmsync.workflows.base import load_pair, poll

Verdict = Literal["in_sync", "pending", "diverged"]
IN_SYNC: Verdict = "in_sync"
PENDING_VERDICT: Verdict = "pending"
DIVERGED: Verdict = "diverged"

#: Channel Manager says its updates "can take up to five minutes" to reach Walmart; two more for margin.
CHANNEL_MANAGER_WINDOW = 5 * 60 + 2 * 60
#: Walmart cancels lines not shipped by the estimated ship date + this many days.
AUTO_CANCEL_DAYS = 4
#: "auto-cancel imminent" within this long of the auto-cancel time.
IMMINENT = timedelta(days=1)
#: How many journal entries ``status`` shows.
HISTORY_LIMIT = 10

BY_HAND_SELLER_CENTER = "fix by hand in Walmart Seller Center"
BY_HAND_COMMERCE = "fix by hand in Commerce"

_MARKER_RE = re.compile(r"\[wmsync cancel:([^:\]]+):([^\]]+)\]")
_QTY_SKU_RE = re.compile(r"(\d+) × (\S+?)(?=,| with reason|$)")
_REASON_RE = re.compile(r"\b(CUSTOMER_REQUESTED_SELLER_TO_CANCEL|SELLER_CANCEL_[A-Z_]+)\b")


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Difference:
    """One way the two sides disagree. ``command`` is the wmsync command that repairs it, when there is one;
    ``repair`` says it in words (or says to fix it by hand)."""

    kind: str
    sku: str
    what: str
    repair: str
    line_number: str | None = None
    command: str | None = None
    pending: bool = False
    tracking_number: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "line_number": self.line_number,
            "sku": self.sku,
            "what": self.what,
            "repair": self.repair,
            "command": self.command,
            "kind": self.kind,
            "pending": self.pending,
        }


@dataclass
class LineView:
    line_number: str
    sku: str
    quantity: int
    commerce_shipped: int
    commerce_cancelled: int
    commerce_tracking: list[str]
    walmart_statuses: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "line_number": self.line_number,
            "sku": self.sku,
            "quantity": self.quantity,
            "commerce": {
                "shipped": self.commerce_shipped,
                "cancelled": self.commerce_cancelled,
                "tracking_numbers": self.commerce_tracking,
            },
            "walmart_statuses": self.walmart_statuses,
        }


@dataclass
class Risk:
    """Walmart auto-cancels lines not shipped by the estimated ship date + 4 days."""

    level: Literal["at_risk", "auto_cancel_imminent"]
    estimated_ship_date: datetime
    auto_cancel_at: datetime
    open_quantity: int

    @property
    def text(self) -> str:
        when = rfc3339(self.auto_cancel_at)
        if self.level == "auto_cancel_imminent":
            return f"auto-cancel imminent: {self.open_quantity} unit(s) not shipped; Walmart cancels them at {when}"
        return (
            f"at risk: {self.open_quantity} unit(s) not shipped by the estimated ship date "
            f"{rfc3339(self.estimated_ship_date)}; Walmart cancels them at {when}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "estimated_ship_date": rfc3339(self.estimated_ship_date),
            "auto_cancel_at": rfc3339(self.auto_cancel_at),
            "open_quantity": self.open_quantity,
        }


@dataclass
class StatusReport:
    verdict: Verdict
    order: str
    purchase_order_id: str
    commerce_state: str | None
    walmart_status: str
    lines: list[LineView]
    differences: list[Difference]
    notes: list[str]
    history: list[dict[str, Any]]
    estimated_ship_date: datetime | None
    risk: Risk | None
    channel_manager: bool = False
    pending_reasons: list[str] = field(default_factory=list)

    @property
    def commands(self) -> list[str]:
        """The distinct repair commands, in order."""
        out: list[str] = []
        for d in self.differences:
            if d.command and not d.pending and d.command not in out:
                out.append(d.command)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "order": self.order,
            "purchase_order_id": self.purchase_order_id,
            "commerce_state": self.commerce_state,
            "walmart_status": self.walmart_status,
            "estimated_ship_date": rfc3339(self.estimated_ship_date),
            "risk": self.risk.to_json() if self.risk else None,
            "mode": "channel-manager" if self.channel_manager else "direct",
            "lines": [ln.to_json() for ln in self.lines],
            "differences": [d.to_json() for d in self.differences],
            "repair_commands": self.commands,
            "pending_reasons": self.pending_reasons,
            "notes": self.notes,
            "history": self.history,
        }


# ---------------------------------------------------------------------------------------------- helpers


def sku_of(item_sku: str, children: Iterable[str], walmart_skus: set[str]) -> str:
    if item_sku in walmart_skus:
        return item_sku
    for child in children:
        if child in walmart_skus:
            return child
    return item_sku


def _item_skus(order: Order, walmart_skus: set[str]) -> dict[int, str]:
    """Commerce top-level item id → the Walmart SKU it is shipped as (configurables by their child's SKU,
    as ``workflows.ship.sku_of_item`` does); child items map to their parent's SKU too."""
    out: dict[int, str] = {}
    for item in order.top_items():
        out[item.item_id] = sku_of(item.sku, (c.sku for c in order.children(item)), walmart_skus)
    for item in order.items:
        if item.parent_item_id is not None and item.parent_item_id in out:
            out[item.item_id] = out[item.parent_item_id]
    return out


def _quote(value: str) -> str:
    return shlex.quote(value)


def _lines_text(numbers: Sequence[str]) -> str:
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    return "lines " + ", ".join(numbers)


def _open_status(line: OrderLine) -> str:
    for s in line.statuses:
        if s.status in ("Created", "Acknowledged") and s.quantity > 0:
            return s.status
    return "open"


def _walmart_state_text(lines: Sequence[OrderLine]) -> str:
    """What Walmart shows for the lines of one SKU that are not shipped yet, e.g. "line 2 still Acknowledged"."""
    open_lines = [ln for ln in lines if ln.open_qty > 0]
    if open_lines:
        groups: dict[str, list[str]] = {}
        for ln in open_lines:
            groups.setdefault(_open_status(ln), []).append(ln.lineNumber)
        return "; ".join(f"Walmart {_lines_text(nums)} still {status}" for status, nums in groups.items())
    cancelled = [ln.lineNumber for ln in lines if ln.qty_in("Cancelled")]
    if cancelled:
        return f"Walmart {_lines_text(cancelled)} Cancelled"
    return "Walmart shows no open quantity for it"


def _tracking_fails_format(number: str, carrier: str | None, po: str) -> str | None:
    """The per-carrier format problem of a tracking number, or None when it passes (or only fails a general
    rule, which no flag can skip)."""
    try:
        rules.check_tracking_number(number, carrier=None, purchase_order_id=po)
    except rules.RuleViolation:
        return None
    try:
        rules.check_tracking_number(number, carrier=carrier, purchase_order_id=po)
    except rules.RuleViolation as exc:
        return exc.message
    return None


def _commerce_carrier_arg(code: str | None, title: str | None) -> str:
    c = (code or "").strip()
    return c if c and c.lower() != "custom" else (title or "").strip()


def _walmart_carrier_for(code: str | None, title: str | None) -> str | None:
    c = (code or "").strip().lower()
    return {"ups": "UPS", "usps": "USPS", "fedex": "FedEx", "dhl": "DHL"}.get(c) or (title or None)


def wmsync_cancel_notes(order: Order, po: str) -> tuple[bool, dict[str, int], list[str]]:
    """Cancellations wmsync recorded as Commerce comments (marker ``[wmsync cancel:PO:...]``): whether a whole
    order cancel is recorded, the quantities of partial cancels per SKU, and the comment texts."""
    whole = False
    qty: dict[str, int] = {}
    texts: list[str] = []
    for c in order.status_histories:
        text = c.comment or ""
        for m in _MARKER_RE.finditer(text):
            if m.group(1) != po:
                continue
            texts.append(text)
            if m.group(2) == "all":
                whole = True
                continue
            head = text.split(" with reason", 1)[0]
            head = head.split("cancelled ", 1)[1] if "cancelled " in head else head
            for n, sku in _QTY_SKU_RE.findall(head):
                qty[sku] = qty.get(sku, 0) + int(n)
    return whole, qty, texts


def reason_from_comments(order: Order) -> str | None:
    """The newest Walmart cancellation reason code written in a Commerce order comment (Channel Manager and
    wmsync both record it there)."""
    found: list[tuple[str, str]] = []
    for c in order.status_histories:
        m = _REASON_RE.search(c.comment or "")
        if m:
            found.append((c.created_at or "", m.group(1)))
    if not found:
        return None
    return sorted(found)[-1][1]


def auto_cancel_risk(wm: WalmartOrder, now: float) -> Risk | None:
    """The auto-cancel rule, as documented: Walmart cancels lines not shipped by the estimated ship date
    + 4 days. Units still open (neither shipped nor cancelled) are

    * ``at_risk`` once the estimated ship date has passed;
    * ``auto_cancel_imminent`` from one day before the auto-cancel time on (and after it, until Walmart
      actually cancels them).

    None when nothing is open or Walmart gives no estimated ship date."""
    est = from_epoch_ms(wm.shippingInfo.estimatedShipDate)
    if est is None:
        return None
    open_qty = sum(line.open_qty for line in wm.lines)
    if open_qty <= 0:
        return None
    current = datetime.fromtimestamp(now, tz=UTC)
    deadline = est + timedelta(days=AUTO_CANCEL_DAYS)
    if current >= deadline - IMMINENT:
        return Risk("auto_cancel_imminent", est, deadline, open_qty)
    if current > est:
        return Risk("at_risk", est, deadline, open_qty)
    return None


def history_entries(ops: Sequence[Operation], limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    out = []
    for op in sorted(ops, key=lambda o: o.created_at, reverse=True)[:limit]:
        entry: dict[str, Any] = {
            "kind": op.kind,
            "state": op.state,
            "created_at": rfc3339(op.created_at),
            "updated_at": rfc3339(op.updated_at),
            "correlation_ids": list(op.correlation_ids),
            "error_code": op.error_code,
            "error": op.error,
            "op_key": op.op_key,
        }
        if op.params.get("tracking_number"):
            entry["tracking_number"] = op.params["tracking_number"]
        if op.params.get("reason"):
            entry["reason"] = op.params["reason"]
        if op.params.get("via"):
            entry["via"] = op.params["via"]
        if op.state == PENDING and op.confirm_deadline is not None:
            entry["confirm_deadline"] = rfc3339(op.confirm_deadline)
        out.append(entry)
    return out


def uses_channel_manager(store: StoreConfig | None, ops: Sequence[Operation]) -> bool:
    """Channel-manager mode: the store's ``submit`` setting, or the newest ship for this PO used it."""
    if store is not None and store.submit == "channel-manager":
        return True
    ships = sorted((op for op in ops if op.kind == "ship"), key=lambda o: o.created_at)
    return bool(ships) and ships[-1].params.get("via") == "channel-manager"


# ---------------------------------------------------------------------------------------------- compare


@dataclass
class _Package:
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


def _packages(order: Order, shipments: Sequence[Shipment], item_sku: dict[int, str]) -> list[_Package]:
    out = []
    for sh in shipments:
        sku_qty: dict[str, int] = {}
        for si in sh.items:
            if si.order_item_id is None or si.qty <= 0:
                continue
            item = order.item_by_id(si.order_item_id)
            if item is None or item.parent_item_id is not None:
                continue  # child rows of configurables repeat the parent's quantity
            sku = item_sku.get(item.item_id, item.sku)
            sku_qty[sku] = sku_qty.get(sku, 0) + round(si.qty)
        tracks = [(t.track_number, t.carrier_code, t.title) for t in sh.tracks if t.track_number]
        out.append(_Package(sh.entity_id, tracks, sku_qty, parse_commerce_time(sh.created_at)))
    return out


def compare(
    order: Order,
    shipments: Sequence[Shipment],
    walmart_order: WalmartOrder,
    journal_ops: Sequence[Operation],
    now: float,
    *,
    channel_manager: bool = False,
) -> StatusReport:
    """Both sides of one order → verdict, differences with repairs, per-line view and history. Pure.

    ``now`` is epoch seconds; ``journal_ops`` the journal's operations for this PO (any state);
    ``channel_manager`` whether Channel Manager pushes this store's Commerce changes to Walmart."""
    return _Comparison(order, shipments, walmart_order, journal_ops, now, channel_manager).run()


class _Comparison:
    def __init__(
        self,
        order: Order,
        shipments: Sequence[Shipment],
        wm: WalmartOrder,
        ops: Sequence[Operation],
        now: float,
        channel_manager: bool,
    ) -> None:
        self.order, self.wm, self.ops, self.now = order, wm, ops, now
        self.cm = channel_manager
        self.now_dt = datetime.fromtimestamp(now, tz=UTC)
        self.po = str(wm.purchaseOrderId)
        self.ship_cmd = f"wmsync ship {_quote(order.increment_id)}"
        self.cancel_cmd = f"wmsync cancel {_quote(order.increment_id)}"
        self.via_direct = " --via direct" if channel_manager else ""
        self.walmart_skus = {ln.sku for ln in wm.lines}
        self.item_sku = _item_skus(order, self.walmart_skus)
        self.lines_by_sku: dict[str, list[OrderLine]] = {}
        for ln in sorted(wm.lines, key=lambda x: line_sort_key(x.lineNumber)):
            self.lines_by_sku.setdefault(ln.sku, []).append(ln)
        self.packages = _packages(order, shipments, self.item_sku)
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
        self.quantities()
        self.shipments()
        self.walmart_only_shipments()
        self.untracked_totals()
        self.cancellations()
        self.journal()
        self.other_notes()
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
            lines=_line_views(self.wm, self.lines_by_sku, self.packages, self.c_cancelled),
            differences=self.diffs,
            notes=self.notes,
            history=history_entries(self.ops),
            estimated_ship_date=from_epoch_ms(self.wm.shippingInfo.estimatedShipDate),
            risk=auto_cancel_risk(self.wm, self.now),
            channel_manager=self.cm,
            pending_reasons=self.pending_reasons,
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
            where = _lines_text([ln.lineNumber for ln in lines])
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
        self.w_by_track: dict[str, dict[str, int]] = {}
        self.w_track_info: dict[str, tuple[str | None, str | None, bool]] = {}  # number -> (carrier, url, other)
        for ln in self.wm.lines:
            for s in ln.statuses:
                if s.status not in ("Shipped", "Delivered") or s.quantity <= 0:
                    continue
                t = s.trackingInfo
                num = (t.trackingNumber if t else None) or ""
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
        for pkg in self.packages:
            if not pkg.tracks:
                for sku, qty in sorted(pkg.sku_qty.items()):
                    self.add(
                        "commerce_shipment_without_tracking",
                        sku,
                        f"{pkg.label} holds {qty} × {sku} without a tracking number; Walmart needs one",
                        f"{BY_HAND_COMMERCE}: add the tracking number to {pkg.label}, then run "
                        f"`{self.ship_cmd}{self.via_direct}`",
                        line_number=_first_line(self.lines_by_sku.get(sku, [])),
                    )
                continue
            for sku, qty in sorted(pkg.sku_qty.items()):
                if sku not in self.walmart_skus:
                    continue
                left = self.w_left.get(sku, {})
                covered = 0
                for num in pkg.numbers:
                    take = min(qty - covered, left.get(num, 0))
                    if take > 0:
                        left[num] -= take
                        covered += take
                if qty > covered:
                    self._not_on_walmart(pkg, sku, qty - covered, several)

    def _not_on_walmart(self, pkg: _Package, sku: str, missing: int, several: bool) -> None:
        sku_lines = self.lines_by_sku.get(sku, [])
        num0, code0, title0 = pkg.tracks[0]
        carrier = _walmart_carrier_for(code0, title0)
        what = (
            f"Commerce shipped {missing} × {sku} with {carrier + ' ' if carrier else ''}{', '.join(pkg.numbers)}"
            f" ({pkg.label}); {_walmart_state_text(sku_lines)}"
        )
        young = self._young(pkg.created)
        open_wm = sum(ln.open_qty for ln in sku_lines)
        if open_wm < missing:
            other = sorted(k for k, v in self.w_by_track.get(sku, {}).items() if k not in pkg.numbers and v > 0)
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
                line_number=_first_line(sku_lines),
                pending=young,
                tracking_number=num0,
            )
            return
        if len(pkg.tracks) == 1 and not several:
            cmd = f"{self.ship_cmd}{self.via_direct}"
        else:
            cmd = (
                f"{self.ship_cmd} --carrier {_quote(_commerce_carrier_arg(code0, title0))} --tracking {_quote(num0)}"
                + (f" --item {_quote(sku)}={missing}" if len(pkg.tracks) > 1 else "")
                + self.via_direct
            )
        problem = _tracking_fails_format(num0, carrier, self.po)
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
            line_number=_first_open_line(sku_lines),
            command=cmd,
            pending=young,
            tracking_number=num0,
        )

    def walmart_only_shipments(self) -> None:
        """Units Walmart shows shipped that no Commerce shipment accounts for."""
        c_tracks: dict[str, dict[str, int]] = {}
        for pkg in self.packages:
            for sku, qty in pkg.sku_qty.items():
                for num in pkg.numbers:
                    per = c_tracks.setdefault(sku, {})
                    per[num] = per.get(num, 0) + qty
        for sku in sorted(self.w_left):
            for num, qty in sorted(self.w_left[sku].items()):
                if qty > 0:
                    self._not_in_commerce(sku, num, qty, c_tracks.get(sku, {}).get(num, 0))

    def _not_in_commerce(self, sku: str, num: str, qty: int, in_commerce: int) -> None:
        shipped_lines = [
            ln.lineNumber
            for ln in self.lines_by_sku.get(sku, [])
            if any(
                s.status in ("Shipped", "Delivered")
                and ((s.trackingInfo.trackingNumber if s.trackingInfo else None) or "") == num
                for s in ln.statuses
            )
        ]
        line_number = shipped_lines[0] if shipped_lines else None
        carrier, url, is_other = self.w_track_info.get(num, (None, None, False))
        with_t = f" with {carrier + ' ' if carrier else ''}{num}" if num else " without a tracking number"
        what = f"Walmart {_lines_text(shipped_lines)} shipped {qty} × {sku}{with_t}"
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
        cmd = f"{self.ship_cmd} --carrier {_quote(carrier)} --tracking {_quote(num)} --item {_quote(sku)}={qty}"
        if is_other and url:
            cmd += f" --tracking-url {_quote(url)}"
        if _tracking_fails_format(num, carrier, self.po):
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
                    line_number=_first_line(self.lines_by_sku.get(sku, [])),
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
                if whole_note or noted_qty.get(sku, 0) >= extra:
                    where = _lines_text([ln.lineNumber for ln in sku_lines if ln.qty_in("Cancelled")])
                    self.notes.append(
                        f"Walmart cancelled {extra} × {sku} ({where}); wmsync recorded it as a Commerce order "
                        "comment — Commerce has no partial cancel, so it still shows it as ordered"
                    )
                else:
                    self._cancel_not_in_commerce(sku, sku_lines, extra, c_cancel)
            elif c_cancel > w_cancel:
                self._cancel_not_on_walmart(sku, sku_lines, c_cancel - w_cancel)

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
            f"Walmart {_lines_text(cancelled_lines)} cancelled {extra} × {sku}"
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
        ) + f"; {_walmart_state_text(sku_lines)}"
        open_wm = sum(ln.open_qty for ln in sku_lines)
        if open_wm < extra:
            self.add(
                "commerce_cancel_not_on_walmart",
                sku,
                what + f"; Walmart has only {open_wm} open",
                f"{BY_HAND_SELLER_CENTER}: Walmart shows it shipped — refund it there, or correct Commerce",
                line_number=_first_line(sku_lines),
            )
            return
        reason = reason_from_comments(self.order)
        shown = f"{self.cancel_cmd} --reason {reason or '<reason>'}"
        if not whole:
            shown += f" --item {_quote(sku)}={extra}"
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
            line_number=_first_open_line(sku_lines),
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
            track = op.params.get("tracking_number") if op.kind == "ship" else None
            for i, d in enumerate(self.diffs):
                related = (
                    (op.kind == "ship" and "shipment" in d.kind and (track is None or d.tracking_number == track))
                    or (op.kind == "cancel" and "cancel" in d.kind)
                    or op.kind not in ("ship", "cancel")
                )
                if related and not d.pending:
                    self.diffs[i] = replace(d, pending=True)
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

    def other_notes(self) -> None:
        created = [ln.lineNumber for ln in self.wm.lines if ln.created_qty > 0]
        if created:
            self.notes.append(
                f"Walmart {_lines_text(created)} not acknowledged yet (Created); `wmsync ship` acknowledges first"
            )
        intent = [ln for ln in self.wm.lines if ln.has_intent_to_cancel and ln.open_qty > 0]
        if intent:
            skus = " ".join(f"--item {_quote(ln.sku)}" for ln in intent)
            self.notes.append(
                f"the customer asked to cancel Walmart {_lines_text([ln.lineNumber for ln in intent])}: cancel with "
                f"`wmsync cancel {_quote(self.order.increment_id)} --reason customer-request {skus}` "
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


def _first_line(lines: Sequence[OrderLine]) -> str | None:
    return lines[0].lineNumber if lines else None


def _first_open_line(lines: Sequence[OrderLine]) -> str | None:
    for ln in lines:
        if ln.open_qty > 0:
            return ln.lineNumber
    return _first_line(lines)


def _line_views(
    wm: WalmartOrder,
    lines_by_sku: dict[str, list[OrderLine]],
    packages: Sequence[_Package],
    c_cancelled: dict[str, int],
) -> list[LineView]:
    """Commerce has no lines: its shipped and cancelled quantities per SKU are spread over the SKU's Walmart
    lines — first onto lines where Walmart shows the same tracking number (or Cancelled), then in line order."""
    views: dict[str, LineView] = {}
    for ln in wm.lines:
        views[ln.lineNumber] = LineView(ln.lineNumber, ln.sku, ln.quantity, 0, 0, [], ln.status_summary())
    for sku, lines in lines_by_sku.items():
        room = {ln.lineNumber: ln.quantity for ln in lines}

        def put(number: str, qty: int, track: str | None, *, cancel: bool, room: dict[str, int] = room) -> None:
            v = views[number]
            if cancel:
                v.commerce_cancelled += qty
            else:
                v.commerce_shipped += qty
                if track and track not in v.commerce_tracking:
                    v.commerce_tracking.append(track)
            room[number] -= qty

        for pkg in packages:
            qty = pkg.sku_qty.get(sku, 0)
            numbers = [t[0] for t in pkg.tracks]
            for ln in lines:
                if qty <= 0:
                    break
                for num in numbers:
                    take = min(qty, ln.shipped_with(num), room[ln.lineNumber])
                    if take > 0:
                        put(ln.lineNumber, take, num, cancel=False)
                        qty -= take
            for ln in lines:
                if qty <= 0:
                    break
                take = min(qty, room[ln.lineNumber])
                if take > 0:
                    put(ln.lineNumber, take, numbers[0] if numbers else None, cancel=False)
                    qty -= take
            if qty > 0 and lines:
                put(lines[-1].lineNumber, qty, numbers[0] if numbers else None, cancel=False)
        qty = c_cancelled.get(sku, 0)
        for ln in lines:
            take = min(qty, ln.qty_in("Cancelled"), room[ln.lineNumber])
            if take > 0:
                put(ln.lineNumber, take, None, cancel=True)
                qty -= take
        for ln in lines:
            take = min(qty, room[ln.lineNumber])
            if take > 0:
                put(ln.lineNumber, take, None, cancel=True)
                qty -= take
        if qty > 0 and lines:
            put(lines[-1].lineNumber, qty, None, cancel=True)
    return [views[ln.lineNumber] for ln in sorted(wm.lines, key=lambda x: line_sort_key(x.lineNumber))]


# ---------------------------------------------------------------------------------------------- status (I/O)


@dataclass
class Deps:
    store_name: str
    store: StoreConfig
    commerce: CommerceClient
    walmart: WalmartClient
    journal: Journal
    clock: Clock
    progress: Callable[[str], None] = lambda _m: None


def read_status(deps: Deps, order_arg: str) -> StatusReport:
    """Read both sides of one order and the journal, and compare them."""
    pair = load_pair(deps.commerce, deps.walmart, deps.store, order_arg)
    ops = deps.journal.history(deps.store_name, pair.purchase_order_id, limit=50)
    return compare(
        pair.order,
        pair.shipments,
        pair.walmart,
        ops,
        deps.clock.time(),
        channel_manager=uses_channel_manager(deps.store, ops),
    )


def watch(
    deps: Deps,
    order_arg: str,
    *,
    wait: bool,
    timeout: float,
    poll_initial: float,
    poll_max: float,
) -> StatusReport:
    """``read_status``, and with ``wait`` re-read until the verdict is no longer ``pending`` or ``timeout``
    seconds pass."""
    report = read_status(deps, order_arg)
    if not wait or report.verdict != PENDING_VERDICT:
        return report
    box = [report]

    def check() -> bool:
        box[0] = read_status(deps, order_arg)
        return box[0].verdict != PENDING_VERDICT

    deps.progress("waiting for Walmart")
    poll(
        check,
        clock=deps.clock,
        timeout=timeout,
        initial=poll_initial,
        maximum=poll_max,
        on_wait=lambda el, d: deps.progress(f"still pending ({el:.0f}s, next look in {d:.0f}s)"),
    )
    return box[0]


# ---------------------------------------------------------------------------------------------- orders list

STATUS_FILTERS = ("all", "awaiting-shipment", "partially-shipped", "shipped", "cancelled", "diverged")
_FILTER_OF_STATUS = {
    "Created": "awaiting-shipment",
    "Acknowledged": "awaiting-shipment",
    "Partially Shipped": "partially-shipped",
    "Shipped": "shipped",
    "Cancelled": "cancelled",
}
#: Commerce orders are read (and Walmart orders fetched) this many at a time.
PAGE_SIZE = 100
#: Walmart's list endpoint: at most 200 per page; only orders of the last 180 days.
WALMART_PAGE = 200
WALMART_LIST_DAYS = 180
#: The Walmart window for a page of Commerce orders: their creation times, widened by this much (a PO is created
#: on Walmart shortly before Channel Manager imports it, so mostly earlier; POs imported later than this, or
#: older than Walmart's list reaches, are fetched one by one).
WINDOW_BEFORE = timedelta(hours=1)
WINDOW_AFTER = timedelta(minutes=10)
#: Below this many POs in a page, fetch them one by one.
BATCH_MIN = 3


@dataclass
class ListStats:
    """Counters filled while the list streams (for the summary line and the benchmark)."""

    commerce_orders: int = 0
    other_channel: int = 0
    not_on_walmart: int = 0
    not_on_walmart_sample: list[str] = field(default_factory=list)  # the first few, for the message
    walmart_list_calls: int = 0
    walmart_get_calls: int = 0
    shown: int = 0


def row_json(report: StatusReport, order: Order) -> dict[str, Any]:
    created = parse_commerce_time(order.created_at)
    return {
        "order": report.order,
        "purchase_order_id": report.purchase_order_id,
        "created_at": rfc3339(created) if created else None,
        "commerce_state": report.commerce_state,
        "walmart_status": report.walmart_status,
        "verdict": report.verdict,
        "estimated_ship_date": rfc3339(report.estimated_ship_date),
        "risk": report.risk.level if report.risk else None,
        "auto_cancel_at": rfc3339(report.risk.auto_cancel_at) if report.risk else None,
        "differences": [d.what for d in report.differences if not d.pending],
        "repair_commands": report.commands,
    }


def matches(report: StatusReport, status: str) -> bool:
    if status == "all":
        return True
    if status == "diverged":
        return report.verdict == DIVERGED
    return _FILTER_OF_STATUS.get(report.walmart_status) == status


T = TypeVar("T")


def _chunks(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while True:
        chunk = list(itertools.islice(items, size))
        if not chunk:
            return
        yield chunk


def fetch_walmart_orders(
    walmart: WalmartClient,
    wanted: dict[str, datetime | None],
    now: datetime,
    stats: ListStats,
    *,
    page_size: int = PAGE_SIZE,
) -> dict[str, WalmartOrder]:
    """The Walmart orders of one page of POs. A listing (cursor-paged, ``page_size`` per Walmart page so that
    memory is bounded by the page size, not by how dense the window is) over the window of their creation
    times covers most of them, and stops once all are found; the rest are read one by one. Orders Walmart does
    not have are left out."""
    found: dict[str, WalmartOrder] = {}
    times = [t for t in wanted.values() if t is not None]
    if len(wanted) >= BATCH_MIN and times:
        start = min(times) - WINDOW_BEFORE
        end = max(times) + WINDOW_AFTER
        if start > now - timedelta(days=WALMART_LIST_DAYS - 1):
            limit = max(1, min(WALMART_PAGE, page_size))
            cap = 3 * len(wanted) + limit
            scanned = 0
            stats.walmart_list_calls += 1
            try:
                for raw in walmart.list_orders(
                    createdStartDate=walmart_time(start),
                    createdEndDate=walmart_time(min(end, now)),
                    limit=str(limit),
                ):
                    scanned += 1
                    po = str(raw.get("purchaseOrderId", ""))
                    if po in wanted and po not in found:
                        found[po] = WalmartOrder.model_validate(raw)
                        if len(found) == len(wanted):
                            break
                    if scanned % limit == 0:
                        stats.walmart_list_calls += 1
                    if scanned >= cap:
                        break
            except ApiError:
                pass  # the per-PO reads below cover what the listing did not
    for po in wanted:
        if po in found:
            continue
        stats.walmart_get_calls += 1
        try:
            found[po] = WalmartOrder.model_validate(walmart.get_order(po))
        except NotFoundError:
            continue
    return found


def _shipments_of(commerce: CommerceClient, orders: Sequence[Order]) -> dict[int, list[Shipment]]:
    ids = [o.entity_id for o in orders if any(i.qty_shipped > 0 for i in o.items)]
    out: dict[int, list[Shipment]] = {}
    if not ids:
        return out
    for raw in commerce.search("shipments", [[Filter("order_id", ",".join(str(i) for i in ids), "in")]], sort=()):
        sh = Shipment.model_validate(raw)
        if sh.order_id is not None:
            out.setdefault(sh.order_id, []).append(sh)
    return out


def list_orders(
    deps: Deps,
    *,
    since: datetime | None,
    status: str = "all",
    limit: int | None = None,
    page_size: int = PAGE_SIZE,
    stats: ListStats | None = None,
) -> Iterator[dict[str, Any]]:
    """Commerce orders carrying a Walmart PO, newest first, each compared with Walmart: one row (the ``--json``
    object) at a time. Reads page by page and keeps only the current page, so memory stays flat however
    many orders match."""
    stats = stats if stats is not None else ListStats()
    store = deps.store
    pattern = re.compile(store.po_pattern)
    groups: list[list[Filter]] = [[Filter(store.po_field, None, "notnull")]]
    if since is not None:
        groups.append([Filter("created_at", commerce_time(since), "gteq")])
    stream = deps.commerce.search_orders(groups, page_size=page_size)
    for chunk in _chunks(stream, page_size):
        now = deps.clock.time()
        now_dt = datetime.fromtimestamp(now, tz=UTC)
        stats.commerce_orders += len(chunk)
        page: list[tuple[Order, str]] = []
        for raw in chunk:
            order = Order.model_validate(raw)
            po = order.field(store.po_field)
            po = str(po).strip() if po is not None else ""
            if not po or not pattern.fullmatch(po):
                stats.other_channel += 1
                continue
            page.append((order, po))
        if not page:
            continue
        deps.progress(f"reading {len(page)} Walmart orders")
        wanted = {po: parse_commerce_time(o.created_at) for o, po in page}
        wm_orders = fetch_walmart_orders(deps.walmart, wanted, now_dt, stats, page_size=page_size)
        shipments = _shipments_of(deps.commerce, [o for o, po in page if po in wm_orders])
        for order, po in page:
            wm = wm_orders.get(po)
            if wm is None:
                stats.not_on_walmart += 1
                if len(stats.not_on_walmart_sample) < 5:
                    stats.not_on_walmart_sample.append(order.increment_id)
                continue
            ops = deps.journal.history(deps.store_name, po, limit=20)
            report = compare(
                order,
                shipments.get(order.entity_id, []),
                wm,
                ops,
                now,
                channel_manager=uses_channel_manager(store, ops),
            )
            if not matches(report, status):
                continue
            yield row_json(report, order)
            stats.shown += 1
            if limit is not None and stats.shown >= limit:
                return
        del page, wm_orders, shipments, chunk
