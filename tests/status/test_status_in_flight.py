"""``status`` while a write whose outcome is unknown may still be in flight (within ``resend_quiet``): pending,
exit 6 — not diverged with a repair that ``ship`` would refuse. And a pending operation reads confirmed in the
journal once ``status --wait`` sees it done."""

from __future__ import annotations

from typing import Any

import pytest

from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"


def test_status_during_the_resend_quiet_period_is_pending(
    cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WMSYNC_RESEND_QUIET", "120")
    sandbox.inject_fault("timeout", method="POST", path_regex=r"/shipping$")
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code != 0, r  # the Walmart post's outcome is unknown; Commerce has the shipment
    assert len(sandbox.commerce_shipments_by_tracking()[UPS]) == 1
    assert UPS not in sandbox.walmart_shipments_by_tracking()

    r = cli("status", "000000101", "--store", "sandbox", "--json")
    doc = r.json()
    assert isinstance(doc, dict)
    assert doc["verdict"] == "pending", doc
    assert r.exit_code == 6, r
    assert all(d["pending"] for d in doc["differences"]), doc["differences"]
    assert any("in flight" in p for p in doc["pending_reasons"]), doc


def test_the_journal_reads_confirmed_once_status_wait_sees_it(
    cli: Any, sandbox: Sandbox
) -> None:
    sandbox.update_settings(channel_manager=True, walmart_delay=0.5)  # Channel Manager pushes after 0.5 s
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--no-wait", "--json",
            "--via", "channel-manager")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "pending"  # type: ignore[index]
    r = cli("status", "000000101", "--store", "sandbox", "--wait", "--timeout", "20", "--json")
    assert r.exit_code == 0, r
    assert r.json()["verdict"] == "in_sync"  # type: ignore[index]
    r = cli("status", "000000101", "--store", "sandbox", "--json")
    history = r.json()["history"]  # type: ignore[index]
    assert history[0]["state"] == "confirmed", history
