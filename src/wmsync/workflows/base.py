"""Shared workflow pieces: validating ORDER, finding the order on both sides, item arguments, polling.

Workflows take clients and a clock; no httpx, rich or Typer here."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from wmsync.clock import Clock
from wmsync.commerce.client import CommerceClient, Filter
from wmsync.commerce.models import Order, Shipment
from wmsync.config import StoreConfig
from wmsync.errors import NotFoundError, OrderNotFoundError, RefusedError, UsageError
from wmsync.walmart.client import WalmartClient
from wmsync.walmart.models import WalmartOrder

if TYPE_CHECKING:
    from wmsync.journal import Journal

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")

ORDER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$")
SKU_MAX = 100


def _describe_bad(value: str) -> str:
    for ch in value:
        if unicodedata.category(ch).startswith("C"):
            return f"a control character (U+{ord(ch):04X})"
        if not ch.isascii():
            return f"a non-ASCII character {ch!r} (U+{ord(ch):04X})"
    for ch in value:
        if not (ch.isalnum() or ch in "_-"):
            return f"the character {ch!r}"
    return "an unexpected form"


def check_order_arg(value: str) -> str:
    """ORDER is a Commerce order number (increment_id) or a Walmart purchase order id: letters, digits,
    '-' and '_' only, at most 50 characters, optionally after a '#' as the Commerce admin shows order numbers.
    Checked before any request is made; returns the order number without the '#'."""
    if value.startswith("#") and len(value) > 1:
        value = value[1:]
    if not value:
        raise UsageError("ORDER is empty", hint="give the Commerce order number or the Walmart purchase order id")
    if len(value) > 50:
        raise UsageError(f"ORDER is {len(value)} characters long; order numbers and PO ids are at most 50")
    if not ORDER_RE.fullmatch(value):
        shown = value if value.isprintable() else value.encode("unicode_escape").decode()
        raise UsageError(
            f"ORDER {shown[:60]!r} contains {_describe_bad(value)}",
            hint="an order is a Commerce order number (e.g. 000000123) or a Walmart purchase order id (digits)",
        )
    return value


def parse_items(values: Sequence[str]) -> dict[str, int | None]:
    """``--item SKU[=QTY]`` (repeatable): quantities are positive whole numbers; no QTY = all that is left."""
    out: dict[str, int | None] = {}
    for raw in values:
        sku, sep, qty_text = raw.partition("=")
        sku = sku.strip()
        if not sku or len(sku) > SKU_MAX or any(unicodedata.category(c).startswith("C") for c in sku):
            raise UsageError(f"--item {raw[:60]!r}: expected SKU or SKU=QTY with a printable SKU")
        qty: int | None = None
        if sep:
            text = qty_text.strip()
            if not re.fullmatch(r"[0-9]{1,6}", text):
                raise UsageError(f"--item {raw[:60]!r}: the quantity must be a whole number from 1 to 999999")
            qty = int(text)
            if qty <= 0:
                raise UsageError(f"--item {raw[:60]!r}: the quantity must be at least 1")
        if sku in out:
            prev = out[sku]
            out[sku] = None if prev is None or qty is None else prev + qty
        else:
            out[sku] = qty
    return out


@dataclass
class OrderPair:
    order: Order
    purchase_order_id: str
    walmart: WalmartOrder
    shipments: list[Shipment] = field(default_factory=list)


def find_commerce_order(commerce: CommerceClient, store: StoreConfig, value: str) -> Order:
    """One search: increment_id = value OR <po_field> = value. Unknown or ambiguous → refused (exit 2)."""
    value = check_order_arg(value)
    orders = list(
        commerce.search_orders(
            [[Filter("increment_id", value), Filter(store.po_field, value)]], page_size=5, limit=5, sort=()
        )
    )
    if not orders:
        raise OrderNotFoundError(
            f"no Commerce order has number or Walmart PO {value!r}",
            hint="`wmsync orders list` shows the Walmart orders of this store",
        )
    if len(orders) > 1:
        names = ", ".join(f"{o.increment_id} (PO {o.field(store.po_field) or '-'})" for o in orders)
        raise UsageError(
            f"{value!r} matches several Commerce orders: {names}", hint="give the exact Commerce order number"
        )
    return orders[0]


def purchase_order_of(order: Order, store: StoreConfig) -> str:
    po = order.field(store.po_field)
    if po is None or str(po).strip() == "":
        raise RefusedError(
            f"Commerce order {order.increment_id} has no Walmart purchase order id (field {store.po_field} is empty)",
            hint="it did not come from Walmart; only Walmart orders can be shipped or cancelled with wmsync",
        )
    po = str(po).strip()
    if not re.fullmatch(store.po_pattern, po):
        raise RefusedError(
            f"Commerce order {order.increment_id} carries {po!r} in {store.po_field}, which is not a Walmart "
            f"purchase order id (po_pattern {store.po_pattern})",
            hint="it probably came from another channel; adjust po_pattern in the store config if this is wrong",
        )
    return po


@contextmanager
def order_lease(
    journal: Journal,
    store: str,
    po: str,
    order_number: str,
    *,
    dry_run: bool,
    wait: float,
    ttl: float,
    sleep: Callable[[float], None],
) -> Iterator[None]:
    """Hold the per-order lease (``po:<PO>``) while reading, planning and acting, so two runs never work on one
    order at once. A dry run reads only and takes no lease."""
    from wmsync.errors import LeaseTimeoutError

    if not dry_run and not journal.acquire(store, f"po:{po}", ttl=ttl, wait=wait, sleep=sleep):
        held = journal.holder(store, f"po:{po}")
        who = ""
        if held is not None:
            from datetime import UTC, datetime

            def when(ts: float) -> str:
                return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

            since = f" since {when(held['since'])}" if held.get("since") is not None else ""
            who = (
                f"; held by host {held['host']}, pid {held['pid']}{since}, until {when(held['expires_at'])} "
                "unless it renews"
            )
        raise LeaseTimeoutError(
            f"another wmsync run is working on order {order_number} (PO {po}){who}",
            hint="try again when it has finished, or raise --lock-timeout",
        )
    try:
        yield
    finally:
        if not dry_run:
            journal.release(store, f"po:{po}")


def renewing(
    progress: Callable[[str], None], journal: Journal, store: str, po: str, *, ttl: float, dry_run: bool
) -> Callable[[str], None]:
    """A progress callback that also renews the order's lease: called before every write and every wait."""
    if dry_run:
        return progress

    def report(message: str) -> None:
        journal.renew(store, f"po:{po}", ttl=ttl)
        progress(message)

    return report


def read_walmart_order(walmart: WalmartClient, po: str, order_number: str) -> WalmartOrder:
    """The Walmart purchase order of a Commerce order; a PO Walmart does not know is refused (exit 2)."""
    try:
        return walmart.get_order(po)
    except NotFoundError as exc:
        raise RefusedError(
            f"Walmart has no purchase order {po} (from Commerce order {order_number})",
            hint="check that the store's Walmart account is the one this order came from",
            correlation_id=exc.correlation_id,
        ) from exc


def alongside(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """Run two independent reads at once (``second`` on a thread): one round trip instead of two. An error of
    either is raised (``first``'s when both fail), after both have finished."""
    import threading

    box: list[Any] = []

    def run_second() -> None:
        try:
            box.append((True, second()))
        except BaseException as exc:  # handed to the caller below
            box.append((False, exc))

    worker = threading.Thread(target=run_second, name="wmsync-read", daemon=True)
    worker.start()
    try:
        a = first()
    finally:
        worker.join()
    ok, value = box[0]
    if not ok:
        raise value
    return a, value


def poll(
    check: Callable[[], bool],
    *,
    clock: Clock,
    timeout: float,
    initial: float,
    maximum: float,
    on_wait: Callable[[float, float], None] | None = None,
) -> bool:
    """Call ``check`` until it returns True or ``timeout`` seconds pass; waits grow from ``initial`` to
    ``maximum``. Returns whether it was confirmed."""
    start = clock.monotonic()
    wait = initial
    while True:
        if check():
            return True
        elapsed = clock.monotonic() - start
        if elapsed >= timeout:
            return False
        delay = min(wait, maximum, max(0.0, timeout - elapsed))
        if on_wait is not None:
            on_wait(elapsed, delay)
        clock.sleep(delay)
        wait = min(maximum, wait * 2)


def settle_unknown(
    read: Callable[[], T],
    applied: Callable[[T], bool],
    *,
    clock: Clock,
    grace: float,
    what: str,
    correlation_id: str | None = None,
) -> T:
    """After a write whose outcome is unknown, re-read until the change shows; return the state read.

    A write is never sent again in the same run: the server may still be working on the first request (a PHP
    worker goes on after the client gave up; Walmart's 504 means its backend is still busy). If the change has
    not shown after ``grace`` seconds, raise :class:`OutcomeUnknownError` (exit 5); a re-run then checks again,
    and resends only after ``resend_quiet`` seconds (see :func:`guard_resend`)."""
    from wmsync.errors import OutcomeUnknownError

    box: list[T] = []

    def check() -> bool:
        state = read()
        box[:] = [state]
        return applied(state)

    if poll(check, clock=clock, timeout=grace, initial=min(1.0, max(grace / 10, 0.01)), maximum=5.0):
        return box[0]
    raise OutcomeUnknownError(
        f"could not tell whether {what} went through: it has not shown after {grace:.0f}s",
        hint="nothing will be sent twice: a re-run reads both sides again and sends it only if it is still "
        "missing (after the resend_quiet period)",
        correlation_id=correlation_id,
    )


#: how messages name a journalled write step
_STEP_WORDS = {
    "commerce_ship": "the Commerce shipment",
    "walmart_ship": "the Walmart shipping update",
    "walmart_cancel": "the Walmart cancellation",
    "commerce_cancel": "the Commerce cancel",
    "commerce_comment": "the Commerce order comment",
    "commerce_intent": "the Commerce order comment",
    "acknowledge": "the Walmart acknowledge",
}


def guard_resend(journal: Journal, store: str, op_key: str, step: str, *, now: float, quiet: float) -> None:
    """Refuse to send ``step`` again while an earlier attempt whose outcome was unknown may still be in flight."""
    from wmsync.errors import OutcomeUnknownError

    for op in journal.by_key(store, op_key):
        info = op.steps.get(step)
        if info and info["state"] in ("started", "unknown") and now - float(info["updated_at"]) < quiet:
            wait = quiet - (now - float(info["updated_at"]))
            what = _STEP_WORDS.get(step, step.replace("_", " "))
            how = (
                "got no answer"
                if info["state"] == "unknown"
                else "was stopped before it got an answer"
            )
            raise OutcomeUnknownError(
                f"an earlier attempt at {what} {how} and may still be in flight on the server; not sending it again "
                f"for another {wait:.0f}s",
                hint="run the same command again later (resend_quiet setting); `wmsync status` shows both sides",
            )


def awaiting_confirmation(journal: Journal, store: str, op_key: str, step: str, *, now: float) -> bool:
    """True when an earlier run sent ``step`` and its confirmation window is still open (``--no-wait``, or a
    timeout with exit 6): the write must not be sent again before Walmart had its time to show it."""
    for op in journal.by_key(store, op_key):
        info = op.steps.get(step)
        if op.state == "pending" and info and info["state"] == "done" and (op.confirm_deadline or 0) > now:
            return True
    return False
