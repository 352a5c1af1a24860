"""``ship --from-file`` and ``cancel --from-file`` end to end on the in-process sandbox (``--store sandbox``),
reading the outcome from the sandbox's own state and request log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.batch.conftest import order_of, po_of, walmart_ship_posts, write, writes

from wmsync.journal import Journal, default_journal_path
from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"
UPS2 = "1ZW1X2Y30390010015"
FEDEX = "123456789012"
SHIPPED_107 = "1Z999AA10123456784"  # the seed's shipment of 000000107, on both sides

MIXED = f"""order,carrier,tracking
000000101,UPS,{UPS}
000000103,FedEx,{FEDEX}
000000107,UPS,{SHIPPED_107}
000000107,UPS,{UPS2}
000000101,UPS,{UPS}
000000124,Nope,1ZW1X2Y30390010024
000000115,UPS,1ZW1X2Y30390010033
"""


def run_file(cli: Any, path: Path | str, *args: str, stdin: str | None = None) -> Any:
    return cli("ship", "--from-file", str(path), "--store", "sandbox", *args, stdin=stdin)


def by_row(doc: Any) -> dict[int, tuple[str, int]]:
    return {r["row"]: (r["result"], r["exit_code"]) for r in doc["rows"]}


def test_invalid_rows_stop_the_whole_file_before_anything_is_sent(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    r = run_file(cli, write(tmp_path, "mixed.csv", MIXED), "--json")
    assert r.exit_code == 2, r
    assert sandbox.request_log() == []
    doc = r.json()
    assert by_row(doc) == {6: ("invalid", 2), 7: ("invalid", 2)}
    assert [x["error"] for x in doc["rows"]] == [
        "duplicate of line 2",
        "carrier 'Nope' is not on Walmart's carrier list or in the store's [carriers] mapping",
    ]
    assert "line 6: duplicate of line 2" in r.stderr
    assert "line 7: carrier 'Nope'" in r.stderr
    assert "nothing was sent" in r.stderr


def test_mixed_file_with_skip_invalid_has_exact_per_row_results(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.csv", MIXED)
    r = run_file(cli, path, "--json", "--skip-invalid")
    assert r.exit_code == 7, r
    doc = r.json()
    assert by_row(doc) == {
        2: ("confirmed", 0),
        3: ("confirmed", 0),
        4: ("already_done", 0),  # shipped before, with this tracking number, on both sides
        5: ("failed", 2),  # shipped before with another number: nothing left to ship
        6: ("invalid", 2),
        7: ("invalid", 2),
        8: ("failed", 2),  # on hold in Commerce
    }
    rows = {x["row"]: x for x in doc["rows"]}
    assert "nothing is left to ship" in rows[5]["error"]
    assert "on hold" in rows[8]["error"]
    assert rows[2]["purchase_order_id"] == po_of(sandbox, "000000101")
    assert rows[2]["tracking_number"] == UPS
    assert rows[2]["carrier"] == "UPS"
    assert rows[2]["correlation_ids"]
    assert set(rows[2]["correlation_ids"]).isdisjoint(rows[3]["correlation_ids"])
    assert doc["summary"] | {"elapsed_seconds": 0} == {
        "rows": 7, "packages": 5, "confirmed": 2, "already_done": 1, "pending": 0, "dry_run": 0, "failed": 2,
        "skipped": 0, "invalid": 2, "exit_code": 7, "elapsed_seconds": 0}
    assert sorted(writes(sandbox)) == sorted([
        "POST /rest/default/V1/order/1/ship", "POST /v3/orders/103690568988397/shipping",
        "POST /rest/default/V1/order/3/ship", "POST /v3/orders/108587681863651/shipping"])
    assert walmart_ship_posts(sandbox, UPS) == 1
    assert len(sandbox.commerce_shipments_by_tracking()[UPS]) == 1
    assert "2 confirmed, 1 already done, 2 failed, 2 invalid" in r.stderr

    # a re-run sends nothing: done rows come from the journal, the refused ones are refused again
    sandbox.clear_request_log()
    r2 = run_file(cli, path, "--json", "--skip-invalid")
    assert r2.exit_code == 7, r2
    again = by_row(r2.json())
    assert again[2] == again[3] == again[4] == ("already_done", 0)
    assert again[5] == again[8] == ("failed", 2)
    assert {x["row"]: x.get("source") for x in r2.json()["rows"]}[2] == "journal"
    assert writes(sandbox) == []


def test_rerun_of_done_rows_makes_no_request_at_all(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    path = write(tmp_path, "ok.jsonl", "\n".join(json.dumps(x) for x in [
        {"order": "000000101", "carrier": "UPS", "tracking": UPS},
        {"order": "000000118", "carrier": "ups", "tracking": UPS2, "sku": "WM-SOCK-006", "qty": 2},
        {"order": "000000118", "carrier": "ups", "tracking": UPS2, "sku": "WM-BAG-008"},
    ]) + "\n")
    r = run_file(cli, path, "--jsonl")
    assert r.exit_code == 0, r
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert sorted((x["row"], x["result"]) for x in lines) == [(1, "confirmed"), (2, "confirmed"), (3, "confirmed")]
    assert all(set(x) >= {"row", "order", "result", "error", "exit_code"} for x in lines)
    assert walmart_ship_posts(sandbox, UPS2) == 1  # one package for both SKUs
    sandbox.clear_request_log()
    r2 = run_file(cli, path, "--jsonl")
    assert r2.exit_code == 0, r2
    assert [json.loads(x)["result"] for x in r2.stdout.splitlines()] == ["already_done"] * 3
    assert sandbox.request_log() == []  # not even a token or a read


def test_stdin_with_bom_and_crlf(cli: Any, sandbox: Sandbox) -> None:
    text = f"\ufefforder,carrier,tracking,sku,qty\r\n000000104,UPS,{UPS},WM-BOTTLE-005,2\r\n"
    r = run_file(cli, "-", "--json", stdin=text)
    assert r.exit_code == 0, r
    assert by_row(r.json()) == {2: ("confirmed", 0)}
    order = order_of(sandbox, "000000104")
    assert sum(i["qty_shipped"] for i in order["items"]) == 2


def test_dry_run_sends_nothing(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    r = run_file(cli, write(tmp_path, "f.csv", f"order,carrier,tracking\n000000102,UPS,{UPS}\n"), "--json",
                 "--dry-run")
    assert r.exit_code == 0, r
    assert by_row(r.json()) == {2: ("dry_run", 0)}
    assert writes(sandbox) == []


def test_a_leased_order_is_skipped_after_the_lock_timeout(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    po = po_of(sandbox, "000000101")
    other = Journal(default_journal_path())  # another run working on the order
    assert other.acquire("sandbox", f"po:{po}", ttl=60, wait=0)
    path = write(tmp_path, "f.csv", f"order,carrier,tracking\n000000101,UPS,{UPS}\n000000103,FedEx,{FEDEX}\n")
    try:
        r = run_file(cli, path, "--json", "--lock-timeout", "0.3")
    finally:
        other.close()
    assert r.exit_code == 7, r
    assert by_row(r.json()) == {2: ("skipped", 5), 3: ("confirmed", 0)}
    assert "another wmsync run is working on order 000000101" in r.json()["rows"][0]["error"]
    assert walmart_ship_posts(sandbox, UPS) == 0
    r2 = run_file(cli, path, "--json")
    assert r2.exit_code == 0, r2
    assert by_row(r2.json()) == {2: ("confirmed", 0), 3: ("already_done", 0)}


def test_two_concurrent_runs_send_each_shipment_once(sandbox: Sandbox, tmp_path: Path) -> None:
    trackings = [f"7000000000{i:02d}" for i in range(8)]
    orders = ["000000101", "000000103", "000000119", "000000123", "000000124", "000000126", "000000127",
              "000000128"]
    path = write(tmp_path, "f.csv", "order,carrier,tracking\n" + "".join(
        f"{o},FedEx,{t}\n" for o, t in zip(orders, trackings, strict=True)))
    env = {**os.environ, "WMSYNC_BATCH_WORKERS": "4"}
    cmd = [sys.executable, "-m", "wmsync", "ship", "--from-file", str(path), "--store", "sandbox", "--json",
           "--lock-timeout", "60"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    results = [{r["row"]: r["result"] for r in json.loads(out)["rows"]} for out, _err in outs]
    for row in range(2, 10):
        assert sorted([results[0][row], results[1][row]]) == ["already_done", "confirmed"], (row, results)
    for t in trackings:
        assert walmart_ship_posts(sandbox, t) == 1, t
        assert len(sandbox.commerce_shipments_by_tracking()[t]) == 1, t


def test_cancel_from_file(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "order,reason\n000000127,out-of-stock\n000000108,out-of-stock\n")
    r = cli("cancel", "--from-file", str(path), "--store", "sandbox", "--json")
    assert r.exit_code == 2
    assert "--yes" in r.stderr
    r = cli("cancel", "--from-file", str(path), "--store", "sandbox", "--json", "--yes")
    assert r.exit_code == 0, r
    assert by_row(r.json()) == {2: ("confirmed", 0), 3: ("already_done", 0)}
    rows = {x["row"]: x for x in r.json()["rows"]}
    assert rows[2]["reason"] == "SELLER_CANCEL_OUT_OF_STOCK"
    assert order_of(sandbox, "000000127")["state"] == "canceled"
    sandbox.clear_request_log()
    r2 = cli("cancel", "--from-file", str(path), "--store", "sandbox", "--json", "--yes")
    assert r2.exit_code == 0, r2
    assert [x.get("source") for x in r2.json()["rows"]] == ["journal", "journal"]
    assert sandbox.request_log() == []


def test_hundred_thousand_rows_with_some_invalid_are_refused_quickly(cli: Any, sandbox: Sandbox,
                                                                     tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", newline="") as fh:
        fh.write("order,carrier,tracking,sku,qty\r\n")
        for i in range(100_000):
            qty = "0" if i % 10_000 == 9_999 else str(i % 3 + 1)
            fh.write(f"{1_000_000 + i:09d},FedEx,{700_000_000_000 + i},SKU-{i % 7},{qty}\r\n")
    started = time.monotonic()
    r = run_file(cli, path, "--json")
    elapsed = time.monotonic() - started
    assert r.exit_code == 2, r.stderr[-2000:]
    doc = r.json()
    assert [x["row"] for x in doc["rows"]] == [10_001 + 10_000 * k for k in range(10)]
    assert doc["summary"]["rows"] == 100_000
    assert sandbox.request_log() == []
    assert elapsed < 20, elapsed


def test_an_order_shipped_by_another_run_while_waiting_for_its_lease_is_not_shipped_twice(
        cli: Any, sandbox: Sandbox) -> None:
    """The order is read before the lease is taken; when another run worked on it in between, it is read again
    (here the other run ships the same package just before the lease is granted)."""
    from wmsync.cli.common import Runtime
    from wmsync.clock import SYSTEM
    from wmsync.workflows import ship as wf
    from wmsync.workflows.context import Context, Settings

    class Racing(Journal):
        raced = False

        def acquire(self, store: str, resource: str, **kw: Any) -> bool:
            if not self.raced:
                self.raced = True
                other = cli("ship", "000000104", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS,
                            "--item", "WM-BOTTLE-005=1")
                assert other.exit_code == 0, other
            return super().acquire(store, resource, **kw)

    rt = Runtime("sandbox")  # not registered: the nested command must not close it
    journal = Racing(default_journal_path())
    try:
        st = rt.store()
        ctx = Context(st.name, st.config, rt.commerce(), rt.walmart(), journal, SYSTEM,
                      Settings(timeout=5, poll_initial=0.01, poll_max=0.05, unknown_grace=0.3, resend_quiet=0))
        doc = wf.execute(ctx, wf.ShipRequest(order="000000104", carrier="UPS", tracking=UPS,
                                             items={"WM-BOTTLE-005": 1})).to_json()
    finally:
        journal.close()
        rt.close()
    assert doc["result"] == "already_done"
    assert len(sandbox.commerce_shipments_by_tracking()[UPS]) == 1
    assert walmart_ship_posts(sandbox, UPS) == 1
