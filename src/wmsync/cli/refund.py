"""``wmsync refund``: refund shipped lines on Walmart, with an offline credit memo in Commerce."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from wmsync.cli.common import LockTimeoutOpt, Runtime, global_options

if TYPE_CHECKING:
    from rich.console import Console

REFUND_HELP = """Refund shipped lines: Walmart's refund with one of its reasons, and an offline credit memo in
Commerce for the same items (--walmart-only when the store refunds in Commerce another way).

The amount is the line's product charge for the units refunded, with its tax, unless --amount gives the product
amount (tax in proportion). Refused before anything is sent (exit 2): an unshipped line (that is `wmsync
cancel`), more than was charged less what was refunded, a Commerce order that cannot take the credit memo. A
re-run of the same refund sends nothing. Asks on a terminal; without one --yes is required.
"""


def list_reasons(rt: Runtime) -> None:
    from wmsync.walmart.rules.refund_reasons import REFUND_REASONS

    data = [{"alias": a, "code": c, "description": d} for a, c, d in REFUND_REASONS]

    def human(console: Console) -> None:
        from wmsync.render import table

        console.print(table("Walmart refund reasons", ["alias", "code", "meaning"],
                            [[d["alias"], d["code"], d["description"]] for d in data]))

    rt.out.emit(data, human)


@global_options
def refund(
    rt: Runtime,
    order: Annotated[str | None, typer.Argument(help="Commerce order number or Walmart PO id.")] = None,
    item: Annotated[list[str] | None, typer.Option("--item", help="SKU[=QTY], repeatable: what to refund.")] = None,
    reason: Annotated[str | None, typer.Option(help="Walmart refund reason or alias (--list-reasons).")] = None,
    amount: Annotated[float | None, typer.Option(help="Product amount to refund (default: the charge).")] = None,
    walmart_only: Annotated[
        bool, typer.Option("--walmart-only", help="Refund on Walmart only; no Commerce credit memo.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (required without a terminal).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the exact requests; send nothing.")] = False,
    lock_timeout: LockTimeoutOpt = 60.0,
    list_reasons_: Annotated[bool, typer.Option("--list-reasons", help="List the reasons and exit.")] = False,
) -> None:
    from wmsync.errors import UsageError
    from wmsync.workflows import refund as wf
    from wmsync.workflows.base import check_order_arg, parse_items

    if list_reasons_:
        list_reasons(rt)
        return
    if order is None:
        raise UsageError("missing ORDER", hint="wmsync refund ORDER --item SKU --reason damaged")
    check_order_arg(order)
    if not reason:
        raise UsageError("--reason is required", hint="`wmsync refund --list-reasons` lists them")
    items = parse_items(item or [])
    if not yes and not dry_run and not rt.out.interactive:
        raise UsageError("refunding without a terminal needs --yes", hint="nothing was sent")
    req = wf.RefundRequest(order=order, reason=reason, items=items, amount=amount, walmart_only=walmart_only)

    def confirm(plan: list[wf.LineRefund]) -> bool:
        if yes:
            return True
        what = ", ".join(f"line {r.line_number} {r.qty} × {r.sku} {r.amount + r.tax:.2f}" for r in plan)
        rt.out.info(f"About to refund on Walmart: {what}" + ("" if walmart_only else ", with a Commerce credit memo"))
        return bool(typer.confirm("Proceed?", default=False, err=True))

    ctx = rt.context(rt.settings(), note=rt.out.note)
    outcome = wf.execute(ctx, req, dry_run=dry_run, lock_timeout=lock_timeout, confirm=confirm)
    result = outcome.to_json()
    rt.out.emit(result, lambda c: render_refund(c, result))


def render_refund(console: Console, result: dict[str, Any]) -> None:
    from wmsync.cli.ship import render_lines, render_requests

    sent = set(result.get("sent") or ())
    res = result["result"]
    if res == "dry_run":
        head = "Dry run — nothing sent"
    elif res == "already_done":
        head = "Already refunded — nothing sent"
    else:
        parts = ["Refunded on Walmart" if "walmart_refund" in sent else "Walmart had the refund already"]
        if "commerce_credit_memo" in sent:
            parts.append("Commerce credit memo created")
        head = "; ".join(parts)
    console.print(f"{head}: order {result['order']} (PO {result['purchase_order_id']}), {result['reason']}, "
                  f"{result['total']:.2f} in all", markup=False)
    for r in result["refunds"]:
        console.print(f"  line {r['line_number']} {r['qty']} × {r['sku']}: {r['amount']:.2f} + tax {r['tax']:.2f}",
                      markup=False)
    if res == "dry_run":
        render_requests(console, result.get("requests", []))
    render_lines(console, result.get("lines", []))


def register(app: typer.Typer) -> None:
    app.command("refund", help=REFUND_HELP)(refund)
