"""The command line itself: --version, --help everywhere, usage errors, the exit-code rule."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import typer

import wmsync
from wmsync.errors import ExitCode, worst


def _command_paths() -> list[list[str]]:
    from wmsync.cli.app import full_app as app

    def walk(cmd: Any, path: list[str]) -> Iterator[list[str]]:
        yield path
        for name, sub in sorted((getattr(cmd, "commands", None) or {}).items()):
            if not getattr(sub, "hidden", False):
                yield from walk(sub, [*path, name])

    return list(walk(typer.main.get_command(app), []))


COMMANDS = _command_paths()


def test_version(cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"wmsync {wmsync.__version__}\n"
    assert result.stderr == ""


def test_version_as_a_program() -> None:
    done = subprocess.run([sys.executable, "-m", "wmsync", "--version"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wmsync {wmsync.__version__}"


def test_the_expected_commands_exist() -> None:
    top = {tuple(p) for p in COMMANDS if len(p) == 1}
    assert {("stores",)} <= top
    assert {("stores", "add"), ("stores", "list"), ("stores", "remove"), ("stores", "check")} <= {
        tuple(p) for p in COMMANDS}


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) or "wmsync" for p in COMMANDS])
def test_help_of_every_command(cli, path: list[str]) -> None:
    result = cli(*path, "--help")
    assert result.exit_code == 0, result
    assert "Usage:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    short = cli(*path, "-h")
    assert short.exit_code == 0
    assert short.stdout == result.stdout


def test_help_lists_the_exit_codes(cli) -> None:
    out = cli("--help").stdout
    for code in ExitCode:
        assert str(int(code)) in out


def test_no_arguments_shows_help(cli) -> None:
    result = cli()
    assert "Usage:" in result.stdout + result.stderr
    assert result.exit_code in (0, 2)


def test_unknown_option_is_exit_2(cli) -> None:
    result = cli("stores", "list", "--colour")
    assert result.exit_code == 2
    assert "--colour" in result.stderr
    assert "wmsync stores list --help" in result.stderr
    assert result.stdout == ""


def test_unknown_option_with_json_prints_one_json_object(cli) -> None:
    result = cli("stores", "list", "--json", "--colour")
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert isinstance(payload, dict)
    assert payload["exit_code"] == 2
    assert "--colour" in payload["error"]
    assert "--colour" in result.stderr


def test_unknown_command_is_exit_2(cli) -> None:
    result = cli("teleport")
    assert result.exit_code == 2
    assert "teleport" in result.stderr


def test_missing_argument_is_exit_2(cli) -> None:
    result = cli("stores", "add", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["exit_code"] == 2


def test_bad_option_value_is_exit_2(cli) -> None:
    result = cli("stores", "remove")
    assert result.exit_code == 2


def test_internal_error_is_exit_1(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from wmsync.cli import common

    def broken(self: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(common.Runtime, "config", broken)
    result = cli("stores", "list", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"error": "internal error: RuntimeError: boom", "exit_code": 1}
    assert "Traceback" not in result.stderr
    verbose = cli("stores", "list", "--verbose")
    assert verbose.exit_code == 1
    assert "Traceback" in verbose.stderr


def test_interrupt_is_exit_130(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from wmsync.cli import common

    def interrupted(self: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(common.Runtime, "config", interrupted)
    result = cli("stores", "list")
    assert result.exit_code == 130
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([], 0),
        ([0], 0),
        ([0, 0], 0),
        ([3, 0], 3),
        ([0, 3, 5], 5),
        ([5, 3], 5),
        ([4, 2, 6], 6),
        ([7, 8], 8),
        ([1, 4], 4),
        ([130], 130),
        ([130, 0], 0),
        ([130, 2], 2),
        ([2, 130, 5], 5),
    ],
)
def test_worst(codes: list[int], expected: int) -> None:
    assert worst(codes) == expected
    assert worst(iter(codes)) == expected  # any iterable, consumed once


def test_exit_codes_are_stable() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0, "INTERNAL": 1, "REFUSED": 2, "CONFIG": 3, "REJECTED": 4, "UNAVAILABLE": 5, "UNCONFIRMED": 6,
        "BATCH_FAILURES": 7, "DIVERGED": 8, "INTERRUPTED": 130}
