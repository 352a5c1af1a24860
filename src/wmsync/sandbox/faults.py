"""Fault injection: targeted faults armed in the database, random ones at ``fault_rate``."""

from __future__ import annotations

import random
import re
import secrets
import sqlite3

from wmsync.sandbox.common import Reply
from wmsync.sandbox.settings import FAULT_KINDS, SandboxSettings

__all__ = ["arm", "error_reply", "pick"]


def arm(conn: sqlite3.Connection, kind: str, method: str | None, path_regex: str | None, count: int) -> int:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(FAULT_KINDS)})")
    if count < 1:
        raise ValueError("count must be >= 1")
    if path_regex is not None:
        re.compile(path_regex)
    cur = conn.execute(
        "INSERT INTO faults (kind, method, path_regex, remaining) VALUES (?, ?, ?, ?)",
        (kind, method.upper() if method else None, path_regex, count),
    )
    return int(cur.lastrowid or 0)


def pick(
    conn: sqlite3.Connection,
    method: str,
    path: str,
    settings: SandboxSettings,
    rng: random.Random,
) -> str | None:
    """The fault for this request, if any: the oldest matching armed fault first, then a random one."""
    for row in conn.execute("SELECT * FROM faults WHERE remaining > 0 ORDER BY id").fetchall():
        if row["method"] and row["method"] != method:
            continue
        if row["path_regex"] and not re.search(row["path_regex"], path):
            continue
        if int(row["remaining"]) <= 1:
            conn.execute("DELETE FROM faults WHERE id = ?", (row["id"],))
        else:
            conn.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (row["id"],))
        return str(row["kind"])
    if settings.fault_rate > 0 and settings.fault_kinds and rng.random() < settings.fault_rate:
        return rng.choice(settings.fault_kinds)
    return None


_HTML_503 = (
    "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n"
    "<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request due to "
    "maintenance downtime or capacity problems. Please try again later.</p></body></html>\n"
)
_HTML_504 = (
    "<html>\n<head><title>504 Gateway Time-out</title></head>\n<body>\n<center><h1>504 Gateway Time-out</h1>"
    "</center>\n<hr><center>nginx</center>\n</body>\n</html>\n"
)


def _walmart_error(code: str, description: str, info: str) -> dict[str, object]:
    return {
        "errors": {
            "error": [
                {
                    "code": code,
                    "field": "",
                    "description": description,
                    "info": info,
                    "severity": "ERROR",
                    "category": "SYSTEM",
                    "causes": [],
                    "errorIdentifiers": {"entry": []},
                }
            ]
        }
    }


#: Walmart's answer to each HTTP-level fault: (code, description, info)
_WALMART_FAULTS = {
    "500": ("SYSTEM_ERROR.GMP_ORDER_API", "Internal error occurred", "System encountered some internal error."),
    "504": ("DOWNSTREAM_SYSTEM_TIME_OUT.GMP_ORDER_API", "Downstream system timed out",
            "The downstream system did not respond in time."),
    "520": ("SYSTEM_ERROR.GMP_GATEWAY_API", "Internal error occurred", "System encountered some internal error."),
    "423": ("RESOURCE_IS_LOCKED.GMP_ORDER_API", "Resource is locked",
            "The order is being updated by another request. Retry after some time."),
    "429": ("REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API", "Request threshold violated",
            "The number of requests has exceeded the allowed threshold. Retry after some time."),
}


def error_reply(service: str, kind: str) -> Reply:
    """The response an HTTP-level fault produces, in the service's own style."""
    if kind == "503":
        return Reply(503, raw=_HTML_503.encode(), content_type="text/html; charset=utf-8", headers={"Retry-After": "5"})
    if service == "walmart":
        if kind in _WALMART_FAULTS:
            headers = {"Retry-After": "2", "x-current-token-count": "0"} if kind == "429" else {}
            return Reply(int(kind), _walmart_error(*_WALMART_FAULTS[kind]), headers=headers)
    else:
        if kind in ("520", "423"):
            kind = "500"  # Commerce has no such answers: its masked internal error instead
        if kind == "500":
            report = secrets.token_hex(6)
            return Reply(
                500,
                {"message": f"Internal Error. Details are available in Magento log file. Report ID: webapi-{report}"},
            )
        if kind == "504":
            return Reply(504, raw=_HTML_504.encode(), content_type="text/html; charset=utf-8")
        if kind == "429":
            return Reply(
                429,
                raw=b"Too Many Requests\n",
                content_type="text/plain; charset=utf-8",
                headers={"Retry-After": "2"},
            )
    raise ValueError(f"{kind!r} is not an HTTP error fault")
