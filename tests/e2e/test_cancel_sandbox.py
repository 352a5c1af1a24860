"""``wmsync cancel`` end to end against the in-process sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from wmsync.sandbox import Sandbox


def writes(sb: Sandbox) -> list[str]:
    return [f"{e.method} {e.path}" for e in sb.request_log() if e.method == "POST" and not e.path.endswith("/token")
            and e.applied]


def cancel(cli: Any, order: str, *args: str) -> Any:
    return cli("cancel", order, "--store", "sandbox", "--json", *args)


def statuses(sb: Sandbox, po: str) -> list[dict[str, Any]]:
    order = sb.walmart_order(po)
    assert order is not None
    return [s for line in order["orderLines"]["orderLine"] for s in line["orderLineStatuses"]["orderLineStatus"]]


def cancel_posts(sb: Sandbox) -> int:
    return sum(1 for e in sb.request_log() if e.method == "POST" and e.path.endswith("/cancel") and e.applied
               and "/v3/" in e.path)


def test_whole_order(cli: Any, sandbox: Sandbox) -> None:
    r = cancel(cli, "000000103", "--reason", "out-of-stock", "--yes")
    assert r.exit_code == 0, r
    doc = r.json()
    assert doc["result"] == "confirmed"
    assert doc["reason"] == "SELLER_CANCEL_OUT_OF_STOCK"
    po = doc["purchase_order_id"]
    assert {s["status"] for s in statuses(sandbox, po)} == {"Cancelled"}
    assert {s.get("cancellationReason") for s in statuses(sandbox, po)} == {"SELLER_CANCEL_OUT_OF_STOCK"}
    order = sandbox.commerce_order("000000103")
    assert order["state"] == "canceled"
    assert any("SELLER_CANCEL_OUT_OF_STOCK" in (c.get("comment") or "") for c in sandbox.comments("000000103"))
    assert "marks the item out of stock" in r.stderr


def test_partial_on_split_lines(cli: Any, sandbox: Sandbox) -> None:
    sku = sandbox.commerce_order("000000104")["items"][0]["sku"]
    r = cancel(cli, "000000104", "--reason", "pricing-error", "--item", f"{sku}=2", "--yes")
    assert r.exit_code == 0, r
    doc = r.json()
    cancelled = [s for s in statuses(sandbox, doc["purchase_order_id"]) if s["status"] == "Cancelled"]
    assert sum(int(s["statusQuantity"]["amount"]) for s in cancelled) == 2
    assert sandbox.commerce_order("000000104")["state"] != "canceled"
    assert any(f"2 × {sku}" in t for t in doc["commerce_todo"])
    comments = [c["comment"] for c in sandbox.comments("000000104")]
    # one comment before the Walmart write (the intent, with the quantities before it), one after (the reason)
    assert sum("[wmsync cancelling:" in (c or "") for c in comments) == 1
    assert sum("[wmsync cancel:" in (c or "") for c in comments) == 1
    # the same command again while a unit is still open: a re-run or a new cancellation? nothing more is
    # cancelled, no second comment, and it is not reported done (exit 2 names --again)
    sandbox.clear_request_log()
    r2 = cancel(cli, "000000104", "--reason", "pricing-error", "--item", f"{sku}=2", "--yes")
    assert r2.exit_code == 2, r2
    assert "--again" in r2.stderr
    assert writes(sandbox) == []


def test_already_cancelled_is_already_done_with_zero_writes(cli: Any, sandbox: Sandbox) -> None:
    r = cancel(cli, "000000108", "--reason", "out-of-stock", "--yes")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "already_done"
    assert writes(sandbox) == []


def test_shipped_order_refused_with_zero_writes(cli: Any, sandbox: Sandbox) -> None:
    r = cancel(cli, "000000107", "--reason", "out-of-stock", "--yes")
    assert r.exit_code == 2, r
    assert "refund" in r.stderr
    assert writes(sandbox) == []


def test_invoiced_commerce_order_stopped_before_sending(cli: Any, sandbox: Sandbox) -> None:
    r = cancel(cli, "000000109", "--reason", "out-of-stock", "--yes")
    assert r.exit_code == 2, r
    assert "credit memo" in r.stderr
    assert writes(sandbox) == []
    r = cancel(cli, "000000109", "--reason", "out-of-stock", "--yes", "--walmart-only")
    assert r.exit_code == 0, r
    assert {s["status"] for s in statuses(sandbox, r.json()["purchase_order_id"])} == {"Cancelled"}
    assert any("--walmart-only" in t for t in r.json()["commerce_todo"])


def test_customer_request_without_intent_refused(cli: Any, sandbox: Sandbox) -> None:
    r = cancel(cli, "000000101", "--reason", "customer-request", "--yes")
    assert r.exit_code == 2, r
    assert "customer has not asked" in r.stderr
    assert writes(sandbox) == []
    # order 106: the customer asked to cancel line 1 (WM-SOCK-006) only
    r = cancel(cli, "000000106", "--reason", "CUSTOMER_REQUESTED_SELLER_TO_CANCEL", "--yes")
    assert r.exit_code == 2, r
    r = cancel(cli, "000000106", "--reason", "customer-request", "--item", "WM-SOCK-006", "--yes")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "confirmed"


def test_non_interactive_without_yes_refused(cli: Any, sandbox: Sandbox) -> None:
    r = cancel(cli, "000000101", "--reason", "out-of-stock")
    assert r.exit_code == 2, r
    assert "--yes" in r.stderr
    assert sandbox.request_log() == []


def test_dry_run_needs_no_yes_and_sends_nothing(cli: Any, sandbox: Sandbox) -> None:
    r = cancel(cli, "000000101", "--reason", "Out of stock", "--dry-run")
    assert r.exit_code == 0, r
    doc = r.json()
    assert doc["result"] == "dry_run"
    assert [x["service"] for x in doc["requests"]] == ["walmart", "commerce", "commerce"]
    assert writes(sandbox) == []


def test_list_reasons(cli: Any) -> None:
    r = cli("cancel", "--list-reasons", "--json")
    assert r.exit_code == 0
    assert {x["alias"] for x in r.json()} == {"customer-request", "pricing-error", "out-of-stock", "fraud",
                                              "address-not-serviceable"}


@pytest.mark.parametrize("kind", ["applied_timeout", "applied_reset"])
def test_dropped_walmart_cancel_then_rerun_cancels_each_side_once(cli: Any, sandbox: Sandbox, kind: str) -> None:
    sandbox.inject_fault(kind, method="POST", path_regex=r"/v3/orders/.*/cancel$")
    r = cancel(cli, "000000124", "--reason", "fraud", "--yes")
    r2 = cancel(cli, "000000124", "--reason", "fraud", "--yes")
    assert r2.exit_code == 0, (r, r2)
    po = r2.json()["purchase_order_id"]
    assert cancel_posts(sandbox) == 1
    assert {s["status"] for s in statuses(sandbox, po)} == {"Cancelled"}
    assert {s.get("cancellationReason") for s in statuses(sandbox, po)} == {"SELLER_CANCEL_FRAUD_STOP_SHIPMENT"}
    commerce_cancels = [e for e in sandbox.request_log() if e.path.endswith("/cancel") and "/rest/" in e.path
                        and e.applied]
    assert len(commerce_cancels) == 1
    comments = [c["comment"] or "" for c in sandbox.comments("000000124")]
    assert sum("SELLER_CANCEL_FRAUD_STOP_SHIPMENT" in c for c in comments) == 1
    assert sandbox.commerce_order("000000124")["state"] == "canceled"


def test_walmart_cancelled_commerce_failed_rerun_completes_commerce(cli: Any, sandbox: Sandbox) -> None:
    sandbox.inject_fault("503", method="POST", path_regex=r"/rest/.*/cancel$", count=10)
    r = cancel(cli, "000000127", "--reason", "out-of-stock", "--yes")
    assert r.exit_code == 5, r
    sandbox.clear_faults()
    r2 = cancel(cli, "000000127", "--reason", "out-of-stock", "--yes")
    assert r2.exit_code == 0, r2
    assert cancel_posts(sandbox) == 1
    assert sandbox.commerce_order("000000127")["state"] == "canceled"
    comments = [c["comment"] or "" for c in sandbox.comments("000000127")]
    assert sum("SELLER_CANCEL_OUT_OF_STOCK" in c for c in comments) == 1


def test_partial_cancel_rerun_without_the_journal_cancels_nothing_more(cli: Any, sandbox: Sandbox,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Any) -> None:
    sku = sandbox.commerce_order("000000104")["items"][0]["sku"]
    r = cancel(cli, "000000104", "--reason", "pricing-error", "--item", f"{sku}=1", "--yes")
    assert r.exit_code == 0, r
    # the same command from another machine: its own (empty) journal, the same sandbox
    from wmsync.journal import default_journal_path

    default_journal_path().unlink()
    sandbox.clear_request_log()
    r2 = cancel(cli, "000000104", "--reason", "pricing-error", "--item", f"{sku}=1", "--yes")
    # the order's comment says this cancellation was done; units are still open, so it could be a new one:
    # refused (exit 2), nothing sent, never reported done
    assert r2.exit_code == 2, r2
    assert writes(sandbox) == []
    cancelled = [s for s in statuses(sandbox, r.json()["purchase_order_id"]) if s["status"] == "Cancelled"]
    assert sum(int(s["statusQuantity"]["amount"]) for s in cancelled) == 1
