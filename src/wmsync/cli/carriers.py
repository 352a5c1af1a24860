"""``wmsync carriers``: Walmart's carrier list, and a check of the store's carrier mapping against it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from wmsync.cli.common import Runtime, global_options

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    help="Walmart's carriers (from the official spec, plus the store's extra_carriers) and a check of the "
    "store's [carriers] mapping.",
    invoke_without_command=True,
)


def _extra(rt: Runtime) -> list[str]:
    if rt.store_option is None:
        try:
            return list(rt.store().config.extra_carriers)
        except Exception:
            return []
    return list(rt.store().config.extra_carriers)


@app.callback()
@global_options
def carriers_default(
    rt: Runtime,
    ctx: typer.Context,
) -> None:
    """List Walmart's carriers (default), or `check` the store's mapping."""
    if ctx.invoked_subcommand is None:
        _list_carriers(rt)


@app.command("list")
@global_options
def list_carriers(
    rt: Runtime,
) -> None:
    """Walmart's carrier names, exact spelling (the spec's list plus the store's extra_carriers)."""
    _list_carriers(rt)


def _list_carriers(rt: Runtime) -> None:
    from wmsync.walmart import enums, rules

    extra = _extra(rt)
    spec = set(enums.carriers())
    data = [
        {"carrier": c, "source": "spec" if c in spec else "extra_carriers",
         "format_checked": c.casefold() in {f.casefold() for f in rules.format_checked_carriers()}}
        for c in rules.all_carriers(extra)
    ]

    def human(console: Console) -> None:
        from wmsync.render import table

        rows = [[d["carrier"], d["source"], "yes" if d["format_checked"] else ""] for d in data]
        console.print(table(f"Walmart carriers ({len(data)})", ["carrier", "source", "tracking format check"],
                            rows))
        console.print("Carriers not on the list go as otherCarrier and need a tracking URL.", markup=False,
                      style="dim")

    rt.out.emit(data, human)


@app.command("check")
@global_options
def check(
    rt: Runtime,
) -> None:
    """Validate the store's [carriers] mapping against Walmart's list. Exit 3 when an entry is wrong."""
    from wmsync.walmart import rules

    st = rt.store()
    mapping: dict[str, Any] = {}
    for key, value in st.config.carriers.items():
        mapping[key] = value if isinstance(value, str) else rules.CarrierMapping(value.other, value.tracking_url)
    problems = rules.check_carrier_mapping(mapping, st.config.extra_carriers)
    data = [
        {"key": p.key, "kind": p.kind, "severity": p.severity, "message": p.message,
         "suggestions": list(p.suggestions), "target": p.target}
        for p in problems
    ]

    def human(console: Console) -> None:
        if not data:
            console.print(f"Store {st.name!r} has no [carriers] mapping; Magento's ups, usps, fedex and dhl map "
                          "without one.", markup=False)
        for d in data:
            mark = "ok" if d["severity"] == "ok" else d["severity"]
            console.print(f"{mark:7} {d['key']!r}: {d['message']}", markup=False,
                          style="green" if mark == "ok" else "yellow" if mark == "warning" else "red")

    rt.out.emit({"store": st.name, "entries": data}, human)
    if any(d["severity"] == "error" for d in data):
        raise typer.Exit(3)
