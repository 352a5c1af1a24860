"""A write whose outcome is unknown is never sent again in the same run, even when the server applies it late
(after wmsync has already looked once); a re-run resends only after the quiet period."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"


class LateWrites(httpx.BaseTransport):
    """The first write matching ``pattern`` times out without being applied; the server applies it only after
    ``delay_reads`` further requests (a PHP worker still busy after the client gave up) — or never."""

    def __init__(self, inner: httpx.BaseTransport, pattern: str, delay_reads: int | None) -> None:
        self.inner = inner
        self.pattern = re.compile(pattern)
        self.delay_reads = delay_reads
        self.held: httpx.Request | None = None
        self.fired = False
        self.reads_since = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.held is not None and self.delay_reads is not None:
            self.reads_since += 1
            if self.reads_since > self.delay_reads:
                held, self.held = self.held, None
                self.inner.handle_request(held).read()  # applied late
        if not self.fired and request.method == "POST" and self.pattern.search(request.url.path):
            self.fired = True
            request.read()
            self.held = request
            raise httpx.ReadTimeout("timed out", request=request)
        return self.inner.handle_request(request)



def use(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, pattern: str, delay_reads: int | None) -> LateWrites:
    from wmsync.cli import common

    late = LateWrites(sandbox.transport(), pattern, delay_reads)
    monkeypatch.setattr(common.Runtime, "transport_override", late)
    return late


def posts(sb: Sandbox, suffix: str) -> int:
    return sum(1 for e in sb.request_log() if e.method == "POST" and e.path.endswith(suffix) and e.applied)


@pytest.mark.parametrize(("pattern", "suffix"), [(r"/order/\d+/ship$", "/ship"), (r"/shipping$", "/shipping")])
def test_late_applied_ship_is_not_sent_twice(cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
                                            pattern: str, suffix: str) -> None:
    monkeypatch.setenv("WMSYNC_UNKNOWN_GRACE", "5")
    use(monkeypatch, sandbox, pattern, delay_reads=2)
    r = cli("ship", "000000123", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", UPS,
            "--item", sandbox.commerce_order("000000123")["items"][0]["sku"] + "=1")  # type: ignore[index]
    assert r.exit_code == 0, r
    assert posts(sandbox, suffix) == 1
    assert len(sandbox.commerce_shipments_by_tracking()[UPS]) == 1
    po = r.json()["purchase_order_id"]
    line = sandbox.walmart_order(po)["orderLines"]["orderLine"][0]  # type: ignore[index]
    shipped = [s for s in line["orderLineStatuses"]["orderLineStatus"] if s["status"] == "Shipped"]
    assert sum(int(s["statusQuantity"]["amount"]) for s in shipped) == 1  # 1 asked, 1 shipped


def test_never_applied_exits_5_and_rerun_waits_for_the_quiet_period(
        cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMSYNC_UNKNOWN_GRACE", "0.2")
    monkeypatch.setenv("WMSYNC_RESEND_QUIET", "3600")
    use(monkeypatch, sandbox, r"/shipping$", delay_reads=None)
    r = cli("ship", "000000101", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 5, r
    assert "could not tell" in r.stderr
    assert posts(sandbox, "/shipping") == 0
    # a re-run inside the quiet period does not send it again
    r2 = cli("ship", "000000101", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", UPS)
    assert r2.exit_code == 5, r2
    assert "may still be in flight" in r2.stderr
    assert posts(sandbox, "/shipping") == 0
    # after the quiet period it does, once
    monkeypatch.setenv("WMSYNC_RESEND_QUIET", "0")
    r3 = cli("ship", "000000101", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", UPS)
    assert r3.exit_code == 0, r3
    assert posts(sandbox, "/shipping") == 1


def test_late_applied_partial_cancel_is_not_sent_twice(cli: Any, sandbox: Sandbox,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMSYNC_UNKNOWN_GRACE", "5")
    use(monkeypatch, sandbox, r"/v3/orders/\d+/cancel$", delay_reads=2)
    sku = sandbox.commerce_order("000000123")["items"][0]["sku"]  # type: ignore[index]
    r = cli("cancel", "000000123", "--store", "sandbox", "--json", "--reason", "out-of-stock", "--item",
            f"{sku}=1", "--yes")
    assert r.exit_code == 0, r
    cancelled = [s for c in sandbox.cancellations(r.json()["purchase_order_id"]) for s in [c]]
    assert sum(int(c.get("quantity", c.get("qty", 0))) for c in cancelled) == 1, cancelled


class LaggingWalmart(httpx.BaseTransport):
    """Walmart accepts the shipping update (200) but does not show it yet (a lagging read side)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/shipping"):
            self.posts += 1
            order = httpx.Request("GET", str(request.url).rsplit("/", 1)[0], headers=request.headers)
            return self.inner.handle_request(order)
        return self.inner.handle_request(request)


def test_a_sent_but_unconfirmed_shipment_is_not_posted_again_while_waiting(
        cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from wmsync.cli import common

    lag = LaggingWalmart(sandbox.transport())
    monkeypatch.setattr(common.Runtime, "transport_override", lag)
    args = ["ship", "000000101", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", UPS]
    r = cli(*args, "--no-wait")
    assert r.exit_code == 0, r
    assert r.json()["result"] == "pending"
    r2 = cli(*args, "--timeout", "0.3")  # within the first run's confirmation window
    assert r2.exit_code == 6, r2
    assert lag.posts == 1
