"""The one write protocol of ship and cancel.

An :func:`operation` is one journal row: started before the first write, finished with its result, and
finished ``failed`` (with the error) when anything raises — Ctrl-C included. Inside it, every write is a
:func:`write_step`:

    guard (an earlier attempt may still be in flight: refuse) → journal ``started`` → send →
    on an unknown outcome: journal ``unknown`` and settle by re-reading (never sent twice in one run) →
    journal ``done``; a write the service refused (4xx) is journalled ``rejected``: nothing is in flight.

:func:`sent_earlier` skips a Walmart write that an earlier run sent and whose confirmation window is open, and
:func:`wait_confirmed` polls Walmart until the change shows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from wmsync.errors import ApiError, OutcomeUnknownError
from wmsync.journal import FAILED
from wmsync.walmart.models import WalmartOrder
from wmsync.workflows.base import awaiting_confirmation, guard_resend, poll, settle_unknown
from wmsync.workflows.context import Context
from wmsync.workflows.results import Result

T = TypeVar("T")

#: how many of the run's Walmart correlation ids an operation keeps
KEEP_IDS = 10


@dataclass(frozen=True)
class Operation:
    """One journalled operation (``op_key`` identifies it across runs)."""

    ctx: Context
    op_id: str
    key: str
    #: the writes this run made (step names, in order): what the headline says was done
    sent: list[str] = field(default_factory=list)

    def step(
        self, name: str, state: str, detail: dict[str, Any] | None = None, *, correlation_id: str | None = None
    ) -> None:
        self.ctx.journal.step(self.op_id, name, state, detail, correlation_id=correlation_id)

    def finish(self, state: str, result: Result, *, confirm_deadline: float | None = None) -> None:
        self.ctx.journal.finish(
            self.op_id,
            state,
            result={"result": str(result)},
            correlation_ids=self.ctx.walmart.correlation_ids[-KEEP_IDS:],
            confirm_deadline=confirm_deadline,
        )


@contextmanager
def operation(
    ctx: Context, *, kind: str, key: str, order_number: str, purchase_order_id: str, params: dict[str, Any]
) -> Iterator[Operation]:
    """Journal the operation's start; finish it ``failed`` if the body raises (the body finishes it otherwise)."""
    op_id = ctx.journal.start(
        store=ctx.store_name,
        kind=kind,
        op_key=key,
        order_number=order_number,
        purchase_order_id=purchase_order_id,
        params=params,
    )
    try:
        yield Operation(ctx, op_id, key)
    except BaseException as exc:
        code = getattr(exc, "code", None)
        ctx.journal.finish(
            op_id,
            FAILED,
            error=(str(exc) or ("interrupted" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__))[:500],
            error_code=code if isinstance(code, str) else None,
            correlation_ids=ctx.walmart.correlation_ids[-KEEP_IDS:],
        )
        raise


def write_step(
    op: Operation,
    name: str,
    *,
    progress: str,
    send: Callable[[], T],
    read: Callable[[], T],
    applied: Callable[[T], bool],
    what: str,
    body: dict[str, Any] | None = None,
    done: Callable[[T], dict[str, Any] | None] = lambda _v: None,
    correlation_id: Callable[[], str | None] = lambda: None,
) -> T:
    """Guard → send → unknown → settle → done. ``read`` re-reads the state the write changes and ``applied``
    tells whether it shows the write (used only after an unknown outcome); ``done`` gives the journal detail
    of the finished step and ``correlation_id`` the id it keeps. Returns what ``send`` (or, after an unknown
    outcome, ``read``) returned."""
    ctx = op.ctx
    ctx.progress(progress)
    guard_resend(ctx.journal, ctx.store_name, op.key, name, now=ctx.clock.time(), quiet=ctx.settings.resend_quiet)
    op.step(name, "started", {"body": body} if body is not None else None)
    try:
        value = send()
    except ApiError as exc:
        if exc.status < 500:
            # the service answered "no": nothing is in flight, so a re-run need not wait resend_quiet for it
            op.step(name, "rejected", {"status": exc.status, "code": exc.code}, correlation_id=exc.correlation_id)
        raise
    except OutcomeUnknownError as exc:
        op.step(name, "unknown")
        value = settle_unknown(
            read,
            applied,
            clock=ctx.clock,
            grace=ctx.settings.unknown_grace,
            what=what,
            correlation_id=exc.correlation_id,
        )
    op.step(name, "done", done(value), correlation_id=correlation_id())
    op.sent.append(name)
    return value


def sent_earlier(op: Operation, name: str) -> bool:
    """An earlier run sent this Walmart write and its confirmation window is still open: it is not sent again
    before Walmart had its time to show it."""
    ctx = op.ctx
    if awaiting_confirmation(ctx.journal, ctx.store_name, op.key, name, now=ctx.clock.time()):
        ctx.progress("sent by an earlier run: waiting for Walmart to show it, not sending it again")
        return True
    return False


def wait_confirmed(
    ctx: Context,
    read: Callable[[], WalmartOrder],
    confirmed: Callable[[WalmartOrder], bool],
    *,
    on_wait: Callable[[float, float], None],
) -> tuple[bool, WalmartOrder | None]:
    """Poll Walmart until ``confirmed`` or the confirmation timeout. Returns (confirmed, last order read)."""
    box: list[WalmartOrder] = []

    def check() -> bool:
        wm = read()
        box[:] = [wm]
        return confirmed(wm)

    s = ctx.settings
    ok = poll(check, clock=ctx.clock, timeout=s.timeout, initial=s.poll_initial, maximum=s.poll_max, on_wait=on_wait)
    return ok, (box[0] if box else None)
