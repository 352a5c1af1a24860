"""``wmsync ship`` end to end against the in-process sandbox (``--store sandbox``), reading the outcome from
the sandbox's own state and request log."""

from __future__ import annotations

from typing import Any

import pytest

from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"
UPS2 = "1ZW1X2Y30390010015"
WRITES = ("POST",)



def writes(sb: Sandbox) -> list[str]:
    """Writes that reached a service (the token request is not a write to orders)."""
    return [f"{e.method} {e.path}" for e in sb.request_log() if e.method in WRITES and not e.path.endswith("/token")]


def ship(cli: Any, order: str, *args: str) -> Any:
    return cli("ship", order, "--store", "sandbox", "--json", *args)


def one_each_side(sb: Sandbox, tracking: str) -> None:
    assert len(sb.walmart_shipments_by_tracking().get(tracking, [])) >= 1
    assert len(sb.commerce_shipments_by_tracking().get(tracking, [])) == 1


def walmart_ship_posts(sb: Sandbox, tracking: str) -> int:
    return sum(1 for e in sb.request_log() if e.method == "POST" and e.path.endswith("/shipping") and e.applied
               and tracking in (e.request_body or ""))


def test_single_line_confirmed_in_five_requests(cli: Any, sandbox: Sandbox) -> None:
    assert cli("stores", "check", "sandbox").exit_code == 0  # caches the Walmart token
    sandbox.clear_request_log()
    r = ship(cli, "000000101", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 0, r
    doc = r.json()
    assert doc["result"] == "confirmed"
    assert doc["purchase_order_id"] == sandbox.commerce_order("000000101")["ext_order_id"]
    assert doc["lines"][0]["walmart_statuses"] == [
        {"status": "Shipped", "quantity": 1, "carrier": "UPS", "tracking_number": UPS}]
    assert doc["correlation_ids"]
    one_each_side(sandbox, UPS)
    assert walmart_ship_posts(sandbox, UPS) == 1
    total = len(sandbox.request_log())
    assert total <= 5, [f"{e.method} {e.path}" for e in sandbox.request_log()]


def test_same_command_twice_is_already_done_with_zero_writes(cli: Any, sandbox: Sandbox) -> None:
    assert ship(cli, "000000101", "--carrier", "ups", "--tracking", UPS).exit_code == 0
    sandbox.clear_request_log()
    r = ship(cli, "000000101", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 0, r
    assert r.json()["result"] == "already_done"
    assert writes(sandbox) == []
    one_each_side(sandbox, UPS)


def test_multi_line(cli: Any, sandbox: Sandbox) -> None:
    r = ship(cli, "000000103", "--carrier", "FedEx", "--tracking", "123456789012")
    assert r.exit_code == 0, r
    doc = r.json()
    assert doc["result"] == "confirmed"
    assert len(doc["lines"]) == 2
    assert all(s["status"] == "Shipped" for line in doc["lines"] for s in line["walmart_statuses"])
    assert walmart_ship_posts(sandbox, "123456789012") == 1


def test_split_lines_partial_then_rest(cli: Any, sandbox: Sandbox) -> None:
    order = sandbox.commerce_order("000000104")
    sku = order["items"][0]["sku"]
    r = ship(cli, "000000104", "--carrier", "UPS", "--tracking", UPS, "--item", f"{sku}=2")
    assert r.exit_code == 0, r
    shipped = [s for line in r.json()["lines"] for s in line["walmart_statuses"] if s["status"] == "Shipped"]
    assert sum(s["quantity"] for s in shipped) == 2
    r2 = ship(cli, "000000104", "--carrier", "UPS", "--tracking", UPS2)
    assert r2.exit_code == 0, r2
    statuses = [s for line in r2.json()["lines"] for s in line["walmart_statuses"]]
    assert sorted(s["tracking_number"] for s in statuses) == sorted([UPS, UPS, UPS2])
    r3 = ship(cli, "000000104", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010024")
    assert r3.exit_code == 2
    assert "nothing is left to ship" in r3.stderr


def test_configurable_product(cli: Any, sandbox: Sandbox) -> None:
    r = ship(cli, "000000105", "--carrier", "USPS", "--tracking", "9400111899223100000000")
    if r.exit_code == 2 and "check digit" in r.stderr:
        r = ship(cli, "000000105", "--carrier", "USPS", "--tracking", "9400111899223100000000",
                 "--skip-format-check")
    assert r.exit_code == 0, r
    shipments = sandbox.commerce_shipments("000000105")
    parent = next(i for i in sandbox.commerce_order("000000105")["items"] if i.get("parent_item_id") is None)
    assert [i["order_item_id"] for i in shipments[0]["items"]] == [parent["item_id"]]


def test_unacknowledged_lines_are_acknowledged_first(cli: Any, sandbox: Sandbox) -> None:
    r = ship(cli, "000000102", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 0, r
    assert "acknowledged first" in r.stderr
    ops = [e.path for e in sandbox.request_log() if e.method == "POST"]
    assert any(p.endswith("/acknowledge") for p in ops)
    assert ops.index(next(p for p in ops if p.endswith("/acknowledge"))) < ops.index(
        next(p for p in ops if p.endswith("/shipping")))


def test_other_carrier_needs_url(cli: Any, sandbox: Sandbox) -> None:
    r = ship(cli, "000000124", "--carrier", "Acme Freight", "--tracking", "AF12345678")
    assert r.exit_code == 2
    assert "tracking-url" in r.stderr
    assert writes(sandbox) == []
    r = ship(cli, "000000124", "--carrier", "Acme Freight", "--tracking", "AF12345678", "--tracking-url",
             "https://acme.example/t/AF12345678")
    assert r.exit_code == 0, r
    po = r.json()["purchase_order_id"]
    status = sandbox.walmart_order(po)["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"]
    infos = [s["trackingInfo"] for s in status if s.get("trackingInfo")]
    assert infos[0]["carrierName"] == {"otherCarrier": "Acme Freight"}
    assert infos[0]["trackingURL"] == "https://acme.example/t/AF12345678"


def test_tracks_already_recorded_in_commerce(cli: Any, sandbox: Sandbox) -> None:
    r = cli("ship", "000000117", "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    doc = r.json()
    assert doc["result"] == "confirmed"
    tracking = doc["tracking_number"]
    assert len(sandbox.commerce_shipments_by_tracking()[tracking]) == 1
    assert [e for e in sandbox.request_log() if e.method == "POST" and e.path.endswith("/ship")] == []


@pytest.mark.parametrize(
    ("order", "args", "message"),
    [
        ("000000101", ["--carrier", "UPPS", "--tracking", UPS], "did you mean"),
        ("000000101", ["--carrier", "UPS", "--tracking", "1Z999AA1012345678"], "UPS"),
        ("000000123", ["--carrier", "UPS", "--tracking", UPS, "--item", "NOPE=1"], "not on order"),
        ("000000107", ["--carrier", "UPS", "--tracking", UPS2], "nothing is left to ship"),
        ("000000108", ["--carrier", "UPS", "--tracking", UPS2], "cancel"),
        ("000000106", ["--carrier", "UPS", "--tracking", UPS2], "asked to cancel"),
        ("000000115", ["--carrier", "UPS", "--tracking", UPS2], "on hold"),
        ("000000111", ["--carrier", "UPS", "--tracking", UPS2], "no Walmart purchase order"),
        ("000000112", ["--carrier", "UPS", "--tracking", UPS2], "not a Walmart purchase order"),
        ("000000120", ["--carrier", "UPS", "--tracking", UPS2], "Walmart has no purchase order"),
        ("000000999", ["--carrier", "UPS", "--tracking", UPS2], "no Commerce order"),
        ("../etc", ["--carrier", "UPS", "--tracking", UPS2], "ORDER"),
    ],
)
def test_bad_input_exits_2_with_zero_writes(cli: Any, sandbox: Sandbox, order: str, args: list[str],
                                            message: str) -> None:
    r = ship(cli, order, *args)
    assert r.exit_code == 2, r
    assert message.lower() in (r.stderr + r.stdout).lower()
    assert writes(sandbox) == []
    assert r.json()["exit_code"] == 2


def test_quantity_too_large(cli: Any, sandbox: Sandbox) -> None:
    sku = sandbox.commerce_order("000000123")["items"][0]["sku"]
    r = ship(cli, "000000123", "--carrier", "UPS", "--tracking", UPS, "--item", f"{sku}=3")
    assert r.exit_code == 2
    assert "left to ship" in r.stderr
    assert writes(sandbox) == []


def test_dry_run_sends_nothing_and_shows_bodies(cli: Any, sandbox: Sandbox) -> None:
    r = ship(cli, "000000101", "--carrier", "UPS", "--tracking", UPS, "--dry-run")
    assert r.exit_code == 0, r
    doc = r.json()
    assert doc["result"] == "dry_run"
    assert [x["path"].rsplit("/", 1)[-1] for x in doc["requests"]] == ["ship", "shipping"]
    assert writes(sandbox) == []


@pytest.mark.parametrize("kind", ["applied_timeout", "applied_reset", "malformed"])
def test_dropped_walmart_ship_response_ends_with_one_shipment(cli: Any, sandbox: Sandbox, kind: str) -> None:
    sandbox.inject_fault(kind, method="POST", path_regex=r"/shipping$")
    r = ship(cli, "000000101", "--carrier", "UPS", "--tracking", UPS)
    if r.exit_code != 0:  # the outcome could not be settled in this run: a re-run must finish it
        r = ship(cli, "000000101", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 0, r
    assert r.json()["result"] in ("confirmed", "already_done")
    assert walmart_ship_posts(sandbox, UPS) == 1
    one_each_side(sandbox, UPS)


@pytest.mark.parametrize("kind", ["applied_timeout", "applied_reset"])
def test_dropped_commerce_ship_response_ends_with_one_shipment(cli: Any, sandbox: Sandbox, kind: str) -> None:
    sandbox.inject_fault(kind, method="POST", path_regex=r"/ship$")
    r = ship(cli, "000000101", "--carrier", "UPS", "--tracking", UPS)
    if r.exit_code != 0:
        r = ship(cli, "000000101", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 0, r
    one_each_side(sandbox, UPS)
    assert walmart_ship_posts(sandbox, UPS) == 1


def test_channel_manager_mode_waits_for_the_push(cli: Any, sandbox: Sandbox) -> None:
    sandbox.update_settings(channel_manager=True, walmart_delay=0.3)
    r = ship(cli, "000000101", "--carrier", "UPS", "--tracking", UPS, "--via", "channel-manager", "--timeout", "20")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "confirmed"
    assert walmart_ship_posts(sandbox, UPS) == 0  # wmsync never posted to Walmart
    one_each_side(sandbox, UPS)


def test_channel_manager_no_wait_is_pending(cli: Any, sandbox: Sandbox) -> None:
    sandbox.update_settings(channel_manager=True, walmart_delay=60)
    r = ship(cli, "000000101", "--carrier", "UPS", "--tracking", UPS, "--via", "channel-manager", "--no-wait")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "pending"
    r = ship(cli, "000000101", "--carrier", "UPS", "--tracking", UPS, "--via", "channel-manager", "--timeout", "0.2")
    assert r.exit_code == 6, r
    assert r.json()["result"] == "pending"
    assert len(sandbox.commerce_shipments_by_tracking()[UPS]) == 1


def test_direct_mode_when_channel_manager_already_pushed_is_already_done(cli: Any, sandbox: Sandbox) -> None:
    sandbox.update_settings(channel_manager=True, walmart_delay=0)
    r = ship(cli, "000000101", "--carrier", "UPS", "--tracking", UPS, "--via", "channel-manager")
    assert r.exit_code == 0, r
    sandbox.clear_request_log()
    r = ship(cli, "000000101", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 0, r
    assert r.json()["result"] == "already_done"
    assert writes(sandbox) == []


def test_payment_review_refused_before_sending(cli: Any, sandbox: Sandbox) -> None:
    r = ship(cli, "000000121", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 2, r
    assert "payment review" in r.stderr
    assert writes(sandbox) == []


@pytest.mark.parametrize(("order", "message"), [("000000122", "cancelled on Walmart"),
                                                 ("000000106", "asked to cancel")])
def test_channel_manager_mode_checks_walmart_too(cli: Any, sandbox: Sandbox, order: str, message: str) -> None:
    r = ship(cli, order, "--carrier", "UPS", "--tracking", UPS, "--via", "channel-manager")
    assert r.exit_code == 2, r
    assert message in r.stderr
    assert writes(sandbox) == []


def _commerce_ship(sb: Sandbox, order: str, qty: int, tracking: str) -> None:
    """A warehouse system records a shipment in Commerce (through the Commerce API only)."""
    from wmsync.commerce.client import CommerceClient, oauth1_signer
    from wmsync.sandbox import BASE_URL, CREDENTIALS

    data = sb.commerce_order(order)
    assert data is not None
    item = next(i for i in data["items"] if i.get("parent_item_id") is None)
    client = CommerceClient(base_url=BASE_URL, transport=sb.transport(), signer=oauth1_signer(
        CREDENTIALS["COMMERCE_CONSUMER_KEY"], CREDENTIALS["COMMERCE_CONSUMER_SECRET"],
        CREDENTIALS["COMMERCE_ACCESS_TOKEN"], CREDENTIALS["COMMERCE_ACCESS_TOKEN_SECRET"]))
    client.ship(int(data["entity_id"]), {"items": [{"order_item_id": item["item_id"], "qty": qty}],
                                         "tracks": [{"track_number": tracking, "title": "UPS", "carrier_code": "ups"}]})
    client.close()


def test_several_commerce_shipments_on_split_lines_each_get_their_own_lines(cli: Any, sandbox: Sandbox) -> None:
    _commerce_ship(sandbox, "000000104", 1, UPS)
    _commerce_ship(sandbox, "000000104", 2, UPS2)
    sandbox.clear_request_log()
    r = cli("ship", "000000104", "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    assert {p["tracking_number"]: p["result"] for p in r.json()["packages"]} == {UPS: "confirmed",
                                                                                  UPS2: "confirmed"}
    statuses = [s for line in r.json()["lines"] for s in line["walmart_statuses"]]
    assert sorted(s["tracking_number"] for s in statuses) == sorted([UPS, UPS2, UPS2])
    assert walmart_ship_posts(sandbox, UPS) == 1
    assert walmart_ship_posts(sandbox, UPS2) == 1
