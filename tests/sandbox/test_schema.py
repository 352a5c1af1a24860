"""Every response the sandbox gives matches the official schemas (with the errata in tests/conformance).

Runs a tour of the endpoints wmsync uses — successes and errors — and validates each response body with the
conformance checker, as Prism would in the end-to-end tests.
"""

from __future__ import annotations

import httpx
import pytest

from sandbox.helpers import cancel_body, po_of, ship_body
from wmsync.sandbox import Sandbox

spec = pytest.importorskip("conformance.spec")

if spec.specs_missing_reason():  # pragma: no cover - the specs live next to the repository
    pytest.skip(spec.specs_missing_reason(), allow_module_level=True)


class Recorder(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str, int, bytes, bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.seen.append((request.method, str(request.url), response.status_code, request.content, response.content))
        return response


@pytest.fixture
def recorder(sandbox: Sandbox) -> Recorder:
    return Recorder(sandbox.transport())


@pytest.fixture
def rclient(recorder: Recorder) -> httpx.Client:
    return httpx.Client(transport=recorder, base_url="https://sandbox.wmsync.invalid")


def _tour(c: httpx.Client, sb: Sandbox, wm: dict[str, str], mg: dict[str, str]) -> None:
    c.get("/v3/token/detail", headers=wm)
    c.get("/v3/orders", params={"limit": 3}, headers=wm)
    c.get("/v3/orders", params={"sku": "NOPE"}, headers=wm)
    c.get(f"/v3/orders/{po_of(sb, '000000114')}", headers=wm)
    c.get("/v3/orders/1", headers=wm)
    c.post(f"/v3/orders/{po_of(sb, '000000102')}/acknowledge", headers={**wm, "Content-Type": "application/json"})
    c.post(f"/v3/orders/{po_of(sb, '000000101')}/shipping", json=ship_body(tracking="SCHEMA-1"), headers=wm)
    c.post(f"/v3/orders/{po_of(sb, '000000101')}/shipping", json=ship_body(tracking="SCHEMA-1"), headers=wm)
    c.post(f"/v3/orders/{po_of(sb, '000000103')}/cancel", json=cancel_body([("1", 1)]), headers=wm)
    c.post(f"/v3/orders/{po_of(sb, '000000108')}/cancel", json=cancel_body([("1", 1)]), headers=wm)
    c.get("/v3/orders", headers={k: v for k, v in wm.items() if k != "WM_SEC.ACCESS_TOKEN"})

    crit = {
        "searchCriteria[filter_groups][0][filters][0][field]": "ext_order_id",
        "searchCriteria[filter_groups][0][filters][0][value]": "",
        "searchCriteria[filter_groups][0][filters][0][condition_type]": "notnull",
        "searchCriteria[pageSize]": "5",
        "searchCriteria[currentPage]": "2",
    }
    c.get("/rest/default/V1/orders", params=crit, headers=mg)
    c.get("/rest/default/V1/orders", headers=mg)
    for entity in (1, 5, 7, 8, 11, 15):
        c.get(f"/rest/default/V1/orders/{entity}", headers=mg)
    c.get("/rest/default/V1/orders/999", headers=mg)
    c.get("/rest/default/V1/orders/3/comments", headers=mg)
    c.post(
        "/rest/default/V1/orders/3/comments",
        json={"statusHistory": {"comment": "x", "is_customer_notified": 0, "is_visible_on_front": 0, "parent_id": 3}},
        headers=mg,
    )
    c.post(
        "/rest/default/V1/order/1/ship",
        json={"tracks": [{"track_number": "S1", "title": "UPS", "carrier_code": "ups"}]},
        headers=mg,
    )
    c.post(
        "/rest/default/V1/order/7/ship",
        json={"tracks": [{"track_number": "S2", "title": "UPS", "carrier_code": "ups"}]},
        headers=mg,
    )
    c.post("/rest/default/V1/orders/2/cancel", headers=mg)
    c.post("/rest/default/V1/orders/9/cancel", headers=mg)
    c.get(
        "/rest/default/V1/shipments",
        params={
            "searchCriteria[filter_groups][0][filters][0][field]": "order_id",
            "searchCriteria[filter_groups][0][filters][0][value]": "7",
        },
        headers=mg,
    )
    c.get("/rest/default/V1/shipment/1", headers=mg)
    c.get("/rest/default/V1/orders/1", headers={"Authorization": "Bearer wrong"})


def test_every_response_matches_the_official_schema(
    rclient: httpx.Client, recorder: Recorder, sandbox: Sandbox, wm: dict[str, str], mg: dict[str, str]
) -> None:
    sandbox.update_settings(ship_id_as_string=False)
    _tour(rclient, sandbox, wm, mg)
    statuses = {status for _, _, status, _, _ in recorder.seen}
    assert statuses >= {200, 400, 401, 404}
    problems: list[str] = []
    checked = 0
    for method, url, status, request_body, body in recorder.seen:
        try:
            if request_body:
                spec.validate_request(method, url, request_body)
            spec.validate_response(method, url, status, body)
            checked += 1
        except spec.SchemaNotFound:
            continue
        except AssertionError as exc:
            problems.append(f"{method} {url} -> {status}: {exc}")
    assert not problems, "\n".join(problems)
    assert checked >= 25


def test_ship_id_as_string_is_what_magento_sends_not_what_the_schema_says(
    client: httpx.Client, mg: dict[str, str]
) -> None:
    r = client.post(
        "/rest/default/V1/order/1/ship",
        json={"tracks": [{"track_number": "S1", "title": "UPS", "carrier_code": "ups"}]},
        headers=mg,
    )
    assert isinstance(r.json(), str)
    with pytest.raises(AssertionError, match="integer"):
        spec.validate_response("POST", str(r.request.url), r.status_code, r.content)
