"""Authentication the Magento way: integration bearer tokens and OAuth 1.0a signatures, and ACL resources."""

from __future__ import annotations

import secrets

from wmsync.sandbox.common import Ctx, ParsedRequest
from wmsync.sandbox.constants import CREDENTIALS


def _authorized(ctx: Ctx, req: ParsedRequest) -> bool:
    auth = req.headers.get("Authorization", "").strip()
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer":
        return ctx.settings.commerce_bearer and secrets.compare_digest(
            value.strip().encode(), CREDENTIALS["COMMERCE_TOKEN"].encode()
        )
    if scheme.lower() == "oauth":
        return _oauth_valid(ctx, req)
    return False


def _rawurlencode(value: str) -> str:
    """PHP's ``rawurlencode`` with ``~`` kept, as Laminas OAuth's ``Utility::urlEncode`` (RFC 3986)."""
    from urllib.parse import quote

    return quote(value.encode("utf-8"), safe="~")


def _header_params(value: str) -> list[tuple[str, str]] | None:
    """``OAuth k="v", k2="v2"`` → decoded pairs (Magento's ``Request::_processHeader``); None if malformed."""
    from urllib.parse import unquote

    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "oauth":
        return None
    out = []
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        key, eq, raw = part.partition("=")
        if not eq or len(raw) < 2 or not (raw.startswith('"') and raw.endswith('"')):
            return None
        if key.strip() == "realm":
            continue
        out.append((unquote(key.strip()), unquote(raw[1:-1])))
    return out


def _query_params(raw_query: str) -> list[tuple[str, str]]:
    """The query as Magento reads it for the signature: ``rawurldecode``, so a '+' stays a literal plus (a client
    that sent '+' for a space signed a space, and fails here as on Magento)."""
    from urllib.parse import unquote

    out = []
    for part in raw_query.split("&") if raw_query else []:
        key, _, value = part.partition("=")
        out.append((unquote(key), unquote(value)))
    return out


def _form_params(body: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body, keep_blank_values=True)


def _base_url(url: str) -> str:
    """Laminas ``normaliseBaseSignatureUrl``: lower-case scheme and host, no default port, no query."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path}"


def _signature(method: str, url: str, params: list[tuple[str, str]], algorithm: str) -> str:
    """Laminas OAuth: the base string (METHOD & URL & the byte-ordered parameters), HMAC with the consumer and
    token secrets."""
    import base64
    import hashlib
    import hmac

    pairs = sorted((_rawurlencode(k), _rawurlencode(v)) for k, v in params if k != "oauth_signature")
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join(_rawurlencode(x) for x in (method.upper(), _base_url(url), normalized))
    key = (_rawurlencode(CREDENTIALS["COMMERCE_CONSUMER_SECRET"]) + "&"
           + _rawurlencode(CREDENTIALS["COMMERCE_ACCESS_TOKEN_SECRET"])).encode()
    digest = hmac.new(key, base.encode("utf-8"), getattr(hashlib, algorithm)).digest()
    return base64.b64encode(digest).decode()


def _oauth_valid(ctx: Ctx, req: ParsedRequest) -> bool:
    header = _header_params(req.headers.get("Authorization", ""))
    if header is None:
        return False
    params = [*_query_params(req.raw_query), *header]
    content_type = req.headers.get("Content-Type", "")
    if "application/x-www-form-urlencoded" in content_type and req.body:
        params += _form_params(req.body.decode("utf-8", "replace"))
    oauth = {k: v for k, v in params if k.startswith("oauth_")}
    if oauth.get("oauth_consumer_key") != CREDENTIALS["COMMERCE_CONSUMER_KEY"]:
        return False
    if oauth.get("oauth_token") != CREDENTIALS["COMMERCE_ACCESS_TOKEN"]:
        return False
    if oauth.get("oauth_version", "1.0") != "1.0" or not oauth.get("oauth_nonce") or not oauth.get("oauth_timestamp"):
        return False
    algorithm = {"HMAC-SHA256": "sha256", "HMAC-SHA1": "sha1"}.get(oauth.get("oauth_signature_method") or "")
    given = oauth.get("oauth_signature")
    if algorithm is None or not given:
        return False
    for url in _candidate_urls(req, ctx.settings.oauth_base_urls):
        expected = _signature(req.method, url, params, algorithm)
        if secrets.compare_digest(expected.encode(), given.encode()):
            return True
    return False


def _candidate_urls(req: ParsedRequest, extra_bases: tuple[str, ...]) -> list[str]:
    """The URLs the client may have signed: the one received; the one a proxy in front received, when the proxy
    says so (``Forwarded: host=...``, ``X-Forwarded-Host``); and the path under each ``oauth_base_urls``
    setting (Stoplight Prism rewrites Host and forwards nothing, so tests behind it name its URL there)."""
    urls = [req.url]
    urls += [base.rstrip("/") + req.path for base in extra_bases]
    scheme = req.url.split("://", 1)[0]
    forwarded: dict[str, str] = {}
    for part in req.headers.get("Forwarded", "").split(",")[0].split(";"):
        key, _, value = part.strip().partition("=")
        if key and value:
            forwarded[key.lower()] = value.strip().strip('"')
    host = forwarded.get("host") or req.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
    if host:
        proto = forwarded.get("proto") or req.headers.get("X-Forwarded-Proto", "").split(",")[0].strip()
        for p in [proto] if proto else [scheme, "https" if scheme == "http" else "http"]:
            urls.append(f"{p}://{host}{req.path}")
    return urls
