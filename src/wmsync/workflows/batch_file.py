"""Reading a batch file (``ship --from-file``, ``cancel --from-file``): CSV with a header, or JSON Lines with
the same keys; the format is taken from the file name or, failing that, from the first non-blank character. A
UTF-8 BOM and CRLF line ends are accepted. Lines are read with a length cap, so one huge line costs bounded
memory. Every record carries its line number in the file."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, TextIO

from wmsync.errors import UsageError

Format = Literal["csv", "jsonl"]

#: Longest line read (characters); longer lines are reported and skipped without being held in memory.
MAX_LINE = 8192
#: Longest field value.
MAX_FIELD = 2048
_DELIMITERS = (",", ";", "\t")


class FileFormatError(UsageError):
    """The file as a whole cannot be read (no header, unknown columns, not UTF-8, a JSON array...)."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str
    order: str | None = None
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """One data row: its line number and its values by column (None = empty or absent)."""

    line: int
    values: dict[str, str | None]


def _lines(stream: TextIO) -> Iterator[tuple[int, str | None]]:
    """(line number, text without its line end), or None as text for a line longer than MAX_LINE (its rest
    is read and dropped in chunks, never held whole)."""
    number = 0
    while True:
        try:
            text = stream.readline(MAX_LINE + 2)
        except UnicodeDecodeError as exc:
            raise FileFormatError(
                f"the file is not UTF-8 text (after line {number}: {exc.reason})",
                hint="save it as UTF-8 (with or without BOM)",
            ) from exc
        if not text:
            return
        number += 1
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        if text.endswith(("\n", "\r")) or len(text) <= MAX_LINE:
            yield number, text.rstrip("\r\n")
            continue
        while text and not text.endswith(("\n", "\r")):
            text = stream.readline(MAX_LINE)
        yield number, None


def detect_format(name: str | None, first: str) -> Format:
    lowered = (name or "").lower()
    if lowered.endswith(".csv") or lowered.endswith(".tsv"):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "jsonl" if first.lstrip().startswith(("{", "[")) else "csv"


def _norm_column(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _check_columns(columns: Sequence[str], required: Sequence[str], optional: Sequence[str]) -> None:
    known = (*required, *optional)
    seen: set[str] = set()
    for col in columns:
        if col in seen:
            raise FileFormatError(f"line 1: column {col!r} appears twice")
        seen.add(col)
        if col not in known:
            import difflib

            close = difflib.get_close_matches(col, known, n=1)
            raise FileFormatError(
                f"line 1: unknown column {col!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
                hint="columns: " + ", ".join(required) + " (required), " + ", ".join(optional) + " (optional)",
            )
    missing = [c for c in required if c not in seen]
    if missing:
        raise FileFormatError(
            "line 1: missing required column(s) " + ", ".join(missing),
            hint="the first line is the header: " + ",".join(required) + " plus any of " + ",".join(optional),
        )


def read_records(
    stream: TextIO,
    *,
    name: str | None,
    required: Sequence[str],
    optional: Sequence[str],
    errors: list[RowError],
) -> Iterator[Record]:
    """The data rows of a CSV or JSON Lines stream. Row-level problems go to ``errors`` (with line numbers) and
    the row is left out; file-level problems raise :class:`FileFormatError`."""
    lines = _lines(stream)
    first: tuple[int, str | None] | None = None
    for number, text in lines:
        if text is None:
            raise FileFormatError(f"line {number} is longer than {MAX_LINE} characters")
        if text.strip():
            first = (number, text)
            break
    if first is None:
        return
    fmt = detect_format(name, first[1] or "")
    if fmt == "jsonl":
        yield from _jsonl(first, lines, required, optional, errors)
    else:
        yield from _csv(first, lines, required, optional, errors)


def _csv(
    first: tuple[int, str | None],
    lines: Iterator[tuple[int, str | None]],
    required: Sequence[str],
    optional: Sequence[str],
    errors: list[RowError],
) -> Iterator[Record]:
    number, header_text = first
    assert header_text is not None
    delimiter = max(_DELIMITERS, key=lambda d: header_text.count(d))
    if header_text.count(delimiter) == 0:
        delimiter = ","
    try:
        header = next(csv.reader([header_text], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise FileFormatError(f"line {number}: the header is not valid CSV ({exc})") from exc
    columns = [_norm_column(c) for c in header]
    if header_text.lstrip().startswith("{"):
        raise FileFormatError(f"line {number}: looks like JSON Lines, but the file name says CSV")
    _check_columns(columns, required, optional)
    width = len(columns)
    for number, text in lines:
        if text is None:
            errors.append(RowError(number, f"the line is longer than {MAX_LINE} characters"))
            continue
        if not text.strip() or not text.strip().strip(delimiter).strip():
            continue
        try:
            fields = next(csv.reader([text], delimiter=delimiter, strict=True))
        except csv.Error as exc:
            errors.append(
                RowError(number, f"not valid CSV ({exc}); a value cannot span lines", hint='quote values with "')
            )
            continue
        if len(fields) != width:
            errors.append(RowError(number, f"{len(fields)} values, but the header has {width} columns"))
            continue
        yield Record(
            number, {col: (value if value.strip() else None) for col, value in zip(columns, fields, strict=True)}
        )


#: Columns whose JSON value may be a number; every other value must be a string.
NUMERIC_COLUMNS = frozenset({"qty"})


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """``json.loads`` keeps the last of two equal keys; a batch row must not silently lose one."""
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _jsonl(
    first: tuple[int, str | None],
    lines: Iterator[tuple[int, str | None]],
    required: Sequence[str],
    optional: Sequence[str],
    errors: list[RowError],
) -> Iterator[Record]:
    known = (*required, *optional)

    def one(number: int, text: str) -> Record | None:
        try:
            data = json.loads(text, object_pairs_hook=_pairs)
        except _DuplicateKey as exc:
            errors.append(RowError(number, f"the key {exc.key[:40]!r} is given twice; give each key once"))
            return None
        except (ValueError, RecursionError) as exc:
            errors.append(RowError(number, f"not valid JSON ({str(exc)[:80]})"))
            return None
        if not isinstance(data, dict):
            errors.append(RowError(number, "expected a JSON object (one per line) with " + ", ".join(required)))
            return None
        values: dict[str, str | None] = {}
        for key, value in data.items():
            col = _norm_column(str(key))
            if col not in known:
                errors.append(RowError(number, f"unknown key {str(key)[:40]!r}; keys: " + ", ".join(known)))
                return None
            if col in values:
                errors.append(RowError(number, f"the key {col!r} is given twice (also as {str(key)[:40]!r})"))
                return None
            if value is None:
                values[col] = None
            elif (
                isinstance(value, bool)
                or not isinstance(value, str | int | float)
                # a number where text is expected ({"order": 127}) is not quietly read as "127"
                or (col not in NUMERIC_COLUMNS and not isinstance(value, str))
            ):
                errors.append(RowError(number, f"{col}: expected a string, found {type(value).__name__}"))
                return None
            else:
                text_value = str(value)
                values[col] = text_value if text_value.strip() else None
        for col in known:
            values.setdefault(col, None)
        return Record(number, values)

    number, text = first
    assert text is not None
    if text.lstrip().startswith("["):
        raise FileFormatError(
            f"line {number}: a JSON array; expected JSON Lines (one object per line)",
            hint='write one object per line, e.g. {"order": "000000123", ...}',
        )
    rec = one(number, text)
    if rec is not None:
        yield rec
    for number, line in lines:
        if line is None:
            errors.append(RowError(number, f"the line is longer than {MAX_LINE} characters"))
            continue
        if not line.strip():
            continue
        rec = one(number, line)
        if rec is not None:
            yield rec


