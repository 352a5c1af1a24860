"""The seed: what SEED.md promises is what the database holds; ids are stable; bulk generation is fast."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from sandbox.helpers import FakeClock, line_statuses
from wmsync.sandbox import Sandbox, default_db_path
from wmsync.sandbox.seed import FIXED_ORDERS, PHANTOM_PO, UNIMPORTED_PO_INCREMENT, describe, po_for

SEED_MD = Path(__file__).resolve().parents[2] / "src" / "wmsync" / "sandbox" / "SEED.md"


def _table_rows() -> dict[str, tuple[int, str | None]]:
    rows = {}
    for line in SEED_MD.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| (0000001\d\d) \| (\d+) \| ([^|]+) \|", line)
        if m:
            ext = m.group(3).strip()
            rows[m.group(1)] = (int(m.group(2)), None if ext == "*(null)*" else ext)
    return rows


def test_seed_md_matches_the_data(sandbox: Sandbox) -> None:
    rows = _table_rows()
    assert list(rows) == [f"{n:09d}" for n, _, _ in FIXED_ORDERS]
    for d in describe():
        entity, ext = rows[d["increment_id"]]
        order = sandbox.commerce_order(d["increment_id"])
        assert order is not None
        assert order["entity_id"] == entity == d["entity_id"]
        assert order.get("ext_order_id") == ext == d["ext_order_id"]
        if d["walmart_po"]:
            assert sandbox.walmart_order(d["walmart_po"]) is not None
    assert po_for(UNIMPORTED_PO_INCREMENT) in SEED_MD.read_text(encoding="utf-8")


def test_ids_are_stable() -> None:
    assert po_for(101) == "103690568988397"
    assert PHANTOM_PO == "109226277213622"


def test_walmart_channel_orders_and_traps(sandbox: Sandbox) -> None:
    walmart_orders = [d for d in describe() if d["walmart_po"]]
    assert len(walmart_orders) >= 25
    for d in walmart_orders:
        assert re.fullmatch(r"\d{15}", d["walmart_po"])
    # other channels' numbers and a look-alike PO are not Walmart orders
    assert sandbox.walmart_order("112-1234567-1234567") is None
    assert sandbox.walmart_order(PHANTOM_PO) is None
    # an unimported PO exists only on Walmart
    unimported = po_for(UNIMPORTED_PO_INCREMENT)
    assert sandbox.walmart_order(unimported) is not None
    assert unimported not in {d["ext_order_id"] for d in describe()}


def test_split_and_configurable(sandbox: Sandbox) -> None:
    order = sandbox.commerce_order("000000104")
    assert order is not None
    (item,) = order["items"]
    assert item["qty_ordered"] == 3
    po = sandbox.walmart_order(po_for(104))
    assert po is not None
    lines = po["orderLines"]["orderLine"]
    assert [(ol["item"]["sku"], ol["orderLineQuantity"]["amount"]) for ol in lines] == [(item["sku"], "1")] * 3

    conf = sandbox.commerce_order("000000105")
    assert conf is not None
    parent, child = conf["items"]
    assert (parent["product_type"], child["product_type"]) == ("configurable", "simple")
    assert child["parent_item_id"] == parent["item_id"]
    wline = sandbox.walmart_order(po_for(105))
    assert wline is not None
    assert wline["orderLines"]["orderLine"][0]["item"]["sku"] == child["sku"]


def test_states_covered(sandbox: Sandbox) -> None:
    def w(n: int, line: str = "1") -> list[tuple[str, str]]:
        order = sandbox.walmart_order(po_for(n))
        assert order is not None
        return line_statuses(order, line)

    def c(n: int) -> dict[str, object]:
        order = sandbox.commerce_order(f"{n:09d}")
        assert order is not None
        return order

    assert w(101) == [("Acknowledged", "1")]
    assert w(102) == [("Created", "1")]
    assert w(107) == [("Shipped", "1")]
    assert w(108) == [("Cancelled", "1")]
    assert w(110, "1") == [("Shipped", "1")]
    assert w(110, "2") == [("Acknowledged", "2")]
    assert w(114) == [("Acknowledged", "1"), ("Shipped", "1")]
    assert w(122) == [("Cancelled", "1")]
    assert (c(107)["state"], c(108)["state"], c(115)["state"], c(121)["state"]) == (
        "complete",
        "canceled",
        "holded",
        "payment_review",
    )
    assert c(102)["status"] == "pending"
    assert c(109)["total_invoiced"] == c(109)["grand_total"]
    # the same tracking number on both sides for the shipped order
    assert "1Z999AA10123456784" in sandbox.walmart_shipments_by_tracking()
    assert "1Z999AA10123456784" in sandbox.commerce_shipments_by_tracking()
    assert "9400110200881234567117" not in sandbox.commerce_shipments_by_tracking()
    assert "1Z999AA10123456113" not in sandbox.walmart_shipments_by_tracking()


def test_dates_follow_the_clock(sandbox: Sandbox, clock: FakeClock) -> None:
    order = sandbox.walmart_order(po_for(101))
    assert order is not None
    assert order["orderDate"] == int((clock.now - 99 * 1800) * 1000)


def test_bulk_generation_is_fast_and_deterministic(tmp_path: Path, clock: FakeClock) -> None:
    a = Sandbox(tmp_path / "a.db", clock=clock)
    b = Sandbox(tmp_path / "b.db", clock=clock)
    try:
        started = time.monotonic()
        a.reset(orders=5000, seed=11)
        assert time.monotonic() - started < 10
        b.reset(orders=5000, seed=11)
        summary = a.summary()
        assert summary["commerce_orders"] == 5035
        assert summary["walmart_orders"] == b.summary()["walmart_orders"] > 4500
        for increment in ("000001001", "000003500", "000006000"):
            assert a.commerce_order(increment) == b.commerce_order(increment)
        a.reset()
        assert a.summary()["commerce_orders"] == 35
    finally:
        a.close()
        b.close()


def test_seeded_once_and_shared(db_path: Path, clock: FakeClock) -> None:
    first = Sandbox(db_path, clock=clock)
    first.inject_fault("500")
    second = Sandbox(db_path, clock=clock)  # does not reseed
    try:
        assert len(second.armed_faults()) == 1
        assert second.summary()["commerce_orders"] == 35
    finally:
        first.close()
        second.close()


def test_default_db_path_is_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMSYNC_DATA_DIR", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "sandbox.sqlite3"


def test_seeded_tracking_numbers_pass_the_carrier_format_checks(sandbox: Sandbox) -> None:
    from wmsync.walmart.rules import check_tracking_number

    walmart = sandbox.walmart_shipments_by_tracking()
    assert len(walmart) >= 4
    for number, shipments in walmart.items():
        for s in shipments:
            check_tracking_number(number, carrier=s["carrier"], purchase_order_id=s["po"])
