"""The client-side token bucket, driven by a fake clock."""

from __future__ import annotations

import threading
from typing import Any

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


# ---------------------------------------------------------------- learning the server's limit with workers in flight


class _Worker:
    """One thread of its own, so the limiter sees each simulated worker's calls come from the same thread, as
    the HTTP layer makes them (a request's reservation and its answer)."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(max_workers=1)

    def run(self, fn: Any, *args: Any) -> Any:
        return self.pool.submit(fn, *args).result(10)

    def close(self) -> None:
        self.pool.shutdown()


def test_an_answer_s_token_count_leaves_room_for_the_requests_sent_after_it() -> None:
    """The server counted this request, not the four sent after it: of its three tokens, those four take more
    than all, so the next request waits."""
    clock = FakeClock()
    limiter = RateLimiter(600, clock=clock)  # ten a second, a burst of ten
    first, others = _Worker(), _Worker()
    try:
        assert first.run(limiter.reserve) == 0.0
        for _ in range(4):
            assert others.run(limiter.reserve) == 0.0
        first.run(limiter.observe, 200, {"x-current-token-count": "3"}, clock.time())
        assert others.run(limiter.reserve) > 0
    finally:
        first.close()
        others.close()


def test_the_429s_of_requests_in_flight_together_lower_the_rate_once() -> None:
    clock = FakeClock()
    limiter = RateLimiter(600, clock=clock)
    workers = [_Worker() for _ in range(4)]
    try:
        for w in workers:
            w.run(limiter.reserve)
        throttled = {"x-current-token-count": "0", "X-Next-Replenishment-Time": str(int(clock.time() * 1000) + 100)}
        for w in workers:  # all four met the same empty bucket
            w.run(limiter.observe, 429, throttled, clock.time())
        assert limiter.rate == pytest.approx(10 * RateLimiter.DECREASE)
        clock.advance(1.0)
        workers[0].run(limiter.reserve)  # sent after the cut: its 429 is news
        workers[0].run(limiter.observe, 429, throttled, clock.time())
        assert limiter.rate == pytest.approx(10 * RateLimiter.DECREASE**2)
    finally:
        for w in workers:
            w.close()


def test_a_429_holds_until_the_replenishment_time_not_a_whole_second_of_retry_after() -> None:
    """Retry-After counts whole seconds; Walmart's replenishment time says to the millisecond when the next token
    comes, and the bucket waits for that (the throttled request itself still honours Retry-After)."""
    clock = FakeClock()
    limiter = RateLimiter(600, clock=clock)
    headers = {"Retry-After": "1", "x-current-token-count": "0",
               "X-Next-Replenishment-Time": str(int((clock.time() + 0.05) * 1000))}
    limiter.observe(429, headers, clock.time())
    assert 0.05 <= limiter.reserve() < 0.2


def _simulate(workers: int, ships: int) -> tuple[float, int, int]:
    """``workers`` threads sharing one limiter set to 2,400 a minute ship through a server that allows 1,200 a
    minute with five seconds of burst (Walmart's bucket, as the sandbox serves it), 50 ms away; each worker
    reads the order back after each shipment (50 ms) and retries a 429 after its ``Retry-After``.
    Returns (seconds, shipments, 429s)."""
    import heapq
    import math

    from wmsync.http import RetryPolicy, decide

    clock = FakeClock()
    start = clock.time()
    limiter = RateLimiter(2400, clock=clock)
    server_rate, capacity, latency = 20.0, 100.0, 0.05
    server = {"tokens": capacity, "at": start}
    threads = [_Worker() for _ in range(workers)]
    events: list[tuple[float, int, int, str]] = []  # (time, sequence, worker, what)
    seq = 0

    def at(when: float, worker: int, what: str) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (when, seq, worker, what))

    for w in range(workers):
        at(start, w, "reserve")
    done = throttled = 0
    last = start
    try:
        while events and done < ships:
            when, _seq, w, what = heapq.heappop(events)
            clock.advance(when - clock.time())
            if what == "reserve":
                wait = threads[w].run(limiter.reserve)
                at(when + wait + latency, w, "arrive")  # the server handles it after the latency
                continue
            # the server's bucket, as wmsync.sandbox.common.take_token keeps it
            tokens = min(capacity, server["tokens"] + (when - server["at"]) * server_rate)
            server["at"] = when
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            server["tokens"] = tokens
            next_in = 0.0 if tokens >= 1.0 else (1.0 - tokens) / server_rate
            headers = {"x-current-token-count": str(max(0, math.floor(tokens))),
                       "X-Next-Replenishment-Time": str(int((when + next_in) * 1000))}
            if not allowed:
                headers["Retry-After"] = str(max(1, math.ceil(next_in)))
            status = 200 if allowed else 429
            threads[w].run(limiter.observe, status, headers, clock.time())
            if allowed:
                done += 1
                last = when
                at(when + latency + 0.01, w, "reserve")  # the read back, then the next order
            else:
                throttled += 1
                d = decide(idempotent=False, attempt=1, policy=RetryPolicy(jitter=False), status=429,
                           headers=headers, now=clock.time())
                at(when + d.wait, w, "reserve")
    finally:
        for t in threads:
            t.close()
    return last - start, done, throttled


def test_workers_sharing_a_limiter_set_above_the_server_s_learn_its_rate_without_429s() -> None:
    """The shape of ``wmsync sync`` against a Walmart that allows half the configured rate: nearly all of the
    server's bound is used (its full bucket, then its rate), and hardly a request meets a 429."""
    seconds, shipped, throttled = _simulate(workers=8, ships=600)
    bound = 100 + 20 * seconds
    assert shipped / bound >= 0.9
    assert throttled / (shipped + throttled) <= 0.01


def test_the_server_s_rate_is_measured_from_the_tokens_it_gains_and_the_requests_it_lets_through() -> None:
    """Configured at 40 a second; the server lets 20 a second through while its bucket stays at two tokens."""
    clock = FakeClock()
    limiter = RateLimiter(2400, clock=clock)
    worker = _Worker()
    try:
        worker.run(limiter.observe, 200, {"x-current-token-count": "99"}, clock.time())  # a fresh, full bucket
        for _ in range(60):  # three seconds
            clock.advance(0.05)
            worker.run(limiter.reserve)
            worker.run(limiter.observe, 200, {"x-current-token-count": "2"}, clock.time())
        assert limiter.rate < 25.0  # its rate, plus its two spare tokens over a second: not the configured 40
        assert limiter.measured == pytest.approx(20.0, rel=0.05)
    finally:
        worker.close()
