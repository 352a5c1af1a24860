"""Fault injection: targeted (persisted, cross-instance) and random (seeded)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from sandbox.helpers import FakeClock, po_of, ship_body
from wmsync.sandbox import BASE_URL, FAULT_KINDS, Sandbox, SandboxSettings

ORDER_1 = "/rest/default/V1/orders/1"


def test_http_error_faults_in_each_service_style(
    client: httpx.Client, mg: dict[str, str], wm: dict[str, str], sandbox: Sandbox
) -> None:
    sandbox.inject_fault("500", path_regex="^/v3/")
    r = client.get("/v3/orders", headers=wm)
    assert r.status_code == 500
    assert r.json()["errors"]["error"][0]["code"] == "SYSTEM_ERROR.GMP_ORDER_API"
    sandbox.inject_fault("504", path_regex="^/v3/")
    r = client.get("/v3/orders", headers=wm)
    assert r.status_code == 504
    assert r.json()["errors"]["error"][0]["code"] == "DOWNSTREAM_SYSTEM_TIME_OUT.GMP_ORDER_API"
    sandbox.inject_fault("503", path_regex="^/rest/")
    r = client.get(ORDER_1, headers=mg)
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        r.json()
    sandbox.inject_fault("500", path_regex="^/rest/")
    r = client.get(ORDER_1, headers=mg)
    assert r.status_code == 500
    assert r.json()["message"].startswith("Internal Error.")
    assert client.get(ORDER_1, headers=mg).status_code == 200


def test_429_fault_has_retry_after(client: httpx.Client, wm: dict[str, str], sandbox: Sandbox) -> None:
    sandbox.inject_fault("429", method="GET")
    r = client.get("/v3/orders", headers=wm)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "2"


@pytest.mark.parametrize(
    ("kind", "error"),
    [("timeout", httpx.ReadTimeout), ("connect", httpx.ConnectError), ("reset", httpx.RemoteProtocolError)],
)
def test_transport_faults_do_not_apply_the_request(
    client: httpx.Client, mg: dict[str, str], sandbox: Sandbox, kind: str, error: type[Exception]
) -> None:
    sandbox.inject_fault(kind, method="POST", path_regex=r"/ship$")
    body = {"tracks": [{"track_number": f"T-{kind}", "title": "UPS", "carrier_code": "ups"}]}
    with pytest.raises(error):
        client.post("/rest/default/V1/order/1/ship", json=body, headers=mg)
    assert sandbox.commerce_shipments(1) == []
    (entry,) = sandbox.request_log()
    assert (entry.fault, entry.status, entry.applied) == (kind, None, False)


@pytest.mark.parametrize(
    ("kind", "error"), [("applied_timeout", httpx.ReadTimeout), ("applied_reset", httpx.RemoteProtocolError)]
)
def test_applied_then_dropped_applies_once_and_raises(
    client: httpx.Client, wm: dict[str, str], sandbox: Sandbox, kind: str, error: type[Exception]
) -> None:
    po = po_of(sandbox, "000000101")
    sandbox.inject_fault(kind, method="POST", path_regex=r"/shipping$")
    with pytest.raises(error):
        client.post(f"/v3/orders/{po}/shipping", json=ship_body(tracking="T-DUP"), headers=wm)
    assert len(sandbox.walmart_shipments_by_tracking()["T-DUP"]) == 1
    assert sandbox.write_counts()["walmart.ship"] == 1
    # the naive retry collides with the applied write
    again = client.post(f"/v3/orders/{po}/shipping", json=ship_body(tracking="T-DUP"), headers=wm)
    assert again.status_code == 400
    assert "is in SHIPPED status" in again.text
    assert len(sandbox.walmart_shipments_by_tracking()["T-DUP"]) == 1


def test_malformed_body_after_applying(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    sandbox.inject_fault("malformed", path_regex=r"/cancel$")
    r = client.post("/rest/default/V1/orders/1/cancel", headers=mg)
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()
    order = sandbox.commerce_order(1)
    assert order is not None
    assert order["state"] == "canceled"


def test_latency_fault_and_base_latency(
    client: httpx.Client, mg: dict[str, str], sandbox: Sandbox, clock: FakeClock
) -> None:
    sandbox.inject_fault("latency")
    client.get(ORDER_1, headers=mg)
    assert clock.sleeps == [1.5]
    sandbox.update_settings(latency_ms=40)
    client.get(ORDER_1, headers=mg)
    assert clock.sleeps == [1.5, 0.04]


def test_fault_count_method_and_path_matching(client: httpx.Client, mg: dict[str, str], sandbox: Sandbox) -> None:
    sandbox.inject_fault("500", method="POST", path_regex=r"/cancel$", count=2)
    assert client.get(ORDER_1, headers=mg).status_code == 200
    assert client.post("/rest/default/V1/orders/1/cancel", headers=mg).status_code == 500
    assert client.post("/rest/default/V1/orders/1/cancel", headers=mg).status_code == 500
    assert client.post("/rest/default/V1/orders/1/cancel", headers=mg).status_code == 200
    assert sandbox.armed_faults() == []


def test_token_requests_can_be_faulted(client: httpx.Client, sandbox: Sandbox) -> None:
    from sandbox.helpers import get_token

    sandbox.inject_fault("timeout", path_regex=r"^/v3/token$")
    with pytest.raises(httpx.ReadTimeout):
        get_token(client)
    assert get_token(client)


def test_faults_persist_across_instances(db_path: Path, clock: FakeClock, mg: dict[str, str]) -> None:
    armer = Sandbox(db_path, clock=clock)
    armer.inject_fault("503", path_regex="/V1/orders/1$")
    armer.close()
    other = Sandbox(db_path, clock=clock)
    try:
        with httpx.Client(transport=other.transport(), base_url=BASE_URL) as c:
            assert c.get(ORDER_1, headers=mg).status_code == 503
            assert c.get(ORDER_1, headers=mg).status_code == 200
    finally:
        other.close()


def test_unknown_fault_kind_refused(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        sandbox.inject_fault("gremlins")
    with pytest.raises(ValueError, match="unknown fault kind"):
        SandboxSettings(fault_kinds=("gremlins",))


def _run_random(db_path: Path, clock: FakeClock, mg: dict[str, str], seed: int) -> list[str]:
    settings = SandboxSettings(fault_rate=0.5, fault_kinds=("500", "503", "timeout"), seed=seed)
    sb = Sandbox(db_path, settings=settings, clock=clock, sleep=clock.sleep)
    outcomes = []
    try:
        with httpx.Client(transport=sb.transport(), base_url=BASE_URL) as c:
            for _ in range(40):
                try:
                    outcomes.append(str(c.get(ORDER_1, headers=mg).status_code))
                except httpx.ReadTimeout:
                    outcomes.append("timeout")
    finally:
        sb.close()
    return outcomes


def test_random_faults_are_reproducible_with_a_seed(tmp_path: Path, clock: FakeClock, mg: dict[str, str]) -> None:
    first = _run_random(tmp_path / "a.db", clock, mg, seed=7)
    second = _run_random(tmp_path / "b.db", clock, mg, seed=7)
    other = _run_random(tmp_path / "c.db", clock, mg, seed=8)
    assert first == second
    assert first != other
    assert set(first) == {"200", "500", "503", "timeout"}
    assert 8 <= first.count("200") <= 32


def test_fault_kinds_are_documented() -> None:
    assert set(FAULT_KINDS) == {
        "latency",
        "500",
        "503",
        "504",
        "429",
        "520",
        "423",
        "timeout",
        "connect",
        "reset",
        "malformed",
        "applied_timeout",
        "applied_reset",
    }
