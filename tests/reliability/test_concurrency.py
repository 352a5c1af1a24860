"""Concurrency (issue item 3): two ``wmsync sync`` runs and a ``wmsync ship --from-file`` started together on one
store, against ``wmsync sandbox serve``: each shipment is sent once.

The work overlaps on purpose. Set A: orders whose Commerce shipment a warehouse system already made (Walmart
lacks it): both syncs want to push it, and the file names the same package. Set B: orders only the file ships;
once the file run has made the Commerce shipment, a sync that sees the order changed wants to push it too."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from reliability.served import (
    SHIP_COLUMNS,
    Run,
    Work,
    commerce_ship_directly,
    open_qty,
    prepare,
    ups_tracking,
    write_csv,
)

ORDERS_A = 30
ORDERS_B = 30


def test_two_syncs_and_a_ship_file_send_each_shipment_once(tmp_path: Path) -> None:
    served = prepare(tmp_path, orders=ORDERS_A + ORDERS_B + 20, seed=5)
    work = Work()
    with served.sandbox() as sb:
        n = 0
        for increment in range(1001, 1001 + ORDERS_A + ORDERS_B + 20):
            order = f"{increment:09d}"
            c = sb.commerce_order(order)
            po = (c or {}).get("ext_order_id")
            if not po or not str(po).isdigit():
                continue
            wm = sb.walmart_order(str(po))
            assert wm is not None
            left = {k: v for k, v in open_qty(wm).items() if v}
            if not left:
                continue
            tracking = ups_tracking(5000 + n)
            if n < ORDERS_A:
                assert commerce_ship_directly(sb, order, tracking) == left
            work.ship_rows.append({"order": order, "carrier": "UPS", "tracking": tracking})
            work.packages[tracking] = (str(po), order, left)
            n += 1
            if n == ORDERS_A + ORDERS_B:
                break
        sb.clear_request_log()
    # the file ships set B first: while it does, the syncs reach set A, which the file names at its end
    rows = work.ship_rows[ORDERS_A:] + work.ship_rows[:ORDERS_A]
    path = write_csv(tmp_path / "ship.csv", rows, SHIP_COLUMNS)
    # a little latency so that the three runs really overlap
    served.start(fault_rate=0.0, seed=5, latency_ms=25)
    report = []
    try:
        commands = [["sync", "--json"], ["sync", "--json"], ["ship", "--from-file", str(path), "--jsonl"]]
        started = time.monotonic()
        procs = [(served.popen(*args), args) for args in commands]
        runs = []
        for proc, args in procs:
            out, err = proc.communicate(timeout=600)
            runs.append(Run(args, proc.returncode, out, err, time.monotonic() - started))
        for run in runs:
            if run.args[0] == "sync":
                summary = json.loads(run.stdout)["summary"] if run.stdout.strip().startswith("{") else {}
                what = {k: v for k, v in summary.items() if k in ("shipped", "already_done", "skipped", "failed")}
            else:
                what = dict(Counter(r["result"] for r in run.rows()))
            report.append(f"{' '.join(run.args[:2])}: exit {run.exit_code} after {run.seconds:.1f}s {what}")
            assert "Traceback" not in run.stderr, run
            # 7: a run met an order another held and left it for the next run; 8: the fixed seed's orders that
            # disagree in ways sync reports and does not fix
            assert run.exit_code in (0, 7, 8), run
        # whatever a run left because another held the order: one more run of the file finishes it
        final = served.wmsync("ship", "--from-file", str(path), "--jsonl")
        assert final.exit_code == 0, final
        report.append(f"ship re-run: exit {final.exit_code}")
    finally:
        served.stop()

    with served.sandbox() as sb:
        log = sb.request_log()
        walmart = sb.walmart_shipments_by_tracking()
        commerce = sb.commerce_shipments_by_tracking()
    posts: Counter[str] = Counter()
    rejected: list[str] = []
    for e in log:
        if e.operation == "walmart.ship" and e.applied and e.request_body:
            numbers = {s["trackingInfo"]["trackingNumber"]
                       for line in json.loads(e.request_body)["orderShipment"]["orderLines"]["orderLine"]
                       for s in line["orderLineStatuses"]["orderLineStatus"]}
            if e.status == 200:
                posts.update(numbers)
            else:
                rejected.append(f"{e.status} {e.path} {sorted(numbers)}")
    # nothing was sent twice, not even a second attempt that Walmart refused
    assert rejected == [], rejected
    assert all(n == 1 for n in posts.values()), {t: n for t, n in posts.items() if n != 1}
    assert all(len(v) == 1 for v in commerce.values()), {t: v for t, v in commerce.items() if len(v) != 1}
    for tracking, (po, order, skus) in work.packages.items():
        assert posts[tracking] == 1, f"{order} {tracking}: posted {posts[tracking]} times"
        assert sum(s["qty"] for s in walmart[tracking]) == sum(skus.values())
        assert {s["po"] for s in walmart[tracking]} == {po}
        assert len(commerce[tracking]) == 1
    by_sync = sum(1 for t in work.packages if t in posts)
    print("\n" + "\n".join(report), json.dumps({"packages": len(work.packages), "walmart_posts": sum(posts.values()),
                                                  "requests": len(log), "pushed": by_sync}))
