"""``wmsync returns``: the store's Walmart returns with the Commerce order number, filtered and paged; ``status``
names an open return; ``returns refund`` issues a return's refund when Walmart leaves it to the seller — once,
checked before it is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wmsync.sandbox import BASE_URL, CREDENTIALS, Sandbox


def _writes(sb: Sandbox) -> list[str]:
    return [f"{e.method} {e.path}" for e in sb.request_log() if e.method == "POST" and not e.path.endswith("/token")]


def test_returns_list_with_the_commerce_order_and_filters(cli: Any, sandbox: Sandbox) -> None:
    r = cli("returns", "list", "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    rows = {row["return_order_id"]: row for row in r.json()}  # type: ignore[union-attr]
    assert set(rows) == {"RT0000000107", "RT0000000110", "RT0000000114", "RT0000000116", "RT0000000131"}
    assert rows["RT0000000116"]["order"] == "000000116"
    assert rows["RT0000000116"]["return_tracking"] == ["785611449666"]
    assert rows["RT0000000107"]["refund_by"] == "seller"
    assert rows["RT0000000131"]["refund_by"] == "walmart"
    r = cli("returns", "list", "--store", "sandbox", "--status", "initiated", "--json")
    assert {row["return_order_id"] for row in r.json()} == {"RT0000000116"}  # type: ignore[union-attr]
    r = cli("returns", "list", "--store", "sandbox", "--status", "delivered", "--json")
    assert {row["return_order_id"] for row in r.json()} == {"RT0000000107", "RT0000000131"}  # type: ignore[union-attr]
    r = cli("returns", "list", "--store", "sandbox", "--status", "cancelled", "--json")
    assert [row["return_order_id"] for row in r.json()] == ["RT0000000114"]  # type: ignore[union-attr]
    r = cli("returns", "--store", "sandbox")  # bare: the list
    assert r.exit_code == 0, r
    assert "RT0000000107" in r.stdout


def test_the_listing_follows_walmarts_cursor(sandbox: Sandbox, tmp_path: Path) -> None:
    from wmsync.walmart.client import WalmartClient

    client = WalmartClient(base_url=BASE_URL, client_id=CREDENTIALS["WALMART_CLIENT_ID"],
                           client_secret=CREDENTIALS["WALMART_CLIENT_SECRET"], transport=sandbox.transport(),
                           token_cache_dir=tmp_path)
    try:
        got = [r["returnOrderId"] for r in client.list_returns(limit="2")]
    finally:
        client.close()
    assert len(got) == len(set(got)) == 5
    pages = [e for e in sandbox.request_log() if e.method == "GET" and e.path == "/v3/returns"]
    assert len(pages) == 3


def test_status_names_an_open_return(cli: Any, sandbox: Sandbox) -> None:
    r = cli("status", "000000107", "--store", "sandbox", "--json")
    notes = r.json()["notes"]  # type: ignore[index]
    assert any("RT0000000107" in n and "wmsync returns refund RT0000000107" in n for n in notes), notes


def test_a_return_refund_is_issued_once(cli: Any, sandbox: Sandbox) -> None:
    r = cli("returns", "refund", "RT0000000107", "--store", "sandbox", "--yes", "--json")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "confirmed"  # type: ignore[index]
    sandbox.clear_request_log()
    r = cli("returns", "refund", "RT0000000107", "--store", "sandbox", "--yes", "--json")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "already_done"  # type: ignore[index]
    assert _writes(sandbox) == []


@pytest.mark.parametrize(
    ("return_id", "code", "message"),
    [("RT0000000131", 2, "WFS"), ("RT0000000114", 2, "cancelled"), ("RT0000000116", 2, "return center"),
     ("RT0000000110", 0, "nothing sent"), ("RT9999999999", 2, "no return")],
)
def test_refusals_send_nothing(cli: Any, sandbox: Sandbox, return_id: str, code: int, message: str) -> None:
    r = cli("returns", "refund", return_id, "--store", "sandbox", "--yes")
    assert r.exit_code == code, r
    assert message in r.stderr + r.stdout
    assert _writes(sandbox) == []


def test_a_refund_dropped_after_it_was_applied_is_issued_once(cli: Any, sandbox: Sandbox) -> None:
    sandbox.inject_fault("applied_timeout", method="POST", path_regex=r"^/v3/returns/.*/refund$")
    r = cli("returns", "refund", "RT0000000107", "--store", "sandbox", "--yes", "--json")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "confirmed"  # type: ignore[index]
    posts = [e for e in sandbox.request_log() if e.method == "POST" and "/v3/returns/" in e.path]
    assert len(posts) == 1, posts  # settled by reading the return, never sent again
    sandbox.clear_request_log()
    r = cli("returns", "refund", "RT0000000107", "--store", "sandbox", "--yes", "--json")
    assert r.json()["result"] == "already_done"  # type: ignore[index]
    assert _writes(sandbox) == []
