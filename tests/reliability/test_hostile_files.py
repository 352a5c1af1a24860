"""Hostile batch files (issue item 5, batches): missing and unknown columns, a BOM, CRLF line ends, control
characters, bytes that are not UTF-8, a 10 MB line and 100,000 rows. Each gives a clear message with line
numbers, exit 2, no traceback, and zero requests sent (the fake services see every request)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from reliability.canary import STORE, CanaryServices
from reliability.conftest import write_config
from reliability.served import ups_tracking

UPS = "1ZW1X2Y30390010006"


@pytest.fixture
def configured(isolated_env: Path, services: CanaryServices) -> CanaryServices:
    write_config(isolated_env)
    return services


def refused(result: Any, services: CanaryServices, *words: str, code: int = 2) -> None:
    assert result.exit_code == code, result
    assert "Traceback" not in result.stderr, result
    assert "internal error" not in result.stderr, result
    for word in words:
        assert word.lower() in (result.stderr + result.stdout).lower(), (word, result)
    assert services.requests == [], [f"{r.method} {r.url}" for r in services.requests]


def ship_file(cli: Any, path: Path, *flags: str) -> Any:
    return cli("ship", "--from-file", str(path), "--store", STORE, *flags)


FILES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "missing-tracking-column": (b"order,carrier\n000000101,UPS\n", ("tracking",)),
    "missing-every-column": (b"\n\n000000101\n", ("order",)),
    "unknown-column": (b"order,carrier,tracking,colour\n000000101,UPS," + UPS.encode() + b",red\n", ("colour",)),
    "duplicate-column": (b"order,order,carrier,tracking\n1,2,UPS,X\n", ("twice",)),
    "not-utf8": (("order,carrier,tracking\n000000101,Über," + UPS + "\n").encode("latin-1"), ("UTF-8",)),
    "nul-in-a-field": (b"order,carrier,tracking\n000000101,UPS\x00,1ZW1X2Y30390010006\n", ("line 2",)),
    "escape-in-order": (b"order,carrier,tracking\n\x1b[2J000000101,UPS,1ZW1X2Y30390010006\n", ("line 2",)),
    "formula-injection": (b"order,carrier,tracking\n=HYPERLINK(\"http://x\"),UPS,1ZW1X2Y30390010006\n",
                          ("line 2",)),
    "quoted-newline": (b'order,carrier,tracking\n"000000\n101",UPS,1ZW1X2Y30390010006\n', ("line",)),
    "ten-mb-line": (b"order,carrier,tracking\n" + b"9" * 10_000_000 + b",UPS,X\n", ("line 2",)),
    "bom-crlf-bad-row-3": (b"\xef\xbb\xbforder,carrier,tracking\r\n000000101,UPS,1ZW1X2Y30390010006\r\n"
                           b"000000102,UPS,NOT A NUMBER\r\n", ("line 3",)),
    "jsonl-wrong-types": (b'{"order": 101, "carrier": ["UPS"], "tracking": null}\n', ("line 1",)),
    "jsonl-not-json": (b'{"order": "000000101", "carrier": "UPS", "tracking": \n', ("line 1",)),
    "jsonl-array": (b'[{"order": "000000101"}]\n', ("line 1",)),
}


@pytest.mark.parametrize("name", list(FILES))
def test_hostile_ship_files(cli: Any, configured: CanaryServices, tmp_path: Path, name: str) -> None:
    content, words = FILES[name]
    suffix = ".jsonl" if name.startswith("jsonl") else ".csv"
    path = tmp_path / f"rows{suffix}"
    path.write_bytes(content)
    r = ship_file(cli, path, "--json")
    refused(r, configured, *words)
    json.loads(r.stdout)  # one JSON document, also on refusal
    assert len(r.stderr) < 20_000, "the report of a hostile file stays readable"


@pytest.mark.parametrize(("content", "word"), [
    (b"order,sku\n000000101,WM-MUG-001\n", "reason"),
    (b"order,reason,qty\n000000101,out-of-stock,-1\n", "line 2"),
    (b"order,reason\n000000101,out-of-stock\x00\n", "line 2"),
    (b"order,reason,sku,qty\n000000123,out-of-stock,WM-MUG-001,1.5\n", "line 2"),
])
def test_hostile_cancel_files(cli: Any, configured: CanaryServices, tmp_path: Path, content: bytes,
                              word: str) -> None:
    path = tmp_path / "cancel.csv"
    path.write_bytes(content)
    r = cli("cancel", "--from-file", str(path), "--store", STORE, "--yes")
    refused(r, configured, word)


def hundred_thousand_rows(path: Path, *, bad_every: int | None, bad_last: bool = False) -> Path:
    lines = ["order,carrier,tracking,sku,qty"]  # CRLF line ends and a BOM, as spreadsheets write them
    for i in range(100_000):
        qty = "1"
        if (bad_every and i % bad_every == 0) or (bad_last and i == 99_999):
            qty = "0"
        lines.append(f"{i + 1:09d},UPS,{ups_tracking(i)},WM-MUG-001,{qty}")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    return path


def test_hundred_thousand_rows_one_bad_at_the_end_sends_nothing(cli: Any, configured: CanaryServices,
                                                                tmp_path: Path) -> None:
    path = hundred_thousand_rows(tmp_path / "big.csv", bad_every=None, bad_last=True)
    started = time.monotonic()
    r = ship_file(cli, path)
    seconds = time.monotonic() - started
    refused(r, configured, "line 100001")
    assert seconds < 60, f"validating 100,000 rows took {seconds:.0f}s"


def test_hundred_thousand_bad_rows_are_each_reported_with_their_line(cli: Any, configured: CanaryServices,
                                                                     tmp_path: Path) -> None:
    path = hundred_thousand_rows(tmp_path / "big.csv", bad_every=1)
    r = ship_file(cli, path, "--json")
    refused(r, configured, "line 2")
    doc = json.loads(r.stdout)
    assert doc["summary"]["invalid"] == 100_000
    assert [row["row"] for row in doc["rows"]] == list(range(2, 100_002))  # CRLF and BOM do not shift lines
    assert all(row["result"] == "invalid" and row["exit_code"] == 2 for row in doc["rows"])
