"""``wmsync sandbox``: the built-in simulator of the Commerce and Walmart endpoints wmsync uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from wmsync.cli.common import Runtime, global_options

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    help="The built-in sandbox: a stateful simulator of Commerce and Walmart (state in the user data dir). "
    "Use it with --store sandbox, or serve it over HTTP on loopback.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@app.callback()
def sandbox_default(ctx: typer.Context) -> None:
    """Without a subcommand: this help (exit 0)."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())



def _open() -> Any:
    from wmsync.sandbox import Sandbox, default_db_path

    return Sandbox(default_db_path())


@app.command("reset")
@global_options
def reset(
    rt: Runtime,
    orders: Annotated[int | None, typer.Option(help="Add N generated orders (for benchmarks).", min=0,
                                               max=100_000)] = None,
    seed: Annotated[int, typer.Option(help="Random seed for generated orders.")] = 0,
) -> None:
    """Reseed the sandbox: the fixed demo orders (plus N generated ones). Also forgets the journal entries and
    cached token of the sandbox store."""
    sb = _open()
    try:
        sb.reset(orders=orders, seed=seed)
        summary = sb.summary()
    finally:
        sb.close()
    _forget_sandbox_journal()
    data = {"reset": True, "db": str(_db_path()), **summary}
    rt.out.emit(data, lambda c: c.print(
        f"Sandbox reset ({_db_path()}): {summary.get('commerce_orders', '?')} Commerce orders, "
        f"{summary.get('walmart_orders', '?')} Walmart purchase orders.", markup=False))


def _db_path() -> Any:
    from wmsync.sandbox import default_db_path

    return default_db_path()


def _forget_sandbox_journal() -> None:
    """The sandbox's ids start over after a reset; so does the journal of the sandbox store."""
    import sqlite3

    from wmsync.journal import default_journal_path
    from wmsync.paths import cache_dir

    path = default_journal_path()
    if path.exists():
        db = sqlite3.connect(path)
        try:
            for table, column in (("steps", "op_id IN (SELECT id FROM operations WHERE store='sandbox')"),
                                  ("operations", "store='sandbox'"), ("leases", "store='sandbox'"),
                                  ("meta", "store='sandbox'")):
                try:
                    db.execute(f"DELETE FROM {table} WHERE {column}")
                except sqlite3.OperationalError:
                    continue
            db.commit()
        finally:
            db.close()
    tokens = cache_dir() / "tokens"
    if tokens.is_dir():
        for f in tokens.glob("walmart-token-*.json"):
            f.unlink(missing_ok=True)


@app.command("configure")
@global_options
def configure(
    rt: Runtime,
    channel_manager: Annotated[bool | None, typer.Option("--channel-manager/--no-channel-manager",
                                                         help="Simulate an installed Channel Manager.")] = None,
    walmart_delay: Annotated[float | None, typer.Option(help="Channel Manager's delay in seconds.", min=0)] = None,
    latency_ms: Annotated[int | None, typer.Option(help="Latency added to every request.", min=0)] = None,
    fault_rate: Annotated[float | None, typer.Option(help="Share of requests faulted (0-1).", min=0, max=1)] = None,
    token_ttl: Annotated[int | None, typer.Option(help="Walmart token lifetime in seconds.", min=1)] = None,
    ship_rate_per_min: Annotated[int | None, typer.Option(help="Walmart ship/cancel limit per minute.", min=1)
                                 ] = None,
) -> None:
    """Change the sandbox's settings (kept in its database, so the in-process store sees them too)."""
    changes = {k: v for k, v in {
        "channel_manager": channel_manager, "walmart_delay": walmart_delay, "latency_ms": latency_ms,
        "fault_rate": fault_rate, "token_ttl": token_ttl, "ship_rate_per_min": ship_rate_per_min,
    }.items() if v is not None}
    sb = _open()
    try:
        settings = sb.update_settings(**changes) if changes else sb.load_settings()
    finally:
        sb.close()
    data = settings.to_dict()
    rt.out.emit(data, lambda c: _print_settings(c, data))


def _print_settings(console: Console, data: dict[str, Any]) -> None:
    for key, value in data.items():
        console.print(f"{key} = {value}", markup=False)


def snippet(base_url: str) -> str:
    from wmsync.sandbox import CREDENTIALS, STORE_CODE

    return "\n".join([
        "# wmsync config for this sandbox server (store name: local)",
        "[stores.local]",
        f'commerce_url = "{base_url}"',
        f'commerce_store_code = "{STORE_CODE}"',
        'commerce_auth = "oauth1"',
        f'walmart_url = "{base_url}"',
        f'walmart_client_id = "{CREDENTIALS["WALMART_CLIENT_ID"]}"',
        "",
        "# and its (public, sandbox-only) secrets:",
        *[f"export WMSYNC_LOCAL_{k}={v}" for k, v in CREDENTIALS.items()
          if k.startswith(("COMMERCE_CONSUMER", "COMMERCE_ACCESS", "WALMART_CLIENT_SECRET"))],
    ])


@app.command("serve")
@global_options
def serve(
    rt: Runtime,
    host: Annotated[str, typer.Option(help="Loopback address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 = a free one).", min=0, max=65535)] = 0,
    latency_ms: Annotated[int | None, typer.Option(help="Latency added to every request.", min=0)] = None,
    fault_rate: Annotated[float | None, typer.Option(help="Share of requests faulted (0-1).", min=0, max=1)] = None,
    walmart_delay: Annotated[float | None, typer.Option(help="Channel Manager's delay in seconds.", min=0)] = None,
    token_ttl: Annotated[int | None, typer.Option(help="Walmart token lifetime in seconds.", min=1)] = None,
    ship_rate_per_min: Annotated[int | None, typer.Option(help="Walmart ship/cancel limit per minute.", min=1)
                                 ] = None,
    channel_manager: Annotated[bool, typer.Option("--channel-manager", help="Simulate an installed Channel "
                                                                           "Manager.")] = False,
    seed: Annotated[int | None, typer.Option(help="Seed of the fault generator.")] = None,
) -> None:
    """Serve both APIs on loopback (Commerce under /rest/…, Walmart under /v3/…) until Ctrl-C or SIGTERM.
    Prints the base URL and a ready-to-use config snippet."""
    import sys

    from wmsync.config import is_loopback_host
    from wmsync.errors import UsageError
    from wmsync.sandbox import server

    if not is_loopback_host(host):
        raise UsageError(f"--host {host!r} is not a loopback address; the sandbox only listens on loopback")
    overrides: dict[str, Any] = {k: v for k, v in {
        "latency_ms": latency_ms, "fault_rate": fault_rate, "walmart_delay": walmart_delay,
        "token_ttl": token_ttl, "ship_rate_per_min": ship_rate_per_min, "seed": seed,
    }.items() if v is not None}
    if channel_manager:
        overrides["channel_manager"] = True

    def ready(base_url: str) -> None:
        if rt.json_mode:
            rt.out.json_line({"base_url": base_url, "commerce_url": base_url, "walmart_url": base_url,
                              "db": str(_db_path())})
        else:
            sys.stdout.write(f"Sandbox listening on {base_url}\n  Commerce: {base_url}/rest/default/V1/...\n"
                             f"  Walmart:  {base_url}/v3/...\n\n{snippet(base_url)}\n")
            sys.stdout.flush()
        rt.out.note("Ctrl-C or SIGTERM stops it.")

    try:
        server.serve(_db_path(), host=host, port=port, overrides=overrides, on_ready=ready)
    except OSError as exc:
        import errno

        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is already in use",
                             hint="pick another --port, or --port 0 for a free one") from exc
        raise
