"""Startup time of ``wmsync --version`` and ``wmsync --help``, as ratios to ``python -c "import typer"``.

Goals: --version ≤ 1.3×, --help ≤ 2× the bare Typer import, measured in the same run on the same machine.

    python benchmarks/startup.py [--runs N] [--importtime]

Each command runs N times as a fresh subprocess (after one warm-up run that fills the bytecode cache, as
an installed package has one: PYTHONDONTWRITEBYTECODE is cleared and the cache goes to a temporary
PYTHONPYCACHEPREFIX, so nothing is written into the source tree); the median wall time is reported.
``--importtime`` also prints the slowest imports of each command
(``python -X importtime``), cumulative, to show what to make lazy.
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

GOALS = {"--version": 1.3, "--help": 2.0}


def _wmsync_command() -> list[str]:
    """The installed entry point next to this interpreter, else ``python -m wmsync``."""
    script = Path(sys.executable).with_name("wmsync")
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


def _time(cmd: list[str], runs: int) -> float:
    env = _env()
    subprocess.run(cmd, env=env, capture_output=True, check=True)  # warm-up: bytecode cache, page cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


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
    args = parser.parse_args()

    baseline = _time([sys.executable, "-c", "import typer"], args.runs)
    print(f"python -c 'import typer'   {baseline * 1000:7.1f} ms   (baseline, median of {args.runs})")
    wmsync = _wmsync_command()
    failed = False
    for flag, goal in GOALS.items():
        elapsed = _time([*wmsync, flag], args.runs)
        ratio = elapsed / baseline
        ok = ratio <= goal
        failed |= not ok
        verdict = "ok" if ok else "MISSED"
        print(f"wmsync {flag:<20} {elapsed * 1000:7.1f} ms   {ratio:4.2f}×  (goal ≤ {goal}×) {verdict}")
    if args.importtime:
        for flag in GOALS:
            print(f"\nslowest imports of wmsync {flag} (cumulative ms, self ms):")
            for cumulative, self_us, name in _importtime([flag]):
                print(f"  {cumulative / 1000:7.1f} {self_us / 1000:7.1f}  {name}")
    shutil.rmtree(_PYCACHE, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
