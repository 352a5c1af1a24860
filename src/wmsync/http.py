"""The one HTTP layer both clients use.

- explicit timeouts;
- a retry *decision* that is a pure function (:func:`decide`), tested without HTTP or a clock;
- every request says whether it is safe to repeat. Reads (and the token request) are retried on 408/429/5xx,
  transport errors and malformed bodies, with capped exponential backoff and jitter, honouring ``Retry-After``
  (seconds or an HTTP date) and Walmart's replenish header. A write that is not safe to repeat is retried only
  when it certainly did not reach the server (connect errors) or got 429; any other failure surfaces as
  :class:`OutcomeUnknownError`, which the workflow resolves by re-reading state;
- a client-side rate limit per endpoint;
- a fresh correlation id per request where the service has one, carried into every error;
- tracing (``--verbose``, ``--trace-file``) with every token, signature and secret masked.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

from wmsync.clock import SYSTEM, Clock
from wmsync.errors import (
    ApiError,
    MalformedResponseError,
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
    WmsyncError,
)
from wmsync.wire import Headers, TransportFailure, Wire, WireError

if TYPE_CHECKING:
    import httpx

__all__ = ["Headers", "Http", "HttpSettings", "HttpxWire", "Response", "RetryPolicy", "TransportFailure"]

"""``connect``: never reached the server (connect error/timeout, pool timeout). ``timeout``: read/write timeout
after the request may have been sent. ``reset``: the connection broke mid-exchange. ``malformed``: the answer was
not the JSON we expect."""

#: answers that say "not now" rather than "no": reads retry them; a write that got one has an unknown outcome.
#: 520 (Walmart's gateway SYSTEM_ERROR) and 423 (Walmart's RESOURCE_IS_LOCKED) are transient on Walmart
#: (docs/real-services.md).
RETRYABLE_STATUS = frozenset({408, 423, 429, 500, 502, 503, 504, 520})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    jitter: bool = True


@dataclass(frozen=True)
class Decision:
    retry: bool
    wait: float = 0.0
    reason: str = ""
    outcome_unknown: bool = False


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date), ``retry-after-ms``, or Walmart's
    ``X-Next-Replenishment-Time`` (documented; ``x-next-replenish-time`` as fallback; epoch milliseconds or
    seconds). Header names are case-insensitive."""
    lower: dict[str, str] = {str(k).lower(): str(v) for k, v in headers.items()}
    raw = lower.get("retry-after-ms")
    if raw:
        try:
            return max(0.0, float(raw) / 1000.0)
        except ValueError:
            pass
    raw = lower.get("retry-after")
    if raw:
        raw = raw.strip()
        try:
            return max(0.0, float(raw))
        except ValueError:
            import email.utils  # only for an HTTP-date Retry-After, rare: not loaded by every command

            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None:
                if when.tzinfo is None:  # asctime dates and "-0000" carry no zone; HTTP dates are all GMT
                    when = when.replace(tzinfo=UTC)
                return max(0.0, when.timestamp() - now)
    raw = lower.get("x-next-replenishment-time") or lower.get("x-next-replenish-time")
    if raw:
        try:
            value = float(raw)
        except ValueError:
            return None
        if value > 1e11:  # epoch milliseconds
            value /= 1000.0
        if value > 1e9:  # an epoch time
            return max(0.0, value - now)
        return max(0.0, value)  # a number of seconds
    return None


def backoff(attempt: int, policy: RetryPolicy, rand: Callable[[], float] = random.random) -> float:
    """Capped exponential backoff with full jitter; ``attempt`` counts from 1."""
    ceiling: float = min(policy.backoff_max, policy.backoff_base * 2.0 ** (attempt - 1))
    if not policy.jitter:
        return ceiling
    return ceiling * (0.5 + 0.5 * rand())


def decide(
    *,
    idempotent: bool,
    attempt: int,
    policy: RetryPolicy,
    status: int | None = None,
    failure: TransportFailure | None = None,
    headers: Mapping[str, str] | None = None,
    now: float = 0.0,
    rand: Callable[[], float] = random.random,
) -> Decision:
    """Whether to retry after ``attempt`` (1-based) ended with ``status`` or ``failure``. Pure."""
    headers = headers or {}
    last = attempt >= policy.max_attempts
    if failure is not None:
        if failure == "connect":
            reason = "connection failed before the request was sent"
        elif idempotent:
            reason = f"{failure} on a request that is safe to repeat"
        else:
            return Decision(False, reason=f"{failure} after a write was sent", outcome_unknown=True)
        if last:
            return Decision(False, reason=reason + "; no attempts left")
        return Decision(True, backoff(attempt, policy, rand), reason)
    if status is None or status < 400:
        return Decision(False)
    if status == 429:
        if last:
            return Decision(False, reason="rate limited; no attempts left")
        wait = parse_retry_after(headers, now)
        if wait is None:
            wait = backoff(attempt, policy, rand)
        return Decision(True, min(wait, policy.retry_after_max), "rate limited (429)")
    if status in RETRYABLE_STATUS:
        if not idempotent:
            return Decision(False, reason=f"HTTP {status} after a write was sent", outcome_unknown=True)
        if last:
            return Decision(False, reason=f"HTTP {status}; no attempts left")
        wait = parse_retry_after(headers, now)
        if wait is None:
            wait = backoff(attempt, policy, rand)
        return Decision(True, min(wait, policy.retry_after_max), f"HTTP {status}")
    return Decision(False)


def classify(exc: httpx.TransportError) -> TransportFailure:
    import httpx

    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return "connect"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    return "reset"


# ---------------------------------------------------------------- rate limiting


class RateLimiter:
    """A token bucket per endpoint: ``rate_per_min`` requests a minute, bursts up to ``burst``.

    The configured rate is a ceiling, not a promise: :meth:`observe` learns the server's real limit from its
    answers. An answer's ``x-current-token-count`` is what the server had left when it handled that request, so
    the requests this bucket let go after it (still on their way, or waiting for their slot) are taken off it:
    the local bucket never holds more than that. The rate is the server's, measured (:meth:`_measure`) from the
    tokens it gains and the requests it lets through, plus what it has to spare spread over :data:`DRAIN`
    seconds (never above the configured rate), so its burst is used and then its rate; until it is measured,
    an answer that leaves nothing for the next request eases the rate down a little, and one with tokens to
    spare lets it climb back towards the configured one. A 429 holds every
    request until the server replenishes (``X-Next-Replenishment-Time``, else ``Retry-After``) and lowers the
    rate — once for the requests that were in flight together, not once per answer, since those all met the
    same empty bucket."""

    #: on a 429, on an answer that leaves the server no token, and per answer with tokens to spare
    DECREASE, EASE, INCREASE = 0.8, 0.99, 1.01
    #: seconds between two answers the server's rate is measured from; seconds over which the tokens the
    #: server has to spare are spent, on top of its rate
    WINDOW, DRAIN = 2.0, 1.0

    def __init__(self, rate_per_min: float, *, burst: float | None = None, clock: Clock = SYSTEM) -> None:
        self.rate = rate_per_min / 60.0
        self.ceiling = self.rate
        self.floor = self.rate / 100
        self.capacity = burst if burst is not None else max(1.0, min(rate_per_min / 60.0 * 5, 10.0))
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock.monotonic()
        self.lock = threading.Lock()
        #: reservations handed out so far; the number a request got says which ones went after it
        self.issued = 0
        #: ``issued`` when the rate was last lowered on a 429: a 429 for a request sent before then is the same
        #: episode
        self.cut_at = 0
        self._mine = threading.local()
        #: 429s met so far, the most tokens the server has said it had, and the answer a measurement of the
        #: server's rate starts from: (monotonic time, its token count, its reservation number, 429s so far)
        self.throttled = 0
        self.most_seen = 0
        self._since: tuple[float, int, int, int] | None = None
        #: the server's rate (requests a second) once measured
        self.measured: float | None = None

    def reserve(self) -> float:
        """Take a token; return how long to wait before using it. The reservation's number is kept for this
        thread, for :meth:`observe` of the answer."""
        with self.lock:
            now = self.clock.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            self.tokens -= 1.0
            self.issued += 1
            self._mine.sent = self.issued
            if self.tokens >= 0:
                return 0.0
            return -self.tokens / self.rate

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self.clock.sleep(wait)

    def observe(self, status: int, headers: Mapping[str, str], now: float, *, sent: int | None = None) -> None:
        """Learn from one answer of the endpoint this bucket guards (see the class). ``sent``: the reservation
        number of the request answered (by default this thread's last reservation)."""
        lower = {k.lower(): v for k, v in headers.items()}
        raw = lower.get("x-current-token-count")
        try:
            count = int(raw) if raw is not None else None
        except ValueError:
            count = None
        if status != 429 and count is None:
            return
        if sent is None:
            sent = getattr(self._mine, "sent", None)
        with self.lock:
            mono = self.clock.monotonic()
            self.tokens = min(self.capacity, self.tokens + (mono - self.updated) * self.rate)
            self.updated = mono
            # the requests let go after this one: the server had not counted them yet
            after = max(0, self.issued - sent) if sent is not None else 0
            if status == 429:
                self.throttled += 1
                if sent is None or sent > self.cut_at:
                    self.rate = max(self.floor, self.rate * self.DECREASE)
                    self.cut_at = self.issued
                wait = _replenish_wait(lower, now)
                self.tokens = min(self.tokens, -(wait if wait is not None else 1.0 / self.rate) * self.rate)
            elif count is not None:
                left = float(count - after)
                if self.measured is not None:  # the server's rate, and its spare tokens spent over DRAIN seconds
                    self.rate = min(self.ceiling, max(self.floor, self.measured + max(0.0, left) / self.DRAIN))
                elif left >= 1.0:
                    self.rate = min(self.ceiling, self.rate * self.INCREASE)
                else:
                    self.rate = max(self.floor, self.rate * self.EASE)
                self.tokens = min(self.tokens, left)
                self.most_seen = max(self.most_seen, count)
                if sent is not None:
                    self._measure(mono, count, sent)

    def _measure(self, mono: float, count: int, sent: int) -> None:
        """The server's rate, from two answers :data:`WINDOW` apart: the tokens it gained plus the requests it let
        through in between, over the time. Only while its bucket stays well below full (a full bucket gains
        nothing), so an idle client or a fresh bucket does not count. Called under the lock."""
        if count * 2 > self.most_seen:
            self._since = None
            return
        if self._since is None:
            self._since = (mono, count, sent, self.throttled)
            return
        t0, count0, sent0, throttled0 = self._since
        if mono - t0 < self.WINDOW:
            return
        let_through = (sent - sent0) - (self.throttled - throttled0)
        measured = (count - count0 + let_through) / (mono - t0)
        self.measured = min(self.ceiling, max(self.floor, measured))
        self.rate = self.measured
        self._since = (mono, count, sent, self.throttled)


def _replenish_wait(lower: Mapping[str, str], now: float) -> float | None:
    """Seconds until the server's next token: Walmart's replenishment time (to the millisecond) when the answer
    has one, else whatever :func:`parse_retry_after` reads (``Retry-After`` is in whole seconds)."""
    for name in ("x-next-replenishment-time", "x-next-replenish-time"):
        if lower.get(name):
            wait = parse_retry_after({name: lower[name]}, now)
            if wait is not None:
                return wait
    return parse_retry_after(lower, now)


# ---------------------------------------------------------------- tracing

SENSITIVE_HEADERS = frozenset({"authorization", "wm_sec.access_token", "cookie", "set-cookie", "x-api-key"})


@dataclass
class Exchange:
    service: str
    method: str
    url: str
    status: int | None
    duration_ms: float
    correlation_id: str | None
    attempt: int
    request_headers: dict[str, str]
    request_body: str | None
    response_body: str | None
    error: str | None = None


Tracer = Callable[[Exchange], None]


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for key, value in headers.items():
        if key.lower() in SENSITIVE_HEADERS:
            if key.lower() == "authorization" and value.lower().startswith("oauth "):
                out[key] = "OAuth ****"
            else:
                out[key] = value.split(" ", 1)[0] + " ****" if " " in value else "****"
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------- test hook: crash at a chosen request


class _CrashHook:
    """A test hook for the reliability suite (``tests/reliability/test_crashes.py``), inert unless the
    environment sets ``WMSYNC_TEST_CRASH_AT="before|after METHOD PATH_REGEX [N]"``: the process then kills itself
    with SIGKILL right before sending (``before``) or right after receiving the answer to (``after``) the Nth
    request (default 1) whose method and path match — a crash at an exact point between two writes, with no
    chance to clean up, as a power cut or the OOM killer would do it."""

    def __init__(self, spec: str | None) -> None:
        self.stage: str | None = None
        self.method = ""
        self.pattern: Any = None
        self.nth = 1
        self.seen = 0
        self.lock = threading.Lock()
        if spec:
            import re

            parts = spec.split()
            self.stage, self.method, self.pattern = parts[0], parts[1].upper(), re.compile(parts[2])
            self.nth = int(parts[3]) if len(parts) > 3 else 1

    def __call__(self, stage: str, method: str, path: str) -> None:
        if self.stage != stage or method.upper() != self.method or not self.pattern.search(path):
            return
        with self.lock:
            self.seen += 1
            if self.seen != self.nth:
                return
        import os
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _crash_hook() -> _CrashHook:
    import os

    return _CrashHook(os.environ.get("WMSYNC_TEST_CRASH_AT"))


# ---------------------------------------------------------------- the client


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    content: bytes
    correlation_id: str | None
    data: Any = None


ErrorFactory = Callable[[int, bytes, Mapping[str, str], str | None], ApiError]
#: sets headers on a request about to be sent: an ``httpx.Request`` or a :class:`wmsync.wire.WireRequest`
#: (both have ``method``, ``url`` and a mutable ``headers``)
Signer = Callable[[Any], None]


_TLS: list[Any] = []
_TLS_LOCK = threading.Lock()


def _tls_context() -> Any:
    """The TLS context every client shares: loading the CA bundle takes ~15 ms, once per process, not once per
    client. It is httpx's default context (the certifi bundle), as before."""
    with _TLS_LOCK:
        if not _TLS:
            import httpx

            _TLS.append(httpx.create_ssl_context(trust_env=False))
        return _TLS[0]


class HttpxWire(Wire):
    """The network (or any httpx transport: tests, pytest-httpx). httpx is imported here, when the first client
    that sends over it is built."""

    def __init__(self, settings: HttpSettings, transport: httpx.BaseTransport | None,
                 default_headers: Mapping[str, str], base_url: str = "https://") -> None:
        import httpx

        timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
        self.client = httpx.Client(
            transport=transport,
            # a plain-http base URL (only ever a loopback host, see config.check_url; redirects are not followed)
            # never uses TLS: no certificate store is loaded for it
            verify=_tls_context() if base_url.startswith("https:") else False,
            timeout=timeout,
            headers=dict(default_headers),
            follow_redirects=False,
            trust_env=False,
        )
        self._transport_error = httpx.TransportError

    def build(self, method: str, url: str, *, params: Any, content: bytes | None,
              form: Mapping[str, str] | None, headers: dict[str, str]) -> Any:
        return self.client.build_request(method, url, params=params, content=content, data=form, headers=headers)

    def path(self, request: Any) -> str:
        return str(request.url.path)

    def send(self, request: Any) -> tuple[int, Mapping[str, str], bytes]:
        try:
            http_resp = self.client.send(request)
            try:
                body = http_resp.read()
            finally:
                http_resp.close()
        except self._transport_error as exc:
            raise WireError(classify(exc), f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) \
                from exc
        return http_resp.status_code, http_resp.headers, body

    def close(self) -> None:
        self.client.close()


@dataclass
class HttpSettings:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)


class Http:
    """One service's HTTP: base URL, transport, retries, limits, tracing. Thread-safe."""

    def __init__(
        self,
        *,
        service: str,
        base_url: str,
        settings: HttpSettings | None = None,
        transport: httpx.BaseTransport | Wire | None = None,
        clock: Clock = SYSTEM,
        limits: Mapping[str, RateLimiter] | None = None,
        error_factory: ErrorFactory,
        correlation_header: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        tracers: list[Tracer] | None = None,
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.settings = settings or HttpSettings()
        self.clock = clock
        self.limits = dict(limits or {})
        self.error_factory = error_factory
        self.correlation_header = correlation_header
        self.tracers = tracers if tracers is not None else []
        #: told (service, method, path, why, wait in seconds, attempt) before each retry's wait
        self.on_retry: list[Callable[[str, str, str, str, float, int], None]] = []
        self.correlation_ids: list[str] = []
        self.last_date_header: str | None = None
        self._crash = _crash_hook()
        self._cid_lock = threading.Lock()
        self.default_headers = dict(default_headers or {})
        #: what carries the requests: the sandbox's in-process wire as given, else httpx (the network, or the
        #: httpx transport given)
        self.wire: Wire = transport if isinstance(transport, Wire) else HttpxWire(
            self.settings, transport, self.default_headers, self.base_url)

    def close(self) -> None:
        self.wire.close()

    def url(self, path: str) -> str:
        return self.base_url + path

    def _trace(self, exchange: Exchange) -> None:
        for tracer in self.tracers:
            try:
                tracer(exchange)
            except Exception:
                continue

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        endpoint: str | None = None,
        signer: Signer | None = None,
        expect_json: bool = True,
        ok_statuses: frozenset[int] = frozenset(),
    ) -> Response:
        """Send with retries. Returns the response for 2xx (and ``ok_statuses``), else raises a WmsyncError."""
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "OPTIONS")
        policy = self.settings.policy
        attempt = 0
        last_error: WmsyncError | None = None
        content: bytes | None = None
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
        while True:
            attempt += 1
            limiter = self.limits.get(endpoint or "")
            if limiter is not None:
                limiter.acquire()
            req_headers = dict(headers or {})
            cid: str | None = None
            if self.correlation_header:
                cid = str(uuid.uuid4())
                req_headers[self.correlation_header] = cid
                with self._cid_lock:
                    self.correlation_ids.append(cid)
            if content is not None:
                req_headers.setdefault("Content-Type", "application/json")
            request = self.wire.build(
                method,
                self.url(path),
                params=params,
                content=content,
                form=form,
                headers={**self.default_headers, **req_headers},
            )
            if signer is not None:
                signer(request)
            if self._crash.stage is not None:
                self._crash("before", method, self.wire.path(request))
            started = time.perf_counter()
            status: int | None = None
            failure: TransportFailure | None = None
            resp_headers: Mapping[str, str] = Headers()
            body = b""
            err_text: str | None = None
            try:
                status, resp_headers, body = self.wire.send(request)
            except WireError as exc:
                failure = exc.kind
                err_text = str(exc)
            if self._crash.stage is not None and status is not None:
                self._crash("after", method, self.wire.path(request))
            duration = (time.perf_counter() - started) * 1000
            data: Any = None
            if status is not None and 200 <= status < 300 and expect_json:
                try:
                    data = json.loads(body) if body.strip() else None
                except ValueError:
                    failure = "malformed"
                    err_text = "the response body is not JSON"
            self._trace(
                Exchange(
                    service=self.service,
                    method=method,
                    url=str(request.url),
                    status=status,
                    duration_ms=duration,
                    correlation_id=cid,
                    attempt=attempt,
                    request_headers=mask_headers(dict(request.headers)),
                    request_body=content.decode("utf-8", "replace") if content else None,
                    response_body=body.decode("utf-8", "replace") if body else None,
                    error=err_text,
                )
            )
            if status is not None and resp_headers.get("date"):
                self.last_date_header = resp_headers.get("date")
            if limiter is not None and status is not None:
                limiter.observe(status, resp_headers, self.clock.time())
            if failure is None and status is not None and (200 <= status < 300 or status in ok_statuses):
                return Response(status, resp_headers, body, cid, data)
            decision = decide(
                idempotent=idempotent,
                attempt=attempt,
                policy=policy,
                status=None if failure else status,
                failure=failure,
                headers=resp_headers,
                now=self.clock.time(),
            )
            where = f"{self.service} {method} {path}"
            if failure is not None:
                if failure == "malformed":
                    last_error = MalformedResponseError(
                        f"{where}: {err_text} (HTTP {status})", correlation_id=cid
                    )
                else:
                    last_error = UnavailableError(f"{where}: {err_text}", correlation_id=cid)
            else:
                assert status is not None
                api_error = self.error_factory(status, body, resp_headers, cid)
                if status == 429:
                    last_error = RateLimitedError(f"{where}: rate limited (429): {api_error.message}",
                                                  correlation_id=cid)
                elif status in RETRYABLE_STATUS:
                    last_error = UnavailableError(f"{where}: HTTP {status}: {api_error.message}", correlation_id=cid)
                else:
                    raise api_error
            if decision.outcome_unknown:
                raise OutcomeUnknownError(
                    f"{where}: {decision.reason}; it may or may not have been applied",
                    correlation_id=cid,
                    hint="wmsync re-reads the order to find out; a re-run finishes the work without repeating it",
                )
            if not decision.retry:
                raise last_error
            for hook in self.on_retry:
                try:
                    hook(self.service, method, path, decision.reason, decision.wait, attempt)
                except Exception:  # saying so must never break the request
                    pass
            self.clock.sleep(decision.wait)
