"""Documents for Stoplight Prism, generated from the untouched official specs.

Prism takes one document per process and ignores a Swagger 2.0 ``basePath``, so:

- the Walmart document is the orders spec with the authentication spec merged in (``/v3/token``,
  ``/v3/token/detail``, ``/v3/orders...``);
- the Commerce document is ``admin-schema-2.4.9.yaml`` pruned to the operations wmsync calls, with every path
  prefixed by ``/rest/{store}``.

Every change from the official files is a :class:`Deviation` in ``conformance.errata.DEVIATIONS`` (the one
place listing them, shared with the body checker), applied here by code.

Command line: ``python tests/prism/overlay.py OUTDIR`` writes ``walmart.json`` and ``commerce.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `conformance` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance.errata import COMMERCE_OPERATIONS, DEVIATIONS, Deviation, apply_deviations, deviations_for
from conformance.spec import load_document

__all__ = [
    "COMMERCE_OPERATIONS",
    "DEVIATIONS",
    "DOCUMENT_FILES",
    "Deviation",
    "commerce_document",
    "deviations_for",
    "walmart_document",
    "write_documents",
]

DOCUMENT_FILES = {"walmart": "walmart.json", "commerce": "commerce.json"}


def walmart_document() -> dict[str, Any]:
    """Orders + authentication, errata corrected (OpenAPI 3.0.1)."""
    return apply_deviations(load_document("walmart-orders"), "prism-walmart")


def commerce_document() -> dict[str, Any]:
    """Commerce admin schema 2.4.9, pruned and prefixed with /rest/{store} (Swagger 2.0)."""
    return apply_deviations(load_document("commerce"), "prism-commerce")


def write_documents(directory: Path) -> dict[str, Path]:
    """Write both documents as JSON into ``directory``; returns {"walmart": path, "commerce": path}."""
    directory.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for name, build in (("walmart", walmart_document), ("commerce", commerce_document)):
        path = directory / DOCUMENT_FILES[name]
        path.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        out[name] = path
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: overlay.py OUTDIR\n")
        return 2
    for name, path in write_documents(Path(argv[0])).items():
        sys.stdout.write(f"{name}: {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
