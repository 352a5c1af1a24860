"""The ``Examples:`` block at the end of each command's help: commands a newcomer can paste on the sandbox."""

from __future__ import annotations

import inspect

import typer

EXAMPLES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("ship",): (
        "wmsync ship 000000104 --carrier UPS --tracking 1Z999AA10123456784 --store sandbox",
        "wmsync ship 000000104 --item WM-BOTTLE-005=1 --carrier FedEx --tracking 612999999999 --dry-run",
        "wmsync ship --from-file shipments.csv --json",
    ),
    ("cancel",): (
        "wmsync cancel 000000104 --reason out-of-stock --store sandbox --yes",
        "wmsync cancel 000000104 --item WM-BOTTLE-005=1 --reason pricing-error --yes",
        "wmsync cancel --list-reasons",
    ),
    ("status",): (
        "wmsync status 000000104 --store sandbox",
        "wmsync status 000000104 --wait --timeout 300",
    ),
    ("sync",): (
        "wmsync sync --since 1d --dry-run --store sandbox",
        "wmsync sync --since 2h --json",
    ),
    ("explain",): (
        "wmsync explain INVALID_REQUEST_CONTENT.GMP_ORDER_API",
        "wmsync explain 429",
        "wmsync explain 8",
    ),
    ("orders", "list"): (
        "wmsync orders list --store sandbox",
        "wmsync orders list --status awaiting-shipment --since 3d",
        "wmsync orders list --jsonl --limit 0",
    ),
    ("stores", "list"): ("wmsync stores list", "wmsync stores list --json"),
    ("stores", "add"): (
        "wmsync stores add us --commerce-url https://shop.example.com --walmart-client-id CLIENT_ID --default",
    ),
    ("stores", "remove"): ("wmsync stores remove us",),
    ("stores", "check"): ("wmsync stores check sandbox", "wmsync stores check us --json"),
    ("carriers", "list"): ("wmsync carriers list", "wmsync carriers list --json"),
    ("carriers", "check"): ("wmsync carriers check --store us",),
    ("sandbox", "serve"): ("wmsync sandbox serve --port 8780", "wmsync sandbox serve --fault-rate 0.2"),
    ("sandbox", "reset"): ("wmsync sandbox reset", "wmsync sandbox reset --orders 500 --seed 7"),
    ("sandbox", "configure"): ("wmsync sandbox configure --help",),
}


def block(lines: tuple[str, ...]) -> str:
    # \b keeps click from re-wrapping the lines
    return "\n\n\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def _add(info: typer.models.CommandInfo, path: tuple[str, ...]) -> None:
    lines = EXAMPLES.get(path)
    if not lines:
        return
    base = info.help if info.help is not None else inspect.getdoc(info.callback) or ""
    info.help = base.rstrip() + block(lines)


def attach_commands(infos: list[typer.models.CommandInfo], group: tuple[str, ...]) -> None:
    """Append the examples of these commands (of ``group``, () for top-level ones) to their help."""
    for info in infos:
        if info.name:
            _add(info, (*group, info.name))

