"""placeholder"""

from __future__ import annotations

import typer

app = typer.Typer(help="(in progress)")
