"""Authentication the Magento way: integration bearer tokens and OAuth 1.0a signatures, and ACL resources."""

from __future__ import annotations

import secrets
from types import SimpleNamespace
from typing import Any

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


def _oauth_valid(ctx: Ctx, req: ParsedRequest) -> bool:
    from oauthlib.oauth1.rfc5849 import signature as oauth_signature

    signature: Any = oauth_signature  # the type stubs are narrower than the library

    content_type = req.headers.get("Content-Type", "")
    body: str | None = None
    if "application/x-www-form-urlencoded" in content_type and req.body:
        body = req.body.decode("utf-8", "replace")
    try:
        params = signature.collect_parameters(
            # Magento reads the query with rawurldecode: a '+' stays a literal plus (not a space) when it
            # rebuilds the signature base string; do the same, so a client sending '+' for spaces fails here too
            uri_query=req.raw_query.replace("+", "%2B"),
            body=body,
            headers={"Authorization": req.headers["Authorization"]},
            exclude_oauth_signature=False,
        )
    except (ValueError, TypeError):
        return False
    oauth = {k: v for k, v in params if k.startswith("oauth_")}
    if oauth.get("oauth_consumer_key") != CREDENTIALS["COMMERCE_CONSUMER_KEY"]:
        return False
    if oauth.get("oauth_token") != CREDENTIALS["COMMERCE_ACCESS_TOKEN"]:
        return False
    if oauth.get("oauth_version", "1.0") != "1.0" or not oauth.get("oauth_nonce") or not oauth.get("oauth_timestamp"):
        return False
    method = oauth.get("oauth_signature_method")
    sign = {
        "HMAC-SHA256": signature.sign_hmac_sha256_with_client,
        "HMAC-SHA1": signature.sign_hmac_sha1_with_client,
    }.get(method or "")
    given = oauth.get("oauth_signature")
    if sign is None or not given:
        return False
    secrets_holder = SimpleNamespace(
        client_secret=CREDENTIALS["COMMERCE_CONSUMER_SECRET"],
        resource_owner_secret=CREDENTIALS["COMMERCE_ACCESS_TOKEN_SECRET"],
    )
    normalized = signature.normalize_parameters([(k, v) for k, v in params if k != "oauth_signature"])
    for url in _candidate_urls(req, ctx.settings.oauth_base_urls):
        base = signature.signature_base_string(req.method, signature.base_string_uri(url), normalized)
        expected = sign(base, secrets_holder)
        if secrets.compare_digest(str(expected).encode(), given.encode()):
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
