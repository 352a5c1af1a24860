"""How two tracking numbers are compared: one package is one number, however it was typed.

Carriers print tracking numbers in upper case, often grouped with spaces; operators and spreadsheets type them
any way. Every comparison in wmsync (the Commerce shipment that carries a number, the Walmart lines shipped
under it, the journal's keys, a batch file's skip list, ``status``) goes through :func:`tracking_key`.
"""

from __future__ import annotations


def tracking_key(number: str) -> str:
    """The number without whitespace, in upper case."""
    return "".join(number.split()).upper()


def same_tracking(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and tracking_key(a) == tracking_key(b)
