"""The sandbox over HTTP: loopback only, serves both APIs and the control API, transport faults, stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from sandbox.helpers import get_token, po_of, ship_body, wm_base_headers
from wmsync.sandbox import CREDENTIALS, Sandbox
from wmsync.sandbox.server import NonLoopbackError, SandboxServer, serve


@pytest.fixture
def live(db_path: Path) -> Iterator[tuple[Sandbox, str]]:
    sb = Sandbox(db_path)
    server = SandboxServer(sb, "127.0.0.1", 0, hold_seconds=5)
    base = server.start()
    yield sb, base
    server.stop()
    sb.close()


def test_refuses_non_loopback(db_path: Path) -> None:
    sb = Sandbox(db_path)
    try:
        with pytest.raises(NonLoopbackError):
            SandboxServer(sb, "0.0.0.0")
        with pytest.raises(NonLoopbackError):
            SandboxServer(sb, "192.168.1.10")
        SandboxServer(sb, "localhost")  # allowed, not started
    finally:
        sb.close()


def test_serves_walmart_and_commerce(live: tuple[Sandbox, str]) -> None:
    sb, base = live
    assert base.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=base, timeout=5) as c:
        wm = {**wm_base_headers(), "WM_SEC.ACCESS_TOKEN": get_token(c)}
        po = po_of(sb, "000000101")
        r = c.post(f"/v3/orders/{po}/shipping", json=ship_body(tracking="HTTP-1"), headers=wm)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"
        assert r.json()["order"]["purchaseOrderId"] == po
        r = c.get("/rest/default/V1/orders/1", headers={"Authorization": f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"})
        assert r.json()["increment_id"] == "000000101"
    assert "HTTP-1" in sb.walmart_shipments_by_tracking()


def test_oauth1_over_http_signs_the_real_url(live: tuple[Sandbox, str]) -> None:
    _, base = live
    oc = Client(
        CREDENTIALS["COMMERCE_CONSUMER_KEY"],
        client_secret=CREDENTIALS["COMMERCE_CONSUMER_SECRET"],
        resource_owner_key=CREDENTIALS["COMMERCE_ACCESS_TOKEN"],
        resource_owner_secret=CREDENTIALS["COMMERCE_ACCESS_TOKEN_SECRET"],
        signature_method=SIGNATURE_HMAC_SHA256,
    )
    query = urlencode({"searchCriteria[pageSize]": "2", "searchCriteria[currentPage]": "1"})
    uri, headers, _ = oc.sign(f"{base}/rest/default/V1/orders?{query}", http_method="GET")
    r = httpx.get(uri, headers=headers, timeout=5)
    assert r.status_code == 200
    assert r.json()["total_count"] == 35


def test_control_api(live: tuple[Sandbox, str]) -> None:
    sb, base = live
    with httpx.Client(base_url=base, timeout=5) as c:
        state = c.get("/_sandbox/state").json()
        assert state["commerce_orders"] == 35
        assert c.post("/_sandbox/faults", json={"kind": "500", "path_regex": "^/v3/orders$"}).status_code == 200
        wm = {**wm_base_headers(), "WM_SEC.ACCESS_TOKEN": get_token(c)}
        assert c.get("/v3/orders", headers=wm).status_code == 500
        assert c.get("/v3/orders", headers=wm).status_code == 200
        assert c.post("/_sandbox/expire-tokens").json() == {"expired": 1}
        assert c.get("/v3/orders", headers=wm).status_code == 400
        settings = c.post("/_sandbox/settings", json={"channel_manager": True}).json()
        assert settings["channel_manager"] is True
        assert sb.load_settings().channel_manager is True
        order = c.get("/_sandbox/commerce/orders/000000107").json()
        assert order["shipments"][0]["tracks"][0]["track_number"] == "1Z999AA10123456784"
        assert c.get(f"/_sandbox/walmart/orders/{po_of(sb, '000000108')}").json()["cancellations"][0]["qty"] == 1
        log = c.get("/_sandbox/log").json()
        assert [e["status"] for e in log if e["operation"] == "walmart.list"] == [500, 200, 400]
        assert c.post("/_sandbox/reset", json={"orders": 3}).json()["commerce_orders"] == 38
        assert c.get("/_sandbox/nothing").status_code == 404


def test_reset_fault_closes_the_connection(live: tuple[Sandbox, str]) -> None:
    sb, base = live
    sb.inject_fault("reset", path_regex="/V1/orders/1$")
    headers = {"Authorization": f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"}
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(f"{base}/rest/default/V1/orders/1", headers=headers, timeout=5)
    assert httpx.get(f"{base}/rest/default/V1/orders/1", headers=headers, timeout=5).status_code == 200


def test_applied_timeout_holds_the_response_after_applying(live: tuple[Sandbox, str]) -> None:
    sb, base = live
    sb.inject_fault("applied_timeout", method="POST", path_regex="/ship$")
    headers = {"Authorization": f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"}
    body = {"tracks": [{"track_number": "T-HELD", "title": "UPS", "carrier_code": "ups"}]}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{base}/rest/default/V1/order/1/ship", json=body, headers=headers, timeout=0.3)
    assert len(sb.commerce_shipments(1)) == 1  # applied once


def test_serve_blocks_until_stopped(db_path: Path) -> None:
    stop = threading.Event()
    urls: list[str] = []

    def ready(url: str) -> None:
        urls.append(url)
        try:
            assert httpx.get(f"{url}/_sandbox/state", timeout=5).json()["settings"]["latency_ms"] == 7
        finally:
            stop.set()

    serve(db_path, port=0, overrides={"latency_ms": 7}, on_ready=ready, stop_event=stop)
    assert urls
    assert urls[0].startswith("http://127.0.0.1:")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{urls[0]}/_sandbox/state", timeout=1)
    # the override was for that server only
    sb = Sandbox(db_path)
    try:
        assert sb.load_settings().latency_ms == 0
    finally:
        sb.close()


def test_config_snippet_names_every_secret() -> None:
    from wmsync.cli.sandbox_cmd import snippet

    text = snippet("http://127.0.0.1:8765")
    assert 'commerce_url = "http://127.0.0.1:8765"' in text
    assert "[stores.local]" in text
    for name in ("COMMERCE_CONSUMER_KEY", "COMMERCE_CONSUMER_SECRET", "COMMERCE_ACCESS_TOKEN",
                 "COMMERCE_ACCESS_TOKEN_SECRET", "WALMART_CLIENT_SECRET"):
        assert f"export WMSYNC_LOCAL_{name}={CREDENTIALS[name]}" in text


def test_answers_on_a_reused_connection_without_nagle_delay(live: tuple[Sandbox, str]) -> None:
    """Headers and body go out in separate writes: with Nagle's algorithm on, each answer on a kept-alive
    connection waits for the client's delayed ACK (~40 ms on Linux)."""
    import time

    _, base = live
    with httpx.Client(base_url=base, timeout=5) as c:
        c.get("/rest/default/V1/orders/1")  # connect
        started = time.perf_counter()
        for _ in range(20):
            c.get("/rest/default/V1/orders/1")
        per_request = (time.perf_counter() - started) / 20
    assert per_request < 0.03, f"{per_request * 1000:.0f} ms per request on a reused connection"


def test_a_request_whose_body_never_arrives_is_not_applied(live: tuple[Sandbox, str]) -> None:
    """A client killed after its headers, before its body: the web server in front of Magento never runs such
    a request. (The sandbox used to read the missing body as empty and ship every item, without a track.)"""
    import socket
    from urllib.parse import urlsplit

    sb, base = live
    before = sb.commerce_order("000000101")
    assert before is not None
    u = urlsplit(base)
    head = (
        f"POST /rest/default/V1/order/1/ship HTTP/1.1\r\nHost: {u.netloc}\r\n"
        f"Authorization: Bearer {CREDENTIALS['COMMERCE_TOKEN']}\r\nContent-Type: application/json\r\n"
        "Content-Length: 120\r\n\r\n"
    )
    with socket.create_connection((u.hostname, u.port), timeout=5) as s:
        s.sendall(head.encode())  # then the client dies, before any of its body
    import time

    time.sleep(0.5)
    after = sb.commerce_order("000000101")
    assert after is not None
    assert [i["qty_shipped"] for i in after["items"]] == [i["qty_shipped"] for i in before["items"]]
    assert not [e for e in sb.request_log() if e.path.endswith("/order/1/ship") and e.status == 200]
