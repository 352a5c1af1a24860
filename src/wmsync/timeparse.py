"""``--since``: one parser for every command.

Accepted forms:

* an ISO 8601 date ``2026-03-16`` (midnight UTC of that day);
* an ISO 8601 date-time ``2026-03-16T10:30:15Z``, ``2026-03-16T10:30:15+02:00`` or ``2026-03-16 10:30``
  (without an offset it is taken as UTC, as Walmart and Commerce store times);
* a duration back from now: a whole number and a unit, ``45s``, ``30m``, ``2h``, ``3d``, ``1w``, or several
  of them together, ``1d12h``.

Times are returned as aware UTC datetimes; helpers format them the way each service wants them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from wmsync.errors import UsageError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION_RE = re.compile(r"^(?:\d{1,6}[smhdw])+$")
_PART_RE = re.compile(r"(\d{1,6})([smhdw])")
EXAMPLES = "e.g. 2h, 3d, 1w, 2026-03-16 or 2026-03-16T10:30:00Z"


def parse_duration(text: str) -> timedelta | None:
    """``30m`` / ``2h`` / ``1d12h`` → a timedelta; None when ``text`` is not a duration."""
    value = text.strip().lower()
    if not _DURATION_RE.fullmatch(value):
        return None
    seconds = sum(int(n) * UNITS[u] for n, u in _PART_RE.findall(value))
    return timedelta(seconds=seconds)


def parse_since(text: str, now: datetime, *, option: str = "--since") -> datetime:
    """A date, a date-time or a duration back from ``now`` → an aware UTC datetime.

    Raises UsageError (exit 2) for anything else, or for a time in the future."""
    raw = text.strip()
    if not raw:
        raise UsageError(f"{option} is empty", hint=EXAMPLES)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    delta = parse_duration(raw)
    if delta is not None:
        if delta.total_seconds() <= 0:
            raise UsageError(f"{option} {raw!r}: the duration must be more than zero", hint=EXAMPLES)
        try:
            return (now - delta).astimezone(UTC)
        except OverflowError as exc:
            raise UsageError(f"{option} {raw!r} reaches too far back", hint=EXAMPLES) from exc
    when = _parse_iso(raw)
    if when is None:
        raise UsageError(f"{option} {raw[:40]!r} is neither a date, a date-time nor a duration", hint=EXAMPLES)
    if when > now + timedelta(minutes=5):
        raise UsageError(f"{option} {raw!r} is in the future", hint=EXAMPLES)
    return when


def _parse_iso(raw: str) -> datetime | None:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            d = date.fromisoformat(raw)
        except ValueError:
            return None
        return datetime(d.year, d.month, d.day, tzinfo=UTC)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ][0-9:.,+\-Zz ]+", raw):
        return None
    text = raw[:-1] + "+00:00" if raw[-1] in "Zz" else raw
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def commerce_time(dt: datetime) -> str:
    """Magento's ``created_at`` form: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def walmart_time(dt: datetime) -> str:
    """Walmart's date-time query form: ``YYYY-MM-DDTHH:MM:SSZ`` (UTC)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_commerce_time(value: str | None) -> datetime | None:
    """Magento's ``YYYY-MM-DD HH:MM:SS`` (UTC) or an ISO form → aware UTC datetime; None if unreadable."""
    if not value:
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def rfc3339(ts: float | datetime | None) -> str | None:
    """Epoch seconds or a datetime → RFC 3339 UTC with a ``Z`` (seconds precision)."""
    if ts is None:
        return None
    dt = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, tz=UTC)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_epoch_ms(ms: int | None) -> datetime | None:
    if ms is None:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
