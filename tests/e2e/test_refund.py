"""``wmsync refund``: Walmart's refund of shipped lines and Commerce's offline credit memo for the same items,
checked before anything is sent and never given twice."""

from __future__ import annotations

from typing import Any

import pytest

from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"


def _ship_and_invoice(cli: Any, sb: Sandbox, order: str = "000000124") -> None:
    r = cli("ship", order, "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 0, r
    with sb.db.transaction() as conn:  # the store invoiced it in Commerce
        conn.execute("UPDATE c_items SET qty_invoiced = qty_ordered WHERE order_id = "
                     "(SELECT entity_id FROM c_orders WHERE increment_id = ?)", (order,))


def _writes(sb: Sandbox) -> list[str]:
    return [f"{e.method} {e.path}" for e in sb.request_log() if e.method == "POST" and not e.path.endswith("/token")]


def _refunds(sb: Sandbox, order: str) -> list[dict[str, Any]]:
    c = sb.commerce_order(order)
    assert c is not None
    wm = sb.walmart_order(str(c["ext_order_id"]))
    assert wm is not None
    return [line["refund"] for line in wm["orderLines"]["orderLine"] if line.get("refund")]


def test_refund_one_of_two_items_once(cli: Any, sandbox: Sandbox) -> None:
    _ship_and_invoice(cli, sandbox)
    sandbox.clear_request_log()
    r = cli("refund", "000000124", "--store", "sandbox", "--item", "WM-MUG-001", "--reason", "damaged", "--yes",
            "--json")
    assert r.exit_code == 0, r
    doc = r.json()
    assert doc["result"] == "confirmed"  # type: ignore[index]
    assert doc["sent"] == ["walmart_refund", "commerce_credit_memo"]  # type: ignore[index]
    [refund] = _refunds(sandbox, "000000124")
    charge = refund["refundCharges"]["refundCharge"][0]
    assert charge["refundReason"] == "DamagedItem"
    assert charge["charge"]["chargeAmount"]["amount"] == -14.99  # the mug's price, not the bag's
    items = {i["sku"]: i for i in sandbox.commerce_order("000000124")["items"]}  # type: ignore[index]
    assert items["WM-MUG-001"]["qty_refunded"] == 1
    assert items["WM-BAG-008"]["qty_refunded"] == 0
    sandbox.clear_request_log()
    r = cli("refund", "000000124", "--store", "sandbox", "--item", "WM-MUG-001", "--reason", "damaged", "--yes",
            "--json")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "already_done"  # type: ignore[index]
    assert _writes(sandbox) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--item", "WM-MUG-001"], "not shipped"),  # 000000101 unshipped: that is cancel
        (["--item", "WM-MUG-001", "--amount", "100"], "more than was charged"),
    ],
)
def test_refusals_send_nothing(cli: Any, sandbox: Sandbox, args: list[str], message: str) -> None:
    if "--amount" in args:
        _ship_and_invoice(cli, sandbox, "000000101")
    sandbox.clear_request_log()
    r = cli("refund", "000000101", "--store", "sandbox", *args, "--reason", "damaged", "--yes")
    assert r.exit_code == 2, r
    assert message in r.stderr
    assert _writes(sandbox) == []


def test_an_uninvoiced_order_is_refused_unless_walmart_only(cli: Any, sandbox: Sandbox) -> None:
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 0, r
    sandbox.clear_request_log()
    r = cli("refund", "000000101", "--store", "sandbox", "--item", "WM-MUG-001", "--reason", "changed-mind", "--yes")
    assert r.exit_code == 2, r
    assert "invoiced" in r.stderr
    assert _writes(sandbox) == []
    r = cli("refund", "000000101", "--store", "sandbox", "--item", "WM-MUG-001", "--reason", "changed-mind", "--yes",
            "--walmart-only", "--json")
    assert r.exit_code == 0, r
    assert r.json()["sent"] == ["walmart_refund"]  # type: ignore[index]


def test_a_refund_dropped_after_it_was_applied_is_given_once(cli: Any, sandbox: Sandbox) -> None:
    _ship_and_invoice(cli, sandbox)
    sandbox.inject_fault("applied_timeout", method="POST", path_regex=r"/refund$")
    r = cli("refund", "000000124", "--store", "sandbox", "--item", "WM-BAG-008", "--reason", "damaged", "--yes")
    if r.exit_code != 0:
        r = cli("refund", "000000124", "--store", "sandbox", "--item", "WM-BAG-008", "--reason", "damaged", "--yes")
    assert r.exit_code == 0, r
    [refund] = _refunds(sandbox, "000000124")
    assert len(refund["refundCharges"]["refundCharge"]) == 1  # given once on Walmart
    items = {i["sku"]: i for i in sandbox.commerce_order("000000124")["items"]}  # type: ignore[index]
    assert items["WM-BAG-008"]["qty_refunded"] == 1  # one credit memo


def test_list_reasons(cli: Any) -> None:
    r = cli("refund", "--list-reasons", "--json")
    assert r.exit_code == 0, r
    assert {"alias": "not-received", "code": "ItemNotReceivedByCustomer",
            "description": "the customer never received it"} in r.json()  # type: ignore[operator]
