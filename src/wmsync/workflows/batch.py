"""Batches: ``ship --from-file`` and ``cancel --from-file``.

Three parts, each in its own module and testable alone:

1. **Reading** (:mod:`wmsync.workflows.batch_file`, :func:`read_records`).
2. **Validating** (:mod:`wmsync.workflows.batch_check`, :func:`validate_ship`, :func:`validate_cancel`).
3. **Running** (:mod:`wmsync.workflows.runner`, :func:`run_jobs`; here :func:`ship_package` and
   :func:`cancel_order`, one job each with the single-order workflow). Packages the journal already records as
   done are skipped without a request (:class:`DoneIndex`).

No httpx, rich or Typer here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wmsync.errors import ExitCode
from wmsync.journal import DoneOperation, Journal
from wmsync.tracking_key import tracking_key
from wmsync.workflows.batch_check import (
    CANCEL_OPTIONAL,
    CANCEL_REQUIRED,
    SHIP_OPTIONAL,
    SHIP_REQUIRED,
    CancelJob,
    ShipPackage,
    Validated,
    by_order,
    parse_ship_date,
    validate_cancel,
    validate_ship,
)
from wmsync.workflows.batch_file import MAX_FIELD, MAX_LINE, FileFormatError, Format, Record, RowError, read_records
from wmsync.workflows.context import Context
from wmsync.workflows.prefetch import OrderPrefetch, ShipmentReads
from wmsync.workflows.runner import (
    ALREADY,
    CONFIRMED,
    DRY_RUN,
    FAILED,
    INVALID,
    PENDING,
    RESULTS,
    SKIPPED,
    Outcome,
    outcome_of_error,
    run_jobs,
)

__all__ = [
    "ALREADY",
    "CANCEL_OPTIONAL",
    "CANCEL_REQUIRED",
    "CONFIRMED",
    "DRY_RUN",
    "FAILED",
    "INVALID",
    "MAX_FIELD",
    "MAX_LINE",
    "PENDING",
    "RESULTS",
    "SHIP_OPTIONAL",
    "SHIP_REQUIRED",
    "SKIPPED",
    "CancelJob",
    "DoneIndex",
    "FileFormatError",
    "Format",
    "OrderPrefetch",
    "Outcome",
    "Record",
    "RowError",
    "RowResult",
    "RunOptions",
    "ShipPackage",
    "ShipmentReads",
    "Validated",
    "by_order",
    "cancel_order",
    "invalid_results",
    "outcome_of_error",
    "parse_ship_date",
    "read_records",
    "run_jobs",
    "ship_package",
    "summarize",
    "validate_cancel",
    "validate_ship",
]


# ---------------------------------------------------------------------------------------------- journal


class DoneIndex:
    """What the journal records as finished, for the orders of a file: a re-run skips those packages without
    reading either side."""

    def __init__(self, ops: Iterable[DoneOperation]) -> None:
        self._ship: dict[tuple[str, str], dict[str, Any]] = {}
        self._cancel: dict[str, list[tuple[str, str]]] = {}
        for op in ops:
            names = [n.casefold() for n in (op.order_number, op.purchase_order_id) if n]
            if op.op_key.startswith("ship:"):
                tracking = tracking_key(op.op_key.split(":", 2)[2])
                items = op.params.get("items") if isinstance(op.params.get("items"), dict) else {}
                for name in names:
                    merged = self._ship.setdefault((name, tracking), {})
                    for sku, qty in (items or {}).items():
                        merged[str(sku)] = max(int(qty or 0), int(merged.get(str(sku), 0)))
            elif op.op_key.startswith("cancel:") and op.purchase_order_id:
                for name in names:
                    self._cancel.setdefault(name, []).append((op.purchase_order_id, op.op_key))

    @classmethod
    def load(cls, journal: Journal, store: str, kind: str, orders: Iterable[str]) -> DoneIndex:
        return cls(journal.done_operations(store, kind, orders))

    def ship_done(self, pkg: ShipPackage) -> bool:
        done = self._ship.get((pkg.order.casefold(), tracking_key(pkg.tracking)))
        if done is None:
            return False
        if pkg.items is None:
            return True
        return all(sku in done and (qty is None or qty <= done[sku]) for sku, qty in pkg.items.items())

    def cancel_done(self, job: CancelJob) -> bool:
        from wmsync.workflows.cancel_keys import op_key

        return any(op_key(po, job.items) == key for po, key in self._cancel.get(job.order.casefold(), []))


# ---------------------------------------------------------------------------------------------- running


@dataclass
class RowResult:
    """The outcome of one row of the file (rows of one package share it)."""

    row: int
    order: str | None
    result: str
    error: str | None = None
    exit_code: int = 0
    hint: str | None = None
    purchase_order_id: str | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    reason: str | None = None
    source: str | None = None
    correlation_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "row": self.row,
            "order": self.order,
            "result": self.result,
            "error": self.error,
            "exit_code": self.exit_code,
        }
        for key in ("hint", "purchase_order_id", "tracking_number", "carrier", "reason", "source"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.correlation_ids:
            out["correlation_ids"] = self.correlation_ids
        return out


def invalid_results(invalid: Iterable[RowError]) -> list[RowResult]:
    return [RowResult(e.line, e.order, INVALID, e.message, int(ExitCode.REFUSED), hint=e.hint) for e in invalid]


@dataclass
class RunOptions:
    dry_run: bool = False
    lock_timeout: float = 60.0
    via: str = "direct"
    override_intent_to_cancel: bool = False
    skip_format_check: bool = False
    ship_date: datetime | None = None  # for rows without a ship_date of their own
    source: str | None = None  # Multi-Source Inventory source for every package (--source)


def ship_package(
    ctx: Context, pkg: ShipPackage, opts: RunOptions, prefetch: OrderPrefetch | None = None
) -> Outcome:
    """Run one package with the single-order workflow (its Commerce order from ``prefetch`` when it holds it)."""
    from wmsync.workflows import ship as wf

    req = wf.ShipRequest(
        order=pkg.order,
        carrier=pkg.carrier,
        tracking=pkg.tracking,
        method=pkg.method,
        tracking_url=pkg.tracking_url,
        items=pkg.items,
        ship_date=pkg.ship_date or opts.ship_date,
        via=opts.via,  # type: ignore[arg-type]
        override_intent_to_cancel=opts.override_intent_to_cancel,
        skip_format_check=opts.skip_format_check,
        source=opts.source,
    )
    got = prefetch.take(pkg.order) if prefetch is not None else None
    try:
        done = wf.execute(
            ctx,
            req,
            dry_run=opts.dry_run,
            lock_timeout=opts.lock_timeout,
            order=got.order if got else None,
            shipments=got.shipments if got else None,
            read_at=got.read_at if got else None,
        )
    except Exception as exc:
        return outcome_of_error(exc)
    return Outcome(str(done.result), 0, purchase_order_id=done.purchase_order_id)


def cancel_order(ctx: Context, job: CancelJob, opts: RunOptions) -> Outcome:
    """Run one cancellation with the single-order workflow, confirming without asking."""
    from wmsync.workflows import cancel as wf

    req = wf.CancelRequest(order=job.order, reason=job.reason, items=job.items)
    try:
        done = wf.execute(ctx, req, dry_run=opts.dry_run, lock_timeout=opts.lock_timeout)
    except Exception as exc:
        return outcome_of_error(exc)
    return Outcome(str(done.result), 0, purchase_order_id=done.purchase_order_id)


def summarize(results: Iterable[RowResult]) -> dict[str, int]:
    counts = dict.fromkeys(RESULTS, 0)
    for r in results:
        counts[r.result] = counts.get(r.result, 0) + 1
    return counts
