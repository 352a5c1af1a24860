"""Fixtures for the CLI tests of tests/unit: a configured store, its secrets in the environment, and fake
Commerce and Walmart services behind pytest-httpx (which intercepts every httpx client)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

SHOP = "https://shop.test"
WALMART = "https://walmart.test"
STORE_TOML = f"""\
[stores.us]
commerce_url = "{SHOP}"
walmart_url = "{WALMART}"
walmart_client_id = "wm-client-id"
"""
SECRET_NAMES = (
    "COMMERCE_CONSUMER_KEY",
    "COMMERCE_CONSUMER_SECRET",
    "COMMERCE_ACCESS_TOKEN",
    "COMMERCE_ACCESS_TOKEN_SECRET",
    "COMMERCE_TOKEN",
    "WALMART_CLIENT_SECRET",
)


def _unique() -> str:
    # values differ per test: wmsync's redaction registry lives as long as the process, so a value seen by an
    # earlier test would be masked already and hide a leak
    return uuid.uuid4().hex[:10]


@pytest.fixture
def config_file(isolated_env: Path) -> Path:
    path = isolated_env / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STORE_TOML)
    return path


@pytest.fixture
def store_secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every secret of store 'us' in its per-store environment variable, as a recognisable canary."""
    suffix = _unique()
    values = {name: f"CANARY-wmsync-{name.lower().replace('_', '-')}-{suffix}" for name in SECRET_NAMES}
    for name, value in values.items():
        monkeypatch.setenv(f"WMSYNC_US_{name}", value)
    return values


@dataclass
class FakeServices:
    """Commerce and Walmart as the `stores check` sees them. Set ``commerce`` / ``token`` / ``detail`` to an
    ``httpx.Response`` or an exception to make that call fail."""

    commerce: Any = None
    token: Any = None
    detail: Any = None
    echo_credentials: bool = False
    access_token: str = field(default_factory=lambda: f"WMTOKEN-eyJraWQiOiJ-canary-{_unique()}")
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host.endswith("shop.test") and request.url.path == "/rest/default/V1/orders":
            return self._answer(self.commerce, request, httpx.Response(
                200, json={"items": [{"entity_id": 1, "increment_id": "000000001"}], "search_criteria": {},
                           "total_count": 1}, headers={"Date": "Fri, 27 Nov 2026 03:00:00 GMT"}))
        if request.url.host == "walmart.test" and request.url.path == "/v3/token":
            return self._answer(self.token, request, httpx.Response(
                200, json={"access_token": self.access_token, "token_type": "Bearer", "expires_in": 900}))
        if request.url.host == "walmart.test" and request.url.path == "/v3/token/detail":
            if request.headers.get("WM_SEC.ACCESS_TOKEN") != self.access_token:
                return httpx.Response(401, json={"error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API"}]})
            return self._answer(self.detail, request, httpx.Response(
                200, json={"expire_at": "1795751000000", "issued_at": "1795750100000", "is_valid": True,
                           "is_channel_match": False, "scopes": {"orders": "full_access", "item": "view_only"}}))
        return httpx.Response(404, text="unexpected request")

    def _answer(self, planned: Any, request: httpx.Request, ok: httpx.Response) -> httpx.Response:
        if planned is None:
            return ok
        if isinstance(planned, BaseException):
            raise planned
        if self.echo_credentials and planned.status_code >= 400:
            # a misbehaving proxy that echoes the request's credentials in its error page
            echoed = " ".join(f"{k}: {v}" for k, v in request.headers.items())
            return httpx.Response(planned.status_code, json={
                "message": f"denied ({echoed})",
                "error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API", "description": f"denied ({echoed})"}]})
        return planned

    def sent(self, host: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == host and r.url.path == path]


@pytest.fixture
def services(httpx_mock) -> FakeServices:
    fake = FakeServices()
    httpx_mock.add_callback(fake, is_reusable=True, is_optional=True)
    return fake


def _files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def grep_home(isolated_env: Path) -> Callable[[str], list[Path]]:
    """Files under the test's home (config, data, cache) that contain the text."""

    def grep(text: str) -> list[Path]:
        return [p for p in _files_under(isolated_env) if text.encode() in p.read_bytes()]

    return grep
