"""Walmart business rules as pure functions: carriers, tracking numbers, method codes, cancellation reasons
and line-level quantity allocation.

Nothing here does I/O. A rule that fails raises :class:`RuleViolation` (``message`` says what is wrong and
what is expected, ``hint`` what to do about it); the CLI wraps it into its own error types. Walmart's
enumerations come from :mod:`wmsync.walmart.enums` (data generated from the orders spec). Notes on the
tracking-number formats and their sources: ``walmart/data/tracking_rules.md``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

from wmsync.walmart import enums

__all__ = [
    "ADDRESS_NOT_SERVICEABLE",
    "BUILTIN_MAGENTO_CARRIERS",
    "CARRIER_ALIASES",
    "CUSTOMER_REQUESTED",
    "FRAUD",
    "OUT_OF_STOCK",
    "PRICING_ERROR",
    "REASON_HELP",
    "Allocation",
    "CarrierMapping",
    "CarrierSource",
    "LineAvailability",
    "MappingProblem",
    "ResolvedCarrier",
    "RuleViolation",
    "all_carriers",
    "allocate",
    "check_carrier_mapping",
    "check_method_code",
    "check_tracking_number",
    "check_tracking_url",
    "fill_tracking_url",
    "format_checked_carriers",
    "reason_warnings",
    "requires_customer_request",
    "resolve_cancellation_reason",
    "resolve_carrier",
    "suggest_carriers",
]


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


# ----------------------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------------------
# 1. Carriers

CarrierSource = Literal["walmart-list", "mapping", "builtin-magento-code", "other"]

#: Magento's built-in carrier codes, and the default titles Magento puts on their tracks, that map to a
#: Walmart carrier with no configuration. (Titles are the defaults of the Magento_Ups/Usps/Fedex/Dhl modules.)
BUILTIN_MAGENTO_CARRIERS: Mapping[str, str] = {
    "ups": "UPS",
    "usps": "USPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "united parcel service": "UPS",
    "united states postal service": "USPS",
    "federal express": "FedEx",
}

#: Names operators use for carriers that are on Walmart's list under another spelling. Keys are in ``_norm``
#: form. They are never applied silently: they become "did you mean" suggestions, and they stop a listed
#: carrier from being sent as ``otherCarrier`` (which counts against the valid-tracking rate). The long names
#: of LS, UDS, UPSMI and FEDEXSP come from the spec's description of ``carrierName.carrier``.
CARRIER_ALIASES: Mapping[str, str] = {
    # FedEx services are all "FedEx" on Walmart's list, except SmartPost (now FedEx Ground Economy).
    "fedex ground": "FedEx",
    "fedex express": "FedEx",
    "fedex home delivery": "FedEx",
    "fedex 2day": "FedEx",
    "fedex priority overnight": "FedEx",
    "fedex standard overnight": "FedEx",
    "federal express": "FedEx",
    "fed ex": "FedEx",
    "fedex smartpost": "FEDEXSP",
    "fedex smart post": "FEDEXSP",
    "smartpost": "FEDEXSP",
    "fedex ground economy": "FEDEXSP",
    # UPS
    "united parcel service": "UPS",
    "ups ground": "UPS",
    "ups ground saver": "UPS",
    "ups surepost": "UPS",
    "ups next day air": "UPS",
    "ups 2nd day air": "UPS",
    "ups mail innovations": "UPSMI",
    "mail innovations": "UPSMI",
    "ups freight": "TForce Freight",
    "tforce": "TForce Freight",
    # USPS
    "united states postal service": "USPS",
    "us postal service": "USPS",
    "postal service": "USPS",
    "us mail": "USPS",
    "usps priority mail": "USPS",
    "priority mail": "USPS",
    "usps first class mail": "USPS",
    "first class mail": "USPS",
    "usps ground advantage": "USPS",
    "ground advantage": "USPS",
    "usps media mail": "USPS",
    # DHL
    "dhl express": "DHL",
    "dhl ecommerce": "DHL Ecommerce - US",
    "dhl e commerce": "DHL Ecommerce - US",
    "dhl ecommerce us": "DHL Ecommerce - US",
    "dhl ecommerce solutions": "DHL Ecommerce - US",
    "dhl global mail": "DHL Ecommerce - US",
    "dhl smartmail": "DHL Ecommerce - US",
    # Regional and freight carriers
    "lasership": "LS",
    "laser ship": "LS",
    "united delivery service": "UDS",
    "on trac": "OnTrac",
    "lone star overnight": "LSO",
    "r and l carriers": "RL Carriers",
    "r l carriers": "RL Carriers",
    "abf": "ABF Freight System",
    "abf freight": "ABF Freight System",
    "yrc": "Yellow Freight Sys",
    "yrc freight": "Yellow Freight Sys",
    "yellow": "Yellow Freight Sys",
    "xpo": "XPO Logistics",
    "sefl": "Southeastern Freight Lines",
    "southeastern freight": "Southeastern Freight Lines",
    "aaa cooper transportation": "AAA Cooper",
    "ceva logistics": "CEVA",
    "pitt ohio express": "PITT OHIO",
    "axle hire": "AxleHire",
    "osm": "OSM Worldwide",
    "gls us": "GLS",
    "gls usa": "GLS",
    "estes freight": "Estes Express",
}


def all_carriers(extra_carriers: Sequence[str] = ()) -> tuple[str, ...]:
    """Walmart's carrier list from the spec plus ``extra_carriers`` (newer announcements), without duplicates
    (case-insensitively; the spec's spelling wins)."""
    seen: set[str] = set()
    out: list[str] = []
    for name in (*enums.carriers(), *extra_carriers):
        if not isinstance(name, str) or not name.strip():
            raise RuleViolation(
                f"extra carrier names must be non-empty text; got {name!r}",
                hint="fix extra_carriers in the configuration",
                rule="carrier-config",
            )
        clean = name.strip()
        if clean.casefold() not in seen:
            seen.add(clean.casefold())
            out.append(clean)
    return tuple(out)


def _listed(value: str, carriers: Sequence[str]) -> str | None:
    """Walmart's spelling of ``value`` if it is on the list (case-insensitive, surrounding spaces ignored)."""
    key = value.strip().casefold()
    for c in carriers:
        if c.casefold() == key:
            return c
    return None


def _listed_loosely(value: str, carriers: Sequence[str]) -> str | None:
    """A listed carrier that ``value`` names under another spelling: an alias ("LaserShip" → "LS") or the same
    letters with different punctuation ("DHL eCommerce US" → "DHL Ecommerce - US")."""
    exact = _listed(value, carriers)
    if exact is not None:
        return exact
    n = _norm(value)
    if not n:
        return None
    by_lower = {c.casefold(): c for c in carriers}
    alias = CARRIER_ALIASES.get(n) or BUILTIN_MAGENTO_CARRIERS.get(n)
    if alias is not None and alias.casefold() in by_lower:
        return by_lower[alias.casefold()]
    compact = _compact(value)
    for c in carriers:
        if _compact(c) == compact:
            return c
    return None


def suggest_carriers(
    value: str, *, extra_carriers: Sequence[str] = (), mapping_keys: Iterable[str] = (), limit: int = 5
) -> list[str]:
    """Suggestions ("did you mean") for an unknown carrier: aliases, listed names it starts with, and
    difflib close matches over Walmart's list and the store's mapping keys. Best first."""
    carriers = all_carriers(extra_carriers)
    keys = [k for k in mapping_keys if isinstance(k, str) and k.strip()]
    out: list[str] = []
    loose = _listed_loosely(value, carriers)
    if loose is not None:
        out.append(loose)
    n = _norm(value)
    if n:
        # "FedEx Ground Economy (SmartPost)" → the longest alias or listed name that starts the value.
        prefixes: list[tuple[int, str]] = []
        for alias, target in CARRIER_ALIASES.items():
            if n.startswith(alias + " "):
                prefixes.append((len(alias), target))
        for c in carriers:
            cn = _norm(c)
            if cn and n.startswith(cn + " "):
                prefixes.append((len(cn), c))
        out.extend(t for _, t in sorted(prefixes, key=lambda p: -p[0]))
    scored: list[tuple[float, str]] = []
    for cand in (*_close(value, carriers), *_close(value, keys)):
        ratio = difflib.SequenceMatcher(None, value.strip().casefold(), cand.casefold()).ratio()
        scored.append((ratio, cand))
    out.extend(c for _, c in sorted(scored, key=lambda s: -s[0]))
    by_lower = {c.casefold(): c for c in carriers}
    fixed = [by_lower.get(s.casefold(), s) for s in out]
    return _dedupe(fixed)[:limit]


@dataclass(frozen=True)
class CarrierMapping:
    """A ``[carriers]`` entry for a carrier Walmart does not list: ``{other = "Name", tracking_url = "..."}``.

    ``tracking_url`` is a template: ``{tracking}`` is replaced by the (URL-quoted) tracking number.
    """

    other: str
    tracking_url: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CarrierMapping:
        """Build from a TOML table; refuses unknown keys and wrong types."""
        unknown = sorted(set(data) - {"other", "tracking_url"})
        if unknown:
            raise RuleViolation(
                f"unknown key(s) in a carrier mapping: {', '.join(unknown)}; "
                f"expected 'other' and 'tracking_url'",
                hint='write it as {other = "Carrier name", tracking_url = "https://…/{tracking}"}',
                rule="carrier-config",
            )
        other = data.get("other")
        url = data.get("tracking_url")
        if not isinstance(other, str):
            raise RuleViolation(
                "a carrier mapping table needs 'other' (the carrier's name, as text)",
                hint='write it as {other = "Carrier name", tracking_url = "https://…/{tracking}"}',
                rule="carrier-config",
            )
        if url is not None and not isinstance(url, str):
            raise RuleViolation("'tracking_url' in a carrier mapping must be text", rule="carrier-config")
        return cls(other=other, tracking_url=url)


MappingValue = str | CarrierMapping | Mapping[str, object]


@dataclass(frozen=True)
class ResolvedCarrier:
    """How a shipment's carrier goes to Walmart: ``carrier`` (Walmart's exact spelling) or ``other_carrier``
    (free text, always with ``tracking_url``)."""

    carrier: str | None
    other_carrier: str | None
    tracking_url: str | None
    source: CarrierSource

    @property
    def name(self) -> str:
        """The name as sent, whichever field holds it."""
        return self.carrier if self.carrier is not None else (self.other_carrier or "")

    def carrier_name(self) -> dict[str, str]:
        """The ``trackingInfo.carrierName`` object of the ship request."""
        if self.carrier is not None:
            return {"carrier": self.carrier}
        return {"otherCarrier": self.other_carrier or ""}


def check_tracking_url(url: str) -> str:
    """Refuse anything but an absolute http(s) URL with a host; returns it with surrounding spaces removed.
    A ``{tracking}`` placeholder (a template) passes."""
    clean = url.strip()
    bad = _first_control(clean)
    if bad is not None:
        raise RuleViolation(
            f"tracking URL contains a control character (U+{ord(bad[1]):04X}) at position {bad[0] + 1}",
            hint="type the URL again without invisible characters",
            rule="tracking-url",
        )
    if any(ch.isspace() for ch in clean):
        raise RuleViolation(
            f"tracking URL {_show(clean)} contains spaces; a URL has none",
            hint="percent-encode spaces as %20",
            rule="tracking-url",
        )
    try:
        parts = urlsplit(clean)
    except ValueError as exc:
        raise RuleViolation(
            f"tracking URL {_show(clean)} is not a valid URL ({exc})", rule="tracking-url"
        ) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise RuleViolation(
            f"tracking URL must be an absolute http(s) URL such as 'https://carrier.example/track?n={{tracking}}';"
            f" got {_show(clean)}",
            rule="tracking-url",
        )
    return clean


def fill_tracking_url(template: str, tracking_number: str | None) -> str:
    """Check the template is an http(s) URL and put the URL-quoted tracking number into ``{tracking}``."""
    clean = check_tracking_url(template)
    if "{tracking}" not in clean:
        return clean
    if not tracking_number:
        raise RuleViolation(
            "the tracking URL template has {tracking} but no tracking number was given",
            rule="tracking-url",
        )
    return clean.replace("{tracking}", quote(tracking_number, safe=""))


def _url(template: str | None, tracking_number: str | None) -> str | None:
    return None if template is None else fill_tracking_url(template, tracking_number)


def _mapping_value(key: str, value: object) -> str | CarrierMapping:
    if isinstance(value, str | CarrierMapping):
        return value
    if isinstance(value, Mapping):
        return CarrierMapping.from_dict(value)
    raise RuleViolation(
        f"[carriers] {_show(key)}: expected a Walmart carrier name or a table "
        f"{{other = …, tracking_url = …}}; got {type(value).__name__}",
        rule="carrier-config",
    )


_CONFIG_HINT = (
    "fix the [carriers] table of the store's configuration; `wmsync carriers check` lists every problem"
)


def resolve_carrier(
    value: str,
    *,
    mapping: Mapping[str, MappingValue],
    extra_carriers: Sequence[str] = (),
    tracking_url: str | None = None,
    tracking_number: str | None = None,
) -> ResolvedCarrier:
    """Turn a Commerce carrier (code or track title) or an operator's ``--carrier`` into what Walmart accepts.

    Order: (a) a carrier on Walmart's list (plus ``extra_carriers``), case-insensitively; (b) a key of the
    store's ``[carriers]`` mapping; (c) Magento's built-in codes/titles; (d) with ``tracking_url``,
    ``otherCarrier``; otherwise refused with suggestions. ``tracking_url`` may be a template with
    ``{tracking}``.
    """
    if not isinstance(value, str) or not value.strip():
        raise RuleViolation(
            "no carrier given; Walmart needs one on every shipment",
            hint="pass --carrier (a name from `wmsync carriers list`)",
            rule="carrier",
        )
    bad = _first_control(value)
    if bad is not None:
        raise RuleViolation(
            f"carrier {_show(value)} contains a control character (U+{ord(bad[1]):04X})",
            hint="type the carrier name again without invisible characters",
            rule="carrier",
        )
    carriers = all_carriers(extra_carriers)
    clean = value.strip()

    # Walmart's exact spelling wins; then a key of the store's mapping spelt exactly as given, before Walmart's
    # list case-insensitively: a merchant who maps the Commerce code `fedex` to "FEDEXSP" means it for every
    # `fedex` track (while `--carrier FedEx` is still FedEx).
    exact_key = None
    if clean not in carriers:
        exact_key = next((k for k in mapping if isinstance(k, str) and k.strip() == clean), None)

    # (a) Walmart's own list.
    listed = _listed(clean, carriers) if exact_key is None else None
    if listed is not None:
        return ResolvedCarrier(listed, None, _url(tracking_url, tracking_number), "walmart-list")

    # (b) The store's mapping.
    for key, raw in mapping.items():
        if not isinstance(key, str):
            continue
        if exact_key is not None and key != exact_key:
            continue
        if key.strip().casefold() != clean.casefold():
            continue
        target = _mapping_value(key, raw)
        if isinstance(target, str):
            walmart = _listed(target, carriers)
            if walmart is None:
                sugg = suggest_carriers(target, extra_carriers=extra_carriers)
                raise RuleViolation(
                    f"the [carriers] mapping sends {_show(key)} to {_show(target)}, which is not on "
                    f"Walmart's carrier list" + (f"; {_did_you_mean(sugg)}" if sugg else ""),
                    hint=_CONFIG_HINT,
                    rule="carrier-config",
                )
            return ResolvedCarrier(walmart, None, _url(tracking_url, tracking_number), "mapping")
        other = target.other.strip()
        listed_other = _listed_loosely(other, carriers) if other else None
        if listed_other is not None:
            raise RuleViolation(
                f"the [carriers] mapping sends {_show(key)} as other carrier {_show(other)}, but Walmart "
                f"lists it: sending a listed carrier as other counts against the valid-tracking rate; "
                f"map it to '{listed_other}'",
                hint=f'{_CONFIG_HINT} (write: {key!r} = "{listed_other}")',
                rule="carrier-config",
            )
        if not other or _first_control(other) is not None:
            raise RuleViolation(
                f"the [carriers] mapping for {_show(key)} has an empty or invalid 'other' name",
                hint=_CONFIG_HINT,
                rule="carrier-config",
            )
        url_template = tracking_url if tracking_url is not None else target.tracking_url
        if url_template is None:
            raise RuleViolation(
                f"{_show(other)} is not on Walmart's list, so it goes as otherCarrier, and Walmart then "
                f"requires a tracking URL; the [carriers] mapping for {_show(key)} has none",
                hint='add tracking_url = "https://…/{tracking}" to the mapping, or pass --tracking-url',
                rule="carrier-other-url",
            )
        return ResolvedCarrier(None, other, fill_tracking_url(url_template, tracking_number), "mapping")

    # (c) Magento's built-in carriers need no configuration.
    builtin = BUILTIN_MAGENTO_CARRIERS.get(_norm(clean))
    if builtin is not None:
        walmart = _listed(builtin, carriers)
        if walmart is not None:
            return ResolvedCarrier(walmart, None, _url(tracking_url, tracking_number), "builtin-magento-code")

    # (d) Another carrier: only with a tracking URL, and never a listed carrier under another name.
    loose = _listed_loosely(clean, carriers)
    if loose is not None:
        raise RuleViolation(
            f"carrier {_show(clean)} is on Walmart's list as '{loose}'; did you mean '{loose}'? "
            f"(sending a listed carrier as other counts against the valid-tracking rate)",
            hint=f"pass --carrier '{loose}', or map {_show(clean)} to '{loose}' in the [carriers] table",
            rule="carrier",
        )
    if tracking_url is not None:
        return ResolvedCarrier(None, clean, fill_tracking_url(tracking_url, tracking_number), "other")
    sugg = suggest_carriers(clean, extra_carriers=extra_carriers, mapping_keys=[str(k) for k in mapping])
    message = f"carrier {_show(clean)} is not on Walmart's carrier list or in the store's [carriers] mapping"
    if sugg:
        message += f"; {_did_you_mean(sugg)}"
    raise RuleViolation(
        message,
        hint=(
            "`wmsync carriers list` shows Walmart's carriers; if this really is another carrier, pass "
            "--tracking-url 'https://…/{tracking}' to send it as otherCarrier, or add it to the [carriers] "
            "table"
        ),
        rule="carrier",
    )


MappingProblemKind = Literal[
    "ok",
    "unknown-carrier",
    "other-is-listed",
    "other-without-url",
    "invalid-url",
    "template-without-placeholder",
    "shadowed",
    "duplicate-key",
    "invalid-entry",
]


@dataclass(frozen=True)
class MappingProblem:
    """The verdict on one ``[carriers]`` entry, for ``wmsync carriers check`` (``kind == "ok"`` when fine)."""

    key: str
    kind: MappingProblemKind
    severity: Literal["ok", "warning", "error"]
    message: str
    suggestions: tuple[str, ...] = ()
    target: str | None = None

    @property
    def ok(self) -> bool:
        return self.severity != "error"


def check_carrier_mapping(
    mapping: Mapping[str, MappingValue], extra_carriers: Sequence[str] = ()
) -> list[MappingProblem]:
    """Check every entry of a store's ``[carriers]`` table; one result per key, in the table's order."""
    carriers = all_carriers(extra_carriers)
    results: list[MappingProblem] = []
    seen_keys: dict[str, str] = {}
    for key, raw in mapping.items():
        shown = _show(str(key))
        if not isinstance(key, str) or not key.strip() or _first_control(key) is not None:
            results.append(
                MappingProblem(str(key), "invalid-entry", "error", f"{shown}: empty or invalid key")
            )
            continue
        folded = key.strip().casefold()
        if folded in seen_keys:
            results.append(
                MappingProblem(
                    key,
                    "duplicate-key",
                    "warning",
                    f"{shown} repeats {_show(seen_keys[folded])} (keys are matched case-insensitively); "
                    f"only the first is used",
                )
            )
            continue
        seen_keys[folded] = key
        try:
            target = _mapping_value(key, raw)
        except RuleViolation as exc:
            results.append(MappingProblem(key, "invalid-entry", "error", exc.message))
            continue
        # only a key spelt exactly like a Walmart carrier is shadowed (see resolve_carrier)
        listed_key = key.strip() if key.strip() in carriers else None
        if isinstance(target, str):
            walmart = _listed(target, carriers)
            if walmart is None:
                sugg = tuple(suggest_carriers(target, extra_carriers=extra_carriers))
                msg = f"{shown} → {_show(target)}: not on Walmart's carrier list"
                if sugg:
                    msg += f"; {_did_you_mean(sugg)}"
                results.append(MappingProblem(key, "unknown-carrier", "error", msg, sugg, target))
                continue
            if listed_key is not None and listed_key != walmart:
                results.append(
                    MappingProblem(
                        key,
                        "shadowed",
                        "warning",
                        f"{shown} is itself Walmart's carrier '{listed_key}', which is used as is; "
                        f"this mapping to '{walmart}' never applies",
                        (listed_key,),
                        walmart,
                    )
                )
                continue
            results.append(MappingProblem(key, "ok", "ok", f"{shown} → '{walmart}'", (), walmart))
            continue
        other = target.other.strip()
        if not other or _first_control(other) is not None:
            results.append(
                MappingProblem(key, "invalid-entry", "error", f"{shown}: empty or invalid 'other' name")
            )
            continue
        listed_other = _listed_loosely(other, carriers)
        if listed_other is not None:
            results.append(
                MappingProblem(
                    key,
                    "other-is-listed",
                    "error",
                    f"{shown} → other {_show(other)}: Walmart lists this carrier; sending a listed carrier "
                    f"as other counts against the valid-tracking rate; map it to '{listed_other}'",
                    (listed_other,),
                    other,
                )
            )
            continue
        if listed_key is not None:
            results.append(
                MappingProblem(
                    key,
                    "shadowed",
                    "warning",
                    f"{shown} is itself Walmart's carrier '{listed_key}', which is used as is; "
                    f"this mapping to other {_show(other)} never applies",
                    (listed_key,),
                    other,
                )
            )
            continue
        if target.tracking_url is None:
            results.append(
                MappingProblem(
                    key,
                    "other-without-url",
                    "error",
                    f"{shown} → other {_show(other)} has no tracking_url; Walmart requires a tracking URL "
                    f'with otherCarrier (add tracking_url = "https://…/{{tracking}}")',
                    (),
                    other,
                )
            )
            continue
        try:
            check_tracking_url(target.tracking_url)
        except RuleViolation as exc:
            results.append(MappingProblem(key, "invalid-url", "error", f"{shown}: {exc.message}", (), other))
            continue
        if "{tracking}" not in target.tracking_url:
            results.append(
                MappingProblem(
                    key,
                    "template-without-placeholder",
                    "warning",
                    f"{shown} → other {_show(other)}: tracking_url has no {{tracking}} placeholder, so every "
                    f"shipment links to the same page",
                    (),
                    other,
                )
            )
            continue
        results.append(MappingProblem(key, "ok", "ok", f"{shown} → other {_show(other)}", (), other))
    return results


# ----------------------------------------------------------------------------------------------------------
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


@dataclass(frozen=True)
class _Format:
    label: str
    pattern: re.Pattern[str]
    check_digit: CheckDigit | None = None
    check_at: int = -1  # index of the check digit in the number
    hyphen: bool = False  # the format has a hyphen


def _f(
    label: str, regex: str, check_digit: CheckDigit | None = None, *, check_at: int = -1, hyphen: bool = False
) -> _Format:
    return _Format(label, re.compile(regex), check_digit, check_at, hyphen)


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
        where = (
            "around" if number.strip() != number and not any(ch.isspace() for ch in number.strip()) else "in"
        )
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
        message = (
            "UPS tracking numbers look like 1Z + 16 letters/digits (18 characters); "
            f"got {len(upper)} characters"
        )
    elif carrier_key == "ontrac" and upper[:1] in ("C", "D") and upper[1:].isdigit():
        message = (
            f"OnTrac tracking numbers look like C or D + 14 digits; got {upper[0]} + {len(upper) - 1} digits"
        )
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
        message = (
            f"USPS tracking numbers starting 9{upper[1]} have 22 (or 26) digits; got {len(upper)} digits"
        )
    elif (
        carrier_key == "usps"
        and len(upper) != 13
        and re.fullmatch(r"[A-Z]{2}[0-9]+[A-Z]{2}", upper) is not None
    ):
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


# ----------------------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------------------
# 4. Cancellation reasons

CUSTOMER_REQUESTED = "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"
PRICING_ERROR = "SELLER_CANCEL_PRICING_ERROR"
OUT_OF_STOCK = "SELLER_CANCEL_OUT_OF_STOCK"
FRAUD = "SELLER_CANCEL_FRAUD_STOP_SHIPMENT"
ADDRESS_NOT_SERVICEABLE = "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE"

#: (code, alias, description) for ``wmsync cancel --list-reasons``. The descriptions name the Channel Manager
#: label each code corresponds to (domain.md §1), so operators moving from it find theirs.
REASON_HELP: list[tuple[str, str, str]] = [
    (CUSTOMER_REQUESTED, "customer-request", "the customer asked to cancel (only then)"),
    (PRICING_ERROR, "pricing-error", 'wrong price or listing (Channel Manager: "Price/listing error")'),
    (
        OUT_OF_STOCK,
        "out-of-stock",
        'item not available (Channel Manager: "Out of stock"); Walmart also marks the item out of stock',
    ),
    (
        FRAUD,
        "fraud",
        'suspected fraud: stop the shipment (Channel Manager: "Credit/fraud"); for real fraud only',
    ),
    (
        ADDRESS_NOT_SERVICEABLE,
        "address-not-serviceable",
        'cannot ship to the address (Channel Manager: "Unavailable carrier/shipping info")',
    ),
]

# Channel Manager's four labels (domain.md §1), matched like everything else here: case-insensitive, with
# punctuation and spaces ignored ("price / listing error", "Price-Listing Error" …).
_CHANNEL_MANAGER_LABELS: Mapping[str, str] = {
    "Price/listing error": PRICING_ERROR,
    "Out of stock": OUT_OF_STOCK,
    "Unavailable carrier/shipping info": ADDRESS_NOT_SERVICEABLE,
    "Credit/fraud": FRAUD,
}

_REASON_EXTRA: Mapping[str, str] = {
    "customer-requested": CUSTOMER_REQUESTED,
    "customer": CUSTOMER_REQUESTED,
    "price-error": PRICING_ERROR,
    "listing-error": PRICING_ERROR,
    "stop-shipment": FRAUD,
    "unavailable-carrier-shipping-information": ADDRESS_NOT_SERVICEABLE,
    "address": ADDRESS_NOT_SERVICEABLE,
}


def _reason_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for code in enums.cancellation_reasons():
        table[_compact(code)] = code
    for code, alias, _ in REASON_HELP:
        table.setdefault(_compact(alias), code)
    for label, code in (*_CHANNEL_MANAGER_LABELS.items(), *_REASON_EXTRA.items()):
        table.setdefault(_compact(label), code)
    return table


def resolve_cancellation_reason(value: str) -> str:
    """Walmart's cancellation reason code for a code, an alias (``out-of-stock``) or a Channel Manager label
    ("Out of stock"); case, spaces and punctuation do not matter."""
    clean = value.strip() if isinstance(value, str) else ""
    if clean and _first_control(clean) is None:
        code = _reason_table().get(_compact(clean))
        if code is not None:
            return code
    choices = [alias for _, alias, _ in REASON_HELP] + list(enums.cancellation_reasons())
    sugg = _close(clean, choices, n=2, cutoff=0.5) if clean else []
    if clean and not sugg:
        for word in _norm(clean).split():
            if len(word) < 4:
                continue
            for _, alias, _ in REASON_HELP:
                if word in alias:
                    sugg.append(alias)
    sugg = _dedupe(sugg)
    message = (
        f"cancellation reason {_show(clean)} is not one Walmart accepts; use one of: "
        + ", ".join(alias for _, alias, _ in REASON_HELP)
        + " (or Walmart's codes)"
    )
    if sugg:
        message += f"; {_did_you_mean(sugg)}"
    raise RuleViolation(message, hint="`wmsync cancel --list-reasons` explains each", rule="cancel-reason")


def reason_warnings(code: str) -> list[str]:
    """Consequences the operator should know before cancelling with ``code``."""
    if code == FRAUD:
        return [
            "Walmart reserves SELLER_CANCEL_FRAUD_STOP_SHIPMENT for real fraud; using it for anything else "
            "can draw a review of the seller account",
        ]
    if code == OUT_OF_STOCK:
        return [
            "with SELLER_CANCEL_OUT_OF_STOCK Walmart also marks the item out of stock (inventory 0) until "
            "you update its inventory",
        ]
    if code == CUSTOMER_REQUESTED:
        return ["use CUSTOMER_REQUESTED_SELLER_TO_CANCEL only when the customer asked for the cancellation"]
    return []


def requires_customer_request(code: str) -> bool:
    """True for the reason that may only be used when the customer asked to cancel (the workflow checks the
    order's intent to cancel, or asks the operator to confirm)."""
    return code == CUSTOMER_REQUESTED


# ----------------------------------------------------------------------------------------------------------
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
            raise ValueError(
                f"line {self.line_number}: available_qty must not be negative ({self.available_qty})"
            )


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
                f"SKU {_show(sku)} is not on this Walmart order"
                + (f" ({_did_you_mean(sugg)})" if sugg else "")
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
            hints.append(
                "the rest is already shipped or cancelled on Walmart; `wmsync status` shows each line"
            )
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
