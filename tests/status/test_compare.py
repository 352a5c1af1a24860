"""``compare`` as plain function calls: verdicts, the exact differences and the repair commands."""

from __future__ import annotations

from datetime import UTC, datetime

from status.data import NOW, PO, T1, T2, T3, c_item, op, order, shipment, status, wline, worder
from wmsync.workflows.status import (
    CHANNEL_MANAGER_WINDOW,
    StatusReport,
    auto_cancel_risk,
    compare,
)

FEDEX = "449044304137821"
UPS = ("ups", "United Parcel Service")


def ups(number: str) -> tuple[str, str, str]:
    return (number, *UPS)


def run(o, shipments, wm, ops=(), now: float = NOW, cm: bool = False) -> StatusReport:  # type: ignore[no-untyped-def]
    return compare(o, list(shipments), wm, list(ops), now, channel_manager=cm)


def commerce_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


# ------------------------------------------------------------------ in sync


def test_nothing_shipped_on_either_side_is_in_sync() -> None:
    r = run(order([c_item(1, "SKU-A", 1)]), [], worder([wline(1, "SKU-A", [status("Acknowledged", 1)])]))
    assert r.verdict == "in_sync"
    assert r.differences == []
    assert r.commands == []
    doc = r.to_json()
    assert doc["lines"] == [{
        "line_number": "1", "sku": "SKU-A", "quantity": 1,
        "commerce": {"shipped": 0, "cancelled": 0, "tracking_numbers": []},
        "walmart_statuses": [{"status": "Acknowledged", "quantity": 1, "carrier": None, "tracking_number": None}],
    }]


def test_shipped_on_both_sides_with_the_same_tracking_is_in_sync() -> None:
    r = run(order([c_item(1, "SKU-A", 2, shipped=2)]), [shipment({1: 2}, [ups(T1)])],
            worder([wline(1, "SKU-A", [status("Shipped", 2, T1)])]))
    assert r.verdict == "in_sync", r.differences
    line = r.to_json()["lines"][0]
    assert line["commerce"] == {"shipped": 2, "cancelled": 0, "tracking_numbers": [T1]}
    assert line["walmart_statuses"][0]["tracking_number"] == T1


def test_split_lines_each_get_their_share_of_the_commerce_shipment() -> None:
    wm = worder([wline(n, "SKU-A", [status("Shipped", 1, T1)]) for n in (1, 2, 3)])
    r = run(order([c_item(1, "SKU-A", 3, shipped=3)]), [shipment({1: 3}, [ups(T1)])], wm)
    assert r.verdict == "in_sync", r.differences
    assert [ln.commerce_shipped for ln in r.lines] == [1, 1, 1]
    assert all(ln.commerce_tracking == [T1] for ln in r.lines)


def test_two_packages_over_split_lines_are_matched_by_tracking_number() -> None:
    wm = worder([wline(1, "SKU-A", [status("Shipped", 1, T2)]), wline(2, "SKU-A", [status("Shipped", 1, T1)])])
    r = run(order([c_item(1, "SKU-A", 2, shipped=2)]),
            [shipment({1: 1}, [ups(T1)], sid=1), shipment({1: 1}, [ups(T2)], sid=2)], wm)
    assert r.verdict == "in_sync", r.differences
    assert [ln.commerce_tracking for ln in r.lines] == [[T2], [T1]]


def test_configurable_parent_counts_under_the_child_sku() -> None:
    items = [c_item(10, "HOODIE-M", 1, shipped=1, product_type="configurable"),
             c_item(11, "HOODIE-M-BLUE", 1, shipped=1, parent_item_id=10)]
    r = run(order(items), [shipment({10: 1, 11: 1}, [ups(T1)])],
            worder([wline(1, "HOODIE-M-BLUE", [status("Shipped", 1, T1)])]))
    assert r.verdict == "in_sync", r.differences


# ------------------------------------------------------------------ Commerce shipment Walmart never got


def test_commerce_track_walmart_never_got_is_diverged_with_the_ship_command() -> None:
    wm = worder([wline(1, "SKU-B", [status("Shipped", 1, T3)]), wline(2, "SKU-A", [status("Acknowledged", 2)])])
    o = order([c_item(1, "SKU-A", 2, shipped=2), c_item(2, "SKU-B", 1, shipped=1)])
    r = run(o, [shipment({1: 2}, [ups(T1)], sid=5), shipment({2: 1}, [ups(T3)], sid=6)], wm)
    assert r.verdict == "diverged"
    [d] = r.differences
    assert d.what == (f"Commerce shipped 2 × SKU-A with UPS {T1} (Commerce shipment #5); "
                      "Walmart line 2 still Acknowledged")
    assert d.command == "wmsync ship 000000007"
    assert d.line_number == "2"
    assert d.kind == "commerce_shipment_not_on_walmart"
    assert r.commands == ["wmsync ship 000000007"]
    assert r.to_json()["differences"][0]["repair"].endswith("`wmsync ship 000000007`")


def test_partly_posted_package_names_the_missing_line() -> None:
    wm = worder([wline(1, "SKU-A", [status("Shipped", 1, T1)]), wline(2, "SKU-A", [status("Shipped", 1, T1)]),
                 wline(3, "SKU-A", [status("Acknowledged", 1)])])
    r = run(order([c_item(1, "SKU-A", 3, shipped=3)]), [shipment({1: 3}, [ups(T1)])], wm)
    assert r.verdict == "diverged"
    [d] = r.differences
    assert d.what.startswith(f"Commerce shipped 1 × SKU-A with UPS {T1}")
    assert d.what.endswith("Walmart line 3 still Acknowledged")


def test_a_tracking_number_failing_the_carrier_format_gets_skip_format_check_and_a_warning() -> None:
    bad = "1Z999AA10123456117"  # check digit wrong
    r = run(order([c_item(1, "SKU-A", 1, shipped=1)]), [shipment({1: 1}, [ups(bad)])],
            worder([wline(1, "SKU-A", [status("Acknowledged", 1)])]))
    [d] = r.differences
    assert d.command == "wmsync ship 000000007 --skip-format-check"
    assert "check digit" in d.repair
    assert "label" in d.repair


def test_a_shipment_with_several_tracks_gets_explicit_per_package_commands() -> None:
    o = order([c_item(1, "SKU-A", 2, shipped=2)])
    r = run(o, [shipment({1: 2}, [ups(T1), ups(T2)])], worder([wline(1, "SKU-A", [status("Acknowledged", 2)])]))
    [d] = r.differences
    assert d.command == f"wmsync ship 000000007 --carrier ups --tracking {T1} --item SKU-A=2"


def test_walmart_cancelled_lines_cannot_take_the_commerce_shipment_fix_by_hand() -> None:
    wm = worder([wline(1, "SKU-A", [status("Cancelled", 1, reason="CUSTOMER_REQUESTED_SELLER_TO_CANCEL")])])
    r = run(order([c_item(1, "SKU-A", 1, shipped=1)]), [shipment({1: 1}, [ups(T1)])], wm)
    kinds = {d.kind for d in r.differences}
    assert "commerce_shipment_not_on_walmart" in kinds
    d = next(d for d in r.differences if d.kind == "commerce_shipment_not_on_walmart")
    assert d.command is None
    assert "by hand" in d.repair


# ------------------------------------------------------------------ pending


def test_channel_manager_mode_young_shipment_is_pending_then_diverged() -> None:
    o = order([c_item(1, "SKU-A", 1, shipped=1)])
    wm = worder([wline(1, "SKU-A", [status("Acknowledged", 1)])])
    young = shipment({1: 1}, [ups(T1)], created_at=commerce_time(NOW - 60))
    r = run(o, [young], wm, cm=True)
    assert r.verdict == "pending"
    assert any("Channel Manager" in p for p in r.pending_reasons)
    assert r.commands == []  # nothing to repair while pending
    old = shipment({1: 1}, [ups(T1)], created_at=commerce_time(NOW - CHANNEL_MANAGER_WINDOW - 1))
    r = run(o, [old], wm, cm=True)
    assert r.verdict == "diverged"
    assert r.commands == ["wmsync ship 000000007 --via direct"]
    # the same young shipment in direct mode: nothing will push it
    assert run(o, [young], wm, cm=False).verdict == "diverged"


def test_a_pending_journal_operation_within_its_window_makes_it_pending() -> None:
    o = order([c_item(1, "SKU-A", 1, shipped=1)])
    wm = worder([wline(1, "SKU-A", [status("Acknowledged", 1)])])
    ship_op = op("ship", "pending", deadline=NOW + 100, params={"tracking_number": T1}, cids=["cid-1"])
    r = run(o, [shipment({1: 1}, [ups(T1)])], wm, [ship_op])
    assert r.verdict == "pending"
    assert r.pending_reasons
    assert "ship" in r.pending_reasons[0]
    late = op("ship", "pending", deadline=NOW - 1, params={"tracking_number": T1})
    assert run(o, [shipment({1: 1}, [ups(T1)])], wm, [late]).verdict == "diverged"
    # an open operation for another tracking number does not cover this difference
    other = op("ship", "pending", deadline=NOW + 100, params={"tracking_number": T2})
    assert run(o, [shipment({1: 1}, [ups(T1)])], wm, [other]).verdict == "diverged"


def test_a_pending_operation_with_nothing_left_to_differ_is_in_sync() -> None:
    o = order([c_item(1, "SKU-A", 1, shipped=1)])
    wm = worder([wline(1, "SKU-A", [status("Shipped", 1, T1)])])
    r = run(o, [shipment({1: 1}, [ups(T1)])], wm, [op("ship", "pending", deadline=NOW + 100)])
    assert r.verdict == "in_sync"


# ------------------------------------------------------------------ Walmart shipment not in Commerce


def test_walmart_shipment_without_commerce_shipment_suggests_recording_it() -> None:
    wm = worder([wline(1, "SKU-A", [status("Shipped", 1, FEDEX, carrier="FedEx")]),
                 wline(2, "SKU-A", [status("Acknowledged", 1)])])
    r = run(order([c_item(1, "SKU-A", 2)]), [], wm)
    assert r.verdict == "diverged"
    [d] = r.differences
    assert d.kind == "walmart_shipment_not_in_commerce"
    assert d.what == f"Walmart line 1 shipped 1 × SKU-A with FedEx {FEDEX}; no Commerce shipment has it"
    assert d.command == f"wmsync ship 000000007 --carrier FedEx --tracking {FEDEX} --item SKU-A=1"
    assert "posts nothing to Walmart" in d.repair


def test_walmart_shipment_on_a_cancelled_commerce_order_is_fixed_by_hand() -> None:
    wm = worder([wline(1, "SKU-A", [status("Shipped", 1, T1)])])
    r = run(order([c_item(1, "SKU-A", 1, qty_canceled=1)], state="canceled"), [], wm)
    d = next(d for d in r.differences if d.kind == "walmart_shipment_not_in_commerce")
    assert d.command is None
    assert "by hand in Commerce" in d.repair


def test_carrier_names_with_spaces_are_quoted_for_the_shell() -> None:
    wm = worder([wline(1, "SKU-A", [status("Shipped", 1, "ABC123456789", carrier="Pitney Bowes")])])
    r = run(order([c_item(1, "SKU-A", 1)]), [], wm)
    [d] = r.differences
    assert d.command is not None
    assert "--carrier 'Pitney Bowes' --tracking ABC123456789" in d.command


def test_different_tracking_numbers_on_the_two_sides_are_diverged_and_fixed_by_hand() -> None:
    r = run(order([c_item(1, "SKU-A", 1, shipped=1)]), [shipment({1: 1}, [ups(T1)])],
            worder([wline(1, "SKU-A", [status("Shipped", 1, T2)])]))
    assert r.verdict == "diverged"
    assert {d.kind for d in r.differences} == {"commerce_shipment_not_on_walmart", "walmart_shipment_not_in_commerce"}
    assert all(d.command is None for d in r.differences)
    assert any(T2 in d.what and T1 not in d.what for d in r.differences)


# ------------------------------------------------------------------ cancellations


def test_cancelled_on_both_sides_is_in_sync() -> None:
    wm = worder([wline(1, "SKU-A", [status("Cancelled", 1, reason="SELLER_CANCEL_OUT_OF_STOCK")])])
    r = run(order([c_item(1, "SKU-A", 1, qty_canceled=1)], state="canceled"), [], wm)
    assert r.verdict == "in_sync", r.differences
    assert r.lines[0].commerce_cancelled == 1


def test_walmart_cancelled_whole_order_while_commerce_open_suggests_the_cancel_command() -> None:
    wm = worder([wline(1, "SKU-A", [status("Cancelled", 1, reason="CUSTOMER_REQUESTED_SELLER_TO_CANCEL")])])
    r = run(order([c_item(1, "SKU-A", 1)]), [], wm)
    assert r.verdict == "diverged"
    [d] = r.differences
    assert d.what == ("Walmart line 1 cancelled 1 × SKU-A (CUSTOMER_REQUESTED_SELLER_TO_CANCEL); Commerce shows 0 "
                      "cancelled")
    assert d.command == "wmsync cancel 000000007 --reason CUSTOMER_REQUESTED_SELLER_TO_CANCEL"


def test_walmart_cancel_of_an_invoiced_order_says_why_commerce_will_not() -> None:
    wm = worder([wline(1, "SKU-A", [status("Cancelled", 1, reason="SELLER_CANCEL_OUT_OF_STOCK")])])
    r = run(order([c_item(1, "SKU-A", 1, qty_invoiced=1)]), [], wm)
    [d] = r.differences
    assert d.command is None
    assert "invoiced" in d.repair


def test_partial_cancel_recorded_by_wmsync_is_in_sync_with_a_note() -> None:
    wm = worder([wline(1, "SKU-A", [status("Cancelled", 1, reason="SELLER_CANCEL_OUT_OF_STOCK")]),
                 wline(2, "SKU-A", [status("Acknowledged", 1)]), wline(3, "SKU-B", [status("Acknowledged", 1)])])
    items = [c_item(1, "SKU-A", 2), c_item(2, "SKU-B", 1)]
    comment = (f"Walmart PO {PO}: cancelled 1 × SKU-A with reason SELLER_CANCEL_OUT_OF_STOCK. "
               f"[wmsync cancel:{PO}:0123456789abcdef]")
    r = run(order(items, comments=[comment]), [], wm)
    assert r.verdict == "in_sync", r.differences
    assert any("wmsync recorded it" in n and "1 × SKU-A" in n for n in r.notes)
    # without the comment it is a difference Commerce has to fix by hand
    r = run(order(items), [], wm)
    assert r.verdict == "diverged"
    [d] = r.differences
    assert d.kind == "walmart_cancel_not_in_commerce"
    assert d.command is None
    assert "credit memo" in d.repair
    # a comment for fewer units than Walmart cancelled does not cover it
    wm2 = worder([wline(1, "SKU-A", [status("Cancelled", 2, reason="SELLER_CANCEL_OUT_OF_STOCK")]),
                  wline(3, "SKU-B", [status("Acknowledged", 1)])])
    assert run(order(items, comments=[comment]), [], wm2).verdict == "diverged"


def test_another_pos_marker_does_not_count() -> None:
    wm = worder([wline(1, "SKU-A", [status("Cancelled", 1, reason="SELLER_CANCEL_OUT_OF_STOCK")]),
                 wline(2, "SKU-A", [status("Acknowledged", 1)])])
    comment = "Walmart PO 999: cancelled 1 × SKU-A with reason X. [wmsync cancel:999:0123456789abcdef]"
    assert run(order([c_item(1, "SKU-A", 2)], comments=[comment]), [], wm).verdict == "diverged"


def test_commerce_cancelled_order_with_open_walmart_lines_suggests_cancel_with_the_recorded_reason() -> None:
    wm = worder([wline(1, "SKU-A", [status("Acknowledged", 1)])])
    o = order([c_item(1, "SKU-A", 1, qty_canceled=1)], state="canceled",
              comments=["Order canceled. Reason: SELLER_CANCEL_PRICING_ERROR"])
    r = run(o, [], wm)
    assert r.verdict == "diverged"
    [d] = r.differences
    assert d.what == "the Commerce order is canceled; Walmart line 1 still Acknowledged"
    assert d.command == "wmsync cancel 000000007 --reason SELLER_CANCEL_PRICING_ERROR"
    # no reason recorded: no runnable command, the operator picks one
    r = run(order([c_item(1, "SKU-A", 1)], state="canceled"), [], wm)
    [d] = r.differences
    assert d.command is None
    assert "--reason <reason>" in d.repair
    assert "--list-reasons" in d.repair


def test_commerce_cancel_in_channel_manager_mode_is_pending_while_young() -> None:
    wm = worder([wline(1, "SKU-A", [status("Acknowledged", 1)])])
    o = order([c_item(1, "SKU-A", 1)], state="canceled", updated_at=commerce_time(NOW - 30))
    assert run(o, [], wm, cm=True).verdict == "pending"
    assert run(o, [], wm, cm=False).verdict == "diverged"


# ------------------------------------------------------------------ other differences, risk, history


def test_sku_and_quantity_mismatches_are_reported() -> None:
    wm = worder([wline(1, "SKU-A", [status("Acknowledged", 1)]), wline(2, "SKU-C", [status("Acknowledged", 1)])])
    r = run(order([c_item(1, "SKU-A", 2), c_item(2, "SKU-B", 1)]), [], wm)
    assert {d.kind for d in r.differences} == {
        "quantity_mismatch", "commerce_item_not_on_walmart", "walmart_line_not_in_commerce"}
    assert r.verdict == "diverged"


def test_shipment_without_tracking_number_is_a_difference() -> None:
    r = run(order([c_item(1, "SKU-A", 1, shipped=1)]), [shipment({1: 1}, [])],
            worder([wline(1, "SKU-A", [status("Acknowledged", 1)])]))
    [d] = r.differences
    assert d.kind == "commerce_shipment_without_tracking"
    assert "add the tracking number" in d.repair


def test_auto_cancel_rule() -> None:
    day = 86_400
    est_ms = int((NOW - 1 * day) * 1000)
    wm = worder([wline(1, "SKU-A", [status("Acknowledged", 1)])], est_ship_ms=est_ms)
    risk = auto_cancel_risk(wm, NOW)
    assert risk is not None
    assert risk.level == "at_risk"
    assert risk.auto_cancel_at == datetime.fromtimestamp(est_ms / 1000 + 4 * day, tz=UTC)
    assert auto_cancel_risk(wm, NOW - 2 * day) is None  # before the estimated ship date
    risk = auto_cancel_risk(wm, NOW + 2.5 * day)  # 3.5 days late: within a day of +4
    assert risk is not None
    assert risk.level == "auto_cancel_imminent"
    shipped = worder([wline(1, "SKU-A", [status("Shipped", 1, T1)])], est_ship_ms=est_ms)
    assert auto_cancel_risk(shipped, NOW + 3 * day) is None
    r = run(order([c_item(1, "SKU-A", 1)]), [], wm)
    assert r.to_json()["risk"]["level"] == "at_risk"
    assert any(n.startswith("at risk") for n in r.notes)


def test_history_is_newest_first_with_rfc3339_times() -> None:
    ops = [op("ship", "confirmed", created=NOW - 100, cids=["a"]),
           op("cancel", "failed", created=NOW - 10, error_code="INVALID_REQUEST_CONTENT.GMP_ORDER_API", cids=["b"])]
    r = run(order([c_item(1, "SKU-A", 1)]), [], worder([wline(1, "SKU-A", [status("Acknowledged", 1)])]), ops)
    h = r.to_json()["history"]
    assert [e["kind"] for e in h] == ["cancel", "ship"]
    assert h[0]["error_code"] == "INVALID_REQUEST_CONTENT.GMP_ORDER_API"
    assert h[0]["correlation_ids"] == ["b"]
    assert h[0]["created_at"] == datetime.fromtimestamp(NOW - 10, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_unfinished_operation_is_noted() -> None:
    r = run(order([c_item(1, "SKU-A", 1)]), [], worder([wline(1, "SKU-A", [status("Acknowledged", 1)])]),
            [op("ship", "in_progress")])
    assert any("did not finish" in n for n in r.notes)


def test_a_tracking_number_spelt_otherwise_on_one_side_is_the_same_package() -> None:
    o = order([c_item(1, "SKU-A", 1, shipped=1)])
    sh = shipment({1: 1}, [ups("1zw1 x2y3 0390 0100 06")])
    wm = worder([wline(1, "SKU-A", [status("Shipped", 1, "1ZW1X2Y30390010006")])])
    r = run(o, [sh], wm)
    assert r.verdict == "in_sync", r.differences
