"""Bundles: shipped as one item when the bundle ships together, by its items when it ships separately (Magento
refuses the other way: BundleShipmentTypeValidator, magento/magento2#30813). wmsync reads the bundle's
shipment type from the catalog and ships accordingly; status and re-runs count the bundle's units either way."""

from __future__ import annotations

from typing import Any

import pytest

from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"


def _shipment_skus(sb: Sandbox, order: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for sh in sb.commerce_shipments(order):
        for item in sh["items"]:
            out[item["sku"]] = out.get(item["sku"], 0) + float(item["qty"])
    return out


@pytest.mark.parametrize(
    ("order", "shipped"),
    [
        ("000000134", {"WM-KIT-011": 1.0}),  # together: the bundle item
        ("000000135", {"WM-KIT-012-STOVE": 1.0, "WM-KIT-012-POT": 2.0}),  # separately: its items
    ],
)
def test_a_bundle_ships_the_way_its_shipment_type_says(
    cli: Any, sandbox: Sandbox, order: str, shipped: dict[str, float]
) -> None:
    r = cli("ship", order, "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--json")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "confirmed"  # type: ignore[index]
    assert _shipment_skus(sandbox, order) == shipped
    assert len(sandbox.walmart_shipments_by_tracking()[UPS]) == 1
    # both sides agree, and a re-run sends nothing
    r = cli("status", order, "--store", "sandbox", "--json")
    assert r.json()["verdict"] == "in_sync", r  # type: ignore[index]
    sandbox.clear_request_log()
    r = cli("ship", order, "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--json")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "already_done"  # type: ignore[index]
    assert not [e for e in sandbox.request_log() if e.method == "POST"]


def test_the_dry_run_names_the_bundle_items(cli: Any, sandbox: Sandbox) -> None:
    r = cli("ship", "000000135", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--json", "--dry-run")
    assert r.exit_code == 0, r
    body = next(q["body"] for q in r.json()["requests"] if q["path"].endswith("/ship"))  # type: ignore[index]
    order = sandbox.commerce_order("000000135")
    assert order is not None
    children = {i["item_id"]: i for i in order["items"] if i.get("parent_item_id")}
    assert {it["order_item_id"] for it in body["items"]} == set(children)
