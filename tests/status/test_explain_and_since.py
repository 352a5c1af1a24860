"""``wmsync explain`` and the shared ``--since`` parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wmsync.errors import UsageError
from wmsync.explain import ENTRIES, EXIT_CODES, lookup, suggestions
from wmsync.timeparse import parse_duration, parse_since

NOW = datetime(2026, 5, 20, 12, 0, 0, tzinfo=UTC)

# ------------------------------------------------------------------ explain

WALMART_CODES = ["INVALID_REQUEST_CONTENT", "MISSING_REQUEST_HEADER", "UNAUTHORIZED", "INVALID_TOKEN", "FORBIDDEN",
                 "CONTENT_NOT_FOUND", "RESOURCE_IS_LOCKED", "REQUEST_THRESHOLD_VIOLATED", "SYSTEM_ERROR",
                 "DOWNSTREAM_SYSTEM_TIME_OUT"]


@pytest.mark.parametrize("code", WALMART_CODES)
def test_every_walmart_code_with_and_without_suffix(code: str) -> None:
    plain = lookup(code)
    suffixed = lookup(f"{code}.GMP_ORDER_API")
    assert plain is not None
    assert suffixed is not None
    assert plain.entry is suffixed.entry
    assert plain.entry.code == code
    assert suffixed.suffix == "GMP_ORDER_API"
    assert plain.entry.todo
    assert lookup(code.lower()) is not None


@pytest.mark.parametrize(("text", "code"), [
    ("Order line 1 of PO 108 is in SHIPPED status", "SHIPPED_STATUS"),
    ("Method code is not supported in line number 2", "METHOD_CODE_NOT_SUPPORTED"),
    ("Invalid carrier 'Fedx'", "INVALID_CARRIER"),
    ("The order does not allow a shipment to be created.", "SHIPMENT_NOT_ALLOWED"),
    ("Shipment Document Validation Error(s):\nYou can't create a shipment without products.", "SHIPMENT_VALIDATION"),
    ("The consumer isn't authorized to access %resources.", "CONSUMER_NOT_AUTHORIZED"),
    ("false", "CANCEL_FALSE"),
    ("Walmart: Invalid request [INVALID_REQUEST_CONTENT.GMP_ORDER_API]", "INVALID_REQUEST_CONTENT"),
    ("INVALID_TOKEN.GMP_GATEWAY_API", "INVALID_TOKEN"),
])
def test_messages_are_recognised(text: str, code: str) -> None:
    m = lookup(text)
    assert m is not None
    assert m.entry.code == code


@pytest.mark.parametrize("code", [*EXIT_CODES])
def test_every_exit_code_is_explained(code: int) -> None:
    m = lookup(str(code))
    assert m is not None
    assert m.entry.source == "wmsync exit code"
    assert lookup(f"exit {code}") is not None


def test_exit_code_table_matches_the_error_tree() -> None:
    from wmsync.errors import ExitCode

    assert set(EXIT_CODES) == {int(c) for c in ExitCode}


def test_unknown_codes_get_close_matches() -> None:
    assert lookup("NOT_A_REAL_CODE_AT_ALL") is None
    assert lookup("42") is None
    assert "REQUEST_THRESHOLD_VIOLATED" in suggestions("REQUEST_THRESHOLD_VIOLATION")
    assert len({e.code for e in ENTRIES}) == len(ENTRIES)


def test_explain_command(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("explain", "RESOURCE_IS_LOCKED.GMP_ORDER_API")
    assert r.exit_code == 0
    assert "HTTP 423" in r.stdout
    assert "orders API" in r.stdout
    r = cli("explain", "is", "in", "SHIPPED", "status", "--json")
    assert r.exit_code == 0
    doc = r.json()
    assert isinstance(doc, dict)
    assert doc["code"] == "SHIPPED_STATUS"
    assert doc["what_to_do"]
    r = cli("explain", "8", "--json")
    assert r.json()["meaning"].startswith("the two sides disagree")  # type: ignore[index]
    r = cli("explain", "REQUEST_THRESHOLD_VIOLATION")
    assert r.exit_code == 2
    assert "did you mean REQUEST_THRESHOLD_VIOLATED" in r.stderr
    r = cli("explain", "nonsense-code", "--json")
    assert r.exit_code == 2
    assert r.json()["exit_code"] == 2  # type: ignore[index]


@pytest.mark.parametrize("command", [["status"], ["orders", "list"], ["explain"]])
def test_help(cli, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    r = cli(*command, "--help")
    assert r.exit_code == 0
    assert "--trace-file" in r.stdout
    assert "--json" in r.stdout


# ------------------------------------------------------------------ --since


@pytest.mark.parametrize(("text", "delta"), [
    ("30m", timedelta(minutes=30)), ("2h", timedelta(hours=2)), ("3d", timedelta(days=3)),
    ("1w", timedelta(weeks=1)), ("45s", timedelta(seconds=45)), ("1d12h", timedelta(hours=36)),
    (" 2H ", timedelta(hours=2)),
])
def test_durations(text: str, delta: timedelta) -> None:
    assert parse_since(text, NOW) == NOW - delta


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-05-19", datetime(2026, 5, 19, tzinfo=UTC)),
    ("2026-05-19T10:30:15Z", datetime(2026, 5, 19, 10, 30, 15, tzinfo=UTC)),
    ("2026-05-19T10:30:15+02:00", datetime(2026, 5, 19, 8, 30, 15, tzinfo=UTC)),
    ("2026-05-19 10:30", datetime(2026, 5, 19, 10, 30, tzinfo=UTC)),
])
def test_dates(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "0h", "2026-13-01", "2026-05-30", "3x", "-2h", "2h ago",
                                  "2026-05-19T25:00:00Z"])
def test_bad_since_is_refused(text: str) -> None:
    with pytest.raises(UsageError):
        parse_since(text, NOW)


@given(st.text(max_size=30))
def test_since_never_crashes(text: str) -> None:
    try:
        out = parse_since(text, NOW)
    except UsageError:
        return
    assert out.tzinfo is not None
    assert out <= NOW + timedelta(minutes=5)


@given(st.integers(min_value=1, max_value=999), st.sampled_from("smhdw"))
def test_duration_round_trip(n: int, unit: str) -> None:
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    assert parse_duration(f"{n}{unit}") == timedelta(seconds=n * seconds)


# issue 14 item 14: `explain` knows HTTP statuses as an operator sees them in a log or a proxy page
@pytest.mark.parametrize(("query", "status"), [
    ("429", 429), ("HTTP 429", 429), ("520", 520), ("423", 423), ("502", 502), ("503", 503), ("504", 504),
    ("5xx", None), ("http 500", 500), ("408", 408), ("401", 401),
])
def test_item14_explain_knows_http_statuses(query: str, status: int | None) -> None:
    match = lookup(query)
    assert match is not None, query
    doc = match.to_json()
    assert doc["http_status"] == status
    assert doc["what_to_do"]
    assert doc["source"] == "HTTP status"


def test_item14_explain_http_status_does_not_shadow_exit_codes() -> None:
    match = lookup("130")
    assert match is not None
    assert match.entry.code == "130"
    assert match.entry.source == "wmsync exit code"
