"""Scaling of wmsync with the number of orders and with the number of lines of one order, old against new.

    python benchmarks/scale.py [--base /path/to/old/tree] [--sizes 1000,10000] [--lines 200,2000] [--runs 3]

Every figure is measured in one run for each interpreter given: this one (the tree it is installed from) and,
with ``--base``, the ``.venv/bin/python`` of another source tree (or ``--base-python`` directly) — so an old
and a new version are compared side by side on the same machine at the same time. Nothing leaves the
machine: everything runs against the in-process sandbox (``--store sandbox``) in temporary data dirs.

Orders (item 2 of the performance issue): for each size a sandbox with that many generated orders is written
once (``wmsync sandbox reset --orders N``) and copied for each interpreter; then, each as a fresh process,

* ``orders list --store sandbox --jsonl --limit 0`` and
* ``sync --store sandbox --dry-run --since 7d --json``

are timed (wall, median of ``--runs``) with their peak memory (max RSS). Goals: time(largest) ÷ time(next)
≤ 1.1 × the ratio of the sizes (5.5 for 50k ÷ 10k), memory(largest) ÷ memory(smallest) ≤ 1.3.

Lines (item 3): an order with L distinct SKUs (one Commerce item and one Walmart line each) is added to a fresh
sandbox for each L in ``--lines``; ``status ORDER --store sandbox --json`` and
``ship ORDER --carrier FedEx --tracking … --dry-run --store sandbox --json`` are timed. Goal: time(2,000
lines) ≤ 2 × 10 × time(200 lines) (within 2× of linear), for the whole process and for the work above the
fixed cost (the same command on the seed's one-line order 000000101, subtracted) — the fixed cost hides most of
a 200-line order.

50,000 orders take minutes to write and to list with an old version; keep the default sizes on a shared machine
and pass ``--sizes 1000,10000,50000`` once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIME_SLACK = 1.1  # time may grow at most 10 % faster than the number of orders
MEMORY_GOAL = 1.3
LINES_GOAL = 2.0

BIG_ORDER = r"""
import sys, time
from pathlib import Path
from wmsync.sandbox import Sandbox
from wmsync.sandbox import seed as s

path, increment, lines = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sb = Sandbox(path)
sb.ensure_seeded()
now = time.time()
with sb.db.transaction() as conn:
    b = s.Builder(conn, now)
    po = s.po_for(increment)
    customer = s.CUSTOMERS[0]
    email = s._email(increment)
    created = now - 3600
    b.walmart_po(po, s.customer_order_for(increment), created, customer, email, "Standard")
    oid = b.commerce_order(increment, created, customer, ext=po, email=email)
    for n in range(1, lines + 1):
        sku = f"WM-BULK-{n:05d}"
        b.item(oid, sku, f"Bulk item {n}", 1, 1.25)
        b.line(po, n, sku, f"Bulk item {n}", 1, 1.25)
    b.finish_order(oid)
sb.close()
print(f"{increment:09d}")
"""


class Tree:
    def __init__(self, name: str, python: str) -> None:
        self.name = name
        self.python = python

    def wmsync(self) -> list[str]:
        script = Path(self.python).with_name("wmsync")
        return [str(script)] if script.exists() else [self.python, "-m", "wmsync"]


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WMSYNC_")}
    env.update(
        WMSYNC_DATA_DIR=str(home / "data"),
        WMSYNC_CACHE_DIR=str(home / "cache"),
        WMSYNC_CONFIG=str(home / "config.toml"),
        NO_COLOR="1",
        COLUMNS="120",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    return env


def timed(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """(wall seconds, peak RSS in bytes) of one child process; its output is thrown away."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=sink, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code not in ok:
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} exited {code}: {err.read()[-2000:].decode(errors='replace')}")
    return elapsed, usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def median_run(cmd: list[str], env: dict[str, str], runs: int, ok: tuple[int, ...] = (0,)) -> tuple[float, int]:
    samples = [timed(cmd, env, ok) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def bench_orders(trees: list[Tree], sizes: list[int], runs: int, root: Path) -> None:
    commands = {
        "orders list --jsonl": ["orders", "list", "--store", "sandbox", "--jsonl", "--limit", "0"],
        "sync --dry-run": ["sync", "--store", "sandbox", "--dry-run", "--since", "7d", "--json"],
    }
    figures: dict[tuple[str, str, int], tuple[float, int]] = {}
    for size in sizes:
        master = root / f"master-{size}"
        started = time.perf_counter()
        subprocess.run([*trees[0].wmsync(), "sandbox", "reset", "--orders", str(size)], env=env_for(master),
                       check=True, capture_output=True)
        print(f"  ({size} orders written in {time.perf_counter() - started:.0f} s)", flush=True)
        for tree in trees:
            home = root / f"{tree.name}-{size}"
            shutil.copytree(master, home)
            env = env_for(home)
            for label, args in commands.items():
                # sync exits 8 when some order needs attention; that is not a failure of the benchmark
                figures[(tree.name, label, size)] = median_run([*tree.wmsync(), *args], env,
                                                               1 if size >= 10000 else runs, ok=(0, 1, 8))
                t, rss = figures[(tree.name, label, size)]
                print(f"  {tree.name:>4} {label:<20} {size:>6} orders  {t:7.2f} s  {rss / 2**20:6.0f} MiB",
                      flush=True)
            shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(master, ignore_errors=True)
    large, prev, small = sizes[-1], sizes[-2], sizes[0]
    time_goal = TIME_SLACK * large / prev
    print(f"\nscaling with orders: time({large}) ÷ time({prev}) (goal ≤ {time_goal:.1f}), "
          f"memory({large}) ÷ memory({small}) (goal ≤ {MEMORY_GOAL})")
    for label in commands:
        for tree in trees:
            t_ratio = figures[(tree.name, label, large)][0] / figures[(tree.name, label, prev)][0]
            m_ratio = figures[(tree.name, label, large)][1] / figures[(tree.name, label, small)][1]
            print(f"  {tree.name:>4} {label:<20} time {t_ratio:6.2f} {verdict(t_ratio <= time_goal):<6}  "
                  f"memory {m_ratio:5.2f} {verdict(m_ratio <= MEMORY_GOAL)}")
        if len(trees) == 2:
            old = figures[(trees[1].name, label, large)][0]
            new = figures[(trees[0].name, label, large)][0]
            print(f"       {label:<20} new ÷ old at {large}: {new / old:.2f}× the time")


def bench_lines(trees: list[Tree], lines: list[int], runs: int, root: Path) -> None:
    figures: dict[tuple[str, str, int], float] = {}
    for n_lines in lines:
        master = root / f"lines-{n_lines}"
        env = env_for(master)
        subprocess.run([*trees[0].wmsync(), "sandbox", "reset"], env=env, check=True, capture_output=True)
        (master / "data").mkdir(parents=True, exist_ok=True)
        done = subprocess.run([trees[0].python, "-c", BIG_ORDER, str(master / "data" / "sandbox.sqlite3"), "950",
                               str(n_lines)], env=env, check=True, capture_output=True, text=True)
        order = done.stdout.strip().splitlines()[-1]
        for tree in trees:
            home = root / f"{tree.name}-lines-{n_lines}"
            shutil.copytree(master, home)
            env = env_for(home)
            cmds = {
                "status": ["status", order, "--store", "sandbox", "--json"],
                "ship --dry-run": ["ship", order, "--carrier", "FedEx", "--tracking", "771234567890", "--dry-run",
                                   "--store", "sandbox", "--json"],
            }
            for label, args in cmds.items():
                t, _rss = median_run([*tree.wmsync(), *args], env, runs, ok=(0, 1))
                figures[(tree.name, label, n_lines)] = t
                print(f"  {tree.name:>4} {label:<16} {n_lines:>5} lines  {t:7.2f} s", flush=True)
                if n_lines == lines[0]:  # the same command on the seed's one-line order: the fixed cost
                    one = [order if a == order else a for a in args]
                    one[1] = "000000101"
                    t, _rss = median_run([*tree.wmsync(), *one], env, runs, ok=(0, 1))
                    figures[(tree.name, label, 1)] = t
                    print(f"  {tree.name:>4} {label:<16} {1:>5} line   {t:7.2f} s", flush=True)
            shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(master, ignore_errors=True)
    small, large = lines[0], lines[-1]
    factor = large / small
    print(f"\nscaling with lines: time({large}) ÷ ({factor:.0f} × time({small})) (goal ≤ {LINES_GOAL}); whole "
          "process, and the work above the fixed cost (the same command on a one-line order subtracted)")
    for label in ("status", "ship --dry-run"):
        for tree in trees:
            t_large, t_small = figures[(tree.name, label, large)], figures[(tree.name, label, small)]
            fixed = figures[(tree.name, label, 1)]
            ratio = t_large / (factor * t_small)
            if t_small - fixed >= 0.02:
                work = (t_large - fixed) / (factor * (t_small - fixed))
                shown = f"work {work:5.2f} {verdict(work <= LINES_GOAL):<6}"
            else:  # the 200-line order's work is within the noise of the fixed cost
                shown = f"work (t({large}) − t(1)) {t_large - fixed:5.2f} s"
            print(f"  {tree.name:>4} {label:<16} whole {ratio:5.2f} {verdict(ratio <= LINES_GOAL):<6}  {shown}  "
                  f"({t_large:.2f} s, {t_small:.2f} s, one line {fixed:.2f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, help="an old source tree with its own .venv, measured alongside")
    parser.add_argument("--base-python", help="the old tree's interpreter (instead of --base)")
    parser.add_argument("--sizes", default="1000,10000", help="numbers of orders, comma-separated, ascending")
    parser.add_argument("--lines", default="200,2000", help="lines of the big order, two values")
    parser.add_argument("--runs", type=int, default=3, help="runs per small figure (one for 10,000+ orders)")
    parser.add_argument("--only", choices=("orders", "lines"), help="run one half")
    args = parser.parse_args()
    trees = [Tree("new", sys.executable)]
    base = args.base_python or (str(args.base / ".venv" / "bin" / "python") if args.base else None)
    if base:
        trees.append(Tree("old", base))
    sizes = [int(s) for s in args.sizes.split(",")]
    lines = [int(s) for s in args.lines.split(",")]
    root = Path(tempfile.mkdtemp(prefix="wmsync-bench-scale-"))
    try:
        print("interpreters: " + ", ".join(f"{t.name} = {t.python}" for t in trees))
        if args.only != "lines":
            print("\norders (item 2)")
            bench_orders(trees, sizes, args.runs, root)
        if args.only != "orders":
            print("\nlines of one order (item 3)")
            bench_lines(trees, lines, args.runs, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
