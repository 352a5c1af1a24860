"""Walmart's refund reasons (the orders spec's ``refundReason`` enum) and the short names ``--reason`` takes."""

from __future__ import annotations

from wmsync.walmart.rules.common import RuleViolation

#: (alias, Walmart's reason, when to use it)
REFUND_REASONS: tuple[tuple[str, str, str], ...] = (
    ("damaged", "DamagedItem", "the item arrived damaged"),
    ("defective", "DefectiveItem", "the item does not work"),
    ("not-received", "ItemNotReceivedByCustomer", "the customer never received it"),
    ("changed-mind", "CustomerChangedMind", "the customer no longer wants it"),
    ("wrong-item", "IncorrectItemReceived", "the customer received another item"),
    ("not-as-advertised", "ItemNotAsAdvertised", "the item is not what the listing said"),
    ("late", "CustomerReceivedItemLate", "it arrived late"),
    ("missing-parts", "Missing Parts / Instructions", "parts or instructions were missing"),
    ("returned", "Customer returned item", "the customer sent it back"),
    ("shipping-price", "IncorrectShippingPrice", "the shipping price was wrong"),
    ("billing-error", "BillingError", "the customer was charged wrongly"),
    ("tax-exempt", "TaxExemptCustomer", "the customer is exempt from the tax charged"),
    ("goodwill", "Finance -> Goodwill", "a goodwill gesture"),
    ("other", "Others", "anything else"),
)
CODES = frozenset(code for _a, code, _d in REFUND_REASONS) | {
    "CancelledYetShipped", "Finance -> Rollback", "Buyer canceled", "General adjustment", "Merchandise not received",
    "Quality -> Missing Parts / Instructions", "Shipping & Delivery -> Damaged",
    "Shipping & Delivery -> Shipping Price Discrepancy",
}


def resolve_refund_reason(value: str) -> str:
    """An alias or Walmart's own reason (case-insensitive) → Walmart's reason."""
    text = value.strip()
    for alias, code, _what in REFUND_REASONS:
        if text.lower() == alias:
            return code
    for code in CODES:
        if text.lower() == code.lower():
            return code
    raise RuleViolation(
        f"--reason {value[:60]!r} is not a Walmart refund reason",
        hint="`wmsync refund --list-reasons` lists them (damaged, not-received, changed-mind, …)",
    )
