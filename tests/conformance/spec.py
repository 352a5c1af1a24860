"""Conformance checker: validate request and response bodies against the official API schemas.

Specs are read, untouched, from ``<repo root>/../shared/specs`` (override with ``$WMSYNC_SPECS_DIR``).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SPECS_ENV = "WMSYNC_SPECS_DIR"

WALMART_ORDERS_FILE = "walmart/walmart-marketplace-orders-openapi-original.yml"
WALMART_AUTH_FILE = "walmart/walmart-marketplace-authentication-openapi-original.yml"
COMMERCE_FILE = "commerce/admin-schema-2.4.9.yaml"


def specs_dir() -> Path:
    """The directory holding the official specs (may not exist: see :func:`specs_missing_reason`)."""
    env = os.environ.get(SPECS_ENV)
    if env:
        return Path(env).expanduser()
    return REPO_ROOT.parent / "shared" / "specs"


def specs_missing_reason() -> str | None:
    """None when every spec file this module needs is present, else a human-readable reason."""
    base = specs_dir()
    missing = [
        name
        for name in (WALMART_ORDERS_FILE, WALMART_AUTH_FILE, COMMERCE_FILE)
        if not (base / name).is_file()
    ]
    if missing:
        return f"official specs not found under {base} (missing {', '.join(missing)}; set ${SPECS_ENV})"
    return None
