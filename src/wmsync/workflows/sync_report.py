"""What ``wmsync sync`` reports: per order (:class:`OrderResult`) and for the run (:class:`SyncReport`), with
the ``--json`` document and the exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wmsync.errors import ExitCode, worst
from wmsync.timeparse import rfc3339
from wmsync.workflows.runner import CONFIRMED


@dataclass
class OrderResult:
    order: str
    purchase_order_id: str
    actions: list[dict[str, Any]] = field(default_factory=list)
    differences: list[dict[str, Any]] = field(default_factory=list)
    verdict: str = "in_sync"  # in_sync | pending | diverged | failed
    exit_code: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "order": self.order,
            "purchase_order_id": self.purchase_order_id,
            "verdict": self.verdict,
            "actions": self.actions,
            "differences": self.differences,
            "exit_code": self.exit_code,
        }


@dataclass
class SyncReport:
    since: datetime
    until: datetime
    window_start: datetime
    dry_run: bool
    results: list[OrderResult] = field(default_factory=list)
    commerce_orders: int = 0
    walmart_changed: int = 0
    checked: int = 0
    skipped_unchanged: int = 0
    not_in_commerce: int = 0
    outstanding: list[str] = field(default_factory=list)
    advanced: bool = False
    interrupted: bool = False

    def counts(self) -> dict[str, int]:
        out = {
            "shipped": 0,
            "cancelled": 0,
            "already_done": 0,
            "pending": 0,
            "dry_run": 0,
            "failed": 0,
            "skipped": 0,
            "diverged": 0,
        }
        for r in self.results:
            for a in r.actions:
                res = a["result"]
                if res == CONFIRMED:
                    out["shipped" if a["action"] == "ship" else "cancelled"] += 1
                elif res in out:
                    out[res] += 1
            if r.verdict == "diverged":
                out["diverged"] += 1
        return out

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return int(ExitCode.INTERRUPTED)
        return worst([r.exit_code for r in self.results] or [0])

    def summary(self) -> dict[str, Any]:
        return {
            "commerce_orders": self.commerce_orders,
            "walmart_changed": self.walmart_changed,
            "checked": self.checked,
            "unchanged": self.skipped_unchanged,
            "not_in_commerce": self.not_in_commerce,
            **self.counts(),
            "outstanding": len(self.outstanding),
            "exit_code": self.exit_code,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "since": rfc3339(self.since),
            "window_start": rfc3339(self.window_start),
            "until": rfc3339(self.until),
            "dry_run": self.dry_run,
            "next_since": rfc3339(self.until) if self.advanced else None,
            "orders": [r.to_json() for r in self.results],
            "outstanding": self.outstanding,
            "summary": self.summary(),
        }
