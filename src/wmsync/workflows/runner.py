"""Running many jobs: the jobs of one group (one order) run in sequence, groups concurrently on a small thread
pool; the clients' rate limiters, shared by every thread, keep the pace within Walmart's per-endpoint limits.
Used by file runs (:mod:`wmsync.workflows.batch`) and ``wmsync sync``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wmsync.errors import ExitCode, LeaseTimeoutError, UnconfirmedError, WmsyncError

# results of a job (and of a file's rows)
CONFIRMED = "confirmed"
ALREADY = "already_done"
PENDING = "pending"
DRY_RUN = "dry_run"
FAILED = "failed"
SKIPPED = "skipped"
INVALID = "invalid"
RESULTS = (CONFIRMED, ALREADY, PENDING, DRY_RUN, FAILED, SKIPPED, INVALID)


@dataclass
class Outcome:
    """One package or cancellation: its result for all its rows."""

    result: str
    exit_code: int = 0
    error: str | None = None
    hint: str | None = None
    purchase_order_id: str | None = None
    source: str | None = None
    correlation_ids: list[str] = field(default_factory=list)


def outcome_of_error(exc: BaseException) -> Outcome:
    """A failed package: skipped when another run holds the order, else failed with the error's exit code."""
    if isinstance(exc, LeaseTimeoutError):
        return Outcome(SKIPPED, int(exc.exit_code), exc.message, exc.hint)
    if isinstance(exc, UnconfirmedError):
        po = exc.outcome.purchase_order_id if exc.outcome is not None else None
        return Outcome(PENDING, int(exc.exit_code), exc.message, exc.hint, purchase_order_id=po)
    if isinstance(exc, WmsyncError):
        return Outcome(FAILED, int(exc.exit_code), exc.message, exc.hint)
    return Outcome(FAILED, int(ExitCode.INTERNAL), f"internal error: {type(exc).__name__}: {exc}")


def run_jobs(
    groups: Iterable[Sequence[Any]],
    work: Callable[[Any], Outcome],
    *,
    workers: int,
    on_outcome: Callable[[Any, Outcome], None],
    stop: threading.Event,
    on_thread_exit: Callable[[], None] | None = None,
) -> None:
    """Run each group's jobs in order, groups concurrently on ``workers`` threads. ``on_outcome`` is called
    (serialised) as each job finishes. When ``stop`` is set no new job starts; running ones finish. Returns
    when every started job has finished (or raises KeyboardInterrupt after setting ``stop``)."""
    it = iter(groups)
    take = threading.Lock()
    report = threading.Lock()

    def worker() -> None:
        try:
            while not stop.is_set():
                with take:
                    group = next(it, None)
                if group is None:
                    return
                unfinished = False
                for job in group:
                    if stop.is_set():
                        return
                    if unfinished:
                        # A later package of the same order must not run after an earlier one failed: one that
                        # names no SKU ("everything still unshipped") would take the failed package's items under
                        # its own tracking number, and a re-run could never finish the first one.
                        outcome = Outcome(
                            SKIPPED,
                            int(ExitCode.UNAVAILABLE),
                            "not run: an earlier package of this order did not finish",
                            "run the file again: what is done is skipped, the rest is finished",
                        )
                    else:
                        try:
                            outcome = work(job)
                        except BaseException as exc:  # a bug must not lose the rows' results
                            outcome = outcome_of_error(exc)
                        unfinished = outcome.result in (FAILED, SKIPPED)
                    with report:
                        on_outcome(job, outcome)
        finally:
            if on_thread_exit is not None:
                on_thread_exit()

    threads = [threading.Thread(target=worker, name=f"wmsync-batch-{i}", daemon=True) for i in range(max(1, workers))]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        for t in threads:
            while t.is_alive():
                t.join(0.2)
        raise


