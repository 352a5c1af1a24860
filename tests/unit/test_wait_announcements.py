"""Long waits are said on stderr without a terminal (cron logs, --json runs): one line when a wait starts, one
every interval while it lasts; -v says why each retry happened."""

from __future__ import annotations

from typing import Any

import pytest

from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_wait_is_said_when_it_starts_and_then_every_interval() -> None:
    from wmsync.render import WaitAnnouncer

    said: list[str] = []
    clock = Clock()
    announce = WaitAnnouncer(said.append, interval=15, clock=clock)
    announce("reading the order")  # not a wait: the spinner's business
    announce("waiting for Walmart (0s, next look in 1s)")
    clock.now = 5
    announce("waiting for Walmart (5s, next look in 2s)")
    clock.now = 16
    announce("waiting for Walmart (16s, next look in 4s)")
    announce("still pending (16s, next look in 4s)")  # another wait starts: said at once
    assert said == [
        "waiting for Walmart (0s, next look in 1s)",
        "waiting for Walmart (16s, next look in 4s)",
        "still pending (16s, next look in 4s)",
    ]


def test_ship_without_a_terminal_says_it_is_waiting(
    cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WMSYNC_PROGRESS_INTERVAL", "0.1")
    monkeypatch.setenv("WMSYNC_POLL_INITIAL", "0.05")
    sandbox.update_settings(channel_manager=True, walmart_delay=0.8)
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS,
            "--via", "channel-manager", "--timeout", "20", "--json")
    assert r.exit_code == 0, r
    waits = [ln for ln in r.stderr.splitlines() if ln.startswith("waiting for Walmart")]
    assert len(waits) >= 2, r.stderr  # when it started, and again after the interval
    assert r.json()["result"] == "confirmed"  # type: ignore[index]  # stdout stays one JSON document


def test_verbose_says_why_each_retry_happened(cli: Any, sandbox: Sandbox) -> None:
    sandbox.inject_fault("500", method="GET", path_regex=r"^/v3/orders/\d+$")
    r = cli("status", "000000101", "--store", "sandbox", "-v")
    assert r.exit_code == 0, r
    assert "retrying walmart GET /v3/orders/" in r.stderr.replace("Walmart", "walmart"), r.stderr
    assert "HTTP 500" in r.stderr
