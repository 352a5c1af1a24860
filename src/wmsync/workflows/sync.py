"""``wmsync sync``: the reconciliation Channel Manager does in the background, for cron.

What it reads (all paged, one page in memory at a time, apart from the Walmart changes):

* the Commerce orders carrying a Walmart PO whose ``updated_at`` is at or after the window start, and their
  shipments (one bulk search per page);
* the Walmart orders whose ``lastModifiedStartDate`` is in the window (one list call per 200), and the Commerce
  orders of those POs that Commerce did not list;
* the POs a previous run left outstanding (failed, skipped, or disagreeing), which are checked again every run
  until they are resolved.

The window starts at ``--since``, or else at the start of the last successful run (journal meta
``sync:since``), or on a first run :data:`FIRST_RUN_WINDOW` ago; it reaches back :data:`OVERLAP` further to
cover clocks that differ and writes in flight. Re-reading an order costs only reads: everything it does is
decided from the live state, and what the journal records as done is not even read.

What it does, per order (the packages of one order in sequence, orders concurrently):

1. Orders whose Commerce shipments are all recorded as done in the journal, that are not cancelled in Commerce
   (or whose cancellation is done), and that did not change on Walmart are skipped without a request.
2. The rest are compared side by side (:func:`wmsync.workflows.status.compare`, the same rules as
   ``wmsync status``), with the Walmart order from the listing or read once.
3. Commerce shipments Walmart does not have are pushed: exactly ``wmsync ship ORDER`` (the tracks recorded on
   the Commerce shipments), with the order and shipments already read. Never in channel-manager mode, where
   Channel Manager pushes them.
4. A Commerce order cancelled while Walmart lines are open is cancelled on Walmart with the store's
   ``default_cancel_reason`` (like ``wmsync cancel ORDER --reason R --walmart-only``) only when the store sets
   one — Commerce keeps no reason; otherwise it is reported.
5. Every other difference (shipped on Walmart only, cancelled on Walmart only, quantities that differ, a
   shipment with several tracking numbers, a tracking number that fails its check...) is reported with the
   repair ``wmsync status`` suggests; sync does not fix it on its own.

Idempotent: a second run sends nothing — the pushes of the first are in the journal and on Walmart.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from wmsync.commerce.client import CommerceClient, Filter
from wmsync.commerce.models import Order, Shipment
from wmsync.errors import ExitCode, NotFoundError, WmsyncError
from wmsync.journal import Journal
from wmsync.timeparse import commerce_time, walmart_time
from wmsync.walmart.client import WalmartClient
from wmsync.walmart.models import WalmartOrder
from wmsync.workflows.context import Context
from wmsync.workflows.runner import (
    ALREADY,
    CONFIRMED,
    DRY_RUN,
    PENDING,
    Outcome,
    outcome_of_error,
    run_jobs,
)
from wmsync.workflows.sync_report import OrderResult, SyncReport

T = TypeVar("T")

#: The window of a first run (no ``--since``, no earlier successful run).
FIRST_RUN_WINDOW = timedelta(days=7)
#: How much further back than the last run's start each run reads.
OVERLAP = timedelta(minutes=10)
#: Walmart lists only the orders of the last 180 days.
WALMART_LIST_DAYS = 179
PAGE_SIZE = 100
WALMART_PAGE = 200
#: Most POs kept for re-checking; beyond this the window does not move forward.
MAX_OUTSTANDING = 5000
META_SINCE = "sync:since"
META_OUTSTANDING = "sync:outstanding"
SHIP_DIFF = "commerce_shipment_not_on_walmart"
CANCEL_DIFF = "commerce_cancel_not_on_walmart"


@dataclass
class SyncOptions:
    since: datetime | None = None
    dry_run: bool = False
    lock_timeout: float = 30.0
    workers: int = 8


@dataclass
class Item:
    order: Order
    po: str
    shipments: list[Shipment]
    walmart: WalmartOrder | None
    reason: str  # why it is checked: "commerce" (changed, work to do), "walmart" (changed), "outstanding"
    read_at: float | None = None  # journal time of the Commerce read


# ---------------------------------------------------------------------------------------------- window


def last_since(journal: Journal, store: str) -> datetime | None:
    raw = journal.get_meta(store, META_SINCE)
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def outstanding_of(journal: Journal, store: str) -> list[str]:
    raw = journal.get_meta(store, META_OUTSTANDING)
    try:
        data = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [str(p) for p in data if isinstance(p, str | int)] if isinstance(data, list) else []


def window(journal: Journal, store: str, since: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """(since, window start): the requested or remembered start, and the start actually read (with overlap)."""
    start = since or last_since(journal, store) or (now - FIRST_RUN_WINDOW)
    return start, start - OVERLAP


# ---------------------------------------------------------------------------------------------- reading


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while True:
        chunk = list(itertools.islice(it, size))
        if not chunk:
            return
        yield chunk


_END = object()


class _ReadAhead:
    """Iterates what ``produce`` yields on a thread of its own, one item ahead of the consumer, so the Commerce
    pages (and their shipments) are read while the Walmart listing is read and while the workers check the page
    before. An error is raised to the consumer where it would have been; :meth:`close` stops the reading."""

    def __init__(self, produce: Callable[[], Iterable[Any]]) -> None:
        import queue

        self._box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
        self._full = queue.Full
        self._stop = threading.Event()
        threading.Thread(target=self._run, args=(produce,), name="wmsync-sync-read", daemon=True).start()

    def _run(self, produce: Callable[[], Iterable[Any]]) -> None:
        try:
            for item in produce():
                if not self._put((True, item)):
                    return
            self._put((True, _END))
        except BaseException as exc:  # raised to the consumer
            self._put((False, exc))

    def _put(self, entry: tuple[bool, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._box.put(entry, timeout=0.1)
                return True
            except self._full:
                continue
        return False

    def __iter__(self) -> Iterator[Any]:
        while True:
            ok, got = self._box.get()
            if not ok:
                raise got
            if got is _END:
                return
            yield got

    def close(self) -> None:
        self._stop.set()


def shipments_of(commerce: CommerceClient, orders: Sequence[Order]) -> dict[int, list[Shipment]]:
    """The shipments of a page of orders in one search (only orders that shipped something)."""
    return shipments_by_order(commerce, [o.entity_id for o in orders if any(i.qty_shipped > 0 for i in o.items)])


def shipments_by_order(commerce: CommerceClient, ids: Sequence[int]) -> dict[int, list[Shipment]]:
    """The shipments of these Commerce orders (entity ids), by order: one search per page of orders."""
    out: dict[int, list[Shipment]] = {}
    for chunk in _chunks(ids, PAGE_SIZE):
        for sh in commerce.search_shipments(
            [[Filter("order_id", ",".join(str(i) for i in chunk), "in")]],
            page_size=PAGE_SIZE,
            sort=(("entity_id", "ASC"),),
        ):
            if sh.order_id is not None:
                out.setdefault(sh.order_id, []).append(sh)
    return out


class WalmartChanges:
    """The Walmart orders changed in the window, by PO, as compact JSON, kept in a private temporary SQLite
    database on disk (deleted when closed) rather than on the heap: memory does not grow with the number of
    changed orders. Each is parsed when its order is checked. Used under run_jobs' lock (one thread at a time)."""

    def __init__(self) -> None:
        import sqlite3

        # "" = a private temporary on-disk database, deleted when the connection closes
        self._conn = sqlite3.connect("", check_same_thread=False, isolation_level=None)
        self._conn.execute("CREATE TABLE changed (po TEXT PRIMARY KEY, doc TEXT NOT NULL)")
        self._count = 0

    def add_many(self, rows: Iterable[tuple[str, str]]) -> None:
        self._conn.execute("BEGIN")
        try:
            self._conn.executemany("INSERT OR REPLACE INTO changed (po, doc) VALUES (?, ?)", rows)
        finally:
            self._conn.execute("COMMIT")
        self._count = int(self._conn.execute("SELECT COUNT(*) FROM changed").fetchone()[0])

    def __len__(self) -> int:
        return self._count

    def __contains__(self, po: object) -> bool:
        return self._conn.execute("SELECT 1 FROM changed WHERE po = ?", (po,)).fetchone() is not None

    def get(self, po: str) -> str | None:
        row = self._conn.execute("SELECT doc FROM changed WHERE po = ?", (po,)).fetchone()
        return str(row[0]) if row is not None else None

    def __iter__(self) -> Iterator[str]:
        """The POs in the order they were listed (first listing of each)."""
        last = 0
        while True:
            rows = self._conn.execute("SELECT rowid, po FROM changed WHERE rowid > ? ORDER BY rowid LIMIT 500",
                                      (last,)).fetchall()
            if not rows:
                return
            for rowid, po in rows:
                last = rowid
                yield str(po)

    def close(self) -> None:
        self._conn.close()


def walmart_changes(walmart: WalmartClient, start: datetime, now: datetime) -> WalmartChanges:
    """Walmart orders modified since ``start`` (created in the last 180 days: all Walmart lists), by PO, streamed
    page by page into a :class:`WalmartChanges`."""
    created = now - timedelta(days=WALMART_LIST_DAYS)
    out = WalmartChanges()
    # split into date ranges that each stay under Walmart's cap on one listing (docs/real-services.md)
    stream = walmart.list_orders_windowed(
        int(created.timestamp() * 1000),
        int(now.timestamp() * 1000),
        {"lastModifiedStartDate": walmart_time(start), "limit": str(WALMART_PAGE)},
    )
    for page in _chunks(stream, WALMART_PAGE):
        out.add_many((str(raw["purchaseOrderId"]), json.dumps(raw, separators=(",", ":")))
                     for raw in page if raw.get("purchaseOrderId"))
    return out


class _Source:
    """The stream of orders to check, read lazily by the worker threads (under run_jobs' lock)."""

    def __init__(self, ctx: Context, report: SyncReport, start: datetime, outstanding: list[str]) -> None:
        self.ctx = ctx
        self.report = report
        self.start = start
        #: the Walmart changes, set (by run_sync) before the source is iterated
        self.changed: WalmartChanges | None = None
        self.outstanding = set(outstanding)
        self.pattern = re.compile(ctx.store.po_pattern)
        self.seen: set[str] = set()
        # journal time just before the Commerce read that is being handed out (earlier than the read: a change
        # made meanwhile is then noticed, never missed)
        self.read_at: float | None = ctx.journal.now()
        self.error: BaseException | None = None
        # the changed Commerce orders are read from now on, while Walmart's changes are listed
        self._pages = _ReadAhead(self._commerce_pages)

    def close(self) -> None:
        self._pages.close()

    @property
    def _changed(self) -> WalmartChanges:
        assert self.changed is not None, "run_sync sets the Walmart changes first"
        return self.changed

    def _commerce_pages(self) -> Iterator[tuple[list[Order], dict[int, list[Shipment]]]]:
        """The Commerce orders changed in the window, a page at a time, with their shipments (on the reading
        thread)."""
        store = self.ctx.store
        groups = [[Filter("updated_at", commerce_time(self.start), "gteq")], [Filter(store.po_field, None, "notnull")]]
        stream = self.ctx.commerce.search_orders(groups, page_size=PAGE_SIZE, sort=(("entity_id", "ASC"),))
        for page in _chunks(stream, PAGE_SIZE):
            yield page, shipments_of(self.ctx.commerce, [o for o in page if self._po(o) is not None])

    def _po(self, order: Order) -> str | None:
        po = order.field(self.ctx.store.po_field)
        po = str(po).strip() if po is not None else ""
        return po if po and self.pattern.fullmatch(po) else None

    def __iter__(self) -> Iterator[list[Item]]:
        try:
            yield from self._items()
        except Exception as exc:  # reported by the caller after the running jobs finish
            self.error = exc
        finally:
            self.close()

    def _items(self) -> Iterator[list[Item]]:
        store = self.ctx.store
        changed = self._changed
        for page, shipments in self._pages:
            self.report.commerce_orders += len(page)
            self.ctx.progress(f"read {self.report.commerce_orders} changed Commerce orders")
            yield from self._page(page, shipments)
        rest = itertools.chain(
            (po for po in changed if po not in self.seen),
            sorted(po for po in self.outstanding if po not in self.seen and po not in changed),
        )
        for chunk in _chunks(rest, PAGE_SIZE):
            self.read_at = self.ctx.journal.now()
            orders = list(
                self.ctx.commerce.search_orders(
                    [[Filter(store.po_field, ",".join(chunk), "in")]],
                    page_size=PAGE_SIZE,
                    sort=(("entity_id", "ASC"),),
                )
            )
            have = {self._po(o) for o in orders}
            self.report.not_in_commerce += sum(1 for po in chunk if po not in have)
            yield from self._page(orders)

    def _page(self, orders: list[Order], shipments: dict[int, list[Shipment]] | None = None) -> Iterator[list[Item]]:
        ctx = self.ctx
        changed = self._changed
        page: list[tuple[Order, str]] = []
        for order in orders:
            po = self._po(order)
            if po is None or po in self.seen:
                continue
            self.seen.add(po)
            page.append((order, po))
        if not page:
            return
        read_at = self.read_at
        if shipments is None:
            shipments = shipments_of(ctx.commerce, [o for o, _ in page])
        done = ctx.journal.done_operations(ctx.store_name, "ship", [po for _, po in page])
        cancels = ctx.journal.done_operations(ctx.store_name, "cancel", [po for _, po in page])
        done_tracks = {(d.purchase_order_id, d.op_key.split(":", 2)[2]) for d in done}
        done_cancel = {d.purchase_order_id for d in cancels if d.op_key.endswith(":all")}
        for order, po in page:
            ships = shipments.get(order.entity_id, [])
            tracks = {t for sh in ships for t in sh.track_numbers()}
            todo = any((po, t) not in done_tracks for t in tracks) or any(not sh.track_numbers() for sh in ships)
            cancel = order.state == "canceled" and po not in done_cancel
            if po in self.outstanding:
                reason = "outstanding"
            elif po in changed:
                reason = "walmart"
            elif todo or cancel:
                reason = "commerce"
            else:
                self.report.skipped_unchanged += 1
                continue
            listed = changed.get(po)
            wm = WalmartOrder.model_validate_json(listed) if listed is not None else None
            yield [Item(order, po, ships, wm, reason, read_at)]


# ---------------------------------------------------------------------------------------------- acting


def _action(kind: str, outcome: Outcome) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action": kind,
        "result": outcome.result,
        "exit_code": outcome.exit_code,
        "error": outcome.error,
    }
    if outcome.hint:
        out["hint"] = outcome.hint
    if outcome.correlation_ids:
        out["correlation_ids"] = outcome.correlation_ids
    return out


def _ok(outcome: Outcome) -> bool:
    return outcome.result in (CONFIRMED, ALREADY, DRY_RUN) or (outcome.result == PENDING and not outcome.exit_code)


def check_order(ctx: Context, opts: SyncOptions, item: Item, *, own_ids: bool = False) -> OrderResult:
    """Compare one order, push what sync may push, report the rest. ``own_ids``: ``ctx.walmart`` keeps this
    order's correlation ids only (they are reported with its actions)."""
    from wmsync.workflows import cancel as cancel_wf
    from wmsync.workflows import ship as ship_wf
    from wmsync.workflows.status import compare, uses_channel_manager

    journal, walmart = ctx.journal, ctx.walmart
    order, po = item.order, item.po
    result = OrderResult(order.increment_id, po)
    try:
        wm = item.walmart or walmart.get_order(po)
    except NotFoundError:
        result.verdict = "diverged"
        result.exit_code = int(ExitCode.DIVERGED)
        result.differences.append(
            {
                "kind": "not_on_walmart",
                "what": f"Walmart has no purchase order {po}",
                "repair": "check po_pattern / the PO field of this Commerce order",
                "command": None,
            }
        )
        return result
    except WmsyncError as exc:
        outcome = outcome_of_error(exc)
        result.actions.append(_action("read", outcome))
        result.verdict, result.exit_code = "failed", int(ExitCode.BATCH_FAILURES)
        return result
    ops = journal.history(ctx.store_name, po, limit=20)
    cm = uses_channel_manager(ctx.store, ops) or ctx.store.submit == "channel-manager"
    report = compare(
        order, item.shipments, wm, ops, ctx.clock.time(), channel_manager=cm, resend_quiet=ctx.settings.resend_quiet
    )
    diffs = list(report.differences)
    problems: list[int] = []
    ship_needed = not cm and any(d.kind == SHIP_DIFF and not d.pending for d in diffs)
    if ship_needed:
        try:
            shipped = ship_wf.execute(
                ctx,
                ship_wf.ShipRequest(order=order.increment_id, via="direct"),
                dry_run=opts.dry_run,
                lock_timeout=opts.lock_timeout,
                order=order,
                shipments=item.shipments,
                read_at=item.read_at,
            )
            outcome = Outcome(str(shipped.result))
        except Exception as exc:
            outcome = outcome_of_error(exc)
        outcome.correlation_ids = list(walmart.correlation_ids[-20:]) if own_ids else []
        result.actions.append(_action("ship", outcome))
        if _ok(outcome):
            diffs = [d for d in diffs if d.kind != SHIP_DIFF]
        else:
            problems.append(outcome.exit_code)
    reason = ctx.store.default_cancel_reason
    cancel_needed = order.state == "canceled" and any(d.kind == CANCEL_DIFF and not d.pending for d in diffs)
    if cancel_needed and reason and not cm:
        try:
            cancelled = cancel_wf.execute(
                ctx,
                cancel_wf.CancelRequest(order=order.increment_id, reason=reason, walmart_only=True),
                dry_run=opts.dry_run,
                lock_timeout=opts.lock_timeout,
            )
            outcome = Outcome(str(cancelled.result))
        except Exception as exc:
            outcome = outcome_of_error(exc)
        result.actions.append(_action("cancel", outcome))
        if _ok(outcome):
            diffs = [d for d in diffs if d.kind != CANCEL_DIFF]
        else:
            problems.append(outcome.exit_code)
    elif cancel_needed and not cm:
        for i, d in enumerate(diffs):
            if d.kind == CANCEL_DIFF:
                from dataclasses import replace

                diffs[i] = replace(
                    d,
                    repair=d.repair + " — sync cancels on Walmart by itself only when the store "
                    "sets default_cancel_reason (Commerce keeps no reason)",
                )
    result.differences = [d.to_json() for d in diffs]
    if any(code != ExitCode.REFUSED for code in problems):
        result.verdict = "failed"  # sent and rejected, unavailable, not confirmed, or another run held the order
        result.exit_code = int(ExitCode.BATCH_FAILURES)
    elif problems or any(not d.pending for d in diffs):  # refused before sending: a person must look
        result.verdict = "diverged"
        result.exit_code = int(ExitCode.DIVERGED)
    elif diffs:
        result.verdict = "pending"
    return result


# ---------------------------------------------------------------------------------------------- the run


def run_sync(
    ctx: Context,
    opts: SyncOptions,
    *,
    for_order: Callable[[Context], Context] | None = None,
    on_result: Callable[[OrderResult], None] = lambda _r: None,
    stop: threading.Event | None = None,
) -> SyncReport:
    """One reconciliation run. Raises the listing's error (nothing advanced) if a listing fails; per-order
    failures are in the report. ``for_order``: the context one order is worked on with (the worker thread's
    journal connection, its own lease owner; a Walmart client keeping that order's correlation ids)."""
    now = datetime.fromtimestamp(ctx.clock.time(), tz=UTC)
    since, start = window(ctx.journal, ctx.store_name, opts.since, now)
    report = SyncReport(since=since, until=now, window_start=start, dry_run=opts.dry_run)
    outstanding = outstanding_of(ctx.journal, ctx.store_name)
    source = _Source(ctx, report, start, outstanding)  # reads Commerce meanwhile
    ctx.progress("reading Walmart orders changed in the window")
    try:
        changed = walmart_changes(ctx.walmart, start, now)
    except BaseException:
        source.close()
        raise
    report.walmart_changed = len(changed)
    source.changed = changed
    stop = stop or threading.Event()
    keep: list[str] = []
    lock = threading.Lock()

    def work(item: Item) -> Outcome:
        try:
            octx = for_order(ctx) if for_order is not None else ctx
            res = check_order(octx, opts, item, own_ids=for_order is not None)
        except BaseException as exc:
            # an order that could not be checked stays outstanding: the window moves on, the order is not lost
            failed = outcome_of_error(exc)
            res = OrderResult(
                item.order.increment_id,
                item.po,
                verdict="failed",
                exit_code=int(ExitCode.BATCH_FAILURES),
                actions=[_action("check", failed)],
            )
            if isinstance(exc, KeyboardInterrupt):
                with lock:
                    keep.append(item.po)
                raise
        with lock:
            report.checked += 1
            if res.verdict != "in_sync" or res.actions:
                report.results.append(res)
            pending_action = any(a.get("result") == PENDING for a in res.actions)
            if res.verdict in ("failed", "diverged", "pending") or pending_action:
                keep.append(res.purchase_order_id)
            on_result(res)
        return Outcome(res.verdict, res.exit_code)

    try:
        run_jobs(source, work, workers=opts.workers, on_outcome=lambda _j, _o: None, stop=stop)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        source.close()
        changed.close()
    if source.error is not None:
        raise source.error
    report.results.sort(key=lambda r: r.order)
    # outstanding POs no longer found in Commerce are dropped (counted in not_in_commerce)
    if report.interrupted:
        report.outstanding = sorted(set(outstanding) | set(keep))
    else:
        report.outstanding = sorted(set(keep))
    if not opts.dry_run:
        kept = report.outstanding[:MAX_OUTSTANDING]
        ctx.journal.set_meta(ctx.store_name, META_OUTSTANDING, json.dumps(kept))
        stored = last_since(ctx.journal, ctx.store_name)
        covers = opts.since is None or stored is None or opts.since <= stored
        if not report.interrupted and covers and len(report.outstanding) <= MAX_OUTSTANDING:
            ctx.journal.set_meta(ctx.store_name, META_SINCE, now.isoformat())
            report.advanced = True
    return report


__all__ = [
    "FIRST_RUN_WINDOW",
    "OVERLAP",
    "Item",
    "OrderResult",
        "SyncOptions",
    "SyncReport",
    "check_order",
    "run_sync",
    "window",
]
