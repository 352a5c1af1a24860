"""Functions the ``wmsync sandbox`` commands call: serve, reset, state, and a config snippet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wmsync.sandbox.constants import CREDENTIALS, STORE_CODE
from wmsync.sandbox.server import serve

__all__ = ["config_snippet", "reset", "serve", "state"]


def _open(db_path: Path | None) -> Any:
    from wmsync.sandbox import default_db_path
    from wmsync.sandbox.core import Sandbox

    return Sandbox(Path(db_path) if db_path is not None else default_db_path())


def reset(orders: int | None = None, seed: int = 0, *, db_path: Path | None = None) -> dict[str, Any]:
    """Reseed the sandbox database; returns its summary."""
    sb = _open(db_path)
    try:
        sb.reset(orders=orders, seed=seed)
        summary: dict[str, Any] = sb.summary()
        return summary
    finally:
        sb.close()


def state(db_path: Path | None = None) -> dict[str, Any]:
    """The sandbox summary (counts, settings, Channel Manager events, writes per operation)."""
    sb = _open(db_path)
    try:
        summary: dict[str, Any] = sb.summary()
        return summary
    finally:
        sb.close()


def config_snippet(base_url: str, store_name: str = "local") -> str:
    """A config block and the matching environment variables for a sandbox served at ``base_url``."""
    env_store = "".join(c if c.isalnum() else "_" for c in store_name).upper()
    lines = [
        f"# wmsync config for the sandbox at {base_url} (store name: {store_name})",
        f"[stores.{store_name}]",
        f'commerce_url = "{base_url}"',
        f'commerce_store_code = "{STORE_CODE}"',
        'commerce_auth = "oauth1"',
        f'walmart_url = "{base_url}"',
        f'walmart_client_id = "{CREDENTIALS["WALMART_CLIENT_ID"]}"',
        "",
        "# its secrets (public, sandbox-only values):",
    ]
    for name in (
        "COMMERCE_CONSUMER_KEY",
        "COMMERCE_CONSUMER_SECRET",
        "COMMERCE_ACCESS_TOKEN",
        "COMMERCE_ACCESS_TOKEN_SECRET",
        "WALMART_CLIENT_SECRET",
    ):
        lines.append(f"export WMSYNC_{env_store}_{name}={CREDENTIALS[name]}")
    return "\n".join(lines)
