"""The simulated Walmart API: one test per rule, asserting status and the real error shape."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from sandbox.helpers import (
    FakeClock,
    basic_auth,
    cancel_body,
    get_token,
    line_statuses,
    po_of,
    ship_body,
    wm_base_headers,
    wm_errors,
)
from wmsync.sandbox import Sandbox
from wmsync.walmart.enums import carriers

# --- token and headers -------------------------------------------------------------------------------------------


def test_token_issued_with_ttl_and_detail_reports_scopes(client: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.update_settings(token_ttl=120)
    r = client.post(
        "/v3/token",
        data={"grant_type": "client_credentials"},
        headers={**wm_base_headers(), "Authorization": basic_auth()},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 120
    detail = client.get("/v3/token/detail", headers={**wm_base_headers(), "WM_SEC.ACCESS_TOKEN": body["access_token"]})
    assert detail.status_code == 200
    d = detail.json()
    assert d["is_valid"] is True
    assert d["scopes"]["orders"] == "full_access"
    assert int(d["expire_at"]) - int(d["issued_at"]) == 120_000


@pytest.mark.parametrize(
    "auth",
    [basic_auth(secret="wrong"), basic_auth(client_id="someone-else"), "Bearer abc", "Basic !!!", ""],
)
def test_token_refused_for_bad_client_credentials(client: httpx.Client, auth: str) -> None:
    headers = {**wm_base_headers()}
    if auth:
        headers["Authorization"] = auth
    r = client.post("/v3/token", data={"grant_type": "client_credentials"}, headers=headers)
    assert r.status_code == 401
    (err,) = wm_errors(r)
    assert err["code"] == "UNAUTHORIZED.GMP_GATEWAY_API"


def test_token_needs_client_credentials_grant(client: httpx.Client) -> None:
    r = client.post(
        "/v3/token", data={"grant_type": "password"}, headers={**wm_base_headers(), "Authorization": basic_auth()}
    )
    assert r.status_code == 400
    assert wm_errors(r)[0]["field"] == "grant_type"


@pytest.mark.parametrize("missing", ["WM_SVC.NAME", "WM_QOS.CORRELATION_ID"])
def test_required_headers(client: httpx.Client, wm: dict[str, str], missing: str) -> None:
    headers = {k: v for k, v in wm.items() if k != missing}
    r = client.get("/v3/orders", headers=headers)
    assert r.status_code == 400
    (err,) = wm_errors(r)
    assert err["code"] == "MISSING_REQUEST_HEADER.GMP_GATEWAY_API"
    assert err["field"] == missing


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_missing_or_unknown_token_is_401(client: httpx.Client, token: str | None) -> None:
    headers = wm_base_headers()
    if token:
        headers["WM_SEC.ACCESS_TOKEN"] = token
    r = client.get("/v3/orders", headers=headers)
    assert r.status_code == 401
    assert wm_errors(r)[0]["code"] == "UNAUTHORIZED.GMP_GATEWAY_API"


def test_expired_token_is_400_invalid_token_in_gateway_shape(
    client: httpx.Client, wm: dict[str, str], clock: FakeClock
) -> None:
    assert client.get("/v3/orders", headers=wm).status_code == 200
    clock.advance(901)
    r = client.get("/v3/orders", headers=wm)
    assert r.status_code == 400
    body = r.json()
    assert list(body) == ["error"]
    assert body["error"][0]["code"] == "INVALID_TOKEN.GMP_GATEWAY_API"
    detail = client.get("/v3/token/detail", headers=wm)
    assert detail.status_code == 200
    assert detail.json()["is_valid"] is False
    # a new token works again
    fresh = {**wm, "WM_SEC.ACCESS_TOKEN": get_token(client)}
    assert client.get("/v3/orders", headers=fresh).status_code == 200


def test_expire_tokens_mid_run(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    assert client.get("/v3/orders", headers=wm).status_code == 200
    assert sandbox.expire_tokens() == 1
    assert client.get("/v3/orders", headers=wm).status_code == 400


# --- reads ----------------------------------------------------------------------------------------------------------


def test_get_order_shape(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000101")
    r = client.get(f"/v3/orders/{po}", headers=wm)
    assert r.status_code == 200
    order = r.json()["order"]
    assert order["purchaseOrderId"] == po
    assert isinstance(order["orderDate"], int)
    line = order["orderLines"]["orderLine"][0]
    assert line["lineNumber"] == "1"
    assert line["orderLineQuantity"] == {"unitOfMeasurement": "EACH", "amount": "1"}
    assert line_statuses(order, "1") == [("Acknowledged", "1")]
    assert order["shippingInfo"]["methodCode"] == "Standard"


def test_get_unknown_order_is_404(client: httpx.Client, wm: dict[str, str]) -> None:
    r = client.get("/v3/orders/999999999999999", headers=wm)
    assert r.status_code == 404
    assert wm_errors(r)[0]["code"] == "CONTENT_NOT_FOUND.GMP_ORDER_API"


def test_list_filters(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000104")
    by_po = client.get("/v3/orders", params={"purchaseOrderId": po}, headers=wm).json()["list"]
    assert by_po["meta"]["totalCount"] == 1
    assert by_po["elements"]["order"][0]["purchaseOrderId"] == po
    customer = by_po["elements"]["order"][0]["customerOrderId"]
    by_customer = client.get("/v3/orders", params={"customerOrderId": customer}, headers=wm).json()["list"]
    assert [o["purchaseOrderId"] for o in by_customer["elements"]["order"]] == [po]

    by_sku = client.get("/v3/orders", params={"sku": "WM-BOTTLE-005", "limit": 200}, headers=wm).json()["list"]
    for order in by_sku["elements"]["order"]:
        assert any(ol["item"]["sku"] == "WM-BOTTLE-005" for ol in order["orderLines"]["orderLine"])
    assert po in {o["purchaseOrderId"] for o in by_sku["elements"]["order"]}

    created = client.get("/v3/orders", params={"status": "Created", "limit": 200}, headers=wm).json()["list"]
    pos = {o["purchaseOrderId"] for o in created["elements"]["order"]}
    assert po_of(sandbox, "000000102") in pos
    assert po_of(sandbox, "000000101") not in pos


def test_list_no_match_is_404_content_not_found(client: httpx.Client, wm: dict[str, str]) -> None:
    r = client.get("/v3/orders", params={"sku": "NO-SUCH-SKU"}, headers=wm)
    assert r.status_code == 404
    assert wm_errors(r)[0]["code"] == "CONTENT_NOT_FOUND.GMP_ORDER_API"


def test_list_default_window_is_seven_days(client: httpx.Client, wm: dict[str, str], clock: FakeClock) -> None:
    assert client.get("/v3/orders", headers=wm).status_code == 200
    clock.advance(8 * 86400)
    fresh = {**wm, "WM_SEC.ACCESS_TOKEN": get_token(client)}
    assert client.get("/v3/orders", headers=fresh).status_code == 404
    old = client.get("/v3/orders", params={"createdStartDate": "2026-01-01"}, headers=fresh)
    assert old.status_code == 200


def test_list_dates_filter(client: httpx.Client, wm: dict[str, str], clock: FakeClock, sandbox: Sandbox) -> None:
    # the unimported PO was placed 10 minutes before the reset, every other order at least 35 hours before
    start = int((clock.now - 3600) * 1000)
    r = client.get("/v3/orders", params={"createdStartDate": str(start)}, headers=wm).json()["list"]
    assert r["meta"]["totalCount"] == 1
    iso = client.get("/v3/orders", params={"createdStartDate": "2000-01-01T00:00:00Z", "limit": 1}, headers=wm)
    # the WFS and the 3PL order are listed only when shipNodeType asks for them
    assert iso.json()["list"]["meta"]["totalCount"] == len(sandbox.walmart_pos()) - 2
    bad = client.get("/v3/orders", params={"createdStartDate": "yesterday"}, headers=wm)
    assert bad.status_code == 400
    assert wm_errors(bad)[0]["field"] == "createdStartDate"


def test_list_limit_over_200_refused(client: httpx.Client, wm: dict[str, str]) -> None:
    r = client.get("/v3/orders", params={"limit": 201}, headers=wm)
    assert r.status_code == 400
    assert wm_errors(r)[0]["field"] == "limit"


def test_list_cursor_paging_visits_every_order_once(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    seen: list[str] = []
    r = client.get("/v3/orders", params={"limit": 7}, headers=wm)
    pages = 0
    while True:
        assert r.status_code == 200
        lst = r.json()["list"]
        assert lst["meta"]["limit"] == 7
        seen += [o["purchaseOrderId"] for o in lst["elements"]["order"]]
        pages += 1
        cursor = lst["meta"].get("nextCursor")
        if not cursor:
            break
        assert cursor.startswith("?")
        assert parse_qs(cursor[1:])["hasMoreElements"] == ["true"]
        r = client.get("/v3/orders" + cursor, headers=wm)
    assert len(seen) == len(set(seen)) == len(sandbox.walmart_pos()) - 2 == 31  # not the WFS and 3PL ones
    assert pages == 5


# --- acknowledge -----------------------------------------------------------------------------------------------------


def test_acknowledge_moves_created_lines(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000113")
    before = sandbox.walmart_order(po)
    assert before is not None
    assert {line_statuses(before, str(n))[0][0] for n in (1, 2, 3)} == {"Created"}
    r = client.post(f"/v3/orders/{po}/acknowledge", headers={**wm, "Content-Type": "application/json"})
    assert r.status_code == 200
    order = r.json()["order"]
    assert [line_statuses(order, str(n)) for n in (1, 2, 3)] == [[("Acknowledged", "1")]] * 3


def test_bodiless_post_without_json_content_type_is_a_gateway_520(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox
) -> None:
    po = po_of(sandbox, "000000113")
    r = client.post(f"/v3/orders/{po}/acknowledge", headers=wm)
    assert r.status_code == 520
    assert wm_errors(r)[0]["code"] == "SYSTEM_ERROR.GMP_GATEWAY_API"
    order = sandbox.walmart_order(po)
    assert order is not None
    assert {line_statuses(order, str(n))[0][0] for n in (1, 2, 3)} == {"Created"}


# --- ship ------------------------------------------------------------------------------------------------------------


def _ship(client: httpx.Client, wm: dict[str, str], po: str, body: object) -> httpx.Response:
    return client.post(f"/v3/orders/{po}/shipping", json=body, headers=wm)


def test_ship_success_returns_updated_order(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000101")
    r = _ship(client, wm, po, ship_body(tracking="1ZSHIP0001"))
    assert r.status_code == 200
    order = r.json()["order"]
    status = order["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"]
    assert [(s["status"], s["statusQuantity"]["amount"]) for s in status] == [("Shipped", "1")]
    info = status[0]["trackingInfo"]
    assert info["trackingNumber"] == "1ZSHIP0001"
    assert info["carrierName"] == {"carrier": "UPS"}
    assert "1ZSHIP0001" in sandbox.walmart_shipments_by_tracking()


def test_reposting_a_shipment_gives_shipped_status_error(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox
) -> None:
    po = po_of(sandbox, "000000107")  # seeded as shipped
    r = _ship(client, wm, po, ship_body(tracking="1Z999AA10123456784", seller_order_id="000000107"))
    assert r.status_code == 400
    (err,) = wm_errors(r)
    assert err["code"] == "INVALID_REQUEST_CONTENT.GMP_ORDER_API"
    assert err["description"].endswith(f"The Line: 1 of PO: {po} is in SHIPPED status")


def test_created_lines_do_not_ship(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000102")
    r = _ship(client, wm, po, ship_body())
    assert r.status_code == 400
    assert "is in CREATED status" in wm_errors(r)[0]["description"]
    client.post(f"/v3/orders/{po}/acknowledge", headers={**wm, "Content-Type": "application/json"})
    assert _ship(client, wm, po, ship_body()).status_code == 200


def test_cancelled_line_does_not_ship(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000108")
    r = _ship(client, wm, po, ship_body())
    assert r.status_code == 400
    assert "is in CANCELLED status" in wm_errors(r)[0]["description"]


@pytest.mark.parametrize("carrier", ["Fedex", "FEDEX", "ups", "United Parcel Service", "FedEx Ground"])
def test_carrier_must_be_spelled_as_in_the_spec(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox, carrier: str
) -> None:
    r = _ship(client, wm, po_of(sandbox, "000000101"), ship_body(carrier={"carrier": carrier}))
    assert r.status_code == 400
    (err,) = wm_errors(r)
    assert err["field"] == "carrier"
    assert carrier in err["description"]


def test_every_spec_carrier_is_accepted(sandbox: Sandbox) -> None:
    from wmsync.sandbox import walmart

    po = po_of(sandbox, "000000101")
    conn = sandbox.db.connection()
    for name in carriers():
        assert walmart.validate_ship(conn, po, ship_body(carrier={"carrier": name}))


def test_other_carrier_needs_tracking_url(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000101")
    r = _ship(client, wm, po, ship_body(carrier={"otherCarrier": "Acme Freight"}))
    assert r.status_code == 400
    assert wm_errors(r)[0]["field"] == "trackingURL"
    ok = _ship(client, wm, po, ship_body(carrier={"otherCarrier": "Acme Freight"}, url="https://acme.example/t/1"))
    assert ok.status_code == 200
    info = ok.json()["order"]["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]
    assert info["trackingInfo"]["carrierName"] == {"otherCarrier": "Acme Freight"}


@pytest.mark.parametrize("method", ["Ground", "standard", "Express"])
def test_method_code_must_be_valid_and_fit_the_order(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox, method: str
) -> None:
    r = _ship(client, wm, po_of(sandbox, "000000101"), ship_body(method=method))
    assert r.status_code == 400
    (err,) = wm_errors(r)
    assert err["description"] == "Method code is not supported in line number 1"
    assert err["field"] == "methodCode"


def test_method_code_of_express_order(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000119")
    assert _ship(client, wm, po, ship_body(method="Standard")).status_code == 400
    assert _ship(client, wm, po, ship_body(method="Express")).status_code == 200


@pytest.mark.parametrize(
    "ship_ms",
    [1_700_000_000, 638_000_000_000_000_000, "2024-05-01T10:00:00Z", 1.7e12, None],
)
def test_ship_date_must_be_epoch_milliseconds(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox, ship_ms: object
) -> None:
    body = ship_body(ship_ms=ship_ms if ship_ms is not None else "x")
    if ship_ms is None:
        body["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0][
            "trackingInfo"
        ].pop("shipDateTime")
    r = _ship(client, wm, po_of(sandbox, "000000101"), body)
    assert r.status_code == 400
    assert wm_errors(r)[0]["field"] == "shipDateTime"


def test_seller_order_id_at_most_30_characters(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000101")
    r = _ship(client, wm, po, ship_body(seller_order_id="x" * 31))
    assert r.status_code == 400
    assert wm_errors(r)[0]["field"] == "sellerOrderId"
    assert _ship(client, wm, po, ship_body(seller_order_id="x" * 30)).status_code == 200


def test_amount_must_be_a_string(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    body = ship_body()
    status = body["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]
    status["statusQuantity"]["amount"] = 1
    r = _ship(client, wm, po_of(sandbox, "000000101"), body)
    assert r.status_code == 400
    assert wm_errors(r)[0]["field"] == "amount"


def test_no_over_shipping(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000123")  # one line of qty 2
    r = _ship(client, wm, po, ship_body([("1", 3)]))
    assert r.status_code == 400
    assert wm_errors(r)[0]["field"] == "statusQuantity"
    assert sandbox.walmart_shipments_by_tracking().get("1Z999AA10000000001") is None


def test_partial_shipping_leaves_line_part_shipped_part_acknowledged(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox
) -> None:
    po = po_of(sandbox, "000000123")
    r = _ship(client, wm, po, ship_body([("1", 1)], tracking="T-PART-1"))
    assert r.status_code == 200
    assert sorted(line_statuses(r.json()["order"], "1")) == [("Acknowledged", "1"), ("Shipped", "1")]
    r = _ship(client, wm, po, ship_body([("1", 1)], tracking="T-PART-2"))
    assert r.status_code == 200
    assert line_statuses(r.json()["order"], "1") == [("Shipped", "1"), ("Shipped", "1")]
    again = _ship(client, wm, po, ship_body([("1", 1)], tracking="T-PART-3"))
    assert "is in SHIPPED status" in wm_errors(again)[0]["description"]


def test_split_lines_ship_one_by_one(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000104")
    r = _ship(client, wm, po, ship_body([("1", 1), ("2", 1), ("3", 1)], tracking="T-SPLIT"))
    assert r.status_code == 200
    assert [line_statuses(r.json()["order"], str(n)) for n in (1, 2, 3)] == [[("Shipped", "1")]] * 3


def test_multi_line_request_is_all_or_nothing(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000110")  # line 1 shipped, line 2 open
    r = _ship(client, wm, po, ship_body([("2", 2), ("1", 1)], tracking="T-MIX"))
    assert r.status_code == 400
    order = sandbox.walmart_order(po)
    assert order is not None
    assert line_statuses(order, "2") == [("Acknowledged", "2")]


def test_unknown_line_number(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    r = _ship(client, wm, po_of(sandbox, "000000101"), ship_body([("9", 1)]))
    assert r.status_code == 400
    assert wm_errors(r)[0]["field"] == "lineNumber"


def test_intent_to_cancel_blocks_shipping_unless_overridden(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox
) -> None:
    po = po_of(sandbox, "000000106")
    order = sandbox.walmart_order(po)
    assert order is not None
    assert order["orderLines"]["orderLine"][0]["intentToCancel"] == "true"
    assert "intentToCancel" not in order["orderLines"]["orderLine"][1]
    blocked = _ship(client, wm, po, ship_body([("1", 1)]))
    assert blocked.status_code == 400
    assert wm_errors(blocked)[0]["field"] == "intentToCancelOverride"
    assert _ship(client, wm, po, ship_body([("2", 1)])).status_code == 200
    assert _ship(client, wm, po, ship_body([("1", 1)], override=True)).status_code == 200


def test_malformed_body(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000101")
    r = client.post(
        f"/v3/orders/{po}/shipping", content=b"{not json", headers={**wm, "Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert wm_errors(r)[0]["code"] == "INVALID_REQUEST_CONTENT.GMP_ORDER_API"
    r = _ship(client, wm, po, {"orderLines": []})
    assert r.status_code == 400


# --- cancel ----------------------------------------------------------------------------------------------------------


def _cancel(client: httpx.Client, wm: dict[str, str], po: str, body: object) -> httpx.Response:
    return client.post(f"/v3/orders/{po}/cancel", json=body, headers=wm)


def test_cancel_success(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000103")
    r = _cancel(client, wm, po, cancel_body([("1", 1), ("2", 1)], "SELLER_CANCEL_PRICING_ERROR"))
    assert r.status_code == 200
    order = r.json()["order"]
    assert line_statuses(order, "1") == [("Cancelled", "1")]
    status = order["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]
    assert status["cancellationReason"] == "SELLER_CANCEL_PRICING_ERROR"
    assert [c["reason"] for c in sandbox.cancellations(po)] == ["SELLER_CANCEL_PRICING_ERROR"] * 2


def test_cancel_reason_from_enum(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    r = _cancel(client, wm, po_of(sandbox, "000000101"), cancel_body([("1", 1)], "OUT_OF_STOCK"))
    assert r.status_code == 400
    assert wm_errors(r)[0]["field"] == "cancellationReason"


def test_shipped_quantities_cannot_be_cancelled(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    po = po_of(sandbox, "000000114")  # qty 2: 1 shipped, 1 open
    r = _cancel(client, wm, po, cancel_body([("1", 2)]))
    assert r.status_code == 400
    assert "can only be refunded" in wm_errors(r)[0]["description"]
    ok = _cancel(client, wm, po, cancel_body([("1", 1)]))
    assert ok.status_code == 200
    assert sorted(line_statuses(ok.json()["order"], "1")) == [("Cancelled", "1"), ("Shipped", "1")]
    closed = _cancel(client, wm, po_of(sandbox, "000000107"), cancel_body([("1", 1)]))
    assert "is in SHIPPED status" in wm_errors(closed)[0]["description"]


def test_already_cancelled_is_an_error(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    r = _cancel(client, wm, po_of(sandbox, "000000108"), cancel_body([("1", 1)]))
    assert r.status_code == 400
    assert "is in CANCELLED status" in wm_errors(r)[0]["description"]


def test_created_lines_can_be_cancelled(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    r = _cancel(client, wm, po_of(sandbox, "000000102"), cancel_body([("1", 1)]))
    assert r.status_code == 200


# --- throttling ------------------------------------------------------------------------------------------------------


def test_ship_rate_limit_gives_429_with_retry_after(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox, clock: FakeClock
) -> None:
    sandbox.update_settings(ship_rate_per_min=2)
    pos = [po_of(sandbox, f"000000{n}") for n in (127, 128, 129)]
    first = _ship(client, wm, pos[0], ship_body(tracking="RL1"))
    assert first.status_code == 200
    assert first.headers["x-current-token-count"] == "1"
    assert _ship(client, wm, pos[1], ship_body(tracking="RL2")).status_code == 200
    r = _ship(client, wm, pos[2], ship_body(tracking="RL3"))
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "30"
    assert r.headers["x-current-token-count"] == "0"
    assert int(r.headers["X-Next-Replenishment-Time"]) == int((clock.now + 30) * 1000)
    assert wm_errors(r)[0]["code"] == "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"
    assert "RL3" not in sandbox.walmart_shipments_by_tracking()
    # cancel has its own bucket; reads are not limited
    assert _cancel(client, wm, po_of(sandbox, "000000130"), cancel_body([("1", 1)])).status_code == 200
    assert client.get("/v3/orders", headers=wm).status_code == 200
    clock.advance(30)
    assert _ship(client, wm, pos[2], ship_body(tracking="RL3")).status_code == 200


def test_read_rate_limit(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    sandbox.update_settings(read_rate_per_min=3)
    codes = [client.get("/v3/orders", headers=wm).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_token_is_xml_without_accept_json(client: httpx.Client) -> None:
    headers = {k: v for k, v in wm_base_headers().items() if k != "Accept"}
    r = client.post(
        "/v3/token", data={"grant_type": "client_credentials"}, headers={**headers, "Authorization": basic_auth()}
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/xml"
    assert r.text.startswith("<?xml")
    assert "<accessToken>" in r.text


def test_acknowledge_rate_limit_has_its_own_bucket(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    sandbox.update_settings(acknowledge_rate_per_min=2, ship_rate_per_min=100)
    po = po_of(sandbox, "000000102")
    ack_headers = {**wm, "Content-Type": "application/json"}
    codes = [client.post(f"/v3/orders/{po}/acknowledge", headers=ack_headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    # ship is counted in its own bucket
    assert _ship(client, wm, po_of(sandbox, "000000127"), ship_body(tracking="RA1")).status_code == 200


def test_reads_of_one_order_and_the_listing_are_counted_apart(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox
) -> None:
    sandbox.update_settings(read_rate_per_min=2)
    po = po_of(sandbox, "000000101")
    assert [client.get("/v3/orders", headers=wm).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(f"/v3/orders/{po}", headers=wm).status_code == 200


def test_rate_burst_is_a_few_seconds_of_the_rate(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox, clock: FakeClock
) -> None:
    sandbox.update_settings(ship_rate_per_min=60, rate_burst_seconds=2)
    pos = [po_of(sandbox, f"000000{n}") for n in (127, 128, 129)]
    assert _ship(client, wm, pos[0], ship_body(tracking="RB1")).status_code == 200
    assert _ship(client, wm, pos[1], ship_body(tracking="RB2")).status_code == 200
    r = _ship(client, wm, pos[2], ship_body(tracking="RB3"))
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"
    clock.advance(1)
    assert _ship(client, wm, pos[2], ship_body(tracking="RB3")).status_code == 200


# --- tracking correction (processMode PARTIAL_UPDATE) ----------------------------------------------------------------


def _update_body(old: str, new: str, qty: int = 1) -> dict[str, object]:
    body = ship_body(tracking=new)
    body["orderShipment"]["processMode"] = "PARTIAL_UPDATE"  # type: ignore[index]
    status = body["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]  # type: ignore[index]
    status["statusQuantity"]["amount"] = str(qty)
    status["currentTrackingInfo"] = {"trackingNumber": old}
    return body


def _shipped_tracking(sandbox: Sandbox, po: str) -> list[str]:
    return [t for t, rows in sandbox.walmart_shipments_by_tracking().items() if any(r["po"] == po for r in rows)]


def test_partial_update_replaces_the_tracking_of_shipped_lines(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox, clock: FakeClock
) -> None:
    po = po_of(sandbox, "000000101")
    assert _ship(client, wm, po, ship_body(tracking="1ZOLD0001")).status_code == 200
    clock.advance(3600)
    wm = {**wm_base_headers(), "WM_SEC.ACCESS_TOKEN": get_token(client)}
    r = _ship(client, wm, po, _update_body("1ZOLD0001", "1ZNEW0001"))
    assert r.status_code == 200, r.text
    assert _shipped_tracking(sandbox, po) == ["1ZNEW0001"]
    status = r.json()["order"]["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"]
    assert [(s["status"], s["trackingInfo"]["trackingNumber"]) for s in status] == [("Shipped", "1ZNEW0001")]


def test_partial_update_refused_when_the_tracking_is_not_on_the_line(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox
) -> None:
    po = po_of(sandbox, "000000101")
    assert _ship(client, wm, po, ship_body(tracking="1ZOLD0001")).status_code == 200
    r = _ship(client, wm, po, _update_body("1ZNOTTHERE", "1ZNEW0001"))
    assert r.status_code == 400
    assert "currentTrackingInfo" in r.text
    assert _shipped_tracking(sandbox, po) == ["1ZOLD0001"]


def test_partial_update_refused_on_a_line_not_shipped(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox
) -> None:
    po = po_of(sandbox, "000000101")
    r = _ship(client, wm, po, _update_body("1ZOLD0001", "1ZNEW0001"))
    assert r.status_code == 400
    assert "Shipped" in r.text
    assert _shipped_tracking(sandbox, po) == []


def test_partial_update_refused_after_the_update_window(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox, clock: FakeClock
) -> None:
    po = po_of(sandbox, "000000101")
    assert _ship(client, wm, po, ship_body(tracking="1ZOLD0001")).status_code == 200
    clock.advance(4 * 3600 + 1)
    wm = {**wm_base_headers(), "WM_SEC.ACCESS_TOKEN": get_token(client)}
    r = _ship(client, wm, po, _update_body("1ZOLD0001", "1ZNEW0001"))
    assert r.status_code == 400
    assert "4 hours" in r.text
    assert _shipped_tracking(sandbox, po) == ["1ZOLD0001"]
    # the window is a sandbox setting
    sandbox.update_settings(tracking_update_window_s=24 * 3600)
    assert _ship(client, wm, po, _update_body("1ZOLD0001", "1ZNEW0001")).status_code == 200
    assert _shipped_tracking(sandbox, po) == ["1ZNEW0001"]
