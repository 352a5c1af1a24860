"""``wmsync cancel``: whole or partial, with Walmart's reason, recorded on both sides.

Order of writes: Walmart lines first (the customer-facing side), then the Commerce cancel (whole order only),
then a Commerce order comment with the reason. Each step is skipped when the live state shows it done, so a
re-run completes whichever side is missing and never cancels twice. For a partial cancel the journal keeps the
Walmart cancelled quantities seen before the first attempt, so a re-run knows how much was its own."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, unquote

from wmsync.clock import Clock
from wmsync.commerce.client import CommerceClient
from wmsync.commerce.models import Order
from wmsync.config import StoreConfig
from wmsync.errors import CommerceRefusedError, OutcomeUnknownError, RefusedError, UsageError
from wmsync.journal import ALREADY_DONE, CONFIRMED, DONE_STATES, FAILED, PENDING, Journal
from wmsync.walmart import rules
from wmsync.walmart.client import WalmartClient
from wmsync.walmart.models import (
    CancelLine,
    CancelLineStatus,
    CancelLineStatuses,
    StatusQuantity,
    WalmartOrder,
    line_sort_key,
)
from wmsync.walmart.models import cancel_body as walmart_cancel_body
from wmsync.workflows.base import (
    awaiting_confirmation,
    guard_resend,
    order_lease,
    poll,
    read_walmart_order,
    renewing,
    settle_unknown,
)
from wmsync.workflows.ship import Settings, line_report


@dataclass(frozen=True)
class CancelRequest:
    order: str
    reason: str
    items: Mapping[str, int | None] | None = None
    walmart_only: bool = False
    confirm_customer_request: bool = False


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

    @property
    def nothing_to_do(self) -> bool:
        return self.walmart_body is None and not self.commerce_cancel and self.comment is None


def cancelled_by_sku(wm: WalmartOrder) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in wm.lines:
        qty = line.qty_in("Cancelled")
        if qty:
            out[line.sku] = out.get(line.sku, 0) + qty
    return out


def op_key(po: str, items: Mapping[str, int | None] | None) -> str:
    if not items:
        return f"cancel:{po}:all"
    spec = ",".join(f"{k}={'all' if v is None else v}" for k, v in sorted(items.items()))
    return f"cancel:{po}:" + hashlib.sha256(spec.encode()).hexdigest()[:16]


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
) -> CancelPlan:
    """Pure. ``baseline``: Walmart cancelled quantities per SKU before this cancel's first attempt (from the
    journal), or None for a first attempt."""
    try:
        reason = rules.resolve_cancellation_reason(req.reason)
    except rules.RuleViolation as exc:
        raise UsageError(exc.message, hint=exc.hint) from exc
    warnings = list(rules.reason_warnings(reason)) if reason != rules.CUSTOMER_REQUESTED else []
    now_cancelled = cancelled_by_sku(wm)
    base = dict(baseline) if baseline is not None else now_cancelled
    notes: list[str] = []
    partial = bool(req.items)
    marker = f"[wmsync {op_key(po, req.items)}]"

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
        what = "all open lines"
    else:
        for sku in sorted(target):
            n = target[sku] - base.get(sku, 0)
            commerce_todo.append(
                f"Commerce still shows {n} × {sku} as ordered: adjust it in Commerce (edit the "
                "order, or refund with a credit memo) — Commerce's REST API has no partial cancel"
            )
        what = ", ".join(f"{target[s] - base.get(s, 0)} × {s}" for s in sorted(target))
    ours_done = any(now_cancelled.get(s, 0) > base.get(s, 0) for s in target)
    comment = None
    if not comment_present and (need or commerce_cancel or ours_done):
        comment = f"Walmart PO {po}: cancelled {what} with reason {reason}. {marker}{baseline_tag(base)}"
    return CancelPlan(
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


BASELINE_RE = re.compile(r"\{cancelled before: ([^}]*)\}")


def baseline_tag(base: Mapping[str, int]) -> str:
    """Walmart's cancelled quantities before this cancel, kept in the Commerce comment: with the order, not only
    in this machine's journal, so a re-run from anywhere knows how much was its own."""
    # SKUs are percent-encoded so that ',', '=' or '}' in a SKU cannot change what is read back
    return " {cancelled before: " + ", ".join(f"{quote(sku, safe='')}={qty}" for sku, qty in sorted(base.items())) + "}"


def baseline_from_comments(order: Order, marker: str) -> dict[str, int] | None:
    for c in order.status_histories:
        text = c.comment or ""
        if marker not in text:
            continue
        found = BASELINE_RE.search(text)
        if found is None:
            continue
        out: dict[str, int] = {}
        for part in filter(None, (p.strip() for p in found.group(1).split(","))):
            sku, _, qty = part.rpartition("=")
            if not sku or not qty.isdigit():
                return None  # not what wmsync wrote: trust nothing of it
            out[unquote(sku)] = int(qty)
        return out
    return None


def _comment_present(order: Order, marker: str) -> bool:
    return any(marker in (c.comment or "") for c in order.status_histories)


@dataclass
class Deps:
    store_name: str
    store: StoreConfig
    commerce: CommerceClient
    walmart: WalmartClient
    journal: Journal
    clock: Clock
    progress: Callable[[str], None] = lambda _m: None
    note: Callable[[str], None] = lambda _m: None
    confirm: Callable[[CancelPlan], bool] = lambda _p: True


def _confirmed(wm: WalmartOrder, target: Mapping[str, int]) -> bool:
    now = cancelled_by_sku(wm)
    return all(now.get(s, 0) >= q for s, q in target.items())


def execute(
    deps: Deps,
    req: CancelRequest,
    settings: Settings,
    *,
    dry_run: bool = False,
    lock_timeout: float = 60.0,
    lease_ttl: float = 600.0,
) -> dict[str, Any]:
    from wmsync.errors import UnconfirmedError
    from wmsync.workflows.base import find_commerce_order, purchase_order_of

    # the reason is checked before anything is read
    try:
        rules.resolve_cancellation_reason(req.reason)
    except rules.RuleViolation as exc:
        raise UsageError(exc.message, hint=exc.hint) from exc
    read_at = deps.journal.now()
    order = find_commerce_order(deps.commerce, deps.store, req.order)
    po = purchase_order_of(order, deps.store)
    with order_lease(
        deps.journal,
        deps.store_name,
        po,
        order.increment_id,
        dry_run=dry_run,
        wait=lock_timeout,
        ttl=lease_ttl + settings.timeout + settings.unknown_grace,
        sleep=deps.clock.sleep,
    ):
        if not dry_run and deps.journal.changed_since(deps.store_name, po, read_at):
            # another run worked on this order after it was read: plan from what it left, not from before
            order = Order.model_validate(deps.commerce.get_order(order.entity_id))
        deps = replace(
            deps,
            progress=renewing(
                deps.progress,
                deps.journal,
                deps.store_name,
                po,
                dry_run=dry_run,
                ttl=lease_ttl + settings.timeout + 3 * settings.unknown_grace,
            ),
        )
        wm = read_walmart_order(deps.walmart, po, order.increment_id)
        key = op_key(po, req.items)
        baseline: dict[str, int] | None = None
        earlier = deps.journal.by_key(deps.store_name, key)
        with_baseline = [op for op in earlier if isinstance(op.params.get("baseline"), dict)]
        unfinished = [op for op in with_baseline if op.state not in DONE_STATES]
        chosen = unfinished[-1] if unfinished else (with_baseline[-1] if with_baseline else None)
        if chosen is not None:
            baseline = {k: int(v) for k, v in chosen.params["baseline"].items()}
        marker = f"[wmsync {key}]"
        if baseline is None:  # no journal entry here (another machine, a lost data dir): the order says
            baseline = baseline_from_comments(order, marker)
        the_plan = plan(order, po, wm, req, baseline=baseline, comment_present=_comment_present(order, marker))
        doc: dict[str, Any] = {
            "order": order.increment_id,
            "purchase_order_id": po,
            "reason": the_plan.reason,
            "partial": the_plan.partial,
            "warnings": the_plan.warnings,
            "notes": the_plan.notes,
            "commerce_todo": the_plan.commerce_todo,
        }
        if dry_run:
            reqs: list[dict[str, Any]] = []
            if the_plan.walmart_body:
                reqs.append(
                    {
                        "service": "walmart",
                        "method": "POST",
                        "path": f"/v3/orders/{po}/cancel",
                        "body": the_plan.walmart_body,
                    }
                )
            if the_plan.commerce_cancel:
                reqs.append(
                    {
                        "service": "commerce",
                        "method": "POST",
                        "path": f"/V1/orders/{order.entity_id}/cancel",
                        "body": None,
                    }
                )
            if the_plan.comment:
                reqs.append(
                    {
                        "service": "commerce",
                        "method": "POST",
                        "path": f"/V1/orders/{order.entity_id}/comments",
                        "body": {"statusHistory": {"comment": the_plan.comment}},
                    }
                )
            doc.update(
                result="dry_run",
                requests=reqs,
                lines=line_report(wm),
                correlation_ids=list(deps.walmart.correlation_ids),
            )
            return doc
        if the_plan.nothing_to_do or (
            the_plan.walmart_body is None
            and not the_plan.commerce_cancel
            and _confirmed(wm, the_plan.target)
            and the_plan.comment is None
        ):
            doc.update(
                result="already_done",
                lines=line_report(wm),
                correlation_ids=list(deps.walmart.correlation_ids),
            )
            return doc
        for w in the_plan.warnings:
            deps.note("warning: " + w)
        for n in the_plan.notes:
            deps.note(n)
        if not deps.confirm(the_plan):
            raise RefusedError("cancelled nothing: not confirmed")
        params: dict[str, Any] = {
            "reason": the_plan.reason,
            "items": dict(req.items or {}),
            "baseline": baseline if baseline is not None else cancelled_by_sku(wm),
        }
        op = deps.journal.start(
            store=deps.store_name,
            kind="cancel",
            op_key=key,
            order_number=order.increment_id,
            purchase_order_id=po,
            params=params,
        )
        latest = wm
        try:
            quiet, grace, now = settings.resend_quiet, settings.unknown_grace, deps.clock.time()
            if the_plan.walmart_body is not None and awaiting_confirmation(
                deps.journal, deps.store_name, key, "walmart_cancel", now=now
            ):
                deps.progress("sent by an earlier run: waiting for Walmart to show it, not sending it again")
            elif the_plan.walmart_body is not None:
                deps.progress("cancelling on Walmart")
                guard_resend(deps.journal, deps.store_name, key, "walmart_cancel", now=now, quiet=quiet)
                deps.journal.step(op, "walmart_cancel", "started", {"body": the_plan.walmart_body})
                try:
                    latest = WalmartOrder.model_validate(deps.walmart.cancel(po, the_plan.walmart_body))
                except OutcomeUnknownError as exc:
                    deps.journal.step(op, "walmart_cancel", "unknown")
                    before = sum(cancelled_by_sku(wm).values())
                    latest = settle_unknown(
                        lambda: WalmartOrder.model_validate(deps.walmart.get_order(po)),
                        lambda w: sum(cancelled_by_sku(w).values()) > before,
                        clock=deps.clock,
                        grace=grace,
                        what="the Walmart cancellation",
                        correlation_id=exc.correlation_id,
                    )
                deps.journal.step(op, "walmart_cancel", "done")
            if the_plan.commerce_cancel:
                deps.progress("cancelling the Commerce order")
                guard_resend(deps.journal, deps.store_name, key, "commerce_cancel", now=now, quiet=quiet)
                deps.journal.step(op, "commerce_cancel", "started")
                try:
                    deps.commerce.cancel(order.entity_id)
                except OutcomeUnknownError:
                    deps.journal.step(op, "commerce_cancel", "unknown")
                    settle_unknown(
                        lambda: Order.model_validate(deps.commerce.get_order(order.entity_id)),
                        lambda o: o.state == "canceled",
                        clock=deps.clock,
                        grace=grace,
                        what="the Commerce cancel",
                    )
                except CommerceRefusedError as exc:
                    # Walmart is cancelled; Commerce refused after all. Keep the reason on the order, then say so.
                    deps.journal.step(op, "commerce_cancel", "refused")
                    if the_plan.comment:
                        deps.commerce.add_comment(order.entity_id, the_plan.comment, status=order.status)
                        deps.journal.step(op, "commerce_comment", "done")
                    raise CommerceRefusedError(
                        f"Walmart is cancelled, but Commerce refused to cancel order {order.increment_id}",
                        service="Commerce",
                        status=200,
                        hint=(exc.hint or "") + " — the reason is recorded in the order history",
                    ) from exc
                deps.journal.step(op, "commerce_cancel", "done")
            if the_plan.comment:
                deps.progress("recording the reason on the Commerce order")
                guard_resend(deps.journal, deps.store_name, key, "commerce_comment", now=now, quiet=quiet)
                deps.journal.step(op, "commerce_comment", "started")
                # the status is sent along: on some Magento 2.4 releases a comment without one blanks the order's
                # status (magento/magento2#34180)
                status = "canceled" if the_plan.commerce_cancel else order.status
                try:
                    deps.commerce.add_comment(order.entity_id, the_plan.comment, status=status)
                except OutcomeUnknownError:
                    deps.journal.step(op, "commerce_comment", "unknown")
                    settle_unknown(
                        lambda: Order.model_validate(deps.commerce.get_order(order.entity_id)),
                        lambda o: _comment_present(o, the_plan.marker),
                        clock=deps.clock,
                        grace=grace,
                        what="the Commerce order comment",
                    )
                deps.journal.step(op, "commerce_comment", "done")
            result = "confirmed"
            if not _confirmed(latest, the_plan.target):
                if not settings.wait:
                    result = "pending"
                else:
                    box: list[WalmartOrder] = []

                    def check() -> bool:
                        w = WalmartOrder.model_validate(deps.walmart.get_order(po))
                        box[:] = [w]
                        return _confirmed(w, the_plan.target)

                    ok = poll(
                        check,
                        clock=deps.clock,
                        timeout=settings.timeout,
                        initial=settings.poll_initial,
                        maximum=settings.poll_max,
                        on_wait=lambda _el, _d: deps.progress("waiting for Walmart to show the cancellation"),
                    )
                    latest = box[0] if box else latest
                    result = "confirmed" if ok else "pending"
            state = CONFIRMED if result == "confirmed" else PENDING
            if the_plan.walmart_body is None and not the_plan.commerce_cancel:
                state = ALREADY_DONE if result == "confirmed" else state
                result = "already_done" if result == "confirmed" and the_plan.comment is None else result
            deps.journal.finish(
                op,
                state,
                result={"result": result},
                correlation_ids=deps.walmart.correlation_ids[-10:],
                confirm_deadline=deps.clock.time() + settings.timeout if result == "pending" else None,
            )
        except BaseException as exc:
            code = getattr(exc, "code", None)
            deps.journal.finish(
                op,
                FAILED,
                error=(str(exc) or ("interrupted" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__))[:500],
                error_code=code if isinstance(code, str) else None,
                correlation_ids=deps.walmart.correlation_ids[-10:],
            )
            raise
        doc.update(result=result, lines=line_report(latest), correlation_ids=list(deps.walmart.correlation_ids))
        if result == "pending" and settings.wait:
            err = UnconfirmedError(f"sent, but Walmart did not show the cancellation within {settings.timeout:.0f}s")
            err.payload = doc  # type: ignore[attr-defined]
            raise err
        return doc
