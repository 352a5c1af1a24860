"""Batch throughput against Walmart's rate limits: ``ship --from-file`` and ``sync`` over a sandbox server.

    python benchmarks/batch.py [--base /path/to/old/tree] [--rows 300] [--latency-ms 50] [--rate 1200]
                               [--client-factor 2] [--burst-seconds 5] [--workers N]

Starts ``wmsync sandbox serve`` (a subprocess on 127.0.0.1, its own data dir, ``--latency-ms 50``) seeded by
``wmsync sandbox reset --orders N``. The server limits **every** Walmart endpoint with its own token bucket —
ship and cancel at ``--rate`` a minute, acknowledge at ``--rate``, order reads (listing and single reads, each
its own bucket) at 5 × ``--rate`` — and each bucket holds only ``--burst-seconds`` of its rate, so a client
meets the limit within seconds. The store's client-side limits (``walmart_ship_per_min`` and the others) are
set ``--client-factor`` times *higher* than the server's, so the client has to learn the real limit from the
429s and Walmart's ``x-current-token-count`` / ``x-next-replenish-time`` headers without losing a write.

Measured in one run, for this interpreter's wmsync and, with ``--base``, an old tree's (its ``.venv``) against the
same server code (always this tree's sandbox, so both clients meet the same server):

* ``ship --from-file`` with ``--rows`` packages (FedEx, one per order, whole orders): achieved shipments per
  minute ÷ the server's bound (goal ≥ 0.9); the share of requests answered 429 (goal ≤ 1 %); packages lost
  (not shipped on Walmart) or duplicated (more successful ship POSTs than packages) (goal 0); HTTP requests
  per package; and the speed-up over the same number of rows run by N parallel ``wmsync ship`` processes,
  N = the batch's worker count (measured on ``--sample`` rows; goal ≥ 3× at 50 ms latency);
* ``sync`` over ``--rows`` Commerce shipments Walmart does not have yet (recorded in Commerce behind wmsync's
  back, as a warehouse system would): the same figures, and a second ``sync`` right after, which must send
  nothing.

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
THROTTLED_GOAL = 0.01
SPEEDUP_GOAL = 3.0
READ_FACTOR = 5  # the server's read limits, as a multiple of --rate


def wmsync_command(python: str) -> list[str]:
    script = Path(python).with_name("wmsync")
    return [str(script)] if script.exists() else [python, "-m", "wmsync"]


def default_workers() -> int:
    from wmsync.cli.batch import DEFAULT_WORKERS

    return DEFAULT_WORKERS


class Bench:
    def __init__(self, args: argparse.Namespace, client_python: str) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="wmsync-bench-batch-"))
        self.server_cmd = wmsync_command(sys.executable)  # the same server for every client measured
        self.cmd = wmsync_command(client_python)
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

    def run(self, *args: str, check: bool = True, server: bool = False) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*(self.server_cmd if server else self.cmd), *args], env=self.env,
                              capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise SystemExit(f"wmsync {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        return proc

    def start(self, orders: int) -> None:
        self.run("sandbox", "reset", "--orders", str(orders), server=True)
        from wmsync.sandbox import Sandbox

        rate = self.args.rate
        sb = Sandbox(self.tmp / "data" / "sandbox.sqlite3")
        sb.update_settings(ship_rate_per_min=rate, acknowledge_rate_per_min=rate,
                           read_rate_per_min=READ_FACTOR * rate, rate_burst_seconds=self.args.burst_seconds)
        sb.close()
        self.server = subprocess.Popen(
            [*self.server_cmd, "sandbox", "serve", "--host", "127.0.0.1", "--port", "0", "--latency-ms",
             str(self.args.latency_ms), "--json"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.server.stdout is not None
        line = self.server.stdout.readline()
        if not line:
            raise SystemExit("the sandbox server did not start")
        self.base_url = json.loads(line)["base_url"]
        from wmsync.sandbox import CREDENTIALS

        client = int(rate * self.args.client_factor)
        (self.tmp / "config.toml").write_text(
            "default_store = \"local\"\n[stores.local]\n"
            f"commerce_url = \"{self.base_url}\"\ncommerce_store_code = \"default\"\ncommerce_auth = \"oauth1\"\n"
            f"walmart_url = \"{self.base_url}\"\nwalmart_client_id = \"{CREDENTIALS['WALMART_CLIENT_ID']}\"\n"
            "[stores.local.rate_limits]\n"
            f"walmart_ship_per_min = {client}\nwalmart_acknowledge_per_min = {client}\n"
            f"walmart_cancel_per_min = {client}\nwalmart_read_per_min = {READ_FACTOR * client}\n"
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

    def refill(self) -> None:
        """Let the server's buckets fill up (they hold ``--burst-seconds`` of their rate), so a timed run starts
        with the full bucket its bound counts, not with what the run before it left."""
        time.sleep(self.args.burst_seconds + 0.5)

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

    def shipped_tracks(self, prefix: str) -> tuple[int, int]:
        """(packages Walmart has as shipped, successful ship requests beyond one per package), counting the
        tracking numbers that start with ``prefix``."""
        with self.db() as conn:
            shipped = int(conn.execute("SELECT COUNT(DISTINCT tracking_number) FROM w_status WHERE status = "
                                       "'Shipped' AND tracking_number LIKE ?", (prefix + "%",)).fetchone()[0])
            bodies = [r[0] or "" for r in conn.execute(
                "SELECT request_body FROM request_log WHERE operation = 'walmart.ship' AND status = 200")]
        sent = [set(re.findall(r'"trackingNumber"\s*:\s*"(' + prefix + r'[0-9]+)"', body)) for body in bodies]
        tracks = [t for one in sent for t in one]
        return shipped, len(tracks) - len(set(tracks))

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


def report(title: str, elapsed: float, rows: int, shipped: tuple[int, int], rate: int, burst_seconds: float,
           parallel_per_s: float, log: dict[str, Any], rss_kib: int, code: int) -> dict[str, Any]:
    shipments = log["ship_posts"]
    per_min = shipments / (elapsed / 60) if elapsed > 0 else 0.0
    # the most the server lets through in that time: its bucket full at the start, then its rate
    bound = max(1.0, rate * burst_seconds / 60) + rate / 60 * elapsed
    ratio = shipments / bound
    speedup = (shipments / elapsed) / parallel_per_s if elapsed > 0 and parallel_per_s > 0 else 0.0
    per_ship = log["requests"] / shipments if shipments else float("nan")
    throttled = log["throttled"] / log["requests"] if log["requests"] else 0.0
    lost, duplicated = rows - shipped[0], shipped[1]
    print(f"\n{title}")
    print(f"  exit code                         {code}")
    print(f"  shipments sent to Walmart         {shipments} in {elapsed:.1f} s")
    print(f"  shipments ÷ the server's bound    {shipments} / {bound:.0f} = {ratio:.3f}   "
          f"(goal ≥ {SHIP_GOAL}: {'ok' if ratio >= SHIP_GOAL else 'MISSED'}; {per_min:.0f} a minute, the bound "
          f"is a full bucket + {rate}/min)")
    print(f"  share of requests answered 429    {throttled:.2%} ({log['throttled']})   "
          f"(goal ≤ {THROTTLED_GOAL:.0%}: {'ok' if throttled <= THROTTLED_GOAL else 'MISSED'})")
    print(f"  packages lost / duplicated        {lost} / {duplicated}   "
          f"(goal 0 / 0: {'ok' if lost == 0 and duplicated == 0 else 'MISSED'})")
    print(f"  speed-up over N parallel processes {speedup:.2f}×   "
          f"(goal ≥ {SPEEDUP_GOAL:.0f}×: {'ok' if speedup >= SPEEDUP_GOAL else 'MISSED'}; they ran "
          f"{parallel_per_s * 60:.0f} rows a minute, the server allows {rate})")
    print(f"  HTTP requests per shipment        {per_ship:.2f}   ({log['requests']} in all: "
          + ", ".join(f"{k} {v}" for k, v in log["by_operation"].items()) + ")")
    print(f"  peak memory (max RSS)             {rss_kib / 1024:.0f} MiB")
    return {"elapsed": elapsed, "ratio": ratio, "speedup": speedup, "throttled": throttled, "lost": lost,
            "duplicated": duplicated, "requests_per_shipment": per_ship, "peak_rss_mib": rss_kib / 1024}


def parallel_processes(bench: Bench, sample: list[str], workers: int) -> float:
    """Rows per second of ``workers`` ``wmsync ship`` processes at once, each taking the next row."""
    started = time.perf_counter()
    queue = list(enumerate(sample))
    running: list[tuple[subprocess.Popen[bytes], str]] = []
    failed: list[str] = []
    while queue or running:
        while queue and len(running) < workers:
            n, inc = queue.pop(0)
            proc = subprocess.Popen([*bench.cmd, "ship", inc, "--carrier", "FedEx", "--tracking", f"73{n:010d}",
                                     "--json"], env=bench.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            running.append((proc, inc))
        time.sleep(0.01)
        for proc, inc in list(running):
            if proc.poll() is not None:
                running.remove((proc, inc))
                if proc.returncode != 0:
                    failed.append(inc)
    elapsed = time.perf_counter() - started
    if failed:
        print(f"  ({len(failed)} of the parallel `wmsync ship` processes failed: {', '.join(failed[:5])})")
    return len(sample) / elapsed


def measure(args: argparse.Namespace, name: str, python: str) -> dict[str, Any]:
    bench = Bench(args, python)
    workers = args.workers or default_workers()
    need = 2 * args.rows + args.sample
    try:
        bench.start(orders=int(need / 0.9) + 50)
        orders = bench.orders()
        if len(orders) < need:
            raise SystemExit(f"only {len(orders)} generated Walmart orders; need {need}")
        sample, batch, pending = (orders[: args.sample], orders[args.sample: args.sample + args.rows],
                                  orders[args.sample + args.rows: need])
        client = int(args.rate * args.client_factor)
        print(f"\n=== {name}: {python}\nsandbox server {bench.base_url}: latency {args.latency_ms} ms, ship/cancel/"
              f"acknowledge {args.rate}/min, reads {READ_FACTOR * args.rate}/min, {args.burst_seconds:g} s of burst; "
              f"client limits {client}/min ({args.client_factor:g}× the server's); {workers} workers")

        bench.clear_log()
        parallel = parallel_processes(bench, sample, workers)
        p_log = bench.log_figures()
        print(f"\n{workers} parallel `wmsync ship` processes, {len(sample)} rows: {parallel * 60:.0f} rows a minute, "
              f"{p_log['throttled']} × 429 of {p_log['requests']} requests")

        path = bench.tmp / "ship.csv"
        path.write_text("order,carrier,tracking\n" + "".join(f"{inc},FedEx,71{n:010d}\n" for n, inc in
                                                                enumerate(batch)))
        bench.refill()
        bench.clear_log()
        elapsed, code, rss, out, err = bench.timed("ship", "--from-file", str(path), "--json")
        log = bench.log_figures()
        res = report(f"ship --from-file ({args.rows} rows)", elapsed, len(batch), bench.shipped_tracks("71"),
                     args.rate, args.burst_seconds, parallel, log, rss, code)
        try:
            summary = json.loads(out)["summary"]
            print("  rows                              " + ", ".join(
                f"{k} {summary[k]}" for k in ("confirmed", "already_done", "failed", "skipped", "invalid")
                if summary.get(k)))
        except (ValueError, KeyError):
            print("  (no JSON summary) " + err.strip()[-500:])

        bench.commerce_shipments(pending, "72")
        bench.refill()
        bench.clear_log()
        s_elapsed, s_code, s_rss, s_out, s_err = bench.timed("sync", "--json")
        s_log = bench.log_figures()
        s_res = report(f"sync ({len(pending)} Commerce shipments Walmart does not have)", s_elapsed, len(pending),
                       bench.shipped_tracks("72"), args.rate, args.burst_seconds, parallel, s_log, s_rss, s_code)
        try:
            s_doc = json.loads(s_out)
            print("  summary                           " + ", ".join(
                f"{k} {v}" for k, v in s_doc["summary"].items() if v and k != "exit_code"))
        except (ValueError, KeyError):
            print("  (no JSON summary) " + s_err.strip()[-500:])
        bench.clear_log()
        a_elapsed, a_code, _rss, _a_out, _err = bench.timed("sync", "--json")
        a_log = bench.log_figures()
        writes = sum(v for k, v in a_log["by_operation"].items()
                     if k.endswith((".ship", ".cancel", ".acknowledge", ".comment", ".add_comment")))
        print(f"\nsync again right after: {writes} writes, {a_log['requests']} requests (reads), "
              f"{a_elapsed:.1f} s, exit {a_code}")
        ok = all(r["ratio"] >= SHIP_GOAL and r["throttled"] <= THROTTLED_GOAL and r["lost"] == 0
                 and r["duplicated"] == 0 for r in (res, s_res)) and res["speedup"] >= SPEEDUP_GOAL and writes == 0
        return {"ship": res, "sync": s_res, "again_writes": writes, "ok": ok}
    finally:
        bench.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, help="an old source tree with its own .venv, measured alongside")
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--sample", type=int, default=40, help="rows run by N parallel `wmsync ship` processes")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--rate", type=int, default=1200, help="the server's ship/cancel/acknowledge limit a minute")
    parser.add_argument("--client-factor", type=float, default=2.0,
                        help="the client's configured limits as a multiple of the server's (default 2)")
    parser.add_argument("--burst-seconds", type=float, default=5.0, help="how much burst the server's buckets hold")
    parser.add_argument("--workers", type=int, default=None, help="WMSYNC_BATCH_WORKERS (default: wmsync's)")
    args = parser.parse_args()
    runs = {"new": measure(args, "new", sys.executable)}
    if args.base:
        runs["old"] = measure(args, "old", str(args.base / ".venv" / "bin" / "python"))
        print("\nside by side (new / old)")
        for part in ("ship", "sync"):
            for key, label in (("ratio", "÷ bound"), ("throttled", "429 share"), ("speedup", "× N processes"),
                               ("requests_per_shipment", "requests/package"), ("peak_rss_mib", "MiB")):
                print(f"  {part:<5} {label:<17} {runs['new'][part][key]:8.3f} / {runs['old'][part][key]:8.3f}")
    print("\nall goals met" if runs["new"]["ok"] else "\nsome goals missed")
    return 0 if runs["new"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
