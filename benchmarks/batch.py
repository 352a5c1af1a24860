"""Batch throughput against Walmart's rate limit: ``ship --from-file`` and ``sync`` over a sandbox server.

    python benchmarks/batch.py [--rows 1000] [--sample 20] [--latency-ms 50] [--rate 600] [--workers N]

Starts ``wmsync sandbox serve`` (a subprocess on 127.0.0.1, its own data dir, ``--latency-ms 50
--ship-rate-per-min 600``) seeded by ``wmsync sandbox reset --orders N``, writes a config for it with the
store's client-side ``walmart_ship_per_min`` (and acknowledge/cancel) set to the server's limit, then measures
in one run:

* ``ship --from-file`` with ``--rows`` packages (FedEx, one per order, whole orders): achieved shipments per
  minute ÷ the rate-limit bound (goal ≥ 0.9), speed-up over one ``wmsync ship`` process per row in sequence
  measured on ``--sample`` rows (goal ≥ 10×), the 429s the server sent (goal 0), HTTP requests per shipment,
  and the batch process's peak memory (max RSS);
* ``sync`` over ``--rows`` Commerce shipments Walmart does not have yet (recorded in Commerce behind wmsync's
  back, as a warehouse system would): the same figures (the speed-up against the same per-row process time),
  and a second ``sync`` right after, which must send nothing.

The request counts and 429s come from the sandbox's own request log. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SHIP_GOAL = 0.9
SPEEDUP_GOAL = 10.0


def wmsync_command() -> list[str]:
    script = Path(sys.executable).with_name("wmsync")
    if script.exists():
        return [str(script)]
    found = shutil.which("wmsync")
    return [found] if found else [sys.executable, "-m", "wmsync"]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="wmsync-bench-batch-"))
        self.cmd = wmsync_command()
        from wmsync.sandbox import CREDENTIALS

        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WMSYNC_")}
        self.env.update(
            WMSYNC_DATA_DIR=str(self.tmp / "data"),
            WMSYNC_CACHE_DIR=str(self.tmp / "cache"),
            WMSYNC_CONFIG=str(self.tmp / "config.toml"),
            WMSYNC_STORE="local",
            NO_COLOR="1",
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        )
        if args.workers:
            self.env["WMSYNC_BATCH_WORKERS"] = str(args.workers)
        for name, value in CREDENTIALS.items():
            self.env[f"WMSYNC_LOCAL_{name}"] = value
        self.server: subprocess.Popen[str] | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ setup

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*self.cmd, *args], env=self.env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise SystemExit(f"wmsync {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        return proc

    def start(self, orders: int) -> None:
        self.run("sandbox", "reset", "--orders", str(orders))
        self.server = subprocess.Popen(
            [*self.cmd, "sandbox", "serve", "--host", "127.0.0.1", "--port", "0", "--latency-ms",
             str(self.args.latency_ms), "--ship-rate-per-min", str(self.args.rate), "--json"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.server.stdout is not None
        line = self.server.stdout.readline()
        if not line:
            raise SystemExit("the sandbox server did not start")
        self.base_url = json.loads(line)["base_url"]
        from wmsync.sandbox import CREDENTIALS

        rate = self.args.rate
        (self.tmp / "config.toml").write_text(
            "default_store = \"local\"\n[stores.local]\n"
            f"commerce_url = \"{self.base_url}\"\ncommerce_store_code = \"default\"\ncommerce_auth = \"oauth1\"\n"
            f"walmart_url = \"{self.base_url}\"\nwalmart_client_id = \"{CREDENTIALS['WALMART_CLIENT_ID']}\"\n"
            "[stores.local.rate_limits]\n"
            f"walmart_ship_per_min = {rate}\nwalmart_acknowledge_per_min = {rate}\n"
            f"walmart_cancel_per_min = {rate}\n"
        )
        self.run("stores", "check", "local")  # caches the Walmart token, as a cron host has it

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.tmp / "data" / "sandbox.sqlite3", timeout=30)

    def orders(self) -> list[str]:
        """Generated Walmart orders (Commerce number), in order."""
        with self.db() as conn:
            rows = conn.execute(
                "SELECT c.increment_id, c.ext_order_id FROM c_orders c JOIN w_orders w ON w.po = c.ext_order_id "
                "WHERE c.increment_id >= '000001001' ORDER BY c.entity_id").fetchall()
        return [inc for inc, po in rows if re.fullmatch(r"[0-9]{10,20}", po or "")]

    def clear_log(self) -> None:
        with self.db() as conn:
            conn.execute("DELETE FROM request_log")

    def log_figures(self) -> dict[str, Any]:
        with self.db() as conn:
            total = conn.execute("SELECT COUNT(*) FROM request_log").fetchone()[0]
            throttled = conn.execute("SELECT COUNT(*) FROM request_log WHERE status = 429").fetchone()[0]
            posts = conn.execute(
                "SELECT COUNT(*) FROM request_log WHERE operation = 'walmart.ship' AND status = 200").fetchone()[0]
            ops = conn.execute("SELECT operation, COUNT(*) FROM request_log GROUP BY operation "
                               "ORDER BY COUNT(*) DESC").fetchall()
        return {"requests": total, "throttled": throttled, "ship_posts": posts, "by_operation": dict(ops)}

    def timed(self, *args: str) -> tuple[float, int, int, str, str]:
        """Run wmsync as a child; (seconds, exit code, peak RSS in KiB, stdout, stderr)."""
        out_path, err_path = self.tmp / "out.txt", self.tmp / "err.txt"
        with out_path.open("w") as out, err_path.open("w") as err:
            started = time.perf_counter()
            proc = subprocess.Popen([*self.cmd, *args], env=self.env, stdout=out, stderr=err)
            _pid, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        return elapsed, proc.returncode, usage.ru_maxrss, out_path.read_text(), err_path.read_text()

    def commerce_shipments(self, orders: list[str], prefix: str) -> None:
        """Record a Commerce shipment (one FedEx track, everything) on each order, straight into the sandbox's
        Commerce API in-process on the same database (not through wmsync, and without the server's latency)."""
        from wmsync.sandbox import CREDENTIALS, Sandbox

        sb = Sandbox(self.tmp / "data" / "sandbox.sqlite3")
        client = sb.client(timeout=30)
        headers = {"Authorization": f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"}
        try:
            for n, inc in enumerate(orders):
                order = sb.commerce_order(inc)
                assert order is not None
                items = [{"order_item_id": i["item_id"], "qty": i["qty_ordered"]}
                         for i in order["items"] if not i.get("parent_item_id")]
                body = {"items": items, "notify": False,
                        "tracks": [{"track_number": f"{prefix}{n:010d}", "title": "FedEx", "carrier_code": "fedex"}]}
                r = client.post(f"/rest/default/V1/order/{order['entity_id']}/ship", json=body, headers=headers)
                if r.status_code != 200:
                    raise SystemExit(f"could not record a Commerce shipment on {inc}: {r.text[:300]}")
        finally:
            client.close()
            sb.close()


def report(title: str, elapsed: float, shipments: int, rate: int, per_row_sequential: float, log: dict[str, Any],
           rss_kib: int, code: int) -> dict[str, Any]:
    per_min = shipments / (elapsed / 60) if elapsed > 0 else 0.0
    ratio = per_min / rate
    speedup = per_row_sequential * shipments / elapsed if elapsed > 0 else 0.0
    per_ship = log["requests"] / shipments if shipments else float("nan")
    print(f"\n{title}")
    print(f"  exit code                         {code}")
    print(f"  shipments sent to Walmart         {shipments} in {elapsed:.1f} s")
    print(f"  shipments per minute ÷ bound      {per_min:.0f} / {rate} = {ratio:.3f}   "
          f"(goal ≥ {SHIP_GOAL}: {'ok' if ratio >= SHIP_GOAL else 'MISSED'})")
    ceiling = per_row_sequential / (60 / rate)
    print(f"  speed-up over a process per row   {speedup:.1f}×   "
          f"(goal ≥ {SPEEDUP_GOAL:.0f}×: {'ok' if speedup >= SPEEDUP_GOAL else 'MISSED'}; the rate limit allows at "
          f"most {per_row_sequential:.2f} s ÷ {60 / rate:.2f} s = {ceiling:.1f}×)")
    throttled = log["throttled"]
    print(f"  429s received                     {throttled}   (goal 0: {'ok' if throttled == 0 else 'MISSED'})")
    print(f"  HTTP requests per shipment        {per_ship:.2f}   ({log['requests']} in all: "
          + ", ".join(f"{k} {v}" for k, v in log["by_operation"].items()) + ")")
    print(f"  peak memory (max RSS)             {rss_kib / 1024:.0f} MiB")
    return {"elapsed": elapsed, "ratio": ratio, "speedup": speedup, "throttled": log["throttled"],
            "requests_per_shipment": per_ship, "peak_rss_mib": rss_kib / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=20, help="rows run as one process each, in sequence")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--rate", type=int, default=600, help="the server's ship limit per minute")
    parser.add_argument("--workers", type=int, default=None, help="WMSYNC_BATCH_WORKERS (default: wmsync's)")
    args = parser.parse_args()
    bench = Bench(args)
    need = 2 * args.rows + args.sample
    try:
        bench.start(orders=int(need / 0.9) + 50)
        orders = bench.orders()
        if len(orders) < need:
            raise SystemExit(f"only {len(orders)} generated Walmart orders; need {need}")
        sample, batch, pending = (orders[: args.sample], orders[args.sample: args.sample + args.rows],
                                  orders[args.sample + args.rows: need])
        print(f"sandbox server {bench.base_url}: latency {args.latency_ms} ms, ship limit {args.rate}/min "
              f"(client walmart_ship_per_min = {args.rate}); {len(orders)} generated Walmart orders")

        # one process per row, in sequence
        started = time.perf_counter()
        for n, inc in enumerate(sample):
            proc = bench.run("ship", inc, "--carrier", "FedEx", "--tracking", f"73{n:010d}", "--json", check=False)
            if proc.returncode != 0:
                raise SystemExit(f"wmsync ship {inc} failed ({proc.returncode}): {proc.stderr[-1000:]}")
        per_row = (time.perf_counter() - started) / len(sample)
        print(f"\none `wmsync ship` process per row, {len(sample)} rows in sequence: {per_row:.2f} s per row")

        # ship --from-file
        path = bench.tmp / "ship.csv"
        path.write_text("order,carrier,tracking\n" + "".join(f"{inc},FedEx,71{n:010d}\n" for n, inc in
                                                                enumerate(batch)))
        bench.clear_log()
        elapsed, code, rss, out, err = bench.timed("ship", "--from-file", str(path), "--json")
        doc = json.loads(out)
        log = bench.log_figures()
        res = report(f"ship --from-file ({args.rows} rows)", elapsed, log["ship_posts"], args.rate, per_row, log,
                     rss, code)
        summary = doc["summary"]
        print("  rows                              " + ", ".join(
            f"{k} {summary[k]}" for k in ("confirmed", "already_done", "failed", "skipped", "invalid") if summary[k]))
        if code != 0:
            print("  " + err.strip().splitlines()[-1])

        # sync over pending Commerce shipments
        bench.commerce_shipments(pending, "72")
        bench.clear_log()
        s_elapsed, s_code, s_rss, s_out, _s_err = bench.timed("sync", "--json")
        s_log = bench.log_figures()
        s_res = report(f"sync ({len(pending)} Commerce shipments Walmart does not have)", s_elapsed,
                       s_log["ship_posts"], args.rate, per_row, s_log, s_rss, s_code)
        s_doc = json.loads(s_out)
        print("  summary                           " + ", ".join(
            f"{k} {v}" for k, v in s_doc["summary"].items() if v and k != "exit_code"))
        bench.clear_log()
        a_elapsed, a_code, _rss, _a_out, _err = bench.timed("sync", "--json")
        a_log = bench.log_figures()
        writes = sum(v for k, v in a_log["by_operation"].items()
                     if k.endswith((".ship", ".cancel", ".acknowledge", ".comment", ".add_comment")))
        print(f"\nsync again right after: {writes} writes, {a_log['requests']} requests (reads), "
              f"{a_elapsed:.1f} s, exit {a_code}")
        ok = (res["ratio"] >= SHIP_GOAL and res["speedup"] >= SPEEDUP_GOAL and res["throttled"] == 0
              and s_res["throttled"] == 0 and writes == 0)
        print("\nall goals met" if ok else "\nsome goals missed")
        return 0 if ok else 1
    finally:
        bench.stop()


if __name__ == "__main__":
    sys.exit(main())
