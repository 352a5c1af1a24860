"""Memory and latency of ``wmsync orders list`` on the sandbox: 5,000 versus 500 orders.

Goal: peak memory for 5,000 orders at most 1.2× that for 500 (rows are streamed page by page, so memory must
not grow with the number of orders), and the first row on screen long before the last page is read.

    python benchmarks/orders_list.py [--small 500] [--large 5000] [--seed 1]

For each size a fresh sandbox is created in a temporary data dir (``wmsync sandbox reset --orders N``), then
``wmsync orders list --store sandbox --json --limit 0`` runs twice:

1. as a subprocess, read through a pipe: time to the first row, total time, rows, and the peak RSS of that
   process (``os.wait4``);
2. in a child process under ``tracemalloc``, after a warm-up listing of one row has done all imports: the peak
   of Python allocations during the full listing — the figure that grows if rows are accumulated.

The sandbox runs in-process in both, so its work is included. Nothing here touches the network.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL = 1.2
LIST_ARGS = ["orders", "list", "--store", "sandbox", "--json", "--limit", "0"]


def _wmsync() -> list[str]:
    script = Path(sys.executable).with_name("wmsync")
    if script.exists():
        return [str(script)]
    found = shutil.which("wmsync")
    return [found] if found else [sys.executable, "-m", "wmsync"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WMSYNC_")}
    env.update(
        WMSYNC_DATA_DIR=str(home / "data"),
        WMSYNC_CACHE_DIR=str(home / "cache"),
        WMSYNC_CONFIG=str(home / "config.toml"),
        NO_COLOR="1",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    return env


def _piped_run(env: dict[str, str]) -> dict[str, Any]:
    """Run the listing as its own process; time the first row as it arrives on the pipe."""
    start = time.perf_counter()
    proc = subprocess.Popen([*_wmsync(), *LIST_ARGS], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    first: float | None = None
    rows = 0
    tail = b""
    while True:
        chunk = proc.stdout.read1(65536)
        if not chunk:
            break
        if first is None and b"{" in chunk:
            first = time.perf_counter() - start
        data = tail + chunk
        rows += data.count(b'\n  {"order"')
        tail = data[-16:]
    _pid, status, usage = os.wait4(proc.pid, 0)
    total = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"wmsync orders list failed with exit {os.waitstatus_to_exitcode(status)}")
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # bytes
    return {"rows": rows, "first_row_s": first, "total_s": total, "peak_rss": rss}


class _Sink(io.TextIOBase):
    """stdout that keeps nothing (so the measurement does not hold the output)."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, s: str) -> int:
        self.chars += len(s)
        return len(s)

    def writable(self) -> bool:
        return True


def _traced_child() -> None:
    """Child mode: one warm-up row (imports, connections), then the whole listing under tracemalloc."""
    import tracemalloc

    from wmsync.cli.app import run

    real = sys.stdout
    sys.stdout = _Sink()
    try:
        if run(["orders", "list", "--store", "sandbox", "--json", "--limit", "1"]) != 0:
            raise SystemExit("warm-up failed")
        tracemalloc.start()
        code = run(LIST_ARGS)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        sys.stdout = real
    if code != 0:
        raise SystemExit(f"listing failed with exit {code}")
    sys.stdout.write(json.dumps({"peak_traced": peak}) + "\n")


def _traced_run(env: dict[str, str]) -> int:
    out = subprocess.run(
        [sys.executable, __file__, "--traced-child"], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"traced run failed: {out.stderr[-2000:]}")
    return int(json.loads(out.stdout.strip().splitlines()[-1])["peak_traced"])


def measure(orders: int, seed: int) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix=f"wmsync-bench-{orders}-"))
    try:
        env = _env(home)
        subprocess.run([*_wmsync(), "sandbox", "reset", "--orders", str(orders), "--seed", str(seed)], env=env,
                       check=True, capture_output=True)
        result = _piped_run(env)
        result["peak_traced"] = _traced_run(env)
        result["orders"] = orders
        return result
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _mb(n: float) -> str:
    return f"{n / 1_048_576:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--large", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--traced-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.traced_child:
        _traced_child()
        return 0
    results = [measure(n, args.seed) for n in (args.small, args.large)]
    out = sys.stdout
    out.write(f"{'generated':>9} {'rows':>6} {'first row':>10} {'total':>8} {'peak RSS':>10} {'peak traced':>12}\n")
    for r in results:
        out.write(
            f"{r['orders']:>9} {r['rows']:>6} {r['first_row_s']:>9.2f}s {r['total_s']:>7.2f}s "
            f"{_mb(r['peak_rss']):>10} {_mb(r['peak_traced']):>12}\n"
        )
    small, large = results
    traced = large["peak_traced"] / small["peak_traced"]
    rss = large["peak_rss"] / small["peak_rss"]
    ok = traced <= GOAL and rss <= GOAL
    out.write(
        f"ratio {args.large}/{args.small}: peak traced {traced:.2f}, peak RSS {rss:.2f} "
        f"(goal ≤ {GOAL}) — {'met' if ok else 'MISSED'}\n"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
