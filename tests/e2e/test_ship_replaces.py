"""``ship ORDER --carrier C --tracking NEW --replaces OLD``: a tracking number typed wrong is corrected on both
sides — Walmart's PARTIAL_UPDATE of exactly the lines shipped under OLD, Commerce's shipment gets NEW and loses
OLD — checked before anything is sent, never done twice."""

from __future__ import annotations

from typing import Any

import pytest

from wmsync.sandbox import Sandbox

OLD = "1ZW1X2Y30390010006"
NEW = "1Z999AA10123456800"


def _writes(sb: Sandbox) -> list[str]:
    return [f"{e.method} {e.path}" for e in sb.request_log()
            if e.method in ("POST", "DELETE") and not e.path.endswith("/token")]


def _ship_old(cli: Any, order: str = "000000101") -> None:
    r = cli("ship", order, "--store", "sandbox", "--carrier", "UPS", "--tracking", OLD)
    assert r.exit_code == 0, r


def _sides(sb: Sandbox) -> tuple[set[str], set[str]]:
    return set(sb.commerce_shipments_by_tracking()), set(sb.walmart_shipments_by_tracking())


def test_a_tracking_number_is_corrected_on_both_sides_once(cli: Any, sandbox: Sandbox) -> None:
    _ship_old(cli)
    sandbox.clear_request_log()
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", NEW, "--replaces", OLD,
            "--json")
    assert r.exit_code == 0, r
    doc = r.json()
    assert doc["result"] == "confirmed"  # type: ignore[index]
    assert doc["sent"] == ["walmart_retrack", "commerce_add_track", "commerce_delete_track"]  # type: ignore[index]
    commerce, walmart = _sides(sandbox)
    assert NEW in commerce
    assert OLD not in commerce
    assert NEW in walmart
    assert OLD not in walmart
    assert len(sandbox.commerce_shipments("000000101")) == 1  # the same shipment, another track
    # a re-run: nothing sent
    sandbox.clear_request_log()
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", NEW, "--replaces", OLD,
            "--json")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "already_done"  # type: ignore[index]
    assert _writes(sandbox) == []
    # both sides agree, and status shows the correction
    r = cli("status", "000000101", "--store", "sandbox", "--json")
    assert r.json()["verdict"] == "in_sync", r  # type: ignore[index]
    history = r.json()["history"]  # type: ignore[index]
    assert any(h["kind"] == "retrack" and h["replaces"] == OLD and h["tracking_number"] == NEW for h in history)
    r = cli("status", "000000101", "--store", "sandbox")
    assert f"retrack {OLD} → {NEW}" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tracking", NEW, "--replaces", "1ZW1X2Y30390099999"], "is not on order"),  # OLD not on the order
        (["--tracking", "1Z999AA10123456801", "--replaces", OLD], "check digit"),  # NEW fails the carrier's check
    ],
)
def test_refusals_send_nothing(cli: Any, sandbox: Sandbox, args: list[str], message: str) -> None:
    _ship_old(cli)
    sandbox.clear_request_log()
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", *args)
    assert r.exit_code == 2, r
    assert message in r.stderr
    assert _writes(sandbox) == []


def test_after_the_update_window_nothing_is_sent(cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    _ship_old(cli)
    sandbox.clear_request_log()
    import wmsync.clock as clock

    real = clock.SystemClock.time
    monkeypatch.setattr(clock.SystemClock, "time", lambda self: real(self) + 5 * 3600)
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", NEW, "--replaces", OLD)
    assert r.exit_code == 2, r
    assert "within 4 hours" in r.stderr
    assert _writes(sandbox) == []


def test_a_write_dropped_after_it_was_applied_is_finished_once(cli: Any, sandbox: Sandbox) -> None:
    _ship_old(cli)
    sandbox.inject_fault("applied_timeout", method="POST", path_regex=r"/shipment/track$")
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", NEW, "--replaces", OLD,
            "--json")
    if r.exit_code != 0:  # an unknown outcome the re-read could not settle: a re-run finishes it
        r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", NEW, "--replaces",
                OLD, "--json")
    assert r.exit_code == 0, r
    tracks = sandbox.commerce_shipments_by_tracking()
    assert len(tracks[NEW]) == 1  # one new track, not two
    assert OLD not in tracks
    assert set(sandbox.walmart_shipments_by_tracking()) >= {NEW}


def test_a_crash_between_walmart_and_commerce_is_finished_by_a_rerun(
    cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ship_old(cli)
    from wmsync.commerce.client import CommerceClient
    from wmsync.errors import UnavailableError

    real = CommerceClient.add_track

    def down(self: CommerceClient, *a: Any, **k: Any) -> int:
        raise UnavailableError("Commerce POST /shipment/track: connection refused")

    monkeypatch.setattr(CommerceClient, "add_track", down)
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", NEW, "--replaces", OLD)
    assert r.exit_code != 0, r
    assert NEW in sandbox.walmart_shipments_by_tracking()  # Walmart was corrected first
    monkeypatch.setattr(CommerceClient, "add_track", real)
    sandbox.clear_request_log()
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", NEW, "--replaces", OLD,
            "--json")
    assert r.exit_code == 0, r
    assert r.json()["sent"] == ["commerce_add_track", "commerce_delete_track"]  # type: ignore[index]
    assert not any("/shipping" in w for w in _writes(sandbox))
    commerce, _walmart = _sides(sandbox)
    assert NEW in commerce
    assert OLD not in commerce
