"""Settings: the config file (TOML), validated as records (:mod:`wmsync.records`), written atomically with mode
0600.

Shape::

    default_store = "us"
    [stores.us]
    commerce_url = "https://shop.example.com"
    commerce_store_code = "default"
    commerce_auth = "oauth1"            # or "bearer"
    walmart_url = "https://marketplace.walmartapis.com"
    walmart_client_id = "..."
    po_field = "ext_order_id"
    submit = "direct"                   # or "channel-manager"
    [stores.us.carriers]
    ups = "UPS"
    "Acme Freight" = { other = "Acme Freight", tracking_url = "https://acme.example/t/{tracking}" }

Secrets never live here (see ``wmsync.secrets``).
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from wmsync.errors import ConfigError
from wmsync.records import Check, Field, Record, ValidationError, validator

RESERVED_STORE = "sandbox"
SkuName = Annotated[str, Check(min_length=1, max_length=100)]
STORE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Walmart purchase order ids are numeric (13-15 digits seen in practice). The pattern keeps other channels'
# order numbers that also fill the PO field (e.g. "112-1234567-1234567") from being taken for Walmart orders.
DEFAULT_PO_PATTERN = r"^[0-9]{10,20}$"
WALMART_PRODUCTION = "https://marketplace.walmartapis.com"


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(value: str) -> str:
    """https URLs, or http only on a loopback host; no credentials, query or fragment."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(
            f"{value!r} uses plain http on a non-loopback host; use https (http is only allowed for 127.0.0.1, "
            "::1 or localhost)"
        )
    if parts.username or parts.password:
        raise ValueError("URLs must not carry credentials; secrets come from environment variables or keyring")
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} must not have a query or fragment")
    return value.rstrip("/")


class _Strict(Record, extra="forbid"):
    __record_frozen__ = True


class OtherCarrier(_Strict):
    """A carrier that is not on Walmart's list: sent as ``otherCarrier`` with a tracking URL."""

    other: Annotated[str, Check(min_length=1, max_length=100)]
    tracking_url: str | None = None


class RateLimits(_Strict):
    """Client-side limits per endpoint, in requests per minute (Walmart's limits are per seller, per API)."""

    walmart_read_per_min: Annotated[int, Check(gt=0)] = 5000
    walmart_ship_per_min: Annotated[int, Check(gt=0)] = 60
    walmart_cancel_per_min: Annotated[int, Check(gt=0)] = 60
    walmart_acknowledge_per_min: Annotated[int, Check(gt=0)] = 60
    walmart_token_per_min: Annotated[int, Check(gt=0)] = 60
    commerce_per_min: Annotated[int, Check(gt=0)] | None = None


class Timeouts(_Strict):
    """Seconds. Each can also be set by an environment variable (``WMSYNC_<NAME>`` upper-cased)."""

    connect: Annotated[float, Check(gt=0)] = 10.0
    read: Annotated[float, Check(gt=0)] = 30.0
    confirm: Annotated[float, Check(ge=0)] = 300.0
    poll_initial: Annotated[float, Check(gt=0)] = 1.0
    poll_max: Annotated[float, Check(gt=0)] = 30.0
    backoff_base: Annotated[float, Check(ge=0)] = 0.5
    backoff_max: Annotated[float, Check(ge=0)] = 30.0
    retry_after_max: Annotated[float, Check(ge=0)] = 120.0
    max_attempts: Annotated[int, Check(ge=1, le=20)] = 5
    lease: Annotated[float, Check(gt=0)] = 600.0
    # after a write whose outcome is unknown (timeout, reset, 5xx): how long to keep re-reading for it, and how
    # long after such an attempt a re-run waits before it may send the write again (the first request may still
    # be in flight on the server)
    unknown_grace: Annotated[float, Check(ge=0)] = 30.0
    resend_quiet: Annotated[float, Check(ge=0)] = 120.0

    def with_env(self) -> Timeouts:
        updates: dict[str, Any] = {}
        for name in type(self).model_field_names():
            raw = os.environ.get(f"WMSYNC_{name.upper()}")
            if raw is None or raw == "":
                continue
            try:
                updates[name] = int(raw) if type(self).field_type(name) is int else float(raw)
            except ValueError as exc:
                raise ConfigError(f"environment variable WMSYNC_{name.upper()}={raw!r} is not a number") from exc
        if not updates:
            return self
        try:
            return type(self).model_validate({**self.model_dump(), **updates})
        except ValidationError as exc:
            names = [f"WMSYNC_{str(e['loc'][0]).upper()}" for e in exc.errors() if e["loc"]]
            shown = ", ".join(f"{n}={os.environ.get(n, '')!r}" for n in dict.fromkeys(names)) or "WMSYNC_*"
            raise ConfigError(f"environment variable {shown} is invalid: {_first_error(exc)}") from exc


class StoreConfig(_Strict):
    commerce_url: str
    commerce_store_code: Annotated[str, Check(pattern=r"^[A-Za-z0-9_]{1,64}$")] = "default"
    commerce_auth: Literal["oauth1", "bearer"] = "oauth1"
    walmart_url: str = WALMART_PRODUCTION
    walmart_client_id: Annotated[str, Check(min_length=1, max_length=200)]
    walmart_service_name: str = "Walmart Marketplace"
    walmart_channel_type: str | None = None
    po_field: Annotated[str, Check(pattern=r"^[a-z][a-z0-9_]{0,63}$")] = "ext_order_id"
    po_pattern: str = DEFAULT_PO_PATTERN
    submit: Literal["direct", "channel-manager"] = "direct"
    carriers: dict[str, str | OtherCarrier] = Field(default_factory=dict)
    extra_carriers: list[Annotated[str, Check(min_length=1, max_length=100)]] = Field(default_factory=list)
    notify_customer: bool = False
    source_code: str | None = None
    #: Walmart SKU -> Commerce SKU, for items listed on Walmart under another SKU.
    skus: dict[SkuName, SkuName] = Field(default_factory=dict)
    default_cancel_reason: str | None = None
    #: shared state for a team: "mysql://USER@HOST[:PORT]/DATABASE" keeps the journal and the leases in
    #: MariaDB/MySQL (password: WMSYNC_<STORE>_STATE_PASSWORD or the keyring); None = SQLite in the data dir
    state: str | None = None
    #: `orders list --status at-risk`: units still open and the ship-by time within this long (e.g. "4h"), or past
    at_risk_margin: str = "4h"
    #: `ship --replaces`: how long after a line's first shipping information Walmart accepts a tracking
    #: correction (Walmart's ship-an-order guide: 4 hours)
    tracking_update_window: str = "4h"
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    timeouts: Timeouts = Field(default_factory=Timeouts)

    @validator("commerce_url", "walmart_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @validator("po_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    @validator("state")
    @classmethod
    def _state(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from wmsync.errors import WmsyncError
        from wmsync.journal_mysql import StateURL

        try:
            StateURL.parse(value)
        except WmsyncError as exc:
            raise ValueError(exc.message) from exc
        return value

    @property
    def tracking_update_window_s(self) -> float:
        from wmsync.timeparse import parse_duration

        window = parse_duration(self.tracking_update_window)
        return window.total_seconds() if window is not None else 4 * 3600.0

    @validator("at_risk_margin", "tracking_update_window")
    @classmethod
    def _margin(cls, value: str) -> str:
        from wmsync.timeparse import parse_duration

        if parse_duration(value) is None:
            raise ValueError(f"{value!r} is not a duration such as 30m, 4h or 1d")
        return value

    @validator("default_cancel_reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from wmsync.walmart.rules import resolve_cancellation_reason

        try:
            return str(resolve_cancellation_reason(value))
        except Exception as exc:
            raise ValueError(str(exc)) from exc


class Config(_Strict):
    default_store: str | None = None
    stores: dict[str, StoreConfig] = Field(default_factory=dict)

    @validator(mode="after")
    def _names(self) -> Config:
        for name in self.stores:
            if name == RESERVED_STORE:
                raise ValueError(f"the store name {RESERVED_STORE!r} is reserved for the built-in sandbox")
            if not STORE_NAME_RE.match(name):
                raise ValueError(f"store name {name!r}: use letters, digits, '-' and '_' (at most 64)")
        if self.default_store and self.default_store not in self.stores and self.default_store != RESERVED_STORE:
            raise ValueError(f"default_store {self.default_store!r} is not one of the configured stores")
        return self


def _first_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def load(path: Path) -> Config:
    """Load and validate the config file. A missing file is an empty config."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            f"config file {path}: {_first_error(exc)}",
            hint="see `wmsync stores --help` and README for the config keys",
        ) from exc


def dump(config: Config) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def save(config: Config, path: Path) -> None:
    """Write atomically (temp file + rename) with mode 0600."""
    import tomli_w

    data = dump(config)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            tomli_w.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
