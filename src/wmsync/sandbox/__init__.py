"""A stateful simulator of the Walmart Marketplace orders API and the Adobe Commerce admin REST endpoints
wmsync uses, enforcing the rules the real services enforce. Usable in-process (an httpx transport) or over
HTTP (:mod:`wmsync.sandbox.server`). The seeded data is described in ``SEED.md`` next to this file.

Importing this package is cheap: the simulator itself loads on first use of :class:`Sandbox`.

In-process::

    sb = Sandbox(default_db_path())                 # seeds a fresh database
    client = httpx.Client(transport=sb.transport(), base_url=BASE_URL)
    client.get("/rest/default/V1/orders/1", headers={"Authorization": f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"})
    sb.inject_fault("applied_timeout", method="POST", path_regex=r"/shipping$")
    sb.walmart_order(po); sb.commerce_shipments("000000101"); sb.request_log(); sb.write_counts()

Over HTTP: :class:`wmsync.sandbox.server.SandboxServer` (a context manager giving the base URL) or the blocking
:func:`wmsync.sandbox.server.serve`; a control API lives under ``/_sandbox/`` (:mod:`wmsync.sandbox.control`).
Rules enforced: see the docstrings of :mod:`wmsync.sandbox.walmart`, :mod:`wmsync.sandbox.commerce` and
:mod:`wmsync.sandbox.channel_manager`; faults: :data:`FAULT_KINDS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from wmsync.sandbox.constants import BASE_URL, CREDENTIALS, STORE_CODE

if TYPE_CHECKING:
    from wmsync.sandbox.core import LogEntry, Sandbox, SandboxTransport, SandboxWire
    from wmsync.sandbox.settings import FAULT_KINDS, SandboxSettings

__all__ = [
    "BASE_URL",
    "CREDENTIALS",
    "FAULT_KINDS",
    "STORE_CODE",
    "LogEntry",
    "Sandbox",
    "SandboxSettings",
    "SandboxTransport",
    "SandboxWire",
    "default_db_path",
]


def default_db_path() -> Path:
    """``<data dir>/sandbox.sqlite3`` (``$WMSYNC_DATA_DIR`` or the user data directory)."""
    from wmsync.paths import data_dir

    return data_dir() / "sandbox.sqlite3"


_LAZY = {
    "Sandbox": "wmsync.sandbox.core",
    "LogEntry": "wmsync.sandbox.core",
    "SandboxTransport": "wmsync.sandbox.core",
    "SandboxWire": "wmsync.sandbox.core",
    "SandboxSettings": "wmsync.sandbox.settings",
    "FAULT_KINDS": "wmsync.sandbox.settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
