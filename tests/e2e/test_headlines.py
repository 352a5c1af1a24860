"""Headlines say what happened: which side this run changed, and "confirmed by Walmart" only when it was; no
journal words such as "(unknown)" or "(started)" in what an operator reads."""

from __future__ import annotations

from typing import Any

import pytest

from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"
JOURNAL_WORDS = ("(unknown)", "(started)", "(planned)", "(in_progress)")


def _first_line(r: Any) -> str:
    return str(r.stdout.strip().splitlines()[0])


def test_cancel_when_walmart_had_it_says_commerce_was_cancelled(cli: Any, sandbox: Sandbox) -> None:
    # 000000122: cancelled on Walmart only; Commerce still processing
    r = cli("cancel", "000000122", "--store", "sandbox", "--reason", "customer-request", "--yes")
    assert r.exit_code == 0, r
    head = _first_line(r)
    assert head.startswith("Cancelled in Commerce; Walmart had it already"), r.stdout
    assert "confirmed by Walmart" not in r.stdout
    r = cli("cancel", "000000122", "--store", "sandbox", "--reason", "customer-request", "--yes", "--json")
    assert "commerce_cancel" not in r.json()["sent"]  # type: ignore[index]


def test_a_fresh_cancel_is_confirmed_by_walmart_and_says_what_commerce_did(cli: Any, sandbox: Sandbox) -> None:
    r = cli("cancel", "000000127", "--store", "sandbox", "--reason", "out-of-stock", "--yes")
    assert r.exit_code == 0, r
    assert _first_line(r).startswith("Cancelled and confirmed by Walmart; Commerce order cancelled"), r.stdout
    r = cli("cancel", "000000127", "--store", "sandbox", "--reason", "out-of-stock", "--yes")
    assert _first_line(r).startswith("Already cancelled — nothing sent"), r.stdout


def test_ship_headlines(cli: Any, sandbox: Sandbox) -> None:
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 0, r
    assert _first_line(r).startswith("Shipped and confirmed by Walmart"), r.stdout
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS)
    assert _first_line(r).startswith("Already done — nothing sent"), r.stdout
    # 000000116: Walmart shows the package, Commerce has no shipment: only Commerce is written
    r = cli("ship", "000000116", "--store", "sandbox", "--carrier", "USPS", "--tracking", "9400110200881234567117")
    assert r.exit_code == 0, r
    assert _first_line(r).startswith("Commerce shipment created; Walmart had it already"), r.stdout


def test_channel_manager_pending_says_the_commerce_shipment_was_created(cli: Any, sandbox: Sandbox) -> None:
    sandbox.update_settings(channel_manager=True, walmart_delay=60)
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS,
            "--via", "channel-manager", "--no-wait")
    assert r.exit_code == 0, r
    head = _first_line(r)
    assert head.startswith("Commerce shipment created; Walmart confirmation pending"), r.stdout
    assert "confirmed by Walmart" not in head


def test_an_attempt_in_flight_is_told_in_words(cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMSYNC_RESEND_QUIET", "120")
    sandbox.inject_fault("timeout", method="POST", path_regex=r"/shipping$")
    r1 = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS)
    r2 = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS)
    assert r2.exit_code != 0, r2
    assert "the Walmart shipping update got no answer" in r2.stderr, r2.stderr
    for r in (r1, r2):
        for word in JOURNAL_WORDS:
            assert word not in r.stdout + r.stderr, (word, r)
