"""``wmsync status``: both sides of one order, line by line, whether they agree, and how to repair it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from wmsync.cli.common import Runtime, finite_seconds, global_options

if TYPE_CHECKING:
    from rich.console import Console

STATUS_HELP = """Show an order on both sides — Commerce and Walmart, line by line — and whether they agree.

ORDER is the Commerce order number (increment_id) or the Walmart purchase order id. For every Walmart line:
SKU, quantity, what Commerce shipped or cancelled (with tracking numbers) and Walmart's status per quantity
(with carrier and tracking). Then the verdict:

\b
  in_sync   both sides agree (a partial cancel that wmsync recorded as a
            Commerce comment counts as agreeing)
  pending   not yet: an operation is within its confirmation window, or
            Channel Manager may still push a Commerce change (7 minutes)
  diverged  they disagree: each difference comes with the wmsync command
            that repairs it, or says to fix it by hand

Recent journal entries for the order follow, with Walmart correlation ids and error codes.

Exit: 0 in sync · 6 still pending · 8 diverged · 2 unknown order.
"""


@global_options
def status(
    rt: Runtime,
    order: Annotated[str, typer.Argument(help="Commerce order number or Walmart PO id.")],
    wait: Annotated[bool, typer.Option("--wait", help="Keep looking until the verdict is no longer pending.")] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds --wait keeps looking (default: the confirm timeout, 300).", min=0, callback=finite_seconds
        ),
    ] = None,
) -> None:
    from wmsync.errors import ExitCode
    from wmsync.workflows import status as wf
    from wmsync.workflows.base import check_order_arg

    check_order_arg(order)
    settings = rt.settings(timeout=timeout, no_wait=not wait)
    with rt.out.spinner("reading both sides") as update:
        report = wf.watch(rt.context(settings, progress=update), order)
    doc = report.to_json()
    rt.out.emit(doc, lambda c: render_status(c, doc))
    code = {
        wf.IN_SYNC: ExitCode.OK,
        wf.PENDING_VERDICT: ExitCode.UNCONFIRMED,
        wf.DIVERGED: ExitCode.DIVERGED,
    }[report.verdict]
    if code:
        raise typer.Exit(int(code))


def _commerce_cell(line: dict[str, Any]) -> str:
    c = line["commerce"]
    parts = []
    if c["shipped"]:
        tracks = f" ({', '.join(c['tracking_numbers'])})" if c["tracking_numbers"] else ""
        parts.append(f"{c['shipped']} shipped{tracks}")
    if c["cancelled"]:
        parts.append(f"{c['cancelled']} cancelled")
    return "; ".join(parts) or "open"


def _walmart_cell(line: dict[str, Any]) -> str:
    return "; ".join(
        f"{s['quantity']} {s['status']}"
        + (f" {s['carrier'] or ''} {s['tracking_number']}".replace("  ", " ") if s.get("tracking_number") else "")
        + (f" ({s['cancellation_reason']})" if s.get("cancellation_reason") else "")
        for s in line["walmart_statuses"]
    ) or "-"


def render_status(console: Console, doc: dict[str, Any]) -> None:
    order = doc["order"] if doc["order"] is not None else "(not in Commerce yet)"
    head = (
        f"Order {order} · Walmart PO {doc['purchase_order_id']} · Commerce {doc['commerce_state'] or '?'}"
        f" · Walmart {doc['walmart_status']}"
    )
    if doc.get("shipping_program"):
        head += f" · {doc['shipping_program']}"
    if doc.get("estimated_ship_date"):
        head += f" · estimated ship {doc['estimated_ship_date']}"
    if doc.get("mode") == "channel-manager":
        head += " · channel-manager mode"
    console.print(head, markup=False)
    rows = [
        [ln["line_number"], ln["sku"], str(ln["quantity"]), _commerce_cell(ln), _walmart_cell(ln)]
        for ln in doc["lines"]
    ]
    from wmsync.render import table

    # cells fold at a terminal rather than being cut: tracking numbers and correlation ids must stay whole
    console.print(table(None, ["line", "SKU", "qty", "Commerce", "Walmart"], rows, fold=True))
    verdict = doc["verdict"]
    if verdict == "in_sync":
        console.print("Verdict: in sync ✓", markup=False, style="green")
    elif verdict == "pending":
        console.print("Verdict: pending — not confirmed yet", markup=False, style="yellow")
        for reason in doc["pending_reasons"]:
            console.print(f"  {reason}", markup=False)
    else:
        console.print("Verdict: DIVERGED ✗", markup=False, style="bold red")
    for d in doc["differences"]:
        where = f"line {d['line_number']} " if d.get("line_number") else ""
        mark = "…" if d["pending"] else "✗"
        console.print(f"  {mark} {where}{d['sku']}: {d['what']}", markup=False)
        if not d["pending"]:
            console.print(f"      repair: {d['repair']}", markup=False)
    if doc["repair_commands"]:
        console.print("Repair with:", markup=False, style="bold")
        for cmd in doc["repair_commands"]:
            console.print(f"  {cmd}", markup=False)
    for note in doc["notes"]:
        console.print(f"note: {note}", markup=False, style="dim")
    if doc["history"]:
        console.print("Journal (newest first):", markup=False, style="bold")
        for h in doc["history"]:
            what = h["kind"] + (f" {h['replaces']} →" if h.get("replaces") else "")
            what += f" {h['tracking_number']}" if h.get("tracking_number") else ""
            what += f" ({h['reason']})" if h.get("reason") else ""
            line = f"  {h['created_at']}  {what}  {h['state']}"
            if h.get("error_code"):
                line += f"  {h['error_code']}"
            if h.get("confirm_deadline"):
                line += f"  confirm by {h['confirm_deadline']}"
            console.print(line, markup=False)
            if h["correlation_ids"]:
                console.print("    correlation ids: " + ", ".join(h["correlation_ids"]), markup=False)
            if h.get("error"):
                console.print(f"    error: {h['error']}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("status", help=STATUS_HELP)(status)
