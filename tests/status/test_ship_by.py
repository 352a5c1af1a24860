"""Ship-by risk: Walmart's shipping program (TWO_DAY, ONE_DAY, …) and estimated ship date in `orders list` and
`status`; `orders list --status at-risk` lists orders with units still open whose ship-by time is within the
margin (`--margin`, store setting `at_risk_margin`, default 4h) or past."""

from __future__ import annotations

import time
from typing import Any

from wmsync.sandbox import Sandbox


def _expected_at_risk(sb: Sandbox, margin_s: float) -> set[str]:
    """From the sandbox's own data: seller-fulfilled POs with open units and a ship-by time before now+margin."""
    out = set()
    now_ms = time.time() * 1000
    for n in range(101, 136):
        order = sb.commerce_order(f"000000{n}")
        if order is None or not order.get("ext_order_id"):
            continue
        wm = sb.walmart_order(str(order["ext_order_id"]))
        if wm is None or wm.get("shipNode", {}).get("type", "SellerFulfilled") != "SellerFulfilled":
            continue
        open_units = 0
        for line in wm["orderLines"]["orderLine"]:
            qty = int(line["orderLineQuantity"]["amount"])
            closed = sum(int(s["statusQuantity"]["amount"]) for s in line["orderLineStatuses"]["orderLineStatus"]
                         if s["status"] in ("Shipped", "Delivered", "Cancelled", "Refund"))
            open_units += max(0, qty - closed)
        if open_units and wm["shippingInfo"]["estimatedShipDate"] <= now_ms + margin_s * 1000:
            out.add(order["increment_id"])
    return out


def test_orders_list_at_risk_lists_orders_due_within_the_margin(cli: Any, sandbox: Sandbox) -> None:
    r = cli("orders", "list", "--store", "sandbox", "--status", "at-risk", "--json", "--limit", "0")
    assert r.exit_code == 0, r
    shown = {row["order"] for row in r.json()}  # type: ignore[union-attr]
    expected = _expected_at_risk(sandbox, 4 * 3600)
    assert "000000126" in expected  # the seed's overdue one-day order
    assert shown == expected
    r = cli("orders", "list", "--store", "sandbox", "--status", "at-risk", "--margin", "0", "--json", "--limit", "0")
    assert {row["order"] for row in r.json()} == _expected_at_risk(sandbox, 0)  # type: ignore[union-attr]
    r = cli("orders", "list", "--store", "sandbox", "--status", "at-risk", "--margin", "12h", "--json",
            "--limit", "0")
    assert {row["order"] for row in r.json()} == _expected_at_risk(sandbox, 12 * 3600)  # type: ignore[union-attr]


def test_the_shipping_program_is_shown(cli: Any, sandbox: Sandbox) -> None:
    r = cli("orders", "list", "--store", "sandbox", "--json", "--limit", "0")
    rows = {row["order"]: row for row in r.json()}  # type: ignore[union-attr]
    assert rows["000000126"]["shipping_program"] == "ONE_DAY"
    assert rows["000000119"]["shipping_program"] == "TWO_DAY"
    assert rows["000000101"]["shipping_program"] is None
    assert rows["000000126"]["estimated_ship_date"]
    r = cli("status", "000000126", "--store", "sandbox", "--json")
    doc = r.json()
    assert doc["shipping_program"] == "ONE_DAY"  # type: ignore[index]
    r = cli("status", "000000126", "--store", "sandbox")
    assert "ONE_DAY" in r.stdout.splitlines()[0], r.stdout
    r = cli("orders", "list", "--store", "sandbox", "--limit", "0")
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("000000126"))
    assert "ONE_DAY" in line


def test_a_bad_margin_is_a_usage_error(cli: Any, sandbox: Sandbox) -> None:
    r = cli("orders", "list", "--store", "sandbox", "--status", "at-risk", "--margin", "soon")
    assert r.exit_code == 2, r
