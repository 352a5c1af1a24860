"""The command line. ``main`` answers ``wmsync --version`` before loading anything else, so scripts that check
the version pay only for Python's own start-up."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from wmsync import __version__

        sys.stdout.write(f"wmsync {__version__}\n")
        return
    from wmsync.cli.app import main as run_main

    run_main()
