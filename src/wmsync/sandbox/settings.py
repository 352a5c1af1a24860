"""Sandbox settings: how slow, how faulty and how strict the simulated services are.

Settings live in the sandbox database (table ``settings``) so every process using the same database sees
the same behaviour; a server started with explicit settings uses those instead (see :class:`Sandbox`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["FAULT_KINDS", "TRANSPORT_FAULTS", "SandboxSettings"]

#: Every fault the sandbox can inject.
#:
#: - ``latency``: the response is delayed (``latency_ms``, or 1.5 s when that is 0), then served normally.
#: - ``500`` / ``503`` / ``504``: an error response instead of the real one (Walmart: ``SYSTEM_ERROR`` JSON,
#:   an HTML error page, ``DOWNSTREAM_SYSTEM_TIME_OUT``; Commerce: the masked "Internal Error" JSON, HTML pages).
#: - ``429``: throttled, with ``Retry-After``.
#: - ``520`` / ``423``: Walmart only: the gateway's ``SYSTEM_ERROR.GMP_GATEWAY_API`` (520) and
#:   ``RESOURCE_IS_LOCKED`` (423), both transient (not applied).
#: - ``timeout`` / ``connect`` / ``reset``: the request never reaches the service; the client sees
#:   ``httpx.ReadTimeout`` / ``httpx.ConnectError`` / ``httpx.RemoteProtocolError``.
#: - ``malformed``: the request is applied, the response body is cut short (invalid JSON).
#: - ``applied_timeout`` / ``applied_reset``: the request is applied, then the client gets a timeout / a reset
#:   instead of the response (what makes naive clients post duplicates).
FAULT_KINDS: tuple[str, ...] = (
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
)

#: The kinds a random fault (``fault_rate``) is drawn from unless ``fault_kinds`` says otherwise: every kind but
#: Walmart's 520 and 423, which are armed on purpose (the reliability figures were measured with these).
RANDOM_FAULT_KINDS: tuple[str, ...] = tuple(k for k in FAULT_KINDS if k not in ("520", "423"))

#: Faults that surface as transport errors (no HTTP response at all).
TRANSPORT_FAULTS: frozenset[str] = frozenset({"timeout", "connect", "reset", "applied_timeout", "applied_reset"})


@dataclass(frozen=True)
class SandboxSettings:
    """Behaviour of the simulated Walmart and Commerce services.

    ``ship_rate_per_min`` limits Walmart ship and cancel calls (a token bucket each), ``read_rate_per_min``
    the Walmart order reads (one bucket for the listing, one for reading an order), ``acknowledge_rate_per_min``
    the acknowledgements; ``None`` means unlimited. Each bucket holds ``rate_burst_seconds`` of its rate (at
    least one token): a full minute by default, a few seconds to make a client meet the limit early.
    ``walmart_delay`` is how long the simulated Channel
    Manager waits before pushing a Commerce shipment or cancellation to Walmart (only with
    ``channel_manager=True``). ``seed`` makes random faults reproducible. ``commerce_bearer=False``
    simulates a store that does not accept integration tokens as bearer tokens (the default since 2.4.4),
    so only OAuth 1.0a signed requests get in. ``ship_id_as_string`` makes ``POST /V1/order/{id}/ship``
    answer ``"12"`` (what Magento sends) instead of ``12`` (what its schema declares). ``oauth_base_urls``: other
    base URLs an OAuth 1.0a signature may have been computed for (a proxy in front of the sandbox, such as
    Stoplight Prism, that rewrites the Host header), e.g. ``("http://127.0.0.1:4010",)``.
    ``msi``: the store runs Multi-Source Inventory with several sources (``east``, ``west``; SEED.md): the
    inventory endpoints answer, and a shipment must name a source that holds its items. Without it the inventory
    endpoints are absent (404), as on a store without MSI.
    ``order_list_cap``: the most orders one listing (``GET /v3/orders`` with its filters) may match; more is a 400
    (Walmart documents 10,000; 0 = no cap).
    ``orders_basic_auth``: order calls must carry ``Authorization: Basic`` (the orders spec's global security);
    a wrong one is refused either way.
    ``tracking_update_window_s``: how long after a line's first shipping information Walmart accepts a tracking
    correction (``processMode: PARTIAL_UPDATE``); Walmart documents 4 hours.
    """

    latency_ms: int = 0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = RANDOM_FAULT_KINDS
    walmart_delay: float = 0.0
    token_ttl: int = 900
    ship_rate_per_min: int | None = None
    read_rate_per_min: int | None = None
    acknowledge_rate_per_min: int | None = None
    rate_burst_seconds: float = 60.0
    channel_manager: bool = False
    seed: int | None = None
    commerce_bearer: bool = True
    ship_id_as_string: bool = True
    oauth_base_urls: tuple[str, ...] = ()
    tracking_update_window_s: float = 4 * 3600.0
    orders_basic_auth: bool = False
    order_list_cap: int = 10_000
    msi: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be between 0 and 1, got {self.fault_rate}")
        kinds = tuple(self.fault_kinds)
        unknown = [k for k in kinds if k not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kind(s): {', '.join(unknown)} (known: {', '.join(FAULT_KINDS)})")
        object.__setattr__(self, "fault_kinds", kinds)
        object.__setattr__(self, "oauth_base_urls", tuple(str(u) for u in self.oauth_base_urls))
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if self.walmart_delay < 0:
            raise ValueError("walmart_delay must be >= 0")
        if self.token_ttl <= 0:
            raise ValueError("token_ttl must be > 0")
        if self.tracking_update_window_s < 0:
            raise ValueError("tracking_update_window_s must be >= 0")
        if self.rate_burst_seconds <= 0:
            raise ValueError("rate_burst_seconds must be > 0")
        for name in ("ship_rate_per_min", "read_rate_per_min", "acknowledge_rate_per_min"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0 (or None for unlimited)")

    def replace(self, **changes: Any) -> SandboxSettings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["fault_kinds"] = list(self.fault_kinds)
        out["oauth_base_urls"] = list(self.oauth_base_urls)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxSettings:
        """Build from a dict, ignoring unknown keys (a newer sandbox may have written them)."""
        names = {f.name for f in dataclasses.fields(cls)}
        known = {k: v for k, v in data.items() if k in names}
        for name in ("fault_kinds", "oauth_base_urls"):
            if known.get(name) is not None:
                known[name] = tuple(known[name])
        return cls(**known)
