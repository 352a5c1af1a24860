"""``wmsync orders list``: the store's Walmart orders, newest first, each compared with Walmart — streamed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wmsync.cli.common import Runtime, global_options, streamed

if TYPE_CHECKING:
    from wmsync.workflows.status import ListStats

app = typer.Typer(help="Walmart orders in the store.", invoke_without_command=True, no_args_is_help=False)

LIST_HELP = """List Commerce orders that carry a Walmart purchase order, newest first, with Walmart's status, the
verdict of `wmsync status` (in_sync, pending, diverged) and Walmart's estimated ship date.

Only orders whose PO field (po_field) holds a Walmart PO number (po_pattern) that Walmart knows are shown;
other channels' orders never are.

--status at-risk lists orders with units still open whose estimated ship date is within --margin (default: the
store's at_risk_margin, 4h) or past. PROGRAM is Walmart's shipping program (TWO_DAY, ONE_DAY, …).

\b
Auto-cancel risk (Walmart cancels lines not shipped by the estimated ship date + 4 days):
  at-risk     units still open after the estimated ship date
  IMMINENT    units still open within a day of the auto-cancel time (or past it)

--since takes a date (2026-03-16), a date-time (2026-03-16T10:30:00Z) or a duration back from now (30m, 2h, 3d,
1w). Rows are printed as they are read: the first appear before the last page is fetched, and memory stays flat
however many orders match. --json prints one JSON array, --jsonl one JSON object per line.
"""

STATUS_CHOICES = "awaiting-shipment|partially-shipped|shipped|cancelled|diverged|at-risk|all"

# fixed-width human columns: (header, key, width)
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("ORDER", "order", 11),
    ("WALMART PO", "purchase_order_id", 16),
    ("CREATED", "created_at", 20),
    ("COMMERCE", "commerce_state", 11),
    ("WALMART", "walmart_status", 17),
    ("VERDICT", "verdict", 9),
    ("EST. SHIP", "estimated_ship_date", 20),
    ("PROGRAM", "shipping_program", 9),
    ("RISK", "risk", 8),
)
FULFILMENT_MARK = {"WFSFulfilled": "WFS", "3PLFulfilled": "3PL"}
RISK_LABEL = {"at_risk": "at-risk", "auto_cancel_imminent": "IMMINENT"}


def _cell(value: Any, width: int) -> str:
    text = "-" if value in (None, "") else str(value)
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.ljust(width)


def human_header() -> str:
    return " ".join(_cell(h, w) for h, _k, w in COLUMNS).rstrip()


def human_line(row: dict[str, Any]) -> str:
    cells = []
    for _h, key, width in COLUMNS:
        value = row.get(key)
        if key == "risk":
            value = RISK_LABEL.get(value or "", value)
        cells.append(_cell(value, width))
    line = " ".join(cells).rstrip()
    mark = FULFILMENT_MARK.get(row.get("fulfilment") or "")
    return f"{line}  [{mark}]" if mark else line


def plain_header() -> str:
    return "\t".join([h for h, _k, _w in COLUMNS] + ["FULFILMENT"])


def plain_line(row: dict[str, Any]) -> str:
    cells = []
    for _h, key, _w in COLUMNS:
        value = row.get(key)
        if key == "risk":
            value = RISK_LABEL.get(value or "", value)
        cells.append("-" if value in (None, "") else str(value).replace("\t", " ").replace("\n", " "))
    cells.append(FULFILMENT_MARK.get(row.get("fulfilment") or "", "-"))
    return "\t".join(cells)


@global_options
def list_orders(
    rt: Runtime,
    status: Annotated[str, typer.Option("--status", help=f"Which orders: {STATUS_CHOICES}.")] = "all",
    since: Annotated[
        str | None, typer.Option("--since", help="Created since: a date, date-time or duration (2h, 3d, 1w).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows (0 = no limit).", min=0)] = 100,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line (for large outputs).")] = False,
    fulfilment: Annotated[
        str,
        typer.Option(
            "--fulfilment",
            help="seller: orders the seller fulfils (default); all: also those Walmart (WFS) or a 3PL fulfils, "
            "marked.",
        ),
    ] = "seller",
    margin: Annotated[
        str | None,
        typer.Option("--margin", help="--status at-risk: due within this long (30m, 4h, 1d); default at_risk_margin."),
    ] = None,
) -> None:
    _list_orders(rt, status, since, limit, jsonl, fulfilment, margin)


@app.callback()
@global_options
def orders_default(rt: Runtime, ctx: typer.Context) -> None:
    """List the store's Walmart orders (default: `orders list` with its defaults)."""
    if ctx.invoked_subcommand is None:
        _list_orders(rt, "all", None, 100, False, "seller")


def _list_orders(
    rt: Runtime, status: str, since: str | None, limit: int, jsonl: bool, fulfilment: str, margin: str | None = None
) -> None:
    from datetime import UTC, datetime

    from wmsync.errors import UsageError
    from wmsync.timeparse import parse_since
    from wmsync.workflows import status as wf

    choice = status.strip().lower()
    if choice not in wf.STATUS_FILTERS:
        raise UsageError(f"--status {status!r}: expected one of {STATUS_CHOICES}")
    who = fulfilment.strip().lower()
    if who not in wf.FULFILMENT_FILTERS:
        raise UsageError(f"--fulfilment {fulfilment!r}: expected seller or all")
    if rt.json_mode and jsonl:
        raise UsageError("--json and --jsonl go separately: pick one")
    mode = "jsonl" if jsonl else "json" if rt.json_mode else "human"
    rt.json_mode = rt.json_mode or jsonl
    when = parse_since(since, datetime.now(UTC)) if since is not None else None
    from wmsync.timeparse import parse_duration

    raw_margin = margin if margin is not None else rt.store().config.at_risk_margin
    margin_td = parse_duration(raw_margin) if raw_margin.strip() != "0" else parse_duration("0s")
    if margin_td is None:
        raise UsageError(f"--margin {raw_margin!r}: expected a duration such as 30m, 4h or 1d")
    stats = wf.ListStats()
    ctx = rt.context(rt.settings())
    rows = wf.list_orders(ctx, since=when, status=choice, limit=limit or None, stats=stats, fulfilment=who,
                          margin=margin_td.total_seconds())
    streamed(rt, lambda: stream(rows, mode))
    summary(rt, stats, choice)


def stream(rows: Iterator[dict[str, Any]], mode: str) -> None:
    """Write rows as they come: a JSON array element by element, JSON lines, or fixed-width lines."""
    import json as _json

    from wmsync.secrets import redact

    out = sys.stdout
    if mode == "json":
        out.write("[")
        first = True
        try:
            for row in rows:
                out.write(("\n  " if first else ",\n  ") + redact(_json.dumps(row, ensure_ascii=False)))
                out.flush()
                first = False
        finally:
            out.write("\n]\n" if not first else "]\n")
            out.flush()
        return
    if mode == "jsonl":
        for row in rows:
            out.write(redact(_json.dumps(row, ensure_ascii=False)) + "\n")
            out.flush()
        return
    # through a pipe or into a file: tab-separated cells, never cut to a column width (like gh)
    plain = not out.isatty()
    header = False
    for row in rows:
        if not header:
            out.write((plain_header() if plain else human_header()) + "\n")
            header = True
        out.write(redact(plain_line(row) if plain else human_line(row)) + "\n")
        out.flush()


def summary(rt: Runtime, stats: ListStats, status: str) -> None:
    what = "orders" if status == "all" else f"{status} orders"
    rt.out.note(f"{stats.shown} {what} shown ({stats.commerce_orders} Commerce orders read)")
    if stats.other_channel:
        rt.out.note(f"{stats.other_channel} order(s) with another channel's number in the PO field skipped")
    if stats.not_on_walmart:
        shown = ", ".join(stats.not_on_walmart_sample) + (" …" if stats.not_on_walmart > 5 else "")
        rt.out.note(f"{stats.not_on_walmart} order(s) whose PO-like number Walmart does not know skipped: {shown}")
    if stats.other_fulfilment:
        rt.out.note(
            f"{stats.other_fulfilment} order(s) fulfilled by Walmart or a 3PL left out (not the seller's to ship); "
            "--fulfilment all shows them"
        )


app.command("list", help=LIST_HELP)(list_orders)
