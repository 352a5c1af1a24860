"""The command line. ``main`` answers ``wmsync --version`` before loading anything else, so scripts that check
the version pay only for Python's own start-up."""

from __future__ import annotations

import os
import sys

# Plain help text: Typer's rich help loads rich.markdown, rich.syntax and rich.traceback (~55 ms), which would
# make `wmsync --help` about 3x slower than importing Typer. Set TYPER_USE_RICH=1 to get the boxed style back.
os.environ.setdefault("TYPER_USE_RICH", "0")


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from wmsync import __version__

        sys.stdout.write(f"wmsync {__version__}\n")
        return
    from wmsync.cli.app import main as run_main

    run_main()
