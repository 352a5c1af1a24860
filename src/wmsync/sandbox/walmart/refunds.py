"""Walmart's ``refundOrderLines`` (``POST /v3/orders/{po}/refund``) with the rules that matter: only shipped
lines, amounts negative, never more than was charged (per charge type, tax apart), and the refund shown on the
line when the order is read again (``refund.refundCharges``)."""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

from wmsync.sandbox.walmart.errors import WalmartError

#: Walmart's refund reasons (the orders spec's enum)
REASONS = (
    "BillingError", "TaxExemptCustomer", "ItemNotAsAdvertised", "IncorrectItemReceived", "CancelledYetShipped",
    "ItemNotReceivedByCustomer", "IncorrectShippingPrice", "DamagedItem", "DefectiveItem", "CustomerChangedMind",
    "CustomerReceivedItemLate", "Missing Parts / Instructions", "Finance -> Goodwill", "Finance -> Rollback",
    "Buyer canceled", "Customer returned item", "General adjustment", "Merchandise not received",
    "Quality -> Missing Parts / Instructions", "Shipping & Delivery -> Damaged",
    "Shipping & Delivery -> Shipping Price Discrepancy", "Others",
)


def _amount(obj: Any, where: str) -> float:
    try:
        return float(obj["amount"])
    except (TypeError, KeyError, ValueError) as exc:
        raise WalmartError.invalid(f"chargeAmount.amount is required ({where})", "amount") from exc


def refunded(conn: sqlite3.Connection, po: str, line_number: str) -> tuple[float, float]:
    """(product, tax) already refunded on a line, as positive numbers."""
    row = conn.execute(
        "SELECT COALESCE(-SUM(amount), 0), COALESCE(-SUM(tax), 0) FROM w_refunds WHERE po = ? AND line_number = ? "
        "AND charge_type = 'PRODUCT'",
        (po, line_number),
    ).fetchone()
    return float(row[0]), float(row[1])


def validate_and_apply(conn: sqlite3.Connection, po: str, body: Any, now_ms: int) -> None:
    refund = body.get("orderRefund") if isinstance(body, dict) else None
    if not isinstance(refund, dict) or not isinstance(refund.get("orderLines"), dict):
        raise WalmartError.invalid("orderRefund.orderLines is required", "orderRefund")
    entries = refund["orderLines"].get("orderLine")
    entries = [entries] if isinstance(entries, dict) else entries
    if not isinstance(entries, list) or not entries:
        raise WalmartError.invalid("orderLine is required", "orderLine")
    rows: list[tuple[str, str, str, str, str, float, float, str | None]] = []
    for entry in entries:
        ln = str(entry.get("lineNumber", "")) if isinstance(entry, dict) else ""
        line = conn.execute("SELECT * FROM w_lines WHERE po = ? AND line_number = ?", (po, ln)).fetchone()
        if line is None:
            raise WalmartError.invalid(f"Invalid lineNumber {ln} for purchaseOrderId {po}", "lineNumber")
        shipped = conn.execute(
            "SELECT COALESCE(SUM(qty), 0) FROM w_status WHERE po = ? AND line_number = ? AND status IN "
            "('Shipped', 'Delivered')",
            (po, ln),
        ).fetchone()[0]
        if not shipped:
            raise WalmartError.invalid(
                f"Unable to refund line number {ln} of PO {po}: only shipped quantities can be refunded",
                "lineNumber",
            )
        charged = float(line["price"]) * int(line["qty"])
        charged_tax = float(line["tax"])
        done, done_tax = refunded(conn, po, ln)
        add, add_tax = 0.0, 0.0
        for r in (entry.get("refunds") or {}).get("refund") or []:
            comments = r.get("refundComments") if isinstance(r, dict) else None
            for charge in ((r.get("refundCharges") or {}).get("refundCharge") or []) if isinstance(r, dict) else []:
                reason = charge.get("refundReason")
                if reason not in REASONS:
                    raise WalmartError.invalid(f"Invalid refundReason {reason!r}", "refundReason")
                c = charge.get("charge") or {}
                amount = _amount(c.get("chargeAmount"), f"line number {ln}")
                tax = _amount((c.get("tax") or {}).get("taxAmount"), f"line number {ln}") if c.get("tax") else 0.0
                if amount >= 0 or tax > 0:
                    raise WalmartError.invalid(
                        f"Refund amounts must be negative (line number {ln}): got {amount}", "chargeAmount"
                    )
                add += -amount
                add_tax += -tax
                rows.append((ln, str(reason), str(c.get("chargeType") or "PRODUCT"), str(c.get("chargeName") or ""),
                             str(comments) if comments else "", amount, tax, None))
        if done + add > charged + 0.005 or done_tax + add_tax > charged_tax + 0.005:
            raise WalmartError.invalid(
                f"Refund amount exceeds the charge of line number {ln}: charged {charged:.2f} (tax {charged_tax:.2f}), "
                f"already refunded {done:.2f} (tax {done_tax:.2f}), asked {add:.2f} (tax {add_tax:.2f})",
                "chargeAmount",
            )
    refund_id = secrets.token_hex(6)
    for ln, reason, ctype, cname, comments, amount, tax, _ in rows:
        conn.execute(
            "INSERT INTO w_refunds (po, line_number, refund_id, reason, charge_type, charge_name, comments, amount, "
            "tax, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (po, ln, refund_id, reason, ctype, cname, comments, amount, tax, now_ms),
        )
    conn.execute("UPDATE w_orders SET last_modified = ? WHERE po = ?", (now_ms, po))


def render(conn: sqlite3.Connection, po: str, line_number: str) -> dict[str, Any] | None:
    """The line's ``refund`` object, or None when nothing was refunded."""
    rows = conn.execute(
        "SELECT * FROM w_refunds WHERE po = ? AND line_number = ? ORDER BY id", (po, line_number)
    ).fetchall()
    if not rows:
        return None
    return {
        "refundId": rows[-1]["refund_id"],
        "refundComments": " | ".join(dict.fromkeys(r["comments"] for r in rows if r["comments"])),
        "refundCharges": {"refundCharge": [
            {
                "refundReason": r["reason"],
                "charge": {
                    "chargeType": r["charge_type"],
                    "chargeName": r["charge_name"],
                    "chargeAmount": {"currency": "USD", "amount": r["amount"]},
                    "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": r["tax"]}},
                },
            }
            for r in rows
        ]},
    }
