"""The control API under ``/_sandbox/`` — for tests and scripts driving a sandbox in another process.

| call | does |
|---|---|
| ``GET /_sandbox/state`` | summary: counts, settings, Channel Manager events, writes per operation |
| ``GET /_sandbox/settings`` / ``POST /_sandbox/settings`` ``{field: value, ...}`` | read / change saved settings |
| ``POST /_sandbox/reset`` ``{"orders": N, "seed": S}`` | back to the seed |
| ``GET /_sandbox/faults`` / ``POST /_sandbox/faults`` ``{kind, method?, path_regex?, count?}`` / ``DELETE`` | faults |
| ``POST /_sandbox/expire-tokens`` | expire every Walmart token now |
| ``POST /_sandbox/process-events`` | run due Channel Manager events |
| ``GET /_sandbox/log`` / ``DELETE /_sandbox/log`` | request log |
| ``GET /_sandbox/walmart/orders/{po}`` | a PO as Walmart shows it |
| ``GET /_sandbox/commerce/orders/{entity_id or increment_id}`` | an order, with ``shipments`` and ``comments`` |
| ``GET /_sandbox/tracking`` | shipments by tracking number, both sides |
| ``GET /_sandbox/channel-manager/events`` | Channel Manager pushes and their results |

The control API is served only by the sandbox itself; it is not part of either real API.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from wmsync.sandbox.common import ParsedRequest, Reply

if TYPE_CHECKING:
    from wmsync.sandbox.core import Sandbox

__all__ = ["handle_control"]


def _body(req: ParsedRequest) -> dict[str, Any]:
    if not req.body.strip():
        return {}
    data = json.loads(req.body.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def handle_control(sb: Sandbox, req: ParsedRequest) -> Reply:
    try:
        return _handle(sb, req)
    except (ValueError, TypeError) as exc:
        return Reply(400, {"error": str(exc)})


def _handle(sb: Sandbox, req: ParsedRequest) -> Reply:
    path = req.path.rstrip("/")
    method = req.method
    if path == "/_sandbox/state" and method == "GET":
        return Reply(200, sb.summary())
    if path == "/_sandbox/settings":
        if method == "GET":
            return Reply(200, sb.load_settings().to_dict())
        if method in ("POST", "PUT", "PATCH"):
            return Reply(200, sb.update_settings(**_body(req)).to_dict())
    if path == "/_sandbox/reset" and method == "POST":
        body = _body(req)
        sb.reset(orders=body.get("orders"), seed=int(body.get("seed", 0)))
        return Reply(200, sb.summary())
    if path == "/_sandbox/faults":
        if method == "GET":
            return Reply(200, sb.armed_faults())
        if method == "POST":
            body = _body(req)
            fid = sb.inject_fault(
                str(body["kind"]),
                method=body.get("method"),
                path_regex=body.get("path_regex"),
                count=int(body.get("count", 1)),
            )
            return Reply(200, {"id": fid})
        if method == "DELETE":
            sb.clear_faults()
            return Reply(200, {"cleared": True})
    if path == "/_sandbox/expire-tokens" and method == "POST":
        return Reply(200, {"expired": sb.expire_tokens()})
    if path == "/_sandbox/process-events" and method == "POST":
        return Reply(200, {"processed": sb.process_events()})
    if path == "/_sandbox/log":
        if method == "GET":
            return Reply(200, [e.to_dict() for e in sb.request_log()])
        if method == "DELETE":
            sb.clear_request_log()
            return Reply(200, {"cleared": True})
    if path == "/_sandbox/tracking" and method == "GET":
        return Reply(
            200, {"walmart": sb.walmart_shipments_by_tracking(), "commerce": sb.commerce_shipments_by_tracking()}
        )
    if path == "/_sandbox/channel-manager/events" and method == "GET":
        return Reply(200, sb.channel_manager_events())
    m = re.fullmatch(r"/_sandbox/walmart/orders/([^/]+)", path)
    if m and method == "GET":
        order = sb.walmart_order(m.group(1))
        if order is None:
            return Reply(404, {"error": f"no PO {m.group(1)}"})
        return Reply(200, {"order": order, "cancellations": sb.cancellations(m.group(1))})
    m = re.fullmatch(r"/_sandbox/commerce/orders/([^/]+)", path)
    if m and method == "GET":
        key: int | str = m.group(1)
        if isinstance(key, str) and key.isdigit() and len(key) < 9:
            key = int(key)
        found = sb.commerce_order(key)
        if found is None:
            return Reply(404, {"error": f"no order {m.group(1)}"})
        return Reply(200, {"order": found, "shipments": sb.commerce_shipments(key), "comments": sb.comments(key)})
    return Reply(404, {"error": f"no control endpoint {method} {req.path}"})
