"""Validating a batch file's records: every rule that needs no request — columns, ORDER's form, carrier on
Walmart's list or in the store's mapping, tracking-number format, method code, quantities, dates, control
characters, duplicates and conflicting rows — and grouping: rows with the same order and tracking number form one
package (``wmsync ship`` with ``--item`` for each row that names a SKU); cancel rows with the same order form one
cancellation. A package with one bad row is not shipped at all (shipping the rest under that tracking number
would make a package that cannot be completed later)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Generic, TypeVar

from wmsync.config import StoreConfig
from wmsync.errors import UsageError, WmsyncError
from wmsync.tracking_key import tracking_key
from wmsync.walmart import rules
from wmsync.workflows.base import SKU_MAX, check_order_arg
from wmsync.workflows.batch_file import MAX_FIELD, Record, RowError

SHIP_REQUIRED = ("order", "carrier", "tracking")
SHIP_OPTIONAL = ("method", "tracking_url", "sku", "qty", "ship_date")
CANCEL_REQUIRED = ("order", "reason")
CANCEL_OPTIONAL = ("sku", "qty")
#: A cell starting with one of these is a spreadsheet formula (CSV injection): refused in these columns, as it is
#: in the order column.
FORMULA_PREFIXES = ("=", "+", "-", "@")
FORMULA_CHECKED = frozenset({"carrier", "method", "tracking"})
MAX_QTY = 999_999
_QTY_RE = re.compile(r"[0-9]{1,6}")


K = TypeVar("K")


class _Bad(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class _Memo(Generic[K]):
    """A rule check answered once per key: a file repeats its carriers, methods and reasons on every row.
    Returns the checked value or raises the row's error."""

    def __init__(self, *, limit: int = 10_000) -> None:
        self._limit = limit
        self._seen: dict[K, str | _Bad] = {}

    def check(self, key: K, check: Callable[[], str]) -> str:
        got = self._seen.get(key)
        if got is None:
            try:
                got = check()
            except rules.RuleViolation as exc:
                got = _Bad(exc.message, exc.hint)
            except WmsyncError as exc:
                got = _Bad(exc.message, exc.hint)
            if len(self._seen) < self._limit:
                self._seen[key] = got
        if isinstance(got, _Bad):
            raise got
        return got


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
    if col in FORMULA_CHECKED and value[:1] in FORMULA_PREFIXES:
        raise _Bad(
            f"{col} {value[:30]!r} starts with {value[0]!r}: a spreadsheet formula, not a {col}",
            hint="export the values rather than the formulas, or retype the cell",
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


def _carrier_name(store: StoreConfig, text: str, url: str | None) -> str:
    from wmsync.workflows.ship_plan import resolve

    return resolve(store, text, tracking_url=url, tracking="0").name


def validate_ship(
    records: Iterable[Record],
    store: StoreConfig,
    *,
    now: datetime,
    errors: list[RowError],
    skip_format_check: bool = False,
) -> Validated:
    """Check every row without sending anything; group rows into packages (same order + tracking)."""
    po_re = re.compile(store.po_pattern)
    carriers = _Memo[tuple[str, str | None]]()
    methods = _Memo[str]()
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
            carrier_name = carriers.check(
                (carrier_text.casefold(), url),
                # validity does not depend on the number; "0" only fills a {tracking} URL template
                partial(_carrier_name, store, carrier_text, url),
            )
            try:
                rules.check_tracking_number(
                    tracking,
                    carrier=carrier_name,
                    purchase_order_id=order if po_re.fullmatch(order) else None,
                    skip_format_check=skip_format_check,
                )
            except rules.RuleViolation as exc:
                raise _Bad(exc.message, exc.hint) from exc
            method = _text(values, "method")
            if method is not None:
                method = methods.check(method, partial(rules.check_method_code, method))
            date_text = _text(values, "ship_date")
            ship_date = parse_ship_date(date_text, now) if date_text is not None else None
            sku = _sku(values)
            qty = _qty(values, sku)
        except _Bad as bad:
            errs[rec.line] = RowError(rec.line, bad.message, order, bad.hint)
            # a bad row still belongs to its package when order and tracking can be read: the package is not run
            tr = (values.get("tracking") or "").strip()
            if order is not None and tr:
                bad_key = f"{order.casefold()}\n{tracking_key(tr)}"
                group = groups.get(bad_key)
                if group is None:
                    group = groups[bad_key] = _Group(rec.line, order, ())
                group.lines.append(rec.line)
                group.poison = group.poison or rec.line
            continue
        attrs = (carrier_name, method, url, ship_date)
        gkey = f"{order.casefold()}\n{tracking_key(tracking)}"
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
    reasons = _Memo[str]()
    rows = 0
    for rec in records:
        rows += 1
        values = rec.values
        order: str | None = None
        try:
            order = _order(values)
            reason = _required(values, "reason")
            code = reasons.check(reason, partial(rules.resolve_cancellation_reason, reason))
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


