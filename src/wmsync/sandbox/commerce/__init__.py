"""The simulated Adobe Commerce (Magento 2.4) admin REST API: orders, comments, ship, cancel, shipments.

Paths: ``/rest/V1/...``, ``/rest/<store>/V1/...`` (``default`` and ``all``). Errors are Magento's
``{"message": "... %1 ...", "parameters": [...]}`` with Magento's own wording.

Behaviour copied from Magento (each tested in ``tests/sandbox``):

* auth: ``Authorization: Bearer <integration token>`` (unless ``commerce_bearer`` is off) or OAuth 1.0a
  (HMAC-SHA256 or HMAC-SHA1) signed over the real method, URL and query; anything else is 401
  "The consumer isn't authorized to access %resources.";
* ``GET /V1/orders`` needs ``searchCriteria``; filters in one group are OR-ed, groups AND-ed; both
  ``filter_groups``/``filterGroups`` and ``condition_type``/``conditionType`` spellings work; a
  ``currentPage`` past the last page returns the **last page again** (Magento's collection quirk), so a
  client must stop at ``total_count``; an unknown field gives Magento's masked 500 "Internal Error";
* ``POST /V1/order/{id}/ship`` follows ``ShipOrder``: the requested quantity is **clamped** to what is left
  (ordered − shipped − refunded − canceled), items with nothing left are dropped, a configurable's child item
  is not shippable by itself (ship the parent; a child alone gives "You can't create a shipment without
  products."), holded / payment_review / canceled orders are refused, and the messages are joined under
  "Shipment Document Validation Error(s):". Success answers the shipment id as a JSON string (``"12"``).
  Only the parent's counters move: the child of a configurable keeps ``qty_shipped`` 0, as in Magento;
* ``POST /V1/orders/{id}/cancel`` answers a bare ``true``/``false`` following ``Order::canCancel()``.
"""

from __future__ import annotations

from wmsync.sandbox.commerce.base import MagentoError
from wmsync.sandbox.commerce.render import render_history, render_orders, render_shipments
from wmsync.sandbox.commerce.routing import handle, route
from wmsync.sandbox.commerce.writes import add_history, cancel_order, ship_order

__all__ = [
    "MagentoError",
    "add_history",
    "cancel_order",
    "handle",
    "render_history",
    "render_orders",
    "render_shipments",
    "route",
    "ship_order",
]
