"""The simulated Walmart Marketplace API: ``/v3/token``, ``/v3/token/detail`` and the orders endpoints.

Responses follow the orders OpenAPI spec (``{"order": {...}}``, ``{"list": {"meta", "elements"}}``); errors use
the shape the orders API returns in practice, ``{"errors": {"error": [{code, field, description, info,
severity, category, ...}]}}``, except ``INVALID_TOKEN.GMP_GATEWAY_API`` which comes in the gateway shape
``{"error": [...]}`` (clients must parse both).

Rules (each tested in ``tests/sandbox``):

* the token call answers in XML unless the request sends ``Accept: application/json``;
* every call needs ``WM_SVC.NAME`` and ``WM_QOS.CORRELATION_ID`` (400 ``MISSING_REQUEST_HEADER``) and, except
  the token call, a live ``WM_SEC.ACCESS_TOKEN``: unknown or missing → 401 ``UNAUTHORIZED.GMP_GATEWAY_API``,
  expired → 400 ``INVALID_TOKEN.GMP_GATEWAY_API``;
* only ``Acknowledged`` quantities ship; ``Created`` lines must be acknowledged first;
* a line with nothing left open answers "... is in SHIPPED status" (or CANCELLED);
* no over-shipping or over-cancelling; shipped quantities cannot be cancelled;
* ``carrier`` must be spelled exactly as in the spec's enum; ``otherCarrier`` needs ``trackingURL``;
* ``methodCode`` must be in the enum and equal the order's ``shippingInfo.methodCode`` (the sandbox's reading
  of "must fit the order": a different one gives "Method code is not supported in line number N");
* ``shipDateTime`` must be epoch milliseconds (seconds and .NET ticks are refused);
* ``sellerOrderId`` is required (the spec says so) and at most 30 characters;
* a customer's intent to cancel blocks shipping that line unless ``intentToCancelOverride`` is true.
  The order shows it as ``"intentToCancel": "true"`` on the line (the spec types the field as a string and
  documents no values; this rendering is the sandbox's choice).
"""

from __future__ import annotations

from wmsync.sandbox.walmart.errors import WalmartError
from wmsync.sandbox.walmart.reads import render_orders
from wmsync.sandbox.walmart.routing import handle, route
from wmsync.sandbox.walmart.writes import (
    CancelItem,
    ShipItem,
    acknowledge,
    apply_cancel,
    apply_ship,
    validate_cancel,
    validate_ship,
)

__all__ = [
    "CancelItem",
    "ShipItem",
    "WalmartError",
    "acknowledge",
    "apply_cancel",
    "apply_ship",
    "handle",
    "render_orders",
    "route",
    "validate_cancel",
    "validate_ship",
]
