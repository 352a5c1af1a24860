"""Tracing of HTTP exchanges: ``--verbose`` lines on stderr and ``--trace-file`` JSON for support tickets.

Everything written is masked: auth headers, OAuth signatures, every looked-up secret and token, and customer
e-mail, phone, name and address fields in bodies."""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wmsync.http import Exchange
from wmsync.secrets import MASK, redact

# Keys whose values are personal data (Walmart and Commerce spellings), masked in trace bodies.
PERSONAL_KEYS = frozenset(
    k.lower()
    for k in (
        "customerEmailId", "email", "customer_email", "phone", "telephone", "postalAddress", "address1",
        "address2", "street", "city", "postcode", "postalCode", "zipcode", "name", "firstname", "lastname",
        "middlename", "customer_firstname", "customer_lastname", "customer_middlename", "billing_address",
        "shipping_address", "addresses", "remote_ip", "x_forwarded_for", "customer_dob", "customer_taxvat",
        "fax", "company", "region", "state", "country", "country_id", "region_code",
    )
)
# Keys whose values are credentials (the token endpoint's answer, OAuth exchanges), masked wherever they appear.
# The Walmart access token is only registered for redaction once its response has been read, after the trace.
SECRET_KEYS = frozenset({"access_token", "refresh_token", "id_token", "client_secret", "password", "token",
                         "oauth_token", "oauth_token_secret"})
# keys that look personal but are not, in these APIs (order state, product name, carrier name …)
NOT_PERSONAL_PARENTS = frozenset({"item", "carriername", "items", "product", "statushistory"})
# Only these ambiguous keys are let through under those parents: an order inside a search result's "items" still
# has its customer_lastname, customer_email, remote_ip … masked.
AMBIGUOUS_KEYS = frozenset({"name", "state", "region", "country", "country_id", "region_code", "company", "city"})
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _mask(value: Any, parent: str = "") -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            lk = str(key).lower()
            if lk in SECRET_KEYS and isinstance(item, str) and item:
                out[key] = MASK
            elif lk in PERSONAL_KEYS and (parent not in NOT_PERSONAL_PARENTS or lk not in AMBIGUOUS_KEYS) and not (
                lk == "state" and isinstance(item, str) and parent in ("", "order")
            ) and not (lk == "name" and parent in ("", "order")):
                out[key] = MASK if item not in (None, "") else item
            else:
                out[key] = _mask(item, lk)
        return out
    if isinstance(value, list):
        return [_mask(v, parent) for v in value]
    if isinstance(value, str):
        return EMAIL_RE.sub(MASK, value)
    return value


def mask_body(text: str | None) -> Any:
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return redact(EMAIL_RE.sub(MASK, text))
    masked = _mask(data)
    return json.loads(redact(json.dumps(masked)))


class VerboseTracer:
    def __call__(self, ex: Exchange) -> None:
        path = urlsplit(ex.url).path
        status = str(ex.status) if ex.status is not None else (ex.error or "failed")
        cid = f" cid={ex.correlation_id}" if ex.correlation_id else ""
        retry = f" (attempt {ex.attempt})" if ex.attempt > 1 else ""
        line = f"http: {ex.service} {ex.method} {path} → {status} in {ex.duration_ms:.0f} ms{retry}{cid}"
        sys.stderr.write(redact(line) + "\n")
        sys.stderr.flush()


class TraceFile:
    """Collects exchanges and writes them as one JSON document (rewritten after each exchange, atomically,
    so a crash keeps what happened until then)."""

    def __init__(self, path: Path, command: list[str]) -> None:
        self.path = path
        self.lock = threading.Lock()
        from wmsync import __version__

        self.doc: dict[str, Any] = {
            "wmsync_version": __version__,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": [redact(a) for a in command],
            "exchanges": [],
        }
        try:
            self._write()
        except OSError as exc:
            from wmsync.errors import ConfigError

            raise ConfigError(
                f"cannot write the trace file {path}: {exc.strerror or exc}; nothing was sent",
                hint="give --trace-file a path in a directory you can write to",
            ) from exc

    def __call__(self, ex: Exchange) -> None:
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "service": ex.service,
            "method": ex.method,
            "url": redact(ex.url),
            "status": ex.status,
            "duration_ms": round(ex.duration_ms, 1),
            "correlation_id": ex.correlation_id,
            "attempt": ex.attempt,
            "error": redact(ex.error) if ex.error else None,
            "request_headers": {k: redact(v) for k, v in ex.request_headers.items()},
            "request_body": mask_body(ex.request_body),
            "response_body": mask_body(ex.response_body),
        }
        with self.lock:
            self.doc["exchanges"].append(entry)
            self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(self.doc, fh, indent=1, ensure_ascii=False)
        os.replace(tmp, self.path)
