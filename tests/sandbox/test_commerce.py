"""The simulated Commerce API: auth, searchCriteria, orders, comments, ship, cancel, shipments."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, Client

from wmsync.sandbox import BASE_URL, CREDENTIALS, Sandbox

UNAUTHORIZED = "The consumer isn't authorized to access %resources."


def criteria(
    *groups: list[tuple[str, str, str | None]],
    page_size: int | None = None,
    page: int | None = None,
    sort: list[tuple[str, str]] | None = None,
    camel: bool = False,
) -> dict[str, str]:
    fg, ct, ps, cp, so = (
        ("filterGroups", "conditionType", "pageSize", "currentPage", "sortOrders")
        if camel
        else ("filter_groups", "condition_type", "pageSize", "currentPage", "sortOrders")
    )
    params: dict[str, str] = {}
    for g, filters in enumerate(groups):
        for f, (field, value, cond) in enumerate(filters):
            prefix = f"searchCriteria[{fg}][{g}][filters][{f}]"
            params[f"{prefix}[field]"] = field
            params[f"{prefix}[value]"] = value
            if cond is not None:
                params[f"{prefix}[{ct}]"] = cond
    for i, (field, direction) in enumerate(sort or []):
        params[f"searchCriteria[{so}][{i}][field]"] = field
        params[f"searchCriteria[{so}][{i}][direction]"] = direction
    if page_size is not None:
        params[f"searchCriteria[{ps}]"] = str(page_size)
    if page is not None:
        params[f"searchCriteria[{cp}]"] = str(page)
    if not params:
        params["searchCriteria"] = ""
    return params


def search(
    client: httpx.Client, mg: dict[str, str], params: dict[str, str], path: str = "/rest/default/V1/orders"
) -> Any:
    r = client.get(path, params=params, headers=mg)
    assert r.status_code == 200, r.text
    return r.json()


def increments(result: Any) -> list[str]:
    return [o["increment_id"] for o in result["items"]]


def oauth_client(**overrides: Any) -> Client:
    kwargs: dict[str, Any] = {
        "client_key": CREDENTIALS["COMMERCE_CONSUMER_KEY"],
        "client_secret": CREDENTIALS["COMMERCE_CONSUMER_SECRET"],
        "resource_owner_key": CREDENTIALS["COMMERCE_ACCESS_TOKEN"],
        "resource_owner_secret": CREDENTIALS["COMMERCE_ACCESS_TOKEN_SECRET"],
        "signature_method": SIGNATURE_HMAC_SHA256,
    }
    kwargs.update(overrides)
    return Client(**kwargs)


def signed_get(client: httpx.Client, path: str, params: dict[str, str], oc: Client) -> httpx.Response:
    url = f"{BASE_URL}{path}?{urlencode(params)}"
    uri, headers, _ = oc.sign(url, http_method="GET")
    return client.get(uri, headers=headers)


# --- auth ------------------------------------------------------------------------------------------------------------


def test_bearer_token(client: httpx.Client, mg: dict[str, str]) -> None:
    assert client.get("/rest/default/V1/orders/1", headers=mg).status_code == 200
    assert client.get("/rest/V1/orders/1", headers=mg).status_code == 200
    assert client.get("/rest/all/V1/orders/1", headers=mg).status_code == 200


@pytest.mark.parametrize("auth", [None, "Bearer wrong-token", "Basic abc"])
def test_unauthorized_shape(client: httpx.Client, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    r = client.get("/rest/default/V1/orders", params=criteria(), headers=headers)
    assert r.status_code == 401
    assert r.json() == {"message": UNAUTHORIZED, "parameters": {"resources": "Magento_Sales::actions_view"}}


def test_unauthorized_names_the_acl_resource(client: httpx.Client) -> None:
    r = client.post("/rest/default/V1/order/1/ship", json={})
    assert r.json()["parameters"] == {"resources": "Magento_Sales::ship"}
    r = client.post("/rest/default/V1/orders/1/cancel")
    assert r.json()["parameters"] == {"resources": "Magento_Sales::cancel"}


def test_bearer_refused_when_the_store_disables_it(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    sandbox.update_settings(commerce_bearer=False)
    assert client.get("/rest/default/V1/orders/1", headers=mg).status_code == 401
    r = signed_get(client, "/rest/default/V1/orders", criteria(page_size=1), oauth_client())
    assert r.status_code == 200


@pytest.mark.parametrize("method", [SIGNATURE_HMAC_SHA256, SIGNATURE_HMAC_SHA1])
def test_oauth1_signed_request_with_query(client: httpx.Client, method: str) -> None:
    params = criteria([("increment_id", "000000101", "eq")], page_size=5)
    r = signed_get(client, "/rest/default/V1/orders", params, oauth_client(signature_method=method))
    assert r.status_code == 200, r.text
    assert increments(r.json()) == ["000000101"]


def test_oauth1_signed_post_with_json_body(client: httpx.Client, sandbox: Sandbox) -> None:
    url = f"{BASE_URL}/rest/default/V1/orders/1/comments"
    body = b'{"statusHistory": {"comment": "signed", "is_customer_notified": 0, "is_visible_on_front": 0}}'
    uri, headers, _ = oauth_client().sign(url, http_method="POST")
    r = client.post(uri, content=body, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 200
    assert r.json() is True
    assert sandbox.comments(1)[-1]["comment"] == "signed"


@pytest.mark.parametrize(
    "client_kwargs",
    [
        {"client_secret": "wrong"},
        {"resource_owner_secret": "wrong"},
        {"client_key": "other-consumer"},
        {"resource_owner_key": "other-token"},
    ],
)
def test_oauth1_bad_signature_or_key(client: httpx.Client, client_kwargs: dict[str, str]) -> None:
    r = signed_get(client, "/rest/default/V1/orders", criteria(page_size=1), oauth_client(**client_kwargs))
    assert r.status_code == 401
    assert r.json()["message"] == UNAUTHORIZED


@pytest.mark.parametrize(
    "forwarded",
    [{"Forwarded": "host=127.0.0.1:4010"}, {"X-Forwarded-Host": "127.0.0.1:4010", "X-Forwarded-Proto": "http"}],
)
def test_oauth1_behind_a_proxy_uses_the_forwarded_host(client: httpx.Client, forwarded: dict[str, str]) -> None:
    """Prism rewrites Host to the upstream and keeps the original in Forwarded: the client signed that one."""
    params = criteria(page_size=1)
    signed_url = f"http://127.0.0.1:4010/rest/default/V1/orders?{urlencode(params)}"
    _, headers, _ = oauth_client().sign(signed_url, http_method="GET")
    r = client.get("/rest/default/V1/orders", params=params, headers={**headers, **forwarded})
    assert r.status_code == 200
    r = client.get("/rest/default/V1/orders", params=params, headers=headers)
    assert r.status_code == 401


def test_oauth1_behind_a_host_rewriting_proxy_needs_its_base_url(client: httpx.Client, sandbox: Sandbox) -> None:
    """Stoplight Prism rewrites Host and forwards nothing: the setting names the URL the client signed."""
    params = criteria(page_size=1)
    _, headers, _ = oauth_client().sign(
        f"http://127.0.0.1:4010/rest/default/V1/orders?{urlencode(params)}", http_method="GET"
    )
    assert client.get("/rest/default/V1/orders", params=params, headers=headers).status_code == 401
    sandbox.update_settings(oauth_base_urls=("http://127.0.0.1:4010",))
    assert client.get("/rest/default/V1/orders", params=params, headers=headers).status_code == 200


def test_oauth1_signature_covers_method_url_and_query(client: httpx.Client) -> None:
    oc = oauth_client()
    url = f"{BASE_URL}/rest/default/V1/orders?{urlencode(criteria(page_size=1))}"
    uri, headers, _ = oc.sign(url, http_method="GET")
    tampered = uri.replace("pageSize%5D=1", "pageSize%5D=2")
    assert tampered != uri
    assert client.get(tampered, headers=headers).status_code == 401
    assert client.get(uri.replace("/rest/default/", "/rest/all/"), headers=headers).status_code == 401
    assert client.get(uri, headers=headers).status_code == 200


# --- routing and errors ----------------------------------------------------------------------------------------------


def test_unknown_route_and_entity(client: httpx.Client, mg: dict[str, str]) -> None:
    r = client.get("/rest/default/V1/nothing", headers=mg)
    assert r.status_code == 404
    assert r.json() == {"message": "Request does not match any route."}
    r = client.get("/rest/default/V1/orders/9999", headers=mg)
    assert r.status_code == 404
    assert r.json() == {"message": "The entity that was requested doesn't exist. Verify the entity and try again."}


def test_search_criteria_is_required(client: httpx.Client, mg: dict[str, str]) -> None:
    r = client.get("/rest/default/V1/orders", headers=mg)
    assert r.status_code == 400
    assert r.json() == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "searchCriteria"},
    }


def test_unknown_filter_field_is_a_masked_internal_error(client: httpx.Client, mg: dict[str, str]) -> None:
    r = client.get("/rest/default/V1/orders", params=criteria([("no_such_column", "x", "eq")]), headers=mg)
    assert r.status_code == 500
    assert r.json()["message"].startswith(
        "Internal Error. Details are available in Magento log file. Report ID: webapi-"
    )


# --- searchCriteria semantics ----------------------------------------------------------------------------------------


def test_get_order_by_increment_id(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    result = search(client, mg, criteria([("increment_id", "000000104", "eq")]))
    assert result["total_count"] == 1
    order = result["items"][0]
    assert order["entity_id"] == 4
    assert order == sandbox.commerce_order(4)
    assert result["search_criteria"] == {
        "filter_groups": [{"filters": [{"field": "increment_id", "value": "000000104", "condition_type": "eq"}]}]
    }


def test_default_condition_is_eq_and_camel_case_works(client: httpx.Client, mg: dict[str, str]) -> None:
    snake = search(client, mg, criteria([("increment_id", "000000101", None)]))
    camel = search(client, mg, criteria([("increment_id", "000000101", "eq")], camel=True, page_size=5, page=1))
    assert increments(snake) == increments(camel) == ["000000101"]
    assert camel["search_criteria"]["page_size"] == 5


def test_or_inside_group_and_across_groups(client: httpx.Client, mg: dict[str, str]) -> None:
    either = criteria([("increment_id", "000000101", "eq"), ("increment_id", "000000111", "eq")])
    assert increments(search(client, mg, either)) == ["000000101", "000000111"]
    both = criteria(
        [("increment_id", "000000101", "eq"), ("increment_id", "000000111", "eq")],
        [("ext_order_id", "", "notnull")],
    )
    assert increments(search(client, mg, both)) == ["000000101"]


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("in", "000000101,000000103", ["000000101", "000000103"]),
        ("like", "00000011%", [f"0000001{n}" for n in range(10, 20)]),
        ("null", "", ["000000111"]),
        ("gteq", "29", ["000000129", "000000130", "000000131", "000000132", "000000133", "000000134", "000000135"]),
        ("gt", "29", ["000000130", "000000131", "000000132", "000000133", "000000134", "000000135"]),
        ("lt", "2", ["000000101"]),
        ("lteq", "2", ["000000101", "000000102"]),
        ("neq", "1", [f"000000{n}" for n in range(102, 136)]),
    ],
)
def test_condition_types(
    client: httpx.Client, mg: dict[str, str], condition: str, value: str, expected: list[str]
) -> None:
    field = {"in": "increment_id", "like": "increment_id", "null": "ext_order_id"}.get(condition, "entity_id")
    assert increments(search(client, mg, criteria([(field, value, condition)]))) == expected


def test_nin_and_notnull(client: httpx.Client, mg: dict[str, str]) -> None:
    result = search(client, mg, criteria([("ext_order_id", "", "notnull")], [("state", "processing,new", "nin")]))
    assert set(increments(result)) == {"000000107", "000000108", "000000115", "000000121"}


def test_state_filter_and_sort(client: httpx.Client, mg: dict[str, str]) -> None:
    result = search(client, mg, criteria([("state", "new", "eq")], sort=[("entity_id", "DESC")]))
    assert increments(result) == ["000000113", "000000102"]


def test_paging_and_the_last_page_quirk(client: httpx.Client, mg: dict[str, str]) -> None:
    pages = [search(client, mg, criteria(page_size=7, page=p)) for p in (1, 2, 3, 4, 5, 6)]
    assert all(p["total_count"] == 35 for p in pages)
    seen = [i for p in pages[:5] for i in increments(p)]
    assert seen[:35] == [f"000000{n}" for n in range(101, 136)]
    # page 5 is the last (7 items); Magento answers any page beyond with the last page again
    assert increments(pages[4]) == [f"000000{n}" for n in range(129, 136)]
    assert increments(pages[5]) == increments(pages[4])
    assert pages[5]["search_criteria"]["current_page"] == 6


def test_without_page_size_everything_comes_back(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    sandbox.reset(orders=120, seed=3)
    result = search(client, mg, criteria())
    assert result["total_count"] == len(result["items"]) == 155


# --- orders and comments ---------------------------------------------------------------------------------------------


def test_order_fields(client: httpx.Client, mg: dict[str, str]) -> None:
    order = client.get("/rest/default/V1/orders/5", headers=mg).json()
    assert order["increment_id"] == "000000105"
    parent, child = order["items"]
    assert parent["product_type"] == "configurable"
    assert child["parent_item_id"] == parent["item_id"]
    assert child["parent_item"]["item_id"] == parent["item_id"]
    assert parent["sku"] == child["sku"] == "WM-HOODIE-M-BLUE"
    assert order["status_histories"][0]["comment"].startswith("Walmart purchase order")
    assert order["extension_attributes"]["shipping_assignments"][0]["shipping"]["method"]
    no_ext = client.get("/rest/default/V1/orders/11", headers=mg).json()
    assert "ext_order_id" not in no_ext


def test_comments_add_and_list(client: httpx.Client, mg: dict[str, str]) -> None:
    body = {
        "statusHistory": {
            "comment": "Cancelled on Walmart: SELLER_CANCEL_PRICING_ERROR",
            "is_customer_notified": 0,
            "is_visible_on_front": 0,
            "parent_id": 3,
        }
    }
    r = client.post("/rest/default/V1/orders/3/comments", json=body, headers=mg)
    assert r.status_code == 200
    assert r.json() is True
    listed = client.get("/rest/default/V1/orders/3/comments", headers=mg).json()
    assert listed["total_count"] == 2
    assert listed["items"][-1]["comment"] == body["statusHistory"]["comment"]
    assert listed["items"][-1]["status"] == "processing"
    newest = client.get("/rest/default/V1/orders/3", headers=mg).json()["status_histories"][0]
    assert newest["comment"] == body["statusHistory"]["comment"]


def test_comment_needs_status_history(client: httpx.Client, mg: dict[str, str]) -> None:
    r = client.post("/rest/default/V1/orders/3/comments", json={"comment": "x"}, headers=mg)
    assert r.status_code == 400
    assert r.json()["parameters"] == {"fieldName": "statusHistory"}
    assert (
        client.post(
            "/rest/default/V1/orders/999/comments", json={"statusHistory": {"comment": "x"}}, headers=mg
        ).status_code
        == 404
    )


# --- ship ------------------------------------------------------------------------------------------------------------


def _ship(client: httpx.Client, mg: dict[str, str], entity_id: int, body: Any) -> httpx.Response:
    return client.post(f"/rest/default/V1/order/{entity_id}/ship", json=body, headers=mg)


def _item(sandbox: Sandbox, entity_id: int, index: int = 0) -> dict[str, Any]:
    order = sandbox.commerce_order(entity_id)
    assert order is not None
    return dict(order["items"][index])


UPS = {"track_number": "1ZSANDBOX0000001", "title": "United Parcel Service", "carrier_code": "ups"}


def test_ship_returns_shipment_id_as_string_and_moves_state(
    client: httpx.Client, mg: dict[str, str], sandbox: Sandbox
) -> None:
    item = _item(sandbox, 1)
    r = _ship(
        client, mg, 1, {"items": [{"order_item_id": item["item_id"], "qty": 1}], "tracks": [UPS], "notify": False}
    )
    assert r.status_code == 200
    shipment_id = r.json()
    assert isinstance(shipment_id, str)
    shipment = client.get(f"/rest/default/V1/shipment/{shipment_id}", headers=mg).json()
    assert shipment["order_id"] == 1
    assert shipment["tracks"][0]["track_number"] == UPS["track_number"]
    assert shipment["items"][0]["qty"] == 1
    assert shipment["email_sent"] == 0
    order = sandbox.commerce_order(1)
    assert order is not None
    assert order["items"][0]["qty_shipped"] == 1
    assert order["state"] == "processing"  # not invoiced: not complete yet


def test_ship_id_as_integer_setting(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    sandbox.update_settings(ship_id_as_string=False)
    r = _ship(client, mg, 1, {"tracks": [UPS]})
    assert isinstance(r.json(), int)


def test_ship_new_order_becomes_processing(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    assert _ship(client, mg, 2, {"tracks": [UPS]}).status_code == 200
    order = sandbox.commerce_order(2)
    assert order is not None
    assert (order["state"], order["status"]) == ("processing", "processing")


def test_ship_invoiced_order_completes(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    assert _ship(client, mg, 9, {"tracks": [UPS]}).status_code == 200
    order = sandbox.commerce_order(9)
    assert order is not None
    assert order["state"] == "complete"


def test_ship_without_items_ships_everything_left(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    r = _ship(client, mg, 10, {"tracks": [UPS]})  # 000000110: item 1 shipped, item 2 (qty 2) open
    assert r.status_code == 200
    (shipment,) = [s for s in sandbox.commerce_shipments(10) if str(s["entity_id"]) == r.json()]
    assert [(i["sku"], i["qty"]) for i in shipment["items"]] == [("WM-SOCK-006", 2)]


def test_ship_quantity_is_clamped_to_what_is_left(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    item = _item(sandbox, 14)  # qty 2, 1 shipped
    r = _ship(client, mg, 14, {"items": [{"order_item_id": item["item_id"], "qty": 2}], "tracks": [UPS]})
    assert r.status_code == 200
    shipment = client.get(f"/rest/default/V1/shipment/{r.json()}", headers=mg).json()
    assert shipment["total_qty"] == 1
    assert _item(sandbox, 14)["qty_shipped"] == 2


def test_ship_fully_shipped_order_refused(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    item = _item(sandbox, 7)
    r = _ship(client, mg, 7, {"items": [{"order_item_id": item["item_id"], "qty": 1}], "tracks": [UPS]})
    assert r.status_code == 400
    assert r.json() == {
        "message": "Shipment Document Validation Error(s):\nThe order does not allow a shipment to be created.\n"
        "You can't create a shipment without products."
    }


def test_ship_already_shipped_item_of_open_order_refused(
    client: httpx.Client, mg: dict[str, str], sandbox: Sandbox
) -> None:
    shipped = _item(sandbox, 10, 0)  # shipped already; item 2 still open
    r = _ship(client, mg, 10, {"items": [{"order_item_id": shipped["item_id"], "qty": 1}], "tracks": [UPS]})
    assert r.status_code == 400
    assert (
        r.json()["message"] == "Shipment Document Validation Error(s):\nYou can't create a shipment without products."
    )


def test_ship_configurable_by_parent_not_child(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    parent, child = _item(sandbox, 5, 0), _item(sandbox, 5, 1)
    r = _ship(client, mg, 5, {"items": [{"order_item_id": child["item_id"], "qty": 1}], "tracks": [UPS]})
    assert r.status_code == 400
    assert "You can't create a shipment without products." in r.json()["message"]
    r = _ship(client, mg, 5, {"items": [{"order_item_id": parent["item_id"], "qty": 1}], "tracks": [UPS]})
    assert r.status_code == 200
    assert _item(sandbox, 5, 0)["qty_shipped"] == 1
    assert _item(sandbox, 5, 1)["qty_shipped"] == 0


@pytest.mark.parametrize(("entity_id", "status"), [(15, "holded"), (21, "payment_review"), (8, "canceled")])
def test_ship_refused_by_order_status(client: httpx.Client, mg: dict[str, str], entity_id: int, status: str) -> None:
    r = _ship(client, mg, entity_id, {"tracks": [UPS]})
    assert r.status_code == 400
    assert r.json()["message"].startswith(
        f"Shipment Document Validation Error(s):\nA shipment cannot be created when an order has a status of {status}"
    )


def test_ship_needs_a_tracking_number(client: httpx.Client, mg: dict[str, str]) -> None:
    r = _ship(client, mg, 1, {"tracks": [{"track_number": "", "title": "UPS", "carrier_code": "ups"}]})
    assert r.status_code == 400
    assert r.json()["message"] == "Shipment Document Validation Error(s):\nPlease enter a tracking number."


def test_ship_notify_comment_and_source(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    body = {
        "notify": True,
        "appendComment": True,
        "comment": {"comment": "Shipped by wmsync", "is_visible_on_front": 0},
        "tracks": [UPS],
        "arguments": {"extension_attributes": {"source_code": "warehouse_east"}},
    }
    r = _ship(client, mg, 1, body)
    shipment = client.get(f"/rest/default/V1/shipment/{r.json()}", headers=mg).json()
    assert shipment["email_sent"] == 1
    assert shipment["comments"][0]["comment"] == "Shipped by wmsync"
    assert shipment["extension_attributes"]["source_code"] == "warehouse_east"


def test_ship_is_not_idempotent(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    item = _item(sandbox, 23)  # qty 2
    body = {"items": [{"order_item_id": item["item_id"], "qty": 1}], "tracks": [UPS]}
    assert _ship(client, mg, 23, body).status_code == 200
    assert _ship(client, mg, 23, body).status_code == 200
    assert len(sandbox.commerce_shipments(23)) == 2
    assert len(sandbox.commerce_shipments_by_tracking()[UPS["track_number"]]) == 2


def test_ship_bad_json_and_unknown_order(client: httpx.Client, mg: dict[str, str]) -> None:
    r = client.post("/rest/default/V1/order/1/ship", content=b"{", headers={**mg, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["message"].startswith("Decoding error")
    assert _ship(client, mg, 4242, {}).status_code == 404


# --- cancel ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity_id", "expected"),
    [
        (1, True),  # open, not invoiced
        (2, True),  # new
        (9, False),  # fully invoiced
        (15, False),  # holded
        (21, False),  # payment_review
        (7, False),  # complete
        (8, False),  # already canceled
    ],
)
def test_cancel_returns_bare_boolean(client: httpx.Client, mg: dict[str, str], entity_id: int, expected: bool) -> None:
    r = client.post(f"/rest/default/V1/orders/{entity_id}/cancel", headers=mg)
    assert r.status_code == 200
    assert r.content in (b"true", b"false")
    assert r.json() is expected


def test_cancel_moves_counters_and_state(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    assert client.post("/rest/default/V1/orders/10/cancel", headers=mg).json() is True
    order = sandbox.commerce_order(10)
    assert order is not None
    assert order["state"] == order["status"] == "canceled"
    shipped, open_item = order["items"]
    assert (shipped["qty_shipped"], shipped["qty_canceled"]) == (1, 0)
    assert open_item["qty_canceled"] == 2
    assert client.post("/rest/default/V1/orders/10/cancel", headers=mg).json() is False


def test_hold_then_cancel_is_false(client: httpx.Client, mg: dict[str, str]) -> None:
    assert client.post("/rest/default/V1/orders/1/hold", headers=mg).json() is True
    assert client.post("/rest/default/V1/orders/1/cancel", headers=mg).json() is False
    assert client.post("/rest/default/V1/orders/1/unhold", headers=mg).json() is True
    assert client.post("/rest/default/V1/orders/1/cancel", headers=mg).json() is True


# --- shipments -------------------------------------------------------------------------------------------------------


def test_shipments_search_by_order_id(client: httpx.Client, mg: dict[str, str]) -> None:
    result = search(client, mg, criteria([("order_id", "7", "eq")]), path="/rest/default/V1/shipments")
    assert result["total_count"] == 1
    (shipment,) = result["items"]
    assert shipment["tracks"][0]["track_number"] == "1Z999AA10123456784"
    assert shipment["tracks"][0]["carrier_code"] == "ups"
    assert shipment["items"][0]["sku"] == "WM-PAN-007"
    empty = search(client, mg, criteria([("order_id", "1", "eq")]), path="/rest/default/V1/shipments")
    assert empty == {"items": [], "search_criteria": empty["search_criteria"], "total_count": 0}


def test_unknown_shipment_is_404(client: httpx.Client, mg: dict[str, str]) -> None:
    assert client.get("/rest/default/V1/shipment/999", headers=mg).status_code == 404
