"""Multi-Source Inventory: on a store with several sources a shipment names a source that holds its items
(Magento refuses it otherwise: "Source item not found by source code: default and sku: …", "Not all of your
products are available in the requested quantity."). wmsync takes --source, the store's source_code, or
Commerce's source selection, and checks the source before anything is sent. Without MSI nothing changes."""

from __future__ import annotations

import json
from typing import Any

from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"


def _posts(sb: Sandbox) -> list[Any]:
    return [e for e in sb.request_log() if e.method == "POST" and not e.path.endswith(("/token", "-result"))]


def test_without_a_source_commerce_selection_picks_one_that_holds_the_items(cli: Any, sandbox: Sandbox) -> None:
    sandbox.update_settings(msi=True)
    # 000000101: WM-MUG-001, which only "east" holds ("west" has none)
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--json")
    assert r.exit_code == 0, r
    [shipment] = sandbox.commerce_shipments("000000101")
    assert shipment["extension_attributes"]["source_code"] == "east", shipment


def test_a_source_that_lacks_an_item_is_refused_before_anything_is_sent(cli: Any, sandbox: Sandbox) -> None:
    sandbox.update_settings(msi=True)
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--source", "west")
    assert r.exit_code == 2, r
    assert "west" in r.stderr
    assert "WM-MUG-001" in r.stderr
    assert _posts(sandbox) == []


def test_an_explicit_source_is_used(cli: Any, sandbox: Sandbox) -> None:
    sandbox.update_settings(msi=True)
    r = cli("ship", "000000127", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--source", "west",
            "--json", "--dry-run")
    assert r.exit_code == 0, r
    body = next(q["body"] for q in r.json()["requests"] if q["path"].endswith("/ship"))  # type: ignore[index]
    assert body["arguments"]["extension_attributes"]["source_code"] == "west"


def test_without_msi_no_source_is_needed_and_none_is_asked(cli: Any, sandbox: Sandbox) -> None:
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--json")
    assert r.exit_code == 0, r
    bodies = [json.loads(e.request_body or "{}") for e in sandbox.request_log() if e.path.endswith("/ship")]
    assert all("arguments" not in b for b in bodies)
