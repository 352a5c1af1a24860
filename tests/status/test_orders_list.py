"""``wmsync orders list`` against the sandbox: which orders, in which order, filters, streaming, batched
Walmart reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from status.conftest import Sides
from wmsync.sandbox import Sandbox
from wmsync.sandbox.seed import FIXED_ORDERS

#: the seller-fulfilled ones (000000131 is WFS, 000000132 3PL: left out by default)
WALMART_SEEDED = [f"{i:09d}" for i, has_po, _ in FIXED_ORDERS if has_po and i not in (131, 132)]


def rows(cli, *args: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = cli("orders", "list", "--store", "sandbox", "--json", "--limit", "0", *args)
    assert r.exit_code == 0, r
    doc = json.loads(r.stdout)
    assert isinstance(doc, list)
    return doc


def test_lists_walmart_orders_newest_first_and_never_other_channels(cli) -> None:  # type: ignore[no-untyped-def]
    got = rows(cli)
    numbers = [r["order"] for r in got]
    # newest first: 000000133-000000135 were placed before 000000101 (SEED.md)
    later = ("000000133", "000000134", "000000135")
    assert numbers == [*sorted((n for n in WALMART_SEEDED if n not in later), reverse=True), *later]
    assert "000000111" not in numbers  # web store order, no PO
    assert "000000112" not in numbers  # another channel's number in the PO field
    assert "000000120" not in numbers  # PO-like number Walmart does not know
    created = [r["created_at"] for r in got]
    assert created == sorted(created, reverse=True)
    by = {r["order"]: r for r in got}
    assert by["000000107"]["walmart_status"] == "Shipped"
    assert by["000000110"]["walmart_status"] == "Partially Shipped"
    assert by["000000102"]["walmart_status"] == "Created"
    assert by["000000108"]["walmart_status"] == "Cancelled"
    assert by["000000117"]["verdict"] == "diverged"
    assert by["000000117"]["differences"]
    assert by["000000117"]["repair_commands"] == ["wmsync ship 000000117"]
    assert by["000000101"]["verdict"] == "in_sync"
    assert set(by["000000101"]) >= {"order", "purchase_order_id", "walmart_status", "verdict",
                                    "estimated_ship_date", "risk"}


@pytest.mark.parametrize(("status", "expected"), [
    ("diverged", {"000000116", "000000117", "000000122"}),
    ("shipped", {"000000107", "000000116"}),
    ("cancelled", {"000000108", "000000122"}),
    ("partially-shipped", {"000000110", "000000114"}),
])
def test_status_filter(cli, status: str, expected: set[str]) -> None:  # type: ignore[no-untyped-def]
    assert {r["order"] for r in rows(cli, "--status", status)} == expected


def test_awaiting_shipment_are_the_open_unshipped_ones(cli) -> None:  # type: ignore[no-untyped-def]
    got = rows(cli, "--status", "awaiting-shipment")
    assert {r["walmart_status"] for r in got} == {"Created", "Acknowledged"}
    assert "000000101" in {r["order"] for r in got}
    assert "000000110" not in {r["order"] for r in got}


def test_limit_and_since(cli, sb: Sandbox) -> None:  # type: ignore[no-untyped-def]
    assert [r["order"] for r in rows(cli, "--limit", "3")] == ["000000130", "000000129", "000000128"]
    # seeded orders are 35 to 50 hours old, one every 30 minutes: 000000130 is 35 h old
    newest = rows(cli, "--since", "35h45m")
    assert [r["order"] for r in newest] == ["000000130", "000000129"]
    created = datetime.fromisoformat(newest[-1]["created_at"].replace("Z", "+00:00"))
    day = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [r["order"] for r in rows(cli, "--since", day)][-1] == newest[-1]["order"]
    assert rows(cli, "--since", "1h") == []


def test_bad_options_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("orders", "list", "--store", "sandbox", "--since", "yesterday")
    assert r.exit_code == 2
    assert "--since" in r.stderr
    assert cli("orders", "list", "--store", "sandbox", "--status", "open").exit_code == 2


def test_jsonl_and_human_output(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("orders", "list", "--store", "sandbox", "--jsonl", "--limit", "5")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 5
    assert [json.loads(x)["order"] for x in lines] == ["000000130", "000000129", "000000128", "000000127",
                                                        "000000126"]
    r = cli("orders", "list", "--store", "sandbox", "--status", "diverged")
    assert r.exit_code == 0
    out = r.stdout.splitlines()
    assert out[0].split()[:2] == ["ORDER", "WALMART"]
    assert [ln.split()[0] for ln in out[1:]] == ["000000122", "000000117", "000000116"]
    assert all("diverged" in ln for ln in out[1:])
    assert "3 diverged orders shown" in r.stderr


def test_empty_json_list_is_valid(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("orders", "list", "--store", "sandbox", "--json", "--since", "1m")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == []


def test_walmart_orders_are_read_in_batches(cli, sb: Sandbox) -> None:  # type: ignore[no-untyped-def]
    sb.clear_request_log()
    assert len(rows(cli)) == len(WALMART_SEEDED)
    log = sb.request_log()
    walmart = [e for e in log if e.service == "walmart" and e.operation != "walmart.token"]
    one_by_one = [e for e in walmart if e.operation == "walmart.get"]
    # one list call covers the seller-fulfilled orders of the page; with three POs left (000000120, which Walmart
    # does not know, the WFS 000000131 and the 3PL 000000132) a listing of WFS orders follows; the two left are
    # looked up alone
    lists = [e.query for e in walmart if e.operation == "walmart.list"]
    assert ["shipNodeType=WFSFulfilled" in q for q in lists] == [False, True]
    assert len(walmart) - len(one_by_one) == 2
    assert len(one_by_one) == 2


def test_a_divergence_made_behind_wmsyncs_back_shows_in_the_list(cli, sides: Sides) -> None:  # type: ignore[no-untyped-def]
    sides.commerce_ship("000000130", [("WM-PAN-007", 1)], "1Z999AA10123451001")
    [row] = rows(cli, "--limit", "1")
    assert row["order"] == "000000130"
    assert row["verdict"] == "diverged"


def test_rows_stream_before_the_last_page_is_read(sb: Sandbox) -> None:
    """The first row is produced after one Commerce page; memory holds one page at a time."""
    from wmsync.cli.common import Runtime
    from wmsync.clock import SYSTEM
    from wmsync.workflows import status as wf
    from wmsync.workflows.context import Context

    sb.reset(orders=250, seed=3)
    rt = Runtime.create("sandbox")
    try:
        st = rt.store()
        deps = Context(st.name, st.config, rt.commerce(), rt.walmart(), rt.journal(), SYSTEM)
        sb.clear_request_log()
        stream = wf.list_orders(deps, since=None, page_size=50)
        first = next(stream)
        pages = [e for e in sb.request_log() if e.operation == "commerce.list_orders"]
        assert len(pages) == 1
        rest = list(stream)
        pages = [e for e in sb.request_log() if e.operation == "commerce.list_orders"]
        assert len(pages) >= 5
        assert len(rest) > 200
        assert all(r["created_at"] <= first["created_at"] for r in rest)
    finally:
        rt.close()


def test_listing_pages_commerce_by_key_not_by_offset(sb: Sandbox) -> None:
    """Every Commerce page is page 1 of the orders before the last one seen (entity_id < last): no OFFSET."""
    from urllib.parse import parse_qsl

    from wmsync.cli.common import Runtime
    from wmsync.clock import SYSTEM
    from wmsync.workflows import status as wf
    from wmsync.workflows.context import Context

    sb.reset(orders=250, seed=3)
    rt = Runtime.create("sandbox")
    try:
        st = rt.store()
        deps = Context(st.name, st.config, rt.commerce(), rt.walmart(), rt.journal(), SYSTEM)
        sb.clear_request_log()
        got = list(wf.list_orders(deps, since=None, page_size=50))
        pages = [dict(parse_qsl(e.query)) for e in sb.request_log() if e.operation == "commerce.list_orders"]
    finally:
        rt.close()
    assert len(pages) >= 5
    assert {p["searchCriteria[currentPage]"] for p in pages} == {"1"}
    keys = [p.get("searchCriteria[filter_groups][1][filters][0][value]") for p in pages]
    assert keys[0] is None
    assert all(k is not None for k in keys[1:])
    for p in pages[1:]:  # created_at <= last and (created_at < last or entity_id < last)
        assert p["searchCriteria[filter_groups][1][filters][0][field]"] == "created_at"
        assert p["searchCriteria[filter_groups][1][filters][0][condition_type]"] == "lteq"
        assert p["searchCriteria[filter_groups][2][filters][1][field]"] == "entity_id"
        assert p["searchCriteria[filter_groups][2][filters][1][condition_type]"] == "lt"
    created = [r["created_at"] for r in got]
    assert created == sorted(created, reverse=True)
    numbers = [r["order"] for r in got]
    assert len(numbers) == len(set(numbers)) > 200


def test_risk_flags(cli, sb: Sandbox) -> None:  # type: ignore[no-untyped-def]
    # 000000101 is 50 h old with an estimated ship date of +48 h: just past it, so at risk
    by = {r["order"]: r for r in rows(cli)}
    assert by["000000101"]["risk"] == "at_risk"
    est = datetime.fromisoformat(by["000000101"]["estimated_ship_date"].replace("Z", "+00:00"))
    assert est < datetime.now(UTC)
    assert by["000000130"]["risk"] is None
    assert by["000000107"]["risk"] is None  # shipped: nothing open
