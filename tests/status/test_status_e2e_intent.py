"""`wmsync status` tells support about a customer's intent to cancel (only `ship` used to reveal it)."""

from __future__ import annotations

from typing import Any


def test_status_notes_intent_to_cancel_with_the_command(cli: Any) -> None:
    r = cli("status", "000000106", "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    notes = r.json()["notes"]
    assert any("customer asked to cancel" in n and "--reason customer-request --item WM-SOCK-006" in n for n in notes)
    # and the suggested command works
    r2 = cli("cancel", "000000106", "--store", "sandbox", "--reason", "customer-request", "--item", "WM-SOCK-006",
             "--yes", "--json")
    assert r2.exit_code == 0, r2
    after = cli("status", "000000106", "--store", "sandbox", "--json")
    assert not any("customer asked to cancel" in n for n in after.json()["notes"])
