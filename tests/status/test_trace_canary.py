"""``--trace-file`` on status, orders list and ship against the sandbox: canary secrets, the Walmart access
token and a canary customer's e-mail, phone and address never appear in the trace, while the exchanges and
their (masked) bodies do."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from wmsync.sandbox import CREDENTIALS, Sandbox, default_db_path
from wmsync.secrets import MASK

CANARY_EMAIL = "canary.customer.7731@example.org"
CANARY_PHONE = "5550177331"
CANARY_STREET = "7731 Canary Lane"
CANARY_NAME = "Canaryperson"


@pytest.fixture
def canaries(monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> dict[str, str]:
    """Every sandbox credential replaced by a canary value (the sandbox checks the same dict, so the run still
    authenticates), and order 000000101's customer replaced by a canary customer on both sides."""
    secrets = {}
    for key in CREDENTIALS:
        if key != "WALMART_CLIENT_ID":
            value = f"CANARY-{key.lower()}-5f3a9c"
            monkeypatch.setitem(CREDENTIALS, key, value)
            secrets[key] = value
    sb = Sandbox(default_db_path())
    sb.close()
    db = sqlite3.connect(default_db_path())
    with db:
        row = db.execute("SELECT ext_order_id, address_json FROM c_orders WHERE increment_id = '000000101'").fetchone()
        po, address = row[0], json.loads(row[1])
        address.update(firstname=CANARY_NAME, street=[CANARY_STREET], telephone=CANARY_PHONE)
        db.execute("UPDATE c_orders SET customer_email = ?, customer_lastname = ?, address_json = ? "
                   "WHERE increment_id = '000000101'", (CANARY_EMAIL, CANARY_NAME, json.dumps(address)))
        waddr = json.loads(db.execute("SELECT address_json FROM w_orders WHERE po = ?", (po,)).fetchone()[0])
        waddr.update(name=f"Ada {CANARY_NAME}", address1=CANARY_STREET)
        db.execute("UPDATE w_orders SET customer_email = ?, phone = ?, address_json = ? WHERE po = ?",
                   (CANARY_EMAIL, CANARY_PHONE, json.dumps(waddr), po))
    db.close()
    basic = base64.b64encode(
        f"{CREDENTIALS['WALMART_CLIENT_ID']}:{secrets['WALMART_CLIENT_SECRET']}".encode()).decode()
    return {**secrets, "basic credentials": basic, "email": CANARY_EMAIL, "phone": CANARY_PHONE,
            "street": CANARY_STREET, "name": CANARY_NAME, "po": po}


def _access_tokens() -> list[str]:
    db = sqlite3.connect(default_db_path())
    try:
        return [r[0] for r in db.execute("SELECT token FROM w_tokens")]
    finally:
        db.close()


def _walk(value: Any, key: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [kv for k, v in value.items() for kv in _walk(v, k)]
    if isinstance(value, list):
        return [kv for v in value for kv in _walk(v, key)]
    return [(key, value)]


COMMANDS = {
    "status": ["status", "000000101"],
    "orders-list": ["orders", "list", "--limit", "0", "--json"],
    "ship": ["ship", "000000101", "--carrier", "UPS", "--tracking", "1Z999AA10123451001"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_trace_file_holds_no_secret_and_no_customer_data(cli, canaries: dict[str, str], tmp_path: Path,
                                                          command: str) -> None:
    trace = tmp_path / "trace.json"
    r = cli(*COMMANDS[command], "--store", "sandbox", "--trace-file", str(trace))
    assert r.exit_code == 0, r
    text = trace.read_text()
    doc = json.loads(text)
    tokens = _access_tokens()
    assert tokens, "the run fetched a Walmart token"
    forbidden = {k: v for k, v in canaries.items() if k != "po"}
    forbidden.update({f"access token {i}": t for i, t in enumerate(tokens)})
    for where, output in (("trace file", text), ("stdout", r.stdout), ("stderr", r.stderr)):
        for name, value in forbidden.items():
            assert value not in output, f"{name} leaked into the {where}"
    # not vacuous: the exchanges are there, with bodies that carry the order
    exchanges = doc["exchanges"]
    assert {e["service"] for e in exchanges} == {"Walmart", "Commerce"}
    assert all(e["status"] for e in exchanges)
    assert any(e["correlation_id"] for e in exchanges if e["service"] == "Walmart")
    assert canaries["po"] in text
    masked = {k for e in exchanges for k, v in _walk(e["response_body"]) if v == MASK}
    assert "customerEmailId" in masked or "customer_email" in masked


def test_trace_of_a_walmart_order_masks_address_and_phone_but_keeps_order_fields(
        cli, canaries: dict[str, str], tmp_path: Path) -> None:
    trace = tmp_path / "trace.json"
    assert cli("status", "000000101", "--store", "sandbox", "--trace-file", str(trace)).exit_code == 0
    doc = json.loads(trace.read_text())
    [wm] = [e for e in doc["exchanges"] if e["url"].endswith(f"/v3/orders/{canaries['po']}")]
    order = wm["response_body"]["order"]
    assert order["customerEmailId"] == MASK
    assert order["purchaseOrderId"] == canaries["po"]
    info = order["shippingInfo"]
    assert info["phone"] == MASK
    assert info["postalAddress"] == MASK
    assert info["methodCode"] == "Standard"
    line = order["orderLines"]["orderLine"][0]
    assert line["item"]["sku"] == "WM-MUG-001"
    assert line["orderLineStatuses"]["orderLineStatus"][0]["status"] == "Acknowledged"
    [co] = [e for e in doc["exchanges"] if e["service"] == "Commerce" and "/V1/orders" in e["url"]]
    item = co["response_body"]["items"][0]
    assert item["customer_email"] == MASK
    assert item["increment_id"] == "000000101"
    assert item["state"] == "processing"


def test_orders_in_a_commerce_search_result_are_masked_but_keep_state_and_product_names() -> None:
    from wmsync.trace import mask_body

    body = {"items": [{"increment_id": "000000101", "state": "processing", "customer_lastname": "Lovelace",
                       "customer_firstname": "Ada", "remote_ip": "203.0.113.9", "customer_email": "ada@example.org",
                       "items": [{"sku": "WM-MUG-001", "name": "Enamel Camp Mug"}],
                       "billing_address": {"street": ["12 Analytical Way"]}}], "total_count": 1}
    masked = mask_body(json.dumps(body))
    order = masked["items"][0]
    assert order["state"] == "processing"
    assert order["items"][0]["name"] == "Enamel Camp Mug"
    for key in ("customer_lastname", "customer_firstname", "remote_ip", "customer_email", "billing_address"):
        assert order[key] == MASK, key
