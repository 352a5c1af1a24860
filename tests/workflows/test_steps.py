"""The write protocol on its own: a real journal, a fake clock, writes that succeed, fail or lose their answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from wmsync.clock import FakeClock
from wmsync.config import StoreConfig
from wmsync.errors import ApiError, OutcomeUnknownError
from wmsync.journal import CONFIRMED, FAILED, Journal
from wmsync.workflows.context import Context, Settings
from wmsync.workflows.results import Result
from wmsync.workflows.steps import Operation, operation, write_step

STORE = StoreConfig(commerce_url="https://shop.example.test", walmart_client_id="id")


class Walmart:
    def __init__(self) -> None:
        self.correlation_ids = ["c1", "c2"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def journal(tmp_path: Path, clock: FakeClock) -> Iterator[Journal]:
    j = Journal(tmp_path / "journal.sqlite3", clock=clock)  # the journal's time is the run's time
    yield j
    j.close()


def context(journal: Journal, clock: FakeClock, **settings: Any) -> Context:
    return Context("s", STORE, cast(Any, None), cast(Any, Walmart()), journal, clock, Settings(**settings))


def start(ctx: Context) -> Iterator[Operation]:
    return operation(ctx, kind="ship", key="ship:1:T", order_number="1", purchase_order_id="1", params={})


def steps(journal: Journal) -> dict[str, str]:
    (op,) = journal.by_key("s", "ship:1:T")
    return {name: info["state"] for name, info in op.steps.items()}


def test_a_write_that_went_through_is_journalled_started_then_done(journal: Journal, clock: FakeClock) -> None:
    ctx = context(journal, clock)
    sent: list[int] = []
    with start(ctx) as op:
        got = write_step(op, "w", progress="sending", send=lambda: sent.append(1) or 7, read=lambda: 0,
                         applied=lambda _v: False, what="it", done=lambda v: {"id": v})
        op.finish(CONFIRMED, Result.CONFIRMED)
    assert (got, sent) == (7, [1])
    (row,) = journal.by_key("s", "ship:1:T")
    assert row.state == CONFIRMED
    assert row.steps["w"]["state"] == "done"
    assert row.result == {"result": "confirmed"}


def test_an_unknown_outcome_is_settled_by_reading_and_never_sent_twice(journal: Journal, clock: FakeClock) -> None:
    ctx = context(journal, clock, unknown_grace=30)
    sent: list[int] = []
    reads = iter([False, False, True])

    def send() -> bool:
        sent.append(1)
        raise OutcomeUnknownError("timed out")

    with start(ctx) as op:
        got = write_step(op, "w", progress="sending", send=send, read=lambda: next(reads), applied=bool, what="it")
    assert got is True
    assert sent == [1]
    assert steps(journal) == {"w": "done"}


def test_an_unknown_outcome_that_does_not_show_fails_the_operation_and_a_rerun_waits(
    journal: Journal, clock: FakeClock
) -> None:
    ctx = context(journal, clock, unknown_grace=5, resend_quiet=60)

    def send() -> bool:
        raise OutcomeUnknownError("timed out")

    with pytest.raises(OutcomeUnknownError, match="could not tell"), start(ctx) as op:
        write_step(op, "w", progress="sending", send=send, read=lambda: False, applied=bool, what="it")
    (row,) = journal.by_key("s", "ship:1:T")
    assert row.state == FAILED
    assert row.steps["w"]["state"] == "unknown"
    # a re-run inside the quiet period does not send it again
    sent: list[int] = []
    with pytest.raises(OutcomeUnknownError, match="may still be in flight"), start(ctx) as op:
        write_step(op, "w", progress="sending", send=lambda: sent.append(1) or True, read=lambda: False,
                   applied=bool, what="it")
    assert sent == []
    clock.advance(61)
    with start(ctx) as op:
        write_step(op, "w", progress="sending", send=lambda: sent.append(1) or True, read=lambda: False,
                   applied=bool, what="it")
    assert sent == [1]


def test_a_rejected_write_fails_the_operation_with_its_error(journal: Journal, clock: FakeClock) -> None:
    ctx = context(journal, clock)

    def send() -> bool:
        raise ApiError("no", service="Walmart", status=400)

    with pytest.raises(ApiError), start(ctx) as op:
        write_step(op, "w", progress="sending", send=send, read=lambda: False, applied=bool, what="it")
    (row,) = journal.by_key("s", "ship:1:T")
    assert (row.state, row.error, row.correlation_ids) == (FAILED, "no", ["c1", "c2"])
    assert row.steps["w"]["state"] == "rejected"  # the service said no: nothing in flight


def test_a_write_rejected_with_a_4xx_is_journalled_rejected_and_a_rerun_may_send_at_once(
    journal: Journal, clock: FakeClock
) -> None:
    """The service answered "no": nothing can still be in flight, so a re-run is not made to wait resend_quiet."""
    ctx = context(journal, clock, resend_quiet=120.0)

    def refuse() -> int:
        raise ApiError("Walmart: bad request", service="walmart", status=400, code="INVALID_REQUEST_CONTENT")

    with pytest.raises(ApiError), start(ctx) as op:
        write_step(op, "w", progress="sending", send=refuse, read=lambda: 0, applied=lambda _v: False, what="it")
    (row,) = journal.by_key("s", "ship:1:T")
    assert row.state == FAILED
    assert row.steps["w"]["state"] == "rejected"
    clock.advance(1)
    sent: list[int] = []
    with start(ctx) as op:  # at once: no "may still be in flight"
        write_step(op, "w", progress="sending", send=lambda: sent.append(1) or 1, read=lambda: 0,
                   applied=lambda _v: False, what="it")
    assert sent == [1]
