"""A store's ``[timeouts]`` from the config file reach ``wmsync sync`` (unknown_grace and resend_quiet too),
not only the WMSYNC_* environment variables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.batch.conftest import Commerce, po_of, walmart_ship_posts

from wmsync.sandbox import BASE_URL, CREDENTIALS, Sandbox

FEDEX = "700000009901"
STORE = "local"


class LateWrites(httpx.BaseTransport):
    """The first POST matching ``pattern`` times out unapplied; it is applied after ``delay`` further requests
    (a server still busy after the client gave up), or never (``delay`` None)."""

    def __init__(self, inner: httpx.BaseTransport, pattern: str, delay: int | None) -> None:
        self.inner, self.pattern, self.delay = inner, re.compile(pattern), delay
        self.held: httpx.Request | None = None
        self.fired = False
        self.seen = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.held is not None and self.delay is not None:
            self.seen += 1
            if self.seen > self.delay:
                held, self.held = self.held, None
                self.inner.handle_request(held).read()
        if not self.fired and request.method == "POST" and self.pattern.search(request.url.path):
            self.fired = True
            request.read()
            self.held = request
            raise httpx.ReadTimeout("timed out", request=request)
        return self.inner.handle_request(request)


def configure(isolated_env: Path, monkeypatch: pytest.MonkeyPatch, *, grace: float, quiet: float) -> None:
    """A configured store served by the in-process sandbox, whose timeouts come from the config file only."""
    monkeypatch.delenv("WMSYNC_UNKNOWN_GRACE")
    monkeypatch.delenv("WMSYNC_RESEND_QUIET")
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(f"WMSYNC_{STORE.upper()}_{name}", value)
    path = isolated_env / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'default_store = "{STORE}"\n[stores.{STORE}]\ncommerce_url = "{BASE_URL}"\ncommerce_auth = "oauth1"\n'
        f'walmart_url = "{BASE_URL}"\nwalmart_client_id = "{CREDENTIALS["WALMART_CLIENT_ID"]}"\n'
        f"[stores.{STORE}.timeouts]\nunknown_grace = {grace}\nresend_quiet = {quiet}\n"
    )


def serve(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, pattern: str, delay: int | None) -> LateWrites:
    from wmsync.cli import common

    late = LateWrites(sandbox.transport(), pattern, delay)
    monkeypatch.setattr(common.Runtime, "transport_override", late)
    return late


def sync_actions(cli: Any) -> dict[str, list[dict[str, Any]]]:
    r = cli("sync", "--json", "--workers", "1")
    return {o["order"]: o["actions"] for o in r.json()["orders"]}


def test_sync_uses_the_stores_unknown_grace(
    cli: Any, sandbox: Sandbox, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # unknown_grace = 0: one look after the unknown outcome, then exit 5 — the default (30 s) would have seen
    # the late write and reported it confirmed
    configure(isolated_env, monkeypatch, grace=0, quiet=3600)
    commerce = Commerce(sandbox)
    try:
        commerce.ship_all("000000103", FEDEX)
    finally:
        commerce.close()
    serve(monkeypatch, sandbox, rf"/v3/orders/{po_of(sandbox, '000000103')}/shipping$", delay=2)
    ship = sync_actions(cli)["000000103"]
    assert [(a["action"], a["result"], a["exit_code"]) for a in ship] == [("ship", "failed", 5)], ship
    assert "could not tell" in ship[0]["error"]


def test_sync_uses_the_stores_resend_quiet(
    cli: Any, sandbox: Sandbox, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an earlier `wmsync ship` left the Walmart post unknown; resend_quiet = 0 lets sync send it again at once —
    # the default (120 s) would refuse it as possibly still in flight
    configure(isolated_env, monkeypatch, grace=0, quiet=0)
    serve(monkeypatch, sandbox, rf"/v3/orders/{po_of(sandbox, '000000103')}/shipping$", delay=None)
    r = cli("ship", "000000103", "--json", "--carrier", "FedEx", "--tracking", FEDEX)
    assert r.exit_code == 5, r
    assert walmart_ship_posts(sandbox, FEDEX) == 0
    ship = sync_actions(cli)["000000103"]
    assert [(a["action"], a["result"]) for a in ship] == [("ship", "confirmed")], ship
    assert walmart_ship_posts(sandbox, FEDEX) == 1
