"""``wmsync ship``: from a Commerce order to a Walmart-confirmed shipment."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wmsync.cli.common import ConfirmTimeoutOpt, LockTimeoutOpt, Runtime, emit_unconfirmed, global_options

if TYPE_CHECKING:
    from rich.console import Console

SHIP_HELP = """Ship a Walmart order: check everything first, record the shipment in Commerce, post it to Walmart,
and wait until Walmart confirms.

ORDER is the Commerce order number (increment_id) or the Walmart purchase order id. One invocation is one
package: one tracking number for the items given (default: everything still unshipped). Without --carrier and
--tracking, the tracks already recorded on the order's Commerce shipments are sent to Walmart.

Direct mode (default) is for stores where nothing else posts shipments to Walmart. If Channel Manager is
installed, use --via channel-manager (or submit = "channel-manager" in the store config): wmsync then creates
only the Commerce shipment and waits until Walmart shows it.

Exit: 0 confirmed or already done · 2 refused before sending · 4 rejected · 5 unavailable · 6 not confirmed
before the timeout.
"""


def parse_ship_date(value: str | None) -> datetime | None:
    from wmsync.errors import UsageError

    if value is None:
        return None
    try:
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            f"--ship-date {value[:40]!r} is not an ISO 8601 date/time",
            hint="e.g. 2026-11-27T14:30:00Z or 2026-11-27",
        ) from exc


@global_options
def ship(
    rt: Runtime,
    order: Annotated[str | None, typer.Argument(help="Commerce order number or Walmart PO id.")] = None,
    carrier: Annotated[
        str | None, typer.Option(help="Walmart carrier name, or a mapped Commerce carrier.")
    ] = None,
    tracking: Annotated[str | None, typer.Option(help="Tracking number of the package.")] = None,
    method: Annotated[
        str | None, typer.Option(help="Walmart method code (default: the order's own).")
    ] = None,
    tracking_url: Annotated[
        str | None, typer.Option(help="Tracking URL (needed for carriers not on Walmart's list).")
    ] = None,
    item: Annotated[
        list[str] | None, typer.Option("--item", help="SKU[=QTY], repeatable: a partial package.")
    ] = None,
    ship_date: Annotated[str | None, typer.Option(help="ISO 8601 ship time (default: now).")] = None,
    via: Annotated[
        str | None, typer.Option(help="direct or channel-manager (default: the store's submit setting).")
    ] = None,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Return 'pending' right after sending.")] = False,
    timeout: ConfirmTimeoutOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and the exact requests; send nothing.")
    ] = False,
    override_intent_to_cancel: Annotated[
        bool, typer.Option("--override-intent-to-cancel", help="Ship lines the customer asked to cancel.")
    ] = False,
    skip_format_check: Annotated[
        bool, typer.Option("--skip-format-check", help="Skip only the per-carrier tracking format check.")
    ] = False,
    replaces: Annotated[
        str | None,
        typer.Option(
            "--replaces",
            help="Correct a tracking number: the package shipped under this number now has --tracking (Walmart "
            "and Commerce).",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Multi-Source Inventory source the package leaves from (default: the store's source_code, else "
            "Commerce's source selection).",
        ),
    ] = None,
    lock_timeout: LockTimeoutOpt = 60.0,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            help="Ship many packages from a CSV or JSON Lines file ('-' = stdin).",
            allow_dash=True,
        ),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="With --from-file: run the valid rows even if some are invalid."),
    ] = False,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="With --from-file: one JSON line per row as it finishes.")
    ] = False,
) -> None:
    from wmsync.errors import UnconfirmedError, UsageError
    from wmsync.workflows import ship as wf
    from wmsync.workflows.base import check_order_arg, parse_items

    if from_file is not None and (order or carrier or tracking or item or tracking_url or method):
        raise UsageError("--from-file takes the orders, carriers and tracking numbers from the file",
                         hint="give either ORDER with --carrier/--tracking, or --from-file, not both")
    if from_file is None and (jsonl or skip_invalid):
        raise UsageError("--jsonl and --skip-invalid go with --from-file")
    if from_file is not None:
        from wmsync.cli.batch import run_ship_file

        run_ship_file(
            rt,
            from_file,
            skip_invalid=skip_invalid,
            jsonl=jsonl,
            dry_run=dry_run,
            timeout=timeout,
            no_wait=no_wait,
            lock_timeout=lock_timeout,
            via=via,
            override_intent_to_cancel=override_intent_to_cancel,
            skip_format_check=skip_format_check,
            ship_date=parse_ship_date(ship_date),
            source=source,
        )
        return
    if order is None:
        raise UsageError("missing ORDER", hint="wmsync ship ORDER --carrier UPS --tracking 1Z...")
    check_order_arg(order)
    if replaces is not None:
        _retrack(rt, order, carrier, tracking, replaces, tracking_url=tracking_url, item=item, dry_run=dry_run,
                 skip_format_check=skip_format_check, lock_timeout=lock_timeout)
        return
    items = parse_items(item or [])
    when = parse_ship_date(ship_date)
    st = rt.store()
    mode = via or st.config.submit
    if mode not in ("direct", "channel-manager"):
        raise UsageError(f"--via {mode!r}: expected direct or channel-manager")
    settings = rt.settings(timeout=timeout, no_wait=no_wait)
    req = wf.ShipRequest(
        order=order,
        carrier=carrier,
        tracking=tracking,
        method=method,
        tracking_url=tracking_url,
        items=items or None,
        ship_date=when,
        via=mode,  # type: ignore[arg-type]
        override_intent_to_cancel=override_intent_to_cancel,
        skip_format_check=skip_format_check,
        source=source,
    )
    with rt.out.spinner("reading the order") as update:
        ctx = rt.context(settings, progress=update, note=rt.out.note)
        try:
            outcome = wf.execute(ctx, req, dry_run=dry_run, lock_timeout=lock_timeout)
        except UnconfirmedError as exc:
            emit_unconfirmed(rt, exc, render_ship)
    result = outcome.to_json()
    rt.out.emit(result, lambda c: render_ship(c, result))


def _retrack(rt: Runtime, order: str, carrier: str | None, tracking: str | None, replaces: str, *,
             tracking_url: str | None, item: list[str] | None, dry_run: bool, skip_format_check: bool,
             lock_timeout: float) -> None:
    """``ship ORDER --carrier C --tracking NEW --replaces OLD``: the tracking correction."""
    from wmsync.errors import UsageError
    from wmsync.workflows import retrack

    if not carrier or not tracking:
        raise UsageError("--replaces goes with --carrier and --tracking (the new number)",
                         hint=f"wmsync ship {order} --carrier UPS --tracking NEW --replaces {replaces}")
    if item:
        raise UsageError("--replaces corrects the whole package shipped under the old number; --item does not apply")
    req = retrack.RetrackRequest(order=order, carrier=carrier, tracking=tracking, replaces=replaces,
                                 tracking_url=tracking_url, skip_format_check=skip_format_check)
    with rt.out.spinner("reading the order") as update:
        ctx = rt.context(rt.settings(), progress=update, note=rt.out.note)
        outcome = retrack.execute(ctx, req, dry_run=dry_run, lock_timeout=lock_timeout)
    result = outcome.to_json()

    def human(console: Console) -> None:
        head = {
            "confirmed": "Tracking number corrected",
            "already_done": "Already corrected — nothing sent",
            "dry_run": "Dry run — nothing sent",
        }.get(result["result"], result["result"])
        sides = {"walmart_retrack": "Walmart", "commerce_add_track": "Commerce", "commerce_delete_track": "Commerce"}
        changed = sorted({sides[s] for s in result["sent"] if s in sides})
        console.print(
            f"{head}: order {result['order']} (PO {result['purchase_order_id']}) — {result['replaces']} → "
            f"{result['carrier']} {result['tracking_number']}"
            + (f" (changed on {' and '.join(changed)})" if changed else ""),
            markup=False,
        )
        if result["result"] == "dry_run":
            render_requests(console, result.get("requests", []))
        render_lines(console, result.get("lines", []))

    rt.out.emit(result, human)


def ship_headline(result: dict[str, Any]) -> str:
    """What happened, from the result and the writes this run made (``sent``): never "confirmed by Walmart"
    unless Walmart showed it, never "sent" when an earlier run sent it."""
    res, sent = result["result"], set(result.get("sent") or ())
    commerce, walmart = "commerce_ship" in sent, "walmart_ship" in sent
    created = "Commerce shipment created; " if commerce else ""
    if res == "dry_run":
        return "Dry run — nothing sent"
    if result.get("via") == "channel-manager":
        if res == "confirmed":
            return created + "Walmart shows it (posted by Channel Manager)"
        if res == "pending":
            return created + "Walmart confirmation pending (Channel Manager posts it)"
        return created + "Walmart had it already" if commerce else "Already done — nothing sent"
    if res == "confirmed":
        if walmart:
            return "Shipped and confirmed by Walmart" + ("" if commerce else " (the Commerce shipment existed)")
        if commerce:
            return created + "Walmart had it already"
        return "Confirmed by Walmart — an earlier run sent it; nothing sent again"
    if res == "pending":
        if walmart:
            return created + "sent to Walmart; Walmart confirmation pending"
        return created + "Walmart confirmation pending (an earlier run sent it; nothing sent to Walmart again)"
    if res == "already_done":
        return created + "Walmart had it already" if commerce else "Already done — nothing sent"
    return str(res)


def render_ship(console: Console, result: dict[str, Any]) -> None:
    res = result["result"]
    head = ship_headline(result)
    tracking = f" — {result['carrier']} {result['tracking_number']}" if result.get("tracking_number") else ""
    console.print(
        f"{head}: order {result['order']} (PO {result['purchase_order_id']}){tracking}", markup=False
    )
    for check in result.get("checks", []):
        console.print(f"  ✓ {check}", markup=False)
    for pkg in result.get("packages", []):
        console.print(f"  package {pkg['carrier']} {pkg['tracking_number']}: {pkg['result']}", markup=False)
    if res == "dry_run":
        render_requests(console, result.get("requests", []))
    render_lines(console, result.get("lines", []))


def render_requests(console: Console, requests: list[dict[str, Any]]) -> None:
    import json as _json

    for r in requests:
        console.print(f"  would send {r['service']} {r['method']} {r['path']}", markup=False)
        if r.get("body") is not None:
            console.print("    " + _json.dumps(r["body"]), markup=False, soft_wrap=True)
    if not requests:
        console.print("  nothing to send", markup=False)


def render_lines(console: Console, lines: list[dict[str, Any]]) -> None:
    from wmsync.render import table

    rows = []
    for line in lines:
        statuses = "; ".join(
            f"{s['quantity']} {s['status']}"
            + (f" {s['carrier']} {s['tracking_number']}" if s.get("tracking_number") else "")
            + (f" ({s['cancellation_reason']})" if s.get("cancellation_reason") else "")
            for s in line["walmart_statuses"]
        )
        rows.append([line["line_number"], line["sku"], str(line["quantity"]), statuses])
    if rows:
        console.print(table(None, ["line", "SKU", "qty", "Walmart"], rows))


def register(app: typer.Typer) -> None:
    app.command("ship", help=SHIP_HELP)(ship)
