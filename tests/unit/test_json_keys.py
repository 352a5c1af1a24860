"""Every key a command prints with --json / --jsonl is in README's "JSON output" table: this runs the commands
over the sandbox through several outcomes and fails on a key the table does not list."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from wmsync.sandbox import Sandbox

README = Path(__file__).resolve().parents[2] / "README.md"
ERROR = "any (error)"


def documented() -> dict[str, list[re.Pattern[str]]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## JSON output\n", 1)[1].split("\n## ", 1)[0]
    out: dict[str, list[re.Pattern[str]]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[1].startswith("`"):
            continue
        for key in re.findall(r"`([^`]+)`", cells[1]):
            pattern = re.compile(re.escape(key).replace(r"\*", ".*") + r"\Z")
            out.setdefault(cells[0], []).append(pattern)
    return out


def key_paths(doc: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(doc, dict):
        for k, v in doc.items():
            p = f"{prefix}.{k}" if prefix else k
            out.add(p)
            out |= key_paths(v, p)
    elif isinstance(doc, list):
        for v in doc:
            out |= key_paths(v, prefix + "[]")
    return out


class Seen:
    def __init__(self, cli: Any) -> None:
        self.cli = cli
        self.paths: dict[str, set[str]] = {}

    def run(self, group: str, *args: str) -> Any:
        r = self.cli(*args)
        docs = [json.loads(ln) for ln in r.stdout.splitlines() if ln.strip()] if "--jsonl" in args else (
            [json.loads(r.stdout)] if r.stdout.strip() else [])
        for doc in docs:
            is_error = (isinstance(doc, dict) and "error" in doc and "exit_code" in doc and "rows" not in doc
                        and "--jsonl" not in args)
            self.paths.setdefault(ERROR if is_error else group, set()).update(key_paths(doc))
        return r


def test_every_json_key_is_documented(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    s = ("--store", "sandbox")
    seen = Seen(cli)
    config = Path(os.environ["WMSYNC_CONFIG"])
    seen.run("stores add", "stores", "add", "shop", "--commerce-url", "https://shop.example.com",
             "--walmart-client-id", "cid", "--json")
    seen.run("stores list", "stores", "list", "--json")
    seen.run("stores remove", "stores", "remove", "shop", "--json")
    if config.exists():
        config.unlink()
    seen.run("stores check", "stores", "check", *s, "--json")
    seen.run("orders list", "orders", "list", *s, "--json")
    seen.run("orders list --jsonl", "orders", "list", *s, "--jsonl")
    ups = "1ZW1X2Y30390010006"
    seen.run("ship", "ship", "000000101", *s, "--carrier", "UPS", "--tracking", ups, "--json")
    seen.run("ship", "ship", "000000101", *s, "--carrier", "UPS", "--tracking", ups, "--json")
    seen.run("ship", "ship", "000000103", *s, "--carrier", "UPS", "--tracking", "1Z999AA10123456800", "--json",
             "--dry-run")
    seen.run("ship", "ship", "000000102", *s, "--carrier", "UPS", "--tracking", "1Z999AA10123456800", "--json",
             "--dry-run")
    seen.run("ship", "ship", "000000106", *s, "--carrier", "UPS", "--tracking", "1Z999AA10123456800", "--json")
    seen.run("ship --replaces", "ship", "000000101", *s, "--carrier", "UPS", "--tracking", "1Z999AA10123456800",
             "--replaces", ups, "--json", "--dry-run")
    seen.run("ship --replaces", "ship", "000000101", *s, "--carrier", "UPS", "--tracking", "1Z999AA10123456800",
             "--replaces", ups, "--json")
    seen.run("refund", "refund", "000000101", *s, "--item", "WM-MUG-001", "--reason", "damaged", "--yes", "--json",
             "--walmart-only")
    seen.run("refund", "refund", "000000101", *s, "--item", "WM-MUG-001", "--reason", "damaged", "--yes", "--json",
             "--walmart-only", "--dry-run")
    seen.run("refund --list-reasons", "refund", "--list-reasons", "--json")
    seen.run("returns list", "returns", "list", *s, "--json")
    seen.run("returns list --jsonl", "returns", "list", *s, "--jsonl")
    seen.run("returns refund", "returns", "refund", "RT0000000107", *s, "--yes", "--json")
    seen.run("returns refund", "returns", "refund", "RT0000000116", *s, "--yes", "--json", "--dry-run")
    seen.run("cancel", "cancel", "000000127", *s, "--reason", "out-of-stock", "--yes", "--json")
    seen.run("cancel", "cancel", "000000104", *s, "--reason", "out-of-stock", "--item", "WM-BOTTLE-005=1", "--yes",
             "--json", "--dry-run")
    seen.run("cancel", "cancel", "000000104", *s, "--reason", "out-of-stock", "--item", "WM-BOTTLE-005=1", "--yes",
             "--json")
    seen.run("cancel --list-reasons", "cancel", "--list-reasons", "--json")
    for order in ("000000101", "000000104", "000000110", "000000116", "000000117", "000000122", "000000131",
                  "100314541559351", "000000999"):
        seen.run("status", "status", order, *s, "--json")
    rows = tmp_path / "rows.csv"
    rows.write_text("order,carrier,tracking\n000000124,FedEx,449044304137821\n000000125,UPS,bad\n"
                    "000000999,UPS,1ZW1X2Y30390010006\n")
    seen.run("ship --from-file", "ship", "--from-file", str(rows), *s, "--json")  # invalid: nothing sent
    seen.run("ship --from-file", "ship", "--from-file", str(rows), *s, "--json", "--skip-invalid")
    seen.run("ship --from-file --jsonl", "ship", "--from-file", str(rows), *s, "--jsonl", "--skip-invalid")
    cancels = tmp_path / "cancels.csv"
    cancels.write_text("order,reason\n000000128,out-of-stock\n000000128,nonsense\n")
    seen.run("cancel --from-file", "cancel", "--from-file", str(cancels), *s, "--json", "--yes")
    seen.run("cancel --from-file", "cancel", "--from-file", str(cancels), *s, "--json", "--yes", "--skip-invalid")
    seen.run("sync", "sync", *s, "--json", "--dry-run")
    seen.run("sync", "sync", *s, "--json")
    for code in ("429", "INVALID_REQUEST_CONTENT", "6"):
        seen.run("explain", "explain", code, "--json")
    seen.run("carriers list", "carriers", "list", "--json")
    seen.run("carriers check", "carriers", "check", *s, "--json")

    table = documented()
    missing = sorted(
        f"{group}: {path}"
        for group, paths in seen.paths.items()
        for path in paths
        if not any(p.match(path) for p in table.get(group, []))
    )
    assert not missing, "keys printed but not in README's JSON output table:\n" + "\n".join(missing)
    # the run covered what it is meant to cover
    for group in ("ship", "cancel", "status", "orders list", "ship --from-file", "sync", "stores list",
                  "stores add", "stores remove", ERROR):
        assert seen.paths.get(group), group
