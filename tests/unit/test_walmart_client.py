"""Walmart client: token request and cache (also across processes), headers, token refresh, error shapes,
empty lists, cursor paging."""

from __future__ import annotations

import base64
import json
import multiprocessing
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wmsync.clock import FakeClock
from wmsync.errors import ApiError, AuthError, ExitCode, MalformedResponseError, NotFoundError
from wmsync.http import HttpSettings, RetryPolicy
from wmsync.walmart.client import WalmartClient, error_from_response, parse_errors, unwrap_order

BASE = "https://walmart.test"
CLIENT_ID = "client-id-123"
SECRET = "walmart-client-secret-XYZ"
FAST = HttpSettings(policy=RetryPolicy(max_attempts=2, backoff_base=0, backoff_max=0, jitter=False))


def _client(tmp_path: Path, clock: FakeClock | None = None, **kwargs: Any) -> WalmartClient:
    return WalmartClient(
        base_url=BASE,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        settings=FAST,
        clock=clock or FakeClock(),
        token_cache_dir=tmp_path / "tokens",
        **kwargs,
    )


class FakeWalmart:
    """A small behavioural fake: issues numbered tokens and accepts only the tokens it considers valid."""

    def __init__(self) -> None:
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.accept_new_tokens = True
        self.routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.reject = httpx.Response(401, json={"error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API",
                                                           "description": "Unauthorized"}]})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/token":
            token = f"token-{len(self.issued) + 1}"
            self.issued.append(token)
            if self.accept_new_tokens:
                self.valid.add(token)
            return httpx.Response(200, json={"access_token": token, "token_type": "Bearer", "expires_in": 900})
        if request.headers.get("WM_SEC.ACCESS_TOKEN") not in self.valid:
            return self.reject
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, json={"errors": {"error": [{"code": "CONTENT_NOT_FOUND.GMP_ORDER_API"}]}})
        return handler(request)


@pytest.fixture
def walmart(httpx_mock) -> FakeWalmart:
    fake = FakeWalmart()
    httpx_mock.add_callback(fake, is_reusable=True, is_optional=True)
    return fake


def _order(po: str) -> dict[str, Any]:
    return {"purchaseOrderId": po, "customerOrderId": "c" + po, "orderLines": {"orderLine": []}}


# ---------------------------------------------------------------- token and headers


def test_token_request_form_and_headers(tmp_path: Path, walmart: FakeWalmart, httpx_mock) -> None:
    client = _client(tmp_path)
    assert client.token() == "token-1"
    (req,) = httpx_mock.get_requests()
    assert req.method == "POST"
    assert str(req.url) == f"{BASE}/v3/token"
    assert dict(parse_qsl(req.content.decode())) == {"grant_type": "client_credentials"}
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    scheme, _, encoded = req.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"{CLIENT_ID}:{SECRET}"
    assert req.headers["WM_SVC.NAME"] == "Walmart Marketplace"
    assert req.headers["Accept"] == "application/json"
    uuid.UUID(req.headers["WM_QOS.CORRELATION_ID"])
    assert "WM_SEC.ACCESS_TOKEN" not in req.headers


def test_every_call_has_token_service_name_and_a_fresh_correlation_id(tmp_path: Path, walmart: FakeWalmart,
                                                                       httpx_mock) -> None:
    walmart.routes[("GET", "/v3/orders/1")] = lambda r: httpx.Response(200, json={"order": _order("1")})
    client = _client(tmp_path, service_name="Acme Seller", channel_type="chan-uuid")
    client.get_order("1")
    client.get_order("1")
    reqs = httpx_mock.get_requests()
    assert [r.url.path for r in reqs] == ["/v3/token", "/v3/orders/1", "/v3/orders/1"]
    for r in reqs[1:]:
        assert r.headers["WM_SEC.ACCESS_TOKEN"] == "token-1"
        assert r.headers["WM_SVC.NAME"] == "Acme Seller"
        assert r.headers["WM_CONSUMER.CHANNEL.TYPE"] == "chan-uuid"
        assert r.headers["Accept"] == "application/json"
        # the orders spec's global security (basicScheme): client id and secret beside the token
        assert r.headers["Authorization"] == "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    ids = [r.headers["WM_QOS.CORRELATION_ID"] for r in reqs]
    assert len(set(ids)) == 3
    for cid in ids:
        uuid.UUID(cid)
    assert client.correlation_ids == ids


def test_token_is_cached_and_reused(tmp_path: Path, walmart: FakeWalmart) -> None:
    walmart.routes[("GET", "/v3/orders/1")] = lambda r: httpx.Response(200, json={"order": _order("1")})
    clock = FakeClock()
    client = _client(tmp_path, clock)
    for _ in range(3):
        client.get_order("1")
    assert walmart.issued == ["token-1"]
    # another client (another process of a cron job) reads the cache file instead of asking again
    other = _client(tmp_path, clock)
    assert other.token() == "token-1"
    assert other.token_requests == 0
    assert walmart.issued == ["token-1"]


def test_token_is_refreshed_shortly_before_expiry(tmp_path: Path, walmart: FakeWalmart) -> None:
    clock = FakeClock()
    client = _client(tmp_path, clock)
    assert client.token() == "token-1"
    clock.advance(830)  # 70 s left: still good
    assert client.token() == "token-1"
    clock.advance(15)  # 55 s left: inside the safety margin
    assert client.token() == "token-2"
    assert _client(tmp_path, clock).token() == "token-2"


def test_cache_is_per_client_id(tmp_path: Path, walmart: FakeWalmart) -> None:
    clock = FakeClock()
    assert _client(tmp_path, clock).token() == "token-1"
    other = WalmartClient(base_url=BASE, client_id="another-id", client_secret=SECRET, settings=FAST, clock=clock,
                          token_cache_dir=tmp_path / "tokens")
    assert other.token() == "token-2"


def test_token_cache_file_is_private_and_holds_no_secret(tmp_path: Path, walmart: FakeWalmart) -> None:
    _client(tmp_path).token()
    files = [p for p in (tmp_path / "tokens").iterdir() if p.is_file()]
    assert files
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        assert SECRET.encode() not in p.read_bytes()
        assert base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()) not in p.read_bytes()
    assert stat.S_IMODE((tmp_path / "tokens").stat().st_mode) == 0o700


def test_token_endpoint_refusing_credentials_is_auth_error(tmp_path: Path, httpx_mock) -> None:
    httpx_mock.add_response(status_code=401, url=f"{BASE}/v3/token", json={
        "error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API", "description": "Unauthorized"}]})
    with pytest.raises(AuthError) as info:
        _client(tmp_path).token()
    assert info.value.exit_code == ExitCode.CONFIG
    assert "Unauthorized" in info.value.message
    assert info.value.hint
    assert "WALMART_CLIENT_SECRET" in info.value.hint
    assert SECRET not in info.value.message


# ---------------------------------------------------------------- one token across processes


class _TokenServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _TokenHandler)
        self.lock = threading.Lock()
        self.token_posts = 0
        self.secrets_seen: list[str] = []


class _TokenHandler(BaseHTTPRequestHandler):
    server: _TokenServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path != "/v3/token":
            self.send_error(404)
            return
        with self.server.lock:
            self.server.token_posts += 1
            n = self.server.token_posts
            self.server.secrets_seen.append(self.headers.get("Authorization", ""))
        time.sleep(0.3)  # slow enough that the other process is waiting for the lock meanwhile
        body = json.dumps({"access_token": f"shared-token-{n}", "token_type": "Bearer", "expires_in": 900}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _token_in_child(base_url: str, cache_dir: str, barrier: Any, results: Any) -> None:
    client = WalmartClient(base_url=base_url, client_id=CLIENT_ID, client_secret=SECRET,
                           token_cache_dir=Path(cache_dir))
    try:
        barrier.wait(timeout=60)
        token = client.token()
        results.put((token, client.token_requests))
    finally:
        client.close()


@pytest.fixture
def token_server() -> Iterator[_TokenServer]:
    server = _TokenServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _collect(procs: list[Any], results: Any, timeout: float = 60) -> list[Any]:
    """Results from the children; fails fast when a child dies instead of waiting for the timeout."""
    import queue

    got: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(got) < len(procs) and time.monotonic() < deadline:
        try:
            got.append(results.get(timeout=0.2))
        except queue.Empty:
            if all(not p.is_alive() for p in procs) and results.empty():
                break
    return got


def test_one_token_request_shared_by_two_processes(tmp_path: Path, token_server: _TokenServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # the spawned children import this module by name: whatever name pytest gave it, make it importable
    here = Path(__file__).resolve()
    monkeypatch.syspath_prepend(str(here.parent))
    monkeypatch.syspath_prepend(str(here.parents[2]))
    host, port = token_server.server_address[:2]
    base_url = f"http://{host}:{port}"
    cache_dir = tmp_path / "cache" / "tokens"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=_token_in_child, args=(base_url, str(cache_dir), barrier, results))
             for _ in range(2)]
    for p in procs:
        p.start()
    try:
        got = _collect(procs, results)
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in procs] == [0, 0]
    tokens = {token for token, _ in got}
    assert tokens == {"shared-token-1"}
    assert sorted(n for _, n in got) == [0, 1]  # one process asked, the other read the cache
    assert token_server.token_posts == 1
    files = [p for p in cache_dir.iterdir() if p.is_file()]
    assert any("shared-token-1" in p.read_text() for p in files)
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        assert SECRET not in p.read_text()


# ---------------------------------------------------------------- refresh on an expired token


def test_refresh_on_401(tmp_path: Path, walmart: FakeWalmart, httpx_mock) -> None:
    walmart.routes[("GET", "/v3/orders/1")] = lambda r: httpx.Response(200, json={"order": _order("1")})
    client = _client(tmp_path)
    client.token()
    walmart.valid.clear()  # the gateway forgot token-1 before its expiry
    assert client.get_order("1").purchaseOrderId == "1"
    assert walmart.issued == ["token-1", "token-2"]
    gets = httpx_mock.get_requests(method="GET")
    assert [r.headers["WM_SEC.ACCESS_TOKEN"] for r in gets] == ["token-1", "token-2"]
    # the cache holds the new token, so the next process does not reuse the dead one
    assert _client(tmp_path).token() == "token-2"


def test_refresh_on_400_invalid_token(tmp_path: Path, walmart: FakeWalmart) -> None:
    walmart.routes[("GET", "/v3/orders/1")] = lambda r: httpx.Response(200, json={"order": _order("1")})
    walmart.reject = httpx.Response(400, json={"error": [{
        "code": "INVALID_TOKEN.GMP_GATEWAY_API", "field": "WM_SEC.ACCESS_TOKEN",
        "description": "Token is invalid or expired", "category": "DATA", "severity": "ERROR"}]})
    client = _client(tmp_path)
    client.token()
    walmart.valid.clear()
    assert client.get_order("1").purchaseOrderId == "1"
    assert walmart.issued == ["token-1", "token-2"]


def test_second_token_failure_is_auth_error(tmp_path: Path, walmart: FakeWalmart, httpx_mock) -> None:
    walmart.accept_new_tokens = False
    client = _client(tmp_path)
    with pytest.raises(AuthError) as info:
        client.get_order("1")
    assert info.value.exit_code == ExitCode.CONFIG == 3
    assert walmart.issued == ["token-1", "token-2"]  # exactly one refresh
    assert len(httpx_mock.get_requests(method="GET")) == 2
    assert info.value.correlation_id == httpx_mock.get_requests(method="GET")[-1].headers["WM_QOS.CORRELATION_ID"]


def test_other_400_is_not_a_token_problem(tmp_path: Path, walmart: FakeWalmart) -> None:
    walmart.routes[("POST", "/v3/orders/1/shipping")] = lambda r: httpx.Response(400, json={"errors": {"error": [{
        "code": "INVALID_REQUEST_CONTENT.GMP_ORDER_API", "description": "is in SHIPPED status"}]}})
    client = _client(tmp_path)
    with pytest.raises(ApiError) as info:
        client.ship("1", {"orderShipment": {}})
    assert not isinstance(info.value, AuthError)
    assert info.value.exit_code == ExitCode.REJECTED
    assert walmart.issued == ["token-1"]


# ---------------------------------------------------------------- error shapes

FULL = {"code": "INVALID_REQUEST_CONTENT.GMP_ORDER_API", "field": "trackingNumber",
        "description": "Tracking number is not valid", "info": "Request content is invalid.",
        "severity": "ERROR", "category": "DATA"}


@pytest.mark.parametrize(
    "body",
    [
        {"errors": {"error": [FULL]}},
        {"errors": {"error": [FULL, {**FULL, "code": "SECOND"}]}},
        {"errors": [FULL]},
        {"error": [FULL]},
        {"errors": {"error": FULL}},
        {"error": FULL},
        {"errors": FULL},
    ],
    ids=["orders-api", "several", "errors-list", "gateway", "single-in-errors", "single-gateway", "errors-object"],
)
def test_error_shapes_become_one_api_error(tmp_path: Path, walmart: FakeWalmart, httpx_mock,
                                           body: dict[str, Any]) -> None:
    walmart.routes[("GET", "/v3/orders/9")] = lambda r: httpx.Response(400, json=body)
    with pytest.raises(ApiError) as info:
        _client(tmp_path).get_order("9")
    err = info.value
    assert err.status == 400
    assert err.service == "Walmart"
    assert err.code == FULL["code"]
    assert err.field == FULL["field"]
    assert FULL["description"] in err.message
    assert err.errors[0]["description"] == FULL["description"]
    assert err.correlation_id == httpx_mock.get_requests(method="GET")[-1].headers["WM_QOS.CORRELATION_ID"]
    payload = err.to_json()
    assert payload["code"] == FULL["code"]
    assert payload["exit_code"] == 4


def test_info_is_used_when_there_is_no_description() -> None:
    err = error_from_response(400, json.dumps({"errors": [{"code": "X", "info": "only info"}]}).encode(),
                              httpx.Headers(), "cid-1")
    assert "only info" in err.message
    assert err.correlation_id == "cid-1"


def test_html_error_body() -> None:
    body = b"<html><head><title>Bad Gateway</title></head><body>" + b"x" * 1000 + b"</body></html>"
    err = error_from_response(502, body, httpx.Headers(), "cid-2")
    assert err.code is None
    assert "502" in err.message
    assert "HTML" in err.message
    assert "<" not in err.message


def test_empty_error_body() -> None:
    err = error_from_response(403, b"", httpx.Headers(), None)
    assert err.code is None
    assert err.message == "Walmart: Forbidden"


def test_plain_text_error_body_is_shown_shortened() -> None:
    err = error_from_response(400, b"bad request: " + b"y" * 1000, httpx.Headers(), None)
    assert err.message.startswith("Walmart: bad request: ")
    assert len(err.message) < 250


def test_404_is_not_found_error() -> None:
    err = error_from_response(404, b'{"errors":[{"code":"CONTENT_NOT_FOUND.GMP_ORDER_API"}]}', httpx.Headers(), None)
    assert isinstance(err, NotFoundError)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["errors", "error", "code", "field", "description", "info", "x"]) | st.text(max_size=5),
        children, max_size=4),
    max_leaves=25,
)
_shaped = st.one_of(
    _json,
    st.fixed_dictionaries({"errors": _json}),
    st.fixed_dictionaries({"error": _json}),
    st.fixed_dictionaries({"errors": st.fixed_dictionaries({"error": _json})}),
    st.fixed_dictionaries({"errors": st.lists(st.dictionaries(st.sampled_from(["code", "field", "description"]),
                                                              _json), max_size=3)}),
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=300))
def test_parse_errors_never_crashes_on_bytes(body: bytes) -> None:
    out = parse_errors(body)
    assert isinstance(out, list)
    assert all(isinstance(e, dict) for e in out)
    err = error_from_response(400, body, httpx.Headers(), None)
    assert isinstance(err.message, str)
    assert err.code is None or isinstance(err.code, str)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_shaped, status=st.sampled_from([400, 401, 404, 409, 423, 500]))
def test_parse_errors_never_crashes_on_json(data: Any, status: int) -> None:
    raw = json.dumps(data).encode()
    for body in (raw, raw.decode(), data):
        out = parse_errors(body)
        assert isinstance(out, list)
        assert all(isinstance(e, dict) for e in out)
    err = error_from_response(status, raw, httpx.Headers(), "cid")
    assert isinstance(err.message, str)
    assert err.code is None or isinstance(err.code, str)
    assert err.field is None or isinstance(err.field, str)
    json.dumps(err.to_json())


def test_parse_errors_survives_deep_nesting() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert parse_errors(deep) == []
    assert parse_errors(b'{"errors":' + deep + b"}") == []


# ---------------------------------------------------------------- orders


def test_get_order_unwraps_order(tmp_path: Path, walmart: FakeWalmart, httpx_mock) -> None:
    walmart.routes[("GET", "/v3/orders/1234567890123")] = lambda r: httpx.Response(
        200, json={"order": _order("1234567890123")})
    got = _client(tmp_path).get_order("1234567890123")
    assert (got.purchaseOrderId, got.customerOrderId, got.lines) == ("1234567890123", "c1234567890123", [])


def test_an_order_that_does_not_fit_the_model_is_malformed(tmp_path: Path, walmart: FakeWalmart) -> None:
    walmart.routes[("GET", "/v3/orders/1")] = lambda r: httpx.Response(
        200, json={"order": {**_order("1"), "orderDate": "yesterday"}})
    with pytest.raises(MalformedResponseError, match="cannot read"):
        _client(tmp_path).get_order("1")


def test_get_order_quotes_the_id(tmp_path: Path, walmart: FakeWalmart, httpx_mock) -> None:
    walmart.routes[("GET", "/v3/orders/a/b?c")] = lambda r: httpx.Response(200, json={"order": _order("x")})
    _client(tmp_path).get_order("a/b?c")
    assert httpx_mock.get_requests(method="GET")[0].url.raw_path == b"/v3/orders/a%2Fb%3Fc"


def test_unwrap_order_shapes() -> None:
    assert unwrap_order({"order": {"purchaseOrderId": "1"}}) == {"purchaseOrderId": "1"}
    assert unwrap_order({"purchaseOrderId": "2"}) == {"purchaseOrderId": "2"}
    for bad in (None, [], {"orders": {}}, {"order": "x"}, "text"):
        with pytest.raises(MalformedResponseError):
            unwrap_order(bad)


def test_list_orders_404_content_not_found_is_empty(tmp_path: Path, walmart: FakeWalmart, httpx_mock) -> None:
    walmart.routes[("GET", "/v3/orders")] = lambda r: httpx.Response(404, json={"errors": {"error": [{
        "code": "CONTENT_NOT_FOUND.GMP_ORDER_API", "field": "data", "description": "No Orders found",
        "info": "Requested content could not be found.", "severity": "WARN", "category": "APPLICATION"}]}})
    assert list(_client(tmp_path).list_orders(status="Created")) == []
    assert len(httpx_mock.get_requests(method="GET")) == 1


def test_list_orders_other_404_is_an_error(tmp_path: Path, walmart: FakeWalmart) -> None:
    walmart.routes[("GET", "/v3/orders")] = lambda r: httpx.Response(404, html="<html>Not Found</html>")
    with pytest.raises(NotFoundError):
        list(_client(tmp_path).list_orders())


def test_list_orders_follows_next_cursor(tmp_path: Path, walmart: FakeWalmart, httpx_mock) -> None:
    cursor = ("?limit=2&hasMoreElements=true&soIndex=2&poIndex=1002&partnerId=10000&sellerId=99"
              "&createdStartDate=2026-11-01T00:00:00.000Z&createdEndDate=2026-11-27T03:00:00.000Z")
    pages = {
        "first": {"list": {"meta": {"totalCount": 3, "limit": 2, "nextCursor": cursor},
                           "elements": {"order": [_order("1001"), _order("1002")]}}},
        "second": {"list": {"meta": {"totalCount": 3, "limit": 2},
                            "elements": {"order": [_order("1003")]}}},
    }

    def orders(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages["second" if "soIndex" in request.url.params else "first"])

    walmart.routes[("GET", "/v3/orders")] = orders
    got = list(_client(tmp_path).list_orders(status="Acknowledged", limit="2"))
    assert [o["purchaseOrderId"] for o in got] == ["1001", "1002", "1003"]
    first, second = httpx_mock.get_requests(method="GET")
    assert list(first.url.params.multi_items()) == [("status", "Acknowledged"), ("limit", "2")]
    assert list(second.url.params.multi_items()) == parse_qsl(cursor.lstrip("?"))
    assert second.url.path == "/v3/orders"


def test_list_orders_single_order_object(tmp_path: Path, walmart: FakeWalmart) -> None:
    walmart.routes[("GET", "/v3/orders")] = lambda r: httpx.Response(200, json={
        "list": {"meta": {"totalCount": 1}, "elements": {"order": _order("7")}}})
    assert [o["purchaseOrderId"] for o in _client(tmp_path).list_orders()] == ["7"]


def test_list_orders_stops_on_an_empty_page_with_a_cursor(tmp_path: Path, walmart: FakeWalmart,
                                                         httpx_mock) -> None:
    walmart.routes[("GET", "/v3/orders")] = lambda r: httpx.Response(200, json={
        "list": {"meta": {"nextCursor": "?soIndex=2"}, "elements": {"order": []}}})
    assert list(_client(tmp_path).list_orders()) == []
    assert len(httpx_mock.get_requests(method="GET")) == 1


def test_ship_is_not_repeated_after_a_read_timeout(tmp_path: Path, httpx_mock) -> None:
    from wmsync.errors import OutcomeUnknownError

    httpx_mock.add_response(url=f"{BASE}/v3/token", json={"access_token": "tk", "expires_in": 900})
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=f"{BASE}/v3/orders/5/shipping")
    with pytest.raises(OutcomeUnknownError):
        _client(tmp_path).ship("5", {"orderShipment": {}})
    assert len(httpx_mock.get_requests(url=f"{BASE}/v3/orders/5/shipping")) == 1


def test_a_token_that_expires_during_a_long_retry_after_is_fetched_again(tmp_path: Path, walmart: FakeWalmart,
                                                                         httpx_mock) -> None:
    """A 429 with a Retry-After longer than the token's life: the retry carries a new token; and a token refused
    after such a wait is refreshed once more, not reported as a credentials problem (exit 3)."""
    calls: list[str] = []

    def order(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers["WM_SEC.ACCESS_TOKEN"])
        if len(calls) == 1:
            walmart.valid.discard(request.headers["WM_SEC.ACCESS_TOKEN"])  # it expires while the client waits
            return httpx.Response(429, headers={"Retry-After": "950"}, json={"errors": {"error": [
                {"code": "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"}]}})
        return httpx.Response(200, json={"order": _order("1")})

    walmart.routes[("GET", "/v3/orders/1")] = order
    slow = HttpSettings(policy=RetryPolicy(max_attempts=3, backoff_base=0, backoff_max=0, retry_after_max=1000,
                                           jitter=False))
    clock = FakeClock()
    client = WalmartClient(base_url=BASE, client_id=CLIENT_ID, client_secret=SECRET, settings=slow, clock=clock,
                           token_cache_dir=tmp_path / "tokens")
    client.token()
    walmart.valid.clear()  # token-1 is refused: refreshed to token-2, which then waits out the 429
    assert client.get_order("1").purchaseOrderId == "1"
    assert calls[0] == "token-2"
    assert calls[-1] != "token-2"  # not the token that expired during the wait


def test_a_cached_token_refused_twice_in_a_row_after_waits_is_still_refreshed(tmp_path: Path,
                                                                             walmart: FakeWalmart) -> None:
    """The token error after a wait is the token's age, not the credentials: refreshed, within a bound."""
    walmart.routes[("GET", "/v3/orders/1")] = lambda r: httpx.Response(200, json={"order": _order("1")})
    clock = FakeClock()
    client = _client(tmp_path, clock=clock)
    client.token()
    walmart.valid.clear()
    assert client.get_order("1").purchaseOrderId == "1"
