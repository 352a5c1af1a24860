"""A sandbox on the same database the CLI's ``--store sandbox`` uses, and helpers that change either side
behind wmsync's back through the sandbox's own Walmart and Commerce endpoints."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wmsync.sandbox import CREDENTIALS, Sandbox, default_db_path


class Sides:
    """Direct calls to the sandbox's Walmart and Commerce APIs (what Seller Center, a warehouse system or
    another integration would do), bypassing wmsync."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.client = sb.client(timeout=10)
        self._token: str | None = None

    def close(self) -> None:
        self.client.close()

    def _wm_headers(self) -> dict[str, str]:
        base = {"WM_SVC.NAME": "Walmart Marketplace", "WM_QOS.CORRELATION_ID": str(uuid.uuid4()),
                "Accept": "application/json"}
        if self._token is None:
            basic = base64.b64encode(
                f"{CREDENTIALS['WALMART_CLIENT_ID']}:{CREDENTIALS['WALMART_CLIENT_SECRET']}".encode()).decode()
            r = self.client.post("/v3/token", data={"grant_type": "client_credentials"},
                                 headers={**base, "Authorization": f"Basic {basic}"})
            assert r.status_code == 200, r.text
            self._token = str(r.json()["access_token"])
        return {**base, "WM_SEC.ACCESS_TOKEN": self._token}

    def po(self, increment_id: str) -> str:
        order = self.sb.commerce_order(increment_id)
        assert order is not None
        return str(order["ext_order_id"])

    def walmart_ship(self, po: str, lines: list[tuple[str, int]], tracking: str, carrier: str = "UPS",
                     seller_order_id: str = "x") -> None:
        body = {"orderShipment": {"orderLines": {"orderLine": [
            {"lineNumber": n, "sellerOrderId": seller_order_id, "orderLineStatuses": {"orderLineStatus": [
                {"status": "Shipped", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(q)},
                 "trackingInfo": {"shipDateTime": int(time.time() * 1000), "carrierName": {"carrier": carrier},
                                  "methodCode": "Standard", "trackingNumber": tracking}}]}}
            for n, q in lines]}}}
        r = self.client.post(f"/v3/orders/{po}/shipping", json=body, headers=self._wm_headers())
        assert r.status_code == 200, r.text

    def walmart_cancel(self, po: str, lines: list[tuple[str, int]], reason: str) -> None:
        body = {"orderCancellation": {"orderLines": {"orderLine": [
            {"lineNumber": n, "orderLineStatuses": {"orderLineStatus": [
                {"status": "Cancelled", "cancellationReason": reason,
                 "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(q)}}]}}
            for n, q in lines]}}}
        r = self.client.post(f"/v3/orders/{po}/cancel", json=body, headers=self._wm_headers())
        assert r.status_code == 200, r.text

    def commerce(self, method: str, path: str, body: Any = None) -> Any:
        r = self.client.request(method, f"/rest/default/V1{path}", json=body,
                                headers={"Authorization": f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"})
        assert r.status_code == 200, r.text
        return r.json()

    def commerce_ship(self, increment_id: str, items: list[tuple[str, int]], tracking: str,
                      carrier_code: str = "ups", title: str = "United Parcel Service") -> int:
        order = self.sb.commerce_order(increment_id)
        assert order is not None
        ids = {i["sku"]: i["item_id"] for i in order["items"] if not i.get("parent_item_id")}
        body = {"items": [{"order_item_id": ids[s], "qty": q} for s, q in items], "notify": False,
                "tracks": [{"track_number": tracking, "title": title, "carrier_code": carrier_code}]}
        return int(self.commerce("POST", f"/order/{order['entity_id']}/ship", body))


@pytest.fixture
def sb(isolated_env: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox(default_db_path())
    yield sandbox
    sandbox.close()


@pytest.fixture
def sides(sb: Sandbox) -> Iterator[Sides]:
    s = Sides(sb)
    yield s
    s.close()
