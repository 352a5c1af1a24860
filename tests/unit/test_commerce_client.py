"""Commerce client: OAuth 1.0a signing (verified independently), bearer auth, searchCriteria and paging,
Magento error messages, cancel/ship answers, exit codes."""

from __future__ import annotations

import hmac
import json
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oauthlib.oauth1.rfc5849 import signature, utils

from wmsync.clock import FakeClock
from wmsync.commerce.client import (
    CommerceClient,
    Filter,
    bearer_signer,
    error_from_response,
    fill_placeholders,
    oauth1_signer,
    parse_error,
    search_params,
)
from wmsync.errors import (
    ApiError,
    CommerceRefusedError,
    ExitCode,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
)
from wmsync.http import HttpSettings, RetryPolicy

SHOP = "https://shop.test"
API = f"{SHOP}/rest/default/V1"
CK, CS, AT, ATS = "consumer-key-1", "consumer-secret-2", "access-token-3", "access-token-secret-4"
FAST = HttpSettings(policy=RetryPolicy(max_attempts=3, backoff_base=0, backoff_max=0, jitter=False))


def _client(signer: Any = None, **kwargs: Any) -> CommerceClient:
    return CommerceClient(base_url=SHOP, signer=signer or oauth1_signer(CK, CS, AT, ATS), settings=FAST,
                          clock=FakeClock(), **kwargs)


def _oauth_params(request: httpx.Request) -> dict[str, str]:
    header = request.headers["Authorization"]
    assert header.startswith("OAuth ")
    return {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}


def _verify(request: httpx.Request, consumer_secret: str, token_secret: str) -> bool:
    """Recompute the HMAC-SHA256 signature from what the server received."""
    params = signature.collect_parameters(
        uri_query=request.url.query.decode(),
        headers={"Authorization": request.headers["Authorization"]},
        exclude_oauth_signature=True,
    )
    base = signature.signature_base_string(
        request.method, signature.base_string_uri(str(request.url)), signature.normalize_parameters(params)
    )
    secrets = SimpleNamespace(client_secret=consumer_secret, resource_owner_secret=token_secret)
    expected = signature.sign_hmac_sha256_with_client(base, secrets)
    return hmac.compare_digest(_oauth_params(request)["oauth_signature"], expected)


# ---------------------------------------------------------------- auth


def test_oauth1_get_with_search_criteria_is_signed_and_verifies(httpx_mock) -> None:
    httpx_mock.add_callback(lambda r: httpx.Response(200, json={"items": [], "total_count": 0}))
    value = "Walmart PO 12 & 50% + [x]/é"
    list(_client().search_orders([[Filter("ext_order_id", value, "like")]]))
    (req,) = httpx_mock.get_requests()
    assert req.url.path == "/rest/default/V1/orders"
    assert ("searchCriteria[filter_groups][0][filters][0][value]", value) in req.url.params.multi_items()
    oauth = _oauth_params(req)
    assert oauth["oauth_signature_method"] == "HMAC-SHA256"
    assert oauth["oauth_consumer_key"] == CK
    assert oauth["oauth_token"] == AT
    assert oauth["oauth_version"] == "1.0"
    assert oauth["oauth_nonce"]
    assert oauth["oauth_timestamp"].isdigit()
    assert _verify(req, CS, ATS)
    # the check discriminates: other secrets do not verify
    assert not _verify(req, CS, "wrong")
    assert not _verify(req, "wrong", ATS)
    assert CS not in req.headers["Authorization"]
    assert ATS not in req.headers["Authorization"]


def test_oauth1_post_with_json_body_verifies(httpx_mock) -> None:
    httpx_mock.add_response(method="POST", url=f"{API}/order/42/ship", json=77)
    assert _client().ship(42, {"items": [{"order_item_id": 1, "qty": 1}], "notify": False}) == 77
    (req,) = httpx_mock.get_requests()
    assert json.loads(req.content) == {"items": [{"order_item_id": 1, "qty": 1}], "notify": False}
    assert req.headers["Content-Type"] == "application/json"
    assert _verify(req, CS, ATS)


def test_each_attempt_is_signed_afresh(httpx_mock) -> None:
    httpx_mock.add_response(status_code=503, url=f"{API}/orders/5")
    httpx_mock.add_response(json={"entity_id": 5, "increment_id": "000000005"}, url=f"{API}/orders/5")
    assert _client().get_order(5).increment_id == "000000005"
    first, second = httpx_mock.get_requests()
    assert _oauth_params(first)["oauth_nonce"] != _oauth_params(second)["oauth_nonce"]
    assert _verify(first, CS, ATS)
    assert _verify(second, CS, ATS)


def test_bearer_header(httpx_mock) -> None:
    httpx_mock.add_response(json={"entity_id": 1, "increment_id": "1"}, url=f"{API}/orders/1")
    _client(bearer_signer("integration-token-5")).get_order(1)
    assert httpx_mock.get_requests()[0].headers["Authorization"] == "Bearer integration-token-5"


def test_store_code_is_in_the_path(httpx_mock) -> None:
    httpx_mock.add_response(json={"entity_id": 1, "increment_id": "1"}, url=f"{SHOP}/rest/us_store/V1/orders/1")
    CommerceClient(base_url=SHOP + "/", store_code="us_store", signer=bearer_signer("t"), clock=FakeClock()
                   ).get_order(1)
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_is_exit_3(httpx_mock, status: int) -> None:
    httpx_mock.add_response(status_code=status, url=f"{API}/orders/1", json={
        "message": "The consumer isn't authorized to access %resources.",
        "parameters": {"resources": "Magento_Sales::actions_view"}})
    with pytest.raises(ApiError) as info:
        _client().get_order(1)
    assert info.value.exit_code == ExitCode.CONFIG == 3
    assert info.value.message == (
        "Commerce: The consumer isn't authorized to access Magento_Sales::actions_view.")
    assert info.value.hint
    assert len(httpx_mock.get_requests()) == 1  # not retried


# ---------------------------------------------------------------- searchCriteria and paging


def test_search_params_groups_conditions_and_paging() -> None:
    params = search_params(
        [[Filter("increment_id", "000000123"), Filter("increment_id", "000000124", "in")],
         [Filter("ext_order_id", None, "notnull")]],
        page_size=20, page=3, sort=[("created_at", "DESC")],
    )
    assert params == [
        ("searchCriteria[filter_groups][0][filters][0][field]", "increment_id"),
        ("searchCriteria[filter_groups][0][filters][0][value]", "000000123"),
        ("searchCriteria[filter_groups][0][filters][0][condition_type]", "eq"),
        ("searchCriteria[filter_groups][0][filters][1][field]", "increment_id"),
        ("searchCriteria[filter_groups][0][filters][1][value]", "000000124"),
        ("searchCriteria[filter_groups][0][filters][1][condition_type]", "in"),
        ("searchCriteria[filter_groups][1][filters][0][field]", "ext_order_id"),
        ("searchCriteria[filter_groups][1][filters][0][condition_type]", "notnull"),
        ("searchCriteria[sortOrders][0][field]", "created_at"),
        ("searchCriteria[sortOrders][0][direction]", "DESC"),
        ("searchCriteria[pageSize]", "20"),
        ("searchCriteria[currentPage]", "3"),
    ]


def test_search_without_filters_still_sets_page_size() -> None:
    assert dict(search_params([], page_size=100, page=1)) == {
        "searchCriteria[pageSize]": "100", "searchCriteria[currentPage]": "1"}


class FakeMagento:
    """Orders search as Magento does it: a page past the end returns the last page again."""

    def __init__(self, n: int, *, total_count: Any = None) -> None:
        self.orders = [{"entity_id": i, "increment_id": f"{i:09d}"} for i in range(1, n + 1)]
        self.total_count = n if total_count is None else total_count
        self.pages: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        q = dict(parse_qsl(request.url.query.decode()))
        size = int(q["searchCriteria[pageSize]"])
        page = int(q["searchCriteria[currentPage]"])
        self.pages.append(page)
        last = max(1, -(-len(self.orders) // size))
        page = min(page, last)
        items = self.orders[(page - 1) * size: page * size]
        return httpx.Response(200, json={"items": items, "search_criteria": {}, "total_count": self.total_count})


@pytest.mark.parametrize(("n", "size", "pages"), [(5, 2, [1, 2, 3]), (4, 2, [1, 2]), (0, 10, [1]), (3, 10, [1])])
def test_search_pages_until_total_count(httpx_mock, n: int, size: int, pages: list[int]) -> None:
    magento = FakeMagento(n)
    httpx_mock.add_callback(magento, is_reusable=True, is_optional=True)
    got = list(_client().search_orders([], page_size=size))
    assert [o.entity_id for o in got] == list(range(1, n + 1))
    assert magento.pages == pages


def test_search_does_not_repeat_the_last_page_when_total_count_is_too_high(httpx_mock) -> None:
    # total_count says 7 but only 4 orders come back (one deleted meanwhile, or rows the ACL hides):
    # Magento answers pages 3, 4 … with page 2 again.
    magento = FakeMagento(4, total_count=7)
    httpx_mock.add_callback(magento, is_reusable=True, is_optional=True)
    got = list(_client().search_orders([], page_size=2))
    assert [o.entity_id for o in got] == [1, 2, 3, 4]
    assert len(magento.pages) <= 3


class KeysetMagento:
    """Orders search that honours an ``entity_id`` gt/lt filter and the sort on it (as Magento's collection does);
    ``ignore_filters`` answers as a server that drops them would."""

    def __init__(self, n: int, *, ignore_filters: bool = False) -> None:
        self.orders = [{"entity_id": i, "increment_id": f"{i:09d}"} for i in range(1, n + 1)]
        self.ignore_filters = ignore_filters
        self.queries: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        q = dict(parse_qsl(request.url.query.decode()))
        self.queries.append(q)
        rows = list(self.orders)
        g = 0
        while f"searchCriteria[filter_groups][{g}][filters][0][field]" in q and not self.ignore_filters:
            prefix = f"searchCriteria[filter_groups][{g}][filters][0]"
            assert q[f"{prefix}[field]"] == "entity_id"
            value, cond = int(q[f"{prefix}[value]"]), q[f"{prefix}[condition_type]"]
            rows = [r for r in rows if (r["entity_id"] > value if cond == "gt" else r["entity_id"] < value)]
            g += 1
        rows.sort(key=lambda r: r["entity_id"], reverse=q["searchCriteria[sortOrders][0][direction]"] == "DESC")
        size, page = int(q["searchCriteria[pageSize]"]), int(q["searchCriteria[currentPage]"])
        return httpx.Response(200, json={"items": rows[(page - 1) * size: page * size], "search_criteria": {},
                                         "total_count": len(rows)})


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize(("n", "size", "requests"), [(5, 2, 3), (4, 2, 2), (0, 10, 1), (3, 10, 1), (7, 3, 3)])
def test_search_sorted_by_entity_id_pages_by_key_always_page_one(
    httpx_mock, direction: str, n: int, size: int, requests: int
) -> None:
    magento = KeysetMagento(n)
    httpx_mock.add_callback(magento, is_reusable=True, is_optional=True)
    got = list(_client().search_orders([], page_size=size, sort=(("entity_id", direction),)))
    expected = list(range(1, n + 1))
    assert [o.entity_id for o in got] == (expected if direction == "ASC" else expected[::-1])
    assert len(magento.queries) == requests
    assert {q["searchCriteria[currentPage]"] for q in magento.queries} == {"1"}
    for before, q in zip(got[size - 1::size], magento.queries[1:], strict=False):
        assert q["searchCriteria[filter_groups][0][filters][0][value]"] == str(before.entity_id)
        assert q["searchCriteria[filter_groups][0][filters][0][condition_type]"] == (
            "gt" if direction == "ASC" else "lt")


def test_search_by_created_at_then_entity_id_pages_by_both_keys(httpx_mock) -> None:
    """Ties on created_at are split by entity_id: (c <= X) AND (c < X OR id < Y), always page 1."""
    rows = [{"entity_id": i, "increment_id": f"{i:09d}", "created_at": f"2026-01-0{1 + i // 3} 00:00:00"}
            for i in range(1, 11)]
    queries: list[dict[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        q = dict(parse_qsl(request.url.query.decode()))
        queries.append(q)
        keep = list(rows)
        if "searchCriteria[filter_groups][0][filters][0][value]" in q:
            x = q["searchCriteria[filter_groups][0][filters][0][value]"]
            y = int(q["searchCriteria[filter_groups][1][filters][1][value]"])
            keep = [r for r in keep if r["created_at"] <= x and (r["created_at"] < x or r["entity_id"] < y)]
        keep.sort(key=lambda r: (r["created_at"], r["entity_id"]), reverse=True)
        return httpx.Response(200, json={"items": keep[:3], "total_count": len(keep)})

    httpx_mock.add_callback(answer, is_reusable=True)
    got = list(_client().search_orders([], page_size=3, sort=(("created_at", "DESC"), ("entity_id", "DESC"))))
    assert [o.entity_id for o in got] == list(range(10, 0, -1))
    assert len(queries) == 4
    assert {q["searchCriteria[currentPage]"] for q in queries} == {"1"}


def test_keyset_search_keeps_the_caller_s_filters_and_stops_at_limit(httpx_mock) -> None:
    seen: list[dict[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        q = dict(parse_qsl(request.url.query.decode()))
        seen.append(q)
        start = int(q.get("searchCriteria[filter_groups][1][filters][0][value]", "0"))
        items = [{"entity_id": i, "increment_id": f"{i:09d}"} for i in range(start + 1, start + 3)]
        return httpx.Response(200, json={"items": items, "total_count": 100})

    httpx_mock.add_callback(answer, is_reusable=True)
    got = list(_client().search_orders([[Filter("ext_order_id", None, "notnull")]], page_size=2, limit=5,
                                       sort=(("entity_id", "ASC"),)))
    assert [o.entity_id for o in got] == [1, 2, 3, 4, 5]
    assert len(seen) == 3
    assert all(q["searchCriteria[filter_groups][0][filters][0][field]"] == "ext_order_id" for q in seen)


def test_keyset_search_against_a_server_that_ignores_the_key_is_malformed_not_endless(httpx_mock) -> None:
    magento = KeysetMagento(10, ignore_filters=True)
    httpx_mock.add_callback(magento, is_reusable=True)
    with pytest.raises(MalformedResponseError, match="entity_id"):
        list(_client().search_orders([], page_size=3, sort=(("entity_id", "ASC"),)))
    assert len(magento.queries) == 2


def test_search_respects_limit(httpx_mock) -> None:
    magento = FakeMagento(50)
    httpx_mock.add_callback(magento, is_reusable=True, is_optional=True)
    got = list(_client().search_orders([[Filter("ext_order_id", "1234567890123")]], page_size=3, limit=3))
    assert len(got) == 3
    assert magento.pages == [1]
    q = dict(httpx_mock.get_requests()[0].url.params)
    assert q["searchCriteria[pageSize]"] == "3"
    assert q["searchCriteria[filter_groups][0][filters][0][field]"] == "ext_order_id"
    assert q["searchCriteria[filter_groups][0][filters][0][value]"] == "1234567890123"
    assert q["searchCriteria[filter_groups][0][filters][0][condition_type]"] == "eq"


def test_search_that_is_not_an_object_is_malformed(httpx_mock) -> None:
    httpx_mock.add_callback(lambda r: httpx.Response(200, json=[1, 2]))
    with pytest.raises(MalformedResponseError):
        list(_client().search_orders([]))


def test_an_order_that_does_not_fit_the_model_is_malformed(httpx_mock) -> None:
    httpx_mock.add_response(json={"entity_id": 5}, url=f"{API}/orders/5")  # no increment_id
    with pytest.raises(MalformedResponseError, match="order 5"):
        _client().get_order(5)


def test_list_shipments_filters_by_order_id(httpx_mock) -> None:
    httpx_mock.add_callback(lambda r: httpx.Response(200, json={"items": [{"entity_id": 9, "order_id": 42}],
                                                                "total_count": 1}))
    assert [(s.entity_id, s.order_id) for s in _client().list_shipments(42)] == [(9, 42)]
    req = httpx_mock.get_requests()[0]
    assert req.url.path == "/rest/default/V1/shipments"
    q = dict(req.url.params)
    assert q["searchCriteria[filter_groups][0][filters][0][field]"] == "order_id"
    assert q["searchCriteria[filter_groups][0][filters][0][value]"] == "42"
    assert "searchCriteria[pageSize]" in q


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("message", "parameters", "expected"),
    [
        ("%1 is not %2", ["a", "b"], "a is not b"),
        ("Order %1 of %2 items", [12, 3], "Order 12 of 3 items"),
        ("\"%fieldName\" is required. Enter and try again.", {"fieldName": "sku"},
         "\"sku\" is required. Enter and try again."),
        ("%1 and %2", ["only one"], "only one and %2"),
        ("%name is %missing", {"name": "x"}, "x is %missing"),
        ("no placeholders, 100% sure", ["a"], "no placeholders, 100% sure"),
        ("%1", None, "%1"),
        ("%1", "not-a-list", "%1"),
        ("%0 %1", ["a"], "%0 a"),
        ("%10 %1", [str(i) for i in range(1, 11)], "10 1"),
        ("%1 is %2", ["%2", "b"], "%2 is b"),  # a value is not filled in again
        ("key %1 named", {"1": "one"}, "key one named"),
    ],
)
def test_fill_placeholders(message: str, parameters: Any, expected: str) -> None:
    assert fill_placeholders(message, parameters) == expected


def test_error_message_with_nested_errors(httpx_mock) -> None:
    httpx_mock.add_response(status_code=400, method="POST", url=f"{API}/order/3/ship", json={
        "message": "Shipment Document Validation Error(s):\n%1",
        "parameters": ["The order does not allow a shipment to be created."],
        "errors": [{"message": "Item %1 quantity %2 exceeds", "parameters": ["SKU-1", "2"]}]})
    with pytest.raises(ApiError) as info:
        _client().ship(3, {"items": []})
    assert info.value.exit_code == ExitCode.REJECTED
    assert info.value.status == 400
    assert "The order does not allow a shipment to be created." in info.value.message
    assert "Item SKU-1 quantity 2 exceeds" in info.value.message
    assert "%1" not in info.value.message


def test_404_is_not_found(httpx_mock) -> None:
    httpx_mock.add_response(status_code=404, url=f"{API}/orders/999", json={
        "message": "The entity that was requested doesn't exist. Verify the entity and try again."})
    with pytest.raises(NotFoundError) as info:
        _client().get_order(999)
    assert info.value.exit_code == ExitCode.REJECTED
    assert "doesn't exist" in info.value.message


def test_html_error_page_message() -> None:
    err = error_from_response(500, b"<!doctype html><html><body>There has been an error</body></html>",
                              httpx.Headers(), None)
    assert err.message == "Commerce: HTTP 500 Internal Server Error (an HTML error page)"


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b'{"message": 5}', b"\xff\xfe", b"{", b'{"errors": 3}',
                                  b'{"message": "m", "errors": [1, {"message": 2}, {"message": "n %1"}]}'])
def test_parse_error_tolerates_odd_bodies(body: bytes) -> None:
    message, nested = parse_error(body)
    assert message is None or isinstance(message, str)
    assert all(isinstance(n, str) for n in nested)
    assert isinstance(error_from_response(400, body, httpx.Headers(), None).message, str)


# ---------------------------------------------------------------- cancel and ship answers


def test_cancel_true_is_ok(httpx_mock) -> None:
    httpx_mock.add_response(method="POST", url=f"{API}/orders/7/cancel", json=True)
    assert _client().cancel(7) is None


def test_cancel_false_is_refused_with_a_hint(httpx_mock) -> None:
    httpx_mock.add_response(method="POST", url=f"{API}/orders/7/cancel", json=False)
    with pytest.raises(CommerceRefusedError) as info:
        _client().cancel(7)
    assert info.value.exit_code == ExitCode.REJECTED == 4
    assert info.value.hint
    assert "invoiced" in info.value.hint
    assert info.value.to_json()["hint"] == info.value.hint


@pytest.mark.parametrize("content", [b'"true"', b"1", b"{}", b"null", b""])
def test_cancel_other_answers_are_malformed(httpx_mock, content: bytes) -> None:
    httpx_mock.add_response(method="POST", url=f"{API}/orders/7/cancel", content=content)
    with pytest.raises(MalformedResponseError):
        _client().cancel(7)


def test_cancel_is_not_repeated_after_a_timeout(httpx_mock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), method="POST", url=f"{API}/orders/7/cancel")
    with pytest.raises(OutcomeUnknownError):
        _client().cancel(7)
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize("content", [b"12", b'"12"'])
def test_ship_returns_the_shipment_id(httpx_mock, content: bytes) -> None:
    httpx_mock.add_response(method="POST", url=f"{API}/order/42/ship", content=content)
    shipment_id = _client().ship(42, {"items": []})
    assert shipment_id == 12
    assert type(shipment_id) is int


@pytest.mark.parametrize("content", [b"true", b"false", b"12.5", b'"12.5"', b'"abc"', b"{}", b"null", b"[12]"])
def test_ship_other_answers_are_malformed(httpx_mock, content: bytes) -> None:
    httpx_mock.add_response(method="POST", url=f"{API}/order/42/ship", content=content)
    with pytest.raises(MalformedResponseError):
        _client().ship(42, {"items": []})


def test_add_comment_body(httpx_mock) -> None:
    httpx_mock.add_response(method="POST", url=f"{API}/orders/7/comments", json=True)
    _client().add_comment(7, "Cancelled on Walmart: SELLER_CANCEL_OUT_OF_STOCK", status="canceled")
    assert json.loads(httpx_mock.get_requests()[0].content) == {"statusHistory": {
        "comment": "Cancelled on Walmart: SELLER_CANCEL_OUT_OF_STOCK", "is_customer_notified": 0,
        "is_visible_on_front": 0, "parent_id": 7, "status": "canceled"}}


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, database=None)
@given(message=st.text(max_size=40), parameters=_json)
def test_fill_placeholders_never_crashes(message: str, parameters: Any) -> None:
    assert isinstance(fill_placeholders(message, parameters), str)


@settings(max_examples=200, deadline=None, database=None)
@given(body=st.one_of(_json, st.fixed_dictionaries({"message": st.text(max_size=30), "parameters": _json,
                                                     "errors": _json})))
def test_commerce_errors_never_crash(body: Any) -> None:
    err = error_from_response(400, json.dumps(body).encode(), httpx.Headers(), None)
    assert isinstance(err.message, str)
    assert err.message.startswith("Commerce: ")


def test_the_inventory_sources_are_read_once_however_many_workers_ask_at_once(tmp_path: Any) -> None:
    import threading
    import time

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        time.sleep(0.05)  # long enough for every worker to ask before the first answer
        return httpx.Response(404, json={"message": "Request does not match any route."})

    client = CommerceClient(base_url="https://shop.example.com", signer=bearer_signer("t"),
                            transport=httpx.MockTransport(handler), msi_cache=tmp_path / "sources.json")
    answers: list[Any] = []
    workers = [threading.Thread(target=lambda: answers.append(client.msi_sources())) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert answers == [None] * 4
    assert seen == ["/rest/default/V1/inventory/sources"]
