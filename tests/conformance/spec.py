"""Conformance checker: validate request and response bodies against the official API schemas.

Specs are read, untouched, from ``<repo root>/../shared/specs`` (override with ``$WMSYNC_SPECS_DIR``);
the known errata are corrected by the deviations in :mod:`conformance.errata` (the one place listing them).

Schemas are converted from the OpenAPI 3.0 / Swagger 2.0 dialect to JSON Schema draft 4 (``nullable``,
``readOnly``/``writeOnly``, ``example``/``xml`` and ``$ref`` handled) and validated with :mod:`jsonschema`.

``strict=True`` (the default for requests) additionally rejects object properties the schema does not list,
so a misspelt optional field such as ``trackingUrl`` is caught; the specs themselves allow extra properties.

Bodies may be given decoded (dict, list, int, ...) or raw as sent (``bytes``/``str``: JSON, or form-encoded
for tokenAPI). A ``str`` is always read as raw text, so pass the JSON string value "42" as ``b'"42"'``.

Typical use::

    from conformance.spec import validate_request, validate_walmart_request

    validate_walmart_request("shippingUpdates", body)
    validate_request("POST", "https://host/rest/default/V1/order/5/ship", request.content)
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import yaml

from conformance.errata import Doc, apply_deviations, find_operation, operations

REPO_ROOT = Path(__file__).resolve().parents[2]
SPECS_ENV = "WMSYNC_SPECS_DIR"

WALMART_ORDERS_FILE = "walmart/walmart-marketplace-orders-openapi-original.yml"
WALMART_AUTH_FILE = "walmart/walmart-marketplace-authentication-openapi-original.yml"
WALMART_RETURNS_FILE = "walmart/walmart-marketplace-returns-openapi-original.yml"
COMMERCE_FILE = "commerce/admin-schema-2.4.9.yaml"

DOCUMENTS = {
    "walmart-orders": WALMART_ORDERS_FILE,
    "walmart-auth": WALMART_AUTH_FILE,
    "walmart-returns": WALMART_RETURNS_FILE,
    "commerce": COMMERCE_FILE,
}

__all__ = [
    "SchemaNotFound",
    "commerce_path",
    "commerce_request_schema",
    "commerce_response_schema",
    "load_document",
    "load_official",
    "specs_dir",
    "specs_missing_reason",
    "to_json_schema",
    "validate_commerce_request",
    "validate_commerce_response",
    "validate_request",
    "validate_response",
    "validate_walmart_request",
    "validate_walmart_response",
    "violations",
    "walmart_operation_id",
    "walmart_request_schema",
    "walmart_response_schema",
]


class SchemaNotFound(LookupError):
    """The spec declares no schema for this request/response."""


# --- locating and loading -----------------------------------------------------------------------------------


def specs_dir() -> Path:
    """The directory holding the official specs (may not exist: see :func:`specs_missing_reason`)."""
    env = os.environ.get(SPECS_ENV)
    if env:
        return Path(env).expanduser()
    return REPO_ROOT.parent / "shared" / "specs"


def specs_missing_reason() -> str | None:
    """None when every spec file this module needs is present, else a human-readable reason."""
    base = specs_dir()
    missing = [name for name in DOCUMENTS.values() if not (base / name).is_file()]
    if missing:
        return f"official specs not found under {base} (missing {', '.join(missing)}; set ${SPECS_ENV})"
    return None


@cache
def _load_official_cached(path: Path) -> Doc:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as fh:
        doc = yaml.load(fh, Loader=loader)
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: not an API document")
    return doc


def load_official(name: str) -> Doc:
    """A fresh copy of an official document as published (walmart-orders, walmart-auth or commerce)."""
    path = specs_dir() / DOCUMENTS[name]
    if not path.is_file():
        raise FileNotFoundError(specs_missing_reason() or str(path))
    return copy.deepcopy(_load_official_cached(path))


@cache
def _load_document_cached(name: str, base: Path) -> Doc:
    return apply_deviations(load_official(name), name)


def load_document(name: str) -> Doc:
    """A fresh copy of an official document with its errata corrected (see conformance.errata)."""
    return copy.deepcopy(_load_document_cached(name, specs_dir()))


def _document(name: str) -> Doc:
    # shared, read-only: callers below copy what they hand out
    return _load_document_cached(name, specs_dir())


# --- OpenAPI / Swagger schema -> JSON Schema draft 4 --------------------------------------------------------

_DROP_KEYS = {
    "example",
    "examples",
    "xml",
    "externalDocs",
    "deprecated",
    "discriminator",
    "x-nullable",
    "nullable",
}


class _Converter:
    def __init__(self, doc: Doc, direction: str, strict: bool) -> None:
        self.doc = doc
        self.direction = direction  # "request" or "response"
        self.strict = strict
        self.recursive: dict[str, str] = {}  # $ref -> definition name

    def lookup(self, ref: str) -> Doc:
        if not ref.startswith("#/"):
            raise ValueError(f"external $ref not supported: {ref}")
        node: Any = self.doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        if not isinstance(node, dict):
            raise ValueError(f"$ref {ref} is not a schema")
        return node

    def deref(self, node: Doc) -> Doc:
        seen = set()
        while "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise ValueError(f"$ref loop at {ref}")
            seen.add(ref)
            node = self.lookup(ref)
        return node

    def convert(self, node: Any, stack: frozenset[str] = frozenset()) -> Any:
        if not isinstance(node, dict):
            return copy.deepcopy(node)
        if "$ref" in node:
            ref = node["$ref"]
            if ref in stack:
                name = self.recursive.setdefault(ref, re.sub(r"[^A-Za-z0-9_.-]", "_", ref.rsplit("/", 1)[-1]))
                return {"$ref": f"#/definitions/{name}"}
            return self.convert(self.lookup(ref), stack | {ref})
        out: Doc = {}
        for key, value in node.items():
            if key in _DROP_KEYS or key in ("readOnly", "writeOnly"):
                continue
            if key == "properties":
                out[key] = {name: self.convert(sub, stack) for name, sub in value.items()}
            elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
                out[key] = self.convert(value, stack)
            elif key in ("allOf", "anyOf", "oneOf"):
                out[key] = [self.convert(sub, stack) for sub in value]
            else:
                out[key] = copy.deepcopy(value)
        if node.get("nullable") is True or node.get("x-nullable") is True:
            if "type" in out:
                types = out["type"] if isinstance(out["type"], list) else [out["type"]]
                out["type"] = [*types, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        hidden = "readOnly" if self.direction == "request" else "writeOnly"
        if "required" in out and "properties" in node:
            out["required"] = [
                name
                for name in out["required"]
                if not (name in node["properties"] and self.deref(node["properties"][name]).get(hidden) is True)
            ]
            if not out["required"]:
                del out["required"]
        if (
            self.strict
            and (out.get("type") == "object" or "properties" in out)
            and "additionalProperties" not in out
            and "properties" in out
            and not any(k in out for k in ("allOf", "anyOf", "oneOf"))
        ):
            out["additionalProperties"] = False
        return out

    def build(self, schema: Doc) -> Doc:
        root = self.convert(schema)
        if not isinstance(root, dict):
            raise TypeError("schema must be an object")
        definitions: Doc = {}
        while len(definitions) < len(self.recursive):
            for ref, name in list(self.recursive.items()):
                if name not in definitions:
                    definitions[name] = self.convert(self.lookup(ref), frozenset({ref}))
        if definitions:
            root["definitions"] = definitions
        return root


def to_json_schema(doc: Doc, schema: Doc, *, direction: str = "request", strict: bool = False) -> Doc:
    """Convert an OpenAPI 3.0 / Swagger 2.0 schema (from ``doc``) to a self-contained JSON Schema (draft 4).

    ``$ref``s are inlined; a recursive one becomes a ``#/definitions/...`` reference inside the result.
    ``direction`` decides whether readOnly (request) or writeOnly (response) properties stop being required.
    """
    if direction not in ("request", "response"):
        raise ValueError("direction must be 'request' or 'response'")
    return _Converter(doc, direction, strict).build(schema)


# --- Walmart ------------------------------------------------------------------------------------------------


def _walmart_doc_for(operation_id: str) -> Doc:
    for name in ("walmart-orders", "walmart-auth", "walmart-returns"):
        doc = _document(name)
        if any(op.get("operationId") == operation_id for _, _, op in operations(doc)):
            return doc
    raise KeyError(f"unknown Walmart operationId {operation_id!r}")


def _pick_media(content: Doc, where: str) -> Doc:
    for media in ("application/json", "application/x-www-form-urlencoded"):
        if media in content:
            found: Doc = content[media]
            return found
    raise SchemaNotFound(f"{where}: no JSON or form content (have {sorted(content)})")


def _walmart_request_media(operation_id: str) -> tuple[Doc, str, bool]:
    doc = _walmart_doc_for(operation_id)
    op = find_operation(doc, operation_id)
    body = op.get("requestBody")
    if body is None:
        raise SchemaNotFound(f"Walmart {operation_id}: the spec declares no request body")
    content = body["content"]
    media_type = "application/json" if "application/json" in content else next(iter(content))
    media = _pick_media(content, f"Walmart {operation_id} request")
    return media, media_type, bool(body.get("required"))


def walmart_request_schema(operation_id: str, *, strict: bool = True) -> Doc:
    """JSON Schema (draft 4) of the JSON (or, for tokenAPI, form) request body of a Walmart operation."""
    media, _, _ = _walmart_request_media(operation_id)
    return to_json_schema(_walmart_doc_for(operation_id), media["schema"], direction="request", strict=strict)


def walmart_response_schema(operation_id: str, status: int | str, *, strict: bool = False) -> Doc:
    """JSON Schema of a Walmart operation's JSON response for ``status`` (falls back to ``default``)."""
    doc = _walmart_doc_for(operation_id)
    responses = find_operation(doc, operation_id).get("responses", {})
    response = responses.get(str(status), responses.get("default"))
    where = f"Walmart {operation_id} response {status}"
    if response is None:
        raise SchemaNotFound(f"{where}: not declared (declared: {', '.join(map(str, responses))})")
    media = response.get("content", {}).get("application/json")
    if media is None or "schema" not in media:
        raise SchemaNotFound(f"{where}: no application/json schema")
    return to_json_schema(doc, media["schema"], direction="response", strict=strict)


def _walmart_paths() -> list[tuple[str, str, str]]:
    """(method, path template, operationId) for every Walmart operation."""
    out = []
    for name in ("walmart-orders", "walmart-auth", "walmart-returns"):
        for method, path, op in operations(_document(name)):
            out.append((method, path, str(op["operationId"])))
    return out


def walmart_operation_id(method: str, path: str) -> str:
    """The operationId a concrete Walmart request path answers to, e.g. ('POST', '/v3/orders/1/shipping')."""
    by_route = {(m, p): operation_id for m, p, operation_id in _walmart_paths()}
    template = _match_template(method, urlsplit(path).path, by_route)
    return by_route[(method.lower(), template)]


# --- Commerce -----------------------------------------------------------------------------------------------

_COMMERCE_PREFIX = re.compile(r"^/rest(?:/[^/]+)?(?=/V1/)")


def commerce_path(method: str, path: str) -> str:
    """The Swagger path template for a Commerce request path.

    Accepts a template ('/V1/order/{orderId}/ship'), a concrete path ('/V1/order/5/ship') or a full URL
    ('https://shop/rest/default/V1/order/5/ship').
    """
    path = _COMMERCE_PREFIX.sub("", urlsplit(path).path)
    doc = _document("commerce")
    if method.lower() in doc["paths"].get(path, {}):
        return path
    return _match_template(method, path, [(m, p) for m, p, _ in operations(doc)])


def _commerce_operation(method: str, path: str) -> tuple[str, Doc]:
    template = commerce_path(method, path)
    return template, _document("commerce")["paths"][template][method.lower()]


def commerce_request_schema(method: str, path: str, *, strict: bool = True) -> Doc:
    """JSON Schema of the body parameter of a Commerce operation (Magento wraps the arguments in one
    object, e.g. {items, notify, appendComment, comment, tracks, packages, arguments} for the ship call)."""
    template, op = _commerce_operation(method, path)
    body = [p for p in op.get("parameters", []) if p.get("in") == "body"]
    if not body:
        raise SchemaNotFound(f"Commerce {method.upper()} {template}: the spec declares no request body")
    return to_json_schema(_document("commerce"), body[0]["schema"], direction="request", strict=strict)


def commerce_response_schema(method: str, path: str, status: int | str, *, strict: bool = False) -> Doc:
    template, op = _commerce_operation(method, path)
    responses = op.get("responses", {})
    response = responses.get(str(status), responses.get("default"))
    where = f"Commerce {method.upper()} {template} response {status}"
    if response is None or "schema" not in response:
        raise SchemaNotFound(f"{where}: no schema declared")
    return to_json_schema(_document("commerce"), response["schema"], direction="response", strict=strict)


# --- validation ---------------------------------------------------------------------------------------------


def _match_template(method: str, path: str, candidates: Iterable[tuple[str, str]]) -> str:
    matches = []
    for m, template in candidates:
        if m != method.lower():
            continue
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            literal = sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))
            matches.append((literal, template))
    if not matches:
        raise AssertionError(f"{method.upper()} {path}: no such operation in the spec")
    return max(matches)[1]


def _describe(error: jsonschema.ValidationError) -> str:
    if error.validator == "enum" and isinstance(error.validator_value, list):
        allowed = error.validator_value
        text = f"{error.instance!r} is not one of the {len(allowed)} allowed values"
        if len(allowed) <= 8:
            text += f" {allowed!r}"
        if isinstance(error.instance, str):
            lowered = {str(v).lower(): v for v in allowed}
            close = difflib.get_close_matches(error.instance.lower(), list(lowered), n=1, cutoff=0.6)
            if close:
                text += f" (did you mean {lowered[close[0]]!r}?)"
        return text
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        extra = [k for k in error.instance if k not in known]
        hints = []
        for key in extra:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        return f"unexpected properties: {', '.join(hints)}; allowed: {', '.join(known)}"
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        head = error.message.split(" is not valid")[0]
        return f"{head} matches none of the alternatives; closest: {best.message}"
    return error.message


def violations(schema: Doc, body: Any) -> list[str]:
    """Every violation of ``schema`` by ``body``, as 'at /json/pointer: message' lines (empty when valid)."""
    validator = jsonschema.Draft4Validator(schema)
    out = []
    for error in validator.iter_errors(body):
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        out.append((pointer, f"at {pointer}: {_describe(error)}"))
    return [line for _, line in sorted(out)]


def _check(label: str, schema: Doc, body: Any) -> None:
    found = violations(schema, body)
    if found:
        lines = "\n".join(f"  - {v}" for v in found)
        raise AssertionError(f"{label}: {len(found)} violation(s) of the official schema:\n{lines}")


def _decode(body: Any, media_type: str) -> Any:
    if isinstance(body, bytes | bytearray):
        body = bytes(body).decode("utf-8")
    if isinstance(body, str):
        if body == "":
            return None
        if media_type == "application/x-www-form-urlencoded":
            return dict(parse_qsl(body, keep_blank_values=True))
        return json.loads(body)
    return body


def validate_walmart_request(operation_id: str, body: Any, *, strict: bool = True) -> None:
    """Raise AssertionError listing every way ``body`` violates the request schema of a Walmart operation.

    ``body`` may be decoded JSON, or the raw bytes/str sent (JSON, or form-encoded for tokenAPI).
    An operation without a request body (acknowledgeOrders, the GETs) accepts only an empty body.
    """
    label = f"Walmart {operation_id} request body"
    try:
        media, media_type, required = _walmart_request_media(operation_id)
    except SchemaNotFound:
        if _decode(body, "application/json") is not None:
            raise AssertionError(f"{label}: the operation takes no body, got {body!r:.200}") from None
        return
    value = _decode(body, media_type)
    if value is None:
        if required:
            raise AssertionError(f"{label}: a body is required")
        return
    doc = _walmart_doc_for(operation_id)
    _check(label, to_json_schema(doc, media["schema"], direction="request", strict=strict), value)


def validate_walmart_response(operation_id: str, status: int | str, body: Any, *, strict: bool = False) -> None:
    """Raise AssertionError if ``body`` violates the JSON response ``operation_id`` declares for ``status``.

    Raises SchemaNotFound when the spec (with errata applied) declares no JSON schema for that status.
    """
    schema = walmart_response_schema(operation_id, status, strict=strict)
    _check(f"Walmart {operation_id} response {status}", schema, _decode(body, "application/json"))


def validate_commerce_request(method: str, path: str, body: Any, *, strict: bool = True) -> None:
    """Raise AssertionError listing every violation of a Commerce request body (path: see commerce_path)."""
    template, op = _commerce_operation(method, path)
    label = f"Commerce {method.upper()} {template} request body"
    params = [p for p in op.get("parameters", []) if p.get("in") == "body"]
    value = _decode(body, "application/json")
    if not params:
        if value is not None:
            raise AssertionError(f"{label}: the operation takes no body, got {body!r:.200}")
        return
    if value is None:
        if params[0].get("required"):
            raise AssertionError(f"{label}: a body is required")
        return
    _check(label, commerce_request_schema(method, template, strict=strict), value)


def validate_commerce_response(method: str, path: str, status: int | str, body: Any, *, strict: bool = False) -> None:
    template = commerce_path(method, path)
    schema = commerce_response_schema(method, template, status, strict=strict)
    _check(f"Commerce {method.upper()} {template} response {status}", schema, _decode(body, "application/json"))


def _is_walmart(path: str) -> bool:
    return path.startswith("/v3/")


def validate_request(method: str, url: str, body: Any, *, strict: bool = True) -> None:
    """Validate a request body by URL: ``/v3/...`` is Walmart; ``/rest/<store>/V1/...``, ``/V1/...`` Commerce.

    Convenient with captured requests: ``validate_request(req.method, str(req.url), req.content)``.
    """
    path = urlsplit(url).path
    if _is_walmart(path):
        validate_walmart_request(walmart_operation_id(method, path), body, strict=strict)
    else:
        validate_commerce_request(method, path, body, strict=strict)


def validate_response(method: str, url: str, status: int, body: Any, *, strict: bool = False) -> None:
    """Validate a response body by URL (see :func:`validate_request`); SchemaNotFound if none is declared."""
    path = urlsplit(url).path
    if _is_walmart(path):
        validate_walmart_response(walmart_operation_id(method, path), status, body, strict=strict)
    else:
        validate_commerce_response(method, path, status, body, strict=strict)
