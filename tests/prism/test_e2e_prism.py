"""End to end through Stoplight Prism: the real commands run against ``wmsync sandbox serve`` with a Prism
proxy (``--errors``) for Walmart and one for Commerce in front of it, so any request wmsync sends or any
response the sandbox returns that breaks the official specs fails the test (Prism answers 422/500 and the
command fails), and warnings in Prism's log fail it too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from prism.harness import PrismProcess
from wmsync.sandbox import CREDENTIALS, Sandbox
from wmsync.sandbox.server import SandboxServer

pytestmark = pytest.mark.prism

UPS = "1ZW1X2Y30390010006"


@dataclass
class Stack:
    sandbox: Sandbox
    walmart: PrismProcess
    commerce: PrismProcess
    config: Path

    def problems(self) -> list[str]:
        found = []
        for proxy in (self.walmart, self.commerce):
            for line in proxy.log_text().splitlines():
                # errors (✖: a request or response broke the spec) and warnings (⚠: e.g. an undeclared status)
                if re.search(r"violation|✖|⚠|warning", line, re.IGNORECASE):
                    found.append(line.strip())
        return found


@pytest.fixture(scope="module")
def stack(prism_bin: Path, prism_documents: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("prism-e2e")
    sandbox = Sandbox(base / "sandbox.sqlite3")
    # the schema declares the ship answer as an integer (Magento sends a string; wmsync takes both)
    sandbox.update_settings(ship_id_as_string=False)
    server = SandboxServer(sandbox)
    upstream = server.start()
    walmart = PrismProcess.start(prism_documents["walmart"], upstream, prism=prism_bin, log_dir=base)
    commerce = PrismProcess.start(prism_documents["commerce"], upstream, prism=prism_bin, log_dir=base)
    # Prism rewrites the Host header: tell the sandbox which URL the OAuth 1.0a signatures were made for
    sandbox.update_settings(oauth_base_urls=(commerce.url,))
    config = base / "config.toml"
    config.write_text(
        "[stores.local]\n"
        f'commerce_url = "{commerce.url}"\n'
        f'walmart_url = "{walmart.url}"\n'
        f'walmart_client_id = "{CREDENTIALS["WALMART_CLIENT_ID"]}"\n'
    )
    try:
        yield Stack(sandbox, walmart, commerce, config)
    finally:
        walmart.stop()
        commerce.stop()
        server.stop()
        sandbox.close()


@pytest.fixture
def run(cli: Any, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(f"WMSYNC_LOCAL_{key}", value)

    def invoke(*args: str) -> Any:
        return cli(*args, "--config", str(stack.config), "--json")

    return invoke


def _ok(result: Any, stack: Stack) -> dict[str, Any]:
    assert result.exit_code == 0, result
    assert stack.problems() == []
    data: dict[str, Any] = result.json()
    return data


def test_stores_check(run: Any, stack: Stack) -> None:
    _ok(run("stores", "check", "local"), stack)


def test_ship_single_line_and_rerun(run: Any, stack: Stack) -> None:
    assert _ok(run("ship", "000000101", "--carrier", "UPS", "--tracking", UPS), stack)["result"] == "confirmed"
    assert _ok(run("ship", "000000101", "--carrier", "UPS", "--tracking", UPS), stack)["result"] == "already_done"


def test_ship_acknowledges_created_lines(run: Any, stack: Stack) -> None:
    doc = _ok(run("ship", "000000113", "--carrier", "FedEx", "--tracking", "123456789012"), stack)
    assert doc["result"] == "confirmed"


def test_ship_partial_split_and_other_carrier(run: Any, stack: Stack) -> None:
    sku = stack.sandbox.commerce_order("000000104")["items"][0]["sku"]  # type: ignore[index]
    _ok(run("ship", "000000104", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010015", "--item", f"{sku}=2"),
        stack)
    _ok(run("ship", "000000104", "--carrier", "Acme Freight", "--tracking", "AF12345678",
            "--tracking-url", "https://acme.example/t/AF12345678"), stack)


def test_ship_tracks_recorded_in_commerce(run: Any, stack: Stack) -> None:
    _ok(run("ship", "000000117"), stack)


def test_cancel_whole_and_partial(run: Any, stack: Stack) -> None:
    assert _ok(run("cancel", "000000124", "--reason", "out-of-stock", "--yes"), stack)["result"] == "confirmed"
    sku = stack.sandbox.commerce_order("000000118")["items"][0]["sku"]  # type: ignore[index]
    _ok(run("cancel", "000000118", "--reason", "pricing-error", "--item", f"{sku}=1", "--yes"), stack)


def test_refusals_send_nothing_through_prism(run: Any, stack: Stack) -> None:
    r = run("ship", "000000101", "--carrier", "UPPS", "--tracking", UPS)
    assert r.exit_code == 2
    assert stack.problems() == []


def test_status_and_orders_list(run: Any, stack: Stack) -> None:
    _ok(run("ship", "000000127", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010051"), stack)
    assert _ok(run("status", "000000127"), stack)["verdict"] == "in_sync"
    r = run("status", "000000116")  # shipped on Walmart only: diverged, exit 8
    assert r.exit_code == 8, r
    assert stack.problems() == []
    rows = run("orders", "list", "--limit", "40")
    assert rows.exit_code == 0, rows
    assert stack.problems() == []
    orders = {row["order"] for row in rows.json()}
    assert "000000127" in orders
    assert "000000112" not in orders  # another channel's number in the PO field
    # the WFS and 3PL orders are listed by their ship node type (a query parameter of the orders spec)
    lists = [e.query for e in stack.sandbox.request_log() if e.operation == "walmart.list"]
    assert any("shipNodeType=WFSFulfilled" in q for q in lists), lists
    assert "000000131" not in orders


def test_correct_refund_and_returns_through_prism(run: Any, stack: Stack) -> None:
    """After the package leaves: a tracking correction, a refund with its credit memo, the returns listing and a
    return's refund — every request and answer checked by Prism against the official specs."""
    _ok(run("ship", "000000128", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010060"), stack)
    doc = _ok(run("ship", "000000128", "--carrier", "UPS", "--tracking", "1Z999AA10123456800", "--replaces",
                  "1ZW1X2Y30390010060"), stack)
    assert doc["sent"] == ["walmart_retrack", "commerce_add_track", "commerce_delete_track"]
    doc = _ok(run("refund", "000000107", "--item", "WM-PAN-007", "--reason", "damaged", "--yes"), stack)
    assert doc["sent"] == ["walmart_refund", "commerce_credit_memo"]
    assert len(_ok(run("returns", "list"), stack)) == 5  # type: ignore[arg-type]
    assert _ok(run("returns", "refund", "RT0000000107", "--yes"), stack)["result"] == "confirmed"
