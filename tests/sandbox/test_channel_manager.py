"""Channel Manager mode: Commerce shipments and cancellations reach Walmart after the delay, or fail."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.helpers import FakeClock, line_statuses, po_of, ship_body
from wmsync.sandbox import Sandbox


@pytest.fixture
def cm(sandbox: Sandbox) -> Sandbox:
    sandbox.update_settings(channel_manager=True, walmart_delay=300)
    return sandbox


def _ship(client: httpx.Client, mg: dict[str, str], entity_id: int, track: dict[str, str], items: Any = None) -> str:
    body: dict[str, Any] = {"tracks": [track]}
    if items is not None:
        body["items"] = items
    r = client.post(f"/rest/default/V1/order/{entity_id}/ship", json=body, headers=mg)
    assert r.status_code == 200, r.text
    return str(r.json())


def _walmart(sb: Sandbox, increment_id: str) -> dict[str, Any]:
    order = sb.walmart_order(po_of(sb, increment_id))
    assert order is not None
    return order


def test_shipment_reaches_walmart_after_the_delay(
    client: httpx.Client, mg: dict[str, str], cm: Sandbox, clock: FakeClock
) -> None:
    _ship(client, mg, 1, {"track_number": "1ZCM0001", "title": "United Parcel Service", "carrier_code": "ups"})
    clock.advance(299)
    assert line_statuses(_walmart(cm, "000000101"), "1") == [("Acknowledged", "1")]
    clock.advance(1)
    order = _walmart(cm, "000000101")
    assert line_statuses(order, "1") == [("Shipped", "1")]
    info = order["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]["trackingInfo"]
    assert info["carrierName"] == {"carrier": "UPS"}
    assert info["trackingNumber"] == "1ZCM0001"
    assert info["methodCode"] == "Standard"
    (event,) = cm.channel_manager_events()
    assert event["state"] == "done"
    assert cm.walmart_shipments_by_tracking()["1ZCM0001"][0]["source"] == "channel_manager"


def test_processed_lazily_on_the_next_request(
    client: httpx.Client, mg: dict[str, str], cm: Sandbox, clock: FakeClock
) -> None:
    _ship(client, mg, 1, {"track_number": "1ZCM0002", "title": "UPS", "carrier_code": "ups"})
    clock.advance(301)
    pending = cm.db.connection().execute("SELECT state FROM cm_events").fetchone()[0]
    assert pending == "pending"
    client.get("/rest/default/V1/orders/1", headers=mg)
    assert cm.db.connection().execute("SELECT state FROM cm_events").fetchone()[0] == "done"


def test_split_lines_and_configurable_are_matched_by_sku(
    client: httpx.Client, mg: dict[str, str], cm: Sandbox, clock: FakeClock
) -> None:
    _ship(client, mg, 4, {"track_number": "9400CM04", "title": "USPS", "carrier_code": "usps"})
    _ship(client, mg, 5, {"track_number": "FXCM05", "title": "FedEx", "carrier_code": "fedex"})
    clock.advance(300)
    assert [line_statuses(_walmart(cm, "000000104"), str(n)) for n in (1, 2, 3)] == [[("Shipped", "1")]] * 3
    assert line_statuses(_walmart(cm, "000000105"), "1") == [("Shipped", "1")]
    assert {e["state"] for e in cm.channel_manager_events()} == {"done"}


def test_custom_carrier_on_walmart_list_and_off_it(
    client: httpx.Client, mg: dict[str, str], cm: Sandbox, clock: FakeClock
) -> None:
    _ship(client, mg, 27, {"track_number": "ONT1", "title": "ontrac", "carrier_code": "custom"})
    _ship(client, mg, 28, {"track_number": "ACME1", "title": "Acme Freight", "carrier_code": "custom"})
    clock.advance(300)
    ontrac, acme = cm.channel_manager_events()
    assert ontrac["state"] == "done"
    assert cm.walmart_shipments_by_tracking()["ONT1"][0]["carrier"] == "OnTrac"
    assert acme["state"] == "error"
    assert "trackingURL is required" in acme["errors"][0]


def test_push_collides_with_a_direct_post(
    client: httpx.Client, mg: dict[str, str], wm: dict[str, str], cm: Sandbox, clock: FakeClock
) -> None:
    po = po_of(cm, "000000101")
    _ship(client, mg, 1, {"track_number": "1ZBOTH", "title": "UPS", "carrier_code": "ups"})
    direct = client.post(f"/v3/orders/{po}/shipping", json=ship_body(tracking="1ZBOTH"), headers=wm)
    assert direct.status_code == 200
    clock.advance(300)
    (event,) = cm.channel_manager_events()
    assert event["state"] == "error"
    assert event["errors"] == [f"Unable to process this request. The Line: 1 of PO: {po} is in SHIPPED status"]
    assert len(cm.walmart_shipments_by_tracking()["1ZBOTH"]) == 1


def test_cancellation_reaches_walmart_with_the_reason_from_the_comment(
    client: httpx.Client, mg: dict[str, str], cm: Sandbox, clock: FakeClock
) -> None:
    comment = {"statusHistory": {"comment": "Cancel reason: SELLER_CANCEL_PRICING_ERROR", "is_customer_notified": 0}}
    assert client.post("/rest/default/V1/orders/3/comments", json=comment, headers=mg).json() is True
    assert client.post("/rest/default/V1/orders/3/cancel", headers=mg).json() is True
    clock.advance(300)
    po = po_of(cm, "000000103")
    assert [(c["line_number"], c["reason"], c["source"]) for c in cm.cancellations(po)] == [
        ("1", "SELLER_CANCEL_PRICING_ERROR", "channel_manager"),
        ("2", "SELLER_CANCEL_PRICING_ERROR", "channel_manager"),
    ]


def test_refused_cancel_pushes_nothing(client: httpx.Client, mg: dict[str, str], cm: Sandbox, clock: FakeClock) -> None:
    assert client.post("/rest/default/V1/orders/9/cancel", headers=mg).json() is False
    clock.advance(300)
    assert cm.channel_manager_events() == []


def test_non_walmart_orders_are_skipped(
    client: httpx.Client, mg: dict[str, str], cm: Sandbox, clock: FakeClock
) -> None:
    _ship(client, mg, 12, {"track_number": "AMZ1", "title": "UPS", "carrier_code": "ups"})
    _ship(client, mg, 20, {"track_number": "PHANTOM1", "title": "UPS", "carrier_code": "ups"})
    clock.advance(300)
    assert [e["state"] for e in cm.channel_manager_events()] == ["skipped", "skipped"]


def test_without_channel_manager_nothing_is_pushed(
    client: httpx.Client, mg: dict[str, str], sandbox: Sandbox, clock: FakeClock
) -> None:
    _ship(client, mg, 1, {"track_number": "1ZNOCM", "title": "UPS", "carrier_code": "ups"})
    clock.advance(3600)
    assert sandbox.channel_manager_events() == []
    assert line_statuses(_walmart(sandbox, "000000101"), "1") == [("Acknowledged", "1")]
