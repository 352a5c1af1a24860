"""Each spec erratum in conformance.errata is needed (the official file shows the problem) and works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.errata import DEVIATIONS, SPEC_TARGETS, WALMART_ERROR_STATUSES, find_operation, operations
from conformance.spec import (
    load_document,
    load_official,
    to_json_schema,
    validate_commerce_response,
    validate_walmart_request,
    validate_walmart_response,
    violations,
)

pytestmark = pytest.mark.usefixtures("specs_path")


def _json_media(op: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    if status is None:
        return op["requestBody"]["content"]["application/json"]
    return op["responses"][status]["content"]["application/json"]


def check_walmart_get_an_order_envelope() -> None:
    official = load_official("walmart-orders")
    media = _json_media(find_operation(official, "getAnOrder"), "200")
    example = media["examples"]["ORDER"]["value"]
    assert set(example) == {"order"}
    official_schema = to_json_schema(official, media["schema"], direction="response")
    # the official schema rejects the spec's own example: no envelope, and orderDate typed as a string
    assert violations(official_schema, example)
    assert any("orderDate" in v for v in violations(official_schema, example["order"]))
    validate_walmart_response("getAnOrder", 200, example)
    with pytest.raises(AssertionError, match="'order' is a required property"):
        validate_walmart_response("getAnOrder", 200, example["order"])


def check_walmart_request_root_required() -> None:
    official = load_official("walmart-orders")
    for operation_id, root in (
        ("shippingUpdates", "orderShipment"),
        ("cancelOrderLines", "orderCancellation"),
    ):
        schema = to_json_schema(official, _json_media(find_operation(official, operation_id))["schema"])
        assert violations(schema, {}) == []  # the official schema accepts an empty body
        with pytest.raises(AssertionError, match=f"'{root}' is a required property"):
            validate_walmart_request(operation_id, {})


def _security_names(doc: dict[str, Any]) -> set[str]:
    names = {name for req in doc.get("security", []) for name in req}
    for _, _, op in operations(doc):
        names |= {name for req in op.get("security", []) for name in req}
    return names


def check_walmart_orders_undefined_security() -> None:
    official = load_official("walmart-orders")
    defined = set(official.get("components", {}).get("securitySchemes", {}))
    assert _security_names(official) - defined == {"basicScheme"}
    patched = load_document("walmart-orders")
    assert _security_names(patched) == set()
    for _, path, op in operations(patched):
        token = [p for p in op["parameters"] if p["in"] == "header" and p["name"] == "WM_SEC.ACCESS_TOKEN"]
        assert token, f"{path} lost its access-token header"
        assert token[0]["required"] is True


def _effective_security(doc: dict[str, Any], op: dict[str, Any]) -> list[dict[str, Any]]:
    return op.get("security", doc.get("security", []))


def check_walmart_auth_basic_on_token_only() -> None:
    official = load_official("walmart-auth")
    detail = find_operation(official, "getTokenDetail")
    assert _effective_security(official, detail) == [{"basicScheme": []}]
    patched = load_document("walmart-auth")
    assert _effective_security(patched, find_operation(patched, "tokenAPI")) == [{"basicScheme": []}]
    assert _effective_security(patched, find_operation(patched, "getTokenDetail")) == []
    assert patched["components"]["securitySchemes"]["basicScheme"]["scheme"] == "basic"


def _header_names(doc: dict[str, Any]) -> set[str]:
    return {p["name"].lower() for _, _, op in operations(doc) for p in op.get("parameters", []) if p["in"] == "header"}


def check_walmart_ignored_header_params() -> None:
    official = load_official("walmart-auth")
    detail = find_operation(official, "getTokenDetail")
    assert any(p["name"] == "Content-Type" and p["required"] for p in detail["parameters"])
    for name in ("walmart-orders", "walmart-auth"):
        headers = _header_names(load_document(name))
        assert not headers & {"accept", "content-type", "authorization"}
        assert {"wm_svc.name", "wm_qos.correlation_id"} <= headers  # the real ones stay


def check_walmart_error_responses() -> None:
    for name in ("walmart-orders", "walmart-auth"):
        official, patched = load_official(name), load_document(name)
        for (_, path, before), (_, _, after) in zip(operations(official), operations(patched), strict=True):
            assert "404" not in before["responses"], f"{path} now declares 404 itself: revisit the deviation"
            assert set(WALMART_ERROR_STATUSES) <= set(after["responses"])
            assert after["responses"]["200"] == before["responses"]["200"] or path == "/v3/orders/{purchaseOrderId}"
    not_found = {"errors": {"error": [{"code": "CONTENT_NOT_FOUND.GMP_ORDER_API", "category": "DATA"}]}}
    validate_walmart_response("getAllOrders", 404, not_found)
    validate_walmart_response("tokenAPI", 401, {"error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API"}]})
    with pytest.raises(AssertionError):
        validate_walmart_response("getAllOrders", 404, {"message": "not found"})


def check_commerce_info_description_ref() -> None:
    official = load_official("commerce")
    assert official["info"]["description"] == {"$ref": "intro/redocly-intro.md"}
    patched = load_document("commerce")
    assert isinstance(patched["info"]["description"], str)
    assert "intro/redocly-intro.md" in patched["info"]["description"]

    def external_refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) and not node["$ref"].startswith("#") else []
            return found + [r for v in node.values() for r in external_refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in external_refs(v)]
        return []

    assert external_refs(official) == ["intro/redocly-intro.md"]
    assert external_refs(patched) == []


def check_commerce_error_parameters() -> None:
    named = {
        "message": "No such entity with %fieldName = %fieldValue",
        "parameters": {"fieldName": "id", "fieldValue": "5"},
    }
    positional = {"message": "The order %1 does not allow a shipment.", "parameters": ["000000123"]}
    official = load_official("commerce")
    schema = to_json_schema(official, {"$ref": "#/definitions/error-response"}, direction="response")
    assert violations(schema, named)
    assert violations(schema, positional)
    for body in (named, positional):
        validate_commerce_response("POST", "/V1/order/5/ship", 400, body)
        validate_commerce_response("GET", "/V1/orders/5", 404, {"message": "x", "errors": [body]})
    with pytest.raises(AssertionError, match="'message' is a required property"):
        validate_commerce_response("POST", "/V1/order/5/ship", 400, {"parameters": ["x"]})


CHECKS: dict[str, Callable[[], None]] = {
    "walmart-get-an-order-envelope": check_walmart_get_an_order_envelope,
    "walmart-request-root-required": check_walmart_request_root_required,
    "walmart-orders-undefined-security": check_walmart_orders_undefined_security,
    "walmart-auth-basic-on-token-only": check_walmart_auth_basic_on_token_only,
    "walmart-ignored-header-params": check_walmart_ignored_header_params,
    "walmart-error-responses": check_walmart_error_responses,
    "commerce-info-description-ref": check_commerce_info_description_ref,
    "commerce-error-parameters": check_commerce_error_parameters,
}

SPEC_DEVIATIONS = [d for d in DEVIATIONS if set(d.target) & set(SPEC_TARGETS)]


@pytest.mark.parametrize("deviation", SPEC_DEVIATIONS, ids=lambda d: d.id)
def test_deviation(deviation):
    assert deviation.what.strip()
    assert deviation.why.strip()
    check = CHECKS.get(deviation.id)
    assert check is not None, f"deviation {deviation.id} has no test: add one to CHECKS"
    check()


def test_no_check_without_a_deviation():
    assert set(CHECKS) == {d.id for d in SPEC_DEVIATIONS}


def test_deviation_ids_are_unique_and_targets_known():
    from conformance.errata import PRISM_TARGETS

    ids = [d.id for d in DEVIATIONS]
    assert len(ids) == len(set(ids))
    for d in DEVIATIONS:
        assert d.target
        assert set(d.target) <= set(SPEC_TARGETS) | set(PRISM_TARGETS)


def test_official_files_are_not_modified_by_loading():
    before = load_official("walmart-orders")
    load_document("walmart-orders")["paths"].clear()
    assert load_official("walmart-orders") == before
    assert load_document("walmart-orders")["paths"]
