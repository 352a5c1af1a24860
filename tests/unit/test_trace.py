"""Tracing masks credentials and personal data, whatever the redaction registry knows."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import pytest

from wmsync.http import Exchange, mask_headers
from wmsync.secrets import register_secret
from wmsync.trace import TraceFile, VerboseTracer, mask_body


def _exchange(**kw: object) -> Exchange:
    base: dict[str, object] = {
        "service": "Walmart", "method": "POST", "url": "https://walmart.test/v3/token", "status": 200,
        "duration_ms": 12.3, "correlation_id": "cid-1", "attempt": 1, "request_headers": {}, "request_body": None,
        "response_body": None,
    }
    base.update(kw)
    return Exchange(**base)  # type: ignore[arg-type]


def test_token_response_is_masked_before_the_token_is_registered() -> None:
    token = f"never-registered-{uuid.uuid4().hex}"
    body = json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": 900})
    masked = mask_body(body)
    assert masked == {"access_token": "****", "token_type": "Bearer", "expires_in": 900}


def test_personal_data_is_masked_but_not_order_fields() -> None:
    body = {"order": {"purchaseOrderId": "123", "customerEmailId": "jane@example.test",
                      "shippingInfo": {"phone": "555", "postalAddress": {"name": "Jane", "city": "Town"},
                                       "methodCode": "Standard"},
                      "orderLines": {"orderLine": [{"item": {"productName": "Mug", "sku": "M-1"}}]}},
             "note": "write to jane@example.test"}
    masked = mask_body(json.dumps(body))
    text = json.dumps(masked)
    assert "jane@example.test" not in text
    assert "Jane" not in text
    assert "555" not in text
    assert masked["order"]["purchaseOrderId"] == "123"
    assert masked["order"]["shippingInfo"]["methodCode"] == "Standard"
    assert masked["order"]["orderLines"]["orderLine"][0]["item"]["sku"] == "M-1"


def test_non_json_bodies_are_redacted() -> None:
    register_secret("plain-text-secret-4471")
    assert mask_body("token=plain-text-secret-4471 by bob@example.test") == "token=**** by ****"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Basic ****"}),
        ({"authorization": "Bearer abc.def"}, {"authorization": "Bearer ****"}),
        ({"Authorization": 'OAuth oauth_consumer_key="ck", oauth_signature="x"'}, {"Authorization": "OAuth ****"}),
        ({"WM_SEC.ACCESS_TOKEN": "eyJ0"}, {"WM_SEC.ACCESS_TOKEN": "****"}),
        ({"Accept": "application/json"}, {"Accept": "application/json"}),
    ],
)
def test_mask_headers(headers: dict[str, str], expected: dict[str, str]) -> None:
    assert mask_headers(headers) == expected


def test_trace_file_is_private_and_masked(tmp_path: Path) -> None:
    path = tmp_path / "t" / "trace.json"
    tracer = TraceFile(path, ["wmsync", "stores", "check"])
    token = f"tok-{uuid.uuid4().hex}"
    tracer(_exchange(request_headers=mask_headers({"Authorization": "Basic c2VjcmV0"}),
                     response_body=json.dumps({"access_token": token, "expires_in": 900})))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert token not in text
    assert "c2VjcmV0" not in text
    doc = json.loads(text)
    assert doc["command"] == ["wmsync", "stores", "check"]
    (entry,) = doc["exchanges"]
    assert entry["correlation_id"] == "cid-1"
    assert entry["status"] == 200


def test_verbose_line(capsys: pytest.CaptureFixture[str]) -> None:
    VerboseTracer()(_exchange(method="GET", url="https://walmart.test/v3/orders?limit=1", status=503, attempt=2))
    err = capsys.readouterr().err
    assert err.startswith("http: Walmart GET /v3/orders → 503 in 12 ms (attempt 2) cid=cid-1")
