"""Acknowledge, ship and cancel, with the rules Walmart enforces on each."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from wmsync.sandbox.walmart.base import INVALID_CONTENT, _cancellation_reasons, _carriers, _method_codes
from wmsync.sandbox.walmart.errors import WalmartError, error_entry, not_found


@dataclass(frozen=True)
class ShipItem:
    line_number: str
    qty: int
    ship_date_time: int
    carrier: str | None
    other_carrier: str | None
    method_code: str
    tracking_number: str
    tracking_url: str | None
    seller_order_id: str | None


@dataclass(frozen=True)
class CancelItem:
    line_number: str
    qty: int
    reason: str


@dataclass
class _Line:
    row: sqlite3.Row
    qty_by_status: dict[str, int]

    @property
    def number(self) -> str:
        return str(self.row["line_number"])

    def qty(self, status: str) -> int:
        return self.qty_by_status.get(status, 0)

    @property
    def open_qty(self) -> int:
        return self.qty("Created") + self.qty("Acknowledged")

    def closed_status(self) -> str:
        """The status a line with nothing open is "in", as Walmart words it."""
        if self.qty("Shipped") or self.qty("Delivered"):
            return "SHIPPED"
        if self.qty("Refund"):
            return "REFUND"
        return "CANCELLED"


def _lines(conn: sqlite3.Connection, po: str) -> dict[str, _Line]:
    out: dict[str, _Line] = {}
    for row in conn.execute("SELECT * FROM w_lines WHERE po = ? ORDER BY position", (po,)):
        out[row["line_number"]] = _Line(row, {})
    for r in conn.execute(
        "SELECT line_number, status, SUM(qty) AS qty FROM w_status WHERE po = ? GROUP BY line_number, status",
        (po,),
    ):
        line = out.get(r["line_number"])
        if line is not None:
            line.qty_by_status[r["status"]] = int(r["qty"])
    return out


def _status_error(po: str, line: str, status: str) -> dict[str, Any]:
    return error_entry(
        INVALID_CONTENT,
        f"Unable to process this request. The Line: {line} of PO: {po} is in {status} status",
        field="lineNumber",
    )


def _quantity(status: Any, where: str, errors: list[dict[str, Any]]) -> int | None:
    sq = status.get("statusQuantity") if isinstance(status, dict) else None
    if not isinstance(sq, dict):
        errors.append(error_entry(INVALID_CONTENT, f"statusQuantity is required ({where})", field="statusQuantity"))
        return None
    uom = sq.get("unitOfMeasurement")
    if uom not in ("EACH", "EA"):
        errors.append(
            error_entry(
                INVALID_CONTENT,
                f"Invalid unitOfMeasurement {uom!r} ({where}); use EACH",
                field="unitOfMeasurement",
            )
        )
    amount = sq.get("amount")
    if not isinstance(amount, str) or not amount.strip().isdigit() or int(amount) <= 0:
        errors.append(
            error_entry(
                INVALID_CONTENT,
                f"statusQuantity.amount must be a positive whole number in a string, got {amount!r} ({where})",
                field="amount",
            )
        )
        return None
    return int(amount)


def _order_lines(body: Any, root: str) -> list[Any]:
    container = body.get(root) if isinstance(body, dict) else None
    lines = container.get("orderLines") if isinstance(container, dict) else None
    items = lines.get("orderLine") if isinstance(lines, dict) else None
    if not isinstance(items, list) or not items:
        raise WalmartError.invalid(f"{root}.orderLines.orderLine is required and must not be empty", root)
    return items


def _statuses(entry: dict[str, Any], where: str, errors: list[dict[str, Any]]) -> list[Any]:
    sts = entry.get("orderLineStatuses")
    lst = sts.get("orderLineStatus") if isinstance(sts, dict) else None
    if not isinstance(lst, list) or not lst:
        errors.append(
            error_entry(
                INVALID_CONTENT,
                f"orderLineStatuses.orderLineStatus is required ({where})",
                field="orderLineStatuses",
            )
        )
        return []
    return lst


def validate_ship(conn: sqlite3.Connection, po: str, body: Any) -> list[ShipItem]:
    """Check a ship request against the order; returns what to apply or raises :class:`WalmartError`."""
    order = conn.execute("SELECT * FROM w_orders WHERE po = ?", (po,)).fetchone()
    if order is None:
        raise not_found(f"Order with purchaseOrderId {po} not found")
    if order["ship_node_type"] == "WFSFulfilled":
        # Walmart Fulfillment Services ships these orders; the seller's ship endpoint is not for them
        raise WalmartError.invalid(
            f"Order {po} is fulfilled by Walmart Fulfillment Services (WFSFulfilled) and cannot be shipped by the "
            "seller",
            "shipNode.type",
        )
    entries = _order_lines(body, "orderShipment")
    lines = _lines(conn, po)
    carriers = set(_carriers())
    methods = set(_method_codes())
    errors: list[dict[str, Any]] = []
    items: list[ShipItem] = []
    override: dict[str, bool] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            errors.append(error_entry(INVALID_CONTENT, "orderLine entries must be objects", field="orderLine"))
            continue
        ln = entry.get("lineNumber")
        if not isinstance(ln, str) or not ln.strip():
            errors.append(error_entry(INVALID_CONTENT, "lineNumber is required (a string)", field="lineNumber"))
            continue
        where = f"line number {ln}"
        seller_order_id = entry.get("sellerOrderId")
        if not isinstance(seller_order_id, str) or not seller_order_id.strip():
            errors.append(error_entry(INVALID_CONTENT, f"sellerOrderId is required ({where})", field="sellerOrderId"))
            seller_order_id = None
        elif len(seller_order_id) > 30:
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"sellerOrderId must be at most 30 characters, got {len(seller_order_id)} ({where})",
                    field="sellerOrderId",
                )
            )
        flag = entry.get("intentToCancelOverride", False)
        if not isinstance(flag, bool):
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"intentToCancelOverride must be a boolean ({where})",
                    field="intentToCancelOverride",
                )
            )
            flag = False
        override[ln] = override.get(ln, False) or flag
        for status in _statuses(entry, where, errors):
            if not isinstance(status, dict):
                errors.append(error_entry(INVALID_CONTENT, f"orderLineStatus must be an object ({where})"))
                continue
            if status.get("status") != "Shipped":
                errors.append(
                    error_entry(
                        INVALID_CONTENT,
                        f"Invalid status {status.get('status')!r} for a shipping update ({where}); use Shipped",
                        field="status",
                    )
                )
            qty = _quantity(status, where, errors)
            tracking = status.get("trackingInfo")
            if not isinstance(tracking, dict):
                errors.append(error_entry(INVALID_CONTENT, f"trackingInfo is required ({where})", field="trackingInfo"))
                continue
            item = _tracking(ln, tracking, order["method_code"], carriers, methods, where, errors)
            if item is None or qty is None:
                continue
            items.append(
                ShipItem(
                    line_number=ln,
                    qty=qty,
                    ship_date_time=item[0],
                    carrier=item[1],
                    other_carrier=item[2],
                    method_code=item[3],
                    tracking_number=item[4],
                    tracking_url=item[5],
                    seller_order_id=seller_order_id,
                )
            )
    if errors:
        raise WalmartError(400, errors)

    wanted: dict[str, int] = {}
    for it in items:
        wanted[it.line_number] = wanted.get(it.line_number, 0) + it.qty
    for ln, qty in wanted.items():
        line = lines.get(ln)
        if line is None:
            errors.append(
                error_entry(INVALID_CONTENT, f"Invalid lineNumber {ln} for purchaseOrderId {po}", field="lineNumber")
            )
            continue
        if line.open_qty == 0:
            errors.append(_status_error(po, ln, line.closed_status()))
            continue
        if line.qty("Acknowledged") == 0:
            errors.append(_status_error(po, ln, "CREATED"))
            continue
        if line.row["intent_to_cancel"] and not override.get(ln):
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"The customer has requested to cancel line number {ln} of PO {po}. Cancel the line, or send "
                    "intentToCancelOverride: true to ship it anyway",
                    field="intentToCancelOverride",
                )
            )
            continue
        if qty > line.qty("Acknowledged"):
            what = f"{line.qty('Acknowledged')} acknowledged"
            if line.qty("Created"):
                what += f", {line.qty('Created')} not yet acknowledged"
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"Invalid quantity {qty} for line number {ln}: only {what} (ordered "
                    f"{line.row['qty']}, shipped {line.qty('Shipped')}, cancelled {line.qty('Cancelled')})",
                    field="statusQuantity",
                )
            )
    if errors:
        raise WalmartError(400, errors)
    return items


def _tracking(
    ln: str,
    tracking: dict[str, Any],
    order_method: str,
    carriers: set[str],
    methods: set[str],
    where: str,
    errors: list[dict[str, Any]],
) -> tuple[int, str | None, str | None, str, str, str | None] | None:
    n_errors = len(errors)
    ship_dt = tracking.get("shipDateTime")
    if isinstance(ship_dt, bool) or not isinstance(ship_dt, int):
        errors.append(
            error_entry(
                INVALID_CONTENT,
                f"shipDateTime must be epoch milliseconds (an integer), got {ship_dt!r} ({where})",
                field="shipDateTime",
            )
        )
    elif ship_dt < 100_000_000_000 or ship_dt > 99_999_999_999_999:
        kind = "seconds" if ship_dt < 100_000_000_000 else "not milliseconds (ticks or microseconds?)"
        errors.append(
            error_entry(
                INVALID_CONTENT,
                f"Invalid shipDateTime {ship_dt} ({where}): looks like {kind}; send epoch milliseconds",
                field="shipDateTime",
            )
        )
    name = tracking.get("carrierName")
    carrier = other = None
    if not isinstance(name, dict):
        errors.append(error_entry(INVALID_CONTENT, f"carrierName is required ({where})", field="carrierName"))
    else:
        carrier, other = name.get("carrier"), name.get("otherCarrier")
        if carrier is not None and other is not None:
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"Send either carrierName.carrier or carrierName.otherCarrier, not both ({where})",
                    field="carrierName",
                )
            )
        elif carrier is None and other is None:
            errors.append(error_entry(INVALID_CONTENT, f"carrierName.carrier is required ({where})", field="carrier"))
        elif carrier is not None and (not isinstance(carrier, str) or carrier not in carriers):
            hint = [c for c in carriers if isinstance(carrier, str) and c.lower() == carrier.lower()]
            suffix = f"; did you mean '{hint[0]}'?" if hint else ""
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"Invalid carrier name {carrier!r} in line number {ln}{suffix}",
                    field="carrier",
                )
            )
        elif other is not None and (not isinstance(other, str) or not other.strip()):
            errors.append(
                error_entry(INVALID_CONTENT, f"otherCarrier must not be empty ({where})", field="otherCarrier")
            )
    url = tracking.get("trackingURL")
    if url is not None and not isinstance(url, str):
        errors.append(error_entry(INVALID_CONTENT, f"trackingURL must be a string ({where})", field="trackingURL"))
        url = None
    if other is not None and not (isinstance(url, str) and url.strip()):
        errors.append(
            error_entry(
                INVALID_CONTENT,
                f"trackingURL is required when otherCarrier is used in line number {ln}",
                field="trackingURL",
            )
        )
    method = tracking.get("methodCode")
    if method not in methods or method != order_method:
        errors.append(
            error_entry(INVALID_CONTENT, f"Method code is not supported in line number {ln}", field="methodCode")
        )
    number = tracking.get("trackingNumber")
    if not isinstance(number, str) or not number.strip():
        errors.append(error_entry(INVALID_CONTENT, f"trackingNumber is required ({where})", field="trackingNumber"))
    if len(errors) != n_errors:
        return None
    assert isinstance(ship_dt, int)
    assert isinstance(number, str)
    assert isinstance(method, str)
    return (
        ship_dt,
        carrier if isinstance(carrier, str) else None,
        other if isinstance(other, str) else None,
        method,
        number.strip(),
        url.strip() if isinstance(url, str) and url.strip() else None,
    )


@dataclass(frozen=True)
class TrackingUpdate:
    line_number: str
    current_tracking: str
    ship: ShipItem


def is_tracking_update(body: Any) -> bool:
    """Whether a ``/shipping`` body corrects tracking (``processMode: PARTIAL_UPDATE``) rather than ships."""
    container = body.get("orderShipment") if isinstance(body, dict) else None
    return isinstance(container, dict) and container.get("processMode") == "PARTIAL_UPDATE"


def validate_tracking_update(
    conn: sqlite3.Connection, po: str, body: Any, now_ms: int, window_s: float
) -> list[TrackingUpdate]:
    """Check a tracking correction: only Shipped lines, only the tracking number they were shipped under
    (``currentTrackingInfo.trackingNumber``), only within the update window after the first shipping info."""
    order = conn.execute("SELECT * FROM w_orders WHERE po = ?", (po,)).fetchone()
    if order is None:
        raise not_found(f"Order with purchaseOrderId {po} not found")
    if order["ship_node_type"] == "WFSFulfilled":
        raise WalmartError.invalid(
            f"Order {po} is fulfilled by Walmart Fulfillment Services (WFSFulfilled); its tracking cannot be "
            "updated by the seller",
            "shipNode.type",
        )
    entries = _order_lines(body, "orderShipment")
    lines = _lines(conn, po)
    carriers = set(_carriers())
    methods = set(_method_codes())
    errors: list[dict[str, Any]] = []
    out: list[TrackingUpdate] = []
    hours = window_s / 3600
    window_text = f"{hours:g} hours"
    for entry in entries:
        if not isinstance(entry, dict):
            errors.append(error_entry(INVALID_CONTENT, "orderLine entries must be objects", field="orderLine"))
            continue
        ln = entry.get("lineNumber")
        if not isinstance(ln, str) or not ln.strip():
            errors.append(error_entry(INVALID_CONTENT, "lineNumber is required (a string)", field="lineNumber"))
            continue
        where = f"line number {ln}"
        line = lines.get(ln)
        if line is None:
            errors.append(
                error_entry(INVALID_CONTENT, f"Invalid lineNumber {ln} for purchaseOrderId {po}", field="lineNumber")
            )
            continue
        if line.qty("Shipped") == 0:
            now_status = (
                line.closed_status()
                if line.open_qty == 0
                else ("ACKNOWLEDGED" if line.qty("Acknowledged") else "CREATED")
            )
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"Unable to update tracking details: the Line: {ln} of PO: {po} is in {now_status} status; only "
                    "a line in Shipped status can be updated",
                    field="lineNumber",
                )
            )
            continue
        for status in _statuses(entry, where, errors):
            if not isinstance(status, dict):
                errors.append(error_entry(INVALID_CONTENT, f"orderLineStatus must be an object ({where})"))
                continue
            if status.get("status") != "Shipped":
                errors.append(
                    error_entry(
                        INVALID_CONTENT,
                        f"Invalid status {status.get('status')!r} for a tracking update ({where}); use Shipped",
                        field="status",
                    )
                )
            qty = _quantity(status, where, errors)
            current = status.get("currentTrackingInfo")
            old = current.get("trackingNumber") if isinstance(current, dict) else None
            if not isinstance(old, str) or not old.strip():
                errors.append(
                    error_entry(
                        INVALID_CONTENT,
                        f"currentTrackingInfo.trackingNumber is required to update tracking details ({where})",
                        field="currentTrackingInfo",
                    )
                )
                continue
            rows = conn.execute(
                "SELECT qty, applied_at, ship_date_time FROM w_status WHERE po = ? AND line_number = ? "
                "AND status = 'Shipped' AND tracking_number = ?",
                (po, ln, old),
            ).fetchall()
            if not rows:
                errors.append(
                    error_entry(
                        INVALID_CONTENT,
                        f"currentTrackingInfo.trackingNumber {old} does not match the tracking details of line "
                        f"number {ln} of PO {po}",
                        field="currentTrackingInfo",
                    )
                )
                continue
            shipped_under_old = sum(int(r["qty"]) for r in rows)
            if qty is not None and qty != shipped_under_old:
                errors.append(
                    error_entry(
                        INVALID_CONTENT,
                        f"Invalid quantity {qty} for a tracking update of line number {ln}: {shipped_under_old} "
                        f"shipped under {old}",
                        field="statusQuantity",
                    )
                )
            first = conn.execute(
                "SELECT MIN(COALESCE(applied_at, ship_date_time)) FROM w_status WHERE po = ? AND line_number = ? "
                "AND status = 'Shipped'",
                (po, ln),
            ).fetchone()[0]
            if first is not None and now_ms - int(first) > window_s * 1000:
                errors.append(
                    error_entry(
                        INVALID_CONTENT,
                        f"Unable to update tracking details of line number {ln} of PO {po}: tracking can be updated "
                        f"only within {window_text} of sending the first shipping information",
                        field="currentTrackingInfo",
                    )
                )
                continue
            tracking = status.get("trackingInfo")
            if not isinstance(tracking, dict):
                errors.append(error_entry(INVALID_CONTENT, f"trackingInfo is required ({where})", field="trackingInfo"))
                continue
            item = _tracking(ln, tracking, order["method_code"], carriers, methods, where, errors)
            if item is None or qty is None:
                continue
            out.append(
                TrackingUpdate(
                    line_number=ln,
                    current_tracking=old,
                    ship=ShipItem(
                        line_number=ln,
                        qty=qty,
                        ship_date_time=item[0],
                        carrier=item[1],
                        other_carrier=item[2],
                        method_code=item[3],
                        tracking_number=item[4],
                        tracking_url=item[5],
                        seller_order_id=None,
                    ),
                )
            )
    if errors:
        raise WalmartError(400, errors)
    return out


def apply_tracking_update(conn: sqlite3.Connection, po: str, updates: list[TrackingUpdate], now_ms: int) -> None:
    """Replace the tracking details; the time of the first shipping information (``applied_at``) is kept."""
    for up in updates:
        it = up.ship
        conn.execute(
            "UPDATE w_status SET ship_date_time = ?, carrier = ?, other_carrier = ?, method_code = ?, "
            "tracking_number = ?, tracking_url = ? WHERE po = ? AND line_number = ? AND status = 'Shipped' "
            "AND tracking_number = ?",
            (
                it.ship_date_time,
                it.carrier,
                it.other_carrier,
                it.method_code,
                it.tracking_number,
                it.tracking_url,
                po,
                up.line_number,
                up.current_tracking,
            ),
        )
    _touch(conn, po, {up.line_number for up in updates}, now_ms)


#: the most order lines one cancellation request may carry
MAX_CANCEL_LINES = 100


def validate_cancel(conn: sqlite3.Connection, po: str, body: Any) -> list[CancelItem]:
    if conn.execute("SELECT 1 FROM w_orders WHERE po = ?", (po,)).fetchone() is None:
        raise not_found(f"Order with purchaseOrderId {po} not found")
    entries = _order_lines(body, "orderCancellation")
    if len(entries) > MAX_CANCEL_LINES:
        # Walmart: a cancellation request carries at most 100 order lines (orders FAQ; domain.md §4)
        raise WalmartError.invalid(
            f"A cancellation request can have at most {MAX_CANCEL_LINES} order lines; this one has {len(entries)}",
            "orderLine",
        )
    lines = _lines(conn, po)
    reasons = set(_cancellation_reasons())
    errors: list[dict[str, Any]] = []
    items: list[CancelItem] = []
    for entry in entries:
        if not isinstance(entry, dict):
            errors.append(error_entry(INVALID_CONTENT, "orderLine entries must be objects", field="orderLine"))
            continue
        ln = entry.get("lineNumber")
        if not isinstance(ln, str) or not ln.strip():
            errors.append(error_entry(INVALID_CONTENT, "lineNumber is required (a string)", field="lineNumber"))
            continue
        where = f"line number {ln}"
        for status in _statuses(entry, where, errors):
            if not isinstance(status, dict):
                errors.append(error_entry(INVALID_CONTENT, f"orderLineStatus must be an object ({where})"))
                continue
            if status.get("status") != "Cancelled":
                errors.append(
                    error_entry(
                        INVALID_CONTENT,
                        f"Invalid status {status.get('status')!r} for a cancellation ({where}); use Cancelled",
                        field="status",
                    )
                )
            reason = status.get("cancellationReason")
            if reason not in reasons:
                errors.append(
                    error_entry(
                        INVALID_CONTENT,
                        f"Invalid cancellationReason {reason!r} in line number {ln}",
                        field="cancellationReason",
                    )
                )
            qty = _quantity(status, where, errors)
            if qty is not None and isinstance(reason, str) and reason in reasons:
                items.append(CancelItem(ln, qty, reason))
    if errors:
        raise WalmartError(400, errors)
    wanted: dict[str, int] = {}
    for it in items:
        wanted[it.line_number] = wanted.get(it.line_number, 0) + it.qty
    for ln, qty in wanted.items():
        line = lines.get(ln)
        if line is None:
            errors.append(
                error_entry(INVALID_CONTENT, f"Invalid lineNumber {ln} for purchaseOrderId {po}", field="lineNumber")
            )
            continue
        if line.open_qty == 0:
            errors.append(_status_error(po, ln, line.closed_status()))
            continue
        if qty > line.open_qty:
            errors.append(
                error_entry(
                    INVALID_CONTENT,
                    f"Invalid quantity {qty} for line number {ln}: only {line.open_qty} can be cancelled "
                    f"(shipped {line.qty('Shipped')}, already cancelled {line.qty('Cancelled')}); "
                    "shipped quantities can only be refunded",
                    field="statusQuantity",
                )
            )
    if errors:
        raise WalmartError(400, errors)
    return items


def _take(conn: sqlite3.Connection, po: str, ln: str, statuses: tuple[str, ...], qty: int) -> None:
    left = qty
    for status in statuses:
        for r in conn.execute(
            "SELECT id, qty FROM w_status WHERE po = ? AND line_number = ? AND status = ? AND qty > 0 ORDER BY id",
            (po, ln, status),
        ).fetchall():
            if left <= 0:
                return
            used = min(left, int(r["qty"]))
            if used == int(r["qty"]):
                conn.execute("DELETE FROM w_status WHERE id = ?", (r["id"],))
            else:
                conn.execute("UPDATE w_status SET qty = qty - ? WHERE id = ?", (used, r["id"]))
            left -= used
    if left > 0:  # pragma: no cover - callers validate first
        raise AssertionError(f"not enough open quantity on line {ln} of {po}")


def _touch(conn: sqlite3.Connection, po: str, lines: set[str], now_ms: int) -> None:
    conn.execute("UPDATE w_orders SET last_modified = ? WHERE po = ?", (now_ms, po))
    for ln in lines:
        conn.execute("UPDATE w_lines SET status_date = ? WHERE po = ? AND line_number = ?", (now_ms, po, ln))


def acknowledge(conn: sqlite3.Connection, po: str, now_ms: int) -> None:
    created = conn.execute(
        "SELECT DISTINCT line_number FROM w_status WHERE po = ? AND status = 'Created'", (po,)
    ).fetchall()
    if not created:
        return
    conn.execute("UPDATE w_status SET status = 'Acknowledged' WHERE po = ? AND status = 'Created'", (po,))
    _touch(conn, po, {r["line_number"] for r in created}, now_ms)


def apply_ship(conn: sqlite3.Connection, po: str, items: list[ShipItem], now_ms: int, *, source: str) -> None:
    for it in items:
        _take(conn, po, it.line_number, ("Acknowledged",), it.qty)
        conn.execute(
            "INSERT INTO w_status (po, line_number, status, qty, ship_date_time, carrier, other_carrier, "
            "method_code, tracking_number, tracking_url, source, applied_at) "
            "VALUES (?, ?, 'Shipped', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                po,
                it.line_number,
                it.qty,
                it.ship_date_time,
                it.carrier,
                it.other_carrier,
                it.method_code,
                it.tracking_number,
                it.tracking_url,
                source,
                now_ms,
            ),
        )
        if it.seller_order_id:
            conn.execute(
                "UPDATE w_lines SET seller_order_id = ? WHERE po = ? AND line_number = ?",
                (it.seller_order_id, po, it.line_number),
            )
    _touch(conn, po, {it.line_number for it in items}, now_ms)


def apply_cancel(conn: sqlite3.Connection, po: str, items: list[CancelItem], now_ms: int, *, source: str) -> None:
    for it in items:
        _take(conn, po, it.line_number, ("Created", "Acknowledged"), it.qty)
        conn.execute(
            "INSERT INTO w_status (po, line_number, status, qty, reason, source) VALUES (?, ?, 'Cancelled', ?, ?, ?)",
            (po, it.line_number, it.qty, it.reason, source),
        )
    _touch(conn, po, {it.line_number for it in items}, now_ms)
