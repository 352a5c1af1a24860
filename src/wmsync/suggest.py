"""Suggested commands that work when pasted.

wmsync suggests commands in hints, repairs and notes (`` `wmsync ship 000000123 --via direct` ``). Pasted on
another shell, or from a cron log, they must act on the same store and must not stop at a prompt: every
suggested command of a command that takes ``--store`` gets ``--store NAME`` (the store this run used, named
or defaulted), and one that would ask for confirmation gets ``--yes``. This is done in one place, where output
is written (:mod:`wmsync.render`, the error report), so a workflow writes plain commands and never forgets.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

#: commands that take --store
STORE_COMMANDS = frozenset({"ship", "cancel", "status", "orders", "sync", "refund", "returns"})
#: commands that ask before writing on a terminal (a pasted command runs where there may be none)
PROMPTING = frozenset({"cancel", "refund"})
#: options after which no write happens, so no --yes
NO_WRITE = frozenset({"--dry-run", "--list-reasons", "--help"})

_store: str | None = None
_BACKTICKED = re.compile(r"`(wmsync [^`\n]+)`")


def set_store(name: str | None) -> None:
    """The store this run acts on (called once it is known)."""
    global _store
    _store = name


def current_store() -> str | None:
    return _store


def complete_command(command: str, store: str | None = None) -> str:
    """``command`` with ``--store`` and ``--yes`` added where they are missing and apply."""
    store = store if store is not None else _store
    try:
        parts = shlex.split(command)
    except ValueError:
        return command
    if len(parts) < 2 or parts[0] != "wmsync" or parts[1] not in STORE_COMMANDS:
        return command
    if any(p in NO_WRITE for p in parts) and parts[1] in PROMPTING and "--list-reasons" in parts:
        return command  # `wmsync cancel --list-reasons` names no store
    extra: list[str] = []
    if store and "--store" not in parts and not any(p.startswith("--store=") for p in parts):
        extra += ["--store", shlex.quote(store)]
    writes = parts[1] in PROMPTING or parts[1:3] == ["returns", "refund"]
    if writes and "--yes" not in parts and "-y" not in parts and not any(p in NO_WRITE for p in parts):
        extra.append("--yes")
    return command + (" " + " ".join(extra) if extra else "")


def complete_text(text: str, store: str | None = None) -> str:
    """Every `` `wmsync …` `` in ``text`` completed."""
    if "`wmsync " not in text:
        return text
    return _BACKTICKED.sub(lambda m: "`" + complete_command(m.group(1), store) + "`", text)


def complete_document(data: Any, store: str | None = None) -> Any:
    """A result document with its suggested commands completed: values of ``command`` keys and of
    ``repair_commands`` lists, and backticked commands in any text."""
    if isinstance(data, dict):
        out: dict[Any, Any] = {}
        for key, value in data.items():
            if key in ("command", "repair_commands", "commands"):
                if isinstance(value, str) and value.startswith("wmsync "):
                    out[key] = complete_command(value, store)
                    continue
                if isinstance(value, list):
                    out[key] = [
                        complete_command(v, store) if isinstance(v, str) and v.startswith("wmsync ") else
                        complete_document(v, store)
                        for v in value
                    ]
                    continue
            out[key] = complete_document(value, store)
        return out
    if isinstance(data, list):
        return [complete_document(v, store) for v in data]
    if isinstance(data, str):
        return complete_text(data, store)
    return data
