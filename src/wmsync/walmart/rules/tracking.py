"""Tracking-number rules: the general policy and the per-carrier formats (sources: walmart/data/tracking_rules.md)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from wmsync.walmart.rules.common import RuleViolation, _dedupe, _first_control, _show

# 2. Tracking numbers
#
# General rules (every carrier), from Walmart's valid-tracking policy (right format for the carrier, no
# special characters, not the PO number) plus input hygiene:
# * Characters: ASCII letters and digits, and a hyphen only *between* letters/digits. Hyphens are allowed
#   because some real numbers carry one: LaserShip/OnTrac piece numbers end in "-1" ("1LS7119013618127-1"),
#   and LTL freight PRO numbers are often issued with dashes. The big parcel formats (UPS, USPS, FedEx, DHL)
#   contain no hyphen, so their format checks refuse one and show the number without it.
# * Length 5–40: the shortest real numbers are LTL PRO numbers of 6–7 digits (UPS tracks "seven to 20
#   characters" for freight); the longest are 34-digit FedEx/USPS barcodes and 35-character ISO 15459 licence
#   plates (DHL). Anything outside is a paste accident (a cut number, a whole label, an address).

_TRACKING_MIN = 5
_TRACKING_MAX = 40

CheckDigit = Callable[[str], int | None]


def _char_value(ch: str) -> int:
    # UPS: letters count as (ASCII code − 3) mod 10, so A=2 … I=0, J=1 … S=0, T=1 … Z=7.
    return int(ch) if ch.isdigit() else (ord(ch) - 3) % 10


def _ups_check_digit(number: str) -> int | None:
    """Expected last digit of a 1Z number (UPS mod 10 over the 15 characters after "1Z"): odd positions ×1,
    even positions ×2, then 10 − sum mod 10. Published in UPS's tracking-number label documentation and used
    by every tracking library; it holds for every 1Z number."""
    body = number[2:-1]
    total = sum(_char_value(ch) * (2 if i % 2 else 1) for i, ch in enumerate(body))
    return (10 - total % 10) % 10


def _impb_check_digit(number: str) -> int | None:
    """USPS IMpb mod 10 (USPS Publication 199, check digit appendix): from the rightmost data digit leftwards
    weights 3, 1, 3, …; check = 10 − sum mod 10."""
    data = number[:-1]
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(data)))
    return (10 - total % 10) % 10


def _s10_check_digit(number: str) -> int | None:
    """UPU S10 mod 11 over the 8 serial digits with weights 8 6 4 2 3 5 9 7; 11 − sum mod 11, where 10 → 0 and
    11 → 5."""
    serial = number[2:10]
    total = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return 0 if check == 10 else 5 if check == 11 else check


class _Format:
    """A carrier's number format; its regular expression is compiled when a number is first checked against
    it (a command that checks no tracking number pays nothing for the table)."""

    __slots__ = ("_pattern", "check_at", "check_digit", "hyphen", "label", "regex")

    def __init__(self, label: str, regex: str, check_digit: CheckDigit | None = None, check_at: int = -1,
                 hyphen: bool = False) -> None:
        self.label = label
        self.regex = regex
        self.check_digit = check_digit
        self.check_at = check_at  # index of the check digit in the number
        self.hyphen = hyphen  # the format has a hyphen
        self._pattern: re.Pattern[str] | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        if self._pattern is None:
            self._pattern = re.compile(self.regex)
        return self._pattern


def _f(
    label: str, regex: str, check_digit: CheckDigit | None = None, *, check_at: int = -1, hyphen: bool = False
) -> _Format:
    return _Format(label, regex, check_digit, check_at, hyphen)


# Building blocks shared by several carriers.
_UPS_1Z = _f("1Z + 16 letters/digits (18 characters)", r"1Z[0-9A-Z]{15}[0-9]", _ups_check_digit)
_IMPB = _f("22 or 26 digits starting 91–95 (USPS IMpb)", r"9[1-5](?:[0-9]{20}|[0-9]{24})", _impb_check_digit)
_S10 = _f(
    "2 letters + 9 digits + 2-letter country, e.g. EA123456785US (UPU S10)",
    r"[A-Z]{2}[0-9]{9}[A-Z]{2}",
    _s10_check_digit,
    check_at=10,
)
_LASERSHIP = (
    # LaserShip (merged into OnTrac in 2023; OnTrac's FAQ lists 1LS, LS, LX and BN numbers as its own).
    _f("1LS + 9–20 letters/digits (LaserShip)", r"1LS[0-9A-Z]{9,20}(?:-[0-9]{1,2})?", hyphen=True),
    _f("L + letter + 8 digits, e.g. LX17635036 (LaserShip)", r"L[A-Z][0-9]{8}"),
    _f("LS or BN + 8–20 letters/digits (LaserShip)", r"(?:LS|BN)[0-9A-Z]{8,20}"),
)

# Per-carrier formats. Keys are Walmart carrier names, case-folded. Sources in walmart/data/tracking_rules.md.
_CARRIER_FORMATS: dict[str, tuple[str, tuple[_Format, ...]]] = {
    # UPS help center, "What is a tracking number?": 1Z9999999999999999, 999999999999, T9999999999, 999999999;
    # Mail Innovations: 22–34-digit USPS numbers, 18-digit sequence numbers, MI + 6-digit customer number + up
    # to 22 characters. (SurePost/Ground Saver parcels delivered by USPS carry the same 22–34-digit numbers.)
    # Freight PRO/waybill numbers of other lengths go under "TForce Freight" or with --skip-format-check.
    "ups": (
        "UPS",
        (
            _UPS_1Z,
            _f("T + 10 digits", r"T[0-9]{10}"),
            _f("9 or 12 digits", r"[0-9]{9}|[0-9]{12}"),
            _f("18 digits (Mail Innovations sequence number)", r"[0-9]{18}"),
            _f("22–34 digits (Mail Innovations / SurePost via USPS)", r"[0-9]{22,34}"),
            _f("MI + 6 digits + up to 22 letters/digits (Mail Innovations)", r"MI[0-9]{6}[0-9A-Z]{1,22}"),
        ),
    ),
    "upsmi": (
        "UPS Mail Innovations",
        (
            _f("22–34 digits (USPS number)", r"[0-9]{22,34}"),
            _f("18 digits (sequence number)", r"[0-9]{18}"),
            _f("MI + 6 digits + up to 22 letters/digits", r"MI[0-9]{6}[0-9A-Z]{1,22}"),
            _UPS_1Z,
        ),
    ),
    # USPS Publication 199 (IMpb): 22 digits (26 with an 11-digit serial) starting with the application
    # identifier 91–95, mod-10 check digit. Older 20-digit numbers (Certified Mail "7…", Delivery
    # Confirmation) have two check-digit variants in the wild, so only their length is checked.
    # International: UPU S10.
    "usps": (
        "USPS",
        (
            _IMPB,
            _f("20 digits (older USPS numbers)", r"[0-9]{20}"),
            _S10,
        ),
    ),
    # FedEx: Express 12 digits, Ground 12–15 digits (15 before 2013), SSCC-18 (18 digits starting 00), Ground
    # 96… barcodes of 20/22 digits, 34-digit Express/Ground barcodes. FedEx's check digits differ per service
    # and are not reliably published, so only the shape is checked.
    "fedex": (
        "FedEx",
        (
            _f("12, 14 or 15 digits", r"[0-9]{12}|[0-9]{14,15}"),
            _f("18 digits starting 00 (SSCC-18)", r"00[0-9]{16}"),
            _f("20 or 22 digits (Ground barcode, SmartPost)", r"[0-9]{20}|[0-9]{22}"),
            _f("34 digits (full barcode)", r"[0-9]{34}"),
        ),
    ),
    # FedEx SmartPost / Ground Economy: USPS-delivered 20/22-digit numbers (92… IMpb), and FedEx numbers.
    "fedexsp": (
        "FedEx SmartPost",
        (
            _f("20, 22 or 26 digits (SmartPost / IMpb)", r"[0-9]{20}|[0-9]{22}|[0-9]{26}"),
            _f("12, 14 or 15 digits (FedEx number)", r"[0-9]{12}|[0-9]{14,15}"),
            _f("30 or 34 digits (full barcode)", r"[0-9]{30}|[0-9]{34}"),
        ),
    ),
    # DHL Express: waybills are "numeric identifiers of exactly ten digits" (some tools report 11); pieces use
    # ISO 15459 licence plates of up to 35 characters, e.g. JJD + digits, JVGL + digits. DHL's mod-7 waybill
    # check digit is not officially published, so it is not checked.
    "dhl": (
        "DHL Express",
        (
            _f("10 digits (waybill)", r"[0-9]{10,11}"),
            _f("JD/JJD/JVGL… + digits (piece ID)", r"J[A-Z]{1,3}[0-9]{8,31}"),
        ),
    ),
    # DHL eCommerce (US): GM + digits, other 2-letter prefixes + digits (LX, RX, …), and the USPS numbers of
    # the final mile (IMpb, with or without 420 + ZIP) — numeric of 16–34 digits — and S10 for international.
    "dhl ecommerce - us": (
        "DHL eCommerce",
        (
            _f("GM + 10–34 digits", r"GM[0-9]{10,34}"),
            _f("LX/RX/UV/CN/SG/TH/IN/HK/MY + 10–34 digits", r"(?:LX|RX|UV|CN|SG|TH|IN|HK|MY)[0-9]{10,34}"),
            _f("16–34 digits", r"[0-9]{16,34}"),
            _S10,
        ),
    ),
    # OnTrac: C or D + 14 digits (OnTrac's own numbers); since the LaserShip merger also LaserShip formats.
    "ontrac": (
        "OnTrac",
        (
            _f("C or D + 14 digits", r"[CD][0-9]{14}"),
            *_LASERSHIP,
        ),
    ),
    "ls": ("LaserShip", _LASERSHIP),
    # LSO (Lone Star Overnight): 8-character airbill numbers starting with two letters (e.g. ZY…), 13- and
    # 20-digit label barcodes, and LSO + 2 letters + 10 digits. LSO publishes no format; these are the
    # patterns on its labels as read by label-scanning software. When an LSO number is refused wrongly, use
    # --skip-format-check.
    "lso": (
        "LSO",
        (
            _f("2 letters + 6 letters/digits (airbill, 8 characters)", r"[A-Z]{2}[0-9A-Z]{6}"),
            _f("13 or 20 digits (label barcode)", r"[0-9]{13}|[0-9]{20}"),
            _f("LSO + 2 letters + 10 digits", r"LSO[A-Z]{2}[0-9]{10}"),
        ),
    ),
}

# Shapes distinctive enough to name the carrier when a number does not fit the one chosen.
_DISTINCTIVE: tuple[tuple[str, _Format], ...] = (
    ("UPS", _UPS_1Z),
    ("USPS", _IMPB),
    ("USPS", _S10),
    ("OnTrac", _f("", r"[CD][0-9]{14}")),
    ("DHL Ecommerce - US", _f("", r"GM[0-9]{10,34}")),
    ("LS", _LASERSHIP[0]),
    ("DHL", _f("", r"J(?:JD|VGL)[0-9]{8,31}")),
)


def format_checked_carriers() -> tuple[str, ...]:
    """Walmart carrier names (case-folded) that have a per-carrier tracking-number format check."""
    return tuple(_CARRIER_FORMATS)


def _fits(fmt: _Format, number: str) -> bool:
    if not fmt.pattern.fullmatch(number):
        return False
    if fmt.check_digit is None:
        return True
    expected = fmt.check_digit(number)
    return expected is None or str(expected) == number[fmt.check_at]


def _looks_like(number: str, exclude: str) -> list[str]:
    return _dedupe(name for name, fmt in _DISTINCTIVE if name.casefold() != exclude and _fits(fmt, number))


def _describe(number: str) -> str:
    n = len(number)
    if number.isdigit():
        return f"{n} digit{'s' if n != 1 else ''}"
    return f"{_show(number)} ({n} character{'s' if n != 1 else ''})"


def _violation(message: str, hint: str | None = None, rule: str = "tracking") -> RuleViolation:
    return RuleViolation(message, hint=hint, rule=rule)


_FORMAT_HINT = "check the number on the label; if it is right, pass --skip-format-check"


def _check_general(number: str, purchase_order_id: str | None) -> None:
    if not isinstance(number, str) or number == "":
        raise _violation(
            "tracking number is empty; Walmart requires a tracking number on every shipment",
            hint="pass --tracking (the number on the shipping label)",
            rule="tracking-empty",
        )
    bad = _first_control(number)
    if bad is not None:
        pos, ch = bad
        name = unicodedata.name(ch, "control character")
        raise _violation(
            f"tracking number contains a control character (U+{ord(ch):04X} {name}) at position {pos + 1}; "
            f"tracking numbers are letters and digits only",
            hint="type the number again; it may have been pasted with invisible characters",
            rule="tracking-characters",
        )
    if any(ch.isspace() for ch in number):
        squeezed = "".join(ch for ch in number if not ch.isspace())
        where = "around" if number.strip() != number and not any(ch.isspace() for ch in number.strip()) else "in"
        raise _violation(
            f"tracking number {_show(number)} has spaces {where} it; tracking numbers have none",
            hint=f"did you mean {_show(squeezed)}?" if squeezed else None,
            rule="tracking-characters",
        )
    for i, ch in enumerate(number):
        if ch.isascii() and (ch.isalnum() or ch == "-"):
            continue
        what = f"'{ch}'" if ch.isprintable() else f"U+{ord(ch):04X}"
        # Name non-ASCII look-alikes ("О" is CYRILLIC CAPITAL LETTER O, not the letter O).
        detail = f" (U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')})" if not ch.isascii() else ""
        raise _violation(
            f"tracking number {_show(number)} contains {what}{detail} at position {i + 1}; Walmart accepts "
            f"only letters A–Z, digits 0–9 (and a hyphen between them) — no special characters",
            hint="copy the number exactly as printed under the barcode",
            rule="tracking-characters",
        )
    if number.startswith("-") or number.endswith("-") or "--" in number:
        raise _violation(
            f"tracking number {_show(number)} has a hyphen at an end or two in a row; a hyphen may only "
            f"separate letters/digits",
            hint=f"did you mean {_show(re.sub('-+', '-', number).strip('-'))}?",
            rule="tracking-characters",
        )
    if not _TRACKING_MIN <= len(number) <= _TRACKING_MAX:
        raise _violation(
            f"tracking number {_show(number)} has {len(number)} characters; real tracking numbers have "
            f"{_TRACKING_MIN} to {_TRACKING_MAX}",
            hint="check that the whole number (and only the number) was copied",
            rule="tracking-length",
        )
    if purchase_order_id:
        if number.replace("-", "").casefold() == purchase_order_id.strip().replace("-", "").casefold():
            raise _violation(
                f"tracking number {_show(number)} is the Walmart purchase order number; Walmart counts "
                f"that as invalid tracking",
                hint="pass the carrier's tracking number from the shipping label",
                rule="tracking-is-po",
            )


def _check_format(number: str, carrier_key: str) -> None:
    display, formats = _CARRIER_FORMATS[carrier_key]
    upper = number.upper()
    if "-" in upper and not any(f.hyphen for f in formats):
        raise _violation(
            f"{display} tracking numbers contain no hyphens; got {_show(number)}",
            hint=f"did you mean {_show(number.replace('-', ''))}?",
            rule="tracking-format",
        )
    for fmt in formats:
        if not fmt.pattern.fullmatch(upper):
            continue
        if fmt.check_digit is not None:
            expected = fmt.check_digit(upper)
            got = upper[fmt.check_at]
            if expected is not None and str(expected) != got:
                position = fmt.check_at % len(upper) + 1
                raise _violation(
                    f"{display} tracking number {_show(number)} fails its check digit (character {position} "
                    f"should be {expected}, not {got}): a character is mistyped or two are swapped",
                    hint=_FORMAT_HINT,
                    rule="tracking-check-digit",
                )
        return

    # No format fits: say what was expected, precisely when the number is a near miss.
    others = _looks_like(upper, carrier_key)
    also = f"; it looks like a {' or '.join(others)} number: is the carrier right?" if others else ""
    if carrier_key in ("ups", "upsmi") and upper.startswith("1Z") and len(upper) == 18:
        message = f"UPS 1Z tracking numbers end in a check digit (0–9); got {_show(number)}"
    elif carrier_key in ("ups", "upsmi") and upper.startswith("1Z"):
        message = f"UPS tracking numbers look like 1Z + 16 letters/digits (18 characters); got {len(upper)} characters"
    elif carrier_key == "ontrac" and upper[:1] in ("C", "D") and upper[1:].isdigit():
        message = f"OnTrac tracking numbers look like C or D + 14 digits; got {upper[0]} + {len(upper) - 1} digits"
    elif carrier_key == "usps" and upper.startswith("420") and upper.isdigit() and len(upper) in (30, 34):
        tail = [upper[-n:] for n in (22, 26) if _fits(_IMPB, upper[-n:])]
        message = (
            f"USPS tracking number {_show(number)} includes the barcode's 420 + ZIP routing prefix; Walmart "
            f"needs the tracking number alone (22 or 26 digits starting 91–95)"
        )
        return_hint = f"did you mean {_show(tail[0])}?" if tail else _FORMAT_HINT
        raise _violation(message, hint=return_hint, rule="tracking-format")
    elif (
        carrier_key == "usps"
        and upper[:2] in ("91", "92", "93", "94", "95")
        and upper.isdigit()
        and len(upper) not in (20, 22, 26)
    ):
        message = f"USPS tracking numbers starting 9{upper[1]} have 22 (or 26) digits; got {len(upper)} digits"
    elif carrier_key == "usps" and len(upper) != 13 and re.fullmatch(r"[A-Z]{2}[0-9]+[A-Z]{2}", upper) is not None:
        message = (
            f"USPS international numbers look like 2 letters + 9 digits + 2 letters (13 characters, e.g. "
            f"EA123456785US); got {len(upper)} characters"
        )
    else:
        labels = "; ".join(f.label for f in formats)
        message = f"{display} tracking numbers look like: {labels}; got {_describe(number)}"
    raise _violation(message + also, hint=_FORMAT_HINT, rule="tracking-format")


def check_tracking_number(
    number: str,
    *,
    carrier: str | None,
    purchase_order_id: str | None,
    skip_format_check: bool = False,
) -> None:
    """Refuse a tracking number Walmart would count as invalid. Raises :class:`RuleViolation`.

    ``carrier`` is the Walmart carrier name (or other-carrier name, or None); per-carrier formats exist for
    :func:`format_checked_carriers`. ``skip_format_check`` skips only those, never the general rules
    (characters, length, not the PO number).
    """
    _check_general(number, purchase_order_id)
    if skip_format_check or carrier is None:
        return
    key = carrier.strip().casefold()
    if key in _CARRIER_FORMATS:
        _check_format(number, key)
