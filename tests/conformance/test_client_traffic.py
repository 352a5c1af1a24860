"""Every request body the clients send, and every response the sandbox returns, checked against the official
schemas: the real commands run against the in-process sandbox through a transport that validates each exchange.

The specs — not our memory and not our sandbox — are the authority; this is what keeps the clients and the
sandbox honest between Prism runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conformance.spec import specs_missing_reason, validate_request, validate_response
from wmsync.sandbox import Sandbox, default_db_path

pytestmark = pytest.mark.skipif(specs_missing_reason() is not None, reason=str(specs_missing_reason()))


class Checked(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: list[str] = []
        self.problems: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        label = f"{request.method} {request.url.path}"
        self.seen.append(label)
        try:
            validate_request(request.method, str(request.url), body)
        except AssertionError as exc:
            self.problems.append(f"request {label}: {exc}")
        response = self.inner.handle_request(request)
        content = response.read()
        if response.status_code < 500:
            try:
                validate_response(request.method, str(request.url), response.status_code, content)
            except AssertionError as exc:
                self.problems.append(f"response {response.status_code} {label}: {exc}")
        return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[Checked]:
    sb = Sandbox(default_db_path())
    sb.ensure_seeded()
    sb.update_settings(ship_id_as_string=False)
    from wmsync.cli import common

    holder = Checked(sb.transport())
    monkeypatch.setattr(common.Runtime, "transport_override", holder)
    yield holder
    sb.close()


SCENARIOS: list[list[str]] = [
    ["stores", "check", "sandbox"],
    ["ship", "000000101", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010006"],
    ["ship", "000000101", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010006"],  # re-run: reads only
    ["ship", "000000102", "--carrier", "FedEx", "--tracking", "123456789012"],  # acknowledge first
    ["ship", "000000104", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010015", "--item", "WM-SOCK-PAIR=2"],
    ["ship", "000000103", "--carrier", "Acme Freight", "--tracking", "AF12345678", "--tracking-url",
     "https://acme.example/t/AF12345678"],
    ["ship", "000000106", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010024", "--override-intent-to-cancel"],
    ["ship", "000000105", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010033"],
    ["cancel", "000000124", "--reason", "out-of-stock", "--yes"],
    ["cancel", "000000118", "--reason", "pricing-error", "--item", "WM-A-118=1", "--yes"],
    ["ship", "000000109", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010042"],
]


def test_every_exchange_matches_the_official_schemas(cli: Any, checked: Checked) -> None:
    from wmsync.sandbox import Sandbox as _S

    sb = _S(default_db_path())
    skus = {o: [i["sku"] for i in (sb.commerce_order(o) or {}).get("items", [])] for o in ("000000104", "000000118")}
    sb.close()
    outcomes = []
    for args in SCENARIOS:
        args = [a.replace("WM-SOCK-PAIR", skus["000000104"][0]).replace("WM-A-118", skus["000000118"][0])
                for a in args]
        r = cli(*args, "--store", "sandbox")
        outcomes.append((args[:2], r.exit_code))
        assert r.exit_code == 0, (args, r)
    assert checked.problems == [], "\n".join(checked.problems)
    kinds = {s.split(" ", 1)[0] + " " + s.rsplit("/", 1)[-1] for s in checked.seen}
    # the traffic covered every operation wmsync uses
    for expected in ("POST token", "GET detail", "POST acknowledge", "POST shipping", "POST cancel", "POST ship",
                     "POST comments", "GET orders", "GET shipments"):
        assert expected in kinds, (expected, sorted(kinds))


def test_inventory_and_catalog_exchanges_match_the_official_schemas(cli: Any, checked: Checked) -> None:
    """Multi-Source Inventory (sources, source items, source selection) and the catalog read of a bundle's
    shipment type: every request and answer against the 2.4.9 admin schema."""
    from wmsync.sandbox import Sandbox as _S

    sb = _S(default_db_path())
    sb.update_settings(msi=True)
    sb.close()
    for args in (["ship", "000000127", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010006"],
                 ["ship", "000000128", "--carrier", "UPS", "--tracking", "1Z999AA10123456800", "--source", "west"],
                 ["ship", "000000135", "--carrier", "UPS", "--tracking", "1Z999AA10123456819"]):
        r = cli(*args, "--store", "sandbox")
        assert r.exit_code == 0, (args, r)
    assert checked.problems == [], "\n".join(checked.problems)
    seen = set(checked.seen)
    for expected in ("GET /rest/default/V1/inventory/sources", "GET /rest/default/V1/inventory/source-items",
                     "POST /rest/default/V1/inventory/source-selection-algorithm-result",
                     "GET /rest/default/V1/products/WM-KIT-012"):
        assert expected in seen, (expected, sorted(seen))


def test_tracking_correction_exchanges_match_the_official_schemas(cli: Any, checked: Checked) -> None:
    """``ship --replaces``: Walmart's PARTIAL_UPDATE, Commerce's new track and the old one's removal."""
    for args in (["ship", "000000101", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010006"],
                 ["ship", "000000101", "--carrier", "UPS", "--tracking", "1Z999AA10123456800", "--replaces",
                  "1ZW1X2Y30390010006"]):
        r = cli(*args, "--store", "sandbox")
        assert r.exit_code == 0, (args, r)
    assert checked.problems == [], "\n".join(checked.problems)
    seen = set(checked.seen)
    assert "POST /rest/default/V1/shipment/track" in seen, sorted(seen)
    assert any(s.startswith("DELETE /rest/default/V1/shipment/track/") for s in seen), sorted(seen)


def test_refund_exchanges_match_the_official_schemas(cli: Any, checked: Checked) -> None:
    """``wmsync refund``: Walmart's refundOrderLines and Commerce's offline credit memo."""
    from wmsync.sandbox import Sandbox as _S

    r = cli("ship", "000000124", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010006", "--store", "sandbox")
    assert r.exit_code == 0, r
    sb = _S(default_db_path())
    with sb.db.transaction() as conn:
        conn.execute("UPDATE c_items SET qty_invoiced = qty_ordered WHERE order_id = 24")
    sb.close()
    r = cli("refund", "000000124", "--item", "WM-MUG-001", "--reason", "damaged", "--yes", "--store", "sandbox")
    assert r.exit_code == 0, r
    assert checked.problems == [], "\n".join(checked.problems)
    seen = set(checked.seen)
    assert "POST /rest/default/V1/order/24/refund" in seen, sorted(seen)
    assert any(s.startswith("POST /v3/orders/") and s.endswith("/refund") for s in seen), sorted(seen)


def test_returns_exchanges_match_the_official_schemas(cli: Any, checked: Checked) -> None:
    """``wmsync returns`` and ``returns refund``: getReturns and issueRefund against the returns spec."""
    for args in (["returns", "list", "--json"], ["returns", "list", "--status", "initiated", "--json"],
                 ["returns", "refund", "RT0000000107", "--yes"], ["status", "000000107"]):
        r = cli(*args, "--store", "sandbox")
        assert r.exit_code == 0, (args, r)
    assert checked.problems == [], "\n".join(checked.problems)
    seen = set(checked.seen)
    assert "GET /v3/returns" in seen, sorted(seen)
    assert "POST /v3/returns/RT0000000107/refund" in seen, sorted(seen)
