"""What a command loads: only the command being run, no HTTP stack against the in-process sandbox, no
validation library on any path (issue: the fixed cost of a command). Each case runs a fresh interpreter, as a
user's shell does, and reads ``sys.modules`` at exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = r"""
import atexit, json, sys
def report():
    sys.__stderr__.write("\nMODULES " + json.dumps(sorted(sys.modules)) + "\n")
atexit.register(report)
sys.argv = ["wmsync", *sys.argv[1:]]
from wmsync.cli import main
main()
"""


def _modules(tmp_path: Path, *args: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WMSYNC_")}
    env.update(WMSYNC_DATA_DIR=str(tmp_path / "data"), WMSYNC_CACHE_DIR=str(tmp_path / "cache"),
               WMSYNC_CONFIG=str(tmp_path / "config.toml"), NO_COLOR="1",
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    # the first run seeds the sandbox (as `wmsync sandbox reset` does); the second is the one measured
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True,
                              timeout=120)
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


@pytest.fixture(scope="module")
def status_modules(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    return _modules(tmp_path_factory.mktemp("status"), "status", "000000101", "--store", "sandbox", "--json")


def test_status_on_the_sandbox_loads_no_http_stack(status_modules: set[str]) -> None:
    assert "wmsync.workflows.status" in status_modules  # it did the work
    assert not {m for m in status_modules if m == "httpx" or m.startswith(("httpx.", "httpcore", "h11"))}


def test_no_validation_library_on_the_hot_path(status_modules: set[str]) -> None:
    assert not {m for m in status_modules if m.startswith(("pydantic", "annotated_types"))}


def test_only_the_command_being_run_is_built(status_modules: set[str]) -> None:
    others = {"wmsync.cli.ship", "wmsync.cli.cancel", "wmsync.cli.stores", "wmsync.cli.orders",
              "wmsync.cli.sandbox_cmd", "wmsync.cli.returns", "wmsync.cli.refund", "wmsync.cli.sync"}
    assert "wmsync.cli.status" in status_modules
    assert not others & status_modules


def test_the_sandbox_seed_is_not_loaded_to_answer(status_modules: set[str]) -> None:
    # the data is already seeded: answering reads needs neither the seed nor the rules for writes
    assert "wmsync.sandbox.seed" not in status_modules


def test_help_still_lists_every_command(tmp_path: Path) -> None:
    env = dict(os.environ, WMSYNC_CONFIG=str(tmp_path / "config.toml"), NO_COLOR="1", COLUMNS="100")
    out = subprocess.run([sys.executable, "-m", "wmsync", "--help"], env=env, capture_output=True, text=True,
                         check=True).stdout
    for name in ("stores", "orders", "sandbox", "carriers", "returns", "ship", "cancel", "refund", "status",
                 "sync", "explain"):
        assert f" {name} " in out, name
