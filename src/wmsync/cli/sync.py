"""``wmsync sync``: push what Walmart is missing, report what wmsync must not fix — for cron."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from wmsync.cli.common import ConfirmTimeoutOpt, LockTimeoutOpt, Runtime, global_options

if TYPE_CHECKING:
    from rich.console import Console

    from wmsync.walmart.client import WalmartClient
    from wmsync.workflows.context import Context

SYNC_HELP = """Reconcile Commerce and Walmart: what Channel Manager does in the background, for cron.

Reads the Commerce orders with a Walmart PO changed since --since (default: since the start of the last
successful sync of this store, kept in the journal, so missed runs are covered; first run: the last 7 days),
the Walmart orders changed in that time, and the orders an earlier run left outstanding. Then, per order:

\b
- Commerce shipments Walmart does not have yet are sent (exactly
  `wmsync ship ORDER`); not in channel-manager mode, where Channel
  Manager sends them.
- A Commerce order cancelled while its Walmart lines are open is
  cancelled on Walmart only when the store sets default_cancel_reason
  (Commerce keeps no reason); otherwise it is reported.
- Anything else that differs (shipped or cancelled on Walmart only, a
  shipment with several tracking numbers, a tracking number failing its
  check, ...) is reported with its repair; sync does not fix it.

Safe to run twice or concurrently: what the journal records as done is not read again, and another run's
orders are waited for (--lock-timeout), then left for the next run.

Exit: 0 all in sync · 7 some push failed (re-run retries) · 8 orders disagree in ways wmsync must not fix ·
5 a listing failed (nothing advanced).
"""


@global_options
def sync(
    rt: Runtime,
    since: Annotated[
        str | None,
        typer.Option(help="Start of the window: a date/date-time (UTC) or a duration back from now (2h, 3d)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and plan; send nothing.")] = False,
    lock_timeout: LockTimeoutOpt = 30.0,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Do not wait for Walmart's confirmation.")] = False,
    timeout: ConfirmTimeoutOpt = None,
    workers: Annotated[
        int | None, typer.Option(help="Orders worked on at once (default 8, or WMSYNC_BATCH_WORKERS).", min=1,
                                 max=32)
    ] = None,
) -> None:
    from datetime import UTC, datetime

    from wmsync.cli.batch import RowIds, RowWalmart, ThreadJournals, workers_setting
    from wmsync.timeparse import parse_since
    from wmsync.workflows import sync as wf

    when = parse_since(since, datetime.now(UTC)) if since is not None else None
    walmart = rt.walmart()
    rt.commerce()
    journal = rt.journal()
    ids = RowIds()
    walmart.http.tracers.append(ids)
    journals = ThreadJournals(journal)
    opts = wf.SyncOptions(since=when, dry_run=dry_run, lock_timeout=lock_timeout, workers=workers or workers_setting())
    settings = rt.settings(timeout=timeout, no_wait=no_wait)

    def for_order(ctx: Context) -> Context:
        return ctx.with_(journal=journals.get(), walmart=cast("WalmartClient", RowWalmart(walmart, ids.start())))

    try:
        with rt.out.spinner("syncing") as update:
            report = wf.run_sync(rt.context(settings, progress=update), opts, for_order=for_order)
    finally:
        journals.close()
    data = report.to_json()
    rt.out.emit(data, lambda c: render(c, data))
    rt.out.info(summary_text(data))
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def summary_text(data: dict[str, Any]) -> str:
    s = data["summary"]
    parts = [f"{s[k]} {label}" for k, label in (
        ("shipped", "shipped"), ("cancelled", "cancelled on Walmart"), ("already_done", "already done"),
        ("pending", "pending"), ("dry_run", "planned (dry run)"), ("failed", "failed"),
        ("skipped", "skipped (another run)"), ("diverged", "need attention"),
    ) if s.get(k)]
    text = (f"sync {data['window_start']} → {data['until']}: {s['commerce_orders']} Commerce order(s) changed, "
            f"{s['walmart_changed']} Walmart order(s) changed, {s['checked']} checked")
    text += ("; " + ", ".join(parts)) if parts else "; nothing to do"
    if data.get("next_since"):
        text += f"; next run starts at {data['window_start'] if data['dry_run'] else data['next_since']}"
    return text


def render(console: Console, data: dict[str, Any]) -> None:
    from rich.markup import escape

    for r in data["orders"]:
        head = f"order {r['order']} (PO {r['purchase_order_id']}): {r['verdict']}"
        console.print(escape(head))
        for a in r["actions"]:
            line = f"  {a['action']}: {a['result']}" + (f" — {a['error']}" if a.get("error") else "")
            console.print(escape(line))
        for d in r["differences"]:
            console.print(escape(f"  {'(pending) ' if d.get('pending') else ''}{d['what']}"))
            console.print(escape(f"    → {d['repair']}"), style="dim")


def register(app: typer.Typer) -> None:
    app.command("sync", help=SYNC_HELP)(sync)
