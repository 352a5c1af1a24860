"""Every command's help ends with an Examples: block whose commands exist (issue 14 item 14)."""

from __future__ import annotations

import shlex
from typing import Any

import pytest

COMMANDS = [
    ("ship",), ("cancel",), ("status",), ("sync",), ("explain",),
    ("orders", "list"), ("stores", "list"), ("stores", "add"), ("stores", "remove"), ("stores", "check"),
    ("carriers", "list"), ("carriers", "check"), ("sandbox", "serve"), ("sandbox", "reset"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_item14_help_has_examples_of_that_command(cli: Any, command: tuple[str, ...]) -> None:
    r = cli(*command, "--help")
    assert r.exit_code == 0, r
    assert "Examples:" in r.stdout, r.stdout
    block = r.stdout.split("Examples:", 1)[1]
    examples = [line.strip() for line in block.splitlines() if line.strip().startswith("wmsync ")]
    assert examples, block
    for example in examples:
        words = shlex.split(example)
        assert tuple(words[1:1 + len(command)]) == command, example
        # the example parses: its options exist (asking for help after it never runs it)
        parsed = cli(*words[1:], "--help")
        assert parsed.exit_code == 0, (example, parsed)
