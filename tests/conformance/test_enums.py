"""The shipped Walmart enum data must equal what the generator derives from the official spec."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
from importlib import resources
from types import ModuleType

import pytest

from conformance.spec import REPO_ROOT, WALMART_ORDERS_FILE
from wmsync.walmart import enums

GENERATOR = REPO_ROOT / "scripts" / "gen_walmart_enums.py"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_walmart_enums", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return _load_generator()


def _shipped_text() -> str:
    return resources.files("wmsync.walmart").joinpath("data", "walmart_enums.json").read_text("utf-8")


def test_shipped_json_is_regenerated_byte_for_byte(specs_path, generator, tmp_path, capsys):
    out = tmp_path / "walmart_enums.json"
    assert generator.main([str(specs_path / WALMART_ORDERS_FILE), "--output", str(out)]) == 0
    assert out.read_text("utf-8") == _shipped_text(), (
        "src/wmsync/walmart/data/walmart_enums.json is stale: run `python scripts/gen_walmart_enums.py`"
    )


def test_source_hash_is_the_spec_file(specs_path):
    digest = hashlib.sha256((specs_path / WALMART_ORDERS_FILE).read_bytes()).hexdigest()
    assert enums.spec_source() == {"file": WALMART_ORDERS_FILE.rsplit("/", 1)[1], "sha256": digest}


def test_accessors_return_the_json_values():
    data = json.loads(_shipped_text())
    assert enums.carriers() == tuple(data["carriers"])
    assert enums.method_codes() == tuple(data["method_codes"])
    assert enums.cancellation_reasons() == tuple(data["cancellation_reasons"])
    assert enums.line_statuses() == tuple(data["line_statuses"])


def test_values_are_unique_and_contain_well_known_members():
    for values in (
        enums.carriers(),
        enums.method_codes(),
        enums.cancellation_reasons(),
        enums.line_statuses(),
    ):
        assert len(values) == len(set(values))
        assert all(v == v.strip() and v for v in values)
    # spellings the rest of wmsync and domain.md depend on
    assert {"UPS", "USPS", "FedEx", "DHL", "OnTrac", "LSO", "DHL Ecommerce - US"} <= set(enums.carriers())
    assert "Fedex" not in enums.carriers()
    assert enums.carriers()[:3] == ("UPS", "USPS", "FedEx")  # spec order is kept
    assert set(enums.method_codes()) == {"Standard", "Express", "OneDay", "Freight", "WhiteGlove", "Value"}
    assert "SELLER_CANCEL_OUT_OF_STOCK" in enums.cancellation_reasons()
    assert {"Shipped", "Cancelled"} <= set(enums.line_statuses())


def test_generator_follows_the_spec_not_a_fixed_list(specs_path, generator):
    """A carrier added to (or removed from) the spec shows up in the generated data."""
    spec = generator.load_spec(specs_path / WALMART_ORDERS_FILE)
    changed = copy.deepcopy(spec)
    _, steps = generator.ENUM_LOCATIONS["carriers"]
    op = generator._operation(changed, "shippingUpdates")
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    node = generator._descend(schema, steps, "test")
    node["enum"] = [*node["enum"][1:], "UniUni"]
    got = generator.extract_enums(changed)
    assert got["carriers"][-1] == "UniUni"
    assert "UPS" not in got["carriers"]
    assert got["carriers"] != list(enums.carriers())


def test_generator_rejects_a_spec_without_the_enum(generator):
    with pytest.raises(KeyError, match="shippingUpdates"):
        generator.extract_enums({"paths": {}})
