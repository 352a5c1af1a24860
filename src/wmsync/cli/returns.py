"""``wmsync returns [list]`` and ``wmsync returns refund RETURN_ID``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wmsync.cli.common import Runtime, global_options

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(help="Walmart returns of the store's orders.", invoke_without_command=True, no_args_is_help=False)

COLUMNS = ("RETURN", "ORDER", "WALMART PO", "CREATED", "STATUS", "REFUND", "BY", "ITEMS", "RETURN TRACKING")


def _cells(row: dict[str, Any]) -> list[str]:
    items = ", ".join(f"{ln['qty'] or 0:g} × {ln['sku']} ({ln['reason']})" for ln in row["lines"])
    return [str(v) if v not in (None, "") else "-" for v in (
        row["return_order_id"], row["order"], row["purchase_order_id"], row["created_at"], row["status"],
        row["refund_status"], row["refund_by"], items, ", ".join(row["return_tracking"]),
    )]


def _list(rt: Runtime, status: str | None, since: str | None, jsonl: bool) -> None:
    import json as _json
    from datetime import UTC, datetime

    from wmsync.errors import UsageError
    from wmsync.secrets import redact
    from wmsync.timeparse import parse_since
    from wmsync.workflows import returns as wf

    if rt.json_mode and jsonl:
        raise UsageError("--json and --jsonl go separately: pick one")
    choice = status.strip().upper() if status else None
    if choice is not None and choice not in ("INITIATED", "DELIVERED", "COMPLETED", "CANCELLED"):
        raise UsageError(f"--status {status!r}: expected initiated, delivered, completed or cancelled")
    when = parse_since(since, datetime.now(UTC)) if since is not None else None
    rows = wf.list_returns(rt.context(rt.settings()), status=choice, since=when)
    out = sys.stdout
    if jsonl:
        for row in rows:
            out.write(redact(_json.dumps(row, ensure_ascii=False)) + "\n")
        return
    if rt.json_mode:
        rt.out.emit(list(rows))
        return
    from wmsync.render import table

    data = [_cells(r) for r in rows]
    if not out.isatty():
        out.write("\t".join(COLUMNS) + "\n")
        for cells in data:
            out.write(redact("\t".join(c.replace("\t", " ") for c in cells)) + "\n")
    else:
        rt.out.out.print(table("Walmart returns", list(COLUMNS), data))
    rt.out.info(f"{len(data)} return(s)" + (f" {choice}" if choice else ""))


@app.callback()
@global_options
def returns_default(rt: Runtime, ctx: typer.Context) -> None:
    """List the store's Walmart returns (default: `returns list`)."""
    if ctx.invoked_subcommand is None:
        _list(rt, None, None, False)


@app.command("list")
@global_options
def list_cmd(
    rt: Runtime,
    status: Annotated[
        str | None, typer.Option("--status", help="initiated, delivered, completed or cancelled.")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Created since: a date, date-time or duration.")] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")] = False,
) -> None:
    """Walmart return orders: status, lines and reasons, refund state (and who issues it), the customer's return
    tracking, with the Commerce order number."""
    _list(rt, status, since, jsonl)


@app.command("refund")
@global_options
def refund_cmd(
    rt: Runtime,
    return_id: Annotated[str, typer.Argument(help="The Walmart return order id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (required without a terminal).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check only; send nothing.")] = False,
) -> None:
    """Issue the refund of a return Walmart leaves to the seller (refundChannel SELLER_MANUAL_REFUND), once."""
    from wmsync.errors import UsageError
    from wmsync.workflows import returns as wf

    if not yes and not dry_run and not rt.out.interactive:
        raise UsageError("refunding without a terminal needs --yes", hint="nothing was sent")

    def confirm(row: dict[str, Any]) -> bool:
        if yes:
            return True
        rt.out.info(f"About to refund return {row['return_order_id']} ({row['total_refund']}).")
        return bool(typer.confirm("Proceed?", default=False, err=True))

    outcome = wf.refund_return(rt.context(rt.settings(), note=rt.out.note), return_id, dry_run=dry_run,
                               confirm=confirm)
    result = outcome.to_json()

    def human(console: Console) -> None:
        head = {
            "confirmed": "Refund issued and confirmed by Walmart",
            "already_done": "Already refunded — nothing sent",
            "dry_run": "Dry run — nothing sent",
            "pending": "Sent — Walmart does not show it refunded yet",
        }
        console.print(f"{head.get(result['result'], result['result'])}: return {return_id} "
                      f"(PO {result['purchase_order_id']})", markup=False)

    rt.out.emit(result, human)
