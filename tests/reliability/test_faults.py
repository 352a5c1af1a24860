"""Faults (issue item 1): batches of shipments and cancellations (``--from-file``) against ``wmsync sandbox serve``
with 20 % of requests faulted — 5xx, 429 with Retry-After, timeouts, connection resets, writes applied and then
answered with a timeout or a reset, cut JSON bodies and HTML error pages — and the Walmart token expired again and
again while the batches run. The files are re-run until they exit 0 (a bounded number of times); then the sandbox's
own state must show every row done, exactly one shipment per tracking number on each side, every cancellation
done once with its reason, and nothing done that was not asked.

CI runs 300 operations; ``WMSYNC_RELIABILITY_OPS=3000`` runs more locally."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from reliability.served import (
    CANCEL_COLUMNS,
    SHIP_COLUMNS,
    Run,
    Served,
    all_orders,
    check_invariants,
    figures,
    plan_work,
    prepare,
    snapshot,
    write_csv,
)
from wmsync.sandbox import Sandbox

OPS = int(os.environ.get("WMSYNC_RELIABILITY_OPS", "300"))
SEED = int(os.environ.get("WMSYNC_RELIABILITY_SEED", "20261127"))
MAX_RUNS = 12
DONE = ("confirmed", "already_done")


def expire_tokens_while(db: Path, stop: threading.Event, every: float, count: list[int]) -> None:
    """Expire every issued Walmart token now and then, as Walmart does, while the batches run."""
    sb = Sandbox(db)
    try:
        while not stop.wait(every):
            count[0] += sb.expire_tokens()
    finally:
        sb.close()


def run_until_done(served: Served, ship_file: Path, cancel_file: Path, report: list[str]) -> list[list[Run]]:
    """Run both files side by side (two processes), again and again until both exit 0."""
    rounds: list[list[Run]] = []
    pending = {"ship": ["ship", "--from-file", str(ship_file), "--jsonl"],
               "cancel": ["cancel", "--from-file", str(cancel_file), "--yes", "--jsonl"]}
    for attempt in range(1, MAX_RUNS + 1):
        procs = {name: (served.popen(*args), args, time.monotonic()) for name, args in pending.items()}
        runs = []
        for name, (proc, args, started) in procs.items():
            out, err = proc.communicate(timeout=900)
            run = Run(args, proc.returncode, out, err, time.monotonic() - started)
            runs.append(run)
            assert "Traceback" not in err, run
            assert run.exit_code in (0, 5, 6, 7), run  # never internal (1), never refused (2) or config (3)
            rows = run.rows()
            failed = [r for r in rows if r.get("result") not in DONE]
            report.append(f"run {attempt} {name}: exit {run.exit_code}, {len(rows)} rows, {len(failed)} not done, "
                          f"{run.seconds:.1f}s")
            report.extend(f"    {json.dumps(r)[:400]}" for r in failed[:5])
            if run.exit_code == 0:
                assert not failed, run
                del pending[name]
        rounds.append(runs)
        if not pending:
            return rounds
    raise AssertionError(f"still not done after {MAX_RUNS} runs:\n" + "\n".join(report))


def test_batches_under_twenty_percent_faults(tmp_path: Path) -> None:
    served = prepare(tmp_path, orders=int(OPS * 1.5) + 40, seed=SEED)
    with served.sandbox() as sb:
        work = plan_work(sb, operations=OPS, seed=SEED)
        before = snapshot(sb, all_orders(sb))
        sb.clear_request_log()
    # a BOM and CRLF line ends, as spreadsheets write them
    ship_file = write_csv(tmp_path / "ship.csv", work.ship_rows, SHIP_COLUMNS, bom=True, crlf=True)
    cancel_file = write_csv(tmp_path / "cancel.csv", work.cancel_rows, CANCEL_COLUMNS)
    report: list[str] = []
    stop = threading.Event()
    expired = [0]
    expirer = threading.Thread(target=expire_tokens_while, args=(served.db, stop, 2.0, expired), daemon=True)
    started = time.monotonic()
    served.start(fault_rate=0.2, seed=SEED)
    try:
        expirer.start()
        rounds = run_until_done(served, ship_file, cancel_file, report)
    finally:
        stop.set()
        expirer.join(10)
        served.stop()
    elapsed = time.monotonic() - started

    with served.sandbox() as sb:
        counts = check_invariants(sb, work, before)
        fig = figures(sb)
    total_faults = sum(fig.faults.values())
    summary = {
        "operations": work.operations, "ship_rows": len(work.ship_rows), "cancel_rows": len(work.cancel_rows),
        "runs": len(rounds), "requests": fig.requests, "faulted_requests": total_faults, "faults": fig.faults,
        "tokens_expired": expired[0], "token_refusals": fig.token_refusals, "seconds": round(elapsed, 1), **counts,
    }
    (tmp_path / "figures.json").write_text(json.dumps(summary, indent=1))
    print("\n" + "\n".join(report), "\n", json.dumps(summary))
    assert work.operations >= OPS
    # the faults really happened, at about the rate asked for, of every kind
    assert 0.12 < total_faults / fig.requests < 0.3, summary
    assert set(fig.faults) >= {"500", "503", "504", "429", "timeout", "reset", "malformed", "applied_timeout",
                               "applied_reset"}, summary
    assert expired[0] > 0
    assert fig.token_refusals > 0, "no request met an expired token"


# ---------------------------------------------------------------- one order in two packages, the first failing


def test_a_failed_package_keeps_its_items_from_the_next_package_of_the_order(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Order 000000118: 2 × WM-SOCK-006 (lines 1, 2) and 1 × WM-BAG-008 (line 3). The file ships one sock under
    T1, then everything else under T2. T1's Commerce shipment gets a 500 (not applied; its outcome unknown to
    wmsync, which does not resend it in the same run): T1 fails in this run. T2 must not take the sock meant
    for T1, and a re-run must finish T1."""
    from wmsync.sandbox import default_db_path

    monkeypatch.setenv("WMSYNC_UNKNOWN_GRACE", "0.2")
    monkeypatch.setenv("WMSYNC_RESEND_QUIET", "0")
    t1, t2 = "1ZW1X2Y30390010006", "1ZW1X2Y30390010015"
    rows = [{"order": "000000118", "carrier": "UPS", "tracking": t1, "sku": "WM-SOCK-006", "qty": "1"},
            {"order": "000000118", "carrier": "UPS", "tracking": t2, "sku": "", "qty": ""}]
    path = write_csv(tmp_path / "two-packages.csv", rows, SHIP_COLUMNS)
    with Sandbox(default_db_path()) as sb:
        sb.inject_fault("500", method="POST", path_regex=r"/V1/order/\d+/ship$", count=1)
    first = cli("ship", "--from-file", str(path), "--store", "sandbox", "--jsonl")
    assert first.exit_code == 7, first
    second = cli("ship", "--from-file", str(path), "--store", "sandbox", "--jsonl")
    assert second.exit_code == 0, second
    with Sandbox(default_db_path()) as sb:
        wm = sb.walmart_shipments_by_tracking()
        assert sum(s["qty"] for s in wm.get(t1, [])) == 1
        assert sum(s["qty"] for s in wm.get(t2, [])) == 2
