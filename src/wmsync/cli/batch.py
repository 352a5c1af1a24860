"""``ship --from-file`` and ``cancel --from-file``: batches (not available yet)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wmsync.cli.common import Runtime
from wmsync.errors import UsageError


def run_ship_file(rt: Runtime, path: Path, **options: Any) -> None:  # noqa: ARG001
    raise UsageError("--from-file is not available in this version yet")


def run_cancel_file(rt: Runtime, path: Path, **options: Any) -> None:  # noqa: ARG001
    raise UsageError("--from-file is not available in this version yet")
