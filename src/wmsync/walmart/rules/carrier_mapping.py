"""Resolving the carrier an operator names (flag, store mapping, Magento code) and checking a store's mapping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from wmsync.walmart.rules.carriers import (
    BUILTIN_MAGENTO_CARRIERS,
    MappingValue,
    ResolvedCarrier,
    _listed,
    _listed_loosely,
    _mapping_value,
    _url,
    all_carriers,
    check_tracking_url,
    fill_tracking_url,
    suggest_carriers,
)
from wmsync.walmart.rules.common import RuleViolation, _did_you_mean, _first_control, _norm, _show

_CONFIG_HINT = "fix the [carriers] table of the store's configuration; `wmsync carriers check` lists every problem"


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
            results.append(MappingProblem(str(key), "invalid-entry", "error", f"{shown}: empty or invalid key"))
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
            results.append(MappingProblem(key, "invalid-entry", "error", f"{shown}: empty or invalid 'other' name"))
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
