"""Batches: ``ship --from-file`` and ``cancel --from-file``.

Three parts, each testable alone:

1. **Reading** (:func:`read_records`): CSV with a header, or JSON Lines with the same keys; the format is taken
   from the file name or, failing that, from the first non-blank character. A UTF-8 BOM and CRLF line ends are
   accepted. Lines are read with a length cap, so one huge line costs bounded memory. Every record carries its
   line number in the file.
2. **Validating** (:func:`validate_ship`, :func:`validate_cancel`): every rule that needs no request — columns,
   ORDER's form, carrier on Walmart's list or in the store's mapping, tracking-number format, method code,
   quantities, dates, control characters, duplicates and conflicting rows — and grouping: rows with the same
   order and tracking number form one package (``wmsync ship`` with ``--item`` for each row that names a SKU);
   cancel rows with the same order form one cancellation. A package with one bad row is not shipped at all
   (shipping the rest under that tracking number would make a package that cannot be completed later).
3. **Running** (:func:`run_jobs`, :func:`ship_package`, :func:`cancel_order`): the packages of one order run
   in sequence, different orders concurrently on a small thread pool; the clients' rate limiters, shared by
   every thread, keep the pace within Walmart's per-endpoint limits. Packages the journal already records as
   done are skipped without a request.

No httpx, rich or Typer here.
"""

from __future__ import annotations

import csv
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TextIO

from wmsync.config import StoreConfig
from wmsync.errors import (
    ExitCode,
    LeaseTimeoutError,
    UnconfirmedError,
    UsageError,
    WmsyncError,
)
from wmsync.journal import DoneOperation, Journal
from wmsync.walmart import rules
from wmsync.workflows.base import SKU_MAX, check_order_arg
from wmsync.workflows.context import Context

Format = Literal["csv", "jsonl"]

SHIP_REQUIRED = ("order", "carrier", "tracking")
SHIP_OPTIONAL = ("method", "tracking_url", "sku", "qty", "ship_date")
CANCEL_REQUIRED = ("order", "reason")
CANCEL_OPTIONAL = ("sku", "qty")

#: Longest line read (characters); longer lines are reported and skipped without being held in memory.
MAX_LINE = 8192
#: Longest field value.
MAX_FIELD = 2048
MAX_QTY = 999_999
_QTY_RE = re.compile(r"[0-9]{1,6}")
_DELIMITERS = (",", ";", "\t")

# row results
CONFIRMED = "confirmed"
ALREADY = "already_done"
PENDING = "pending"
DRY_RUN = "dry_run"
FAILED = "failed"
SKIPPED = "skipped"
INVALID = "invalid"
RESULTS = (CONFIRMED, ALREADY, PENDING, DRY_RUN, FAILED, SKIPPED, INVALID)


class FileFormatError(UsageError):
    """The file as a whole cannot be read (no header, unknown columns, not UTF-8, a JSON array...)."""


# ---------------------------------------------------------------------------------------------- reading


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
            data = json.loads(text)
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
            if value is None:
                values[col] = None
            elif isinstance(value, bool) or not isinstance(value, str | int | float):
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


# ---------------------------------------------------------------------------------------------- validating


class _Bad(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _text(values: Mapping[str, str | None], col: str) -> str | None:
    raw = values.get(col)
    if raw is None:
        return None
    value = raw.strip()
    if len(value) > MAX_FIELD:
        raise _Bad(f"{col} is {len(value)} characters long (at most {MAX_FIELD})")
    if not value.isprintable():
        bad = next(c for c in value if not c.isprintable())
        raise _Bad(
            f"{col} contains an invisible or control character (U+{ord(bad):04X})",
            hint="retype the value; copies from spreadsheets and PDFs can carry hidden characters",
        )
    return value


def _required(values: Mapping[str, str | None], col: str) -> str:
    value = _text(values, col)
    if value is None:
        raise _Bad(f"{col} is empty")
    return value


def _qty(values: Mapping[str, str | None], sku: str | None) -> int | None:
    text = _text(values, "qty")
    if text is None:
        return None
    if sku is None:
        raise _Bad("qty needs a sku on the same row", hint="leave both empty to take everything left")
    if not _QTY_RE.fullmatch(text):
        if re.fullmatch(r"-?[0-9]+", text) and int(text) > MAX_QTY:
            raise _Bad(f"qty {text[:20]} is too large (at most {MAX_QTY})")
        raise _Bad(f"qty {text[:20]!r} is not a whole number from 1 to {MAX_QTY}")
    qty = int(text)
    if qty < 1:
        raise _Bad(f"qty {text} must be at least 1")
    return qty


def _sku(values: Mapping[str, str | None]) -> str | None:
    sku = _text(values, "sku")
    if sku is not None and len(sku) > SKU_MAX:
        raise _Bad(f"sku is longer than {SKU_MAX} characters")
    return sku


def _order(values: Mapping[str, str | None]) -> str:
    order = _required(values, "order")
    try:
        return check_order_arg(order)  # '#000000123' and '000000123' are one order (one package, one group)
    except UsageError as exc:
        raise _Bad(exc.message.replace("ORDER", "order", 1), exc.hint) from exc


def parse_ship_date(text: str, now: datetime) -> datetime:
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _Bad(
            f"ship_date {text[:40]!r} is not an ISO 8601 date or date-time",
            hint="e.g. 2026-11-27 or 2026-11-27T14:30:00Z",
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when > now + timedelta(days=1):
        raise _Bad(f"ship_date {text[:40]} is more than a day in the future")
    return when


@dataclass(slots=True)
class ShipPackage:
    """What one ``wmsync ship ORDER --carrier C --tracking T [--item SKU=QTY]...`` does."""

    order: str
    tracking: str
    carrier: str
    carrier_name: str
    method: str | None
    tracking_url: str | None
    ship_date: datetime | None
    items: dict[str, int | None] | None
    lines: list[int]


@dataclass(slots=True)
class CancelJob:
    """What one ``wmsync cancel ORDER --reason R [--item SKU=QTY]...`` does."""

    order: str
    reason: str
    reason_code: str
    items: dict[str, int | None] | None
    lines: list[int]


@dataclass
class Validated:
    """The outcome of validating a file: the jobs (in file order) and every invalid row (by line)."""

    jobs: list[Any]
    invalid: list[RowError]
    rows: int

    @property
    def ok(self) -> bool:
        return not self.invalid


@dataclass(slots=True)
class _Group:
    first_line: int
    order: str
    attrs: tuple[Any, ...]
    whole: int | None = None  # line of a row without sku
    skus: dict[str, tuple[int | None, int]] | None = None  # sku -> (qty, line)
    lines: list[int] = field(default_factory=list)
    poison: int | None = None  # line of the first invalid row
    payload: Any = None


def _add_row(
    groups: dict[str, _Group],
    key: str,
    order: str,
    attrs: tuple[Any, ...],
    sku: str | None,
    qty: int | None,
    line: int,
    what: str,
    errors: dict[int, RowError],
    payload: Any = None,
) -> None:
    """Add a row to its group (package / cancellation), recording duplicates and conflicts."""
    group = groups.get(key)
    if group is None:
        group = groups[key] = _Group(line, order, attrs, payload=payload)
    group.lines.append(line)
    if group.attrs != attrs:
        errors[line] = RowError(
            line,
            f"conflicts with line {group.first_line}: the same {what} with a different {_differs(group.attrs, attrs)}",
            order,
        )
        group.poison = group.poison or line
        return
    if sku is None:
        if group.whole is not None:
            errors[line] = RowError(line, f"duplicate of line {group.whole}", order)
            return
        if group.skus:
            errors[line] = RowError(
                line,
                f"conflicts with line {min(v[1] for v in group.skus.values())}: one row "
                f"takes the whole order, another only some SKUs, for the same {what}",
                order,
            )
            group.poison = group.poison or line
            return
        group.whole = line
        return
    if group.whole is not None:
        errors[line] = RowError(
            line, f"conflicts with line {group.whole}, which takes the whole order for the same {what}", order
        )
        group.poison = group.poison or line
        return
    if group.skus is None:
        group.skus = {}
    prev = group.skus.get(sku)
    if prev is not None:
        if prev[0] == qty:
            errors[line] = RowError(
                line, f"duplicate of line {prev[1]}", order, hint="write one row per SKU; for more units, raise its qty"
            )
        else:
            errors[line] = RowError(
                line,
                f"sku {sku} is on line {prev[1]} too, with another qty",
                order,
                hint="write one row per SKU with its total qty",
            )
            group.poison = group.poison or line
        return
    group.skus[sku] = (qty, line)


_ATTR_NAMES = ("carrier", "method", "tracking_url", "ship_date", "reason")


def _differs(a: tuple[Any, ...], b: tuple[Any, ...]) -> str:
    names = [n for n, x, y in zip(_ATTR_NAMES, a, b, strict=False) if x != y]
    return " and ".join(names) or "value"


def _finish(
    groups: dict[str, _Group], errors: dict[int, RowError], what: str, build: Callable[[_Group], Any], rows: int
) -> Validated:
    jobs = []
    while groups:  # emptied as it goes (last first): the groups and the jobs are not both held in full
        _key, group = groups.popitem()
        if group.poison is not None:
            for line in group.lines:
                if line not in errors:
                    errors[line] = RowError(
                        line,
                        f"not run: line {group.poison} of the same {what} is invalid",
                        group.order,
                        hint=f"fix line {group.poison}; a {what} runs only when all its rows are valid",
                    )
            continue
        group.lines = [line for line in group.lines if line not in errors]  # duplicates are reported apart
        jobs.append(build(group))
    jobs.reverse()
    return Validated(jobs, sorted(errors.values(), key=lambda e: e.line), rows)


def validate_ship(records: Iterable[Record], store: StoreConfig, *, now: datetime, errors: list[RowError]) -> Validated:
    """Check every row without sending anything; group rows into packages (same order + tracking)."""
    from wmsync.workflows.ship import resolve

    po_re = re.compile(store.po_pattern)
    carrier_cache: dict[tuple[str, str | None], str | _Bad] = {}
    method_cache: dict[str, str | _Bad] = {}
    errs: dict[int, RowError] = {}
    groups: dict[str, _Group] = {}
    rows = 0
    for rec in records:
        rows += 1
        values = rec.values
        order: str | None = None
        try:
            order = _order(values)
            carrier_text = _required(values, "carrier")
            tracking = _required(values, "tracking")
            url = _text(values, "tracking_url")
            key = (carrier_text.casefold(), url)
            resolved = carrier_cache.get(key)
            if resolved is None:
                try:
                    # validity does not depend on the number; "0" only fills a {tracking} URL template
                    resolved = resolve(store, carrier_text, tracking_url=url, tracking="0").name
                except WmsyncError as exc:
                    resolved = _Bad(exc.message, exc.hint)
                if len(carrier_cache) < 10_000:
                    carrier_cache[key] = resolved
            if isinstance(resolved, _Bad):
                raise resolved
            carrier_name = resolved
            try:
                rules.check_tracking_number(
                    tracking,
                    carrier=carrier_name,
                    purchase_order_id=order if po_re.fullmatch(order) else None,
                )
            except rules.RuleViolation as exc:
                raise _Bad(exc.message, exc.hint) from exc
            method = _text(values, "method")
            if method is not None:
                checked = method_cache.get(method)
                if checked is None:
                    try:
                        checked = rules.check_method_code(method)
                    except rules.RuleViolation as exc:
                        checked = _Bad(exc.message, exc.hint)
                    method_cache[method] = checked
                if isinstance(checked, _Bad):
                    raise checked
                method = checked
            date_text = _text(values, "ship_date")
            ship_date = parse_ship_date(date_text, now) if date_text is not None else None
            sku = _sku(values)
            qty = _qty(values, sku)
        except _Bad as bad:
            errs[rec.line] = RowError(rec.line, bad.message, order, bad.hint)
            # a bad row still belongs to its package when order and tracking can be read: the package is not run
            tr = (values.get("tracking") or "").strip()
            if order is not None and tr:
                bad_key = f"{order.casefold()}\n{tr.upper()}"
                group = groups.get(bad_key)
                if group is None:
                    group = groups[bad_key] = _Group(rec.line, order, ())
                group.lines.append(rec.line)
                group.poison = group.poison or rec.line
            continue
        attrs = (carrier_name, method, url, ship_date)
        gkey = f"{order.casefold()}\n{tracking.upper()}"
        existing = groups.get(gkey)
        if existing is not None and existing.attrs == () and existing.poison is not None:
            existing.lines.append(rec.line)
            continue
        _add_row(
            groups,
            gkey,
            order,
            attrs,
            sku,
            qty,
            rec.line,
            "package (order and tracking number)",
            errs,
            payload=(carrier_text, tracking),
        )

    errs.update((e.line, e) for e in errors)  # rows the reader could not read (filled while reading)
    rows += len(errors)

    def build(group: _Group) -> ShipPackage:
        carrier_text, tracking = group.payload
        carrier_name, method, url, ship_date = group.attrs
        items: dict[str, int | None] | None = None
        if group.skus:
            items = {sku: qty for sku, (qty, _line) in group.skus.items()}
        return ShipPackage(
            group.order, tracking, carrier_text, carrier_name, method, url, ship_date, items, sorted(group.lines)
        )

    return _finish(groups, errs, "package", build, rows)


def validate_cancel(records: Iterable[Record], *, errors: list[RowError]) -> Validated:
    """Check every cancel row; group rows of one order into one cancellation."""
    errs: dict[int, RowError] = {}
    groups: dict[str, _Group] = {}
    reason_cache: dict[str, str | _Bad] = {}
    rows = 0
    for rec in records:
        rows += 1
        values = rec.values
        order: str | None = None
        try:
            order = _order(values)
            reason = _required(values, "reason")
            code = reason_cache.get(reason)
            if code is None:
                try:
                    code = rules.resolve_cancellation_reason(reason)
                except rules.RuleViolation as exc:
                    code = _Bad(exc.message, exc.hint)
                reason_cache[reason] = code
            if isinstance(code, _Bad):
                raise code
            sku = _sku(values)
            qty = _qty(values, sku)
        except _Bad as bad:
            errs[rec.line] = RowError(rec.line, bad.message, order, bad.hint)
            if order is not None:
                group = groups.get(order.casefold())
                if group is None:
                    group = groups[order.casefold()] = _Group(rec.line, order, ())
                group.lines.append(rec.line)
                group.poison = group.poison or rec.line
            continue
        gkey = order.casefold()
        existing = groups.get(gkey)
        if existing is not None and existing.attrs == () and existing.poison is not None:
            existing.lines.append(rec.line)
            continue
        # the reason sits last in _ATTR_NAMES so conflicts name it
        attrs = (None, None, None, None, code)
        _add_row(groups, gkey, order, attrs, sku, qty, rec.line, "order", errs, payload=reason)

    errs.update((e.line, e) for e in errors)  # rows the reader could not read (filled while reading)
    rows += len(errors)

    def build(group: _Group) -> CancelJob:
        items = {sku: qty for sku, (qty, _line) in group.skus.items()} if group.skus else None
        return CancelJob(group.order, group.payload, group.attrs[4], items, sorted(group.lines))

    return _finish(groups, errs, "cancellation", build, rows)


def by_order(jobs: Sequence[Any]) -> list[list[Any]]:
    """Jobs of the same order (as written) run one after the other, in file order."""
    out: dict[str, list[Any]] = {}
    for job in jobs:
        out.setdefault(job.order.casefold(), []).append(job)
    return list(out.values())


# ---------------------------------------------------------------------------------------------- journal


class DoneIndex:
    """What the journal records as finished, for the orders of a file: a re-run skips those packages without
    reading either side."""

    def __init__(self, ops: Iterable[DoneOperation]) -> None:
        self._ship: dict[tuple[str, str], dict[str, Any]] = {}
        self._cancel: dict[str, list[tuple[str, str]]] = {}
        for op in ops:
            names = [n.casefold() for n in (op.order_number, op.purchase_order_id) if n]
            if op.op_key.startswith("ship:"):
                tracking = op.op_key.split(":", 2)[2].upper()
                items = op.params.get("items") if isinstance(op.params.get("items"), dict) else {}
                for name in names:
                    merged = self._ship.setdefault((name, tracking), {})
                    for sku, qty in (items or {}).items():
                        merged[str(sku)] = max(int(qty or 0), int(merged.get(str(sku), 0)))
            elif op.op_key.startswith("cancel:") and op.purchase_order_id:
                for name in names:
                    self._cancel.setdefault(name, []).append((op.purchase_order_id, op.op_key))

    @classmethod
    def load(cls, journal: Journal, store: str, kind: str, orders: Iterable[str]) -> DoneIndex:
        return cls(journal.done_operations(store, kind, orders))

    def ship_done(self, pkg: ShipPackage) -> bool:
        done = self._ship.get((pkg.order.casefold(), pkg.tracking.upper()))
        if done is None:
            return False
        if pkg.items is None:
            return True
        return all(sku in done and (qty is None or qty <= done[sku]) for sku, qty in pkg.items.items())

    def cancel_done(self, job: CancelJob) -> bool:
        from wmsync.workflows.cancel import op_key

        return any(op_key(po, job.items) == key for po, key in self._cancel.get(job.order.casefold(), []))


# ---------------------------------------------------------------------------------------------- running


@dataclass
class RowResult:
    """The outcome of one row of the file (rows of one package share it)."""

    row: int
    order: str | None
    result: str
    error: str | None = None
    exit_code: int = 0
    hint: str | None = None
    purchase_order_id: str | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    reason: str | None = None
    source: str | None = None
    correlation_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "row": self.row,
            "order": self.order,
            "result": self.result,
            "error": self.error,
            "exit_code": self.exit_code,
        }
        for key in ("hint", "purchase_order_id", "tracking_number", "carrier", "reason", "source"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.correlation_ids:
            out["correlation_ids"] = self.correlation_ids
        return out


def invalid_results(invalid: Iterable[RowError]) -> list[RowResult]:
    return [RowResult(e.line, e.order, INVALID, e.message, int(ExitCode.REFUSED), hint=e.hint) for e in invalid]


@dataclass
class Outcome:
    """One package or cancellation: its result for all its rows."""

    result: str
    exit_code: int = 0
    error: str | None = None
    hint: str | None = None
    purchase_order_id: str | None = None
    source: str | None = None
    correlation_ids: list[str] = field(default_factory=list)


def outcome_of_error(exc: BaseException) -> Outcome:
    """A failed package: skipped when another run holds the order, else failed with the error's exit code."""
    if isinstance(exc, LeaseTimeoutError):
        return Outcome(SKIPPED, int(exc.exit_code), exc.message, exc.hint)
    if isinstance(exc, UnconfirmedError):
        po = exc.outcome.purchase_order_id if exc.outcome is not None else None
        return Outcome(PENDING, int(exc.exit_code), exc.message, exc.hint, purchase_order_id=po)
    if isinstance(exc, WmsyncError):
        return Outcome(FAILED, int(exc.exit_code), exc.message, exc.hint)
    return Outcome(FAILED, int(ExitCode.INTERNAL), f"internal error: {type(exc).__name__}: {exc}")


@dataclass
class RunOptions:
    dry_run: bool = False
    lock_timeout: float = 60.0
    via: str = "direct"


def ship_package(ctx: Context, pkg: ShipPackage, opts: RunOptions) -> Outcome:
    """Run one package with the single-order workflow."""
    from wmsync.workflows import ship as wf

    req = wf.ShipRequest(
        order=pkg.order,
        carrier=pkg.carrier,
        tracking=pkg.tracking,
        method=pkg.method,
        tracking_url=pkg.tracking_url,
        items=pkg.items,
        ship_date=pkg.ship_date,
        via=opts.via,  # type: ignore[arg-type]
    )
    try:
        done = wf.execute(ctx, req, dry_run=opts.dry_run, lock_timeout=opts.lock_timeout)
    except Exception as exc:
        return outcome_of_error(exc)
    return Outcome(str(done.result), 0, purchase_order_id=done.purchase_order_id)


def cancel_order(ctx: Context, job: CancelJob, opts: RunOptions) -> Outcome:
    """Run one cancellation with the single-order workflow, confirming without asking."""
    from wmsync.workflows import cancel as wf

    req = wf.CancelRequest(order=job.order, reason=job.reason, items=job.items)
    try:
        done = wf.execute(ctx, req, dry_run=opts.dry_run, lock_timeout=opts.lock_timeout)
    except Exception as exc:
        return outcome_of_error(exc)
    return Outcome(str(done.result), 0, purchase_order_id=done.purchase_order_id)


def run_jobs(
    groups: Iterable[Sequence[Any]],
    work: Callable[[Any], Outcome],
    *,
    workers: int,
    on_outcome: Callable[[Any, Outcome], None],
    stop: threading.Event,
    on_thread_exit: Callable[[], None] | None = None,
) -> None:
    """Run each group's jobs in order, groups concurrently on ``workers`` threads. ``on_outcome`` is called
    (serialised) as each job finishes. When ``stop`` is set no new job starts; running ones finish. Returns
    when every started job has finished (or raises KeyboardInterrupt after setting ``stop``)."""
    it = iter(groups)
    take = threading.Lock()
    report = threading.Lock()

    def worker() -> None:
        try:
            while not stop.is_set():
                with take:
                    group = next(it, None)
                if group is None:
                    return
                unfinished = False
                for job in group:
                    if stop.is_set():
                        return
                    if unfinished:
                        # A later package of the same order must not run after an earlier one failed: one that
                        # names no SKU ("everything still unshipped") would take the failed package's items under
                        # its own tracking number, and a re-run could never finish the first one.
                        outcome = Outcome(
                            SKIPPED,
                            int(ExitCode.UNAVAILABLE),
                            "not run: an earlier package of this order did not finish",
                            "run the file again: what is done is skipped, the rest is finished",
                        )
                    else:
                        try:
                            outcome = work(job)
                        except BaseException as exc:  # a bug must not lose the rows' results
                            outcome = outcome_of_error(exc)
                        unfinished = outcome.result in (FAILED, SKIPPED)
                    with report:
                        on_outcome(job, outcome)
        finally:
            if on_thread_exit is not None:
                on_thread_exit()

    threads = [threading.Thread(target=worker, name=f"wmsync-batch-{i}", daemon=True) for i in range(max(1, workers))]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        for t in threads:
            while t.is_alive():
                t.join(0.2)
        raise


def summarize(results: Iterable[RowResult]) -> dict[str, int]:
    counts = dict.fromkeys(RESULTS, 0)
    for r in results:
        counts[r.result] = counts.get(r.result, 0) + 1
    return counts
