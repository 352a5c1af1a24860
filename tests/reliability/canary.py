"""A store whose every secret is a canary, and services that answer only to those canaries.

Commerce (``https://shop.canary.test``) and Walmart (``https://walmart.canary.test``) are faked with pytest-httpx.
Behind them sits the in-process sandbox, so ship, cancel, status and orders behave as on a real pair of services:
the fake checks the canary credentials on every request (OAuth 1.0a signature with the canary consumer and token
secrets, or the canary bearer token; HTTP Basic with the canary Walmart client secret; the canary access token),
then forwards the request to the sandbox with the sandbox's own credentials. The Walmart token endpoint answers
with a canary access token. A request with any other credentials gets 401, so a test also fails when wmsync
did not really use the canaries.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from wmsync.sandbox import BASE_URL, CREDENTIALS, Sandbox

SHOP_HOST = "shop.canary.test"
WALMART_HOST = "walmart.canary.test"
SHOP = f"https://{SHOP_HOST}"
WALMART = f"https://{WALMART_HOST}"
CLIENT_ID = "canary-client-id"  # not a secret: it is in the config file on purpose
STORE = "main"
OAUTH1_NAMES = ("COMMERCE_CONSUMER_KEY", "COMMERCE_CONSUMER_SECRET", "COMMERCE_ACCESS_TOKEN",
                "COMMERCE_ACCESS_TOKEN_SECRET")
ALL_NAMES = (*OAUTH1_NAMES, "COMMERCE_TOKEN", "WALMART_CLIENT_SECRET")


def store_toml(auth: str = "oauth1", *, name: str = STORE, shop: str = SHOP, walmart: str = WALMART) -> str:
    return (f'[stores.{name}]\ncommerce_url = "{shop}"\ncommerce_auth = "{auth}"\nwalmart_url = "{walmart}"\n'
            f'walmart_client_id = "{CLIENT_ID}"\n')


def new_canaries() -> dict[str, str]:
    """Fresh values per test: wmsync's redaction registry lives as long as the process, so a value an earlier
    test registered would be masked already and hide a leak."""
    tag = uuid.uuid4().hex[:12]
    return {name: f"CANARY{name.replace('_', '')}{tag}" for name in ALL_NAMES}


def _unauthorized_commerce() -> httpx.Response:
    return httpx.Response(401, json={"message": "The consumer isn't authorized to access %resources.",
                                     "parameters": {"resources": "Magento_Sales::actions_view"}})


def _unauthorized_walmart() -> httpx.Response:
    return httpx.Response(401, json={"error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API", "field": "UNAUTHORIZED",
                                                "description": "Unauthorized", "category": "DATA",
                                                "severity": "ERROR"}]})


@dataclass
class CanaryServices:
    """The fake pair. Failure switches: ``commerce_status`` / ``walmart_status`` / ``token_status`` answer every
    request of that kind with that status; ``echo`` makes those error answers
    repeat the request's headers and body, as a misbehaving proxy would; ``echo_writes``: the writes (POST) of
    those services are refused with such an echo, without reaching the sandbox."""

    sandbox: Sandbox
    canaries: dict[str, str]
    auth: str = "oauth1"
    commerce_status: int | None = None
    walmart_status: int | None = None
    token_status: int | None = None
    echo: bool = False
    echo_writes: tuple[str, ...] = ()  # services whose writes are refused with an echo
    requests: list[httpx.Request] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    access_tokens: dict[str, str] = field(default_factory=dict)  # canary access token -> sandbox token

    # ------------------------------------------------------------ entry point

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == SHOP_HOST:
            return self._commerce(request)
        if request.url.host == WALMART_HOST:
            return self._walmart(request)
        self.rejected.append(f"unexpected host {request.url.host}")
        return httpx.Response(404, text="no such host in this test")

    def forbidden(self) -> dict[str, str]:
        """Every value that must never be written anywhere but where it belongs."""
        basic = base64.b64encode(f"{CLIENT_ID}:{self.canaries['WALMART_CLIENT_SECRET']}".encode()).decode()
        out = dict(self.canaries)
        out["basic credentials"] = basic
        for i, token in enumerate(self.access_tokens):
            out[f"walmart access token {i}"] = token
        return out

    # ------------------------------------------------------------ Commerce

    def _commerce_authorized(self, request: httpx.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if self.auth == "bearer":
            return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(),
                                                                      self.canaries["COMMERCE_TOKEN"])
        return scheme.lower() == "oauth" and self._oauth_valid(request)

    def _oauth_valid(self, request: httpx.Request) -> bool:
        from oauthlib.oauth1.rfc5849 import signature as oauth_signature

        sig: Any = oauth_signature
        params = sig.collect_parameters(uri_query=request.url.query.decode(),
                                        headers={"Authorization": request.headers["Authorization"]},
                                        exclude_oauth_signature=False)
        oauth = dict(params)
        if oauth.get("oauth_consumer_key") != self.canaries["COMMERCE_CONSUMER_KEY"]:
            return False
        if oauth.get("oauth_token") != self.canaries["COMMERCE_ACCESS_TOKEN"]:
            return False
        if oauth.get("oauth_signature_method") != "HMAC-SHA256":
            return False
        holder = SimpleNamespace(client_secret=self.canaries["COMMERCE_CONSUMER_SECRET"],
                                 resource_owner_secret=self.canaries["COMMERCE_ACCESS_TOKEN_SECRET"])
        normalized = sig.normalize_parameters([(k, v) for k, v in params if k != "oauth_signature"])
        url = str(request.url.copy_with(query=None))
        base = sig.signature_base_string(request.method, sig.base_string_uri(url), normalized)
        expected = sig.sign_hmac_sha256_with_client(base, holder)
        return hmac.compare_digest(str(expected), str(oauth.get("oauth_signature", "")))

    def _commerce(self, request: httpx.Request) -> httpx.Response:
        if self.commerce_status is not None:
            return self._fail(request, self.commerce_status, "commerce")
        if not self._commerce_authorized(request):
            self.rejected.append(f"commerce credentials not the canaries: {request.method} {request.url.path}")
            return self._maybe_echo(request, _unauthorized_commerce())
        if "commerce" in self.echo_writes and request.method == "POST":
            return self._echo(request, 400, "commerce")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("authorization", "host")}
        headers["Authorization"] = f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"
        return self._forward(request, headers)

    # ------------------------------------------------------------ Walmart

    def _walmart(self, request: httpx.Request) -> httpx.Response:
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("authorization", "host", "wm_sec.access_token")}
        if request.url.path == "/v3/token":
            if self.token_status is not None:
                return self._fail(request, self.token_status, "walmart")
            expected = "Basic " + base64.b64encode(
                f"{CLIENT_ID}:{self.canaries['WALMART_CLIENT_SECRET']}".encode()).decode()
            if not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
                self.rejected.append("walmart token request without the canary client secret")
                return self._maybe_echo(request, _unauthorized_walmart())
            basic = base64.b64encode(
                f"{CREDENTIALS['WALMART_CLIENT_ID']}:{CREDENTIALS['WALMART_CLIENT_SECRET']}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
            response = self._forward(request, headers)
            if response.status_code != 200:
                return response
            data = json.loads(response.content)
            canary_token = f"CANARYACCESSTOKEN{secrets.token_hex(16)}"
            self.access_tokens[canary_token] = data["access_token"]
            data["access_token"] = canary_token
            return httpx.Response(200, json=data, headers={"Date": response.headers.get("Date", "")})
        if self.walmart_status is not None:
            return self._fail(request, self.walmart_status, "walmart")
        given = request.headers.get("WM_SEC.ACCESS_TOKEN", "")
        real = self.access_tokens.get(given)
        if real is None:
            self.rejected.append(f"walmart call without a canary access token: {request.url.path}")
            return self._maybe_echo(request, _unauthorized_walmart())
        sent_basic = request.headers.get("Authorization", "")
        if sent_basic:
            expected = "Basic " + base64.b64encode(
                f"{CLIENT_ID}:{self.canaries['WALMART_CLIENT_SECRET']}".encode()).decode()
            if not hmac.compare_digest(sent_basic, expected):
                self.rejected.append(f"walmart call with other Basic credentials: {request.url.path}")
                return self._maybe_echo(request, _unauthorized_walmart())
            headers["Authorization"] = "Basic " + base64.b64encode(
                f"{CREDENTIALS['WALMART_CLIENT_ID']}:{CREDENTIALS['WALMART_CLIENT_SECRET']}".encode()).decode()
        if "walmart" in self.echo_writes and request.method == "POST":
            return self._echo(request, 400, "walmart")
        headers["WM_SEC.ACCESS_TOKEN"] = real
        return self._forward(request, headers)

    # ------------------------------------------------------------ plumbing

    def _forward(self, request: httpx.Request, headers: dict[str, str]) -> httpx.Response:
        url = BASE_URL + request.url.raw_path.decode()
        forwarded = httpx.Request(request.method, url, headers=headers, content=request.content)
        answer = self.sandbox.handle(forwarded)  # sandbox faults raise httpx transport errors: passed on
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.read())

    def _fail(self, request: httpx.Request, status: int, service: str) -> httpx.Response:
        if self.echo:
            return self._echo(request, status, service)
        if status == 401:
            return _unauthorized_commerce() if service == "commerce" else _unauthorized_walmart()
        return httpx.Response(status, text="<html><body><h1>Internal Server Error</h1></body></html>",
                              headers={"Content-Type": "text/html"})

    def _maybe_echo(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        return self._echo(request, response.status_code, "commerce" if request.url.host == SHOP_HOST
                          else "walmart") if self.echo else response

    def _echo(self, request: httpx.Request, status: int, service: str) -> httpx.Response:
        echoed = "; ".join(f"{k}: {v}" for k, v in request.headers.items())
        body = request.content.decode("utf-8", "replace")
        text = f"denied ({echoed}) body={body}"
        if service == "commerce":
            return httpx.Response(status, json={"message": text})
        return httpx.Response(status, json={"errors": {"error": [{"code": "INVALID_REQUEST.GMP_ORDER_API",
                                                                   "description": text}]}})


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def leaks(text: str | bytes, forbidden: dict[str, str]) -> list[str]:
    """The names of the forbidden values found in the text (also base64 and URL-encoded forms)."""
    from urllib.parse import quote

    data = text.encode() if isinstance(text, str) else text
    found = []
    for name, value in forbidden.items():
        forms = {value, quote(value, safe=""), base64.b64encode(value.encode()).decode()}
        if any(form.encode() in data for form in forms):
            found.append(name)
    if b"CANARY" in data and not found:
        found.append("some CANARY value")
    return found
