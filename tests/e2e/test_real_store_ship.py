"""Behaviours of the real services that the ship workflow must respect (docs/real-services.md)."""

from __future__ import annotations

from typing import Any

from sandbox.helpers import cancel_body, get_token, po_of, ship_body, wm_base_headers
from wmsync.sandbox import CREDENTIALS, Sandbox


def _commerce_qty_shipped(sb: Sandbox, increment_id: str) -> dict[str, float]:
    order = sb.commerce_order(increment_id)
    assert order is not None
    return {i["sku"]: float(i["qty_shipped"]) for i in order["items"] if i.get("parent_item_id") is None}


def test_a_ship_body_never_leaves_magento_to_pick_the_items(cli: Any, sandbox: Sandbox) -> None:
    """Magento ships every remaining item when a shipment names none (ShipmentFactory::prepareItems;
    magento/magento2#23212). Order 124: WM-MUG-001 is shipped in Commerce (a shipment without a track) and on
    Walmart under T; Walmart cancelled WM-BAG-008, which Commerce still shows open. `ship 124 --tracking T` has no
    Commerce item to put in a shipment, so it must not create one — an empty `items` would ship the bag."""
    po = po_of(sandbox, "000000124")
    mug_item = next(i for i in sandbox.commerce_order("000000124")["items"] if i["sku"] == "WM-MUG-001")
    tracking = "1ZW1X2Y30390010006"
    with sandbox.client() as client:
        mg = {"Authorization": f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"}
        r = client.post("/rest/default/V1/order/24/ship",
                        json={"items": [{"order_item_id": mug_item["item_id"], "qty": 1}]}, headers=mg)
        assert r.status_code == 200, r.text
        wm = {**wm_base_headers(), "WM_SEC.ACCESS_TOKEN": get_token(client)}
        r = client.post(f"/v3/orders/{po}/shipping", json=ship_body([("1", 1)], tracking=tracking,
                                                                     seller_order_id="000000124"), headers=wm)
        assert r.status_code == 200, r.text
        r = client.post(f"/v3/orders/{po}/cancel", json=cancel_body([("2", 1)]), headers=wm)
        assert r.status_code == 200, r.text
    before = _commerce_qty_shipped(sandbox, "000000124")
    assert before == {"WM-MUG-001": 1.0, "WM-BAG-008": 0.0}

    r = cli("ship", "000000124", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", tracking)

    assert _commerce_qty_shipped(sandbox, "000000124") == before, "the cancelled bag was shipped in Commerce"
    posts = [e.path for e in sandbox.request_log() if e.method == "POST" and e.path.endswith("/ship")]
    assert posts == ["/rest/default/V1/order/24/ship"]  # only the set-up's own shipment
    assert r.exit_code == 0, r
    assert "no Commerce item" in r.stderr + r.stdout


def test_a_method_code_other_than_the_orders_own_is_refused_before_anything_is_sent(cli: Any,
                                                                                     sandbox: Sandbox) -> None:
    """Walmart answers 400 "Method code is not supported in line number N" to any method code but the order's
    own; wmsync used to find out only after creating the Commerce shipment (exit 4, a package on one side)."""
    sandbox.clear_request_log()
    r = cli("ship", "000000119", "--store", "sandbox", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010006",
            "--method", "Standard")
    assert r.exit_code == 2, r
    assert "Express" in r.stderr
    assert [e.path for e in sandbox.request_log() if e.method == "POST" and not e.path.endswith("/token")] == []
    # the order's own method, in any case, is fine
    r = cli("ship", "000000119", "--store", "sandbox", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010006",
            "--method", "express", "--dry-run")
    assert r.exit_code == 0, r
