"""The Prism documents: each Prism-only deviation is applied as described, and the result is self-consistent.

(The spec errata the documents also carry are tested in tests/conformance/test_errata.py; that Prism actually
loads and enforces the documents is tested in test_harness.py.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conformance.errata import PRISM_TARGETS, operations
from conformance.spec import load_document, load_official
from prism.overlay import (
    COMMERCE_OPERATIONS,
    DEVIATIONS,
    commerce_document,
    walmart_document,
    write_documents,
)

pytestmark = pytest.mark.usefixtures("specs_path")


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolves(doc: dict[str, Any], ref: str) -> bool:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def check_prism_walmart_merge_auth() -> None:
    doc = walmart_document()
    orders, auth = load_document("walmart-orders"), load_document("walmart-auth")
    returns = load_document("walmart-returns")
    assert set(doc["paths"]) == set(orders["paths"]) | set(auth["paths"]) | set(returns["paths"])
    assert {"/v3/token", "/v3/token/detail", "/v3/orders", "/v3/orders/{purchaseOrderId}/shipping"} <= set(doc["paths"])
    assert doc["paths"]["/v3/token"] == auth["paths"]["/v3/token"]
    assert doc["paths"]["/v3/orders"] == orders["paths"]["/v3/orders"]
    # every security requirement names a defined scheme; only the token call asks for Basic credentials
    schemes = doc["components"]["securitySchemes"]
    secured = {(m, p): op.get("security", doc.get("security", [])) for m, p, op in operations(doc)}
    assert secured.pop(("post", "/v3/token")) == [{"basicScheme": []}]
    assert all(not requirement for requirement in secured.values())
    assert schemes["basicScheme"]["scheme"] == "basic"
    for ref in _refs(doc):
        assert ref.startswith("#/"), ref
        assert _resolves(doc, ref), ref
    operation_ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(operation_ids) == len(set(operation_ids))


def check_prism_commerce_prune() -> None:
    official = load_official("commerce")
    assert len(official["paths"]) > 400
    doc = commerce_document()
    kept = {(m, p.removeprefix("/rest/{store}")) for m, p, _ in operations(doc)}
    assert kept == set(COMMERCE_OPERATIONS)
    assert ("post", "/V1/orders") not in kept  # same path, method wmsync does not call
    refs = _refs(doc)
    assert all(ref.startswith("#/definitions/") and _resolves(doc, ref) for ref in refs)
    referenced = {ref.removeprefix("#/definitions/") for ref in refs}
    assert set(doc["definitions"]) == referenced  # nothing unreferenced is kept
    assert {
        "sales-data-order-interface",
        "sales-data-shipment-track-creation-interface",
        "error-response",
    } <= referenced
    # operations are kept unchanged apart from the path prefix
    for method, path in COMMERCE_OPERATIONS:
        assert doc["paths"]["/rest/{store}" + path][method] == load_document("commerce")["paths"][path][method]


def check_prism_commerce_store_prefix() -> None:
    assert load_official("commerce")["basePath"] == "/rest/default"
    doc = commerce_document()
    assert doc["basePath"] == "/"
    for path, item in doc["paths"].items():
        assert path.startswith("/rest/{store}/V1/"), path
        store = [p for p in item["parameters"] if p["name"] == "store"]
        assert store == [
            {
                "name": "store",
                "in": "path",
                "required": True,
                "type": "string",
                "description": store[0]["description"],
            }
        ]


CHECKS: dict[str, Callable[[], None]] = {
    "prism-walmart-merge-auth": check_prism_walmart_merge_auth,
    "prism-commerce-prune": check_prism_commerce_prune,
    "prism-commerce-store-prefix": check_prism_commerce_store_prefix,
}

PRISM_DEVIATIONS = [d for d in DEVIATIONS if set(d.target) & set(PRISM_TARGETS)]


@pytest.mark.parametrize("deviation", PRISM_DEVIATIONS, ids=lambda d: d.id)
def test_deviation(deviation):
    assert deviation.what.strip()
    assert deviation.why.strip()
    check = CHECKS.get(deviation.id)
    assert check is not None, f"deviation {deviation.id} has no test: add one to CHECKS"
    check()


def test_no_check_without_a_deviation():
    assert set(CHECKS) == {d.id for d in PRISM_DEVIATIONS}


def test_documents_carry_the_spec_errata_too():
    walmart = walmart_document()
    get_order = walmart["paths"]["/v3/orders/{purchaseOrderId}"]["get"]["responses"]["200"]
    assert get_order["content"]["application/json"]["schema"]["required"] == ["order"]
    assert "404" in walmart["paths"]["/v3/token/detail"]["get"]["responses"]
    assert isinstance(commerce_document()["info"]["description"], str)


def test_write_documents_writes_json(tmp_path):
    paths = write_documents(tmp_path / "out")
    assert set(paths) == {"walmart", "commerce"}
    assert json.loads(paths["walmart"].read_text("utf-8")) == walmart_document()
    assert json.loads(paths["commerce"].read_text("utf-8")) == commerce_document()
    assert json.loads(paths["walmart"].read_text("utf-8"))["openapi"] == "3.0.1"
    assert json.loads(paths["commerce"].read_text("utf-8"))["swagger"] == "2.0"
