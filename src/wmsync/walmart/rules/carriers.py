"""Walmart's carrier list, the Magento carrier table, aliases, suggestions and tracking URLs."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

from wmsync.walmart import enums
from wmsync.walmart.rules.common import RuleViolation, _close, _compact, _dedupe, _first_control, _norm, _show

# 1. Carriers

CarrierSource = Literal["walmart-list", "mapping", "builtin-magento-code", "other"]


@dataclass(frozen=True)
class MagentoCarrier:
    """One of Magento's built-in carrier modules and the Walmart carrier it is: the code Magento stores on a
    track (``carrier_code``), the default title its module puts there, and Walmart's spelling."""

    code: str
    title: str
    walmart: str


#: The one carrier table between the two sides. Codes and titles are the defaults of Magento's
#: Magento_Ups/Usps/Fedex/Dhl modules; every other carrier is a ``custom`` track with a free title.
MAGENTO_CARRIERS: tuple[MagentoCarrier, ...] = (
    MagentoCarrier("ups", "United Parcel Service", "UPS"),
    MagentoCarrier("usps", "United States Postal Service", "USPS"),
    MagentoCarrier("fedex", "Federal Express", "FedEx"),
    MagentoCarrier("dhl", "DHL", "DHL"),
)
#: The code Magento uses for a track of any other carrier.
CUSTOM_CODE = "custom"

#: Magento code or default title (in ``_norm`` form) -> Walmart carrier: what maps with no configuration.
BUILTIN_MAGENTO_CARRIERS: Mapping[str, str] = {
    **{c.code: c.walmart for c in MAGENTO_CARRIERS},
    **{_norm(c.title): c.walmart for c in MAGENTO_CARRIERS},
}
_CODE_OF_WALMART: Mapping[str, str] = {c.walmart: c.code for c in MAGENTO_CARRIERS}


def magento_code(walmart_carrier: str | None) -> str:
    """The Magento ``carrier_code`` for a track of this Walmart carrier (``custom`` unless a built-in module
    carries it)."""
    return _CODE_OF_WALMART.get(walmart_carrier or "", CUSTOM_CODE)


def track_carrier(code: str | None, title: str | None) -> str:
    """What a Commerce track names as its carrier, as an operator would type it: the carrier code, or the
    title for a ``custom`` track."""
    c = (code or "").strip()
    return c if c and c.lower() != CUSTOM_CODE else (title or "").strip()


def walmart_carrier_of_track(code: str | None, title: str | None) -> str | None:
    """The Walmart carrier a Commerce track stands for without any store mapping: a built-in code's carrier,
    else the track's title (``None`` when it has neither)."""
    return BUILTIN_MAGENTO_CARRIERS.get((code or "").strip().lower()) or (title or None)


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
                f"unknown key(s) in a carrier mapping: {', '.join(unknown)}; expected 'other' and 'tracking_url'",
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
        raise RuleViolation(f"tracking URL {_show(clean)} is not a valid URL ({exc})", rule="tracking-url") from None
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
