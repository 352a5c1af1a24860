"""The ship planner as plain function calls on order data: every rule refuses before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import NOW_MS, PO, STORE, c_item, c_order, w_line, w_order
from wmsync.commerce.models import Order, Shipment
from wmsync.errors import RefusedError, UsageError
from wmsync.walmart.models import WalmartOrder
from wmsync.workflows.base import OrderPair
from wmsync.workflows.ship import ShipRequest, confirmed, plan


def ship(order: Order, wm: WalmartOrder, shipments: list[Shipment] | None = None, **kw: Any):  # type: ignore[no-untyped-def]
    args: dict[str, Any] = {"order": "000000007", "carrier": "UPS", "tracking": "1Z999AA10123456784"}
    args.update(kw)
    return plan(OrderPair(order, PO, wm, shipments or []), STORE, ShipRequest(**args), now_ms=NOW_MS)


def test_single_line_builds_both_bodies() -> None:
    p = ship(c_order([c_item(1, "A", 1)]), w_order([w_line(1, "A")]))
    pkg = p.packages[0]
    assert pkg.commerce_body == {"items": [{"order_item_id": 1, "qty": 1}], "notify": False,
                                 "tracks": [{"track_number": "1Z999AA10123456784", "title": "UPS",
                                             "carrier_code": "ups"}]}
    line = pkg.walmart_body["orderShipment"]["orderLines"]["orderLine"][0]  # type: ignore[index]
    assert line["lineNumber"] == "1"
    assert line["sellerOrderId"] == "000000007"
    status = line["orderLineStatuses"]["orderLineStatus"][0]
    assert status["statusQuantity"] == {"unitOfMeasurement": "EACH", "amount": "1"}
    assert status["trackingInfo"]["shipDateTime"] == NOW_MS
    assert status["trackingInfo"]["carrierName"] == {"carrier": "UPS"}
    assert status["trackingInfo"]["methodCode"] == "Standard"
    assert "intentToCancelOverride" not in line


def test_split_lines_are_allocated_by_sku() -> None:
    p = ship(c_order([c_item(1, "A", 3)]), w_order([w_line(1, "A"), w_line(2, "A"), w_line(3, "A")]),
             items={"A": 2})
    lines = p.packages[0].walmart_body["orderShipment"]["orderLines"]["orderLine"]  # type: ignore[index]
    assert [ln["lineNumber"] for ln in lines] == ["1", "2"]
    assert p.packages[0].commerce_body["items"] == [{"order_item_id": 1, "qty": 2}]  # type: ignore[index]


def test_configurable_ships_by_parent_item() -> None:
    order = c_order([c_item(10, "SHIRT-M", 1, product_type="configurable"),
                     c_item(11, "SHIRT-M", 1, parent_item_id=10)])
    p = ship(order, w_order([w_line(1, "SHIRT-M")]))
    assert p.packages[0].commerce_body["items"] == [{"order_item_id": 10, "qty": 1}]  # type: ignore[index]


def test_created_lines_are_acknowledged_first() -> None:
    p = ship(c_order([c_item(1, "A", 1)]), w_order([w_line(1, "A", status="Created")]))
    assert p.packages[0].acknowledge is True


@pytest.mark.parametrize(
    ("kw", "error", "text"),
    [
        ({"carrier": "UPPS"}, RefusedError, "UPS"),
        ({"tracking": "1Z999AA1012345678"}, RefusedError, "UPS"),
        ({"items": {"A": 2}}, RefusedError, "left to ship"),
        ({"items": {"B": 1}}, UsageError, "not on order"),
        ({"method": "Teleport"}, RefusedError, "Standard"),
        ({"carrier": "Acme Freight"}, RefusedError, "tracking-url"),
        ({"tracking": PO}, RefusedError, "purchase order number"),
    ],
)
def test_bad_input_is_refused(kw: dict[str, Any], error: type[Exception], text: str) -> None:
    with pytest.raises(error) as info:
        ship(c_order([c_item(1, "A", 1)]), w_order([w_line(1, "A")]), **kw)
    assert text.lower() in str(info.value).lower() or text.lower() in (getattr(info.value, "hint", "") or "").lower()


def test_intent_to_cancel_refused_unless_overridden() -> None:
    order, wm = c_order([c_item(1, "A", 1)]), w_order([w_line(1, "A", intent="Yes")])
    with pytest.raises(RefusedError, match="asked to cancel"):
        ship(order, wm)
    p = ship(order, wm, override_intent_to_cancel=True)
    line = p.packages[0].walmart_body["orderShipment"]["orderLines"]["orderLine"][0]  # type: ignore[index]
    assert line["intentToCancelOverride"] is True


def test_cancelled_order_refused() -> None:
    with pytest.raises(RefusedError):
        ship(c_order([c_item(1, "A", 1)], state="canceled"), w_order([w_line(1, "A", status="Cancelled")]))


def test_other_carrier_with_url() -> None:
    p = ship(c_order([c_item(1, "A", 1)]), w_order([w_line(1, "A")]), carrier="Acme Freight",
             tracking="AF12345678", tracking_url="https://acme.example/t/AF12345678")
    info = p.packages[0].walmart_body["orderShipment"]["orderLines"]["orderLine"][0][  # type: ignore[index]
        "orderLineStatuses"]["orderLineStatus"][0]["trackingInfo"]
    assert info["carrierName"] == {"otherCarrier": "Acme Freight"}
    assert info["trackingURL"] == "https://acme.example/t/AF12345678"
    assert p.packages[0].commerce_body["tracks"][0]["carrier_code"] == "custom"  # type: ignore[index]


def test_rerun_after_success_is_nothing_to_do() -> None:
    order = c_order([c_item(1, "A", 1, shipped=1)])
    wm = w_order([w_line(1, "A", shipped=1, tracking="1Z999AA10123456784")])
    shipment = Shipment.model_validate({"entity_id": 3, "items": [{"order_item_id": 1, "qty": 1}],
                                        "tracks": [{"track_number": "1Z999AA10123456784", "carrier_code": "ups"}]})
    p = ship(order, wm, [shipment])
    assert p.packages[0].nothing_to_do
    assert confirmed(wm, p.packages[0])


def test_crash_between_commerce_and_walmart_only_walmart_left() -> None:
    order = c_order([c_item(1, "A", 2, shipped=2)])
    wm = w_order([w_line(1, "A"), w_line(2, "A")])
    shipment = Shipment.model_validate({"entity_id": 3, "items": [{"order_item_id": 1, "qty": 2}],
                                        "tracks": [{"track_number": "1Z999AA10123456784", "carrier_code": "ups"}]})
    pkg = ship(order, wm, [shipment]).packages[0]
    assert pkg.commerce_body is None
    assert sum(a.qty for a in pkg.walmart_alloc) == 2


def test_tracking_already_used_for_other_items_refused() -> None:
    order = c_order([c_item(1, "A", 1, shipped=1), c_item(2, "B", 1)])
    wm = w_order([w_line(1, "A", shipped=1, tracking="1Z999AA10123456784"), w_line(2, "B")])
    shipment = Shipment.model_validate({"entity_id": 3, "items": [{"order_item_id": 1, "qty": 1}],
                                        "tracks": [{"track_number": "1Z999AA10123456784"}]})
    with pytest.raises(RefusedError, match=r"one package|already on Commerce shipment"):
        ship(order, wm, [shipment], items={"B": 1})


@settings(max_examples=60, deadline=None)
@given(
    split=st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=5),
    shipped_first=st.integers(min_value=0, max_value=4),
    ask=st.integers(min_value=1, max_value=15),
)
def test_property_allocation_and_idempotence(split: list[int], shipped_first: int, ask: int) -> None:
    """Allocation never exceeds what is left, touches only lines of the SKU asked, and a plan applied twice
    equals the plan applied once (the second plan has nothing left to send)."""
    total = sum(split)
    lines = [w_line(i + 1, "A", qty=q) for i, q in enumerate(split)] + [w_line(len(split) + 1, "B", qty=1)]
    order = c_order([c_item(1, "A", total), c_item(2, "B", 1)])
    wm = w_order(lines)
    left = total
    if ask > left:
        with pytest.raises(RefusedError):
            ship(order, wm, items={"A": ask})
        return
    pkg = ship(order, wm, items={"A": ask}).packages[0]
    per_line = {a.line_number: a.qty for a in pkg.walmart_alloc}
    assert sum(per_line.values()) == ask
    for number, qty in per_line.items():
        line = wm.line(number)
        assert line is not None
        assert line.sku == "A"
        assert qty <= line.open_qty
    # apply the plan to both sides, then plan again: nothing is left to send
    for ln in lines:
        n = per_line.get(ln["lineNumber"], 0)
        if n:
            qty = int(ln["orderLineQuantity"]["amount"])
            ln.update(w_line(int(ln["lineNumber"]), "A", qty=qty, shipped=n, tracking="1Z999AA10123456784"))
    order2 = c_order([c_item(1, "A", total, shipped=ask), c_item(2, "B", 1)])
    shipment = Shipment.model_validate({"entity_id": 9, "items": [{"order_item_id": 1, "qty": ask}],
                                        "tracks": [{"track_number": "1Z999AA10123456784", "carrier_code": "ups"}]})
    again = ship(order2, w_order(lines), [shipment], items={"A": ask}).packages[0]
    assert again.nothing_to_do
