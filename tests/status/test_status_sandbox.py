"""``wmsync status`` end to end against the in-process sandbox: each verdict, and the printed repair commands
actually repairing the order."""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from status.conftest import Sides
from wmsync.sandbox import Sandbox

T_OK = "1Z999AA10123451001"  # valid UPS numbers
T_OK2 = "1Z999AA10123451010"


def status(cli, order: str, *extra: str) -> tuple[int, dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = cli("status", order, "--store", "sandbox", "--json", *extra)
    doc = r.json()
    assert isinstance(doc, dict), r
    return r.exit_code, doc


def run_repairs(cli, doc: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """Run every repair command the status printed, pasted as it is (it names the store and carries --yes)."""
    assert doc["repair_commands"], doc
    for command in doc["repair_commands"]:
        argv = shlex.split(command)
        assert argv[0] == "wmsync"
        r = cli(*argv[1:])
        assert r.exit_code == 0, (command, r)


def test_in_sync_after_ship(cli, sb: Sandbox) -> None:  # type: ignore[no-untyped-def]
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", T_OK)
    assert r.exit_code == 0, r
    code, doc = status(cli, "000000101")
    assert code == 0
    assert doc["verdict"] == "in_sync"
    assert doc["order"] == "000000101"
    po = sb.commerce_order("000000101")["ext_order_id"]  # type: ignore[index]
    assert doc["purchase_order_id"] == po
    [line] = doc["lines"]
    assert line["line_number"] == "1"
    assert line["sku"] == "WM-MUG-001"
    assert line["commerce"] == {"shipped": 1, "cancelled": 0, "tracking_numbers": [T_OK]}
    assert line["walmart_statuses"] == [{"status": "Shipped", "quantity": 1, "carrier": "UPS",
                                         "tracking_number": T_OK}]
    assert doc["differences"] == []
    [entry] = doc["history"]
    assert entry["kind"] == "ship"
    assert entry["state"] == "confirmed"
    assert entry["correlation_ids"]
    assert entry["created_at"].endswith("Z")
    # the human form says the same
    r = cli("status", "000000101", "--store", "sandbox")
    assert r.exit_code == 0
    assert "Verdict: in sync" in r.stdout
    assert T_OK in r.stdout


def test_pending_in_channel_manager_mode_turns_in_sync_with_wait(cli, sb: Sandbox) -> None:  # type: ignore[no-untyped-def]
    sb.update_settings(channel_manager=True, walmart_delay=1.0)
    r = cli("ship", "000000103", "--store", "sandbox", "--via", "channel-manager", "--carrier", "UPS",
            "--tracking", T_OK, "--no-wait", "--json")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "pending"  # type: ignore[index]
    code, doc = status(cli, "000000103")
    assert code == 6, doc
    assert doc["verdict"] == "pending"
    assert doc["pending_reasons"]
    assert {d["sku"] for d in doc["differences"]} == {"WM-CABLE-003", "WM-LAMP-004"}
    assert all(d["pending"] for d in doc["differences"])
    code, doc = status(cli, "000000103", "--wait", "--timeout", "30")
    assert code == 0, doc
    assert doc["verdict"] == "in_sync"
    assert all(s["status"] == "Shipped" for ln in doc["lines"] for s in ln["walmart_statuses"])
    assert [e["state"] for e in sb.channel_manager_events()] == ["done"]


def test_wait_gives_up_at_the_timeout_with_exit_6(cli, sb: Sandbox) -> None:  # type: ignore[no-untyped-def]
    sb.update_settings(channel_manager=True, walmart_delay=3600.0)
    r = cli("ship", "000000101", "--store", "sandbox", "--via", "channel-manager", "--carrier", "UPS",
            "--tracking", T_OK, "--no-wait")
    assert r.exit_code == 0, r
    code, doc = status(cli, "000000101", "--wait", "--timeout", "0.2")
    assert code == 6
    assert doc["verdict"] == "pending"


def test_diverged_when_walmart_was_cancelled_behind_wmsyncs_back(cli, sides: Sides) -> None:  # type: ignore[no-untyped-def]
    po = sides.po("000000103")
    sides.walmart_cancel(po, [("1", 1), ("2", 1)], "SELLER_CANCEL_OUT_OF_STOCK")
    code, doc = status(cli, "000000103")
    assert code == 8
    assert doc["verdict"] == "diverged"
    whats = [d["what"] for d in doc["differences"]]
    assert any(w.startswith("Walmart line 1 cancelled 1 × WM-CABLE-003 (SELLER_CANCEL_OUT_OF_STOCK)") for w in whats)
    # pasted, it acts on the same store without asking
    assert doc["repair_commands"] == [
        "wmsync cancel 000000103 --reason SELLER_CANCEL_OUT_OF_STOCK --store sandbox --yes"
    ]
    human = cli("status", "000000103", "--store", "sandbox")
    assert human.exit_code == 8
    assert "DIVERGED" in human.stdout
    assert "wmsync cancel 000000103 --reason SELLER_CANCEL_OUT_OF_STOCK" in human.stdout
    run_repairs(cli, doc)
    code, doc = status(cli, "000000103")
    assert code == 0, doc
    assert doc["commerce_state"] == "canceled"


def test_diverged_when_walmart_was_shipped_behind_wmsyncs_back(cli, sides: Sides) -> None:  # type: ignore[no-untyped-def]
    po = sides.po("000000124")
    sides.walmart_ship(po, [("1", 1)], T_OK2)
    code, doc = status(cli, "000000124")
    assert code == 8
    [d] = doc["differences"]
    assert d["line_number"] == "1"
    assert d["what"] == f"Walmart line 1 shipped 1 × WM-MUG-001 with UPS {T_OK2}; no Commerce shipment has it"
    assert doc["repair_commands"] == [
        f"wmsync ship 000000124 --carrier UPS --tracking {T_OK2} --item WM-MUG-001=1 --store sandbox"
    ]
    writes_before = sides.sb.write_counts()
    run_repairs(cli, doc)
    writes = sides.sb.write_counts()
    # the repair created the Commerce shipment and posted nothing to Walmart
    changed = {k: writes[k] - writes_before[k] for k in writes if writes[k] != writes_before[k]}
    assert changed == {"commerce.ship": 1}
    code, doc = status(cli, "000000124")
    assert code == 0, doc


def test_diverged_when_a_commerce_shipment_never_reached_walmart(cli, sides: Sides) -> None:  # type: ignore[no-untyped-def]
    sid = sides.commerce_ship("000000101", [("WM-MUG-001", 1)], T_OK)
    code, doc = status(cli, "000000101")
    assert code == 8
    [d] = doc["differences"]
    assert d["what"] == (f"Commerce shipped 1 × WM-MUG-001 with UPS {T_OK} (Commerce shipment #{sid}); "
                         "Walmart line 1 still Acknowledged")
    assert doc["repair_commands"] == ["wmsync ship 000000101 --store sandbox"]
    run_repairs(cli, doc)
    code, doc = status(cli, "000000101")
    assert code == 0, doc
    assert doc["lines"][0]["walmart_statuses"][0]["tracking_number"] == T_OK
    assert len(sides.sb.commerce_shipments("000000101")) == 1  # the repair did not add a second one


@pytest.mark.parametrize("order", ["000000116", "000000117", "000000122"])
def test_seeded_divergences_are_repaired_by_the_printed_commands(cli, order: str) -> None:  # type: ignore[no-untyped-def]
    code, doc = status(cli, order)
    assert code == 8, doc
    run_repairs(cli, doc)
    code, doc = status(cli, order)
    assert code == 0, doc


@pytest.mark.parametrize("order", ["000000107", "000000108", "000000110", "000000114", "000000105", "000000118"])
def test_seeded_consistent_orders_are_in_sync(cli, order: str) -> None:  # type: ignore[no-untyped-def]
    code, doc = status(cli, order)
    assert code == 0, doc


def test_wmsync_partial_cancel_is_in_sync_with_a_note(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("cancel", "000000118", "--store", "sandbox", "--reason", "out-of-stock", "--item", "WM-SOCK-006=1",
            "--yes")
    assert r.exit_code == 0, r
    code, doc = status(cli, "000000118")
    assert code == 0, doc
    assert any("wmsync recorded it" in n for n in doc["notes"])
    assert [e["kind"] for e in doc["history"]] == ["cancel"]


def test_unknown_and_foreign_orders_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("status", "999999999", "--store", "sandbox").exit_code == 2
    r = cli("status", "000000112", "--store", "sandbox")  # another channel's number in the PO field
    assert r.exit_code == 2
    assert "not a Walmart purchase order" in r.stderr
