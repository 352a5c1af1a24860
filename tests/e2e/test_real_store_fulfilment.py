"""Orders fulfilled by Walmart (WFS) or a third-party logistics provider (3PL) are not the seller's to ship
(docs/real-services.md, "Orders Walmart or a 3PL fulfils")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.helpers import get_token, po_of, ship_body, wm_base_headers
from wmsync.sandbox import CREDENTIALS, Sandbox

WFS = "000000131"
THREE_PL = "000000132"



def _writes(sb: Sandbox) -> list[str]:
    return [f"{e.method} {e.path}" for e in sb.request_log() if e.method in ("POST", "PUT") and "token" not in e.path]


def test_the_sandbox_models_walmart_fulfilled_orders(sandbox: Sandbox) -> None:
    """Walmart's list shows seller-fulfilled orders unless asked for another ship node type; its ship endpoint
    refuses a WFS order."""
    wfs_po, tpl_po = po_of(sandbox, WFS), po_of(sandbox, THREE_PL)
    assert sandbox.walmart_order(wfs_po)["shipNode"]["type"] == "WFSFulfilled"  # type: ignore[index]
    assert sandbox.walmart_order(tpl_po)["shipNode"]["type"] == "3PLFulfilled"  # type: ignore[index]
    with sandbox.client() as client:
        wm = {**wm_base_headers(), "WM_SEC.ACCESS_TOKEN": get_token(client)}
        listed = client.get("/v3/orders", params={"limit": "200"}, headers=wm).json()
        pos = {o["purchaseOrderId"] for o in listed["list"]["elements"]["order"]}
        assert wfs_po not in pos
        assert tpl_po not in pos
        assert po_of(sandbox, "000000101") in pos
        listed = client.get("/v3/orders", params={"shipNodeType": "WFSFulfilled"}, headers=wm).json()
        assert [o["purchaseOrderId"] for o in listed["list"]["elements"]["order"]] == [wfs_po]
        r = client.post(
            f"/v3/orders/{wfs_po}/shipping",
            json=ship_body([("1", 1)], tracking="1ZW1X2Y30390010006", seller_order_id=WFS),
            headers=wm,
        )
        assert r.status_code == 400, r.text


@pytest.mark.parametrize("order", [WFS, THREE_PL])
def test_ship_refuses_an_order_the_seller_does_not_fulfil(cli: Any, sandbox: Sandbox, order: str) -> None:
    r = cli("ship", order, "--store", "sandbox", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010006")
    assert r.exit_code == 2, r
    assert "fulfil" in r.stderr.lower(), r.stderr
    assert _writes(sandbox) == []  # nothing sent, not even the acknowledge


@pytest.mark.parametrize("order", [WFS, THREE_PL])
def test_cancel_refuses_an_order_the_seller_does_not_fulfil(cli: Any, sandbox: Sandbox, order: str) -> None:
    r = cli("cancel", order, "--store", "sandbox", "--reason", "out-of-stock", "--yes")
    assert r.exit_code == 2, r
    assert "fulfil" in r.stderr.lower(), r.stderr
    assert _writes(sandbox) == []


def test_orders_list_shows_seller_fulfilled_orders_and_says_how_many_it_left_out(cli: Any, sandbox: Sandbox) -> None:
    r = cli("orders", "list", "--store", "sandbox", "--json", "--limit", "0")
    assert r.exit_code == 0, r
    shown = {row["order"] for row in json.loads(r.stdout)}
    assert "000000101" in shown
    assert WFS not in shown
    assert THREE_PL not in shown
    assert "2 order(s) fulfilled by Walmart or a 3PL left out" in r.stderr, r.stderr
    assert "--fulfilment all" in r.stderr

    r = cli("orders", "list", "--store", "sandbox", "--json", "--limit", "0", "--fulfilment", "all")
    assert r.exit_code == 0, r
    rows = {row["order"]: row for row in json.loads(r.stdout)}
    assert rows[WFS]["fulfilment"] == "WFSFulfilled"
    assert rows[THREE_PL]["fulfilment"] == "3PLFulfilled"
    assert rows["000000101"]["fulfilment"] == "SellerFulfilled"
    r = cli("orders", "list", "--store", "sandbox", "--limit", "0", "--fulfilment", "all")
    assert any(line.startswith(WFS) and "WFS" in line for line in r.stdout.splitlines()), r.stdout


def test_status_does_not_call_a_wfs_order_diverged_for_lacking_a_commerce_shipment(cli: Any, sandbox: Sandbox) -> None:
    # Walmart's fulfilment centre ships the order; Commerce never gets a shipment from the seller
    po = po_of(sandbox, WFS)
    with sandbox.db.transaction() as conn:
        conn.execute(
            "UPDATE w_status SET status = 'Shipped', carrier = 'FedEx', tracking_number = '449044304137999',"
            " ship_date_time = 1, method_code = 'Standard' WHERE po = ?",
            (po,),
        )
    r = cli("status", WFS, "--store", "sandbox", "--json")
    data = json.loads(r.stdout)
    assert data["verdict"] != "diverged", data
    assert r.exit_code == 0, r


def test_sync_leaves_orders_the_seller_does_not_fulfil_alone(cli: Any, sandbox: Sandbox) -> None:
    """A WFS order with a Commerce shipment (its tracking copied into Commerce) that Walmart does not show: for a
    seller-fulfilled order sync would push it to Walmart; for this one it must send nothing."""
    item = sandbox.commerce_order(WFS)["items"][0]  # type: ignore[index]
    with sandbox.client() as client:
        mg = {"Authorization": f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"}
        r = client.post(
            "/rest/default/V1/order/31/ship",
            headers=mg,
            json={
                "items": [{"order_item_id": item["item_id"], "qty": 1}],
                "tracks": [
                    {"track_number": "1ZW1X2Y30390010031", "title": "United Parcel Service", "carrier_code": "ups"}
                ],
            },
        )
        assert r.status_code == 200, r.text
    sandbox.clear_request_log()
    r = cli("sync", "--store", "sandbox", "--json")
    assert r.exit_code != 2, r  # other seeded orders need attention (exit 8); these two must not be among them
    touched = [
        w
        for w in _writes(sandbox)
        if "/order/31/" in w or "/order/32/" in w or po_of(sandbox, WFS) in w or po_of(sandbox, THREE_PL) in w
    ]
    assert touched == [], touched
    report = json.loads(r.stdout)
    assert WFS not in json.dumps([o for o in report.get("orders", []) if o.get("actions")]), report
