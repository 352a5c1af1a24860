"""Walmart Marketplace orders API client: token (cached across processes), orders, acknowledge, ship, cancel."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from wmsync.clock import SYSTEM, Clock
from wmsync.errors import ApiError, AuthError, NotFoundError
from wmsync.http import Http, HttpSettings, RateLimiter, Tracer
from wmsync.records import ValidationError
from wmsync.walmart.models import WalmartOrder
from wmsync.wire import reason_phrase

#: the most orders one listing may match (Walmart: "a maximum of 10000 orders can be fetched at a time …
#: more … will return an error"; older pages said 20,000). A listing over more is split into date ranges.
LIST_CAP = 10_000
#: a window is not split below this (a listing that is still refused then is an error)
MIN_WINDOW_MS = 60_000


class TooManyOrders(Exception):
    """A listing matches more orders than Walmart hands out at a time."""


def _is_cap_error(exc: ApiError) -> bool:
    """Walmart's refusal of a listing that matches too many orders (its wording is not documented: a 400 on
    the listing that speaks of a number of orders "at a time" / a maximum)."""
    import re

    text = exc.message.lower()
    return exc.status == 400 and "order" in text and bool(
        re.search(r"at a time|maximum|more than \d|at most \d|exceed", text)
    )

SERVICE = "Walmart"
#: How many times one call gets a new token after a refusal (a token refused after a wait is the token's age).
MAX_TOKEN_REFRESHES = 3
#: A token fetched and sent within this many seconds is "fresh": its refusal is about the credentials.
FRESH_TOKEN_SECONDS = 30.0
TOKEN_MARGIN = 60.0  # refresh this many seconds before the token expires


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def parse_errors(body: bytes | str | Any) -> list[dict[str, Any]]:
    """Every Walmart error shape as a list of dicts. Never raises, whatever the body.

    Shapes: ``{"errors":{"error":[...]}}`` (orders API), ``{"errors":[...]}``, gateway ``{"error":[...]}``,
    and single objects in place of the lists.
    """
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body) if body else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            return []
    if not isinstance(data, dict):
        return []
    found: list[Any] = []
    errors = data.get("errors")
    if isinstance(errors, dict):
        # {"errors": {"error": ...}}, or one error object in place of the list: {"errors": {"code": ...}}
        found = _as_list(errors.get("error")) if "error" in errors else [errors]
    elif isinstance(errors, list):
        found = errors
    if not found and "error" in data:
        found = _as_list(data.get("error"))
    out: list[dict[str, Any]] = []
    for item in found:
        if isinstance(item, dict):
            out.append({k: item.get(k) for k in ("code", "field", "description", "info", "severity", "category")})
        elif isinstance(item, str):
            out.append({"code": None, "description": item})
    return out


def error_from_response(status: int, body: bytes, _headers: Mapping[str, str], cid: str | None) -> ApiError:
    errors = parse_errors(body)
    first = errors[0] if errors else {}
    code = first.get("code") if isinstance(first.get("code"), str) else None
    description = first.get("description") or first.get("info")
    if not isinstance(description, str) or not description:
        snippet = body[:200].decode("utf-8", "replace").strip() if body else ""
        description = snippet or reason_phrase(status) or "error"
        if snippet.lstrip().startswith("<"):
            description = f"HTTP {status} {reason_phrase(status)} (an HTML error page)"
    field = first.get("field") if isinstance(first.get("field"), str) else None
    message = f"Walmart: {description}"
    if code:
        message += f" [{code}]"
    cls = NotFoundError if status == 404 else ApiError
    return cls(message, service=SERVICE, status=status, code=code, field=field, errors=errors, correlation_id=cid)


def is_token_error(err: ApiError) -> bool:
    return err.status == 401 or (err.status == 400 and bool(err.code) and str(err.code).startswith("INVALID_TOKEN"))


def is_empty_list(err: ApiError) -> bool:
    return err.status == 404 and (err.code or "").startswith("CONTENT_NOT_FOUND")


def _cache_unusable(directory: Path, exc: OSError) -> Exception:
    from wmsync.errors import ConfigError

    return ConfigError(
        f"the Walmart token cache directory {directory} cannot be written ({exc.strerror or exc}); nothing was sent",
        hint="give this user write access to it, or point WMSYNC_CACHE_DIR at a directory it can write",
    )


class TokenCache:
    """The short-lived access token in a 0600 file in the cache dir, keyed by base URL and client id, so the
    many short processes of a cron job share one token. A lock file makes concurrent processes fetch once."""

    def __init__(self, directory: Path | None, base_url: str, client_id: str) -> None:
        self.directory = directory
        key = hashlib.sha256(f"{base_url}\n{client_id}".encode()).hexdigest()[:24]
        self.path = directory / f"walmart-token-{key}.json" if directory else None
        self.lock_path = directory / f"walmart-token-{key}.lock" if directory else None

    def read(self, now: float) -> tuple[str, float] | None:
        """The cached token and its expiry time, if it is still good for more than the margin."""
        if self.path is None:
            return None
        try:
            data = json.loads(self.path.read_text())
            token, expires_at = data["access_token"], float(data["expires_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if isinstance(token, str) and token and expires_at - TOKEN_MARGIN > now:
            return token, expires_at
        return None

    def write(self, token: str, expires_at: float) -> None:
        if self.path is None or self.directory is None:
            return
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:
            raise _cache_unusable(self.directory, exc) from exc
        with os.fdopen(fd, "w") as fh:
            json.dump({"access_token": token, "expires_at": expires_at}, fh)
        os.replace(tmp, self.path)

    def clear(self) -> None:
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        if self.lock_path is None or self.directory is None:
            yield
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise _cache_unusable(self.directory, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class WalmartClient:
    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        service_name: str = "Walmart Marketplace",
        channel_type: str | None = None,
        settings: HttpSettings | None = None,
        transport: Any = None,
        clock: Clock = SYSTEM,
        rate_limits: Mapping[str, float] | None = None,
        token_cache_dir: Path | None = None,
        tracers: list[Tracer] | None = None,
        sku_map: Mapping[str, str] | None = None,
    ) -> None:
        self.client_id = client_id
        #: Walmart SKU -> Commerce SKU (the store's ``skus`` table): orders are read with their lines under the
        #: Commerce SKU, so pairing, planning and reports compare like with like.
        self.sku_map = dict(sku_map or {})
        self._secret = client_secret
        self.clock = clock
        limits = {name: RateLimiter(rate, clock=clock) for name, rate in (rate_limits or {}).items()}
        headers = {"WM_SVC.NAME": service_name, "Accept": "application/json"}
        if channel_type:
            headers["WM_CONSUMER.CHANNEL.TYPE"] = channel_type
        self.http = Http(
            service=SERVICE,
            base_url=base_url,
            settings=settings,
            transport=transport,
            clock=clock,
            limits=limits,
            error_factory=error_from_response,
            correlation_header="WM_QOS.CORRELATION_ID",
            default_headers=headers,
            tracers=tracers,
        )
        self.cache = TokenCache(token_cache_dir, base_url.rstrip("/"), client_id)
        self._token: str | None = None
        self._token_expires = 0.0
        self.token_requests = 0

    @property
    def correlation_ids(self) -> list[str]:
        return self.http.correlation_ids

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------ token

    def _basic(self) -> str:
        """``client_id:client_secret`` in base64, registered as a secret (it is the secret in another form)."""
        from wmsync.secrets import register_secret

        basic = base64.b64encode(f"{self.client_id}:{self._secret}".encode()).decode()
        register_secret(basic)
        return basic

    def _fetch_token(self) -> tuple[str, float]:
        from wmsync.secrets import register_secret

        basic = self._basic()
        self.token_requests += 1
        try:
            resp = self.http.request(
                "POST",
                "/v3/token",
                form={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {basic}"},
                idempotent=True,  # asking for a token twice is harmless
                endpoint="token",
            )
        except ApiError as exc:
            if exc.status in (400, 401, 403):
                raise AuthError(
                    f"Walmart refused the client id/secret: {exc.message}",
                    hint="check walmart_client_id and WALMART_CLIENT_SECRET (production and sandbox keys differ)",
                    correlation_id=exc.correlation_id,
                ) from exc
            raise
        data = resp.data if isinstance(resp.data, dict) else {}
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            from wmsync.errors import MalformedResponseError

            raise MalformedResponseError(
                "Walmart token response has no access_token", correlation_id=resp.correlation_id
            )
        try:
            ttl = float(data.get("expires_in", 900))
        except (TypeError, ValueError):
            ttl = 900.0
        register_secret(token)
        return token, self.clock.time() + ttl

    def token(self, *, force: bool = False) -> str:
        now = self.clock.time()
        if not force and self._token and self._token_expires - TOKEN_MARGIN > now:
            return self._token
        with self.cache.locked():
            if not force:
                cached = self.cache.read(now)
                if cached:
                    from wmsync.secrets import register_secret

                    register_secret(cached[0])
                    self._token, self._token_expires = cached
                    return cached[0]
            token, expires = self._fetch_token()
            self.cache.write(token, expires)
        self._token, self._token_expires = token, expires
        return token

    def _invalidate(self, token: str) -> None:
        if self._token == token:
            self._token = None
        with self.cache.locked():
            cached = self.cache.read(self.clock.time())
            if cached is not None and cached[0] == token:
                self.cache.clear()

    def call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, str] | list[tuple[str, str]] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """A token-authenticated call. The token is taken for every attempt (a retry after a long Retry-After
        does not carry one that expired while waiting). On 401 or 400 INVALID_TOKEN the token is dropped and the
        call made again with another; only a token this call fetched itself and sent at once being refused is a
        credentials problem (exit 3) — a refusal after a wait is the token's age."""
        sent: list[tuple[str, float]] = []  # (token, when it was sent)
        fetched: dict[str, float] = {}  # tokens this call fetched from Walmart, and when

        def current() -> str:
            before = self.token_requests
            token = self.token()
            if self.token_requests > before:
                fetched[token] = self.clock.time()
            return token

        def sign(request: Any) -> None:
            token = current()
            sent.append((token, self.clock.time()))
            request.headers["WM_SEC.ACCESS_TOKEN"] = token
            if path.startswith("/v3/orders"):
                # the orders spec's global security is basicScheme: client id and secret beside the token
                # (docs/real-services.md); masked like every secret
                request.headers["Authorization"] = f"Basic {self._basic()}"

        current()  # before the first attempt, so the token request comes first (and its correlation id)
        for refresh in range(MAX_TOKEN_REFRESHES + 1):
            try:
                resp = self.http.request(
                    method,
                    path,
                    params=params,
                    json_body=json_body,
                    # every order POST, the bodiless acknowledge too: without it Walmart's gateway answers
                    # 500/520 SYSTEM_ERROR.GMP_GATEWAY_API (docs/real-services.md)
                    headers={"Content-Type": "application/json"} if method.upper() == "POST" else None,
                    signer=sign,
                    idempotent=idempotent,
                    endpoint=endpoint,
                )
            except ApiError as exc:
                if not is_token_error(exc) or not sent:
                    raise
                token, when = sent[-1]
                fresh = token in fetched and when - fetched[token] < FRESH_TOKEN_SECONDS
                if (refresh > 0 and fresh) or refresh == MAX_TOKEN_REFRESHES:
                    raise AuthError(
                        f"Walmart refused a fresh access token: {exc.message}",
                        hint="check walmart_client_id and WALMART_CLIENT_SECRET, and that the app has the orders "
                        "scope (`wmsync stores check`)",
                        correlation_id=exc.correlation_id,
                    ) from exc
                # expired or revoked before its time: drop it (another process may already have a new one in the
                # shared cache; else the next attempt fetches one)
                self._invalidate(token)
                continue
            return resp.data
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------ endpoints

    def token_detail(self) -> dict[str, Any]:
        data = self.call("GET", "/v3/token/detail", endpoint="read")
        return data if isinstance(data, dict) else {}

    def get_order(self, purchase_order_id: str) -> WalmartOrder:
        data = self.call("GET", f"/v3/orders/{quote(purchase_order_id, safe='')}", endpoint="read")
        return self._order(data)

    def _order(self, data: Any) -> WalmartOrder:
        order = order_of(data)
        if self.sku_map:
            for line in order.lines:
                line.item.sku = self.sku_map.get(line.item.sku, line.item.sku)
        return order

    def _mapped(self, raw: dict[str, Any]) -> dict[str, Any]:
        if not self.sku_map:
            return raw
        for line in _as_list((raw.get("orderLines") or {}).get("orderLine")):
            item = line.get("item") if isinstance(line, dict) else None
            if isinstance(item, dict) and isinstance(item.get("sku"), str):
                item["sku"] = self.sku_map.get(item["sku"], item["sku"])
        return raw

    def list_orders(self, *, cap: int | None = None, **filters: str) -> Iterator[dict[str, Any]]:
        """All orders matching the filters, following ``nextCursor``. 404 CONTENT_NOT_FOUND is an empty list.
        With ``cap``: raises :class:`TooManyOrders` before yielding anything when the listing matches more
        orders than that (``meta.totalCount``) or Walmart refuses it as too many.

        The orders are the JSON documents as Walmart sent them: listings are long, and their readers keep only
        a few orders parsed (``WalmartOrder.model_validate``) or keep them as compact JSON until needed."""
        params: list[tuple[str, str]] = [(k, v) for k, v in filters.items() if v is not None]
        first = True
        while True:
            try:
                data = self.call("GET", "/v3/orders", params=params, endpoint="read")
            except NotFoundError as exc:
                if is_empty_list(exc):
                    return
                raise
            except ApiError as exc:
                if cap is not None and first and _is_cap_error(exc):
                    raise TooManyOrders(exc.message) from exc
                raise
            lst = data.get("list", {}) if isinstance(data, dict) else {}
            if cap is not None and first:
                total = (lst.get("meta") or {}).get("totalCount")
                if isinstance(total, int | str) and str(total).isdigit() and int(total) > cap:
                    raise TooManyOrders(f"{total} orders match")
            first = False
            elements = (lst.get("elements") or {}).get("order") or []
            yield from (self._mapped(o) for o in _as_list(elements) if isinstance(o, dict))
            cursor = (lst.get("meta") or {}).get("nextCursor")
            if not cursor or not elements:
                return
            params = parse_qsl(str(cursor).lstrip("?"), keep_blank_values=True)

    def list_orders_windowed(
        self, start_ms: int, end_ms: int, filters: Mapping[str, str], *, cap: int = LIST_CAP
    ) -> Iterator[dict[str, Any]]:
        """:meth:`list_orders` over orders created from ``start_ms`` to ``end_ms`` (epoch ms, both included),
        split into halves — oldest first, no overlap — wherever a range matches more than ``cap`` orders, so that
        every listing stays under Walmart's cap. The ranges are read one after the other; nothing is yielded
        twice."""
        from datetime import UTC, datetime

        def iso(ms: int) -> str:
            return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"

        ranges = [(start_ms, end_ms)]
        while ranges:
            lo, hi = ranges.pop(0)
            try:
                yield from self.list_orders(
                    cap=cap, createdStartDate=iso(lo), createdEndDate=iso(hi), **filters
                )
            except TooManyOrders as exc:
                if hi - lo < MIN_WINDOW_MS:
                    raise ApiError(
                        f"Walmart will not list the orders created in one minute ({exc}): more than it hands out "
                        "at a time",
                        service="Walmart",
                        status=400,
                    ) from exc
                mid = lo + (hi - lo) // 2
                ranges[0:0] = [(lo, mid), (mid + 1, hi)]

    def acknowledge(self, purchase_order_id: str) -> WalmartOrder:
        data = self.call(
            "POST",
            f"/v3/orders/{quote(purchase_order_id, safe='')}/acknowledge",
            endpoint="acknowledge",
            idempotent=True,  # acknowledging twice is harmless
        )
        return self._order(data)

    def ship(self, purchase_order_id: str, body: dict[str, Any]) -> WalmartOrder:
        path = f"/v3/orders/{quote(purchase_order_id, safe='')}/shipping"
        data = self.call("POST", path, endpoint="ship", json_body=body, idempotent=False)
        return self._order(data)

    def list_returns(self, **filters: str) -> Iterator[dict[str, Any]]:
        """Return orders matching the filters (the returns spec's ``getReturns``), following ``nextCursor``."""
        params: list[tuple[str, str]] = [(k, v) for k, v in filters.items() if v is not None]
        while True:
            try:
                data = self.call("GET", "/v3/returns", params=params, endpoint="read")
            except NotFoundError:
                return
            orders = data.get("returnOrders") if isinstance(data, dict) else None
            yield from (o for o in orders or [] if isinstance(o, dict))
            cursor = ((data.get("meta") or {}).get("nextCursor") if isinstance(data, dict) else None) or ""
            if not cursor or not orders:
                return
            params = parse_qsl(str(cursor).lstrip("?"), keep_blank_values=True)

    def refund_return(self, return_order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``issueRefund``: the refund of a return Walmart leaves to the seller (body from
        :func:`wmsync.walmart.returns.refund_body`). Not idempotent: after an unknown outcome, read the return."""
        path = f"/v3/returns/{quote(return_order_id, safe='')}/refund"
        data = self.call("POST", path, endpoint="cancel", json_body=body, idempotent=False)
        return data if isinstance(data, dict) else {}

    def refund(self, purchase_order_id: str, body: dict[str, Any]) -> WalmartOrder:
        """``refundOrderLines``: refunds of shipped lines."""
        path = f"/v3/orders/{quote(purchase_order_id, safe='')}/refund"
        data = self.call("POST", path, endpoint="cancel", json_body=body, idempotent=False)
        return self._order(data)

    def cancel(self, purchase_order_id: str, body: dict[str, Any]) -> WalmartOrder:
        path = f"/v3/orders/{quote(purchase_order_id, safe='')}/cancel"
        data = self.call("POST", path, endpoint="cancel", json_body=body, idempotent=False)
        return self._order(data)


def order_of(data: Any) -> WalmartOrder:
    """The order in an answer (:func:`unwrap_order`), parsed; one that does not fit the model is a malformed
    answer (exit 5), like one that is not JSON."""
    try:
        return WalmartOrder.model_validate(unwrap_order(data))
    except ValidationError as exc:
        from wmsync.errors import MalformedResponseError

        raise MalformedResponseError(f"Walmart answered an order wmsync cannot read: {exc.errors()[0]['msg']}") from exc


def unwrap_order(data: Any) -> dict[str, Any]:
    """``{"order": {...}}`` as the API answers in practice, or a bare order as the spec's schema says."""
    if isinstance(data, dict):
        inner = data.get("order")
        if isinstance(inner, dict):
            return inner
        if "purchaseOrderId" in data:
            return data
    from wmsync.errors import MalformedResponseError

    raise MalformedResponseError("Walmart answered without an order")
