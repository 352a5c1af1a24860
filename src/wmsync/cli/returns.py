"""``wmsync returns [list]`` and ``wmsync returns refund RETURN_ID``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wmsync.cli.common import Runtime, emit_unconfirmed, global_options, streamed

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(help="Walmart returns of the store's orders.", invoke_without_command=True, no_args_is_help=False)

STATUS_CHOICES = "open|initiated|delivered|completed|cancelled|all"

LIST_HELP = f"""List Walmart's return orders for the store, newest first, with the Commerce order number beside each:
Walmart's status, lines (SKU, quantity, the customer's reason), the refund state and who issues the refund
(BY: seller = yours, `wmsync returns refund RETURN_ID`; walmart = Walmart refunds it), and the customer's return
tracking.

\b
--status ({STATUS_CHOICES}):
  open        on its way back or at the return center
  initiated   on its way back (Walmart INITIATED)
  delivered   at the return center (Walmart DELIVERED): the seller refunds these
  completed   refunded (Walmart COMPLETED)
  cancelled   cancelled before completion (Walmart COMPLETED with RETURN_CANCELLED)

--since takes a date (2026-03-16), a date-time or a duration back from now (30m, 2h, 3d, 1w): returns created
since then. Every page of Walmart's listing is read. Through a pipe or into a file the table is tab-separated;
--json prints one JSON array, --jsonl one JSON object per line.
"""

REFUND_HELP = """Issue the refund of a Walmart return whose refund Walmart leaves to the seller (refundChannel
SELLER_MANUAL_REFUND), for every unit delivered to the return center and not refunded yet — once.

Refused before anything is sent (exit 2): a return Walmart refunds itself, a WFS order's return (view only), a
cancelled return, one still on its way back. A return already refunded is `already_done` (nothing sent). Asks
before sending on a terminal; without a terminal --yes is required. --dry-run prints the request.
"""

# human columns: (header, width)
COLUMNS: tuple[tuple[str, int], ...] = (
    ("RETURN", 13), ("ORDER", 10), ("WALMART PO", 16), ("CREATED", 20), ("STATUS", 10), ("STATE", 10),
    ("REFUND", 16), ("BY", 7), ("ITEMS", 40), ("RETURN TRACKING", 22),
)


def _cells(row: dict[str, Any]) -> list[str]:
    items = ", ".join(f"{ln['qty'] or 0:g} × {ln['sku']} ({ln['reason']})" for ln in row["lines"])
    created = (row["created_at"] or "")[:19].replace("T", " ") or None
    values = (row["return_order_id"], row["order"], row["purchase_order_id"], created, row["status"], row["state"],
              row["refund_status"], row["refund_by"], items, ", ".join(row["return_tracking"]))
    return ["-" if v in (None, "") else str(v).replace("\t", " ").replace("\n", " ") for v in values]


def _fit(text: str, width: int) -> str:
    return (text[: width - 1] + "…" if len(text) > width else text).ljust(width)


def _stream(rows: Iterator[dict[str, Any]], mode: str) -> int:
    """Write the rows as they come; returns how many."""
    import json as _json

    from wmsync.secrets import redact

    out = sys.stdout
    n = 0
    if mode == "json":
        out.write("[")
        try:
            for row in rows:
                out.write(("\n  " if n == 0 else ",\n  ") + redact(_json.dumps(row, ensure_ascii=False)))
                out.flush()
                n += 1
        finally:
            out.write("\n]\n" if n else "]\n")
            out.flush()
        return n
    if mode == "jsonl":
        for row in rows:
            out.write(redact(_json.dumps(row, ensure_ascii=False)) + "\n")
            out.flush()
            n += 1
        return n
    plain = not out.isatty()  # through a pipe or into a file: tab-separated, never cut (like orders list)
    for row in rows:
        if n == 0:
            header = "\t".join(h for h, _w in COLUMNS) if plain else " ".join(_fit(h, w) for h, w in COLUMNS)
            out.write(header.rstrip() + "\n")
        cells = _cells(row)
        line = "\t".join(cells) if plain else " ".join(_fit(c, w) for c, (_h, w) in zip(cells, COLUMNS, strict=True))
        out.write(redact(line.rstrip()) + "\n")
        out.flush()
        n += 1
    return n


def _list(rt: Runtime, status: str, since: str | None, jsonl: bool) -> None:
    from datetime import UTC, datetime

    from wmsync.errors import UsageError
    from wmsync.timeparse import parse_since
    from wmsync.workflows import returns as wf

    if rt.json_mode and jsonl:
        raise UsageError("--json and --jsonl go separately: pick one")
    choice = status.strip().lower()
    if choice not in wf.STATUS_FILTERS:
        raise UsageError(f"--status {status!r}: expected one of {STATUS_CHOICES}")
    when = parse_since(since, datetime.now(UTC)) if since is not None else None
    mode = "jsonl" if jsonl else "json" if rt.json_mode else "human"
    rt.json_mode = rt.json_mode or jsonl
    rows = wf.list_returns(rt.context(rt.settings()), status=choice, since=when)
    n = streamed(rt, lambda: _stream(rows, mode))
    what = "returns" if choice == "all" else f"{choice} returns"
    rt.out.note(f"{n} {what} shown")


@app.callback()
@global_options
def returns_default(rt: Runtime, ctx: typer.Context) -> None:
    """List the store's Walmart returns (default: `returns list`)."""
    if ctx.invoked_subcommand is None:
        _list(rt, "all", None, False)


@global_options
def list_cmd(
    rt: Runtime,
    status: Annotated[str, typer.Option("--status", help=f"Which returns: {STATUS_CHOICES}.")] = "all",
    since: Annotated[str | None, typer.Option("--since", help="Created since: a date, date-time or duration.")] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")] = False,
) -> None:
    _list(rt, status, since, jsonl)


@global_options
def refund_cmd(
    rt: Runtime,
    return_id: Annotated[str, typer.Argument(help="The Walmart return order id (RMA number).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (required without a terminal).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the request; send nothing.")] = False,
) -> None:
    from wmsync.errors import UnconfirmedError, UsageError
    from wmsync.walmart.returns import ReturnOrder
    from wmsync.workflows import returns as wf

    return_id = return_id.strip()
    if not return_id or any(c.isspace() or c == "/" for c in return_id):
        raise UsageError(f"{return_id!r} is not a Walmart return order id", hint="`wmsync returns` lists them")
    if not yes and not dry_run and not rt.out.interactive:
        raise UsageError("refunding without a terminal needs --yes", hint="nothing was sent")

    def confirm(ret: ReturnOrder) -> bool:
        if yes:
            return True
        what = ", ".join(f"{ln.refundable} × {ln.sku}" for ln in ret.lines if ln.refundable)
        rt.out.info(f"About to refund Walmart return {ret.return_order_id} (PO {ret.purchase_order_id}): {what}.")
        return bool(typer.confirm("Proceed?", default=False, err=True))

    ctx = rt.context(rt.settings(), note=rt.out.note)
    try:
        outcome = wf.refund_return(ctx, return_id, dry_run=dry_run, confirm=confirm)
    except UnconfirmedError as exc:
        emit_unconfirmed(rt, exc, render_refund)
    result = outcome.to_json()
    rt.out.emit(result, lambda c: render_refund(c, result))


def render_refund(console: Console, result: dict[str, Any]) -> None:
    from wmsync.cli.ship import render_requests

    head = {
        "confirmed": "Refund issued and confirmed by Walmart",
        "already_done": "Already refunded — nothing sent",
        "dry_run": "Dry run — nothing sent",
        "pending": "Sent — Walmart does not show the refund yet",
    }.get(result["result"], result["result"])
    order = f"order {result['order']}, " if result.get("order") else ""
    console.print(f"{head}: return {result['return_order_id']} ({order}PO {result['purchase_order_id']})",
                  markup=False)
    if result["result"] == "dry_run":
        render_requests(console, result.get("requests", []))
    for ln in result["return"]["lines"]:
        console.print(f"  line {ln['line_number']}: {ln['qty']:g} × {ln['sku']} ({ln['reason']}) — {ln['status']}, "
                      f"{ln['refunded_qty']:g} refunded", markup=False)


app.command("list", help=LIST_HELP)(list_cmd)
app.command("refund", help=REFUND_HELP)(refund_cmd)
