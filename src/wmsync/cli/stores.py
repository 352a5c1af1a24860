"""``wmsync stores``: list, add, remove and check store connections."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wmsync.cli.common import Runtime, global_options

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    help="Configured store connections (Commerce URL + Walmart seller account), and a live check of each.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@app.callback()
@global_options
def stores_default(
    rt: Runtime,
    ctx: typer.Context,
) -> None:
    """List the stores (default), add, remove or check them."""
    if ctx.invoked_subcommand is None:
        _list(rt)


def _rows(rt: Runtime) -> list[dict[str, Any]]:
    from wmsync.secrets import SecretResolver, names_for

    conf = rt.config()
    rows = []
    for name, st in conf.stores.items():
        resolver = SecretResolver(name, store_count=len(conf.stores))
        secrets = {}
        for secret in names_for(st.commerce_auth) + (("STATE_PASSWORD",) if st.state else ()):
            found = resolver.lookup(secret)
            secrets[secret] = {"source": found.source, "where": found.where}
        rows.append(
            {
                "name": name,
                "default": conf.default_store == name or (conf.default_store is None and len(conf.stores) == 1),
                "commerce_url": st.commerce_url,
                "commerce_store_code": st.commerce_store_code,
                "commerce_auth": st.commerce_auth,
                "walmart_url": st.walmart_url,
                "walmart_client_id": st.walmart_client_id,
                "po_field": st.po_field,
                "submit": st.submit,
                "secrets": secrets,
            }
        )
    return rows


@app.command("list")
@global_options
def list_stores(
    rt: Runtime,
) -> None:
    """Show each store: URLs, auth kind, and where each secret comes from (env/keyring/missing) — never its value."""
    _list(rt)


def _list(rt: Runtime) -> None:
    rows = _rows(rt)
    # --store / WMSYNC_STORE narrows the list to that store when it is configured; any other value (the built-in
    # sandbox, a store of another config file) must not make the list say there are no stores
    if rt.store_option and any(r["name"] == rt.store_option for r in rows):
        rows = [r for r in rows if r["name"] == rt.store_option]

    def human(console: Console) -> None:
        from wmsync.render import table

        if not rows:
            console.print(f"No stores configured in {rt.config_path}.", markup=False)
        else:
            data = []
            for r in rows:
                secrets = "\n".join(f"{k}: {v['source']}" for k, v in r["secrets"].items())
                data.append([
                    r["name"] + (" (default)" if r["default"] else ""),
                    f"{r['commerce_url']} [{r['commerce_store_code']}]",
                    r["commerce_auth"],
                    f"{r['walmart_url']}\nclient id {r['walmart_client_id']}",
                    secrets,
                ])
            console.print(table(f"Stores in {rt.config_path}", ["store", "Commerce", "auth", "Walmart",
                                                                  "secrets (source)"], data))
        console.print("Built-in: sandbox (a local simulator; use --store sandbox)", markup=False, style="dim")
        missing = [(r["name"], k, v["where"]) for r in rows for k, v in r["secrets"].items()
                   if v["source"] == "missing"]
        for name, secret, where in missing:
            console.print(f"{name}: {secret} missing — set {where}", markup=False, style="yellow")

    rt.out.emit(rows, human)


def _read_secrets_stdin(allowed: tuple[str, ...]) -> dict[str, str]:
    from wmsync.errors import UsageError

    values: dict[str, str] = {}
    for lineno, raw in enumerate(sys.stdin.read().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise UsageError(f"--secrets-stdin line {lineno}: expected NAME=value")
        key, value = line.split("=", 1)
        key = key.strip()
        if key.startswith("WMSYNC_"):
            key = key[len("WMSYNC_"):]
        if key not in allowed:
            raise UsageError(f"--secrets-stdin line {lineno}: unknown secret name {key!r}",
                             hint="expected one of: " + ", ".join(allowed))
        values[key] = value.strip()
    return values


@app.command("add")
@global_options
def add(
    rt: Runtime,
    name: Annotated[str, typer.Argument(help="Store name, e.g. 'us'.")],
    commerce_url: Annotated[str, typer.Option(help="Commerce base URL, e.g. https://shop.example.com")],
    walmart_client_id: Annotated[str, typer.Option(help="Walmart API client id (not secret).")],
    commerce_store_code: Annotated[str, typer.Option(help="Commerce store view code in /rest/<code>/V1.")] = "default",
    commerce_auth: Annotated[str, typer.Option(help="oauth1 (works everywhere) or bearer.")] = "oauth1",
    walmart_url: Annotated[str, typer.Option(help="Walmart API base URL.")] = "https://marketplace.walmartapis.com",
    po_field: Annotated[str, typer.Option(help="Commerce order field holding the Walmart PO.")] = "ext_order_id",
    submit: Annotated[str, typer.Option(help="direct or channel-manager.")] = "direct",
    make_default: Annotated[bool, typer.Option("--default", help="Make it the default store.")] = False,
    secrets_stdin: Annotated[
        bool, typer.Option("--secrets-stdin", help="Read secrets as NAME=value lines from stdin.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing store of that name.")] = False,
) -> None:
    """Add a store. Secrets go to the system keyring (hidden prompt, or --secrets-stdin); where there is no
    keyring, set them as environment variables — the names are printed."""
    from wmsync import config as cfg
    from wmsync.errors import UsageError
    from wmsync.records import ValidationError
    from wmsync.secrets import env_name, keyring_available, keyring_set, names_for, register_secret

    conf = rt.config()
    if name in conf.stores and not force:
        raise UsageError(f"a store named {name!r} already exists", hint="pass --force to replace it")
    try:
        st = cfg.StoreConfig(
            commerce_url=commerce_url,
            commerce_store_code=commerce_store_code,
            commerce_auth=commerce_auth,  # type: ignore[arg-type]  # checked by the record
            walmart_url=walmart_url,
            walmart_client_id=walmart_client_id,
            po_field=po_field,
            submit=submit,  # type: ignore[arg-type]  # checked by the record
        )
        stores = dict(conf.stores)
        stores[name] = st
        default = name if make_default or (conf.default_store is None and not conf.stores) else conf.default_store
        new = cfg.Config(default_store=default, stores=stores)
    except ValidationError as exc:
        raise UsageError(f"store {name!r}: {cfg._first_error(exc)}") from exc

    names = names_for(st.commerce_auth)
    supplied: dict[str, str] = {}
    if secrets_stdin:
        supplied = _read_secrets_stdin(names)
        for value in supplied.values():
            register_secret(value)
    has_keyring = keyring_available()
    stored: list[str] = []
    if has_keyring:
        if not secrets_stdin and rt.out.interactive:
            for secret in names:
                value = typer.prompt(f"{secret} (hidden, Enter to skip)", default="", hide_input=True,
                                     show_default=False)
                if value:
                    register_secret(value)
                    supplied[secret] = value
        for secret, value in supplied.items():
            keyring_set(name, secret, value)
            stored.append(secret)
    cfg.save(new, rt.config_path)
    env_vars = [env_name(name, s) for s in names if s not in stored]
    result = {
        "store": name,
        "config_file": str(rt.config_path),
        "keyring": has_keyring,
        "stored_in_keyring": stored,
        "set_environment_variables": env_vars,
    }

    def human(console: Console) -> None:
        console.print(f"Saved store {name!r} to {rt.config_path}.", markup=False)
        if stored:
            console.print("Stored in the keyring: " + ", ".join(stored), markup=False)
        if supplied and not has_keyring:
            console.print("No keyring backend on this machine: the secrets given were NOT stored "
                          "(wmsync never writes secrets to a file).", markup=False, style="yellow")
        if env_vars:
            console.print("Set these environment variables (e.g. in the cron job's environment):", markup=False)
            for var in env_vars:
                console.print(f"  export {var}=...", markup=False)
        console.print(f"Then check the connection: wmsync stores check {name}", markup=False)

    rt.out.emit(result, human)


@app.command("remove")
@global_options
def remove(
    rt: Runtime,
    name: Annotated[str, typer.Argument(help="Store name.")],
) -> None:
    """Remove a store from the config file, and its keyring entries."""
    from wmsync import config as cfg
    from wmsync.errors import UsageError
    from wmsync.secrets import ALL_NAMES, keyring_delete

    conf = rt.config()
    if name not in conf.stores:
        raise UsageError(f"no store named {name!r} in {rt.config_path}")
    stores = {k: v for k, v in conf.stores.items() if k != name}
    default = conf.default_store if conf.default_store != name else None
    cfg.save(cfg.Config(default_store=default, stores=stores), rt.config_path)
    deleted = keyring_delete(name, ALL_NAMES)
    result = {"store": name, "removed": True, "keyring_entries_deleted": deleted}
    rt.out.emit(result, lambda c: c.print(f"Removed store {name!r}"
                                          + (f" and {len(deleted)} keyring entries." if deleted else "."),
                                          markup=False))


def _check_one(rt: Runtime) -> dict[str, Any]:
    """Live check of the current store: Commerce one-order search; Walmart token and token detail."""
    import email.utils

    from wmsync.errors import AuthError, ConfigError, WmsyncError

    st = rt.store()
    result: dict[str, Any] = {"store": st.name, "commerce": {}, "walmart": {}, "exit_code": 0}
    codes: list[int] = []

    def skew(date_header: str | None) -> float | None:
        if not date_header:
            return None
        try:
            server = email.utils.parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError):
            return None
        import time

        return round(time.time() - server, 1)

    # Commerce
    c: dict[str, Any] = {"url": st.config.commerce_url, "auth": st.config.commerce_auth}
    try:
        client = rt.commerce()
        from wmsync.commerce.client import Filter

        list(client.search_orders([[Filter(st.config.po_field, None, "notnull")]], page_size=1, limit=1))
        c.update(reachable=True, authenticated=True, orders_readable=True)
        c["clock_skew_seconds"] = skew(client.http.last_date_header)
        try:  # Multi-Source Inventory: which sources a shipment may name (read again by ship within the hour)
            sources = client.msi_sources()
            c["inventory_sources"] = [code for code, on in sources if on] if sources is not None else None
        except WmsyncError as exc:
            c["inventory_sources"] = None
            c["inventory_error"] = exc.message
    except ConfigError as exc:
        # a missing secret or a bad setting: nothing was sent, so whether it is reachable is not known
        c.update(reachable=None, authenticated=False, error=exc.message)
        codes.append(int(exc.exit_code))
    except WmsyncError as exc:
        reachable = getattr(exc, "status", None) is not None
        c.update(reachable=reachable, authenticated=reachable and getattr(exc, "status", 0) not in (401, 403),
                 error=exc.message)
        codes.append(int(exc.exit_code))
    result["commerce"] = c

    # Walmart
    w: dict[str, Any] = {"url": st.config.walmart_url, "client_id": st.config.walmart_client_id}
    try:
        wm = rt.walmart()
        wm.token()
        w.update(reachable=True, authenticated=True)
        detail = wm.token_detail()
        scopes = detail.get("scopes") if isinstance(detail.get("scopes"), dict) else {}
        w["orders_scope"] = scopes.get("orders") if scopes else None
        w["token_valid"] = detail.get("is_valid", detail.get("isValid"))
        w["clock_skew_seconds"] = skew(wm.http.last_date_header)
        if w["orders_scope"] not in (None, "full_access"):
            w["error"] = f"the API key's orders scope is {w['orders_scope']!r}; shipping needs full_access"
            codes.append(3)
    except ConfigError as exc:
        # AuthError: Walmart answered and refused the credentials; otherwise (a missing secret) nothing was sent
        w.update(reachable=True if isinstance(exc, AuthError) else w.get("reachable"), authenticated=False,
                 error=exc.message)
        codes.append(int(exc.exit_code))
    except WmsyncError as exc:
        # keep what the token request already established; a later call failing does not undo it
        w.setdefault("reachable", getattr(exc, "status", None) is not None)
        w.setdefault("authenticated", False)
        w["error"] = exc.message
        codes.append(int(exc.exit_code))
    result["walmart"] = w

    # the shared state database (state = "mysql://…"): reachable, this user's schema, and a lock can be taken
    if st.config.state:
        state: dict[str, Any] = {"url": st.config.state}
        try:
            journal = rt.journal()
            from wmsync.journal_mysql import MySQLJournal

            if isinstance(journal, MySQLJournal):
                state["reachable"] = True
                state["schema_version"] = journal.schema_version
                probe = f"check:{st.name}"
                state["locks"] = journal.acquire(st.name, probe, ttl=10, wait=2)
                if state["locks"]:
                    journal.release(st.name, probe)
        except WmsyncError as exc:
            state.update(reachable=False, error=exc.message)
            codes.append(int(exc.exit_code))
        result["state"] = state
    from wmsync.errors import worst

    # 3 (credentials) and 5 (unreachable) are the documented outcomes of a check
    result["exit_code"] = worst([code if code in (0, 3, 5) else 5 for code in codes]) if codes else 0
    return result


@app.command("check")
@global_options
def check(
    rt: Runtime,
    name: Annotated[str | None, typer.Argument(help="Store to check (default: every configured store).")] = None,
) -> None:
    """Live check: reachability, authentication, order scope and clock skew. Exit 0 ok, 3 credentials, 5
    unreachable."""
    from wmsync.errors import worst
    from wmsync.secrets import redact

    base = rt
    names: list[str]
    if name or rt.store_option:
        names = [name or rt.store_option or ""]
    else:
        conf = base.config()
        names = list(conf.stores) or []
        if not names:
            from wmsync.errors import ConfigError

            raise ConfigError(f"no store is configured (config file: {base.config_path})",
                              hint="add one with `wmsync stores add`, or check the sandbox: "
                              "wmsync stores check sandbox")
    results = []
    for n in names:
        one = Runtime.create(n, base.config_option, base.json_mode, base.verbose, base.trace_file)
        one._config = None if n == "sandbox" else base.config()
        one._tracers = base.tracers()  # one trace file for the whole run, not one per store overwriting the last
        results.append(_check_one(one))
        one.close()

    def human(console: Console) -> None:
        for r in results:
            ok = r["exit_code"] == 0
            console.print(f"{r['store']}: {'OK' if ok else 'FAILED'}", markup=False,
                          style="green" if ok else "red")
            for side in ("commerce", "walmart"):
                info = r[side]
                def word(value: object) -> str:
                    if value is None:
                        return "not tried"
                    return "yes" if value is True else "no" if value is False else str(value)

                parts = [f"reachable: {word(info.get('reachable'))}", f"auth: {word(info.get('authenticated'))}"]
                if side == "walmart":
                    parts.append(f"orders scope: {info.get('orders_scope') or 'unknown'}")
                if info.get("clock_skew_seconds") is not None:
                    parts.append(f"clock skew: {info['clock_skew_seconds']}s")
                console.print(f"  {side}: {info.get('url')}  " + " ".join(parts), markup=False)
                if info.get("error"):
                    # service messages can echo what was sent (a proxy's error page): mask secrets and tokens
                    console.print(redact(f"    {info['error']}"), markup=False, style="yellow")

    base.out.emit(results, human)
    code = worst(r["exit_code"] for r in results)
    if code:
        raise typer.Exit(code)

