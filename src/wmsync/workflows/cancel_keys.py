"""Which cancellation a ``wmsync cancel`` run is: its operation key, and for a partial cancellation given
again, which round of it (a re-run of the last one, or a new one with ``--again`` or another reason).

Round 1 keeps the key every earlier release used, so journals and Commerce comments written before rounds
existed still match."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wmsync.commerce.models import Order
from wmsync.errors import RefusedError
from wmsync.journal import DONE_STATES
from wmsync.walmart import rules
from wmsync.walmart.models import WalmartOrder
from wmsync.workflows import cancel_note
from wmsync.workflows.context import Context

if TYPE_CHECKING:
    from wmsync.workflows.cancel import CancelRequest


def op_suffix(items: Mapping[str, int | None] | None, round_: int = 1) -> str:
    """``all`` for a whole-order cancel, else a short hash of the items asked; a repeated cancellation of the
    same items (``--again``) is round 2, 3, … of it (``HASH-2``)."""
    if not items:
        return cancel_note.WHOLE
    spec = ",".join(f"{k}={'all' if v is None else v}" for k, v in sorted(items.items()))
    digest = hashlib.sha256(spec.encode()).hexdigest()[:16]
    return digest if round_ <= 1 else f"{digest}-{round_}"


def op_key(po: str, items: Mapping[str, int | None] | None, round_: int = 1) -> str:
    return f"cancel:{po}:{op_suffix(items, round_)}"


@dataclass(frozen=True)
class Round:
    """The latest cancellation of the same items on this PO, as the journal or the order's comments record it."""

    number: int
    finished: bool
    reason: str | None


def latest_round(ctx: Context, po: str, items: Mapping[str, int | None], comments: list[str]) -> Round | None:
    """The latest round of a partial cancellation of exactly these items, from this machine's journal or the
    Commerce order's comments (so another machine's rounds count too); ``None`` when there is none."""
    found: Round | None = None
    n = 1
    while True:
        ops = ctx.journal.by_key(ctx.store_name, op_key(po, items, n))
        notes = [note for note, _text in cancel_note.notes_for(comments, po) if note.key == op_suffix(items, n)]
        if not ops and not notes:
            return found
        finished = bool(notes) or any(op.state in DONE_STATES for op in ops)
        reason = notes[-1].reason if notes else (str(ops[-1].params.get("reason") or "") or None)
        found = Round(n, finished, reason)
        n += 1


def round_for(ctx: Context, order: Order, po: str, wm: WalmartOrder, req: CancelRequest, comments: list[str]) -> int:
    """Which round of a partial cancellation this run is: the unfinished latest one (a re-run), the finished
    latest one when nothing of its items is open any more (already done), or a new one — when asked with
    ``--again`` or with another reason. A finished round with units still open and the same reason could be a
    re-run or a new request: refused, never reported done."""
    if not req.items:
        return 1
    latest = latest_round(ctx, po, req.items, comments)
    if latest is None or not latest.finished:
        return latest.number if latest is not None else 1
    open_units = {s: sum(ln.open_qty for ln in wm.lines if ln.sku == s) for s in req.items}
    if not any(open_units.values()):
        return latest.number
    reason = rules.resolve_cancellation_reason(req.reason)
    if req.again or (latest.reason is not None and latest.reason != reason):
        return latest.number + 1
    asked = ", ".join(f"{'all' if q is None else q} × {s}" for s, q in sorted(req.items.items()))
    still = ", ".join(f"{q} × {s}" for s, q in sorted(open_units.items()) if q)
    raise RefusedError(
        f"the same cancellation ({asked}, reason {reason}) was already done on PO {po}; Walmart still shows "
        f"{still} open. wmsync cannot tell a re-run of that cancellation from a new one",
        hint=f"if this is a new cancellation, add --again: `wmsync cancel {order.increment_id} --reason "
        f"{req.reason} "
        + " ".join(f"--item {s}" + ("" if q is None else f"={q}") for s, q in sorted(req.items.items()))
        + " --again`; if you were re-running the earlier one, it is done (nothing was sent)",
    )
