"""``wmsync cancel``: whole or partial, with Walmart's cancellation reason, recorded on both sides."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wmsync.cli.common import ConfirmTimeoutOpt, LockTimeoutOpt, Runtime, emit_unconfirmed, global_options

if TYPE_CHECKING:
    from rich.console import Console

CANCEL_HELP = """Cancel a Walmart order, whole or in part, with a Walmart cancellation reason.

Reasons (case-insensitive): customer-request (CUSTOMER_REQUESTED_SELLER_TO_CANCEL — only when the customer
asked), pricing-error (SELLER_CANCEL_PRICING_ERROR; Channel Manager "Price/listing error"), out-of-stock
(SELLER_CANCEL_OUT_OF_STOCK; "Out of stock" — Walmart also marks the item out of stock), fraud
(SELLER_CANCEL_FRAUD_STOP_SHIPMENT; "Credit/fraud" — real fraud only), address-not-serviceable
(SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE; "Unavailable carrier/shipping info").

Whole order (default): every Walmart line not yet shipped or cancelled is cancelled, the Commerce order is
cancelled, and the reason is added to the Commerce order history. Partial (--item SKU[=QTY]): the quantities
are cancelled on Walmart and recorded as a Commerce order comment; Commerce itself has no partial cancel, so
the output says what is left to do there.

Asks before cancelling on a terminal; without a terminal --yes is required. Exit codes as for ship.
"""


def list_reasons(rt: Runtime) -> None:
    from wmsync.walmart.rules import REASON_HELP

    data = [{"code": c, "alias": a, "description": d} for c, a, d in REASON_HELP]

    def human(console: Console) -> None:
        from wmsync.render import table

        console.print(
            table(
                "Walmart cancellation reasons",
                ["alias", "code", "meaning"],
                [[a, c, d] for c, a, d in REASON_HELP],
            )
        )

    rt.out.emit(data, human)


@global_options
def cancel(
    rt: Runtime,
    order: Annotated[str | None, typer.Argument(help="Commerce order number or Walmart PO id.")] = None,
    reason: Annotated[
        str | None, typer.Option(help="Walmart reason code, alias or Channel Manager label.")
    ] = None,
    item: Annotated[
        list[str] | None, typer.Option("--item", help="SKU[=QTY], repeatable: a partial cancel.")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask (required without a terminal).")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; send nothing.")] = False,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Return 'pending' right after sending.")] = False,
    timeout: ConfirmTimeoutOpt = None,
    walmart_only: Annotated[
        bool,
        typer.Option(
            "--walmart-only", help="Cancel on Walmart even when Commerce will not cancel the order."
        ),
    ] = False,
    confirm_customer_request: Annotated[
        bool,
        typer.Option(
            "--confirm-customer-request",
            help="Use customer-request although Walmart shows no intent to cancel.",
        ),
    ] = False,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="The same items were cancelled before and this is a new cancellation of more units, not a re-run.",
        ),
    ] = False,
    list_reasons_: Annotated[bool, typer.Option("--list-reasons", help="List the reasons and exit.")] = False,
    lock_timeout: LockTimeoutOpt = 60.0,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            help="Cancel many orders from a CSV or JSON Lines file ('-' = stdin).",
            allow_dash=True,
        ),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="With --from-file: run the valid rows.")
    ] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="With --from-file: a JSON line per row.")] = False,
) -> None:
    from wmsync.errors import UnconfirmedError, UsageError
    from wmsync.workflows import cancel as wf
    from wmsync.workflows.base import check_order_arg, parse_items

    if list_reasons_:
        list_reasons(rt)
        return
    if from_file is not None and (order or reason or item):
        raise UsageError("--from-file takes the orders and reasons from the file",
                         hint="give either ORDER with --reason, or --from-file, not both")
    if from_file is None and (jsonl or skip_invalid):
        raise UsageError("--jsonl and --skip-invalid go with --from-file")
    if from_file is not None:
        from wmsync.cli.batch import run_cancel_file

        if not yes and not dry_run:
            raise UsageError("--from-file cancels need --yes")
        run_cancel_file(
            rt,
            from_file,
            skip_invalid=skip_invalid,
            jsonl=jsonl,
            dry_run=dry_run,
            timeout=timeout,
            no_wait=no_wait,
            lock_timeout=lock_timeout,
        )
        return
    if order is None:
        raise UsageError("missing ORDER", hint="wmsync cancel ORDER --reason out-of-stock")
    check_order_arg(order)
    if not reason:
        raise UsageError(
            "--reason is required: Walmart needs a reason for every cancellation",
            hint="`wmsync cancel --list-reasons` lists them",
        )
    items = parse_items(item or [])
    interactive = rt.out.interactive
    if not yes and not dry_run and not interactive:
        raise UsageError("cancelling without a terminal needs --yes", hint="nothing was sent")
    settings = rt.settings(timeout=timeout, no_wait=no_wait)
    req = wf.CancelRequest(
        order=order,
        reason=reason,
        items=items or None,
        walmart_only=walmart_only,
        confirm_customer_request=confirm_customer_request,
        again=again,
    )

    def confirm(plan: wf.CancelPlan) -> bool:
        if yes:
            return True
        lines = ", ".join(f"line {a.line_number} {a.qty} × {a.sku}" for a in plan.alloc) or "no Walmart lines"
        extra = " and the Commerce order" if plan.commerce_cancel else ""
        rt.out.info(f"About to cancel on Walmart: {lines}{extra} — reason {plan.reason}.")
        return bool(typer.confirm("Proceed?", default=False, err=True))

    ctx = rt.context(settings, note=rt.out.note)
    try:
        outcome = wf.execute(ctx, req, dry_run=dry_run, lock_timeout=lock_timeout, confirm=confirm)
    except UnconfirmedError as exc:
        emit_unconfirmed(rt, exc, render_cancel)
    result = outcome.to_json()
    rt.out.emit(result, lambda c: render_cancel(c, result))


def cancel_headline(result: dict[str, Any]) -> str:
    """What happened, from the result and the writes this run made (``sent``): "confirmed by Walmart" only
    when this run cancelled on Walmart and Walmart shows it."""
    res, sent = result["result"], set(result.get("sent") or ())
    walmart, commerce = "walmart_cancel" in sent, "commerce_cancel" in sent
    noted = "commerce_comment" in sent
    if res == "dry_run":
        return "Dry run — nothing sent"
    also = "; Commerce order cancelled" if commerce else ""
    if walmart:
        if res == "pending":
            return "Sent to Walmart; Walmart has not confirmed the cancellation yet" + also
        return "Cancelled and confirmed by Walmart" + also
    if commerce:
        return "Cancelled in Commerce; Walmart had it already"
    if noted:
        return "Recorded on the Commerce order; Walmart had it already"
    if res == "pending":
        return "Walmart has not shown the cancellation yet (an earlier run sent it; nothing sent again)"
    return "Already cancelled — nothing sent"


def render_cancel(console: Console, result: dict[str, Any]) -> None:
    from wmsync.cli.ship import render_lines, render_requests

    head = cancel_headline(result)
    done = result["result"] == "already_done"
    reason = "" if done else f", reason {result['reason']}"  # when done, the lines show Walmart's own reasons
    console.print(f"{head}: order {result['order']} (PO {result['purchase_order_id']}){reason}", markup=False)
    if result["result"] == "dry_run":  # otherwise warnings and notes went to stderr before sending
        for note in result.get("warnings", []) + result.get("notes", []):
            console.print(f"  {note}", markup=False)
    if result["result"] == "dry_run":
        render_requests(console, result.get("requests", []))
    render_lines(console, result.get("lines", []))
    for todo in result.get("commerce_todo", []):
        console.print(f"To do in Commerce: {todo}", markup=False, style="yellow")


def register(app: typer.Typer) -> None:
    app.command("cancel", help=CANCEL_HELP)(cancel)
