"""OAuth 1.0a request signing (RFC 5849) with HMAC-SHA256, as Magento's integrations expect it.

Only what a client that signs its own requests needs: the signature base string of the method, the URL and its
query (a JSON body is not part of it, §3.4.1.3.1), the HMAC, and the ``Authorization: OAuth`` header. The
query is decoded as the RFC says (form encoding: ``+`` is a space); Magento checks with ``rawurldecode``
(``+`` stays a plus), so a client must send spaces as ``%20`` for both to agree (the Commerce client does).
Checked against oauthlib's verifier in the unit tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from urllib.parse import quote, unquote_plus, urlsplit

__all__ = ["authorization_header", "base_string", "encode"]


def encode(value: str) -> str:
    """RFC 5849 §3.6: every byte but the unreserved characters ``A-Z a-z 0-9 - . _ ~`` percent-encoded."""
    return quote(value, safe="~")


def base_string_uri(url: str) -> str:
    """§3.4.1.2: scheme and host in lower case, the default port left out, no query or fragment."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def query_parameters(url: str) -> list[tuple[str, str]]:
    """The decoded name/value pairs of the URL's query (form decoding, blank values kept)."""
    query = urlsplit(url).query
    out = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        out.append((unquote_plus(name), unquote_plus(value)))
    return out


def base_string(method: str, url: str, oauth_params: list[tuple[str, str]]) -> str:
    """§3.4.1: METHOD & base URI & the normalized parameters (query and oauth_*, sorted after encoding)."""
    pairs = sorted((encode(k), encode(v)) for k, v in [*query_parameters(url), *oauth_params])
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    return "&".join((method.upper(), encode(base_string_uri(url)), encode(normalized)))


def authorization_header(
    method: str,
    url: str,
    *,
    consumer_key: str,
    consumer_secret: str,
    token: str,
    token_secret: str,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> str:
    """The ``Authorization`` header value for one request: a fresh nonce and timestamp unless given."""
    params = [
        ("oauth_nonce", nonce or os.urandom(16).hex()),
        ("oauth_timestamp", str(int(time.time()) if timestamp is None else timestamp)),
        ("oauth_version", "1.0"),
        ("oauth_signature_method", "HMAC-SHA256"),
        ("oauth_consumer_key", consumer_key),
        ("oauth_token", token),
    ]
    key = f"{encode(consumer_secret)}&{encode(token_secret)}".encode()
    digest = hmac.new(key, base_string(method, url, params).encode(), hashlib.sha256).digest()
    params.append(("oauth_signature", base64.b64encode(digest).decode()))
    return "OAuth " + ", ".join(f'{encode(k)}="{encode(v)}"' for k, v in params)
