"""The Commerce orders of a file run, read in bulk: up to :data:`CHUNK` order numbers (Commerce order numbers
or Walmart purchase order ids, as written in the file) per search, and their shipments in one more search, as
``wmsync sync`` reads its pages. A chunk is read when the first worker reaches one of its orders, so what a
package is planned from is seconds old, not as old as the run.

Each order is handed out once, to its first package; the packages after it (same order) read afresh, since the
first one changed it. A value the bulk read cannot decide (no match, several matches, a search that failed)
is not an error here: the package searches alone, which reports it exactly as a single ``wmsync ship`` does.

:class:`ShipmentReads` is the re-read just before a Commerce shipment is created, shared by the workers: the
orders of the workers that are about to write at the same moment are read in one search."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wmsync.commerce.client import CommerceClient, Filter
from wmsync.commerce.models import Order, Shipment
from wmsync.config import StoreConfig
from wmsync.errors import WmsyncError
from wmsync.workflows.sync import shipments_by_order, shipments_of

#: order numbers per search
CHUNK = 50


@dataclass(frozen=True)
class Prefetched:
    order: Order
    shipments: list[Shipment]
    read_at: float  # journal time of the read, so a change by another run of this machine since is noticed


class OrderPrefetch:
    """Thread-safe: workers call :meth:`take` with the order as written in the file."""

    def __init__(
        self, commerce: CommerceClient, store: StoreConfig, values: Sequence[str], now: Callable[[], float]
    ) -> None:
        self._commerce, self._store, self._now = commerce, store, now
        self._values: list[str] = []
        self._index: dict[str, int] = {}
        for v in values:
            if v not in self._index and "," not in v:
                self._index[v] = len(self._values)
                self._values.append(v)
        self._loaded: set[int] = set()  # chunk numbers read
        self._ready: dict[str, Prefetched] = {}
        self._lock = threading.Lock()

    def take(self, value: str) -> Prefetched | None:
        i = self._index.get(value)
        if i is None:
            return None
        with self._lock:
            chunk = i // CHUNK
            if chunk not in self._loaded:
                self._loaded.add(chunk)
                self._load(self._values[chunk * CHUNK : (chunk + 1) * CHUNK])
            return self._ready.pop(value, None)

    def _load(self, values: list[str]) -> None:
        store = self._store
        read_at = self._now()
        try:
            joined = ",".join(values)
            orders = list(
                self._commerce.search_orders(
                    [[Filter("increment_id", joined, "in"), Filter(store.po_field, joined, "in")]],
                    page_size=CHUNK * 2,
                    sort=(("entity_id", "ASC"),),
                )
            )
        except WmsyncError:
            return  # each package searches alone and reports what went wrong
        matches: dict[str, list[Order]] = {}
        wanted = set(values)
        for order in orders:
            po = order.field(store.po_field)
            for key in {order.increment_id, str(po).strip() if po is not None else ""}:
                if key in wanted:
                    matches.setdefault(key, []).append(order)
        found = {v: ms[0] for v, ms in matches.items() if len({o.entity_id for o in ms}) == 1}
        if not found:
            return
        try:
            shipments = shipments_of(self._commerce, list({o.entity_id: o for o in found.values()}.values()))
        except WmsyncError:
            return
        for value, order in found.items():
            self._ready[value] = Prefetched(order, shipments.get(order.entity_id, []), read_at)


class _Ticket:
    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = False
        self.result: list[Shipment] = []
        self.error: BaseException | None = None


class ShipmentReads:
    """The shipments of an order read afresh, for many workers at once (a group read, as a database groups
    commits): a worker that asks while no search is running searches at once, for its order and every order
    asked for meanwhile; one that asks while a search runs waits for it to end, and the next search takes every
    order waiting. Nothing is read earlier than asked, so each package's re-read is still at most a round trip or
    two before its write, and a file run costs about one request less per package. Thread-safe."""

    def __init__(self, commerce: CommerceClient) -> None:
        self._commerce = commerce
        self._cond = threading.Condition()
        self._pending: dict[int, _Ticket] = {}
        self._busy = False
        #: searches made, and orders read by them (for the run's figures and the tests)
        self.searches = 0
        self.orders = 0

    def fresh(self, entity_id: int) -> list[Shipment]:
        with self._cond:
            ticket = self._pending.get(entity_id)
            if ticket is None:
                ticket = self._pending[entity_id] = _Ticket()
            while not ticket.done:
                if self._busy:
                    self._cond.wait()
                    continue
                self._busy = True
                batch, self._pending = self._pending, {}
                self._cond.release()
                try:
                    self._search(batch)
                finally:
                    self._cond.acquire()
                    self._busy = False
                    self._cond.notify_all()
        if ticket.error is not None:
            raise ticket.error
        return list(ticket.result)

    def _search(self, batch: dict[int, _Ticket]) -> None:
        ids = sorted(batch)
        self.searches += 1
        self.orders += len(ids)
        try:
            found = shipments_by_order(self._commerce, ids)
        except BaseException as exc:  # each waiting worker gets it, as its own read would have
            for t in batch.values():
                t.error, t.done = exc, True
            return
        for i, t in batch.items():
            t.result, t.done = found.get(i, []), True
