"""A partial cancel killed between the Walmart cancel and the Commerce comment, then run again from another
machine (a fresh data directory: no journal), cancels nothing twice: the intent and the quantities before it
are on the order before Walmart is asked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from wmsync.journal import default_journal_path
from wmsync.sandbox import Sandbox

ARGS = ["cancel", "000000104", "--store", "sandbox", "--yes", "--reason", "out-of-stock", "--item", "WM-BOTTLE-005=1"]



def cancelled(sb: Sandbox) -> int:
    order = sb.commerce_order("000000104")
    assert order is not None
    wm = sb.walmart_order(str(order["ext_order_id"]))
    return sum(int(s["statusQuantity"]["amount"]) for line in wm["orderLines"]["orderLine"]
               for s in line["orderLineStatuses"]["orderLineStatus"] if s["status"] == "Cancelled")


def test_killed_after_the_walmart_cancel_then_rerun_from_a_fresh_data_dir(cli: Any, sandbox: Sandbox) -> None:
    env = {**os.environ, "WMSYNC_TEST_CRASH_AT": "after POST /cancel$"}
    p = subprocess.run([sys.executable, "-m", "wmsync", *ARGS], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == -signal.SIGKILL, p.stderr
    assert cancelled(sandbox) == 1
    default_journal_path().unlink()  # another machine: no journal of this run
    r = cli(*ARGS)
    assert cancelled(sandbox) == 1, "the re-run cancelled the unit again"
    assert r.exit_code == 0, r
    comments = [c["comment"] or "" for c in sandbox.comments("000000104")]
    assert any("[wmsync cancel:" in c for c in comments), comments
