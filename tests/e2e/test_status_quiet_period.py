"""While an earlier write whose outcome is unknown may still be in flight (the resend_quiet period), status
says pending (exit 6), not diverged with a repair that the resend guard would refuse."""

from __future__ import annotations

from typing import Any

import pytest

from wmsync.sandbox import Sandbox

from .test_unknown_outcome import UPS, use


def test_status_is_pending_during_the_resend_quiet_period(
        cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMSYNC_UNKNOWN_GRACE", "0.2")
    monkeypatch.setenv("WMSYNC_RESEND_QUIET", "3600")
    use(monkeypatch, sandbox, r"/shipping$", delay_reads=None)
    r = cli("ship", "000000101", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 5, r
    s = cli("status", "000000101", "--store", "sandbox", "--json")
    assert s.exit_code == 6, s
    body = s.json()
    assert body["verdict"] == "pending"
    assert any("in flight" in why for why in body["pending_reasons"]), body
    # the repair it names is not one the resend guard refuses right now: none is offered while in flight
    assert all(d["pending"] for d in body["differences"]), body
    # after the quiet period the difference is real again, with its repair
    monkeypatch.setenv("WMSYNC_RESEND_QUIET", "0")
    s2 = cli("status", "000000101", "--store", "sandbox", "--json")
    assert s2.json()["verdict"] == "diverged", s2
