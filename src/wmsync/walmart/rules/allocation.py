"""Line-level allocation: spreading a requested quantity per SKU over Walmart's order lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wmsync.walmart.rules.common import RuleViolation, _close, _dedupe, _did_you_mean, _show

# 5. Line-level allocation


@dataclass(frozen=True)
class LineAvailability:
    """A Walmart order line and how many units of it can still be shipped (or cancelled)."""

    line_number: str
    sku: str
    available_qty: int

    def __post_init__(self) -> None:
        if isinstance(self.available_qty, bool) or not isinstance(self.available_qty, int):
            raise TypeError(f"available_qty must be an int, got {self.available_qty!r}")
        if self.available_qty < 0:
            raise ValueError(f"line {self.line_number}: available_qty must not be negative ({self.available_qty})")


@dataclass(frozen=True)
class Allocation:
    line_number: str
    sku: str
    qty: int


def _line_key(line_number: str) -> tuple[int, int, str]:
    s = line_number.strip()
    if s.isascii() and s.isdigit():
        return (0, int(s), s)
    return (1, 0, s)


def allocate(requested: Mapping[str, int], available: Sequence[LineAvailability]) -> list[Allocation]:
    """Spread each SKU's requested quantity over the Walmart lines of that SKU, lowest line number first
    (numeric order when numeric), never more than a line has left. Result in line order.

    Walmart often splits a quantity into several lines of quantity 1 with the same SKU. Raises
    :class:`RuleViolation` naming every SKU that is not on the order or has too little left.
    """
    if not requested:
        raise RuleViolation("nothing to allocate: no SKU quantities were given", rule="allocation")
    for sku, qty in requested.items():
        if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
            raise RuleViolation(
                f"quantity for SKU {_show(str(sku))} must be a positive whole number; got {qty!r}",
                rule="allocation-quantity",
            )
    seen_lines: set[str] = set()
    by_sku: dict[str, list[LineAvailability]] = {}
    for line in available:
        if line.line_number in seen_lines:
            raise ValueError(f"line number {line.line_number!r} appears twice")
        seen_lines.add(line.line_number)
        by_sku.setdefault(line.sku, []).append(line)
    for lines in by_sku.values():
        lines.sort(key=lambda ln: _line_key(ln.line_number))

    problems: list[str] = []
    hints: list[str] = []
    result: list[Allocation] = []
    for sku, qty in requested.items():
        lines = by_sku.get(sku, [])
        if not lines:
            sugg = _close(sku, by_sku, n=3, cutoff=0.6)
            problems.append(
                f"SKU {_show(sku)} is not on this Walmart order" + (f" ({_did_you_mean(sugg)})" if sugg else "")
            )
            on_order = sorted(by_sku)
            if on_order:
                shown = ", ".join(_show(s) for s in on_order[:20]) + (" …" if len(on_order) > 20 else "")
                hints.append(f"SKUs on this order: {shown}")
            continue
        left = sum(ln.available_qty for ln in lines)
        if left < qty:
            detail = ", ".join(f"line {ln.line_number}: {ln.available_qty}" for ln in lines)
            problems.append(f"SKU {_show(sku)}: asked for {qty}, only {left} left ({detail})")
            hints.append("the rest is already shipped or cancelled on Walmart; `wmsync status` shows each line")
            continue
        remaining = qty
        for ln in lines:
            if remaining == 0:
                break
            take = min(ln.available_qty, remaining)
            if take > 0:
                result.append(Allocation(ln.line_number, sku, take))
                remaining -= take
    if problems:
        raise RuleViolation(
            "cannot allocate: " + "; ".join(problems),
            hint="; ".join(_dedupe(hints)) or None,
            rule="allocation",
        )
    result.sort(key=lambda a: _line_key(a.line_number))
    return result
