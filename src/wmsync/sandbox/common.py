"""Small pieces shared by the simulated services: the request/reply types, time formats, token buckets."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from wmsync.sandbox.settings import SandboxSettings
from wmsync.wire import Headers

__all__ = [
    "Ctx",
    "ParsedRequest",
    "Reply",
    "json_body",
    "magento_time",
    "take_token",
]


@dataclass(frozen=True)
class ParsedRequest:
    method: str
    url: str
    path: str
    query: list[tuple[str, str]]
    raw_query: str
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def from_httpx(cls, request: Any) -> ParsedRequest:
        """From an ``httpx.Request``."""
        return cls.parse(request.method, str(request.url), request.headers, request.read())

    @classmethod
    def parse(cls, method: str, url: str, headers: Mapping[str, str], body: bytes) -> ParsedRequest:
        parts = urlsplit(url)
        raw_query = parts.query
        return cls(
            method=method.upper(),
            url=url,
            path=parts.path or "/",
            query=parse_qsl(raw_query, keep_blank_values=True),
            raw_query=raw_query,
            headers=headers if isinstance(headers, Headers) else Headers(list(headers.items())),
            body=body,
        )

@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"

    def content(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")

    def all_headers(self) -> dict[str, str]:
        out = {"Content-Type": self.content_type}
        out.update(self.headers)
        return out


@dataclass
class Ctx:
    """Everything a handler needs for one request: the open transaction, the sandbox time and settings."""

    conn: sqlite3.Connection
    now: float
    settings: SandboxSettings

    @property
    def now_ms(self) -> int:
        return int(self.now * 1000)


def json_body(body: bytes) -> Any:
    """Parse a JSON request body; raises ValueError for anything that is not JSON."""
    if not body.strip():
        raise ValueError("empty body")
    return json.loads(body.decode("utf-8"))


def magento_time(ts: float) -> str:
    """Magento's timestamp format: ``2024-05-01 12:34:56`` (UTC)."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def take_token(
    conn: sqlite3.Connection, name: str, rate_per_min: int, now: float, *, burst_seconds: float = 60.0
) -> tuple[bool, float, float]:
    """Take one token from the bucket ``name`` (``rate_per_min``, refilled continuously; capacity
    ``burst_seconds`` of that rate, at least one token).

    Returns ``(allowed, tokens_left, seconds_until_next_token)``.
    """
    capacity = max(1.0, rate_per_min * burst_seconds / 60.0)
    per_second = rate_per_min / 60.0
    row = conn.execute("SELECT tokens, updated FROM rate_buckets WHERE name = ?", (name,)).fetchone()
    if row is None:
        tokens = capacity
    else:
        tokens = min(capacity, float(row["tokens"]) + max(0.0, now - float(row["updated"])) * per_second)
    allowed = tokens >= 1.0
    if allowed:
        tokens -= 1.0
    conn.execute(
        "INSERT INTO rate_buckets (name, tokens, updated) VALUES (?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET tokens = excluded.tokens, updated = excluded.updated",
        (name, tokens, now),
    )
    wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / per_second
    return allowed, tokens, wait


def throttle_headers(tokens: float, wait: float, now: float, *, retry: bool) -> dict[str, str]:
    headers = {
        "x-current-token-count": str(max(0, math.floor(tokens))),
        "X-Next-Replenishment-Time": str(int((now + wait) * 1000)),
    }
    if retry:
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return headers
