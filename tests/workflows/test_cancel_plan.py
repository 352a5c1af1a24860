"""The cancel planner as plain function calls."""

from __future__ import annotations

from typing import Any

import pytest

from builders import PO, c_item, c_order, w_line, w_order
from wmsync.errors import RefusedError, UsageError
from wmsync.workflows.cancel import CancelRequest, plan


def cancel_line(number: int, sku: str, qty: int = 1) -> dict[str, Any]:
    line = w_line(number, sku, qty)
    line["orderLineStatuses"]["orderLineStatus"] = [
        {"status": "Cancelled", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(qty)},
         "cancellationReason": "SELLER_CANCEL_OUT_OF_STOCK"}]
    return line


def run(order: Any, wm: Any, *, baseline: dict[str, int] | None = None, present: bool = False, **kw: Any):  # type: ignore[no-untyped-def]
    args: dict[str, Any] = {"order": "000000007", "reason": "out-of-stock"}
    args.update(kw)
    return plan(order, PO, wm, CancelRequest(**args), baseline=baseline, comment_present=present)


def test_whole_order_cancels_every_open_line_and_commerce() -> None:
    p = run(c_order([c_item(1, "A", 2), c_item(2, "B", 1)]), w_order([w_line(1, "A"), w_line(2, "A"),
                                                                      w_line(3, "B")]))
    lines = p.walmart_body["orderCancellation"]["orderLines"]["orderLine"]  # type: ignore[index]
    assert [ln["lineNumber"] for ln in lines] == ["1", "2", "3"]
    status = lines[0]["orderLineStatuses"]["orderLineStatus"][0]
    assert status == {"status": "Cancelled", "cancellationReason": "SELLER_CANCEL_OUT_OF_STOCK",
                      "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"}}
    assert p.commerce_cancel is True
    assert p.comment is not None
    assert "SELLER_CANCEL_OUT_OF_STOCK" in p.comment
    assert p.marker in p.comment
    assert any("out of stock" in w for w in p.warnings)


def test_partial_on_split_lines() -> None:
    p = run(c_order([c_item(1, "A", 3)]), w_order([w_line(1, "A"), w_line(2, "A"), w_line(3, "A")]),
            items={"A": 2})
    lines = p.walmart_body["orderCancellation"]["orderLines"]["orderLine"]  # type: ignore[index]
    assert [ln["lineNumber"] for ln in lines] == ["1", "2"]
    assert p.commerce_cancel is False
    assert any("2 × A" in todo for todo in p.commerce_todo)


def test_partial_rerun_after_walmart_done_only_adds_comment_once() -> None:
    wm = w_order([cancel_line(1, "A"), cancel_line(2, "A"), w_line(3, "A")])
    p = run(c_order([c_item(1, "A", 3)]), wm, items={"A": 2}, baseline={})
    assert p.walmart_body is None
    assert p.comment is not None
    p2 = run(c_order([c_item(1, "A", 3)]), wm, items={"A": 2}, baseline={}, present=True)
    assert p2.nothing_to_do


def test_already_cancelled_is_nothing_to_do() -> None:
    p = run(c_order([c_item(1, "A", 1)], state="canceled"), w_order([cancel_line(1, "A")]))
    assert p.nothing_to_do


def test_fully_invoiced_refused_before_sending() -> None:
    with pytest.raises(RefusedError, match="credit memo"):
        run(c_order([c_item(1, "A", 1, qty_invoiced=1)]), w_order([w_line(1, "A")]))
    p = run(c_order([c_item(1, "A", 1, qty_invoiced=1)]), w_order([w_line(1, "A")]), walmart_only=True)
    assert p.walmart_body is not None
    assert p.commerce_cancel is False


@pytest.mark.parametrize("state", ["holded", "payment_review", "complete"])
def test_commerce_states_that_refuse(state: str) -> None:
    with pytest.raises(RefusedError):
        run(c_order([c_item(1, "A", 1)], state=state), w_order([w_line(1, "A")]))


def test_shipped_line_refused_pointing_to_refund() -> None:
    order = c_order([c_item(1, "A", 1, shipped=1)])
    wm = w_order([w_line(1, "A", shipped=1, tracking="1Z999AA10123456784")])
    with pytest.raises(RefusedError, match="refund"):
        run(order, wm, walmart_only=True)
    with pytest.raises(RefusedError, match="refund"):
        run(order, wm, items={"A": 1})


def test_customer_request_needs_intent_or_confirmation() -> None:
    order = c_order([c_item(1, "A", 1)])
    with pytest.raises(RefusedError, match="customer has not asked"):
        run(order, w_order([w_line(1, "A")]), reason="customer-request")
    assert run(order, w_order([w_line(1, "A", intent="Yes")]), reason="customer-request").walmart_body
    assert run(order, w_order([w_line(1, "A")]), reason="customer-request", confirm_customer_request=True).walmart_body


def test_unknown_reason_and_sku() -> None:
    order = c_order([c_item(1, "A", 1)])
    with pytest.raises(UsageError, match="not one Walmart accepts"):
        run(order, w_order([w_line(1, "A")]), reason="because")
    with pytest.raises(UsageError, match="not on order"):
        run(order, w_order([w_line(1, "A")]), items={"Z": 1})


@pytest.mark.parametrize("base", [{"A,B": 1, "C": 0}, {"X}Y": 2}, {"A": 0, "Z,A": 4}, {}, {"SKU=1": 3}])
def test_baseline_in_the_comment_reads_back_exactly(base: dict[str, int]) -> None:
    from wmsync.workflows import cancel_note

    note = cancel_note.CancelNote("1", "abc", "R", {"A": 1}, base)
    assert cancel_note.baseline_of([cancel_note.format_comment(note)], note.marker) == base
