"""The client-side token bucket, driven by a fake clock."""

from __future__ import annotations

import threading

import pytest

from wmsync.clock import FakeClock
from wmsync.http import RateLimiter


class FrozenClock(FakeClock):
    """Records sleeps without moving time, so every reservation sees the same instant."""

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)


def test_60_per_minute_spaces_requests_one_second_apart_after_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock)
    burst = int(limiter.capacity)
    assert burst == 5  # five seconds' worth, at most ten
    for _ in range(burst):
        limiter.acquire()
    assert clock.sleeps == []
    for _ in range(4):
        limiter.acquire()
    assert clock.sleeps == [pytest.approx(1.0)] * 4


def test_explicit_burst_of_one() -> None:
    clock = FakeClock()
    limiter = RateLimiter(120, burst=1, clock=clock)
    for _ in range(3):
        limiter.acquire()
    assert clock.sleeps == [pytest.approx(0.5)] * 2


def test_tokens_refill_with_time_but_not_beyond_capacity() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, burst=2, clock=clock)
    limiter.acquire()
    limiter.acquire()
    clock.advance(3600)  # an hour idle refills only two tokens
    limiter.acquire()
    limiter.acquire()
    assert clock.sleeps == []
    limiter.acquire()
    assert clock.sleeps == [pytest.approx(1.0)]


def test_partial_refill_waits_only_for_the_remainder() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, burst=1, clock=clock)
    limiter.acquire()
    clock.advance(0.25)
    assert limiter.reserve() == pytest.approx(0.75)


def test_high_rate_caps_burst_at_ten() -> None:
    limiter = RateLimiter(5000, clock=FakeClock())
    assert limiter.capacity == 10


def test_low_rate_keeps_a_burst_of_one() -> None:
    clock = FakeClock()
    limiter = RateLimiter(6, clock=clock)  # one every ten seconds
    assert limiter.capacity == 1
    limiter.acquire()
    limiter.acquire()
    assert clock.sleeps == [pytest.approx(10.0)]


def test_concurrent_reservations_each_get_their_own_slot() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(60, burst=5, clock=clock)
    n = 40
    start = threading.Barrier(n)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        start.wait()
        w = limiter.reserve()
        with lock:
            waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(waits) == n
    # five free tokens, then one slot a second: no two threads share a slot, none is lost
    assert sorted(round(w, 6) for w in waits) == [0.0] * 5 + [float(i) for i in range(1, n - 4)]


def test_a_429_holds_every_request_until_the_server_replenishes_and_lowers_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(600, clock=clock)
    before = limiter.rate
    limiter.observe(429, {"x-next-replenish-time": str(int((clock.time() + 2.0) * 1000))}, clock.time())
    assert limiter.rate < before
    assert limiter.reserve() >= 2.0
    assert limiter.reserve() > 2.0  # the others queue behind it, at the learnt rate


def test_a_success_that_leaves_the_server_no_token_spends_the_local_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(600, clock=clock)  # ten requests a second, a burst of ten
    limiter.observe(200, {"x-current-token-count": "0"}, clock.time())
    assert limiter.reserve() > 0  # no burst left: wait for the next token
    limiter.observe(200, {"x-current-token-count": "3"}, clock.time())
    assert limiter.tokens <= 3


def test_the_rate_comes_back_up_while_the_server_has_tokens_but_not_beyond_the_configured_one() -> None:
    clock = FakeClock()
    limiter = RateLimiter(600, clock=clock)
    limiter.observe(429, {"Retry-After": "1"}, clock.time())
    low = limiter.rate
    for _ in range(2000):
        limiter.observe(200, {"x-current-token-count": "5"}, clock.time())
    assert low < limiter.rate <= 600 / 60.0


def test_answers_without_throttling_headers_change_nothing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock)
    tokens, rate = limiter.tokens, limiter.rate
    limiter.observe(200, {}, clock.time())
    limiter.observe(404, {}, clock.time())
    assert (limiter.tokens, limiter.rate) == (tokens, rate)


def test_the_http_layer_feeds_each_answer_to_its_endpoint_s_limiter() -> None:
    """A Walmart answer saying its bucket is empty makes the next request of that endpoint wait, although the
    client's own (higher) limit still had burst left; another endpoint is not held."""
    import httpx

    from wmsync.errors import ApiError
    from wmsync.http import Http

    clock = FakeClock()
    limits = {"ship": RateLimiter(600, clock=clock), "read": RateLimiter(600, clock=clock)}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={}, headers={"x-current-token-count": "0"})

    http = Http(service="Walmart", base_url="https://wm.test", transport=httpx.MockTransport(answer), clock=clock,
                limits=limits, error_factory=lambda status, body, headers, cid: ApiError("x", status=status))
    http.request("POST", "/v3/orders/1/shipping", json_body={}, idempotent=False, endpoint="ship")
    assert clock.sleeps == []
    http.request("GET", "/v3/orders/1", endpoint="read")  # its own bucket: not held by the ship answer
    assert clock.sleeps == []
    http.request("POST", "/v3/orders/2/shipping", json_body={}, idempotent=False, endpoint="ship")
    assert len(clock.sleeps) == 1
    assert clock.sleeps[0] > 0
    http.close()
