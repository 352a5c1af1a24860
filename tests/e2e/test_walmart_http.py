"""Walmart's HTTP details as the real service shows them: 520 and 423 are transient (a read retries them, a write
that got one has an unknown outcome, settled by re-reading), ``Authorization: Basic`` on every orders call (the
spec's global security), never printed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"


def _walmart_gets(sb: Sandbox) -> list[Any]:
    return [e for e in sb.request_log() if e.method == "GET" and e.path.startswith("/v3/orders")]


@pytest.mark.parametrize("kind", ["520", "423"])
def test_a_read_that_gets_a_transient_walmart_error_is_retried(cli: Any, sandbox: Sandbox, kind: str) -> None:
    sandbox.inject_fault(kind, method="GET", path_regex=r"^/v3/orders/")
    r = cli("status", "000000101", "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    statuses = [e.status for e in _walmart_gets(sandbox)]
    assert statuses[0] == int(kind)
    assert 200 in statuses[1:]


@pytest.mark.parametrize("kind", ["520", "423"])
def test_a_write_that_gets_a_transient_walmart_error_is_an_unknown_outcome(
    cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv("WMSYNC_UNKNOWN_GRACE", "0.2")
    monkeypatch.setenv("WMSYNC_RESEND_QUIET", "3600")
    sandbox.inject_fault(kind, method="POST", path_regex=r"/shipping$")
    r = cli("ship", "000000101", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 5, r  # not a refusal (exit 4): Walmart may yet have applied it
    assert "could not tell" in r.stderr
    sent = [e for e in sandbox.request_log() if e.method == "POST" and e.path.endswith("/shipping")]
    assert len(sent) == 1  # never sent twice in one run
    # a re-run inside the quiet period sends nothing again
    r2 = cli("ship", "000000101", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", UPS)
    assert r2.exit_code == 5, r2
    assert len([e for e in sandbox.request_log() if e.method == "POST" and e.path.endswith("/shipping")]) == 1


def _basic() -> str:
    import base64

    from wmsync.sandbox.constants import CREDENTIALS

    return base64.b64encode(
        f"{CREDENTIALS['WALMART_CLIENT_ID']}:{CREDENTIALS['WALMART_CLIENT_SECRET']}".encode()
    ).decode()


class Recording(httpx.BaseTransport):
    """Passes every request on to the sandbox and keeps the Walmart requests' headers."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v3/"):
            self.seen.append((request.method, request.url.path, dict(request.headers)))
        return self.inner.handle_request(request)


def test_every_orders_call_carries_basic_credentials_as_the_spec_requires(
    cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from wmsync.cli import common

    rec = Recording(sandbox.transport())
    monkeypatch.setattr(common.Runtime, "transport_override", rec)
    sandbox.update_settings(orders_basic_auth=True)  # the orders spec's global security: basicScheme
    trace = tmp_path / "trace.json"
    r = cli("orders", "list", "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    r = cli("ship", "000000101", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", UPS,
            "--verbose", "--trace-file", str(trace))
    assert r.exit_code == 0, r
    calls = [(m, p, h) for m, p, h in rec.seen if p != "/v3/token"]
    assert {p for _m, p, _h in calls} >= {"/v3/orders", "/v3/orders/" + r.json()["purchase_order_id"] + "/shipping"}
    for _method, _path, headers in calls:
        assert headers.get("authorization") == "Basic " + _basic()
    # masked everywhere: stdout, stderr (-v), the trace file
    for text in (r.stdout, r.stderr, trace.read_text()):
        assert _basic() not in text
    assert "Basic ****" in trace.read_text()


def test_wrong_basic_credentials_on_an_orders_call_are_refused_by_the_sandbox(sandbox: Sandbox) -> None:
    import base64

    from wmsync.sandbox import BASE_URL

    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as c:
        tok = c.post("/v3/token", data={"grant_type": "client_credentials"},
                     headers={"Authorization": "Basic " + _basic(), "WM_SVC.NAME": "x",
                              "WM_QOS.CORRELATION_ID": "1", "Accept": "application/json"}).json()["access_token"]
        common_headers = {"WM_SEC.ACCESS_TOKEN": tok, "WM_SVC.NAME": "x", "WM_QOS.CORRELATION_ID": "2",
                          "Accept": "application/json"}
        wrong = "Basic " + base64.b64encode(b"someone:else").decode()
        assert c.get("/v3/orders", headers={**common_headers, "Authorization": wrong}).status_code == 401
        assert c.get("/v3/orders", headers=common_headers).status_code == 200  # not required by default
        sandbox.update_settings(orders_basic_auth=True)
        assert c.get("/v3/orders", headers=common_headers).status_code == 401
        assert c.get("/v3/orders", headers={**common_headers, "Authorization": "Basic " + _basic()}).status_code == 200
