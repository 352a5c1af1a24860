"""The sandbox behind ``--store sandbox`` (same database as the CLI uses) and helpers to read what reached it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wmsync.sandbox import Sandbox


def writes(sb: Sandbox) -> list[str]:
    """Writes that reached a service, in order (the token request is not a write to orders)."""
    return [f"{e.method} {e.path}" for e in sb.request_log() if e.method == "POST" and not e.path.endswith("/token")]


def walmart_ship_posts(sb: Sandbox, tracking: str) -> int:
    return sum(1 for e in sb.request_log()
               if e.method == "POST" and e.path.endswith("/shipping") and e.applied
               and tracking in (e.request_body or ""))


def order_of(sb: Sandbox, increment_id: str) -> dict[str, Any]:
    order = sb.commerce_order(increment_id)
    assert order is not None, increment_id
    return order


def po_of(sb: Sandbox, increment_id: str) -> str:
    return str(order_of(sb, increment_id)["ext_order_id"])


def write(tmp_path: Path, name: str, text: str, *, newline: str = "\n", bom: bool = False) -> Path:
    path = tmp_path / name
    data = text.replace("\n", newline)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode())
    return path


class Commerce:
    """Calls to the sandbox's Commerce API behind wmsync's back (a warehouse system, an admin user)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.client = sb.client(timeout=10)

    def close(self) -> None:
        self.client.close()

    def call(self, method: str, path: str, body: Any = None) -> Any:
        from wmsync.sandbox import CREDENTIALS

        r = self.client.request(method, f"/rest/default/V1{path}", json=body,
                                headers={"Authorization": f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"})
        assert r.status_code == 200, r.text
        return r.json()

    def ship_all(self, increment_id: str, tracking: str, carrier_code: str = "fedex", title: str = "FedEx") -> int:
        """A Commerce shipment of everything left, with one track."""
        order = self.sb.commerce_order(increment_id)
        assert order is not None
        items = [{"order_item_id": i["item_id"], "qty": i["qty_ordered"] - i["qty_shipped"] - i["qty_canceled"]}
                 for i in order["items"] if not i.get("parent_item_id")]
        body = {"items": [i for i in items if i["qty"] > 0], "notify": False,
                "tracks": [{"track_number": tracking, "title": title, "carrier_code": carrier_code}]}
        return int(self.call("POST", f"/order/{order['entity_id']}/ship", body))

    def cancel(self, increment_id: str) -> None:
        order = self.sb.commerce_order(increment_id)
        assert order is not None
        assert self.call("POST", f"/orders/{order['entity_id']}/cancel") is True


@pytest.fixture
def commerce(sandbox: Sandbox) -> Iterator[Commerce]:
    c = Commerce(sandbox)
    yield c
    c.close()
