"""``ship --from-file`` and ``cancel --from-file``: validate the whole file, then run its packages concurrently
within the store's rate limits, reporting each row.

Output: ``--jsonl`` writes one JSON line per row as it finishes (``row``, ``order``, ``result``, ``error``,
``exit_code``, ...); ``--json`` one document at the end (``rows`` and ``summary``); otherwise a table of the
rows (only the problem rows for big files). A summary always goes to stderr, a progress bar only on a terminal.
Exit 0 when every row is confirmed or already done, 7 when some row failed, was skipped or was invalid (with
``--skip-invalid``), 2 when the file is invalid (nothing sent).
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

import typer

from wmsync.cli.common import Runtime
from wmsync.errors import ConfigError, ExitCode, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from wmsync.http import Exchange
    from wmsync.journal import Journal
    from wmsync.walmart.client import WalmartClient
    from wmsync.workflows.batch import Outcome, RowResult, Validated

#: Concurrent packages (threads); ``WMSYNC_BATCH_WORKERS`` overrides. The rate limiters, not this number,
#: set the pace: enough threads to keep Walmart's ship endpoint busy while others read.
DEFAULT_WORKERS = 8
MAX_WORKERS = 32
#: Above this many rows the human output lists only the rows that need attention.
TABLE_ROWS = 100


def workers_setting() -> int:
    raw = os.environ.get("WMSYNC_BATCH_WORKERS", "").strip()
    if not raw:
        return DEFAULT_WORKERS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_WORKERS:
        raise ConfigError(f"WMSYNC_BATCH_WORKERS={raw!r}: expected a whole number from 1 to {MAX_WORKERS}")
    return int(raw)


@contextmanager
def open_input(path: Path) -> Iterator[tuple[TextIO, str | None]]:
    """The file as text (UTF-8, BOM dropped, line ends kept for the reader); ``-`` is stdin."""
    if str(path) == "-":
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is not None:
            stream = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
            try:
                yield stream, None
            finally:
                stream.detach()
        else:  # an in-memory stdin (tests)
            yield sys.stdin, None
        return
    try:
        fh = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    with fh:
        yield fh, path.name


# ---------------------------------------------------------------------------------------------- plumbing


class RowIds:
    """A tracer that keeps the Walmart correlation ids of the requests the current thread makes, so each row
    reports (and journals) its own."""

    def __init__(self) -> None:
        self.local = threading.local()

    def start(self) -> list[str]:
        ids: list[str] = []
        self.local.ids = ids
        return ids

    def __call__(self, exchange: Exchange) -> None:
        from wmsync.walmart.client import SERVICE

        ids = getattr(self.local, "ids", None)
        if ids is not None and exchange.service == SERVICE and exchange.correlation_id:
            ids.append(exchange.correlation_id)


class RowWalmart:
    """The shared Walmart client (one token, one set of rate limiters for every thread), with this row's own
    correlation ids."""

    def __init__(self, inner: WalmartClient, ids: list[str]) -> None:
        self._inner = inner
        self.correlation_ids = ids

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class ThreadJournals:
    """One journal connection per worker thread: each has its own lease owner, so two threads of one run never
    work on the same order at once either (rows naming one order differently — Commerce number and PO id)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.local = threading.local()
        self.lock = threading.Lock()
        self.all: list[Journal] = []

    def get(self) -> Journal:
        journal = getattr(self.local, "journal", None)
        if journal is None:
            journal = self.journal.reopen()
            self.local.journal = journal
            with self.lock:
                self.all.append(journal)
        return cast("Journal", journal)

    def close(self) -> None:
        with self.lock:
            while self.all:
                self.all.pop().close()


class Reporter:
    """Collects row results and writes them as the run goes (JSON lines, progress), then the end output."""

    def __init__(self, rt: Runtime, *, jsonl: bool, kind: str, total_rows: int, packages: int) -> None:
        self.rt = rt
        self.packages = packages
        self.jsonl = jsonl
        self.kind = kind
        self.total_rows = total_rows
        self.results: list[RowResult] = []
        self.started = time.monotonic()
        self._progress: Any = None
        self._task: Any = None

    @property
    def machine(self) -> bool:
        return self.jsonl or self.rt.json_mode

    def add(self, results: list[RowResult]) -> None:
        self.results.extend(results)
        if self.jsonl:
            for r in results:
                self.rt.out.json_line(r.to_json())
        if self._progress is not None:
            self._progress.advance(self._task, len(results))

    @contextmanager
    def progress(self, to_run: int) -> Iterator[None]:
        if to_run == 0 or not sys.stderr.isatty() or self.rt.json_mode:
            yield
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=self.rt.out.err, transient=True) as progress:
            self._progress = progress
            self._task = progress.add_task(self.kind, total=self.total_rows,
                                           completed=self.total_rows - to_run)
            try:
                yield
            finally:
                self._progress = None

    def summary(self, *, interrupted: bool = False) -> dict[str, Any]:
        from wmsync.workflows.batch import summarize

        counts = summarize(self.results)
        failed = [r for r in self.results if not r.ok]
        code = int(ExitCode.BATCH_FAILURES) if failed else int(ExitCode.OK)
        if interrupted:
            code = int(ExitCode.INTERRUPTED)
        return {
            "rows": len(self.results),
            "packages" if self.kind == "ship" else "orders": self.packages,
            **counts,
            "exit_code": code,
            "elapsed_seconds": round(time.monotonic() - self.started, 3),
            **({"interrupted": True} if interrupted else {}),
        }

    def finish(self, *, interrupted: bool = False) -> int:
        self.results.sort(key=lambda r: r.row)
        summary = self.summary(interrupted=interrupted)
        if self.rt.json_mode and not self.jsonl:
            self.rt.out.emit({"rows": [r.to_json() for r in self.results], "summary": summary})
        elif not self.machine:
            self.rt.out.emit(None, self._table)
        self.rt.out.info(summary_text(summary, self.kind))
        return int(summary["exit_code"])

    def _table(self, console: Console) -> None:
        from rich.markup import escape

        from wmsync.render import table

        rows = self.results
        if len(rows) > TABLE_ROWS:
            rows = [r for r in rows if not r.ok]
            if not rows:
                return
        cells = [[r.row, escape(r.order or ""), escape(r.tracking_number or r.reason or ""), r.result,
                  escape((r.error or "") + (f" (hint: {r.hint})" if r.hint else ""))] for r in rows]
        second = "tracking" if self.kind == "ship" else "reason"
        console.print(table(None, ["line", "order", second, "result", "error"], cells))


def summary_text(summary: dict[str, Any], kind: str) -> str:
    parts = [f"{summary[k]} {k.replace('_', ' ')}" for k in
             ("confirmed", "already_done", "pending", "dry_run", "failed", "skipped", "invalid") if summary.get(k)]
    verb = "shipping" if kind == "ship" else "cancelling"
    text = f"{kind} --from-file: {summary['rows']} row(s)" + (": " + ", ".join(parts) if parts else "")
    text += f" in {summary['elapsed_seconds']:.1f}s"
    if summary.get("interrupted"):
        text += f" — interrupted; a re-run continues {verb} where this one stopped"
    elif summary["exit_code"]:
        text += " — some rows need attention (exit 7); a re-run skips the rows already done"
    return text


def _report_invalid(rt: Runtime, validated: Validated, jsonl: bool) -> None:
    """Invalid file, nothing sent: every bad row on stderr (and as JSON), exit 2."""
    from wmsync.workflows.batch import invalid_results

    results = invalid_results(validated.invalid)
    if jsonl:
        for r in results:
            rt.out.json_line(r.to_json())
    elif rt.json_mode:
        rt.out.emit({
            "rows": [r.to_json() for r in results],
            "summary": {"rows": validated.rows, "invalid": len(results), "exit_code": int(ExitCode.REFUSED)},
            "error": f"{len(results)} invalid row(s); nothing was sent",
        })
    lines = []
    for e in validated.invalid:
        lines.append(f"line {e.line}: {e.message}" + (f" (hint: {e.hint})" if e.hint else "") + "\n")
    from wmsync.secrets import redact

    sys.stderr.write(redact("".join(lines)))
    rt.out.error(
        f"{len(results)} of {validated.rows} row(s) are invalid; nothing was sent",
        "fix them and run again, or pass --skip-invalid to run only the valid rows",
    )


def _results_for(job: Any, outcome: Outcome, kind: str) -> list[RowResult]:
    """The rows of one package share its outcome. (``pending`` after --no-wait has exit code 0; after a
    confirmation timeout, 6.)"""
    from wmsync.workflows.batch import RowResult

    return [
        RowResult(
            row=line,
            order=job.order,
            result=outcome.result,
            error=outcome.error,
            exit_code=outcome.exit_code,
            hint=outcome.hint,
            purchase_order_id=outcome.purchase_order_id,
            tracking_number=job.tracking if kind == "ship" else None,
            carrier=job.carrier_name if kind == "ship" else None,
            reason=job.reason_code if kind == "cancel" else None,
            source=outcome.source,
            correlation_ids=outcome.correlation_ids,
        )
        for line in job.lines
    ]


def _run(
    rt: Runtime,
    path: Path,
    *,
    kind: str,
    validate: Callable[[TextIO, str | None], Validated],
    is_done: Callable[[Any, Any], bool],
    work: Callable[[Any, Any], Outcome],
    skip_invalid: bool,
    jsonl: bool,
    prepare: Callable[[list[list[Any]]], None] | None = None,
) -> None:
    """``prepare`` is given the groups of jobs about to run (one group per order, in the order they run)."""
    import gc

    from wmsync.workflows.batch import ALREADY, DoneIndex, Outcome, by_order, invalid_results

    paused = gc.isenabled()
    gc.disable()  # validation allocates many small objects that live to the end: collecting them is wasted time
    try:
        with open_input(path) as (stream, name):
            validated = validate(stream, name)
    finally:
        if paused:
            gc.enable()
    if validated.invalid and not skip_invalid:
        _report_invalid(rt, validated, jsonl)
        raise typer.Exit(int(ExitCode.REFUSED))
    reporter = Reporter(rt, jsonl=jsonl, kind=kind, total_rows=validated.rows, packages=len(validated.jobs))
    reporter.add(invalid_results(validated.invalid))
    st = rt.store()
    journal = rt.journal()
    done = DoneIndex.load(journal, st.name, kind, {job.order for job in validated.jobs})
    to_run = []
    for job in validated.jobs:
        if is_done(done, job):
            reporter.add(_results_for(job, Outcome(ALREADY, source="journal"), kind))
        else:
            to_run.append(job)
    interrupted = False
    if to_run:
        walmart = rt.walmart()
        rt.commerce()
        walmart.token()  # once, before the threads: a credentials problem stops the run here (exit 3)
        ids = RowIds()
        walmart.http.tracers.append(ids)
        journals = ThreadJournals(journal)
        stop = threading.Event()
        pending_rows = sum(len(job.lines) for job in to_run)

        def one(job: Any) -> Outcome:
            row_ids = ids.start()
            outcome = work(job, (journals.get(), RowWalmart(walmart, row_ids)))
            outcome.correlation_ids = row_ids[-20:]
            return outcome

        def report(job: Any, outcome: Outcome) -> None:
            reporter.add(_results_for(job, outcome, kind))

        from wmsync.workflows.runner import run_jobs

        groups = by_order(to_run)
        if prepare is not None:
            prepare(groups)
        try:
            with reporter.progress(pending_rows):
                run_jobs(groups, one, workers=workers_setting(), on_outcome=report, stop=stop)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            journals.close()
    code = reporter.finish(interrupted=interrupted)
    if code:
        raise typer.Exit(code)


# ---------------------------------------------------------------------------------------------- commands


def run_ship_file(
    rt: Runtime,
    path: Path,
    *,
    skip_invalid: bool = False,
    jsonl: bool = False,
    dry_run: bool = False,
    timeout: float | None = None,
    no_wait: bool = False,
    lock_timeout: float = 60.0,
    via: str | None = None,
    override_intent_to_cancel: bool = False,
    skip_format_check: bool = False,
    ship_date: datetime | None = None,
    source: str | None = None,
) -> None:
    """``wmsync ship --from-file PATH``: one package per (order, tracking number). ``via``,
    ``override_intent_to_cancel``, ``skip_format_check`` and ``ship_date`` apply to every row (a row's own
    ship_date wins), as they do for a single package."""
    from wmsync.errors import UsageError
    from wmsync.workflows import batch

    st = rt.store()
    mode = via or st.config.submit
    if mode not in ("direct", "channel-manager"):
        raise UsageError(f"--via {mode!r}: expected direct or channel-manager")
    settings = rt.settings(timeout=timeout, no_wait=no_wait)
    opts = batch.RunOptions(
        dry_run=dry_run,
        lock_timeout=lock_timeout,
        via=mode,
        override_intent_to_cancel=override_intent_to_cancel,
        skip_format_check=skip_format_check,
        ship_date=ship_date,
        source=source,
    )

    def validate(stream: TextIO, name: str | None) -> Validated:
        errors: list[batch.RowError] = []
        records = batch.read_records(stream, name=name, required=batch.SHIP_REQUIRED,
                                     optional=batch.SHIP_OPTIONAL, errors=errors)
        return batch.validate_ship(records, st.config, now=datetime.now(UTC), errors=errors,
                                   skip_format_check=skip_format_check)

    prefetch: list[batch.OrderPrefetch] = []
    reads: list[batch.ShipmentReads] = []

    def prepare(groups: list[list[batch.ShipPackage]]) -> None:
        # Commerce read in bulk: many order numbers per search, chunk by chunk as the workers reach them; the
        # re-read before each Commerce shipment is one search for the workers about to write together
        prefetch.append(batch.OrderPrefetch(rt.commerce(), st.config, [g[0].order for g in groups],
                                            now=rt.journal().now))
        reads.append(batch.ShipmentReads(rt.commerce()))

    def work(pkg: batch.ShipPackage, parts: tuple[Journal, RowWalmart]) -> Outcome:
        journal, walmart = parts
        ctx = rt.context(settings).with_(journal=journal, walmart=cast("WalmartClient", walmart),
                                         shipments_reader=reads[0].fresh if reads else None)
        return batch.ship_package(ctx, pkg, opts, prefetch[0] if prefetch else None)

    _run(rt, path, kind="ship", validate=validate, is_done=lambda d, job: d.ship_done(job), work=work,
         skip_invalid=skip_invalid, jsonl=jsonl, prepare=prepare)


def run_cancel_file(
    rt: Runtime,
    path: Path,
    *,
    skip_invalid: bool = False,
    jsonl: bool = False,
    dry_run: bool = False,
    timeout: float | None = None,
    no_wait: bool = False,
    lock_timeout: float = 60.0,
) -> None:
    """``wmsync cancel --from-file PATH --yes``: one cancellation per order (rows with SKUs: a partial one)."""
    from wmsync.workflows import batch

    rt.store()
    settings = rt.settings(timeout=timeout, no_wait=no_wait)
    opts = batch.RunOptions(dry_run=dry_run, lock_timeout=lock_timeout)

    def validate(stream: TextIO, name: str | None) -> Validated:
        errors: list[batch.RowError] = []
        records = batch.read_records(stream, name=name, required=batch.CANCEL_REQUIRED,
                                     optional=batch.CANCEL_OPTIONAL, errors=errors)
        return batch.validate_cancel(records, errors=errors)

    def work(job: batch.CancelJob, parts: tuple[Journal, RowWalmart]) -> Outcome:
        journal, walmart = parts
        ctx = rt.context(settings).with_(journal=journal, walmart=cast("WalmartClient", walmart))
        return batch.cancel_order(ctx, job, opts)

    _run(rt, path, kind="cancel", validate=validate, is_done=lambda d, job: d.cancel_done(job), work=work,
         skip_invalid=skip_invalid, jsonl=jsonl)
