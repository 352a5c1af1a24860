"""Walmart's cancellation reasons, their aliases and Channel Manager's labels."""

from __future__ import annotations

from collections.abc import Mapping

from wmsync.walmart import enums
from wmsync.walmart.rules.common import (
    RuleViolation,
    _close,
    _compact,
    _dedupe,
    _did_you_mean,
    _first_control,
    _norm,
    _show,
)

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
