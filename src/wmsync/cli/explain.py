"""``wmsync explain CODE``: what a Walmart or Commerce error, or a wmsync exit code, means and what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from wmsync.cli.common import Runtime, global_options

if TYPE_CHECKING:
    from rich.console import Console

EXPLAIN_HELP = """Explain an error: a Walmart error code (INVALID_REQUEST_CONTENT, with or without a suffix such as
.GMP_ORDER_API), a Walmart or Commerce error message (a fragment is enough, e.g. "is in SHIPPED status" or
"The order does not allow a shipment to be created."), Commerce's `false` to a cancel, an HTTP status
(429, 520, 423, 5xx, also "HTTP 502"), or a wmsync exit code (0-8, 130). Works offline.

Exit: 0 explained · 2 unknown code (with close matches).
"""


@global_options
def explain(
    rt: Runtime,
    code: Annotated[list[str], typer.Argument(help="Error code, message or exit code.", show_default=False)],
) -> None:
    from wmsync import explain as table
    from wmsync.errors import UsageError

    query = " ".join(code).strip()
    match = table.lookup(query)
    if match is None:
        close = table.suggestions(query)
        raise UsageError(
            f"unknown error code or message {query[:80]!r}",
            hint=("did you mean " + " or ".join(close) + "? " if close else "")
            + "known codes: " + ", ".join(table.known()),
        )
    doc = match.to_json()
    rt.out.emit(doc, lambda c: render(c, doc))


def render(console: Console, doc: dict[str, Any]) -> None:
    status = f" (HTTP {doc['http_status']})" if doc.get("http_status") is not None else ""
    if doc["source"] == "HTTP status":
        status = ""
    console.print(f"{doc['source']} {doc['code']}{status}", markup=False, style="bold")
    if doc.get("suffix"):
        console.print(f"  .{doc['suffix']}: {doc['suffix_meaning']}", markup=False)
    console.print(doc["meaning"], markup=False)
    if doc["what_to_do"]:
        console.print("What to do:", markup=False, style="bold")
        for step in doc["what_to_do"]:
            console.print(f"  • {step}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("explain", help=EXPLAIN_HELP)(explain)
