"""What ship and cancel report: a :class:`Result` and frozen outcome types. ``to_json()`` gives the ``--json``
document; its keys are part of the documented contract and do not change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from wmsync.walmart.models import WalmartOrder, line_sort_key


class Result(StrEnum):
    CONFIRMED = "confirmed"
    PENDING = "pending"
    ALREADY_DONE = "already_done"
    DRY_RUN = "dry_run"

    @classmethod
    def overall(cls, results: Iterable[Result]) -> Result:
        """Of several packages: pending before confirmed before already done."""
        rank = {cls.PENDING: 3, cls.CONFIRMED: 2, cls.ALREADY_DONE: 1}
        return max(results, key=lambda r: rank.get(r, 0), default=cls.ALREADY_DONE)


@dataclass(frozen=True)
class LineReport:
    """One Walmart line as the result shows it."""

    line_number: str
    sku: str
    quantity: int
    walmart_statuses: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "line_number": self.line_number,
            "sku": self.sku,
            "quantity": self.quantity,
            "walmart_statuses": list(self.walmart_statuses),
        }


def line_report(wm: WalmartOrder, skus: set[str] | None = None) -> tuple[LineReport, ...]:
    """The Walmart order's lines (only those of ``skus`` when given), in line-number order."""
    return tuple(
        LineReport(line.lineNumber, line.sku, line.quantity, tuple(line.status_summary()))
        for line in sorted(wm.lines, key=lambda ln: line_sort_key(ln.lineNumber))
        if skus is None or line.sku in skus
    )


@dataclass(frozen=True)
class PlannedRequest:
    """One request a dry run would send."""

    service: str  # "walmart" | "commerce"
    method: str
    path: str
    body: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {"service": self.service, "method": self.method, "path": self.path, "body": self.body}


@dataclass(frozen=True)
class PackageOutcome:
    tracking_number: str
    carrier: str
    result: Result
    items: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "tracking_number": self.tracking_number,
            "carrier": self.carrier,
            "result": str(self.result),
            "items": dict(self.items),
        }


@dataclass(frozen=True)
class ShipOutcome:
    order: str
    purchase_order_id: str
    via: str
    checks: tuple[str, ...]
    notes: tuple[str, ...]
    carrier: str | None
    tracking_number: str | None
    result: Result
    lines: tuple[LineReport, ...]
    correlation_ids: tuple[str, ...]
    requests: tuple[PlannedRequest, ...] | None = None  # dry run only
    packages: tuple[PackageOutcome, ...] | None = None  # several packages only
    sent: tuple[str, ...] = ()  # the writes this run made: acknowledge, commerce_ship, walmart_ship

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "order": self.order,
            "purchase_order_id": self.purchase_order_id,
            "via": self.via,
            "checks": list(self.checks),
            "notes": list(self.notes),
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "result": str(self.result),
        }
        if self.requests is not None:
            out["requests"] = [r.to_json() for r in self.requests]
        if self.packages is not None:
            out["packages"] = [p.to_json() for p in self.packages]
        out["lines"] = [line.to_json() for line in self.lines]
        out["correlation_ids"] = list(self.correlation_ids)
        out["sent"] = list(self.sent)
        return out


@dataclass(frozen=True)
class CancelOutcome:
    order: str
    purchase_order_id: str
    reason: str
    partial: bool
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    commerce_todo: tuple[str, ...]
    result: Result
    lines: tuple[LineReport, ...]
    correlation_ids: tuple[str, ...]
    requests: tuple[PlannedRequest, ...] | None = None  # dry run only
    sent: tuple[str, ...] = ()  # the writes this run made: commerce_intent, walmart_cancel, commerce_cancel, …

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "order": self.order,
            "purchase_order_id": self.purchase_order_id,
            "reason": self.reason,
            "partial": self.partial,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "commerce_todo": list(self.commerce_todo),
            "result": str(self.result),
        }
        if self.requests is not None:
            out["requests"] = [r.to_json() for r in self.requests]
        out["lines"] = [line.to_json() for line in self.lines]
        out["correlation_ids"] = list(self.correlation_ids)
        out["sent"] = list(self.sent)
        return out


WriteOutcome = ShipOutcome | CancelOutcome


def write_json_tail(
    out: dict[str, Any],
    requests: tuple[PlannedRequest, ...] | None,
    lines: Iterable[LineReport],
    sent: Iterable[str],
) -> dict[str, Any]:
    """The keys every write command's ``--json`` ends with: ``requests`` (dry run), ``lines`` and ``sent``."""
    if requests is not None:
        out["requests"] = [r.to_json() for r in requests]
    out["lines"] = [ln.to_json() for ln in lines]
    out["sent"] = list(sent)
    return out
