"""Constants and spec look-ups shared by the handlers."""

from __future__ import annotations

ORDER_API = "GMP_ORDER_API"

GATEWAY = "GMP_GATEWAY_API"

INVALID_CONTENT = f"INVALID_REQUEST_CONTENT.{ORDER_API}"

INVALID_INFO = "Request content is invalid."

STATUS_RANK = {"Created": 0, "Acknowledged": 1, "Shipped": 2, "Delivered": 3, "Cancelled": 4, "Refund": 5}

SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000

MAX_LIMIT = 200

DEFAULT_LIMIT = 100

def _carriers() -> tuple[str, ...]:
    from wmsync.walmart.enums import carriers

    return carriers()

def _method_codes() -> tuple[str, ...]:
    from wmsync.walmart.enums import method_codes

    return method_codes()

def _cancellation_reasons() -> tuple[str, ...]:
    from wmsync.walmart.enums import cancellation_reasons

    return cancellation_reasons()
