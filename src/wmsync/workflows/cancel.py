"""``wmsync cancel``: whole or partial, with Walmart's reason, recorded on both sides.

Order of writes: Walmart lines first (the customer-facing side), then the Commerce cancel (whole order only),
then a Commerce order comment with the reason. Each step is skipped when the live state shows it done, so a
re-run completes whichever side is missing and never cancels twice. For a partial cancel the journal keeps the
Walmart cancelled quantities seen before the first attempt, so a re-run knows how much was its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from wmsync.commerce.models import Order
from wmsync.errors import CommerceRefusedError, RefusedError, UnconfirmedError, UsageError
from wmsync.journal import ALREADY_DONE, CONFIRMED, DONE_STATES, PENDING
from wmsync.walmart import rules
from wmsync.walmart.models import (
    CancelLine,
    CancelLineStatus,
    CancelLineStatuses,
    StatusQuantity,
    WalmartOrder,
    line_sort_key,
)
from wmsync.walmart.models import cancel_body as walmart_cancel_body
from wmsync.workflows import cancel_note
from wmsync.workflows.cancel_keys import op_key, op_suffix, round_for
from wmsync.workflows.context import Context
from wmsync.workflows.pairing import cancelled_by_sku, commerce_sku_items
from wmsync.workflows.results import CancelOutcome, PlannedRequest, Result, line_report
from wmsync.workflows.session import order_session
from wmsync.workflows.ship_plan import refuse_if_not_sellers
from wmsync.workflows.steps import Operation, operation, sent_earlier, wait_confirmed, write_step


@dataclass(frozen=True)
class CancelRequest:
    order: str
    reason: str
    items: Mapping[str, int | None] | None = None
    walmart_only: bool = False
    confirm_customer_request: bool = False
    again: bool = False  # the same items were cancelled before: this is a new cancellation, not a re-run


@dataclass
class CancelPlan:
    order: Order
    purchase_order_id: str
    reason: str
    partial: bool
    target: dict[str, int]  # Walmart SKU -> cancelled quantity wanted in the end
    walmart_body: dict[str, Any] | None
    alloc: list[rules.Allocation]
    commerce_cancel: bool
    comment: str | None
    marker: str
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    commerce_todo: list[str] = field(default_factory=list)
    intent: str | None = None  # a partial cancel's comment recorded before the Walmart write
    intent_marker: str = ""

    @property
    def nothing_to_do(self) -> bool:
        return self.walmart_body is None and not self.commerce_cancel and self.comment is None


def commerce_refusal(order: Order) -> str | None:
    """Why Magento's canCancel() would say no (it answers a bare ``false``), or None."""
    state = order.state or ""
    if state == "holded":
        return "it is on hold; release the hold in Commerce first"
    if state == "payment_review":
        return "it is in payment review; accept or deny the payment in Commerce first"
    if state in ("complete", "closed"):
        return f"it is {state}; refund it with a credit memo instead"
    remaining = [i for i in order.top_items() if i.qty_ordered - i.qty_canceled - i.qty_refunded > 0]
    if remaining and all(i.qty_invoiced >= i.qty_ordered - i.qty_canceled for i in remaining):
        return "it is fully invoiced; create a credit memo (refund) in Commerce instead"
    if remaining and all(i.qty_shipped + i.qty_refunded >= i.qty_ordered - i.qty_canceled for i in remaining):
        return "everything is shipped; refund it instead"
    return None


def plan(
    order: Order,
    po: str,
    wm: WalmartOrder,
    req: CancelRequest,
    *,
    baseline: Mapping[str, int] | None,
    comment_present: bool,
    round_: int = 1,
    intent_present: bool = False,
) -> CancelPlan:
    """Pure. ``baseline``: Walmart cancelled quantities per SKU before this cancel's first attempt (from the
    journal), or None for a first attempt."""
    refuse_if_not_sellers(wm)
    try:
        reason = rules.resolve_cancellation_reason(req.reason)
    except rules.RuleViolation as exc:
        raise UsageError(exc.message, hint=exc.hint) from exc
    warnings = list(rules.reason_warnings(reason)) if reason != rules.CUSTOMER_REQUESTED else []
    now_cancelled = cancelled_by_sku(wm)
    base = dict(baseline) if baseline is not None else now_cancelled
    notes: list[str] = []
    partial = bool(req.items)
    suffix = op_suffix(req.items, round_)
    marker = cancel_note.marker(po, suffix)

    target: dict[str, int] = {}
    if partial:
        assert req.items is not None
        skus = {line.sku for line in wm.lines}
        for sku, qty in req.items.items():
            if sku not in skus:
                raise UsageError(
                    f"SKU {sku!r} is not on order {order.increment_id}",
                    hint="the order's SKUs: " + ", ".join(sorted(skus)),
                )
            open_qty = sum(line.open_qty for line in wm.lines if line.sku == sku)
            done_here = now_cancelled.get(sku, 0) - base.get(sku, 0)
            want = (open_qty + done_here) if qty is None else qty
            if want <= 0 or want > open_qty + done_here:
                shipped = sum(line.qty_in("Shipped", "Delivered") for line in wm.lines if line.sku == sku)
                if open_qty + done_here == 0 and shipped:
                    raise RefusedError(
                        f"{sku} is shipped; a shipped item cannot be cancelled (refund it instead)",
                        hint="refund it instead (Walmart refund / Commerce credit memo)",
                    )
                raise RefusedError(f"{want} × {sku} asked to cancel, but {open_qty + done_here} can be cancelled")
            target[sku] = base.get(sku, 0) + want
    else:
        for line in wm.lines:
            target[line.sku] = target.get(line.sku, 0) + line.open_qty + line.qty_in("Cancelled")
        shipped = sum(line.qty_in("Shipped", "Delivered") for line in wm.lines)
        if shipped and any(line.open_qty for line in wm.lines):
            notes.append(f"{shipped} unit(s) are already shipped: only the rest is cancelled")

    need = {sku: qty - now_cancelled.get(sku, 0) for sku, qty in target.items()}
    need = {k: v for k, v in need.items() if v > 0}
    alloc: list[rules.Allocation] = []
    body = None
    if need:
        avail = [rules.LineAvailability(line.lineNumber, line.sku, line.open_qty) for line in wm.lines]
        try:
            alloc = rules.allocate(need, avail)
        except rules.RuleViolation as exc:
            raise RefusedError(exc.message, hint=exc.hint) from exc
        touched = {a.line_number for a in alloc}
        lines_touched = [ln for ln in wm.lines if ln.lineNumber in touched]
        if (
            reason == rules.CUSTOMER_REQUESTED
            and not req.confirm_customer_request
            and not all(ln.has_intent_to_cancel for ln in lines_touched)
        ):
            raise RefusedError(
                "the customer has not asked to cancel these lines; Walmart says to use CUSTOMER_REQUESTED_SELLER_"
                "TO_CANCEL only when they did",
                hint="pick the real reason (`wmsync cancel --list-reasons`), or pass --confirm-customer-request "
                "if the customer asked you directly",
            )
        by_line: dict[str, int] = {}
        for a in alloc:
            by_line[a.line_number] = by_line.get(a.line_number, 0) + a.qty
        body = walmart_cancel_body(
            [
                CancelLine(
                    lineNumber=n,
                    orderLineStatuses=CancelLineStatuses(
                        orderLineStatus=[
                            CancelLineStatus(cancellationReason=reason, statusQuantity=StatusQuantity(amount=str(q)))
                        ]
                    ),
                )
                for n, q in sorted(by_line.items(), key=lambda kv: line_sort_key(kv[0]))
            ]
        )
    elif not partial and not any(now_cancelled.values()):
        shipped = sum(line.qty_in("Shipped", "Delivered") for line in wm.lines)
        if shipped:
            raise RefusedError(
                f"order {order.increment_id} is shipped; there is nothing left to cancel (refund it instead)",
                hint="refund it instead (Walmart refund / Commerce credit memo)",
            )

    commerce_cancel = False
    commerce_todo: list[str] = []
    if not partial:
        if order.state != "canceled" and not req.walmart_only:
            why = commerce_refusal(order)
            if why is not None:
                raise RefusedError(
                    f"Commerce will not cancel order {order.increment_id}: {why}",
                    hint="nothing was sent; to cancel on Walmart only, pass --walmart-only (the reason is still "
                    "recorded on the Commerce order as a comment)",
                )
            commerce_cancel = True
            if any(0 < i.qty_invoiced < i.qty_ordered for i in order.top_items()):
                notes.append(
                    "the order is partly invoiced: Magento cancels only the uninvoiced part; refund the "
                    "invoiced part with a credit memo"
                )
        if req.walmart_only and order.state != "canceled":
            commerce_todo.append("the Commerce order was not cancelled (--walmart-only)")
    else:
        for sku in sorted(target):
            n = target[sku] - base.get(sku, 0)
            commerce_todo.append(
                f"Commerce still shows {n} × {sku} as ordered: adjust it in Commerce (edit the "
                "order, or refund with a credit memo) — Commerce's REST API has no partial cancel"
            )
    ours_done = any(now_cancelled.get(s, 0) > base.get(s, 0) for s in target)
    comment = None
    if not comment_present and (need or commerce_cancel or ours_done):
        comment = cancel_note.format_comment(
            cancel_note.CancelNote(
                po,
                suffix,
                reason,
                {} if not partial else {s: target[s] - base.get(s, 0) for s in target},
                base,
            )
        )
    the_plan = CancelPlan(
        order,
        po,
        reason,
        partial,
        target,
        body,
        alloc,
        commerce_cancel,
        comment,
        marker,
        warnings,
        notes,
        commerce_todo,
    )
    if partial and body is not None and not intent_present:
        the_plan.intent = cancel_note.format_intent(
            cancel_note.CancelNote(po, suffix, reason, {s: target[s] - base.get(s, 0) for s in target}, base)
        )
    the_plan.intent_marker = cancel_note.intent_marker(po, suffix)
    return the_plan


def _comments(order: Order) -> list[str]:
    return [c.comment or "" for c in order.status_histories]


def _confirmed(wm: WalmartOrder, target: Mapping[str, int]) -> bool:
    now = cancelled_by_sku(wm)
    return all(now.get(s, 0) >= q for s, q in target.items())


def requests_of(the_plan: CancelPlan) -> tuple[PlannedRequest, ...]:
    """The exact requests the plan will send, for --dry-run."""
    po, entity_id = the_plan.purchase_order_id, the_plan.order.entity_id
    out: list[PlannedRequest] = []
    if the_plan.walmart_body:
        for part in walmart_parts(the_plan.walmart_body):
            out.append(PlannedRequest("walmart", "POST", f"/v3/orders/{po}/cancel", part))
    if the_plan.commerce_cancel:
        out.append(PlannedRequest("commerce", "POST", f"/V1/orders/{entity_id}/cancel", None))
    if the_plan.comment:
        body = {"statusHistory": {"comment": the_plan.comment}}
        out.append(PlannedRequest("commerce", "POST", f"/V1/orders/{entity_id}/comments", body))
    return tuple(out)


def earlier_baseline(ctx: Context, key: str) -> dict[str, int] | None:
    """The Walmart cancelled quantities an earlier attempt of this cancel saw first (the unfinished one, else
    the latest), from this machine's journal."""
    with_baseline = [
        op for op in ctx.journal.by_key(ctx.store_name, key) if isinstance(op.params.get("baseline"), dict)
    ]
    unfinished = [op for op in with_baseline if op.state not in DONE_STATES]
    chosen = unfinished[-1] if unfinished else (with_baseline[-1] if with_baseline else None)
    if chosen is None:
        return None
    return {k: int(v) for k, v in chosen.params["baseline"].items()}


def record_already_done(ctx: Context, the_plan: CancelPlan, key: str, items: Mapping[str, int | None] | None) -> None:
    """Nothing to do: recorded once, so a file run of the same cancellation skips it without reading."""
    if any(op.state in DONE_STATES for op in ctx.journal.by_key(ctx.store_name, key)):
        return
    with operation(
        ctx,
        kind="cancel",
        key=key,
        order_number=the_plan.order.increment_id,
        purchase_order_id=the_plan.purchase_order_id,
        params={"reason": the_plan.reason, "items": dict(items or {})},
    ) as op:
        op.finish(ALREADY_DONE, Result.ALREADY_DONE)


# ---------------------------------------------------------------- the steps, in order


#: the most order lines Walmart takes in one cancellation request (its orders FAQ; docs/real-services.md)
MAX_CANCEL_LINES = 100


def walmart_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The cancellation body in requests of at most :data:`MAX_CANCEL_LINES` order lines, in line order."""
    lines = body["orderCancellation"]["orderLines"]["orderLine"]
    return [
        {"orderCancellation": {"orderLines": {"orderLine": lines[i : i + MAX_CANCEL_LINES]}}}
        for i in range(0, len(lines), MAX_CANCEL_LINES)
    ] or [body]


def _part_step(index: int) -> str:
    return "walmart_cancel" if index == 0 else f"walmart_cancel_{index + 1}"


def cancel_on_walmart(op: Operation, p: CancelPlan, wm: WalmartOrder) -> WalmartOrder:
    """The Walmart cancellation, in parts of at most 100 lines, each its own write step. A run that stops
    between parts leaves the rest to a re-run, which plans from what Walmart then shows (the cancelled lines
    are no longer open), so no line is cancelled twice."""
    ctx, po = op.ctx, p.purchase_order_id
    if p.walmart_body is None:
        return wm
    parts = walmart_parts(p.walmart_body)
    if any(sent_earlier(op, _part_step(i)) for i in range(len(parts))):
        return wm
    latest = wm
    for i, body in enumerate(parts):
        before = sum(cancelled_by_sku(latest).values())
        what = "the Walmart cancellation" + (f" (part {i + 1} of {len(parts)})" if len(parts) > 1 else "")
        latest = write_step(
            op,
            _part_step(i),
            progress="cancelling on Walmart" + (f" (part {i + 1} of {len(parts)})" if len(parts) > 1 else ""),
            body=body,
            send=lambda body=body: ctx.walmart.cancel(po, body),  # type: ignore[misc]
            read=lambda: ctx.walmart.get_order(po),
            applied=lambda w, before=before: sum(cancelled_by_sku(w).values()) > before,  # type: ignore[misc]
            what=what,
        )
    return latest


def cancel_in_commerce(op: Operation, p: CancelPlan) -> None:
    if not p.commerce_cancel:
        return
    ctx, entity_id = op.ctx, p.order.entity_id

    def send() -> bool:
        ctx.commerce.cancel(entity_id)
        return True

    try:
        write_step(
            op,
            "commerce_cancel",
            progress="cancelling the Commerce order",
            send=send,
            read=lambda: ctx.commerce.get_order(entity_id).state == "canceled",
            applied=bool,
            what="the Commerce cancel",
        )
    except CommerceRefusedError as exc:
        # Walmart is cancelled; Commerce refused after all. Keep the reason on the order, then say so.
        op.step("commerce_cancel", "refused")
        if p.comment:  # through the write protocol like every other write (a lost answer is settled, not resent)
            _comment_step(op, p, "commerce_comment", p.comment, p.marker, status=p.order.status,
                          progress="recording the reason on the Commerce order")
        raise CommerceRefusedError(
            f"Walmart is cancelled, but Commerce refused to cancel order {p.order.increment_id}",
            service="Commerce",
            status=200,
            hint=(exc.hint or "") + " — the reason is recorded in the order history",
        ) from exc


def _comment_step(op: Operation, p: CancelPlan, step: str, comment: str, marker: str, *, status: str | None,
                  progress: str) -> None:
    """One Commerce order comment as a write step; it shows as written once a comment carries its marker. The
    order's status is sent along: on some Magento 2.4 releases a comment without one blanks the order's status
    (magento/magento2#34180)."""
    ctx, entity_id = op.ctx, p.order.entity_id

    def send() -> bool:
        ctx.commerce.add_comment(entity_id, comment, status=status)
        return True

    write_step(
        op,
        step,
        progress=progress,
        send=send,
        read=lambda: cancel_note.has_marker(_comments(ctx.commerce.get_order(entity_id)), marker),
        applied=bool,
        what="the Commerce order comment",
    )


def record_reason(op: Operation, p: CancelPlan) -> None:
    if p.comment:
        status = "canceled" if p.commerce_cancel else p.order.status
        _comment_step(op, p, "commerce_comment", p.comment, p.marker, status=status,
                      progress="recording the reason on the Commerce order")


def record_intent(op: Operation, p: CancelPlan) -> None:
    """A partial cancel writes what it is about to cancel, and Walmart's cancelled quantities before it, on the
    Commerce order before asking Walmart: a crash between the two writes and a re-run from another machine
    (no journal) then count this cancel as its own, never as the baseline."""
    if p.intent is not None:
        _comment_step(op, p, "commerce_intent", p.intent, p.intent_marker, status=p.order.status,
                      progress="recording the cancellation on the Commerce order before sending it")


def run_steps(op: Operation, p: CancelPlan, wm: WalmartOrder) -> WalmartOrder:
    """For a partial cancel its intent on the Commerce order first; then Walmart (the customer-facing side),
    the Commerce cancel, and the reason as a comment. Returns the latest Walmart order seen."""
    record_intent(op, p)
    latest = cancel_on_walmart(op, p, wm)
    cancel_in_commerce(op, p)
    record_reason(op, p)
    return latest


def confirm_cancel(op: Operation, p: CancelPlan, latest: WalmartOrder) -> tuple[Result, WalmartOrder]:
    ctx, po = op.ctx, p.purchase_order_id
    result = Result.CONFIRMED
    if not _confirmed(latest, p.target):
        if not ctx.settings.wait:
            result = Result.PENDING
        else:
            ok, seen = wait_confirmed(
                ctx,
                lambda: ctx.walmart.get_order(po),
                lambda w: _confirmed(w, p.target),
                on_wait=lambda _el, _d: ctx.progress("waiting for Walmart to show the cancellation"),
            )
            latest = seen or latest
            result = Result.CONFIRMED if ok else Result.PENDING
    state = CONFIRMED if result is Result.CONFIRMED else PENDING
    if p.walmart_body is None and not p.commerce_cancel:
        state = ALREADY_DONE if result is Result.CONFIRMED else state
        result = Result.ALREADY_DONE if result is Result.CONFIRMED and p.comment is None else result
    op.finish(
        state,
        result,
        confirm_deadline=ctx.clock.time() + ctx.settings.timeout if result is Result.PENDING else None,
    )
    return result, latest


# ---------------------------------------------------------------- the whole command


def execute(
    ctx: Context,
    req: CancelRequest,
    *,
    dry_run: bool = False,
    lock_timeout: float = 60.0,
    confirm: Callable[[CancelPlan], bool] = lambda _p: True,
) -> CancelOutcome:
    """Read → plan → act → confirm. ``confirm`` is asked before anything is sent (not on a dry run)."""
    req = replace(req, items=commerce_sku_items(req.items, ctx.store.skus))
    # the reason is checked before anything is read
    try:
        rules.resolve_cancellation_reason(req.reason)
    except rules.RuleViolation as exc:
        raise UsageError(exc.message, hint=exc.hint) from exc
    with order_session(ctx, req.order, dry_run=dry_run, lock_timeout=lock_timeout) as session:
        ctx, order, po = session.ctx, session.order, session.purchase_order_id
        wm = session.walmart
        comments = _comments(order)
        round_ = round_for(ctx, order, po, wm, req, comments)
        key = op_key(po, req.items, round_)
        marker = cancel_note.marker(po, op_suffix(req.items, round_))
        baseline = earlier_baseline(ctx, key)
        intent_marker = cancel_note.intent_marker(po, op_suffix(req.items, round_))
        if baseline is None:  # no journal entry here (another machine, a lost data dir): the order says
            baseline = cancel_note.baseline_of(comments, marker)
        if baseline is None:  # or what a run that died before its last comment recorded before sending
            baseline = cancel_note.baseline_of(comments, intent_marker)
        present = cancel_note.has_marker(comments, marker)
        the_plan = plan(
            order, po, wm, req, baseline=baseline, comment_present=present, round_=round_,
            intent_present=cancel_note.has_marker(comments, intent_marker),
        )

        sent: list[str] = []  # the writes this run makes, for the headline

        def outcome(
            result: Result, latest: WalmartOrder, requests: tuple[PlannedRequest, ...] | None = None
        ) -> CancelOutcome:
            return CancelOutcome(
                order=order.increment_id,
                purchase_order_id=po,
                reason=the_plan.reason,
                partial=the_plan.partial,
                warnings=tuple(the_plan.warnings),
                notes=tuple(the_plan.notes),
                commerce_todo=tuple(the_plan.commerce_todo),
                result=result,
                lines=line_report(latest),
                correlation_ids=tuple(ctx.walmart.correlation_ids),
                requests=requests,
                sent=tuple(dict.fromkeys(sent)),
            )

        if dry_run:
            return outcome(Result.DRY_RUN, wm, requests_of(the_plan))
        if the_plan.nothing_to_do:
            record_already_done(ctx, the_plan, key, req.items)
            return outcome(Result.ALREADY_DONE, wm)
        for w in the_plan.warnings:
            ctx.note("warning: " + w)
        for n in the_plan.notes:
            ctx.note(n)
        if not confirm(the_plan):
            raise RefusedError("cancelled nothing: not confirmed")
        params: dict[str, Any] = {
            "reason": the_plan.reason,
            "items": dict(req.items or {}),
            "baseline": baseline if baseline is not None else cancelled_by_sku(wm),
        }
        with operation(
            ctx, kind="cancel", key=key, order_number=order.increment_id, purchase_order_id=po, params=params
        ) as op:
            op = replace(op, sent=sent)
            latest = run_steps(op, the_plan, wm)
            result, latest = confirm_cancel(op, the_plan, latest)
        done = outcome(result, latest)
        if result is Result.PENDING and ctx.settings.wait:
            raise UnconfirmedError(
                f"sent, but Walmart did not show the cancellation within {ctx.settings.timeout:.0f}s", outcome=done
            )
        return done
