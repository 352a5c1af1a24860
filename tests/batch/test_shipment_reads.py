"""The re-read before each Commerce shipment, shared by a file run's workers: the orders of the workers about to
write together are read in one search; each worker gets its own order's shipments, or the search's error."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from wmsync.commerce.client import Filter
from wmsync.commerce.models import Shipment
from wmsync.errors import UnavailableError
from wmsync.workflows.prefetch import ShipmentReads


class SlowCommerce:
    """Answers a shipments search after ``delay`` seconds, from a table of shipments by order id."""

    def __init__(self, delay: float, fail: bool = False) -> None:
        self.delay, self.fail = delay, fail
        self.asked: list[list[int]] = []

    def search_shipments(self, groups: Sequence[Sequence[Filter]], **_: Any) -> Iterator[Shipment]:
        (f,) = groups[0]
        assert f.field == "order_id"
        assert f.condition == "in"
        ids = [int(x) for x in str(f.value).split(",")]
        self.asked.append(ids)
        time.sleep(self.delay)
        if self.fail:
            raise UnavailableError("Commerce GET /shipments: HTTP 503")
        for i in ids:
            if i % 2:  # odd orders have one shipment each
                yield Shipment.model_validate({"entity_id": 1000 + i, "order_id": i,
                                               "tracks": [{"track_number": f"T{i}"}]})


def _together(reads: ShipmentReads, ids: list[int]) -> dict[int, Any]:
    got: dict[int, Any] = {}
    start = threading.Barrier(len(ids))

    def worker(i: int) -> None:
        start.wait()
        time.sleep(0.01 * (i % 3))  # not all at the same instant
        try:
            got[i] = reads.fresh(i)
        except Exception as exc:
            got[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return got


def test_workers_writing_together_share_one_search_and_each_gets_its_own_order() -> None:
    commerce = SlowCommerce(delay=0.2)
    reads = ShipmentReads(commerce)  # type: ignore[arg-type]
    got = _together(reads, list(range(1, 9)))
    assert len(commerce.asked) < 8  # one search per worker before
    assert sorted(i for ids in commerce.asked for i in ids) == list(range(1, 9))  # each order read once
    for i in range(1, 9):
        shipments = got[i]
        assert [s.order_id for s in shipments] == ([i] if i % 2 else [])
        assert [t.track_number for s in shipments for t in s.tracks] == ([f"T{i}"] if i % 2 else [])


def test_a_read_is_never_older_than_the_ask() -> None:
    """An order asked for while a search runs is read by the next search, not answered from the one running."""
    commerce = SlowCommerce(delay=0.2)
    reads = ShipmentReads(commerce)  # type: ignore[arg-type]
    first = threading.Thread(target=reads.fresh, args=(1,))
    first.start()
    time.sleep(0.05)  # the search for order 1 is running
    assert reads.fresh(1) == reads.fresh(1)
    first.join()
    assert commerce.asked[0] == [1]
    assert len(commerce.asked) >= 2  # the second ask for order 1 made a search of its own


def test_a_failed_search_is_each_waiting_worker_s_error() -> None:
    commerce = SlowCommerce(delay=0.1, fail=True)
    reads = ShipmentReads(commerce)  # type: ignore[arg-type]
    got = _together(reads, [1, 2, 3, 4])
    assert all(isinstance(v, UnavailableError) for v in got.values()), got
    with pytest.raises(UnavailableError):
        reads.fresh(5)
