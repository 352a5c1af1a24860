"""The record layer that decodes the config file and the Commerce and Walmart answers: the rules pydantic
applied before (lax numbers, strict strings, unknown keys per class, errors with their location)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest

from wmsync.commerce.models import Order, Shipment
from wmsync.config import Config, StoreConfig, Timeouts
from wmsync.records import Before, Check, Field, Record, ValidationError, validator
from wmsync.walmart.models import ShipLine, WalmartOrder


class Inner(Record, extra="forbid"):
    code: Annotated[str, Check(pattern=r"^[a-z]+$")]
    n: Annotated[int, Check(gt=0)] = 1


class Outer(Record, extra="allow"):
    id: int
    ratio: float = 0.0
    flag: bool = False
    name: str | None = None
    kind: Literal["a", "b"] = "a"
    tags: list[str] = Field(default_factory=list)
    inner: Inner | None = None
    by_key: dict[str, Inner] = Field(default_factory=dict)
    text: Annotated[str, Before(lambda v: str(v) if isinstance(v, int) else v)] = ""

    @validator("name", mode="after")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("blank")
        return value


def errors_of(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as info:
        Outer.model_validate(data)
    return [(tuple(e["loc"]), e["type"]) for e in info.value.errors()]


def test_numbers_are_lax_and_strings_strict() -> None:
    rec = Outer.model_validate({"id": "12", "ratio": "1.5", "flag": "yes", "text": 7})
    assert (rec.id, rec.ratio, rec.flag, rec.text) == (12, 1.5, True, "7")
    assert Outer.model_validate({"id": 3.0}).id == 3
    assert errors_of({"id": 3.5}) == [(("id",), "int_from_float")]
    assert errors_of({"id": "x"}) == [(("id",), "int_parsing")]
    assert errors_of({"id": 1, "name": 5}) == [(("name",), "string_type")]
    assert errors_of({"id": 1, "flag": "maybe"}) == [(("flag",), "bool_parsing")]


def test_required_defaults_and_fresh_factories() -> None:
    assert errors_of({}) == [(("id",), "missing")]
    a, b = Outer.model_validate({"id": 1}), Outer.model_validate({"id": 2})
    a.tags.append("x")
    assert b.tags == []
    assert a.kind == "a"
    assert a.inner is None


def test_nested_errors_carry_their_location() -> None:
    assert errors_of({"id": 1, "inner": {"code": "ABC"}}) == [(("inner", "code"), "string_pattern_mismatch")]
    assert errors_of({"id": 1, "by_key": {"k": {"code": "ok", "n": 0}}}) == [(("by_key", "k", "n"), "greater_than")]
    assert errors_of({"id": 1, "tags": ["a", 2]}) == [(("tags", 1), "string_type")]
    assert errors_of({"id": 1, "inner": {"code": "ok", "zzz": 1}}) == [(("inner", "zzz"), "extra_forbidden")]
    assert errors_of({"id": 1, "kind": "c"}) == [(("kind",), "literal_error")]
    assert errors_of({"id": 1, "name": " "}) == [(("name",), "value_error")]


def test_unknown_keys_kept_ignored_or_refused_per_class() -> None:
    rec = Outer.model_validate({"id": 1, "extension_attributes": {"x": 1}})
    assert rec.model_extra == {"extension_attributes": {"x": 1}}
    assert rec.extension_attributes == {"x": 1}  # readable as an attribute, as before
    assert rec.model_dump()["extension_attributes"] == {"x": 1}
    wm = WalmartOrder.model_validate({"purchaseOrderId": 123, "somethingNew": True})
    assert wm.purchaseOrderId == "123"
    assert wm.model_extra is None


def test_dump_excludes_none_and_defaults() -> None:
    rec = Outer.model_validate({"id": 1, "inner": {"code": "ab"}})
    assert rec.model_dump(exclude_none=True, exclude_defaults=True) == {"id": 1, "inner": {"code": "ab"}}
    assert rec == Outer.model_validate({"id": 1, "inner": {"code": "ab"}})
    assert rec != Outer.model_validate({"id": 1, "inner": {"code": "abc"}})


def test_commerce_quantities_and_walmart_shapes() -> None:
    order = Order.model_validate({"entity_id": "7", "increment_id": "000000007",
                                  "items": [{"item_id": 1, "sku": "A", "qty_ordered": "2.0000",
                                             "qty_shipped": None}]})
    assert order.items[0].qty_ordered == 2.0
    assert order.items[0].qty_shipped == 0.0
    assert order.items[0].qty_to_ship == 2
    with pytest.raises(ValidationError):
        Order.model_validate({"increment_id": "1"})  # entity_id missing
    sh = Shipment.model_validate({"entity_id": 3, "items": [{"order_item_id": 1, "qty": "1"}],
                                  "tracks": [{"track_number": "1Z"}]})
    assert sh.items[0].qty == 1.0
    assert sh.track_numbers() == {"1Z"}
    single = WalmartOrder.model_validate({"purchaseOrderId": "1", "orderLines": {"orderLine": {
        "lineNumber": 1, "item": {"sku": "S"}, "orderLineQuantity": {"amount": "2"},
        "orderLineStatuses": {"orderLineStatus": {"status": "Created", "statusQuantity": {"amount": 2}}}}}})
    assert single.lines[0].lineNumber == "1"
    assert single.lines[0].created_qty == 2
    with pytest.raises(ValidationError):
        ShipLine.model_validate({"lineNumber": "1", "sellerOrderId": "x" * 31,
                                 "orderLineStatuses": {"orderLineStatus": []}})


def test_config_records_are_frozen_and_checked() -> None:
    with pytest.raises(ValidationError) as info:
        Config.model_validate({"stores": {"us": {"commerce_url": "http://shop.example.com",
                                                 "walmart_client_id": "x"}}})
    assert info.value.errors()[0]["loc"] == ("stores", "us", "commerce_url")
    st = StoreConfig(commerce_url="https://shop.example.com", walmart_client_id="id")
    with pytest.raises(TypeError):
        st.walmart_client_id = "other"  # type: ignore[misc]
    assert hash(st) == hash(StoreConfig(commerce_url="https://shop.example.com", walmart_client_id="id"))
    with pytest.raises(ValidationError):
        Timeouts.model_validate({"max_attempts": 21})
    assert Config.model_validate({}).stores == {}


def test_a_record_is_taken_as_it_is() -> None:
    rec = Outer.model_validate({"id": 1})
    assert Outer.model_validate(rec) is rec


def test_every_problem_is_reported_not_only_the_first() -> None:
    with pytest.raises(ValidationError) as info:
        Config.model_validate({"stores": {
            "us": {"bogus": 1, "notify": True},
            "eu": {"commerce_url": "https://shop.example.eu", "walmart_client_id": "x",
                   "timeouts": {"max_attempts": 0, "connect": -1}},
        }})
    locs = {tuple(e["loc"]) for e in info.value.errors()}
    assert {("stores", "us", "commerce_url"), ("stores", "us", "walmart_client_id"), ("stores", "us", "bogus"),
            ("stores", "us", "notify"), ("stores", "eu", "timeouts", "max_attempts"),
            ("stores", "eu", "timeouts", "connect")} <= locs, locs
    with pytest.raises(ValidationError) as info2:
        Outer.model_validate({"id": 1, "tags": [1, "ok", 2]})
    assert [tuple(e["loc"]) for e in info2.value.errors()] == [("tags", 0), ("tags", 2)]


def test_a_table_that_is_not_a_valid_record_names_its_key_at_fault() -> None:
    """``carriers`` takes a name or an inline table: a bad table is reported as a bad table, not as "not a
    string"."""
    base = {"commerce_url": "https://shop.example.com", "walmart_client_id": "x"}
    for table, loc, kind in (({"other": "Acme", "url": "x"}, "url", "extra_forbidden"),
                             ({"other": ""}, "other", "too_short"),
                             ({"tracking_url": "x"}, "other", "missing")):
        with pytest.raises(ValidationError) as info:
            StoreConfig.model_validate({**base, "carriers": {"acme": table}})
        assert (tuple(info.value.errors()[0]["loc"]), info.value.errors()[0]["type"]) == (
            ("carriers", "acme", loc), kind), table
    with pytest.raises(ValidationError) as info:
        StoreConfig.model_validate({**base, "carriers": {"acme": 5}})
    assert info.value.errors()[0]["type"] == "string_type"


def test_booleans_accept_what_they_accepted_before() -> None:
    base = {"commerce_url": "https://shop.example.com", "walmart_client_id": "x"}
    for raw, want in ((1.0, True), (0.0, False), (1, True), ("no", False), (True, True)):
        assert StoreConfig.model_validate({**base, "notify_customer": raw}).notify_customer is want, raw
    with pytest.raises(ValidationError):
        StoreConfig.model_validate({**base, "notify_customer": 0.5})
