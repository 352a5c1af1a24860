"""Channel-manager mode on an order whose Walmart lines are still Created: Channel Manager's push fails on a
Created line, so wmsync acknowledges the lines first (as it does in direct mode), and only then creates the
Commerce shipment that Channel Manager pushes."""

from __future__ import annotations

from typing import Any

from tests.batch.conftest import writes

from wmsync.sandbox import Sandbox

UPS = "1Z999AA10123456819"


def test_channel_manager_mode_acknowledges_created_lines_first(cli: Any, sandbox: Sandbox) -> None:
    sandbox.update_settings(channel_manager=True, walmart_delay=0.2)
    r = cli("ship", "000000102", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", UPS,
            "--via", "channel-manager", "--timeout", "20")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "confirmed"  # type: ignore[index]
    sent = writes(sandbox)
    ack = [i for i, w in enumerate(sent) if w.endswith("/acknowledge")]
    ship = [i for i, w in enumerate(sent) if w.endswith("/ship")]
    assert ack, sent
    assert ship, sent
    assert ack[0] < ship[0], sent  # acknowledged before the Commerce shipment exists
    assert not any(w.endswith("/shipping") for w in sent), sent  # the shipment itself: Channel Manager's push


def test_a_dry_run_in_channel_manager_mode_lists_the_acknowledge(cli: Any, sandbox: Sandbox) -> None:
    r = cli("ship", "000000102", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", UPS,
            "--via", "channel-manager", "--dry-run")
    assert r.exit_code == 0, r
    paths = [q["path"] for q in r.json()["requests"]]  # type: ignore[index]
    assert paths[0].endswith("/acknowledge"), paths
    assert writes(sandbox) == []
