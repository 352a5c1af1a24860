"""Every deviation wmsync's tests make from the official API specs, in one list.

The spec files under ``../shared/specs`` stay untouched. Code that needs a corrected document (the body
checker in :mod:`conformance.spec`, the Prism documents in ``tests/prism/overlay.py``) loads the official
file and applies the deviations below, in order, by code. Each deviation says what it changes and why, and
has a test (``tests/conformance/test_errata.py`` for the spec errata, ``tests/prism/test_overlay.py`` for
the Prism ones).

Targets:
- ``walmart-orders``, ``walmart-auth``, ``commerce``: fixes to one official file (checker and Prism).
- ``prism-walmart``, ``prism-commerce``: reshaping for Stoplight Prism only (one document per process,
  no basePath).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any]

SPEC_TARGETS = ("walmart-orders", "walmart-auth", "commerce")
PRISM_TARGETS = ("prism-walmart", "prism-commerce")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# The Commerce operations wmsync calls (Swagger paths without the /rest/<store> prefix).
COMMERCE_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("get", "/V1/orders"),
    ("get", "/V1/orders/{id}"),
    ("post", "/V1/order/{orderId}/ship"),
    ("post", "/V1/orders/{id}/cancel"),
    ("post", "/V1/orders/{id}/comments"),
    ("get", "/V1/orders/{id}/comments"),
    ("get", "/V1/shipments"),
    ("get", "/V1/shipment/{id}"),
    ("get", "/V1/products/{sku}"),  # a bundle's shipment_type
    ("post", "/V1/shipment/track"),  # ship --replaces
    ("post", "/V1/order/{orderId}/refund"),  # refund: the offline credit memo
    ("delete", "/V1/shipment/track/{id}"),
    ("get", "/V1/inventory/sources"),  # Multi-Source Inventory
    ("get", "/V1/inventory/source-items"),
    ("post", "/V1/inventory/source-selection-algorithm-result"),
)

# Error statuses the Walmart APIs answer with (domain.md §2 "Errors"); see deviation walmart-error-responses.
WALMART_ERROR_STATUSES = ("400", "401", "403", "404", "423", "429", "500", "503", "504", "520")

_WALMART_ERROR_ITEM: Doc = {
    "type": "object",
    "required": ["code"],
    "properties": {
        "code": {"type": "string"},
        "field": {"type": "string"},
        "description": {"type": "string"},
        "info": {"type": "string"},
        "severity": {"type": "string"},
        "category": {"type": "string"},
        "causes": {"type": "array"},
    },
}
# The three shapes Walmart errors come in: {"errors": {"error": [...]}} (orders API), {"errors": [...]},
# and the gateway's {"error": [...]}.
WALMART_ERROR_SCHEMA: Doc = {
    "anyOf": [
        {
            "type": "object",
            "required": ["errors"],
            "properties": {
                "errors": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "array", "items": _WALMART_ERROR_ITEM}},
                }
            },
        },
        {
            "type": "object",
            "required": ["errors"],
            "properties": {"errors": {"type": "array", "items": _WALMART_ERROR_ITEM}},
        },
        {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "array", "items": _WALMART_ERROR_ITEM}},
        },
    ]
}


@dataclass(frozen=True)
class Deviation:
    id: str
    target: tuple[str, ...]
    what: str
    why: str
    apply: Callable[[Doc], None]  # changes the loaded document in place


def operations(doc: Doc) -> Iterator[tuple[str, str, Doc]]:
    """(method, path, operation) for every operation of an OpenAPI/Swagger document."""
    for path, item in doc.get("paths", {}).items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                yield method, path, op


def find_operation(doc: Doc, operation_id: str) -> Doc:
    for _, _, op in operations(doc):
        if op.get("operationId") == operation_id:
            return op
    raise KeyError(f"operationId {operation_id!r} not in document")


# --- walmart-orders / walmart-auth --------------------------------------------------------------------------


def _wrap_get_an_order(doc: Doc) -> None:
    # acknowledgeOrders answers with the same single order as getAnOrder, declared as real responses look.
    ack = find_operation(doc, "acknowledgeOrders")["responses"]["200"]["content"]["application/json"]["schema"]
    order = ack["properties"]["order"]
    content = find_operation(doc, "getAnOrder")["responses"]["200"]["content"]["application/json"]
    content["schema"] = {
        "type": "object",
        "required": ["order"],
        "properties": {"order": copy.deepcopy(order)},
    }


_REQUEST_ROOTS = {"shippingUpdates": "orderShipment", "cancelOrderLines": "orderCancellation"}


def _require_request_roots(doc: Doc) -> None:
    for operation_id, root in _REQUEST_ROOTS.items():
        schema = find_operation(doc, operation_id)["requestBody"]["content"]["application/json"]["schema"]
        if root not in schema.get("properties", {}):
            raise KeyError(f"{operation_id}: request body has no {root!r}")
        schema["required"] = sorted({*schema.get("required", []), root})


def _drop_global_security(doc: Doc) -> None:
    doc.pop("security", None)


def _basic_auth_on_token_only(doc: Doc) -> None:
    if doc.get("security") != [{"basicScheme": []}]:
        raise ValueError(f"unexpected global security {doc.get('security')!r}")
    if "basicScheme" not in doc.get("components", {}).get("securitySchemes", {}):
        raise KeyError("basicScheme is not defined")
    del doc["security"]
    find_operation(doc, "tokenAPI")["security"] = [{"basicScheme": []}]


_IGNORED_HEADERS = {"accept", "content-type", "authorization"}


def _drop_ignored_header_params(doc: Doc) -> None:
    def keep(param: Doc) -> bool:
        return not (param.get("in") == "header" and str(param.get("name", "")).lower() in _IGNORED_HEADERS)

    for path_item in doc.get("paths", {}).values():
        if "parameters" in path_item:
            path_item["parameters"] = [p for p in path_item["parameters"] if keep(p)]
        for method in HTTP_METHODS:
            op = path_item.get(method)
            if isinstance(op, dict) and "parameters" in op:
                op["parameters"] = [p for p in op["parameters"] if keep(p)]
    for name, param in list(doc.get("components", {}).get("parameters", {}).items()):
        if not keep(param):
            del doc["components"]["parameters"][name]


def _declare_error_responses(doc: Doc) -> None:
    for _, _, op in operations(doc):
        responses = op.setdefault("responses", {})
        for status in WALMART_ERROR_STATUSES:
            responses.setdefault(
                status,
                {
                    "description": f"Error ({status})",
                    "content": {"application/json": {"schema": copy.deepcopy(WALMART_ERROR_SCHEMA)}},
                },
            )


# --- commerce -----------------------------------------------------------------------------------------------


def _inline_info_description(doc: Doc) -> None:
    description = doc.get("info", {}).get("description")
    if isinstance(description, dict) and "$ref" in description:
        doc["info"]["description"] = f"(see {description['$ref']} in AdobeDocs/commerce-webapi; not copied here)"


def _loosen_error_parameters(doc: Doc) -> None:
    loose = {
        "description": "Values for the message's placeholders: a list for positional ones (%1, %2), "
        "an object for named ones (%fieldName)."
    }
    error = doc["definitions"]["error-response"]["properties"]
    if "parameters" not in error:
        raise KeyError("error-response has no 'parameters'")
    error["parameters"] = dict(loose)
    item = doc["definitions"].get("error-errors-item", {}).get("properties", {})
    if "parameters" in item:
        item["parameters"] = dict(loose)


# --- prism-walmart ------------------------------------------------------------------------------------------


def _merge_one(doc: Doc, other: Doc) -> None:
    for path, item in other["paths"].items():
        if path in doc["paths"]:
            raise ValueError(f"path {path} is in two Walmart documents")
        doc["paths"][path] = copy.deepcopy(item)
    components = doc.setdefault("components", {})
    for section, entries in other.get("components", {}).items():
        target = components.setdefault(section, {})
        for name, value in entries.items():
            if name in target and target[name] != value:
                # Unreferenced duplicates (components.parameters) keep the orders file's entry; anything
                # referenced by $ref must not silently change meaning.
                if section != "parameters":
                    raise ValueError(f"components.{section}.{name} differs between the Walmart documents")
                continue
            target[name] = copy.deepcopy(value)


def _merge_auth(doc: Doc) -> None:
    from conformance.spec import load_document  # deferred: spec.py imports this module

    for other in ("walmart-auth", "walmart-returns"):  # the returns spec: `wmsync returns`, and status's read
        _merge_one(doc, load_document(other))
    doc["info"] = {
        "title": "Walmart Marketplace: Orders + Authentication + Returns (wmsync test document)",
        "description": "Generated by tests/prism/overlay.py; see tests/conformance/errata.py.",
        "version": "wmsync",
    }


# --- prism-commerce -----------------------------------------------------------------------------------------


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _prune_commerce(doc: Doc) -> None:
    paths: Doc = {}
    for method, path in COMMERCE_OPERATIONS:
        op = doc["paths"].get(path, {}).get(method)
        if op is None:
            raise KeyError(f"{method.upper()} {path} is not in the Commerce schema")
        item = paths.setdefault(path, {})
        if "parameters" in doc["paths"][path]:
            item["parameters"] = doc["paths"][path]["parameters"]
        item[method] = op
    doc["paths"] = paths
    keep: set[str] = set()
    pending = list(_refs(paths))
    while pending:
        ref = pending.pop()
        if not ref.startswith("#/definitions/"):
            raise ValueError(f"unexpected $ref {ref}")
        name = ref.removeprefix("#/definitions/")
        if name not in keep:
            keep.add(name)
            pending.extend(_refs(doc["definitions"][name]))
    doc["definitions"] = {name: value for name, value in doc["definitions"].items() if name in keep}
    used_tags = {tag for _, _, op in operations(doc) for tag in op.get("tags", [])}
    doc["tags"] = [tag for tag in doc.get("tags", []) if tag.get("name") in used_tags]
    doc.pop("x-tagGroups", None)


def _prefix_store(doc: Doc) -> None:
    prefixed: Doc = {}
    for path, item in doc["paths"].items():
        new_item = copy.deepcopy(item)
        new_item["parameters"] = [
            *new_item.get("parameters", []),
            {
                "name": "store",
                "in": "path",
                "required": True,
                "type": "string",
                "description": "Store code (`default`, `all`, or a store view code).",
            },
        ]
        prefixed["/rest/{store}" + path] = new_item
    doc["paths"] = prefixed
    doc["basePath"] = "/"


DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        id="walmart-get-an-order-envelope",
        target=("walmart-orders",),
        what="getAnOrder 200 (application/json): use the {order: ...} envelope and order schema that "
        "acknowledgeOrders/shippingUpdates/cancelOrderLines declare.",
        why="The spec's getAnOrder schema describes a bare order with orderDate as a date-time string, "
        "while its own examples, the real API and every other single-order response wrap it in 'order' "
        "with orderDate as epoch milliseconds (int64).",
        apply=_wrap_get_an_order,
    ),
    Deviation(
        id="walmart-request-root-required",
        target=("walmart-orders",),
        what="shippingUpdates and cancelOrderLines request bodies: make the root wrapper (orderShipment, "
        "orderCancellation) required.",
        why="The spec marks nothing required at the root, so an empty object {} would validate; the XML "
        "form of the same bodies names the wrapper as the root element and the API acts on nothing "
        "without it.",
        apply=_require_request_roots,
    ),
    Deviation(
        id="walmart-orders-undefined-security",
        target=("walmart-orders",),
        what="Drop the document-level `security: [basicScheme]`.",
        why="basicScheme is not defined in the orders document (no components.securitySchemes); order "
        "calls authenticate with the WM_SEC.ACCESS_TOKEN header, which every operation already declares "
        "as required.",
        apply=_drop_global_security,
    ),
    Deviation(
        id="walmart-auth-basic-on-token-only",
        target=("walmart-auth",),
        what="Move `security: [basicScheme]` from the document level to tokenAPI (POST /v3/token) only.",
        why="GET /v3/token/detail authenticates with WM_SEC.ACCESS_TOKEN, not Basic client credentials; "
        "a global requirement makes Prism answer 401 to a correct token-detail call.",
        apply=_basic_auth_on_token_only,
    ),
    Deviation(
        id="walmart-ignored-header-params",
        target=("walmart-orders", "walmart-auth"),
        what="Remove header parameters named Accept, Content-Type or Authorization.",
        why="OpenAPI 3.0 says such parameter definitions SHALL be ignored (content and security govern "
        "them), but Prism enforces them, e.g. it rejects GET /v3/token/detail without a Content-Type "
        "header.",
        apply=_drop_ignored_header_params,
    ),
    Deviation(
        id="walmart-error-responses",
        target=("walmart-orders", "walmart-auth"),
        what="Declare JSON error responses (" + ", ".join(WALMART_ERROR_STATUSES) + ") on every "
        "operation, accepting the three Walmart error shapes.",
        why="The files declare only 200, yet the API answers e.g. 404 CONTENT_NOT_FOUND for an order "
        "search with no match; newer copies of the portal spec declare shared 400/401/403/404/429/500 "
        "responses.",
        apply=_declare_error_responses,
    ),
    Deviation(
        id="commerce-info-description-ref",
        target=("commerce",),
        what="Replace info.description (a $ref to intro/redocly-intro.md) with plain text.",
        why="The referenced Markdown file was not copied with the schema; Prism fails to start on the "
        "dangling reference.",
        apply=_inline_info_description,
    ),
    Deviation(
        id="commerce-error-parameters",
        target=("commerce",),
        what="error-response.parameters (and errors[].parameters): accept any JSON value instead of an "
        "array of {resources, fieldName, fieldValue} objects.",
        why="Magento fills message placeholders from a list of strings for positional ones ('%1') and "
        "from an object for named ones ('%fieldName'), e.g. {'message': 'No such entity with "
        "%fieldName = %fieldValue', 'parameters': {'fieldName': 'id', ...}}; neither matches the "
        "declared array of objects. (Swagger 2.0 has no anyOf, so the type is left open.)",
        apply=_loosen_error_parameters,
    ),
    Deviation(
        id="prism-walmart-merge-auth",
        target=("prism-walmart",),
        what="Merge the authentication document's paths (/v3/token, /v3/token/detail) and components "
        "into the orders document.",
        why="Prism serves one document per process, and wmsync's Walmart client talks to one base URL.",
        apply=_merge_auth,
    ),
    Deviation(
        id="prism-commerce-prune",
        target=("prism-commerce",),
        what="Keep only the operations wmsync calls (COMMERCE_OPERATIONS) and the definitions they reference.",
        why="A call outside that set then fails with Prism's 404 NO_PATH_MATCHED instead of passing "
        "silently; the document shrinks from 493 paths to 7.",
        apply=_prune_commerce,
    ),
    Deviation(
        id="prism-commerce-store-prefix",
        target=("prism-commerce",),
        what="Prefix every path with /rest/{store} (a required string path parameter); basePath /.",
        why="Prism ignores the Swagger basePath (/rest/default), and real URLs carry the store code: "
        "/rest/<store_code>/V1/...",
        apply=_prefix_store,
    ),
)


def deviations_for(target: str) -> tuple[Deviation, ...]:
    return tuple(d for d in DEVIATIONS if target in d.target)


def apply_deviations(doc: Doc, target: str) -> Doc:
    """Apply, in place and in list order, every deviation for ``target``; returns ``doc``."""
    for deviation in deviations_for(target):
        deviation.apply(doc)
    return doc
