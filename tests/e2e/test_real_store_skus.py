"""A store whose Walmart SKUs differ from its Commerce SKUs: the store's ``skus`` table (Walmart SKU -> Commerce
SKU) pairs them (docs/real-services.md, "SKUs that differ between Commerce and Walmart"). 000000133 is sold on
Walmart as LAMP-4-WMT and in Commerce as WM-LAMP-004; the built-in sandbox store maps them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.helpers import line_statuses, po_of
from wmsync.sandbox import Sandbox

ORDER = "000000133"



def test_the_seed_sells_the_lamp_under_another_walmart_sku(sandbox: Sandbox) -> None:
    wm = sandbox.walmart_order(po_of(sandbox, ORDER))
    assert wm is not None
    assert [ln["item"]["sku"] for ln in wm["orderLines"]["orderLine"]] == ["LAMP-4-WMT"]
    assert [i["sku"] for i in sandbox.commerce_order(ORDER)["items"]] == ["WM-LAMP-004"]  # type: ignore[index]


def test_status_pairs_the_skus_through_the_table(cli: Any, sandbox: Sandbox) -> None:
    r = cli("status", ORDER, "--store", "sandbox", "--json")
    data = json.loads(r.stdout)
    assert data["verdict"] == "in_sync", data
    assert r.exit_code == 0, r


@pytest.mark.parametrize("sku", ["LAMP-4-WMT", "WM-LAMP-004"])
def test_ship_takes_either_sku_and_ships_both_sides(cli: Any, sandbox: Sandbox, sku: str) -> None:
    r = cli(
        "ship",
        ORDER,
        "--store",
        "sandbox",
        "--carrier",
        "UPS",
        "--tracking",
        "1ZW1X2Y30390010006",
        "--item",
        f"{sku}=1",
        "--json",
    )
    assert r.exit_code == 0, r
    assert [float(i["qty_shipped"]) for i in sandbox.commerce_order(ORDER)["items"]] == [1.0]  # type: ignore[index]
    assert line_statuses(sandbox.walmart_order(po_of(sandbox, ORDER)), "1") == [("Shipped", "1")]  # type: ignore[arg-type]
    r = cli("status", ORDER, "--store", "sandbox", "--json")
    assert json.loads(r.stdout)["verdict"] == "in_sync", r.stdout


def test_cancel_takes_the_walmart_sku(cli: Any, sandbox: Sandbox) -> None:
    r = cli(
        "cancel", ORDER, "--store", "sandbox", "--reason", "out-of-stock", "--item", "LAMP-4-WMT", "--yes", "--json"
    )
    assert r.exit_code == 0, r
    assert line_statuses(sandbox.walmart_order(po_of(sandbox, ORDER)), "1") == [("Cancelled", "1")]  # type: ignore[arg-type]
