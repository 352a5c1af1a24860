"""Fixed cost of wmsync commands, as ratios measured in one run on the same machine.

* ``wmsync --version`` and ``wmsync --help`` ÷ ``python -c "import typer"``: goals ≤ 1.3× and ≤ 2×;
* ``wmsync status 000000101 --store sandbox`` (a command that does work, on the in-process sandbox) ÷
  ``import typer``: goal ≤ 2.5×;
* ``wmsync ship ORDER`` over HTTP to ``wmsync sandbox serve --latency-ms 50`` (a fresh order each run, the
  Walmart token cached as on a cron host) ÷ the floor: a plain stdlib script (``http.client``, one kept-alive
  connection) making the same four round trips (find the Commerce order, read the Walmart order, post the
  Commerce shipment, post the Walmart shipment) on another order: goal ≤ 1.6×.

    python benchmarks/startup.py [--runs N] [--importtime] [--base /path/to/old/tree] [--no-work]

With ``--base`` the same commands of an old source tree (its ``.venv``) are measured alongside, in the same run.

Each command runs N times as a fresh subprocess (after one warm-up run that fills the bytecode cache, as
an installed package has one: PYTHONDONTWRITEBYTECODE is cleared and the cache goes to a temporary
PYTHONPYCACHEPREFIX, so nothing is written into the source tree); the median wall time is reported.
``--importtime`` also prints the slowest imports of each command
(``python -X importtime``), cumulative, to show what to make lazy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOALS = {"--version": 1.3, "--help": 2.0}
STATUS_GOAL = 2.5
SHIP_GOAL = 1.6
LATENCY_MS = 50

FLOOR = r"""
import http.client, json, os, sys, time, urllib.parse
base = urllib.parse.urlsplit(os.environ["BENCH_BASE_URL"])
inc, po, n = sys.argv[1], sys.argv[2], sys.argv[3]
conn = http.client.HTTPConnection(base.hostname, base.port)
commerce = {"Authorization": "Bearer " + os.environ["BENCH_COMMERCE_TOKEN"], "Accept": "application/json"}
walmart = {"WM_SEC.ACCESS_TOKEN": os.environ["BENCH_WALMART_TOKEN"], "WM_SVC.NAME": "Walmart Marketplace",
           "WM_QOS.CORRELATION_ID": "bench-1", "Accept": "application/json", "Content-Type": "application/json"}
def call(method, path, headers, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    data = json.loads(r.read() or b"null")
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data}")
    return data
q = urllib.parse.urlencode({"searchCriteria[filter_groups][0][filters][0][field]": "increment_id",
                            "searchCriteria[filter_groups][0][filters][0][value]": inc,
                            "searchCriteria[pageSize]": "5", "searchCriteria[currentPage]": "1"})
order = call("GET", "/rest/default/V1/orders?" + q, commerce)["items"][0]
wm = call("GET", f"/v3/orders/{po}", walmart)["order"]
items = [{"order_item_id": i["item_id"], "qty": i["qty_ordered"]}
         for i in order["items"] if not i.get("parent_item_id")]
call("POST", f"/rest/default/V1/order/{order['entity_id']}/ship",
     {**commerce, "Content-Type": "application/json"},
     {"items": items, "tracks": [{"track_number": f"74{int(n):010d}", "title": "FedEx", "carrier_code": "fedex"}]})
lines = [{"lineNumber": ln["lineNumber"], "sellerOrderId": inc, "orderLineStatuses": {"orderLineStatus": [{
    "status": "Shipped", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": ln["orderLineQuantity"]["amount"]},
    "trackingInfo": {"shipDateTime": int(time.time() * 1000) - 60000, "carrierName": {"carrier": "FedEx"},
                     "methodCode": "Standard",
                     "trackingNumber": f"74{int(n):010d}"}}]}} for ln in wm["orderLines"]["orderLine"]]
call("POST", f"/v3/orders/{po}/shipping", walmart, {"orderShipment": {"orderLines": {"orderLine": lines}}})
"""


def _wmsync_command(python: str = sys.executable) -> list[str]:
    """The installed entry point next to this interpreter, else ``python -m wmsync``."""
    script = Path(python).with_name("wmsync")
    if script.exists():
        return [str(script)]
    found = shutil.which("wmsync")
    return [found] if found else [sys.executable, "-m", "wmsync"]


_PYCACHE = tempfile.mkdtemp(prefix="wmsync-bench-pycache-")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(NO_COLOR="1", COLUMNS="100", TERM="dumb", PYTHONPYCACHEPREFIX=_PYCACHE)
    for name in ("PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


def _time(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    env = env or _env()
    subprocess.run(cmd, env=env, capture_output=True, check=True)  # warm-up: bytecode cache, page cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


class Work:
    """A sandbox data dir (and a sandbox server with 50 ms latency) for the commands that do work."""

    def __init__(self, runs: int, pythons: list[str]) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="wmsync-bench-work-"))
        self.env = {k: v for k, v in _env().items() if not k.startswith("WMSYNC_")}
        self.env.update(WMSYNC_DATA_DIR=str(self.home / "data"), WMSYNC_CACHE_DIR=str(self.home / "cache"),
                        WMSYNC_CONFIG=str(self.home / "config.toml"),
                        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        self.server: subprocess.Popen[str] | None = None
        need = (runs + 1) * (len(pythons) + 1) + 10
        subprocess.run([*_wmsync_command(), "sandbox", "reset", "--orders", str(int(need / 0.8) + 20)],
                       env=self.env, check=True, capture_output=True)
        self.orders = self._orders()
        if len(self.orders) < need:
            raise SystemExit(f"only {len(self.orders)} generated orders; need {need}")

    def _orders(self) -> list[tuple[str, str]]:
        import re
        import sqlite3

        with sqlite3.connect(self.home / "data" / "sandbox.sqlite3") as conn:
            rows = conn.execute(
                "SELECT c.increment_id, c.ext_order_id FROM c_orders c JOIN w_orders w ON w.po = c.ext_order_id "
                "WHERE c.increment_id >= '000001001' AND c.state = 'processing' AND NOT EXISTS (SELECT 1 FROM "
                "w_status s WHERE s.po = w.po AND s.status NOT IN ('Acknowledged')) ORDER BY c.entity_id"
            ).fetchall()
        return [(inc, po) for inc, po in rows if re.fullmatch(r"[0-9]{10,20}", po or "")]

    def start_server(self) -> None:
        from wmsync.sandbox import CREDENTIALS

        self.server = subprocess.Popen(
            [*_wmsync_command(), "sandbox", "serve", "--host", "127.0.0.1", "--port", "0", "--latency-ms",
             str(LATENCY_MS), "--json"], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.server.stdout is not None
        self.base_url = json.loads(self.server.stdout.readline())["base_url"]
        self.http_env = dict(self.env, WMSYNC_STORE="local")
        for name, value in CREDENTIALS.items():
            self.http_env[f"WMSYNC_LOCAL_{name}"] = value
        (self.home / "config.toml").write_text(
            f'default_store = "local"\n[stores.local]\ncommerce_url = "{self.base_url}"\n'
            f'commerce_store_code = "default"\ncommerce_auth = "bearer"\nwalmart_url = "{self.base_url}"\n'
            f'walmart_client_id = "{CREDENTIALS["WALMART_CLIENT_ID"]}"\n')
        subprocess.run([*_wmsync_command(), "stores", "check", "local"], env=self.http_env, check=True,
                       capture_output=True)  # caches the Walmart token, as a cron host has it
        import httpx

        r = httpx.post(f"{self.base_url}/v3/token", data={"grant_type": "client_credentials"},
                       auth=(CREDENTIALS["WALMART_CLIENT_ID"], CREDENTIALS["WALMART_CLIENT_SECRET"]),
                       headers={"WM_SVC.NAME": "Walmart Marketplace", "WM_QOS.CORRELATION_ID": "bench",
                                "Accept": "application/json"})
        self.http_env.update(BENCH_BASE_URL=self.base_url, BENCH_COMMERCE_TOKEN=CREDENTIALS["COMMERCE_TOKEN"],
                             BENCH_WALMART_TOKEN=r.json()["access_token"])

    def ship_time(self, cmd_for: Any, runs: int) -> float:
        """Median wall time of ``cmd_for(increment_id, po, n)`` over ``runs`` fresh orders (one warm-up)."""
        samples = []
        for n in range(runs + 1):
            inc, po = self.orders.pop(0)
            start = time.perf_counter()
            done = subprocess.run(cmd_for(inc, po, n), env=self.http_env, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(cmd_for(inc, po, n))} failed: {done.stderr[-1500:]}")
            if n:
                samples.append(elapsed)
        return statistics.median(samples)

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(10)
        shutil.rmtree(self.home, ignore_errors=True)


def _importtime(args: list[str], top: int = 12) -> list[tuple[int, int, str]]:
    """(cumulative µs, self µs, module) of the slowest imports of ``python -m wmsync ARGS``."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "wmsync", *args], env=_env(),
                          capture_output=True, text=True, check=False)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|", 2))
        rows.append((int(cumulative), int(self_us), name))
    rows.sort(reverse=True)
    return rows[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--importtime", action="store_true", help="also show the slowest imports")
    parser.add_argument("--base", type=Path, help="an old source tree with its own .venv, measured alongside")
    parser.add_argument("--no-work", action="store_true", help="only --version and --help")
    args = parser.parse_args()

    trees = [("new", sys.executable)]
    if args.base:
        trees.append(("old", str(args.base / ".venv" / "bin" / "python")))
    baseline = _time([sys.executable, "-c", "import typer"], args.runs)
    print(f"python -c 'import typer'   {baseline * 1000:7.1f} ms   (baseline, median of {args.runs})")
    failed = False

    def show(name: str, label: str, elapsed: float, base: float, goal: float) -> None:
        nonlocal failed
        ratio = elapsed / base
        ok = ratio <= goal
        failed |= not ok and name == "new"
        print(f"{name:>3} wmsync {label:<28} {elapsed * 1000:7.1f} ms   {ratio:4.2f}×  (goal ≤ {goal}×) "
              f"{'ok' if ok else 'MISSED'}")

    for name, python in trees:
        for flag, goal in GOALS.items():
            show(name, flag, _time([*_wmsync_command(python), flag], args.runs), baseline, goal)
    if not args.no_work:
        work = Work(args.runs, [p for _, p in trees])
        try:
            for name, python in trees:
                elapsed = _time([*_wmsync_command(python), "status", "000000101", "--store", "sandbox", "--json"],
                                args.runs, work.env)
                show(name, "status 000000101 (sandbox)", elapsed, baseline, STATUS_GOAL)
            work.start_server()
            floor = work.ship_time(lambda inc, po, n: [sys.executable, "-c", FLOOR, inc, po, str(n)], args.runs)
            print(f"stdlib floor: four round trips at {LATENCY_MS} ms   {floor * 1000:7.1f} ms   "
                  f"(median of {args.runs})")
            for name, python in trees:
                elapsed = work.ship_time(lambda inc, _po, n, p=python: [
                    *_wmsync_command(p), "ship", inc, "--carrier", "FedEx", "--tracking", f"75{n:010d}", "--json"],
                    args.runs)
                show(name, f"ship over HTTP ({LATENCY_MS} ms)", elapsed, floor, SHIP_GOAL)
        finally:
            work.stop()
    if args.importtime:
        for flag in [*GOALS, "status"]:
            cmd = [flag] if flag != "status" else ["status", "000000101", "--store", "sandbox"]
            print(f"\nslowest imports of wmsync {' '.join(cmd)} (cumulative ms, self ms):")
            for cumulative, self_us, name in _importtime(cmd):
                print(f"  {cumulative / 1000:7.1f} {self_us / 1000:7.1f}  {name}")
    shutil.rmtree(_PYCACHE, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
