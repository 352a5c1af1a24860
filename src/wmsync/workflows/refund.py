"""``wmsync refund ORDER --item SKU[=QTY]... --reason REASON [--amount AMOUNT]``: refund shipped lines.

Checked before anything is sent: the reason is one of Walmart's; every SKU is on the order and shipped (an
unshipped one is ``wmsync cancel``'s); the amount — by default the line's product charge for the units, with
their tax — is not more than was charged less what was refunded already; and Commerce can make the offline
credit memo (invoiced, not yet refunded), unless ``--walmart-only``. Then, each a journalled write step:

1. Walmart's ``refundOrderLines``: negative amounts per line, with ``refundComments`` naming this refund (a
   marker every machine reads back) and Commerce's refunded quantities before it;
2. Commerce's offline credit memo for the same items (``POST /V1/order/{id}/refund``).

A re-run finds the marker on Walmart (step 1 done) and Commerce's refunded quantities past the recorded ones
(step 2 done): ``already_done``, nothing sent twice."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wmsync.errors import RefusedError, UsageError
from wmsync.journal import ALREADY_DONE, CONFIRMED
from wmsync.walmart.models import OrderLine, WalmartOrder
from wmsync.walmart.rules.common import RuleViolation
from wmsync.walmart.rules.refund_reasons import resolve_refund_reason
from wmsync.workflows.context import Context
from wmsync.workflows.pairing import commerce_sku_items, lines_by_sku, shippable_item_for_sku
from wmsync.workflows.results import PlannedRequest, Result, line_report, write_json_tail
from wmsync.workflows.session import order_session
from wmsync.workflows.steps import operation, write_step

_BEFORE = re.compile(r"\{commerce refunded before: ([^}]*)\}")


@dataclass(frozen=True)
class RefundRequest:
    order: str
    reason: str
    items: Mapping[str, int | None]
    amount: float | None = None
    walmart_only: bool = False


@dataclass(frozen=True)
class LineRefund:
    line_number: str
    sku: str
    qty: int
    amount: float  # positive: what the customer gets back for the product
    tax: float

    def to_json(self) -> dict[str, Any]:
        return {"line_number": self.line_number, "sku": self.sku, "qty": self.qty, "amount": round(self.amount, 2),
                "tax": round(self.tax, 2)}


@dataclass(frozen=True)
class RefundOutcome:
    order: str
    purchase_order_id: str
    reason: str
    result: Result
    refunds: tuple[LineRefund, ...]
    commerce_credit_memo: bool
    lines: tuple[Any, ...]
    sent: tuple[str, ...] = ()
    requests: tuple[PlannedRequest, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "order": self.order,
            "purchase_order_id": self.purchase_order_id,
            "reason": self.reason,
            "result": str(self.result),
            "refunds": [r.to_json() for r in self.refunds],
            "total": round(sum(r.amount + r.tax for r in self.refunds), 2),
            "commerce_credit_memo": self.commerce_credit_memo,
        }
        return write_json_tail(out, self.requests, self.lines, self.sent)


def _money(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def charged(line: OrderLine) -> tuple[float, float]:
    """(product, tax) Walmart charged for the line."""
    product = tax = 0.0
    for c in (line.charges or {}).get("charge") or []:
        if isinstance(c, dict) and c.get("chargeType") == "PRODUCT":
            product += _money((c.get("chargeAmount") or {}).get("amount"))
            tax += _money(((c.get("tax") or {}).get("taxAmount") or {}).get("amount"))
    return product, tax


def _refund_of(line: OrderLine) -> dict[str, Any]:
    return line.refund if isinstance(line.refund, dict) else {}


def refunded(line: OrderLine) -> tuple[float, float]:
    """(product, tax) already refunded on the line, as positive numbers."""
    product = tax = 0.0
    for c in ((_refund_of(line).get("refundCharges") or {}).get("refundCharge")) or []:
        charge = c.get("charge") or {} if isinstance(c, dict) else {}
        if charge.get("chargeType", "PRODUCT") == "PRODUCT":
            product += -_money((charge.get("chargeAmount") or {}).get("amount"))
            tax += -_money(((charge.get("tax") or {}).get("taxAmount") or {}).get("amount"))
    return product, tax


def marker(key: str) -> str:
    return f"[wmsync refund:{key}]"


def _marked(wm: WalmartOrder, key: str) -> str | None:
    """The refund comments of a line carrying this refund's marker (Walmart has it), or None."""
    for line in wm.lines:
        text = str(_refund_of(line).get("refundComments") or "")
        if marker(key) in text:
            return text
    return None


def execute(
    ctx: Context,
    req: RefundRequest,
    *,
    dry_run: bool = False,
    lock_timeout: float = 60.0,
    confirm: Any = lambda _r: True,
) -> RefundOutcome:
    try:
        reason = resolve_refund_reason(req.reason)
    except RuleViolation as exc:
        raise UsageError(exc.message, hint=exc.hint) from exc
    if not req.items:
        raise UsageError("--item SKU[=QTY] is required: a refund names the shipped items it refunds")
    if req.amount is not None and req.amount <= 0:
        raise UsageError("--amount is what the customer gets back: a positive number")
    items: Mapping[str, int | None] = commerce_sku_items(req.items, ctx.store.skus) or {}
    with order_session(ctx, req.order, dry_run=dry_run, lock_timeout=lock_timeout) as session:
        ctx, order, po, wm = session.ctx, session.order, session.purchase_order_id, session.walmart
        by_sku = lines_by_sku(wm)
        plan: list[LineRefund] = []
        for sku, asked in items.items():
            lines = by_sku.get(sku)
            if not lines:
                raise RefusedError(f"SKU {sku!r} is not on order {order.increment_id}",
                                   hint="the order's SKUs: " + ", ".join(sorted(by_sku)))
            shipped = [(ln, ln.qty_in("Shipped", "Delivered")) for ln in lines]
            total_shipped = sum(q for _, q in shipped)
            if total_shipped == 0:
                raise RefusedError(
                    f"{sku} is not shipped: a refund is for shipped lines",
                    hint=f"`wmsync cancel {order.increment_id} --item {sku}` cancels what is not shipped",
                )
            want = total_shipped if asked is None else asked
            if want > total_shipped:
                raise RefusedError(f"{want} × {sku} asked, but {total_shipped} shipped")
            left = want
            for ln, q in shipped:
                take = min(left, q)
                if take <= 0:
                    continue
                product, tax = charged(ln)
                per, per_tax = (product / ln.quantity, tax / ln.quantity) if ln.quantity else (0.0, 0.0)
                plan.append(LineRefund(ln.lineNumber, sku, take, per * take, per_tax * take))
                left -= take
        if req.amount is not None:
            base = sum(r.amount for r in plan)
            scale = req.amount / base if base else 0.0
            plan = [LineRefund(r.line_number, r.sku, r.qty, r.amount * scale, r.tax * scale) for r in plan]
        key = hashlib.sha256(repr((po, sorted(items.items()), reason, req.amount)).encode()).hexdigest()[:12]
        done_text = _marked(wm, key)
        lines_by_no = {ln.lineNumber: ln for ln in wm.lines}
        if done_text is None:
            for r in plan:
                ln = lines_by_no[r.line_number]
                product, tax = charged(ln)
                got, got_tax = refunded(ln)
                if r.amount > product - got + 0.005 or r.tax > tax - got_tax + 0.005:
                    raise RefusedError(
                        f"line {r.line_number} ({r.sku}): refunding {r.amount:.2f} (tax {r.tax:.2f}) is more than was "
                        f"charged less what was refunded ({product:.2f} − {got:.2f}, tax {tax:.2f} − {got_tax:.2f})",
                        hint="a refund never exceeds the charge; --amount sets a smaller one",
                    )
        # Commerce: the items of the credit memo, and whether it is needed
        commerce_items: list[tuple[int, float]] = []
        baseline: dict[int, float] = {}
        if not req.walmart_only:
            for r in plan:
                item = shippable_item_for_sku(order, r.sku)
                if item is None:
                    raise RefusedError(f"Commerce order {order.increment_id} has no item for {r.sku}",
                                       hint="refund in Commerce by hand and pass --walmart-only")
                commerce_items.append((item.item_id, float(r.qty)))
                baseline[item.item_id] = item.qty_refunded
            if done_text is not None:
                m = _BEFORE.search(done_text)
                recorded = {int(k): float(v) for k, v in (p.split("=") for p in m.group(1).split(",") if "=" in p)} \
                    if m else baseline
                baseline = recorded
            for item_id, qty in commerce_items:
                item = order.item_by_id(item_id)
                if item is None:
                    continue
                if done_text is not None and item.qty_refunded >= baseline.get(item_id, 0) + qty:
                    continue
                if item.qty_invoiced - item.qty_refunded < qty:
                    raise RefusedError(
                        f"Commerce cannot refund {qty:g} × {item.sku} with a credit memo: {item.qty_invoiced:g} "
                        f"invoiced, {item.qty_refunded:g} refunded",
                        hint="invoice the order in Commerce first, or refund there another way and pass --walmart-only",
                    )
        def refunded_in(o: Any) -> bool:
            """Commerce shows the credit memo's quantities on top of the recorded ones."""
            for i, q in commerce_items:
                it = o.item_by_id(i)
                if it is None or it.qty_refunded < baseline.get(i, 0) + q:
                    return False
            return True

        commerce_needed = bool(commerce_items) and not (done_text is not None and refunded_in(order))
        comment = (f"{marker(key)} {{commerce refunded before: "
                   + ",".join(f"{i}={baseline.get(i, 0):g}" for i, _q in commerce_items) + "}")
        body = {"orderRefund": {"purchaseOrderId": po, "orderLines": {"orderLine": [
            {"lineNumber": r.line_number, "refunds": {"refund": [{
                "refundComments": comment,
                "refundCharges": {"refundCharge": [{
                    "refundReason": reason,
                    "charge": {
                        "chargeType": "PRODUCT",
                        "chargeName": "Item Price",
                        "chargeAmount": {"currency": "USD", "amount": -round(r.amount, 2)},
                        "tax": {"taxName": "Item Price Tax",
                                "taxAmount": {"currency": "USD", "amount": -round(r.tax, 2)}},
                    },
                }]},
            }]}}
            for r in plan
        ]}}}
        requests: list[PlannedRequest] = []
        if done_text is None:
            requests.append(PlannedRequest("walmart", "POST", f"/v3/orders/{po}/refund", body))
        if commerce_needed:
            requests.append(PlannedRequest("commerce", "POST", f"/V1/order/{order.entity_id}/refund", {
                "items": [{"order_item_id": i, "qty": q} for i, q in commerce_items]}))

        def outcome(result: Result, latest: WalmartOrder, sent: tuple[str, ...] = (),
                    planned: tuple[PlannedRequest, ...] | None = None) -> RefundOutcome:
            return RefundOutcome(order.increment_id, po, reason, result, tuple(plan), bool(commerce_items),
                                 line_report(latest, set(items)), sent, planned)

        if dry_run:
            return outcome(Result.DRY_RUN, wm, planned=tuple(requests))
        if not requests:
            return outcome(Result.ALREADY_DONE, wm)
        if not confirm(plan):
            raise RefusedError("refunded nothing: not confirmed")
        params = {"reason": reason, "items": dict(items), "amount": req.amount}
        with operation(ctx, kind="refund", key=f"refund:{po}:{key}", order_number=order.increment_id,
                       purchase_order_id=po, params=params) as op:
            latest = wm
            if done_text is None:
                latest = write_step(
                    op, "walmart_refund", progress="refunding on Walmart", body=body,
                    send=lambda: ctx.walmart.refund(po, body),
                    read=lambda: ctx.walmart.get_order(po),
                    applied=lambda w: _marked(w, key) is not None,
                    what="the Walmart refund",
                )
            if commerce_needed:
                write_step(
                    op, "commerce_credit_memo", progress="creating the Commerce credit memo",
                    send=lambda: ctx.commerce.refund_order(order.entity_id, commerce_items) > 0,
                    read=lambda: refunded_in(ctx.commerce.get_order(order.entity_id)),
                    applied=bool, what="the Commerce credit memo",
                )
            result = Result.CONFIRMED if _marked(latest, key) is not None or done_text is not None else Result.PENDING
            op.finish(CONFIRMED if result is Result.CONFIRMED else ALREADY_DONE, result)
            return outcome(result, latest, tuple(op.sent))
