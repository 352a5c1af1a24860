"""Regenerate src/wmsync/walmart/data/walmart_enums.json from the official Walmart orders OpenAPI spec.

Usage:
    python scripts/gen_walmart_enums.py [SPEC_PATH] [--output PATH]

SPEC_PATH defaults to ../shared/specs/walmart/walmart-marketplace-orders-openapi-original.yml relative to
the repository root; --output defaults to the package data file. The output is deterministic (same spec,
same bytes), so tests can regenerate it and compare with the shipped file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC_NAME = "walmart-marketplace-orders-openapi-original.yml"
DEFAULT_SPEC = REPO_ROOT.parent / "shared" / "specs" / "walmart" / SPEC_NAME
DEFAULT_OUTPUT = REPO_ROOT / "src" / "wmsync" / "walmart" / "data" / "walmart_enums.json"

# Where each enum lives: (operationId, property path from the JSON request body's root).
# Each step is a property name; arrays are stepped through transparently.
_LINE_STATUS = ("orderLines", "orderLine", "orderLineStatuses", "orderLineStatus")
ENUM_LOCATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "carriers": (
        "shippingUpdates",
        ("orderShipment", *_LINE_STATUS, "trackingInfo", "carrierName", "carrier"),
    ),
    "method_codes": ("shippingUpdates", ("orderShipment", *_LINE_STATUS, "trackingInfo", "methodCode")),
    "cancellation_reasons": ("cancelOrderLines", ("orderCancellation", *_LINE_STATUS, "cancellationReason")),
    "line_statuses": ("shippingUpdates", ("orderShipment", *_LINE_STATUS, "status")),
}


def load_spec(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as fh:
        doc = yaml.load(fh, Loader=loader)
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: not an OpenAPI document")
    return doc


def _operation(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return op
    raise KeyError(f"operationId {operation_id!r} not in spec")


def _descend(schema: dict[str, Any], steps: tuple[str, ...], where: str) -> dict[str, Any]:
    node = schema
    for step in steps:
        while node.get("type") == "array" or "items" in node:
            node = node["items"]
        props = node.get("properties", {})
        if step not in props:
            raise KeyError(f"{where}: no property {step!r} (have {sorted(props)})")
        node = props[step]
    return node


def extract_enums(spec: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, (operation_id, steps) in ENUM_LOCATIONS.items():
        op = _operation(spec, operation_id)
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        where = f"{operation_id} request body /{'/'.join(steps)}"
        node = _descend(schema, steps, where)
        values = node.get("enum")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"{where}: no string enum")
        if len(set(values)) != len(values):
            raise ValueError(f"{where}: duplicate values")
        out[name] = list(values)
    return out


def build(spec_path: Path) -> dict[str, Any]:
    raw = spec_path.read_bytes()
    spec = load_spec(spec_path)
    data: dict[str, Any] = dict(extract_enums(spec))
    data["source"] = {"file": spec_path.name, "sha256": hashlib.sha256(raw).hexdigest()}
    return data


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "spec", nargs="?", type=Path, default=DEFAULT_SPEC, help="Walmart orders OpenAPI YAML"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file to write")
    args = parser.parse_args(argv)
    spec_path: Path = args.spec
    output: Path = args.output
    if not spec_path.is_file():
        parser.error(f"spec not found: {spec_path}")
    data = build(spec_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(data), encoding="utf-8")
    counts = ", ".join(f"{k}={len(v)}" for k, v in data.items() if isinstance(v, list))
    print(f"wrote {output} ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
