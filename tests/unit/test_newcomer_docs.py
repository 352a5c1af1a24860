"""What a newcomer reads first stays true: the demo ships an order its own listing just showed, .ci/run points
at a README section that exists and runs the test command written there, and README links the sandbox's seeded
orders (their table is checked against the seed by tests/sandbox/test_seed.py)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from wmsync.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]


def _demo_commands() -> list[list[str]]:
    out = []
    for line in (ROOT / "examples" / "demo.sh").read_text().splitlines():
        line = line.strip()
        if line.startswith("wmsync ") and not line.startswith("wmsync()"):
            out.append(shlex.split(line)[1:])
    return out


def test_the_demo_ships_an_order_its_list_just_showed(cli: Any, sandbox: Sandbox) -> None:
    commands = _demo_commands()
    listing = next(c for c in commands if c[:2] == ["orders", "list"])
    ship = next(c for c in commands if c[0] == "ship")
    r = cli(*listing, "--json")
    assert r.exit_code == 0, r
    shown = [row["order"] for row in r.json()]  # type: ignore[union-attr]
    assert ship[1] in shown, (ship, shown)
    status = next(c for c in commands if c[0] == "status")
    assert status[1] == ship[1]  # and the status it then shows is of that order


def test_ci_points_at_a_readme_section_that_exists_and_runs_its_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    m = re.search(r'README\.md, "([^"]+)"', ci)
    assert m, "the test command's comment in .ci/run names a README section"
    headings = [h.strip() for h in re.findall(r"^#+ (.+)$", readme, flags=re.M)]
    assert m.group(1) in headings, (m.group(1), headings)
    section = readme.split(m.group(0).split('"')[1], 1)[1]
    command = re.search(r"`(ruff [^`]+)`", section)
    assert command, "the section shows the test command"
    last = [ln for ln in ci.strip().splitlines() if ln.strip() and not ln.startswith("#")][-1]
    assert last.strip() == command.group(1)


def test_readme_links_the_seeded_orders() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "(src/wmsync/sandbox/SEED.md)" in readme
    assert (ROOT / "src" / "wmsync" / "sandbox" / "SEED.md").exists()
