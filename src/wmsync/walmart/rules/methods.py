"""Walmart's shipping method codes."""

from __future__ import annotations

from wmsync.walmart import enums
from wmsync.walmart.rules.common import RuleViolation, _close, _compact, _did_you_mean, _show

# 3. Method codes


def check_method_code(value: str) -> str:
    """Walmart's spelling of a ship method code (case-insensitive; "one-day" and "white glove" work too)."""
    codes = enums.method_codes()
    clean = value.strip() if isinstance(value, str) else ""
    for code in codes:
        if code.casefold() == clean.casefold() or (clean and _compact(code) == _compact(clean)):
            return code
    sugg = _close(clean, codes) if clean else []
    message = f"method code {_show(clean)} is not one of Walmart's: {', '.join(codes)}"
    if sugg:
        message += f"; {_did_you_mean(sugg)}"
    raise RuleViolation(
        message,
        hint="the order's own shippingInfo.methodCode is usually right; omit --method to use it",
        rule="method-code",
    )
