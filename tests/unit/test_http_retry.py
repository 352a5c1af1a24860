"""The retry decision (pure, table-driven) and the retry loop of ``Http.request`` against pytest-httpx."""

from __future__ import annotations

import email.utils
import json
import os
import time
from collections.abc import Iterator

import httpx
import pytest

from wmsync.clock import FakeClock
from wmsync.errors import (
    ApiError,
    ExitCode,
    MalformedResponseError,
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
)
from wmsync.http import (
    RETRYABLE_STATUS,
    Http,
    HttpSettings,
    RetryPolicy,
    backoff,
    classify,
    decide,
    parse_retry_after,
)
from wmsync.walmart.client import error_from_response

POLICY = RetryPolicy(max_attempts=4, backoff_base=0.5, backoff_max=8.0, retry_after_max=120.0, jitter=False)
NOW = 1_700_000_000.0


def _decide(**kwargs: object) -> object:
    kwargs.setdefault("policy", POLICY)
    kwargs.setdefault("attempt", 1)
    kwargs.setdefault("now", NOW)
    return decide(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- decide(): status codes


@pytest.mark.parametrize("status", [408, 423, 429, 500, 502, 503, 504, 520])
def test_get_is_retried_on_retryable_status(status: int) -> None:
    d = _decide(idempotent=True, status=status)
    assert d.retry is True
    assert d.outcome_unknown is False
    assert d.wait > 0


@pytest.mark.parametrize("status", [200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 501])
def test_get_is_not_retried_on_other_status(status: int) -> None:
    d = _decide(idempotent=True, status=status)
    assert d.retry is False
    assert d.outcome_unknown is False


def test_retryable_status_set_is_exactly_the_documented_one() -> None:
    # 423 and 520: Walmart's RESOURCE_IS_LOCKED and gateway SYSTEM_ERROR, transient (docs/real-services.md)
    assert frozenset({408, 423, 429, 500, 502, 503, 504, 520}) == RETRYABLE_STATUS


@pytest.mark.parametrize("failure", ["connect", "timeout", "reset", "malformed"])
def test_get_is_retried_on_every_transport_failure(failure: str) -> None:
    d = _decide(idempotent=True, failure=failure)
    assert d.retry is True
    assert d.outcome_unknown is False


def test_post_is_retried_after_a_connect_failure() -> None:
    d = _decide(idempotent=False, failure="connect")
    assert d.retry is True
    assert d.outcome_unknown is False


def test_post_is_retried_on_429() -> None:
    d = _decide(idempotent=False, status=429, headers={"Retry-After": "3"})
    assert d.retry is True
    assert d.wait == 3
    assert d.outcome_unknown is False


@pytest.mark.parametrize("failure", ["timeout", "reset", "malformed"])
def test_post_after_a_possibly_delivered_failure_is_outcome_unknown(failure: str) -> None:
    d = _decide(idempotent=False, failure=failure)
    assert d.retry is False
    assert d.outcome_unknown is True


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_post_after_5xx_is_outcome_unknown(status: int) -> None:
    d = _decide(idempotent=False, status=status)
    assert d.retry is False
    assert d.outcome_unknown is True


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
def test_post_rejected_is_neither_retried_nor_unknown(status: int) -> None:
    d = _decide(idempotent=False, status=status)
    assert (d.retry, d.outcome_unknown) == (False, False)


@pytest.mark.parametrize(
    ("idempotent", "status", "failure"),
    [
        (True, 503, None),
        (True, 429, None),
        (True, None, "timeout"),
        (True, None, "malformed"),
        (False, None, "connect"),
        (False, 429, None),
    ],
)
def test_attempts_exhausted(idempotent: bool, status: int | None, failure: str | None) -> None:
    assert _decide(idempotent=idempotent, status=status, failure=failure,
                   attempt=POLICY.max_attempts - 1).retry is True
    d = _decide(idempotent=idempotent, status=status, failure=failure, attempt=POLICY.max_attempts)
    assert d.retry is False
    assert d.outcome_unknown is False
    assert "no attempts left" in d.reason


def test_post_timeout_on_last_attempt_is_still_outcome_unknown() -> None:
    d = _decide(idempotent=False, failure="timeout", attempt=POLICY.max_attempts)
    assert d.outcome_unknown is True


def test_retry_after_is_capped() -> None:
    d = _decide(idempotent=True, status=429, headers={"Retry-After": "3600"})
    assert d.retry is True
    assert d.wait == POLICY.retry_after_max


def test_503_honours_retry_after() -> None:
    assert _decide(idempotent=True, status=503, headers={"retry-after": "11"}).wait == 11


def test_429_without_header_falls_back_to_backoff() -> None:
    d = _decide(idempotent=True, status=429, attempt=3)
    assert d.wait == backoff(3, POLICY)
    assert d.wait == 2.0  # 0.5 * 2**2, no jitter


# ---------------------------------------------------------------- parse_retry_after


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": " 2.5 "}, 2.5),
        ({"RETRY-AFTER": "0"}, 0.0),
        ({"Retry-After": "-5"}, 0.0),
        ({"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"Retry-After": email.utils.formatdate(NOW - 30, usegmt=True)}, 0.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After-Ms": "250", "Retry-After": "9"}, 0.25),  # the precise one wins
        ({"x-next-replenish-time": str(int((NOW + 12) * 1000))}, 12.0),  # Walmart: epoch ms
        ({"X-Next-Replenish-Time": str(int(NOW + 4))}, 4.0),  # epoch seconds
        ({"x-next-replenish-time": str(int((NOW - 10) * 1000))}, 0.0),  # already replenished
        ({"x-next-replenish-time": "3"}, 3.0),  # a plain number of seconds
        ({"X-Next-Replenishment-Time": str(int((NOW + 12) * 1000))}, 12.0),  # the documented name, epoch ms
        ({"x-next-replenishment-time": str(int((NOW + 5) * 1000)), "x-next-replenish-time": "9"}, 5.0),
        ({}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": ""}, None),
        ({"x-next-replenish-time": "tomorrow"}, None),
        ({"Content-Type": "application/json"}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    got = parse_retry_after(headers, NOW)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-6)


@pytest.fixture
def non_utc_local_time() -> Iterator[None]:
    """The machine's local time zone is not UTC (as on many servers running cron)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.mark.parametrize(
    "fmt",
    ["%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y", "%a, %d %b %Y %H:%M:%S -0000"],
    ids=["imf-fixdate", "rfc850", "asctime", "minus-zero"],
)
def test_http_dates_are_utc_whatever_the_local_zone(non_utc_local_time: None, fmt: str) -> None:
    # every HTTP-date form is GMT, including asctime's, which carries no zone at all
    header = time.strftime(fmt, time.gmtime(NOW + 30))
    assert parse_retry_after({"Retry-After": header}, NOW) == pytest.approx(30.0)


def test_parse_retry_after_takes_httpx_headers() -> None:
    assert parse_retry_after(httpx.Headers({"Retry-After": "4"}), NOW) == 4.0


def test_unparsable_retry_after_falls_back_to_replenish_time() -> None:
    headers = {"Retry-After": "later", "x-next-replenish-time": str(int((NOW + 6) * 1000))}
    assert parse_retry_after(headers, NOW) == pytest.approx(6.0)


# ---------------------------------------------------------------- backoff


def test_backoff_without_jitter_doubles_and_caps() -> None:
    assert [backoff(a, POLICY) for a in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 10, 50])
@pytest.mark.parametrize("r", [0.0, 0.25, 0.5, 0.999999])
def test_backoff_jitter_stays_within_bounds(attempt: int, r: float) -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=8.0, jitter=True)
    ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
    wait = backoff(attempt, policy, rand=lambda: r)
    assert ceiling / 2 <= wait <= ceiling
    assert wait <= policy.backoff_max


def test_backoff_jitter_actually_varies() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=30.0, jitter=True)
    assert backoff(3, policy, rand=lambda: 0.0) != backoff(3, policy, rand=lambda: 1.0)


def test_decide_uses_jittered_backoff_for_transport_failures() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_base=1.0, backoff_max=30.0, jitter=True)
    d = decide(idempotent=True, attempt=2, policy=policy, failure="reset", rand=lambda: 0.0)
    assert d.wait == 1.0  # ceiling 2.0, lowest jitter is half of it


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectError("refused"), "connect"),
        (httpx.ConnectTimeout("slow connect"), "connect"),
        (httpx.PoolTimeout("pool"), "connect"),
        (httpx.ReadTimeout("slow read"), "timeout"),
        (httpx.WriteTimeout("slow write"), "timeout"),
        (httpx.ReadError("reset by peer"), "reset"),
        (httpx.RemoteProtocolError("server disconnected"), "reset"),
    ],
)
def test_classify(exc: httpx.TransportError, expected: str) -> None:
    assert classify(exc) == expected


# ---------------------------------------------------------------- through Http.request

BASE = "https://walmart.test"


def _http(clock: FakeClock, *, max_attempts: int = 4, **policy: float) -> Http:
    settings = HttpSettings(
        policy=RetryPolicy(max_attempts=max_attempts, backoff_base=policy.get("backoff_base", 0.5),
                           backoff_max=policy.get("backoff_max", 8.0), retry_after_max=120.0, jitter=False)
    )
    return Http(service="Walmart", base_url=BASE, settings=settings, clock=clock,
                error_factory=error_from_response, correlation_header="WM_QOS.CORRELATION_ID")


def test_post_after_read_timeout_is_not_retried(httpx_mock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), method="POST", url=f"{BASE}/v3/orders/1/shipping")
    clock = FakeClock()
    http = _http(clock)
    with pytest.raises(OutcomeUnknownError) as info:
        http.request("POST", "/v3/orders/1/shipping", json_body={"a": 1}, idempotent=False)
    assert len(httpx_mock.get_requests()) == 1
    assert clock.sleeps == []
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert "may or may not have been applied" in info.value.message
    sent = httpx_mock.get_requests()[0]
    assert info.value.correlation_id == sent.headers["WM_QOS.CORRELATION_ID"]


def test_post_is_a_write_by_default(httpx_mock) -> None:
    httpx_mock.add_response(status_code=502, method="POST", url=f"{BASE}/v3/x")
    with pytest.raises(OutcomeUnknownError):
        _http(FakeClock()).request("POST", "/v3/x", json_body={})
    assert len(httpx_mock.get_requests()) == 1


def test_post_after_connect_error_is_retried(httpx_mock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), method="POST", url=f"{BASE}/v3/x")
    httpx_mock.add_response(json={"ok": True}, method="POST", url=f"{BASE}/v3/x")
    clock = FakeClock()
    resp = _http(clock).request("POST", "/v3/x", json_body={"a": 1}, idempotent=False)
    assert resp.data == {"ok": True}
    assert len(httpx_mock.get_requests()) == 2
    assert clock.sleeps == [0.5]
    bodies = [r.content for r in httpx_mock.get_requests()]
    assert bodies == [b'{"a":1}', b'{"a":1}']


def test_get_is_retried_after_read_timeout_then_succeeds(httpx_mock) -> None:
    url = f"{BASE}/v3/orders/1"
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), url=url)
    httpx_mock.add_response(json={"order": {"purchaseOrderId": "1"}}, url=url)
    clock = FakeClock()
    http = _http(clock)
    resp = http.request("GET", "/v3/orders/1")
    assert resp.status == 200
    assert resp.data == {"order": {"purchaseOrderId": "1"}}
    assert len(httpx_mock.get_requests()) == 2
    assert clock.sleeps == [0.5]
    ids = [r.headers["WM_QOS.CORRELATION_ID"] for r in httpx_mock.get_requests()]
    assert ids[0] != ids[1]
    assert resp.correlation_id == ids[1]
    assert http.correlation_ids == ids


def test_429_with_retry_after_seconds(httpx_mock) -> None:
    url = f"{BASE}/v3/orders"
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "7"}, url=url,
                            json={"errors": {"error": [{"code": "REQUEST_THRESHOLD_VIOLATED.GMP_ORDER_API"}]}})
    httpx_mock.add_response(json={"list": {}}, url=url)
    clock = FakeClock()
    resp = _http(clock).request("GET", "/v3/orders")
    assert resp.data == {"list": {}}
    assert clock.sleeps == [7.0]
    assert len(httpx_mock.get_requests()) == 2


def test_429_with_retry_after_as_http_date(httpx_mock) -> None:
    clock = FakeClock()
    when = email.utils.formatdate(clock.time() + 42, usegmt=True)
    url = f"{BASE}/v3/orders"
    httpx_mock.add_response(status_code=429, headers={"Retry-After": when}, url=url)
    httpx_mock.add_response(json={}, url=url)
    _http(clock).request("GET", "/v3/orders")
    assert clock.sleeps == [pytest.approx(42.0)]


def test_429_with_walmart_replenish_time(httpx_mock) -> None:
    clock = FakeClock()
    url = f"{BASE}/v3/orders/1/shipping"
    replenish = str(int((clock.time() + 9) * 1000))
    httpx_mock.add_response(status_code=429, headers={"x-next-replenish-time": replenish}, url=url)
    httpx_mock.add_response(json={"order": {}}, url=url)
    _http(clock).request("POST", "/v3/orders/1/shipping", json_body={}, idempotent=False)
    assert clock.sleeps == [pytest.approx(9.0)]


def test_429_exhausted_is_rate_limited(httpx_mock) -> None:
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "1"}, url=f"{BASE}/v3/orders",
                            is_reusable=True)
    clock = FakeClock()
    with pytest.raises(RateLimitedError) as info:
        _http(clock, max_attempts=3).request("GET", "/v3/orders")
    assert len(httpx_mock.get_requests()) == 3
    assert clock.sleeps == [1.0, 1.0]
    assert info.value.exit_code == ExitCode.UNAVAILABLE


def test_malformed_json_on_get_is_retried(httpx_mock) -> None:
    url = f"{BASE}/v3/orders/1"
    httpx_mock.add_response(content=b'{"order": {"purchaseOrd', url=url)
    httpx_mock.add_response(json={"order": {}}, url=url)
    clock = FakeClock()
    assert _http(clock).request("GET", "/v3/orders/1").data == {"order": {}}
    assert len(httpx_mock.get_requests()) == 2
    assert len(clock.sleeps) == 1


def test_malformed_json_every_time_is_malformed_response(httpx_mock) -> None:
    httpx_mock.add_response(content=b"<html>oops</html>", url=f"{BASE}/v3/orders/1", is_reusable=True)
    with pytest.raises(MalformedResponseError) as info:
        _http(FakeClock(), max_attempts=2).request("GET", "/v3/orders/1")
    assert "not JSON" in info.value.message
    assert len(httpx_mock.get_requests()) == 2


def test_html_503_becomes_unavailable_with_readable_message(httpx_mock) -> None:
    page = "<!DOCTYPE html><html><head><title>503</title></head><body>" + "x" * 500 + "</body></html>"
    httpx_mock.add_response(status_code=503, html=page, url=f"{BASE}/v3/orders", is_reusable=True)
    clock = FakeClock()
    with pytest.raises(UnavailableError) as info:
        _http(clock, max_attempts=3).request("GET", "/v3/orders")
    err = info.value
    assert type(err) is UnavailableError
    assert err.exit_code == ExitCode.UNAVAILABLE
    assert len(httpx_mock.get_requests()) == 3
    assert clock.sleeps == [0.5, 1.0]
    assert "503" in err.message
    assert "HTML error page" in err.message
    assert "<" not in err.message
    assert "\n" not in err.message
    assert err.correlation_id == httpx_mock.get_requests()[-1].headers["WM_QOS.CORRELATION_ID"]


def test_non_retryable_error_raises_the_service_error_at_once(httpx_mock) -> None:
    body = {"errors": {"error": [{"code": "INVALID_REQUEST_CONTENT.GMP_ORDER_API", "field": "lineNumber",
                                  "description": "Invalid line number", "severity": "ERROR"}]}}
    httpx_mock.add_response(status_code=400, json=body, url=f"{BASE}/v3/orders/1/shipping")
    clock = FakeClock()
    with pytest.raises(ApiError) as info:
        _http(clock).request("POST", "/v3/orders/1/shipping", json_body={}, idempotent=False)
    assert info.value.status == 400
    assert info.value.code == "INVALID_REQUEST_CONTENT.GMP_ORDER_API"
    assert clock.sleeps == []
    assert len(httpx_mock.get_requests()) == 1


def test_ok_statuses_are_returned(httpx_mock) -> None:
    httpx_mock.add_response(status_code=404, json={"x": 1}, url=f"{BASE}/v3/y")
    resp = _http(FakeClock()).request("GET", "/v3/y", ok_statuses=frozenset({404}))
    assert resp.status == 404


def test_json_body_is_sent_compact_with_content_type(httpx_mock) -> None:
    httpx_mock.add_response(json={}, url=f"{BASE}/v3/z", method="POST")
    _http(FakeClock()).request("POST", "/v3/z", json_body={"a": [1, 2]}, idempotent=False)
    sent = httpx_mock.get_requests()[0]
    assert json.loads(sent.content) == {"a": [1, 2]}
    assert sent.headers["Content-Type"] == "application/json"


def test_rate_limiter_of_the_endpoint_is_used(httpx_mock) -> None:
    from wmsync.http import RateLimiter

    clock = FakeClock()
    httpx_mock.add_response(json={}, url=f"{BASE}/v3/a", is_reusable=True)
    http = Http(service="Walmart", base_url=BASE, clock=clock, error_factory=error_from_response,
                limits={"ship": RateLimiter(60, burst=1, clock=clock)})
    for _ in range(3):
        http.request("GET", "/v3/a", endpoint="ship")
    assert clock.sleeps == [1.0, 1.0]


def test_the_ca_bundle_is_loaded_once_for_every_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the CA bundle costs ~15 ms: the Commerce and Walmart clients of a run share one TLS context, and
    a plain-http (loopback) base URL loads none."""
    import wmsync.http as http_mod
    from wmsync.errors import ApiError

    made: list[object] = []
    real = httpx.create_ssl_context

    def counting(*args: object, **kwargs: object) -> object:
        ctx = real(*args, **kwargs)  # type: ignore[arg-type]
        made.append(ctx)
        return ctx

    monkeypatch.setattr(httpx, "create_ssl_context", counting)
    monkeypatch.setattr(http_mod, "_TLS", [])

    def factory(status: int, body: bytes, headers: object, cid: str | None) -> ApiError:
        return ApiError("x", service="s", status=status)

    clients = [Http(service=name, base_url=url, error_factory=factory)  # type: ignore[arg-type]
               for name, url in (("Commerce", "https://shop.example.com/rest/V1"),
                                 ("Walmart", "https://marketplace.walmartapis.com"),
                                 ("local", "http://127.0.0.1:8780"))]
    try:
        assert len(made) == 1
        pools = [c.wire.client._transport._pool for c in clients[:2]]  # type: ignore[attr-defined]
        assert pools[0]._ssl_context is pools[1]._ssl_context is made[0]
    finally:
        for c in clients:
            c.close()
