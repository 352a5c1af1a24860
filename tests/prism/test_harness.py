"""The Prism harness works: Prism in front of a stub upstream passes conforming exchanges and flags the rest.

The Prism tests are marked ``prism``: skipped when Prism is not installed (run .ci/install-prism), failed when
$CI is set and it is missing. The violation-parsing tests at the end need no Prism.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.spec import load_official
from prism.harness import (
    PrismProcess,
    PrismStartError,
    StubUpstream,
    Violation,
    assert_no_violations,
    assert_violation,
    find_prism,
    prism_proxy,
    prism_violations,
    require_prism,
)

WALMART_HEADERS = {
    "WM_SVC.NAME": "Walmart Marketplace",
    "WM_QOS.CORRELATION_ID": "3f1c2b7e-0000-4000-8000-000000000001",
    "WM_SEC.ACCESS_TOKEN": "token-123",
    "Accept": "application/json",
}


def _spec_order() -> dict[str, Any]:
    op = load_official("walmart-orders")["paths"]["/v3/orders/{purchaseOrderId}"]["get"]
    return op["responses"]["200"]["content"]["application/json"]["examples"]["ORDER"]["value"]


def _ship_body(carrier: str = "UPS", amount: Any = "1") -> dict[str, Any]:
    status = {
        "status": "Shipped",
        "statusQuantity": {"unitOfMeasurement": "EACH", "amount": amount},
        "trackingInfo": {
            "shipDateTime": 1_700_000_000_000,
            "carrierName": {"carrier": carrier},
            "methodCode": "Value",
            "trackingNumber": "1Z999AA10123456784",
        },
    }
    line = {"lineNumber": "1", "sellerOrderId": "000000123", "orderLineStatuses": {"orderLineStatus": [status]}}
    return {"orderShipment": {"orderLines": {"orderLine": [line]}}}


@pytest.fixture(scope="module")
def upstream(specs_path: Path) -> Iterator[StubUpstream]:
    order = _spec_order()
    with StubUpstream() as stub:
        # Walmart
        stub.route("POST", "/v3/token", 200, {"access_token": "token-123", "token_type": "Bearer", "expires_in": 900})
        stub.route(
            "GET",
            "/v3/token/detail",
            200,
            {
                "expire_at": "2026-01-01T00:15:00Z",
                "issued_at": "2026-01-01T00:00:00Z",
                "is_valid": True,
                "is_channel_match": False,
                "scopes": {"orders": "full_access"},
            },
        )
        stub.route("GET", "/v3/orders/{purchaseOrderId}", 200, order)
        stub.route("GET", "/v3/orders/BROKEN", 200, {"order": {"purchaseOrderId": 5}})
        stub.route("GET", "/v3/orders/CONFLICT", 409, {"errors": {"error": [{"code": "CONFLICT"}]}})
        stub.route("GET", "/v3/orders", 404, {"errors": {"error": [{"code": "CONTENT_NOT_FOUND.GMP_ORDER_API"}]}})
        stub.route("POST", "/v3/orders/{purchaseOrderId}/shipping", 200, order)
        # Commerce
        commerce_order = {
            "entity_id": 5,
            "increment_id": "000000123",
            "base_grand_total": 10.0,
            "grand_total": 10.0,
            "customer_email": "buyer@example.com",
            "items": [{"item_id": 11, "sku": "SKU-1", "qty_ordered": 1}],
        }
        stub.route("GET", "/rest/default/V1/orders/5", 200, commerce_order)
        stub.route("POST", "/rest/default/V1/order/5/ship", 200, 17)
        stub.route(
            "POST",
            "/rest/default/V1/order/7/ship",
            400,
            {"message": "The order %1 does not allow a shipment to be created.", "parameters": ["000000124"]},
        )
        stub.route("POST", "/rest/default/V1/orders/5/cancel", 200, True)
        stub.route("POST", "/rest/default/V1/orders/5/comments", 200, True)
        yield stub


@pytest.fixture(scope="module")
def documents(prism_documents: dict[str, Path]) -> dict[str, Path]:
    return prism_documents


@pytest.fixture(scope="module")
def walmart_prism(documents: dict[str, Path], upstream: StubUpstream) -> Iterator[PrismProcess]:
    prism = require_prism()
    with PrismProcess.start(documents["walmart"], upstream.url, prism=prism) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def commerce_prism(documents: dict[str, Path], upstream: StubUpstream) -> Iterator[PrismProcess]:
    prism = require_prism()
    with PrismProcess.start(documents["commerce"], upstream.url, prism=prism) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def walmart(walmart_prism: PrismProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=walmart_prism.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def commerce(commerce_prism: PrismProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=commerce_prism.url, timeout=30) as client:
        yield client


# --- Walmart -------------------------------------------------------------------------------------------------


@pytest.mark.prism
def test_conforming_token_request_passes(walmart, upstream):
    basic = base64.b64encode(b"client-id:client-secret").decode()
    headers = {k: v for k, v in WALMART_HEADERS.items() if k != "WM_SEC.ACCESS_TOKEN"}
    response = walmart.post(
        "/v3/token",
        headers={**headers, "Authorization": f"Basic {basic}"},
        data={"grant_type": "client_credentials"},
    )
    assert_no_violations(response)
    assert response.json()["access_token"] == "token-123"
    assert upstream.received("POST", "/v3/token")[-1].headers["authorization"] == f"Basic {basic}"


@pytest.mark.prism
def test_token_request_without_basic_auth_is_stopped(walmart, upstream):
    before = len(upstream.received("POST", "/v3/token"))
    headers = {k: v for k, v in WALMART_HEADERS.items() if k != "WM_SEC.ACCESS_TOKEN"}
    response = walmart.post("/v3/token", headers=headers, data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    with pytest.raises(AssertionError, match="UNAUTHORIZED"):
        assert_no_violations(response)
    assert len(upstream.received("POST", "/v3/token")) == before  # never forwarded


@pytest.mark.prism
def test_token_detail_needs_no_content_type_nor_basic_auth(walmart):
    response = walmart.get("/v3/token/detail", headers=WALMART_HEADERS)
    assert_no_violations(response)
    assert response.json()["scopes"]["orders"] == "full_access"


@pytest.mark.prism
def test_conforming_order_read_passes(walmart):
    response = walmart.get("/v3/orders/1815367951431", headers=WALMART_HEADERS)
    assert_no_violations(response)
    assert response.json()["order"]["purchaseOrderId"] == "1815367951431"


@pytest.mark.prism
def test_missing_wm_svc_name_is_flagged_and_not_forwarded(walmart, upstream):
    before = len(upstream.received("GET", "/v3/orders/4000000000001"))
    headers = {k: v for k, v in WALMART_HEADERS.items() if k != "WM_SVC.NAME"}
    response = walmart.get("/v3/orders/4000000000001", headers=headers)
    assert_violation(response, status=422, location="header", message="wm_svc.name")
    with pytest.raises(AssertionError, match=r"wm_svc\.name"):
        assert_no_violations(response)
    assert len(upstream.received("GET", "/v3/orders/4000000000001")) == before


@pytest.mark.prism
def test_conforming_ship_body_passes(walmart, upstream):
    response = walmart.post("/v3/orders/1815367951431/shipping", headers=WALMART_HEADERS, json=_ship_body())
    assert_no_violations(response)
    sent = json.loads(upstream.received("POST", "/v3/orders/1815367951431/shipping")[-1].body)
    assert sent == _ship_body()


@pytest.mark.prism
@pytest.mark.parametrize(
    ("body", "location", "message"),
    [
        (_ship_body(carrier="Fedex"), "body.orderShipment.orderLines.orderLine.0", "must be equal to one of"),
        (_ship_body(amount=1), "body.orderShipment.orderLines.orderLine.0", "amount must be string"),
        ({}, "body", "orderShipment"),
    ],
    ids=["carrier-spelling", "amount-as-number", "empty-body"],
)
def test_nonconforming_ship_body_is_flagged(walmart, body, location, message):
    response = walmart.post("/v3/orders/1815367951431/shipping", headers=WALMART_HEADERS, json=body)
    assert_violation(response, status=422, location=location, message=message)


@pytest.mark.prism
def test_documented_not_found_answer_passes(walmart):
    response = walmart.get("/v3/orders", headers=WALMART_HEADERS, params={"purchaseOrderId": "1"})
    assert response.status_code == 404
    assert_no_violations(response)


@pytest.mark.prism
def test_nonconforming_upstream_response_is_flagged(walmart):
    response = walmart.get("/v3/orders/BROKEN", headers=WALMART_HEADERS)
    violations = assert_violation(response, status=500, location="response.body", message="required property")
    assert all(v.severity == "Error" for v in violations)


@pytest.mark.prism
def test_undeclared_status_is_a_warning(walmart):
    response = walmart.get("/v3/orders/CONFLICT", headers=WALMART_HEADERS)
    assert response.status_code == 409  # passed through
    assert [v.severity for v in prism_violations(response)] == ["Warning"]
    with pytest.raises(AssertionError, match="Unable to match the returned status code"):
        assert_no_violations(response)
    assert_no_violations(response, allow_warnings=True)


# --- Commerce ------------------------------------------------------------------------------------------------


COMMERCE_SHIP = {
    "items": [{"order_item_id": 11, "qty": 1}],
    "notify": False,
    "tracks": [{"track_number": "1Z999AA10123456784", "title": "UPS", "carrier_code": "ups"}],
}


@pytest.mark.prism
def test_commerce_conforming_calls_pass(commerce):
    response = commerce.post("/rest/default/V1/order/5/ship", json=COMMERCE_SHIP)
    assert_no_violations(response)
    assert response.json() == 17
    assert_no_violations(commerce.post("/rest/default/V1/orders/5/cancel"))
    comment = {"statusHistory": {"comment": "x", "is_customer_notified": 0, "is_visible_on_front": 0, "parent_id": 5}}
    assert_no_violations(commerce.post("/rest/default/V1/orders/5/comments", json=comment))
    order = commerce.get("/rest/default/V1/orders/5")
    assert_no_violations(order)
    assert order.json()["increment_id"] == "000000123"


@pytest.mark.prism
def test_commerce_error_with_positional_parameters_passes(commerce):
    response = commerce.post("/rest/default/V1/order/7/ship", json=COMMERCE_SHIP)
    assert response.status_code == 400
    assert_no_violations(response)


@pytest.mark.prism
@pytest.mark.parametrize(
    ("path", "body", "location", "message"),
    [
        ("/rest/default/V1/order/5/ship", {"items": [{"order_item_id": "11", "qty": 1}]}, "body.items", "integer"),
        ("/rest/default/V1/order/5/ship", {**COMMERCE_SHIP, "notify": "no"}, "body.notify", "boolean"),
        ("/rest/default/V1/order/abc/ship", COMMERCE_SHIP, "path.orderId", "integer"),
        ("/rest/default/V1/orders/5/cancel", {"reason": "x"}, "", "non-empty body"),
        ("/rest/default/V1/orders/5/comments", {"statusHistory": {"comment": "x"}}, "body.statusHistory", "parent_id"),
    ],
    ids=["item-id-as-text", "notify-as-text", "order-id-not-integer", "cancel-with-body", "comment-incomplete"],
)
def test_commerce_nonconforming_requests_are_flagged(commerce, path, body, location, message):
    response = commerce.post(path, json=body)
    assert_violation(response, status=422, location=location, message=message)


@pytest.mark.prism
def test_commerce_calls_outside_the_supported_set_are_rejected(commerce):
    response = commerce.get("/rest/default/V1/products")
    assert response.status_code == 404
    with pytest.raises(AssertionError, match="NO_PATH_MATCHED_ERROR"):
        assert_no_violations(response)
    # the Swagger basePath is not served either: only /rest/<store>/V1/...
    assert commerce.get("/V1/orders/5").status_code == 404


# --- process handling ----------------------------------------------------------------------------------------


@pytest.mark.prism
def test_prism_proxy_context_manager_starts_and_stops(documents, upstream):
    require_prism()
    began = time.monotonic()
    with prism_proxy(documents["commerce"], upstream.url) as url:
        assert url.startswith("http://127.0.0.1:")
        assert_no_violations(httpx.post(f"{url}/rest/default/V1/orders/5/cancel", timeout=30))
    assert time.monotonic() - began < 60
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


@pytest.mark.prism
def test_a_broken_document_fails_fast_with_the_log(tmp_path, upstream):
    require_prism()
    broken = tmp_path / "broken.json"
    broken.write_text(
        '{"openapi": "3.0.1", "info": {"title": "x", "version": "1", "description": {"$ref": "nope.md"}}}'
    )
    with pytest.raises(PrismStartError, match=r"nope\.md"):
        PrismProcess.start(broken, upstream.url, timeout=60)


# --- no Prism needed -----------------------------------------------------------------------------------------


def _response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers or {})


def test_parse_request_violations_from_problem_json():
    body = {
        "type": "https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY",
        "title": "Invalid request",
        "status": 422,
        "detail": "...",
        "validation": [
            {"location": ["header"], "severity": "Error", "code": "required", "message": "must have 'wm_svc.name'"}
        ],
    }
    response = _response(422, body, {"content-type": "application/problem+json"})
    assert prism_violations(response) == [Violation(("header",), "Error", "must have 'wm_svc.name'", "required")]
    with pytest.raises(AssertionError, match=r"UNPROCESSABLE_ENTITY.*\n  - \[Error\] header: must have"):
        assert_no_violations(response)


def test_parse_response_violations_from_header_without_duplicates():
    violation = {"location": ["response", "body"], "severity": "Error", "code": "type", "message": "must be integer"}
    body = {"type": "https://stoplight.io/prism/errors#VIOLATIONS", "status": 500, "validation": [violation]}
    response = _response(
        500, body, {"content-type": "application/problem+json", "sl-violations": json.dumps([violation])}
    )
    assert [str(v) for v in prism_violations(response)] == ["[Error] response.body: must be integer"]
    assert_violation(response, status=500, location="response.body", message="integer")
    with pytest.raises(AssertionError, match="no violation at 'body'"):
        assert_violation(response, location="body")


def test_upstream_answers_are_not_prism_errors():
    # an upstream problem+json (or any JSON error) is the upstream's answer, not a Prism finding
    response = _response(400, {"type": "about:blank", "title": "Bad"}, {"content-type": "application/problem+json"})
    assert prism_violations(response) == []
    assert_no_violations(response)
    with pytest.raises(AssertionError, match="expected Prism to flag"):
        assert_violation(response)


def test_find_prism_honours_the_environment(tmp_path, monkeypatch):
    fake = tmp_path / "prism"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("WMSYNC_PRISM", str(fake))
    assert find_prism() is None  # not executable
    fake.chmod(0o755)
    assert find_prism() == fake


def test_missing_prism_skips_locally_and_fails_in_ci(tmp_path, monkeypatch):
    monkeypatch.setenv("WMSYNC_PRISM", str(tmp_path / "absent"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"run \.ci/install-prism"):
        require_prism()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required when CI is set"):
        require_prism()
