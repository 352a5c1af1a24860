"""Walmart business rules as pure functions: carriers, tracking numbers, method codes, cancellation reasons
and line-level quantity allocation.

One module per kind of rule (carriers, carrier_mapping, tracking, methods, reasons, allocation),
re-exported here. Nothing here does I/O. A rule that fails raises :class:`RuleViolation` (``message`` says
what is wrong and what is expected, ``hint`` what to do about it); the CLI wraps it into its own error types. Walmart's
enumerations come from :mod:`wmsync.walmart.enums` (data generated from the orders spec). Notes on the
tracking-number formats and their sources: ``walmart/data/tracking_rules.md``.
"""

from __future__ import annotations

from wmsync.walmart.rules.allocation import Allocation, LineAvailability, allocate
from wmsync.walmart.rules.carrier_mapping import MappingProblem, check_carrier_mapping, resolve_carrier
from wmsync.walmart.rules.carriers import (
    BUILTIN_MAGENTO_CARRIERS,
    CARRIER_ALIASES,
    CUSTOM_CODE,
    MAGENTO_CARRIERS,
    CarrierMapping,
    CarrierSource,
    MagentoCarrier,
    ResolvedCarrier,
    all_carriers,
    check_tracking_url,
    fill_tracking_url,
    magento_code,
    suggest_carriers,
    track_carrier,
    walmart_carrier_of_track,
)
from wmsync.walmart.rules.common import RuleViolation
from wmsync.walmart.rules.methods import check_method_code
from wmsync.walmart.rules.reasons import (
    ADDRESS_NOT_SERVICEABLE,
    CUSTOMER_REQUESTED,
    FRAUD,
    OUT_OF_STOCK,
    PRICING_ERROR,
    REASON_HELP,
    reason_warnings,
    requires_customer_request,
    resolve_cancellation_reason,
)
from wmsync.walmart.rules.tracking import check_tracking_number, format_checked_carriers

__all__ = [
    "ADDRESS_NOT_SERVICEABLE",
    "BUILTIN_MAGENTO_CARRIERS",
    "CARRIER_ALIASES",
    "CUSTOMER_REQUESTED",
    "CUSTOM_CODE",
    "FRAUD",
    "MAGENTO_CARRIERS",
    "OUT_OF_STOCK",
    "PRICING_ERROR",
    "REASON_HELP",
    "Allocation",
    "CarrierMapping",
    "CarrierSource",
    "LineAvailability",
    "MagentoCarrier",
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
    "magento_code",
    "reason_warnings",
    "requires_customer_request",
    "resolve_cancellation_reason",
    "resolve_carrier",
    "suggest_carriers",
    "track_carrier",
    "walmart_carrier_of_track",
]
