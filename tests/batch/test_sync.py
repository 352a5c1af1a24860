"""``wmsync sync`` end to end on the in-process sandbox."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.batch.conftest import Commerce, po_of, walmart_ship_posts, write, writes

from wmsync.cli.common import Runtime
from wmsync.clock import SYSTEM
from wmsync.sandbox import Sandbox
from wmsync.workflows import sync as wf
from wmsync.workflows.context import Context, Settings

FEDEX = [f"70000000{i:04d}" for i in range(10)]


def sync(cli: Any, *args: str) -> Any:
    return cli("sync", "--store", "sandbox", "--json", *args)


def orders(doc: Any) -> dict[str, Any]:
    return {o["order"]: o for o in doc["orders"]}


def test_sync_pushes_what_walmart_lacks_reports_the_rest_and_a_second_run_sends_nothing(
        cli: Any, sandbox: Sandbox, commerce: Commerce) -> None:
    commerce.ship_all("000000103", FEDEX[0])  # a warehouse system shipped it in Commerce
    sandbox.clear_request_log()
    r = sync(cli)
    assert r.exit_code == 8, r  # two seed orders disagree in ways sync must not fix
    doc = r.json()
    got = orders(doc)
    po103 = po_of(sandbox, "000000103")
    po117 = po_of(sandbox, "000000117")
    assert [(a["action"], a["result"]) for a in got["000000103"]["actions"]] == [("ship", "confirmed")]
    assert [(a["action"], a["result"]) for a in got["000000117"]["actions"]] == [("ship", "confirmed")]
    assert got["000000103"]["verdict"] == got["000000117"]["verdict"] == "in_sync"
    assert got["000000116"]["verdict"] == "diverged"
    assert [d["kind"] for d in got["000000116"]["differences"]] == ["walmart_shipment_not_in_commerce"]
    assert [d["kind"] for d in got["000000122"]["differences"]] == ["walmart_cancel_not_in_commerce"]
    assert set(got) == {"000000103", "000000116", "000000117", "000000122"}
    assert sorted(writes(sandbox)) == sorted([f"POST /v3/orders/{po103}/shipping",
                                              f"POST /v3/orders/{po117}/shipping"])
    assert walmart_ship_posts(sandbox, FEDEX[0]) == 1
    # the orders were read in bulk: no search per order (one page of the listing, one of the Walmart changes)
    searches = [e for e in sandbox.request_log() if e.method == "GET" and e.path.endswith("/V1/orders")]
    assert len(searches) == 2, [e.query for e in searches]
    assert doc["summary"]["shipped"] == 2
    assert doc["summary"]["diverged"] == 2
    assert sorted(doc["outstanding"]) == sorted([po_of(sandbox, o)
                                                 for o in ("000000116", "000000122")])
    assert doc["next_since"] == doc["until"]

    sandbox.clear_request_log()
    r2 = sync(cli)
    assert r2.exit_code == 8, r2  # still reported: nothing was done about them
    assert writes(sandbox) == []
    assert all(not o["actions"] for o in r2.json()["orders"])
    assert set(orders(r2.json())) == {"000000116", "000000122"}


def test_sync_after_a_file_run_finds_its_shipments_done(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", f"order,carrier,tracking\n000000101,FedEx,{FEDEX[1]}\n"
                                    f"000000124,FedEx,{FEDEX[2]}\n")
    assert cli("ship", "--from-file", str(path), "--store", "sandbox").exit_code == 0
    sandbox.clear_request_log()
    r = sync(cli)
    got = orders(r.json())
    assert "000000101" not in got
    assert "000000124" not in got
    assert all(w.endswith("/v3/orders/" + po_of(sandbox, "000000117") + "/shipping")
               for w in writes(sandbox))


def test_dry_run_sends_nothing_and_keeps_the_window(cli: Any, sandbox: Sandbox) -> None:
    r = sync(cli, "--dry-run")
    assert r.exit_code == 8, r
    assert [(a["action"], a["result"]) for a in orders(r.json())["000000117"]["actions"]] == [("ship", "dry_run")]
    assert r.json()["next_since"] is None
    assert writes(sandbox) == []
    r2 = sync(cli)
    assert [(a["action"], a["result"]) for a in orders(r2.json())["000000117"]["actions"]] == [("ship", "confirmed")]


def test_since_is_checked(cli: Any) -> None:
    r = cli("sync", "--store", "sandbox", "--since", "yesterday")
    assert r.exit_code == 2
    assert "--since 'yesterday'" in r.stderr


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    rt = Runtime.create("sandbox")
    yield rt
    rt.close()


QUICK = Settings(timeout=5, poll_initial=0.01, poll_max=0.05, unknown_grace=0.3, resend_quiet=0)


def _deps(rt: Runtime, **store: Any) -> Context:
    st = rt.store()
    return Context(st.name, st.config.model_copy(update=store), rt.commerce(), rt.walmart(), rt.journal(), SYSTEM,
                   QUICK)


FAST = wf.SyncOptions(workers=3)


def test_commerce_cancellation_is_pushed_only_with_a_default_reason(cli: Any, sandbox: Sandbox, commerce: Commerce,
                                                                    runtime: Runtime) -> None:
    commerce.cancel("000000127")
    po = po_of(sandbox, "000000127")
    sandbox.clear_request_log()
    r = sync(cli)
    got = orders(r.json())["000000127"]
    assert got["verdict"] == "diverged"
    assert got["actions"] == []
    assert "default_cancel_reason" in got["differences"][0]["repair"]
    assert not any("/cancel" in w for w in writes(sandbox))

    report = wf.run_sync(_deps(runtime, default_cancel_reason="SELLER_CANCEL_OUT_OF_STOCK"), FAST)
    res = {o.order: o for o in report.results}["000000127"]
    assert [(a["action"], a["result"]) for a in res.actions] == [("cancel", "confirmed")]
    assert res.verdict == "in_sync"
    assert [w for w in writes(sandbox) if "/cancel" in w] == [f"POST /v3/orders/{po}/cancel"]
    wm = sandbox.walmart_order(po)
    assert wm is not None
    statuses = [s for line in wm["orderLines"]["orderLine"]
                for s in line["orderLineStatuses"]["orderLineStatus"]]
    assert [(s["status"], s.get("cancellationReason")) for s in statuses] == [
        ("Cancelled", "SELLER_CANCEL_OUT_OF_STOCK")]
    sandbox.clear_request_log()
    again = wf.run_sync(_deps(runtime, default_cancel_reason="SELLER_CANCEL_OUT_OF_STOCK"), FAST)
    assert writes(sandbox) == []
    assert "000000127" not in {o.order for o in again.results}


def test_two_concurrent_syncs_send_each_shipment_once(sandbox: Sandbox, commerce: Commerce) -> None:
    shipped = ["000000101", "000000103", "000000119", "000000124", "000000126", "000000128"]
    for order, tracking in zip(shipped, FEDEX, strict=False):
        commerce.ship_all(order, tracking)
    sandbox.update_settings(latency_ms=20)  # both runs meet on the same orders
    reports: list[wf.SyncReport] = []

    def one() -> None:
        rt = Runtime.create("sandbox")
        try:
            reports.append(wf.run_sync(_deps(rt), wf.SyncOptions(workers=3, lock_timeout=30)))
        finally:
            rt.close()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(reports) == 2
    for tracking in FEDEX[: len(shipped)]:
        assert walmart_ship_posts(sandbox, tracking) == 1, tracking
    results = [{o.order: [a["result"] for a in o.actions] for o in rep.results} for rep in reports]
    for order in shipped:
        seen = sorted(r for res in results for r in res.get(order, []))
        assert seen.count("confirmed") == 1, (order, results)


def test_commerce_is_read_while_walmart_s_changes_are_listed(sandbox: Sandbox, runtime: Runtime,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The first Commerce page (and its shipments) is read on its own thread while the Walmart listing is read,
    not after it: the work starts one listing's round trips sooner."""
    ctx = _deps(runtime)
    searched = threading.Event()
    search = ctx.commerce.search_orders

    def search_orders(*args: Any, **kwargs: Any) -> Any:
        searched.set()
        return search(*args, **kwargs)

    monkeypatch.setattr(ctx.commerce, "search_orders", search_orders)
    listing = wf.walmart_changes
    overlapped: list[bool] = []

    def walmart_changes(*args: Any, **kwargs: Any) -> Any:
        overlapped.append(searched.wait(5))  # the Walmart listing is slow: is Commerce being read meanwhile?
        return listing(*args, **kwargs)

    monkeypatch.setattr(wf, "walmart_changes", walmart_changes)
    report = wf.run_sync(ctx, FAST)
    assert overlapped == [True]
    assert report.checked > 0
