"""The conformance checker accepts bodies shaped as the official specs say, and rejects the usual mistakes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from conformance.spec import (
    SchemaNotFound,
    commerce_path,
    commerce_request_schema,
    load_official,
    to_json_schema,
    validate_commerce_request,
    validate_commerce_response,
    validate_request,
    validate_response,
    validate_walmart_request,
    validate_walmart_response,
    violations,
    walmart_operation_id,
    walmart_request_schema,
)

pytestmark = pytest.mark.usefixtures("specs_path")

LINE_STATUS = "/orderShipment/orderLines/orderLine/0/orderLineStatuses/orderLineStatus/0"


def ship_body() -> dict[str, Any]:
    """A Walmart ship body built by hand from the shape in docs/domain.md."""
    return {
        "orderShipment": {
            "orderLines": {
                "orderLine": [
                    {
                        "lineNumber": "1",
                        "sellerOrderId": "000000123",
                        "orderLineStatuses": {
                            "orderLineStatus": [
                                {
                                    "status": "Shipped",
                                    "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
                                    "trackingInfo": {
                                        "shipDateTime": 1_700_000_000_000,
                                        "carrierName": {"carrier": "UPS"},
                                        "methodCode": "Standard",
                                        "trackingNumber": "1Z999AA10123456784",
                                        "trackingURL": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
                                    },
                                }
                            ]
                        },
                    }
                ]
            }
        }
    }


def cancel_body() -> dict[str, Any]:
    return {
        "orderCancellation": {
            "orderLines": {
                "orderLine": [
                    {
                        "lineNumber": "2",
                        "orderLineStatuses": {
                            "orderLineStatus": [
                                {
                                    "status": "Cancelled",
                                    "cancellationReason": "SELLER_CANCEL_OUT_OF_STOCK",
                                    "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
                                }
                            ]
                        },
                    }
                ]
            }
        }
    }


def _line(body: dict[str, Any]) -> dict[str, Any]:
    return body["orderShipment"]["orderLines"]["orderLine"][0]


def _status(body: dict[str, Any]) -> dict[str, Any]:
    return _line(body)["orderLineStatuses"]["orderLineStatus"][0]


def _tracking(body: dict[str, Any]) -> dict[str, Any]:
    return _status(body)["trackingInfo"]


# --- Walmart ship -------------------------------------------------------------------------------------------


def test_hand_built_ship_body_validates():
    validate_walmart_request("shippingUpdates", ship_body())


def test_ship_body_with_other_carrier_and_several_lines_validates():
    body = ship_body()
    second = copy.deepcopy(_line(body))
    second["lineNumber"] = "2"
    second["intentToCancelOverride"] = True
    tracking = second["orderLineStatuses"]["orderLineStatus"][0]["trackingInfo"]
    tracking["carrierName"] = {"otherCarrier": "Acme Couriers"}
    tracking["methodCode"] = "Express"
    body["orderShipment"]["orderLines"]["orderLine"].append(second)
    validate_walmart_request("shippingUpdates", body)


def _set(target: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Callable[[dict], None]:
    def mutate(body: dict[str, Any]) -> None:
        target(body)[key] = value

    return mutate


def _delete(target: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Callable[[dict], None]:
    def mutate(body: dict[str, Any]) -> None:
        del target(body)[key]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "where", "expected"),
    [
        pytest.param(
            _set(lambda b: _tracking(b)["carrierName"], "carrier", "Fedex"),
            f"{LINE_STATUS}/trackingInfo/carrierName/carrier",
            "'Fedex' is not one of the 75 allowed values (did you mean 'FedEx'?)",
            id="carrier-spelling",
        ),
        pytest.param(
            _set(lambda b: _status(b)["statusQuantity"], "amount", 1),
            f"{LINE_STATUS}/statusQuantity/amount",
            "1 is not of type 'string'",
            id="amount-as-number",
        ),
        pytest.param(
            _delete(_line, "sellerOrderId"),
            "/orderShipment/orderLines/orderLine/0",
            "'sellerOrderId' is a required property",
            id="missing-sellerOrderId",
        ),
        pytest.param(
            _set(_line, "lineNumber", 1),
            "/orderShipment/orderLines/orderLine/0/lineNumber",
            "1 is not of type 'string'",
            id="lineNumber-as-number",
        ),
        pytest.param(
            _set(_tracking, "shipDateTime", "2024-01-01T00:00:00Z"),
            f"{LINE_STATUS}/trackingInfo/shipDateTime",
            "is not of type 'integer'",
            id="shipDateTime-as-text",
        ),
        pytest.param(
            _set(_tracking, "shipDateTime", 1_700_000_000.5),
            f"{LINE_STATUS}/trackingInfo/shipDateTime",
            "is not of type 'integer'",
            id="shipDateTime-fractional-seconds",
        ),
        pytest.param(
            _set(_tracking, "methodCode", "Ground"),
            f"{LINE_STATUS}/trackingInfo/methodCode",
            "'Ground' is not one of the 6 allowed values",
            id="methodCode",
        ),
        pytest.param(
            _set(_status, "status", "SHIPPED"),
            f"{LINE_STATUS}/status",
            "(did you mean 'Shipped'?)",
            id="status-case",
        ),
        pytest.param(
            _set(lambda b: _status(b)["statusQuantity"], "unitOfMeasurement", "EACHES"),
            f"{LINE_STATUS}/statusQuantity/unitOfMeasurement",
            "'EACHES' is not one of the 2 allowed values ['EACH', 'EA']",
            id="unitOfMeasurement",
        ),
        pytest.param(
            _delete(_tracking, "trackingNumber"),
            f"{LINE_STATUS}/trackingInfo",
            "'trackingNumber' is a required property",
            id="missing-trackingNumber",
        ),
        pytest.param(
            _delete(_status, "trackingInfo"),
            LINE_STATUS,
            "'trackingInfo' is a required property",
            id="missing-trackingInfo",
        ),
        pytest.param(
            lambda b: _tracking(b).update(trackingUrl=_tracking(b).pop("trackingURL")),
            f"{LINE_STATUS}/trackingInfo",
            "unexpected properties: 'trackingUrl' (did you mean 'trackingURL'?)",
            id="misspelt-optional-field",
        ),
        pytest.param(
            lambda b: b.update(orderShipment=b["orderShipment"]["orderLines"]),
            "/orderShipment",
            "'orderLines' is a required property",
            id="wrapper-missing",
        ),
    ],
)
def test_ship_body_mistakes_are_rejected(mutate, where, expected):
    body = ship_body()
    mutate(body)
    with pytest.raises(AssertionError) as info:
        validate_walmart_request("shippingUpdates", body)
    message = str(info.value)
    assert f"at {where}: " in message
    assert expected in message


def test_every_violation_is_listed():
    body = ship_body()
    _status(body)["statusQuantity"]["amount"] = 2
    _tracking(body)["carrierName"]["carrier"] = "UPS Ground"
    del _line(body)["sellerOrderId"]
    with pytest.raises(AssertionError, match=r"3 violation\(s\)") as info:
        validate_walmart_request("shippingUpdates", body)
    assert str(info.value).count("\n  - at ") == 3


def test_strict_mode_is_what_rejects_unknown_fields():
    body = ship_body()
    _tracking(body)["trackingUrl"] = "https://example.invalid/t"
    validate_walmart_request("shippingUpdates", body, strict=False)
    with pytest.raises(AssertionError, match="trackingUrl"):
        validate_walmart_request("shippingUpdates", body)


def test_raw_json_bytes_are_accepted():
    import json

    validate_walmart_request("shippingUpdates", json.dumps(ship_body()).encode())
    bad = ship_body()
    _status(bad)["statusQuantity"]["amount"] = 1
    with pytest.raises(AssertionError, match="amount"):
        validate_walmart_request("shippingUpdates", json.dumps(bad))


def test_the_schema_is_plain_json_schema():
    schema = walmart_request_schema("shippingUpdates")
    text = repr(schema)
    for keyword in ("'$ref'", "'nullable'", "'example'", "'xml'", "'writeOnly'"):
        assert keyword not in text
    line = schema["properties"]["orderShipment"]["properties"]["orderLines"]["properties"]["orderLine"]["items"]
    assert set(line["required"]) == {"lineNumber", "orderLineStatuses", "sellerOrderId"}


# --- Walmart cancel, acknowledge, token ---------------------------------------------------------------------


def test_cancel_body_validates():
    validate_walmart_request("cancelOrderLines", cancel_body())


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("cancellationReason", "OUT_OF_STOCK", "(did you mean 'SELLER_CANCEL_OUT_OF_STOCK'?)"),
        ("cancellationReason", None, "'cancellationReason' is a required property"),
        ("status", "Canceled", "(did you mean 'Cancelled'?)"),
    ],
)
def test_cancel_body_mistakes_are_rejected(key, value, expected):
    body = cancel_body()
    status = body["orderCancellation"]["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]
    if value is None:
        del status[key]
    else:
        status[key] = value
    with pytest.raises(AssertionError) as info:
        validate_walmart_request("cancelOrderLines", body)
    assert expected in str(info.value)


def test_a_ship_body_is_not_a_cancel_body():
    with pytest.raises(AssertionError, match="orderCancellation"):
        validate_walmart_request("cancelOrderLines", ship_body())


def test_operations_without_a_body_accept_only_none():
    validate_walmart_request("acknowledgeOrders", None)
    validate_walmart_request("getAnOrder", b"")
    with pytest.raises(AssertionError, match="takes no body"):
        validate_walmart_request("acknowledgeOrders", {"x": 1})


def test_a_required_body_cannot_be_missing():
    with pytest.raises(AssertionError, match="a body is required"):
        validate_walmart_request("shippingUpdates", None)


def test_token_form_body():
    validate_walmart_request("tokenAPI", b"grant_type=client_credentials")
    validate_walmart_request("tokenAPI", {"grant_type": "client_credentials"})
    with pytest.raises(AssertionError, match="grant_type"):
        validate_walmart_request("tokenAPI", "grant_type=password")


# --- Walmart responses --------------------------------------------------------------------------------------


def _spec_example_order() -> dict[str, Any]:
    op = load_official("walmart-orders")["paths"]["/v3/orders/{purchaseOrderId}"]["get"]
    return op["responses"]["200"]["content"]["application/json"]["examples"]["ORDER"]["value"]


def test_get_order_response_example_validates_and_bare_order_does_not():
    example = _spec_example_order()
    validate_walmart_response("getAnOrder", 200, example)
    with pytest.raises(AssertionError, match="'order' is a required property"):
        validate_walmart_response("getAnOrder", 200, example["order"])


def test_ship_response_reports_wrong_types():
    body = copy.deepcopy(_spec_example_order())
    validate_walmart_response("shippingUpdates", 200, body)
    body["order"]["orderDate"] = "2021-06-15"
    with pytest.raises(AssertionError, match="at /order/orderDate: '2021-06-15' is not of type 'integer'"):
        validate_walmart_response("shippingUpdates", 200, body)


@pytest.mark.parametrize(
    "body",
    [
        {"errors": {"error": [{"code": "CONTENT_NOT_FOUND.GMP_ORDER_API", "field": "none", "severity": "ERROR"}]}},
        {"errors": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API", "description": "Unauthorized"}]},
        {"error": [{"code": "INVALID_TOKEN.GMP_GATEWAY_API", "info": "expired"}]},
    ],
)
def test_walmart_error_shapes_validate(body):
    validate_walmart_response("getAllOrders", 404, body)


def test_walmart_error_without_code_is_rejected():
    with pytest.raises(AssertionError, match="matches none of the alternatives"):
        validate_walmart_response("getAllOrders", 400, {"errors": {"error": [{"description": "x"}]}})


def test_undeclared_status_has_no_schema():
    with pytest.raises(SchemaNotFound, match="418"):
        validate_walmart_response("getAllOrders", 418, {})


# --- routing ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("POST", "/v3/orders/1815367951431/shipping", "shippingUpdates"),
        ("POST", "/v3/orders/1815367951431/cancel", "cancelOrderLines"),
        ("POST", "/v3/orders/1815367951431/acknowledge", "acknowledgeOrders"),
        ("GET", "/v3/orders", "getAllOrders"),
        ("GET", "/v3/orders/released", "getAllReleasedOrders"),
        ("GET", "/v3/orders/1815367951431", "getAnOrder"),
        ("POST", "/v3/token", "tokenAPI"),
        ("GET", "https://sandbox.invalid/v3/token/detail?x=1", "getTokenDetail"),
    ],
)
def test_walmart_routing(method, path, operation_id):
    assert walmart_operation_id(method, path) == operation_id


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "http://127.0.0.1:1/rest/default/V1/order/5/ship", "/V1/order/{orderId}/ship"),
        ("POST", "/rest/V1/orders/5/cancel", "/V1/orders/{id}/cancel"),
        ("GET", "/rest/us_en/V1/orders/5/comments", "/V1/orders/{id}/comments"),
        ("GET", "/V1/orders?searchCriteria[pageSize]=5", "/V1/orders"),
        ("GET", "/V1/orders/items", "/V1/orders/items"),
        ("GET", "/V1/shipment/7", "/V1/shipment/{id}"),
        ("POST", "/V1/order/{orderId}/ship", "/V1/order/{orderId}/ship"),
    ],
)
def test_commerce_routing(method, path, template):
    assert commerce_path(method, path) == template


def test_unknown_route_is_an_error():
    with pytest.raises(AssertionError, match="no such operation"):
        walmart_operation_id("DELETE", "/v3/orders/1")
    with pytest.raises(AssertionError, match="no such operation"):
        commerce_path("POST", "/rest/default/V1/order/5/shipit")


def test_validate_request_dispatches_by_url():
    validate_request("POST", "http://127.0.0.1:9/v3/orders/1/shipping", ship_body())
    validate_request("POST", "http://127.0.0.1:9/rest/default/V1/order/5/ship", commerce_ship_body())
    with pytest.raises(AssertionError, match="Walmart shippingUpdates"):
        validate_request("POST", "http://127.0.0.1:9/v3/orders/1/shipping", commerce_ship_body())
    with pytest.raises(AssertionError, match=r"Commerce POST /V1/order/\{orderId\}/ship"):
        validate_request("POST", "http://127.0.0.1:9/rest/default/V1/order/5/ship", ship_body())


def test_validate_response_dispatches_by_url():
    validate_response("GET", "http://127.0.0.1:9/v3/orders/1", 200, _spec_example_order())
    validate_response("POST", "http://127.0.0.1:9/rest/default/V1/orders/5/cancel", 200, b"true")
    with pytest.raises(AssertionError, match="is not of type 'boolean'"):
        validate_response("POST", "http://127.0.0.1:9/rest/default/V1/orders/5/cancel", 200, b'"true"')


# --- Commerce -----------------------------------------------------------------------------------------------


def commerce_ship_body() -> dict[str, Any]:
    return {
        "items": [{"order_item_id": 1, "qty": 1}],
        "notify": False,
        "tracks": [{"track_number": "1Z999AA10123456784", "title": "UPS", "carrier_code": "ups"}],
    }


def test_commerce_ship_body_is_the_wrapped_argument_object():
    schema = commerce_request_schema("POST", "/V1/order/{orderId}/ship")
    assert set(schema["properties"]) == {
        "items",
        "notify",
        "appendComment",
        "comment",
        "tracks",
        "packages",
        "arguments",
    }


def test_commerce_ship_bodies_validate():
    validate_commerce_request("POST", "/V1/order/{orderId}/ship", commerce_ship_body())
    full = commerce_ship_body()
    full["appendComment"] = True
    full["comment"] = {"comment": "Shipped via wmsync", "is_visible_on_front": 0}
    full["arguments"] = {"extension_attributes": {"source_code": "default"}}
    validate_commerce_request("POST", "/rest/default/V1/order/5/ship", full)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda b: b["items"][0].update(order_item_id="1"),
            "at /items/0/order_item_id: '1' is not of type 'integer'",
        ),
        (lambda b: b["items"][0].update(qty="1"), "at /items/0/qty: '1' is not of type 'number'"),
        (lambda b: b["tracks"][0].pop("title"), "at /tracks/0: 'title' is a required property"),
        (lambda b: b.update(tracks=b["tracks"][0]), "at /tracks: "),
        (lambda b: b.update(notify="no"), "at /notify: 'no' is not of type 'boolean'"),
        (
            lambda b: b.update(comment={"comment": "x", "is_visible_on_front": False}),
            "at /comment/is_visible_on_front: False is not of type 'integer'",
        ),
        (
            lambda b: b.update(track=b.pop("tracks")),
            "unexpected properties: 'track' (did you mean 'tracks'?)",
        ),
        (
            lambda b: b.update(arguments={"extension_attributes": {"sourceCode": "x"}}),
            "did you mean 'source_code'?",
        ),
    ],
)
def test_commerce_ship_body_mistakes_are_rejected(mutate, expected):
    body = commerce_ship_body()
    mutate(body)
    with pytest.raises(AssertionError) as info:
        validate_commerce_request("POST", "/rest/default/V1/order/5/ship", body)
    assert expected in str(info.value)


def test_commerce_cancel_takes_no_body():
    validate_commerce_request("POST", "/rest/default/V1/orders/5/cancel", None)
    validate_commerce_request("POST", "/rest/default/V1/orders/5/cancel", b"")
    with pytest.raises(AssertionError, match="takes no body"):
        validate_commerce_request("POST", "/rest/default/V1/orders/5/cancel", {"reason": "x"})


def comments_body() -> dict[str, Any]:
    return {
        "statusHistory": {
            "comment": "Cancelled on Walmart: SELLER_CANCEL_OUT_OF_STOCK",
            "is_customer_notified": 0,
            "is_visible_on_front": 0,
            "parent_id": 5,
        }
    }


def test_commerce_comments_body_validates():
    validate_commerce_request("POST", "/rest/default/V1/orders/5/comments", comments_body())
    with_status = comments_body()
    with_status["statusHistory"]["status"] = "canceled"
    validate_commerce_request("POST", "/rest/default/V1/orders/5/comments", with_status)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda b: b["statusHistory"].pop("parent_id"), "'parent_id' is a required property"),
        (
            lambda b: b["statusHistory"].update(is_customer_notified=False),
            "at /statusHistory/is_customer_notified: False is not of type 'integer'",
        ),
        (lambda b: b.update(b.pop("statusHistory")), "'statusHistory' is a required property"),
    ],
)
def test_commerce_comments_mistakes_are_rejected(mutate, expected):
    body = comments_body()
    mutate(body)
    with pytest.raises(AssertionError) as info:
        validate_commerce_request("POST", "/rest/default/V1/orders/5/comments", body)
    assert expected in str(info.value)


def test_commerce_responses():
    validate_commerce_response("POST", "/V1/order/{orderId}/ship", 200, 42)
    # Magento sometimes answers with the id as a JSON string: not what the spec declares
    with pytest.raises(AssertionError, match="'42' is not of type 'integer'"):
        validate_commerce_response("POST", "/V1/order/{orderId}/ship", 200, b'"42"')
    validate_commerce_response(
        "GET",
        "/rest/default/V1/shipments",
        200,
        {"items": [], "search_criteria": {"filter_groups": []}, "total_count": 0},
    )
    with pytest.raises(AssertionError, match="'total_count' is a required property"):
        validate_commerce_response("GET", "/V1/shipments", 200, {"items": [], "search_criteria": {"filter_groups": []}})
    # any other status falls back to the declared default: Magento's error-response
    validate_commerce_response("POST", "/V1/order/5/ship", 400, {"message": "The order does not allow a shipment."})
    with pytest.raises(AssertionError, match="'message' is a required property"):
        validate_commerce_response("POST", "/V1/order/5/ship", 400, {"error": "x"})


def test_commerce_recursive_order_item_schema():
    """sales-data-order-item-interface refers to itself (parent_item): kept as a local definition."""
    item = {"sku": "CHILD", "parent_item": {"sku": "PARENT", "parent_item": {"sku": "ROOT"}}}
    order = {"base_grand_total": 1, "customer_email": "a@example.com", "grand_total": 1, "items": [item]}
    validate_commerce_response("GET", "/V1/orders/5", 200, order)
    item["parent_item"]["parent_item"] = {"qty_ordered": 1}
    with pytest.raises(AssertionError, match="at /items/0/parent_item/parent_item: 'sku' is a required property"):
        validate_commerce_response("GET", "/V1/orders/5", 200, order)


# --- the OpenAPI -> JSON Schema conversion ------------------------------------------------------------------


def test_conversion_handles_openapi_keywords():
    doc = {
        "components": {
            "schemas": {
                "Money": {
                    "type": "object",
                    "required": ["amount", "id"],
                    "properties": {
                        "amount": {"type": "number", "nullable": True, "example": 1.5},
                        "currency": {"type": "string", "enum": ["USD"], "nullable": True},
                        "id": {"type": "string", "readOnly": True},
                    },
                    "xml": {"name": "money"},
                }
            }
        }
    }
    schema = {
        "type": "object",
        "required": ["secret"],
        "properties": {
            "m": {"$ref": "#/components/schemas/Money"},
            "secret": {"type": "string", "writeOnly": True},
        },
    }
    request = to_json_schema(doc, schema, direction="request")
    response = to_json_schema(doc, schema, direction="response")
    money = request["properties"]["m"]
    assert money["properties"]["amount"] == {"type": ["number", "null"]}
    assert money["properties"]["currency"]["enum"] == ["USD", None]
    assert money["required"] == ["amount"]  # readOnly id is not required in a request
    assert "xml" not in money
    assert violations(request, {"m": {"amount": None, "currency": None}, "secret": "s"}) == []
    assert violations(request, {"m": {"amount": "1"}}) == [
        "at /: 'secret' is a required property",
        "at /m/amount: '1' is not of type 'number', 'null'",
    ]
    # writeOnly 'secret' is not required in a response; readOnly 'id' is
    assert violations(response, {"m": {"amount": 1, "id": "x"}}) == []
    assert "required" not in response
