"""Shared pieces of the Walmart rules: the refusal type and the helpers for comparing and quoting names."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence


class RuleViolation(Exception):
    """A Walmart rule refused the input. Nothing has been sent.

    ``rule`` is a short stable name of the rule (for ``--json`` output and tests), ``message`` says what is
    wrong and what is expected, ``hint`` what the operator can do.
    """

    def __init__(self, message: str, *, hint: str | None = None, rule: str = "rule") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.rule = rule

    def __str__(self) -> str:
        return self.message


# Shared helpers


def _show(value: str, limit: int = 60) -> str:
    """Quote a user-supplied string for a message: non-printable characters escaped, long values cut."""
    cut = value if len(value) <= limit else value[:limit] + "…"
    out = []
    for ch in cut:
        if ch == "'":
            out.append("\\'")
        elif ch == "\\":
            out.append("\\\\")
        elif ch.isprintable() and unicodedata.category(ch) not in ("Cf", "Zl", "Zp"):
            out.append(ch)
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return "'" + "".join(out) + "'"


def _is_control(ch: str) -> bool:
    # Cc: C0/C1 controls (NUL, ESC, newline...); Cf: invisible format characters (zero-width space, bidi
    # overrides) that make a value look different from what is sent.
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def _first_control(value: str) -> tuple[int, str] | None:
    for i, ch in enumerate(value):
        if _is_control(ch):
            return i, ch
    return None


def _norm(value: str) -> str:
    """Loose form for comparing names: lower case, '&' as 'and', other punctuation/space runs as one space."""
    v = value.casefold().replace("&", " and ")
    return " ".join(re.split(r"[^0-9a-z]+", v)).strip()


def _compact(value: str) -> str:
    """Even looser: letters and digits only."""
    return re.sub(r"[^0-9a-z]+", "", value.casefold())


def _or_list(items: Sequence[str]) -> str:
    quoted = [f"'{i}'" for i in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _did_you_mean(suggestions: Sequence[str]) -> str:
    return f"did you mean {_or_list(suggestions)}?" if suggestions else ""


def _close(value: str, choices: Iterable[str], *, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Case-insensitive difflib close matches, returned in the choices' own spelling, best first."""
    by_lower: dict[str, str] = {}
    for c in choices:
        by_lower.setdefault(c.casefold(), c)
    hits = difflib.get_close_matches(value.strip().casefold(), list(by_lower), n=n, cutoff=cutoff)
    return [by_lower[h] for h in hits]


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for i in items:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out
