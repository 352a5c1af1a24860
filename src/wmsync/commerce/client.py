"""Adobe Commerce / Magento 2.4 admin REST client: orders, shipments, ship, cancel, comments.

Auth is either an integration token as ``Bearer`` (only when the store enables it) or OAuth 1.0a signing
with HMAC-SHA256 (:mod:`wmsync.oauth1`), which works everywhere.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from wmsync.clock import SYSTEM, Clock
from wmsync.commerce.models import Order, Shipment
from wmsync.errors import ApiError, AuthError, CommerceRefusedError, MalformedResponseError, NotFoundError
from wmsync.http import Http, HttpSettings, RateLimiter, Signer, Tracer
from wmsync.records import ValidationError
from wmsync.wire import reason_phrase

M = TypeVar("M", Order, Shipment)

SERVICE = "Commerce"
DEFAULT_PAGE_SIZE = 100


def fill_placeholders(message: str, parameters: Any) -> str:
    """Magento's ``%1``/``%name`` placeholders filled from a list or a dict."""
    if isinstance(parameters, list):
        def by_index(m: re.Match[str]) -> str:
            if len(m.group(1)) > 9:  # not a placeholder (and int() refuses more than 4300 digits)
                return m.group(0)
            i = int(m.group(1)) - 1
            return str(parameters[i]) if 0 <= i < len(parameters) else m.group(0)

        return re.sub(r"%(\d+)", by_index, message)
    if isinstance(parameters, dict):
        def by_name(m: re.Match[str]) -> str:
            key = m.group(1)
            if key in parameters:
                return str(parameters[key])
            return m.group(0)

        return re.sub(r"%([A-Za-z_][A-Za-z0-9_]*|\d+)", by_name, message)
    return message


def parse_error(body: bytes | str | Any) -> tuple[str | None, list[str]]:
    """``{"message", "parameters", "errors": [...]}`` → the filled message and any nested messages."""
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body) if body else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None, []
    if not isinstance(data, dict):
        return None, []
    msg = data.get("message")
    message = fill_placeholders(msg, data.get("parameters")) if isinstance(msg, str) else None
    nested = []
    for item in data.get("errors") or [] if isinstance(data.get("errors"), list) else []:
        if isinstance(item, dict) and isinstance(item.get("message"), str):
            nested.append(fill_placeholders(item["message"], item.get("parameters")))
    return message, nested


def error_from_response(status: int, body: bytes, _headers: Mapping[str, str], cid: str | None) -> ApiError:
    message, nested = parse_error(body)
    if not message:
        snippet = body[:200].decode("utf-8", "replace").strip() if body else ""
        if snippet.startswith("<"):
            message = f"HTTP {status} {reason_phrase(status)} (an HTML error page)"
        else:
            message = snippet or f"HTTP {status} {reason_phrase(status)}"
    if nested:
        message = message + " " + " ".join(nested)
    full = f"Commerce: {message}"
    if status in (401, 403):
        return AuthErrorApi(full, service=SERVICE, status=status, correlation_id=cid,
                            hint="check the integration's credentials and its ACL resources (see README)")
    cls = NotFoundError if status == 404 else ApiError
    return cls(full, service=SERVICE, status=status, correlation_id=cid)


class AuthErrorApi(ApiError):
    """A 401/403 from Commerce; the CLI reports it as a credentials problem (exit 3)."""

    exit_code = AuthError.exit_code


#: how long the inventory sources read by one run are trusted by the next
MSI_CACHE_SECONDS = 3600.0


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


@dataclass(frozen=True)
class Filter:
    field: str
    value: str | None
    condition: str = "eq"


def search_params(
    groups: Sequence[Sequence[Filter]],
    *,
    page_size: int,
    page: int,
    sort: Sequence[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """``searchCriteria`` query parameters: filters in one group are OR, groups are AND."""
    params: list[tuple[str, str]] = []
    for g, group in enumerate(groups):
        for f, flt in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            params.append((f"{prefix}[field]", flt.field))
            if flt.value is not None:
                params.append((f"{prefix}[value]", flt.value))
            params.append((f"{prefix}[condition_type]", flt.condition))
    for s, (field, direction) in enumerate(sort):
        params.append((f"searchCriteria[sortOrders][{s}][field]", field))
        params.append((f"searchCriteria[sortOrders][{s}][direction]", direction))
    params.append(("searchCriteria[pageSize]", str(page_size)))
    params.append(("searchCriteria[currentPage]", str(page)))
    return params


def _page(data: Any, resource: str) -> tuple[list[Any], int | None]:
    """The items and ``total_count`` of one search answer."""
    if not isinstance(data, dict):
        raise MalformedResponseError(f"Commerce search of {resource} did not return an object")
    items = data.get("items") or []
    if not isinstance(items, list):
        raise MalformedResponseError(f"Commerce search of {resource}: items is not a list")
    total = data.get("total_count")
    return items, int(total) if isinstance(total, int | str) and str(total).isdigit() else None


def oauth1_signer(consumer_key: str, consumer_secret: str, token: str, token_secret: str) -> Signer:
    """Sign each request (a fresh nonce and timestamp per attempt) with OAuth 1.0a HMAC-SHA256."""
    from wmsync.oauth1 import authorization_header

    def sign(request: Any) -> None:
        # JSON bodies are not part of the OAuth 1.0a signature base string; only the URL and query are.
        request.headers["Authorization"] = authorization_header(
            request.method, str(request.url), consumer_key=consumer_key, consumer_secret=consumer_secret,
            token=token, token_secret=token_secret)

    return sign


def bearer_signer(token: str) -> Signer:
    def sign(request: Any) -> None:
        request.headers["Authorization"] = f"Bearer {token}"

    return sign


class CommerceClient:
    def __init__(
        self,
        *,
        base_url: str,
        store_code: str = "default",
        signer: Signer,
        settings: HttpSettings | None = None,
        transport: Any = None,
        clock: Clock = SYSTEM,
        rate_per_min: float | None = None,
        tracers: list[Tracer] | None = None,
        msi_cache: Path | None = None,
    ) -> None:
        self.signer = signer
        self.msi_cache = msi_cache  # where the store's inventory sources are kept between runs (an hour)
        limits = {"commerce": RateLimiter(rate_per_min, clock=clock)} if rate_per_min else {}
        self._bundle_types: dict[str, bool] = {}  # bundle SKU -> ships its items separately
        self._sources: list[tuple[str, bool]] | None = None  # MSI sources, [] = no MSI
        self._sources_lock = threading.Lock()
        self.http = Http(
            service=SERVICE,
            base_url=f"{base_url.rstrip('/')}/rest/{store_code}/V1",
            settings=settings,
            transport=transport,
            clock=clock,
            limits=limits,
            error_factory=error_from_response,
            default_headers={"Accept": "application/json"},
            tracers=tracers,
        )

    def close(self) -> None:
        self.http.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        if params:
            # Encode the query ourselves, spaces as %20: httpx would send '+', which Magento's OAuth 1.0a check
            # (rawurldecode) signs as a literal '+' while the signer signs a space, so every date filter got 401.
            path = f"{path}?{urlencode(params, quote_via=quote)}"
        return self.http.request(
            method, path, json_body=json_body, idempotent=idempotent, endpoint="commerce", signer=self.signer,
        ).data

    # ------------------------------------------------------------ reads

    def search(
        self,
        resource: str,
        groups: Sequence[Sequence[Filter]],
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        sort: Sequence[tuple[str, str]] = (),
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stream every match, page by page. Always sets pageSize.

        Sorted by ``entity_id`` alone, or by one other field then ``entity_id`` in the same direction (say
        ``created_at DESC, entity_id DESC``), it pages by key: always page 1, with filters that keep only what
        comes after the last item seen (``entity_id`` ``gt``/``lt`` it; with a first field F, the groups
        ``F lteq last.F`` and ``F lt last.F OR entity_id lt last.entity_id``, descending), so each page costs the
        same however deep the listing is (Magento turns ``currentPage`` into an SQL OFFSET, slower page after
        page). Otherwise by ``currentPage``, stopping at ``total_count`` (Magento returns the last page again
        for a page past the end)."""
        if sort and sort[-1][0] == "entity_id" and len(sort) <= 2 and len({d.upper() for _, d in sort}) == 1:
            yield from self._search_by_key(resource, groups, page_size=page_size,
                                           first=sort[0][0] if len(sort) == 2 else None,
                                           descending=sort[0][1].upper() == "DESC", limit=limit)
            return
        page = 1
        seen = 0
        previous: Any = None
        while True:
            data = self._call("GET", f"/{resource}", params=search_params(groups, page_size=page_size, page=page,
                                                                           sort=sort))
            items, total_count = _page(data, resource)
            if page > 1 and items == previous:
                return  # a page past the end: Magento answered with the last page again
            previous = items
            for item in items:
                if isinstance(item, dict):
                    yield item
                    seen += 1
                    if limit is not None and seen >= limit:
                        return
            if not items or len(items) < page_size or total_count is None or seen >= total_count:
                return
            page += 1

    def _search_by_key(
        self,
        resource: str,
        groups: Sequence[Sequence[Filter]],
        *,
        page_size: int,
        first: str | None,
        descending: bool,
        limit: int | None,
    ) -> Iterator[dict[str, Any]]:
        direction = "DESC" if descending else "ASC"
        sort = ((first, direction), ("entity_id", direction)) if first else (("entity_id", direction),)
        strict, wide = ("lt", "lteq") if descending else ("gt", "gteq")
        last: tuple[str, int] | None = None
        seen = 0
        while True:
            after: list[list[Filter]] = []
            if last is not None and first:
                after = [[Filter(first, last[0], wide)],
                         [Filter(first, last[0], strict), Filter("entity_id", str(last[1]), strict)]]
            elif last is not None:
                after = [[Filter("entity_id", str(last[1]), strict)]]
            data = self._call("GET", f"/{resource}", params=search_params([*groups, *after], page_size=page_size,
                                                                           page=1, sort=sort))
            items, total_count = _page(data, resource)
            for item in items:
                if not isinstance(item, dict):
                    continue
                entity_id, value = item.get("entity_id"), item.get(first) if first else ""
                if not isinstance(entity_id, int) or isinstance(entity_id, bool) or not isinstance(value, str):
                    raise MalformedResponseError(
                        f"Commerce search of {resource}: an item without {'entity_id' if not first else first}")
                key = (value, entity_id)
                if last is not None and (key >= last if descending else key <= last):
                    raise MalformedResponseError(
                        f"Commerce search of {resource} did not honour the filter and sort on "
                        f"{first + ', ' if first else ''}entity_id ({key} after {last})")
                last = key
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return
            if len(items) < page_size or (total_count is not None and total_count <= len(items)):
                return

    def search_orders(
        self,
        groups: Sequence[Sequence[Filter]],
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        sort: Sequence[tuple[str, str]] = (("created_at", "DESC"),),
        limit: int | None = None,
    ) -> Iterator[Order]:
        for data in self.search("orders", groups, page_size=page_size, sort=sort, limit=limit):
            yield self._with_bundles(_parsed(Order, data, "an order"))

    def get_order(self, entity_id: int) -> Order:
        data = self._call("GET", f"/orders/{int(entity_id)}")
        if not isinstance(data, dict):
            raise MalformedResponseError(f"Commerce order {entity_id}: the answer is not an object")
        return self._with_bundles(_parsed(Order, data, f"order {entity_id}"))

    def _with_bundles(self, order: Order) -> Order:
        """Bundles that ship separately are marked (their shipped quantity counted from their items): the order
        item does not say how a bundle ships, its product does (docs/real-services.md)."""
        for item in order.items:
            if item.product_type == "bundle" and item.parent_item_id is None and self.ships_separately(item.sku):
                order.mark_separately(item)
        return order

    # ------------------------------------------------------------ Multi-Source Inventory

    def msi_sources(self) -> list[tuple[str, bool]] | None:
        """The inventory sources (code, enabled), or None when Commerce runs without Multi-Source Inventory (its
        inventory routes are absent: 404 "Request does not match any route."). Read once per run, however many
        workers of a batch ask at once."""
        with self._sources_lock:
            return self._msi_sources()

    def _msi_sources(self) -> list[tuple[str, bool]] | None:
        if self._sources is None:
            self._sources = self._cached_sources()
        if self._sources is None:
            try:
                data = self._call("GET", "/inventory/sources", params=[("searchCriteria[pageSize]", "100")])
            except NotFoundError:
                data = None
            items = data.get("items") if isinstance(data, dict) else None
            self._sources = [] if data is None else [
                (str(i.get("source_code")), bool(i.get("enabled", True)))
                for i in items or []
                if isinstance(i, dict) and i.get("source_code")
            ] or [("default", True)]
            self._cache_sources(self._sources)
        return self._sources or None

    def _cached_sources(self) -> list[tuple[str, bool]] | None:
        """The sources a run read less than an hour ago (whether a store runs MSI, and with which sources, does
        not change between two commands): a ship need not ask again."""
        path = self.msi_cache
        try:
            if path is None or time.time() - path.stat().st_mtime > MSI_CACHE_SECONDS:
                return None
            data = json.loads(path.read_text())
            return [(str(code), bool(on)) for code, on in data["sources"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _cache_sources(self, sources: list[tuple[str, bool]]) -> None:
        path = self.msi_cache
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"sources": sources}))
            tmp.replace(path)
        except OSError:
            pass

    def source_items(self, skus: Sequence[str]) -> dict[tuple[str, str], tuple[float, bool]]:
        """(sku, source code) -> (quantity, in stock) for these SKUs, from every source."""
        params = [
            ("searchCriteria[filterGroups][0][filters][0][field]", "sku"),
            ("searchCriteria[filterGroups][0][filters][0][value]", ",".join(skus)),
            ("searchCriteria[filterGroups][0][filters][0][conditionType]", "in"),
        ]
        data = self._call("GET", "/inventory/source-items", params=params)
        out: dict[tuple[str, str], tuple[float, bool]] = {}
        for item in (data.get("items") if isinstance(data, dict) else None) or []:
            if isinstance(item, dict) and item.get("sku") and item.get("source_code"):
                out[(str(item["sku"]), str(item["source_code"]))] = (
                    _num(item.get("quantity")),
                    str(item.get("status", 1)) == "1",
                )
        return out

    def select_sources(
        self, items: Sequence[tuple[str, float]], *, stock_id: int = 1, algorithm: str = "priority"
    ) -> tuple[bool, list[tuple[str, str, float]]]:
        """Commerce's source selection for these (sku, qty): (shippable, [(source code, sku, qty to deduct)])."""
        body = {
            "inventoryRequest": {"stock_id": stock_id, "items": [{"sku": sku, "qty": qty} for sku, qty in items]},
            "algorithmCode": algorithm,
        }
        data = self._call("POST", "/inventory/source-selection-algorithm-result", json_body=body, idempotent=True)
        picks = []
        for item in (data.get("source_selection_items") if isinstance(data, dict) else None) or []:
            if isinstance(item, dict) and item.get("source_code") and item.get("sku"):
                picks.append((str(item["source_code"]), str(item["sku"]), _num(item.get("qty_to_deduct"))))
        return bool(data.get("shippable")) if isinstance(data, dict) else False, picks

    def ships_separately(self, sku: str) -> bool:
        """Whether the bundle product ``sku`` ships its items separately (catalog attribute ``shipment_type``
        "1"). Read once per SKU and run; a catalog Commerce will not show (no Magento_Catalog::products access)
        counts as Magento's default, together."""
        cache = self._bundle_types
        if sku not in cache:
            try:
                data = self._call("GET", f"/products/{quote(sku, safe='')}")
            except ApiError:
                data = None
            attrs = data.get("custom_attributes") if isinstance(data, dict) else None
            value = next(
                (
                    a.get("value")
                    for a in attrs or []
                    if isinstance(a, dict) and a.get("attribute_code") == "shipment_type"
                ),
                None,
            )
            cache[sku] = str(value) == "1"
        return cache[sku]

    def search_shipments(
        self,
        groups: Sequence[Sequence[Filter]],
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        sort: Sequence[tuple[str, str]] = (),
    ) -> Iterator[Shipment]:
        for data in self.search("shipments", groups, page_size=page_size, sort=sort):
            yield _parsed(Shipment, data, "a shipment")

    def list_shipments(self, entity_id: int) -> list[Shipment]:
        return list(self.search_shipments([[Filter("order_id", str(int(entity_id)))]]))

    # ------------------------------------------------------------ writes (not safe to repeat)

    def ship(self, entity_id: int, body: Mapping[str, Any]) -> int:
        data = self._call("POST", f"/order/{int(entity_id)}/ship", json_body=dict(body), idempotent=False)
        # an integer, sometimes as a JSON string; never a bool or a float (int() would turn true into 1)
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        if isinstance(data, str) and data.strip().isdigit():
            return int(data)
        raise MalformedResponseError(f"Commerce ship answered {data!r}, not a shipment id")

    def add_track(
        self, order_id: int, shipment_id: int, number: str, *, title: str, carrier_code: str, qty: float
    ) -> int:
        """``POST /V1/shipment/track``: a track on an existing shipment; returns its id."""
        entity = {
            "order_id": int(order_id),
            "parent_id": int(shipment_id),
            "weight": 0,
            "qty": qty,
            "description": "",
            "track_number": number,
            "title": title,
            "carrier_code": carrier_code,
        }
        data = self._call("POST", "/shipment/track", json_body={"entity": entity}, idempotent=False)
        track_id = data.get("entity_id") if isinstance(data, dict) else None
        if isinstance(track_id, int | str) and str(track_id).isdigit():
            return int(track_id)
        raise MalformedResponseError(f"Commerce answered {str(data)[:200]!r} to a new track, not a track")

    def refund_order(self, entity_id: int, items: list[tuple[int, float]]) -> int:
        """``POST /V1/order/{id}/refund``: an offline credit memo for these (order item id, qty); its id."""
        body = {
            "items": [{"order_item_id": i, "qty": q} for i, q in items],
            "notify": False,
            "arguments": {"shipping_amount": 0, "adjustment_positive": 0, "adjustment_negative": 0},
        }
        data = self._call("POST", f"/order/{int(entity_id)}/refund", json_body=body, idempotent=False)
        if isinstance(data, int | str) and str(data).strip().isdigit():
            return int(data)
        raise MalformedResponseError(f"Commerce answered {str(data)[:200]!r} to a credit memo, not its id")

    def delete_track(self, track_id: int) -> None:
        """``DELETE /V1/shipment/track/{id}``."""
        data = self._call("DELETE", f"/shipment/track/{int(track_id)}", idempotent=False)
        if data is not True:
            raise MalformedResponseError(f"Commerce answered {str(data)[:200]!r} to deleting track {track_id}")

    def cancel(self, entity_id: int) -> None:
        data = self._call("POST", f"/orders/{int(entity_id)}/cancel", idempotent=False)
        if data is True:
            return
        if data is False:
            raise CommerceRefusedError(
                "Commerce refused to cancel the order (it answered false)",
                service=SERVICE,
                status=200,
                hint="Magento refuses to cancel orders that are on hold, in payment review, fully invoiced, "
                "complete, closed or already canceled; for an invoiced order create a credit memo",
            )
        raise MalformedResponseError(f"Commerce cancel answered {data!r}, not true/false")

    def add_comment(self, entity_id: int, comment: str, *, status: str | None = None,
                    notify: bool = False, visible_on_front: bool = False) -> None:
        history: dict[str, Any] = {
            "comment": comment,
            "is_customer_notified": 1 if notify else 0,
            "is_visible_on_front": 1 if visible_on_front else 0,
            "parent_id": int(entity_id),
        }
        if status:
            history["status"] = status
        self._call("POST", f"/orders/{int(entity_id)}/comments", json_body={"statusHistory": history},
                   idempotent=False)


def _parsed(model: type[M], data: dict[str, Any], what: str) -> M:
    """A Commerce object as its model; one that does not fit is a malformed answer (exit 5)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise MalformedResponseError(f"Commerce answered {what} wmsync cannot read: {exc.errors()[0]['msg']}") from exc
