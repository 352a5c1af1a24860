"""OAuth 1.0a over a query with spaces: Magento reads the query with rawurldecode, so a '+' for a space is
signed differently from what the client signed. The client sends %20; the sandbox checks the Magento way."""

from __future__ import annotations

import httpx

from wmsync.commerce.client import CommerceClient, Filter, oauth1_signer
from wmsync.sandbox import BASE_URL, CREDENTIALS, Sandbox, default_db_path


def _signer() -> object:
    return oauth1_signer(CREDENTIALS["COMMERCE_CONSUMER_KEY"], CREDENTIALS["COMMERCE_CONSUMER_SECRET"],
                         CREDENTIALS["COMMERCE_ACCESS_TOKEN"], CREDENTIALS["COMMERCE_ACCESS_TOKEN_SECRET"])


def test_date_filter_with_a_space_is_signed_right() -> None:
    with Sandbox(default_db_path()) as sb:
        client = CommerceClient(base_url=BASE_URL, signer=_signer(), transport=sb.transport())  # type: ignore[arg-type]
        found = list(client.search_orders([[Filter("created_at", "2000-01-01 00:00:00", "gteq")]], limit=3))
        client.close()
    assert len(found) == 3


def test_plus_for_space_is_refused_like_magento() -> None:
    with Sandbox(default_db_path()) as sb:
        sign = _signer()
        request = httpx.Request("GET", f"{BASE_URL}/rest/default/V1/orders",
                                params=[("searchCriteria[filter_groups][0][filters][0][field]", "created_at"),
                                        ("searchCriteria[filter_groups][0][filters][0][value]", "2000-01-01 00:00:00"),
                                        ("searchCriteria[pageSize]", "1")])
        assert "+" in str(request.url)  # httpx's own encoding
        sign(request)  # type: ignore[operator]
        response = sb.transport().handle_request(request)
    assert response.status_code == 401
