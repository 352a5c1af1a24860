"""Helpers for the sandbox tests: a fake clock, auth headers, request bodies, response accessors."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx

from wmsync.sandbox import CREDENTIALS, Sandbox

START = 1_780_000_000.0  # a fixed sandbox time (2026-05-28)


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def basic_auth(
    client_id: str = CREDENTIALS["WALMART_CLIENT_ID"], secret: str = CREDENTIALS["WALMART_CLIENT_SECRET"]
) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def wm_base_headers() -> dict[str, str]:
    return {
        "WM_SVC.NAME": "Walmart Marketplace",
        "WM_QOS.CORRELATION_ID": "test-correlation-id",
        "Accept": "application/json",
    }


def get_token(client: httpx.Client) -> str:
    r = client.post(
        "/v3/token",
        data={"grant_type": "client_credentials"},
        headers={**wm_base_headers(), "Authorization": basic_auth()},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def po_of(sandbox: Sandbox, increment_id: str) -> str:
    order = sandbox.commerce_order(increment_id)
    assert order is not None
    return str(order["ext_order_id"])


def ship_body(
    lines: list[tuple[str, int]] | None = None,
    *,
    carrier: dict[str, str] | None = None,
    method: str = "Standard",
    tracking: str = "1Z999AA10000000001",
    ship_ms: Any = None,
    seller_order_id: str = "000000101",
    url: str | None = None,
    override: bool | None = None,
) -> dict[str, Any]:
    lines = lines or [("1", 1)]
    info: dict[str, Any] = {
        "shipDateTime": int(time.time() * 1000) if ship_ms is None else ship_ms,
        "carrierName": carrier or {"carrier": "UPS"},
        "methodCode": method,
        "trackingNumber": tracking,
    }
    if url is not None:
        info["trackingURL"] = url
    out = []
    for ln, qty in lines:
        entry: dict[str, Any] = {
            "lineNumber": ln,
            "sellerOrderId": seller_order_id,
            "orderLineStatuses": {
                "orderLineStatus": [
                    {
                        "status": "Shipped",
                        "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty)},
                        "trackingInfo": dict(info),
                    }
                ]
            },
        }
        if override is not None:
            entry["intentToCancelOverride"] = override
        out.append(entry)
    return {"orderShipment": {"orderLines": {"orderLine": out}}}


def cancel_body(lines: list[tuple[str, int]], reason: str = "SELLER_CANCEL_OUT_OF_STOCK") -> dict[str, Any]:
    return {
        "orderCancellation": {
            "orderLines": {
                "orderLine": [
                    {
                        "lineNumber": ln,
                        "orderLineStatuses": {
                            "orderLineStatus": [
                                {
                                    "status": "Cancelled",
                                    "cancellationReason": reason,
                                    "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty)},
                                }
                            ]
                        },
                    }
                    for ln, qty in lines
                ]
            }
        }
    }


def wm_errors(response: httpx.Response) -> list[dict[str, Any]]:
    """The error entries of a Walmart error response in the orders-API shape."""
    body = response.json()
    assert set(body) == {"errors"}, body
    errors = body["errors"]["error"]
    for e in errors:
        assert set(e) >= {"code", "field", "description", "info", "severity", "category"}
    return list(errors)


def line_statuses(order: dict[str, Any], line: str) -> list[tuple[str, str]]:
    for ol in order["orderLines"]["orderLine"]:
        if ol["lineNumber"] == line:
            return [(s["status"], s["statusQuantity"]["amount"]) for s in ol["orderLineStatuses"]["orderLineStatus"]]
    raise AssertionError(f"no line {line}")
