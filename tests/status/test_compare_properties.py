"""Properties of ``compare``: any pair of orders built to agree is in sync; taking one shipped unit away from
Walmart, or one tracking number away from Commerce, makes it diverged with a difference naming that SKU."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from status.data import NOW, T1, T2, T3, c_item, order, shipment, status, wline, worder
from wmsync.workflows.status import compare

SKUS = ["SKU-A", "SKU-B", "SKU-C"]
OUTCOMES = ["open", T1, T2, T3, "cancelled"]


@st.composite
def agreeing(draw: st.DrawFn) -> dict[str, Any]:
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=3, unique=True))
    units = {s: draw(st.lists(st.sampled_from(OUTCOMES), min_size=1, max_size=4)) for s in skus}
    split = draw(st.booleans())
    return {"units": units, "split": split}


def build(units: dict[str, list[str]], split: bool, *, drop_walmart: tuple[str, str] | None = None,
          drop_commerce: tuple[str, str] | None = None) -> Any:
    items, lines, by_track = [], [], {}
    n = 0
    for i, (sku, outcomes) in enumerate(units.items(), start=1):
        counts = Counter(outcomes)
        shipped = sum(v for k, v in counts.items() if k.startswith("1Z"))
        items.append(c_item(i, sku, len(outcomes), shipped=shipped, qty_canceled=counts["cancelled"]))
        for track, qty in counts.items():
            if track.startswith("1Z") and (sku, track) != drop_commerce:
                by_track.setdefault(track, {})[i] = qty
        wm_outcomes = list(outcomes)
        if drop_walmart and drop_walmart[0] == sku:
            wm_outcomes[wm_outcomes.index(drop_walmart[1])] = "open"
        groups = [[o] for o in wm_outcomes] if split else [wm_outcomes]
        for group in groups:
            n += 1
            statuses = []
            for outcome, qty in Counter(group).items():
                if outcome == "open":
                    statuses.append(status("Acknowledged", qty))
                elif outcome == "cancelled":
                    statuses.append(status("Cancelled", qty, reason="SELLER_CANCEL_OUT_OF_STOCK"))
                else:
                    statuses.append(status("Shipped", qty, outcome))
            lines.append(wline(n, sku, statuses))
    shipments = [shipment(its, [(t, "ups", "UPS")], sid=k) for k, (t, its) in enumerate(sorted(by_track.items()))]
    everything_cancelled = all(o == "cancelled" for outs in units.values() for o in outs)
    return order(items, state="canceled" if everything_cancelled else "processing"), shipments, worder(lines)


@settings(max_examples=150, deadline=None)
@given(agreeing())
def test_agreeing_sides_are_in_sync(case: dict[str, Any]) -> None:
    o, shipments, wm = build(case["units"], case["split"])
    r = compare(o, shipments, wm, [], NOW)
    assert r.verdict == "in_sync", [d.what for d in r.differences]
    for line in r.lines:  # Commerce quantities never exceed the line
        assert line.commerce_shipped + line.commerce_cancelled <= line.quantity
    total = {s: len(v) for s, v in case["units"].items()}
    for sku, qty in total.items():
        assert sum(ln.quantity for ln in r.lines if ln.sku == sku) == qty


@settings(max_examples=150, deadline=None)
@given(agreeing(), st.data())
def test_a_unit_missing_on_either_side_is_diverged(case: dict[str, Any], data: st.DataObject) -> None:
    shipped = [(s, o) for s, outs in case["units"].items() for o in outs if o.startswith("1Z")]
    if not shipped:
        return
    sku, track = data.draw(st.sampled_from(shipped))
    o, shipments, wm = build(case["units"], case["split"], drop_walmart=(sku, track))
    r = compare(o, shipments, wm, [], NOW)
    assert r.verdict == "diverged"
    [d] = r.differences
    assert d.sku == sku
    assert track in d.what
    assert d.command is not None  # Walmart has the open unit: wmsync can send it
    o, shipments, wm = build(case["units"], case["split"], drop_commerce=(sku, track))
    r = compare(o, shipments, wm, [], NOW)
    assert r.verdict == "diverged"
    assert any(d.sku == sku and track in d.what for d in r.differences)
