"""Every command wmsync suggests works when pasted: it names the store this run used (named or defaulted) and
carries --yes where the command would otherwise ask."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from wmsync.sandbox import Sandbox

BACKTICKED = re.compile(r"`(wmsync [^`\n]+)`")
SEEDED = [f"0000001{n:02d}" for n in range(1, 34)]


def _suggestions(doc: Any) -> list[str]:
    out: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "command" and isinstance(value, str):
                out.append(value)
            elif key == "repair_commands" and isinstance(value, list):
                out += [v for v in value if isinstance(v, str)]
            else:
                out += _suggestions(value)
    elif isinstance(doc, list):
        for v in doc:
            out += _suggestions(v)
    elif isinstance(doc, str):
        out += BACKTICKED.findall(doc)
    return out


def _check(cli: Any, command: str, store: str) -> None:
    args = shlex.split(command)
    assert args[0] == "wmsync"
    if args[1] in ("ship", "cancel", "status", "orders", "sync") and "--list-reasons" not in args:
        assert args[args.index("--store") + 1] == store, command
    if args[1] == "cancel" and "--list-reasons" not in args and "--dry-run" not in args:
        assert "--yes" in args, command
    # pasted, it parses: run it without writing
    if args[1] in ("ship", "cancel") and "--dry-run" not in args and "--list-reasons" not in args:
        args.append("--dry-run")
    r = cli(*args[1:])
    assert "No such option" not in r.stderr, (command, r.stderr)
    assert "unexpected extra argument" not in r.stderr, (command, r.stderr)
    assert r.exit_code in (0, 2, 6, 8), (command, r)


def test_status_repairs_and_notes_name_the_store(cli: Any, sandbox: Sandbox) -> None:
    seen: list[str] = []
    for order in SEEDED:
        r = cli("status", order, "--store", "sandbox", "--json")
        seen += _suggestions(r.json())
    assert len(seen) >= 5, seen  # the seed has several orders with repairs
    for command in sorted(set(seen)):
        _check(cli, command, "sandbox")


def test_refusal_hints_name_the_store(cli: Any, sandbox: Sandbox) -> None:
    r = cli("ship", "000000106", "--store", "sandbox", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010006")
    assert r.exit_code == 2, r
    hints = BACKTICKED.findall(r.stderr)
    assert hints, r.stderr
    for command in hints:
        _check(cli, command, "sandbox")


def test_the_default_store_is_named_too(cli: Any, sandbox: Sandbox, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    Path(os.environ["WMSYNC_CONFIG"]).parent.mkdir(parents=True, exist_ok=True)
    Path(os.environ["WMSYNC_CONFIG"]).write_text('default_store = "sandbox"\n')
    r = cli("status", "000000117", "--json")  # no --store: the config's default
    commands = _suggestions(r.json())
    assert commands, r
    assert all("--store sandbox" in c for c in commands if c.split()[1] in ("ship", "cancel", "status")), commands
