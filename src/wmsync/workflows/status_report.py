"""What ``wmsync status`` reports: verdicts, differences with their repairs, the per-line view, auto-cancel risk
and the journal history, and the helpers that word them. Pure; :mod:`compare` builds a report."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from wmsync.commerce.models import Order
from wmsync.config import StoreConfig
from wmsync.journal import PENDING, Operation
from wmsync.timeparse import from_epoch_ms, rfc3339
from wmsync.walmart import rules
from wmsync.walmart.models import OrderLine, WalmartOrder, line_sort_key
from wmsync.workflows import cancel_note
from wmsync.workflows.pairing import CommercePackage

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
    order: str | None  # None: Commerce has not imported the Walmart order yet
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
    fulfilment: str = "SellerFulfilled"  # Walmart's shipNode.type
    shipping_program: str | None = None  # Walmart's shippingProgramType (TWO_DAY, ONE_DAY, …)
    open_quantity: int = 0  # Walmart units neither shipped nor cancelled

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
            "shipping_program": self.shipping_program,
            "risk": self.risk.to_json() if self.risk else None,
            "mode": "channel-manager" if self.channel_manager else "direct",
            "fulfilment": self.fulfilment,
            "lines": [ln.to_json() for ln in self.lines],
            "differences": [d.to_json() for d in self.differences],
            "repair_commands": self.commands,
            "pending_reasons": self.pending_reasons,
            "notes": self.notes,
            "history": self.history,
        }



def quote_arg(value: str) -> str:
    return shlex.quote(value)


def lines_text(numbers: Sequence[str]) -> str:
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    return "lines " + ", ".join(numbers)


def open_status(line: OrderLine) -> str:
    for s in line.statuses:
        if s.status in ("Created", "Acknowledged") and s.quantity > 0:
            return s.status
    return "open"


def walmart_state_text(lines: Sequence[OrderLine]) -> str:
    """What Walmart shows for the lines of one SKU that are not shipped yet, e.g. "line 2 still Acknowledged"."""
    open_lines = [ln for ln in lines if ln.open_qty > 0]
    if open_lines:
        groups: dict[str, list[str]] = {}
        for ln in open_lines:
            groups.setdefault(open_status(ln), []).append(ln.lineNumber)
        return "; ".join(f"Walmart {lines_text(nums)} still {status}" for status, nums in groups.items())
    cancelled = [ln.lineNumber for ln in lines if ln.qty_in("Cancelled")]
    if cancelled:
        return f"Walmart {lines_text(cancelled)} Cancelled"
    return "Walmart shows no open quantity for it"


def tracking_fails_format(number: str, carrier: str | None, po: str) -> str | None:
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


def wmsync_cancel_notes(order: Order, po: str) -> tuple[bool, dict[str, int], list[str]]:
    """Cancellations wmsync recorded as Commerce comments (read by :mod:`cancel_note`): whether a whole-order
    cancel is recorded, the quantities of partial cancels per SKU, and the comment texts."""
    whole = False
    qty: dict[str, int] = {}
    texts: list[str] = []
    seen: set[str] = set()
    for note, text in cancel_note.notes_for((c.comment or "" for c in order.status_histories), po):
        texts.append(text)
        if note.key in seen:
            continue  # the same operation recorded again (see repeated_cancels)
        seen.add(note.key)
        if note.whole:
            whole = True
        for sku, n in note.quantities.items():
            qty[sku] = qty.get(sku, 0) + n
    return whole, qty, texts


def repeated_cancels(order: Order, po: str) -> dict[str, tuple[int, int]]:
    """Partial cancellations recorded more than once under one operation key — the same request made by runs
    that did not share state, each of which cancelled on Walmart: SKU -> (units asked once, times recorded)."""
    count: dict[str, int] = {}
    first: dict[str, cancel_note.CancelNote] = {}
    for note, _text in cancel_note.notes_for((c.comment or "" for c in order.status_histories), po):
        if note.whole:
            continue
        count[note.key] = count.get(note.key, 0) + 1
        first.setdefault(note.key, note)
    out: dict[str, tuple[int, int]] = {}
    for key, times in count.items():
        if times > 1:
            for sku, n in first[key].quantities.items():
                asked, seen = out.get(sku, (0, 0))
                out[sku] = (asked + n, max(seen, times))
    return out


def reason_from_comments(order: Order) -> str | None:
    """The newest Walmart cancellation reason code written in a Commerce order comment (Channel Manager and
    wmsync both record it there)."""
    return cancel_note.latest_reason((c.created_at or "", c.comment or "") for c in order.status_histories)


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
        if op.params.get("replaces"):
            entry["replaces"] = op.params["replaces"]  # a tracking correction: replaces → tracking_number
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



def first_line(lines: Sequence[OrderLine]) -> str | None:
    return lines[0].lineNumber if lines else None


def first_open_line(lines: Sequence[OrderLine]) -> str | None:
    for ln in lines:
        if ln.open_qty > 0:
            return ln.lineNumber
    return first_line(lines)


def line_views(
    wm: WalmartOrder,
    lines_by_sku: dict[str, list[OrderLine]],
    packages: Sequence[CommercePackage],
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


