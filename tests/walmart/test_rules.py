"""Walmart business rules: carriers, tracking numbers, method codes, cancellation reasons, allocation."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wmsync.walmart import enums
from wmsync.walmart.rules import (
    REASON_HELP,
    Allocation,
    CarrierMapping,
    LineAvailability,
    RuleViolation,
    all_carriers,
    allocate,
    check_carrier_mapping,
    check_method_code,
    check_tracking_number,
    check_tracking_url,
    fill_tracking_url,
    format_checked_carriers,
    reason_warnings,
    requires_customer_request,
    resolve_cancellation_reason,
    resolve_carrier,
    suggest_carriers,
)

PO = "1796277083022"


def refused(fn: object, *args: object, **kwargs: object) -> RuleViolation:
    assert callable(fn)
    with pytest.raises(RuleViolation) as info:
        fn(*args, **kwargs)
    return info.value


def tracking_ok(number: str, carrier: str | None, **kw: object) -> None:
    po = kw.pop("po", PO)
    check_tracking_number(number, carrier=carrier, purchase_order_id=po, **kw)


def tracking_refused(number: str, carrier: str | None, **kw: object) -> RuleViolation:
    po = kw.pop("po", PO)
    return refused(check_tracking_number, number, carrier=carrier, purchase_order_id=po, **kw)


# ---------------------------------------------------------------------------------------------------------
# Tracking numbers: per carrier

VALID = [
    # UPS: 1Z numbers with correct mod-10 check digits (UPS's own sample, and published real numbers)
    ("UPS", "1Z999AA10123456784"),
    ("UPS", "1Z5R89390357567127"),
    ("UPS", "1Z879E930346834440"),
    ("UPS", "1Z410E7W0392751591"),
    ("UPS", "1Z8V92A70367203024"),
    ("UPS", "1z999aa10123456784"),  # typed in lower case: same number
    ("ups", "1Z999AA10123456784"),  # carrier name case-insensitive
    ("UPS", "T1234567893"),  # T + 10 digits
    ("UPS", "802269919937015457"),  # 18-digit Mail Innovations sequence number
    ("UPS", "9274899998765432101234"),  # SurePost / Mail Innovations (USPS-delivered), 22 digits
    ("UPS", "MI123456AB12345678"),  # Mail Innovations package id
    ("UPSMI", "9274899998765432101234"),
    ("UPSMI", "MI123456AB12345678"),
    # USPS IMpb (mod-10 check digit), older 20-digit, UPU S10 (mod-11)
    ("USPS", "9400111201080805483016"),
    ("USPS", "9505511069605048600624"),
    ("USPS", "9361289878700317633795"),
    ("USPS", "9405803699300124287899"),
    ("USPS", "9101123456789000000013"),
    ("USPS", "92748931507708513018050063"),  # 26 digits
    ("USPS", "71969010756003077385"),  # 20-digit Certified Mail style
    ("USPS", "03071790000523483741"),
    ("USPS", "EA123456785US"),
    ("USPS", "RB123456785GB"),
    ("USPS", "lz123456785us"),
    ("USPS", "EE111111115US"),  # weighted sum ≡ 0 (mod 11): check digit 5
    ("USPS", "EE100200000US"),  # weighted sum ≡ 1 (mod 11): check digit 0
    # FedEx: 12/15 digits, SSCC-18, 20/22-digit Ground/SmartPost, 34-digit barcode
    ("FedEx", "986578788855"),
    ("FedEx", "477179081230"),
    ("FedEx", "799531274483"),
    ("FedEx", "041441760228964"),
    ("FedEx", "568283610012000"),
    ("FedEx", "000123450000000027"),
    ("FedEx", "61299998820821171811"),
    ("FedEx", "9611020987654312345672"),
    ("FedEx", "1001921334250001000300779017972697"),
    ("FEDEXSP", "9261292700768711948021"),
    ("FEDEXSP", "61299998820821171811"),
    # DHL Express waybills and piece IDs
    ("DHL", "3318810025"),
    ("DHL", "8487135506"),
    ("DHL", "JJD0099999999"),
    ("DHL", "JVGL0999999990"),
    ("DHL", "JJD000390007891418"),
    # DHL eCommerce
    ("DHL Ecommerce - US", "GM2951173225174494"),
    ("DHL Ecommerce - US", "GM295117494011169042"),
    ("DHL Ecommerce - US", "9261292700768711948021"),
    ("DHL Ecommerce - US", "420221539101026837331000039521"),
    # OnTrac, and LaserShip numbers OnTrac now carries
    ("OnTrac", "C11031500001879"),
    ("OnTrac", "C10999911320231"),
    ("OnTrac", "D10011354453707"),
    ("OnTrac", "1LS717793482164"),
    ("OnTrac", "1LS7119013618127-1"),
    ("OnTrac", "LX17635036"),
    ("LS", "1LS724505321754"),
    ("LS", "LX17635036"),
    # LSO
    ("LSO", "ZY12AB34"),
    ("LSO", "1234567890123"),
    ("LSO", "LSOAB1234567890"),
    # Carriers without a format check: general rules only
    ("Estes Express", "1234567"),
    ("ABF Freight System", "108-123456-7"),
    (None, "ANYTHING123"),
    ("Some Other Carrier", "X1234"),
]


@pytest.mark.parametrize(("carrier", "number"), VALID)
def test_valid_tracking_numbers_pass(carrier: str | None, number: str) -> None:
    tracking_ok(number, carrier)


INVALID = [
    # (carrier, number, rule, words the message must contain)
    (
        "UPS",
        "1Z999AA1012345678",
        "tracking-format",
        ["1Z + 16 letters/digits (18 characters)", "got 17 characters"],
    ),
    ("UPS", "1Z999AA101234567845", "tracking-format", ["got 19 characters"]),
    ("UPS", "1Z999AA10123456785", "tracking-check-digit", ["check digit", "should be 4, not 5"]),
    ("UPS", "1Z999AA1012345678X", "tracking-format", ["check digit"]),
    ("UPS", "1Z-999AA10123456784", "tracking-format", ["no hyphens"]),
    ("UPS", "12345678901", "tracking-format", ["UPS tracking numbers look like", "got 11 digits"]),
    ("UPSMI", "1Z999AA1012345678", "tracking-format", ["got 17 characters"]),
    ("USPS", "9400111201080805483017", "tracking-check-digit", ["check digit", "should be 6, not 7"]),
    ("USPS", "940011120108080548301", "tracking-format", ["22 (or 26) digits", "got 21 digits"]),
    ("USPS", "RB123456786US", "tracking-check-digit", ["character 11 should be 5"]),
    ("USPS", "EE111111110US", "tracking-check-digit", ["character 11 should be 5, not 0"]),
    ("USPS", "EE100200001US", "tracking-check-digit", ["character 11 should be 0, not 1"]),
    ("USPS", "EA12345678US", "tracking-format", ["13 characters", "got 12 characters"]),
    ("USPS", "420221539101026837331000039521", "tracking-format", ["420 + ZIP"]),
    ("USPS", "1Z999AA10123456784", "tracking-format", ["looks like a UPS number"]),
    ("USPS", "9400-1112-0108-0805-4830-16", "tracking-format", ["no hyphens"]),
    ("FedEx", "9865787888551", "tracking-format", ["12, 14 or 15 digits", "got 13 digits"]),
    ("FedEx", "98657878885", "tracking-format", ["got 11 digits"]),
    ("FedEx", "1Z999AA10123456784", "tracking-format", ["looks like a UPS number"]),
    ("FedEx", "FX1234567890", "tracking-format", ["FedEx tracking numbers look like"]),
    ("FedEx", "98657878-8855", "tracking-format", ["no hyphens"]),
    ("DHL", "GM2951173225174494", "tracking-format", ["DHL Ecommerce - US"]),
    ("DHL", "123456789", "tracking-format", ["10 digits", "got 9 digits"]),
    ("DHL Ecommerce - US", "ABCDEFGHIJ", "tracking-format", ["DHL eCommerce tracking numbers look like"]),
    ("OnTrac", "C1103150000187", "tracking-format", ["C or D + 14 digits", "C + 13 digits"]),
    ("OnTrac", "X11031500001879", "tracking-format", ["OnTrac tracking numbers look like"]),
    ("OnTrac", "1Z999AA10123456784", "tracking-format", ["UPS"]),
    ("LSO", "123456", "tracking-format", ["LSO tracking numbers look like", "got 6 digits"]),
    ("LSO", "9400111201080805483016", "tracking-format", ["USPS"]),
]


@pytest.mark.parametrize(("carrier", "number", "rule", "words"), INVALID)
def test_invalid_tracking_numbers_are_refused(carrier: str, number: str, rule: str, words: list[str]) -> None:
    exc = tracking_refused(number, carrier)
    assert exc.rule == rule
    for word in words:
        assert word in exc.message
    assert exc.hint


def test_usps_routing_prefix_hint_gives_the_tracking_number() -> None:
    exc = tracking_refused("420221539101026837331000039521", "USPS")
    assert exc.hint == "did you mean '9101026837331000039521'?"
    exc = tracking_refused("4201002334249200190132607600833457", "USPS")
    assert exc.hint == "did you mean '9200190132607600833457'?"


def test_hyphenated_big_carrier_number_hint_shows_it_without_hyphens() -> None:
    exc = tracking_refused("98657878-8855", "FedEx")
    assert exc.hint == "did you mean '986578788855'?"


@pytest.mark.parametrize(("carrier", "number", "rule", "words"), INVALID)
def test_skip_format_check_skips_only_the_carrier_format(
    carrier: str, number: str, rule: str, words: list[str]
) -> None:
    tracking_ok(number, carrier, skip_format_check=True)


def test_every_format_checked_carrier_is_a_walmart_carrier() -> None:
    listed = {c.casefold() for c in enums.carriers()}
    assert set(format_checked_carriers()) <= listed
    for required in ("ups", "usps", "fedex", "dhl", "ontrac", "lso"):
        assert required in format_checked_carriers()


@given(st.integers(min_value=0, max_value=20), st.integers(min_value=1, max_value=9))
def test_every_single_digit_typo_in_a_usps_impb_number_is_refused(position: int, delta: int) -> None:
    good = "9400111201080805483016"
    typo = good[:position] + str((int(good[position]) + delta) % 10) + good[position + 1 :]
    with pytest.raises(RuleViolation):
        check_tracking_number(typo, carrier="USPS", purchase_order_id=None)


# ---------------------------------------------------------------------------------------------------------
# Tracking numbers: general rules (every carrier, even with skip_format_check)

GENERAL = [
    ("", "tracking-empty", "empty"),
    ("1Z999AA1\x000123456784", "tracking-characters", "U+0000"),
    ("1Z999AA1\x1b[31m0123456784", "tracking-characters", "U+001B"),
    ("1Z999AA10123456784\n", "tracking-characters", "control character"),
    ("1Z999AA1012345678\u200b4", "tracking-characters", "ZERO WIDTH SPACE"),
    ("\u202e1Z999AA10123456784", "tracking-characters", "RIGHT-TO-LEFT OVERRIDE"),
    ("1Z 999 AA1 0123 456 784", "tracking-characters", "spaces in it"),
    (" 1Z999AA10123456784", "tracking-characters", "spaces around it"),
    ("1Z999AA10123456784 ", "tracking-characters", "spaces around it"),
    ("1ZООО1234567", "tracking-characters", "CYRILLIC CAPITAL LETTER O"),
    ("１Z999AA10123456784", "tracking-characters", "FULLWIDTH DIGIT ONE"),
    ("1Z999AA1#0123456784", "tracking-characters", "'#'"),
    ("9400/1112/0108", "tracking-characters", "'/'"),
    ("1234.5678", "tracking-characters", "no special characters"),
    ("-12345678", "tracking-characters", "hyphen"),
    ("12345678-", "tracking-characters", "hyphen"),
    ("1234--5678", "tracking-characters", "hyphen"),
    ("1234", "tracking-length", "4 characters"),
    ("A" * 41, "tracking-length", "41 characters"),
    (PO, "tracking-is-po", "purchase order number"),
    ("17962-77083022", "tracking-is-po", "purchase order number"),
]


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("carrier", ["UPS", None, "Estes Express"])
@pytest.mark.parametrize(("number", "rule", "words"), GENERAL)
def test_general_rules_apply_to_every_carrier(
    number: str, rule: str, words: str, carrier: str | None, skip: bool
) -> None:
    exc = tracking_refused(number, carrier, skip_format_check=skip)
    assert exc.rule == rule
    assert words in exc.message


@pytest.mark.parametrize(("number", "_rule", "_words"), GENERAL)
def test_messages_never_echo_raw_control_characters(number: str, _rule: str, _words: str) -> None:
    exc = tracking_refused(number, "UPS")
    text = exc.message + (exc.hint or "")
    assert all(ch.isprintable() for ch in text), text


def test_whitespace_refusal_suggests_the_number_without_spaces() -> None:
    exc = tracking_refused("9400 1112 0108 0805 4830 16", "USPS")
    assert exc.hint == "did you mean '9400111201080805483016'?"


def test_po_comparison_ignores_case_and_hyphens() -> None:
    tracking_refused("ab-12345", None, po="AB12345")
    tracking_refused("AB12345", None, po="ab-123-45")
    tracking_ok("AB12346", None, po="AB12345")
    tracking_ok("AB12345", None, po=None)


def test_very_long_hostile_input_is_refused_with_a_short_message() -> None:
    exc = tracking_refused("9" * 100_000, "USPS")
    assert exc.rule == "tracking-length"
    assert len(exc.message) < 300


# ---------------------------------------------------------------------------------------------------------
# Carriers

NO_MAPPING: dict[str, str] = {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("FedEx", "FedEx"),
        ("Fedex", "FedEx"),
        ("  fedex ", "FedEx"),
        ("UPS", "UPS"),
        ("usps", "USPS"),
        ("dhl ecommerce - us", "DHL Ecommerce - US"),
        ("ontrac", "OnTrac"),
        ("fedexsp", "FEDEXSP"),
        ("metropolitan warehouse & delivery", "Metropolitan Warehouse & Delivery"),
        ("win.it america", "WIN.IT America"),
    ],
)
def test_walmart_carriers_resolve_case_insensitively_to_walmart_spelling(value: str, expected: str) -> None:
    resolved = resolve_carrier(value, mapping=NO_MAPPING)
    assert resolved.carrier == expected
    assert resolved.other_carrier is None
    assert resolved.source == "walmart-list"
    assert resolved.carrier_name() == {"carrier": expected}


def test_all_spec_carriers_resolve_to_themselves() -> None:
    for name in enums.carriers():
        assert resolve_carrier(name.upper(), mapping=NO_MAPPING).carrier == name


def test_extra_carriers_extend_the_list() -> None:
    exc = refused(resolve_carrier, "UniUni", mapping=NO_MAPPING)
    assert exc.rule == "carrier"
    resolved = resolve_carrier("uniuni", mapping=NO_MAPPING, extra_carriers=["UniUni"])
    assert (resolved.carrier, resolved.source) == ("UniUni", "walmart-list")
    assert all_carriers(["ups", "UniUni"]).count("UPS") == 1  # no duplicate; spec spelling wins
    assert "ups" not in all_carriers(["ups"])


def test_unknown_carrier_is_refused_with_suggestions() -> None:
    exc = refused(resolve_carrier, "UPPS", mapping=NO_MAPPING)
    assert "did you mean 'UPS'" in exc.message
    assert exc.hint is not None
    assert "--tracking-url" in exc.hint
    assert suggest_carriers("UPPS")[0] == "UPS"


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [
        ("Fedex Ground", "FedEx"),
        ("FedEx Home Delivery", "FedEx"),
        ("LaserShip", "LS"),
        ("FedEx SmartPost", "FEDEXSP"),
        ("FedEx Ground Economy", "FEDEXSP"),
        ("UPS Mail Innovations", "UPSMI"),
        ("United Delivery Service", "UDS"),
        ("DHL eCommerce", "DHL Ecommerce - US"),
        ("DHL-Ecommerce-US", "DHL Ecommerce - US"),
        ("Lone Star Overnight", "LSO"),
        ("R+L Carriers", "RL Carriers"),
        ("USPS Priority Mail", "USPS"),
    ],
)
def test_aliases_of_listed_carriers_are_refused_even_with_a_url(value: str, suggestion: str) -> None:
    exc = refused(resolve_carrier, value, mapping=NO_MAPPING)
    assert f"did you mean '{suggestion}'" in exc.message
    exc = refused(
        resolve_carrier,
        value,
        mapping=NO_MAPPING,
        tracking_url="https://t.example/{tracking}",
        tracking_number="X1",
    )
    assert f"'{suggestion}'" in exc.message
    assert "valid-tracking rate" in exc.message
    assert suggest_carriers(value)[0] == suggestion


def test_suggestions_include_long_carrier_names_that_start_the_value() -> None:
    assert "FedEx" in suggest_carriers("FedEx International Priority Freight")


def test_suggestions_include_mapping_keys() -> None:
    mapping = {"Acme Couriers": CarrierMapping("Acme", "https://acme.example/{tracking}")}
    exc = refused(resolve_carrier, "acme courier", mapping=mapping)
    assert "'Acme Couriers'" in exc.message


def test_other_carrier_with_url() -> None:
    resolved = resolve_carrier(
        " Acme Courier ",
        mapping=NO_MAPPING,
        tracking_url="https://acme.example/track?n={tracking}",
        tracking_number="AB 1/2&x",
    )
    assert resolved.carrier is None
    assert resolved.other_carrier == "Acme Courier"
    assert resolved.tracking_url == "https://acme.example/track?n=AB%201%2F2%26x"
    assert resolved.source == "other"
    assert resolved.carrier_name() == {"otherCarrier": "Acme Courier"}


def test_other_carrier_without_url_is_refused() -> None:
    exc = refused(resolve_carrier, "Acme Courier", mapping=NO_MAPPING, tracking_number="AB12345")
    assert "not on Walmart's carrier list" in exc.message
    assert exc.hint is not None
    assert "--tracking-url" in exc.hint


@pytest.mark.parametrize(
    "url",
    [
        "ftp://acme.example/{tracking}",
        "acme.example/track/{tracking}",
        "/track/{tracking}",
        "javascript:alert(1)",
        "https:///nohost",
        "https://acme.example/a b",
        "https://acme.example/\x1b[0m",
    ],
)
def test_bad_tracking_urls_are_refused(url: str) -> None:
    exc = refused(resolve_carrier, "Acme", mapping=NO_MAPPING, tracking_url=url, tracking_number="AB12345")
    assert exc.rule == "tracking-url"
    assert all(ch.isprintable() for ch in exc.message)


def test_url_template_needs_a_tracking_number() -> None:
    refused(fill_tracking_url, "https://acme.example/{tracking}", None)
    assert fill_tracking_url("https://acme.example/static", None) == "https://acme.example/static"
    assert check_tracking_url("  http://acme.example/x ") == "http://acme.example/x"


def test_listed_carrier_keeps_a_given_tracking_url() -> None:
    resolved = resolve_carrier(
        "UPS", mapping=NO_MAPPING, tracking_url="https://ups.example/{tracking}", tracking_number="1Z9"
    )
    assert (resolved.carrier, resolved.tracking_url) == ("UPS", "https://ups.example/1Z9")


MAPPING = {
    "custom": "FedEx",
    "Acme Delivery": CarrierMapping("Acme Courier", "https://acme.example/t?n={tracking}"),
    "Toml Table": {"other": "Table Co", "tracking_url": "https://table.example/{tracking}"},
    "lasership-custom": CarrierMapping("LaserShip", "https://ls.example/{tracking}"),
    "listed-as-other": CarrierMapping("fedex", "https://fx.example/{tracking}"),
    "no-url": CarrierMapping("Nourl Co"),
    "typo": "Fedx",
    "UPS": "USPS",  # shadowed: Walmart's own name wins
}


def test_mapping_to_a_walmart_carrier() -> None:
    resolved = resolve_carrier("CUSTOM", mapping=MAPPING)
    assert (resolved.carrier, resolved.source) == ("FedEx", "mapping")


def test_mapping_to_other_carrier_fills_the_template() -> None:
    resolved = resolve_carrier("acme delivery", mapping=MAPPING, tracking_number="ZX99")
    assert resolved.other_carrier == "Acme Courier"
    assert resolved.tracking_url == "https://acme.example/t?n=ZX99"
    assert resolved.source == "mapping"


def test_mapping_as_toml_table() -> None:
    resolved = resolve_carrier("toml table", mapping=MAPPING, tracking_number="ZX99")
    assert (resolved.other_carrier, resolved.tracking_url) == ("Table Co", "https://table.example/ZX99")
    exc = refused(resolve_carrier, "t", mapping={"t": {"other": "X", "url": "https://x.example"}})
    assert "unknown key" in exc.message


def test_explicit_tracking_url_beats_the_mapping_template() -> None:
    resolved = resolve_carrier(
        "Acme Delivery",
        mapping=MAPPING,
        tracking_url="https://other.example/{tracking}",
        tracking_number="Q1",
    )
    assert resolved.tracking_url == "https://other.example/Q1"


@pytest.mark.parametrize(("key", "walmart"), [("lasership-custom", "LS"), ("listed-as-other", "FedEx")])
def test_listed_carrier_mapped_as_other_is_refused(key: str, walmart: str) -> None:
    exc = refused(resolve_carrier, key, mapping=MAPPING, tracking_number="X12345")
    assert "counts against the valid-tracking rate" in exc.message
    assert f"map it to '{walmart}'" in exc.message


def test_mapping_other_without_url_is_refused_unless_a_url_is_given() -> None:
    exc = refused(resolve_carrier, "no-url", mapping=MAPPING, tracking_number="X12345")
    assert exc.rule == "carrier-other-url"
    resolved = resolve_carrier(
        "no-url", mapping=MAPPING, tracking_url="https://n.example/{tracking}", tracking_number="X12345"
    )
    assert resolved.other_carrier == "Nourl Co"


def test_mapping_to_unknown_walmart_carrier_is_refused_with_suggestion() -> None:
    exc = refused(resolve_carrier, "typo", mapping=MAPPING)
    assert "did you mean 'FedEx'" in exc.message
    assert exc.rule == "carrier-config"


def test_walmart_list_wins_over_mapping() -> None:
    assert resolve_carrier("ups", mapping=MAPPING).carrier == "UPS"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("United Parcel Service", "UPS"),
        ("United States Postal Service", "USPS"),
        ("Federal Express", "FedEx"),
    ],
)
def test_magento_builtin_titles_need_no_configuration(value: str, expected: str) -> None:
    resolved = resolve_carrier(value, mapping=NO_MAPPING)
    assert (resolved.carrier, resolved.source) == (expected, "builtin-magento-code")


@pytest.mark.parametrize("value", ["", "   ", "UP\x00S", "\u202eUPS"])
def test_empty_or_hostile_carrier_is_refused(value: str) -> None:
    exc = refused(resolve_carrier, value, mapping=NO_MAPPING)
    assert all(ch.isprintable() for ch in exc.message)


def test_check_carrier_mapping_reports_every_key() -> None:
    mapping = {
        **MAPPING,
        "custom ": "UPS",  # duplicate of "custom" (case/space-insensitive)
        "fixed-page": CarrierMapping("Fixed Co", "https://fixed.example/track"),
        "bad-url": CarrierMapping("Bad Co", "ftp://bad.example/{tracking}"),
        "ups": "UPS",  # repeats the key "UPS" (keys are case-insensitive)
    }
    results = {p.key: p for p in check_carrier_mapping(mapping)}
    assert list(results) == list(mapping)
    assert (results["custom"].kind, results["custom"].target) == ("ok", "FedEx")
    assert results["Acme Delivery"].kind == "ok"
    assert results["Toml Table"].kind == "ok"
    assert results["lasership-custom"].kind == "other-is-listed"
    assert results["lasership-custom"].suggestions == ("LS",)
    assert results["listed-as-other"].kind == "other-is-listed"
    assert results["no-url"].kind == "other-without-url"
    assert results["typo"].kind == "unknown-carrier"
    assert results["typo"].suggestions[0] == "FedEx"
    assert results["UPS"].kind == "shadowed"
    assert results["custom "].kind == "duplicate-key"
    assert results["fixed-page"].kind == "template-without-placeholder"
    assert results["fixed-page"].severity == "warning"
    assert results["fixed-page"].ok
    assert results["bad-url"].kind == "invalid-url"
    assert "ftp://bad.example/{tracking}" in results["bad-url"].message
    assert not results["typo"].ok


def test_check_carrier_mapping_with_extra_carriers() -> None:
    [problem] = check_carrier_mapping({"uni": "UniUni"})
    assert problem.kind == "unknown-carrier"
    [problem] = check_carrier_mapping({"uni": "uniuni"}, ["UniUni"])
    assert (problem.kind, problem.target) == ("ok", "UniUni")


# ---------------------------------------------------------------------------------------------------------
# Method codes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Standard", "Standard"),
        ("standard", "Standard"),
        (" EXPRESS ", "Express"),
        ("oneday", "OneDay"),
        ("one-day", "OneDay"),
        ("White Glove", "WhiteGlove"),
        ("freight", "Freight"),
        ("VALUE", "Value"),
    ],
)
def test_method_codes(value: str, expected: str) -> None:
    assert check_method_code(value) == expected


@pytest.mark.parametrize("value", ["Ground", "", "Next Day", "Standart"])
def test_unknown_method_code_lists_the_valid_ones(value: str) -> None:
    exc = refused(check_method_code, value)
    for code in enums.method_codes():
        assert code in exc.message


def test_method_code_typo_gets_a_suggestion() -> None:
    assert "did you mean 'Standard'" in refused(check_method_code, "Standart").message


# ---------------------------------------------------------------------------------------------------------
# Cancellation reasons

REASONS = [
    ("CUSTOMER_REQUESTED_SELLER_TO_CANCEL", "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"),
    ("seller_cancel_pricing_error", "SELLER_CANCEL_PRICING_ERROR"),
    ("Seller-Cancel-Out-Of-Stock", "SELLER_CANCEL_OUT_OF_STOCK"),
    ("SELLER_CANCEL_FRAUD_STOP_SHIPMENT", "SELLER_CANCEL_FRAUD_STOP_SHIPMENT"),
    ("seller_cancel_address_not_serviceable", "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE"),
    ("customer-request", "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"),
    ("pricing-error", "SELLER_CANCEL_PRICING_ERROR"),
    ("out-of-stock", "SELLER_CANCEL_OUT_OF_STOCK"),
    ("fraud", "SELLER_CANCEL_FRAUD_STOP_SHIPMENT"),
    ("address-not-serviceable", "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE"),
    ("Out-Of-Stock", "SELLER_CANCEL_OUT_OF_STOCK"),
    # Channel Manager labels, with tolerance for case, spaces and punctuation
    ("Price/listing error", "SELLER_CANCEL_PRICING_ERROR"),
    ("price / listing error", "SELLER_CANCEL_PRICING_ERROR"),
    ("Out of stock", "SELLER_CANCEL_OUT_OF_STOCK"),
    ("OUT OF STOCK", "SELLER_CANCEL_OUT_OF_STOCK"),
    ("Unavailable carrier/shipping info", "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE"),
    ("unavailable carrier / shipping info.", "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE"),
    ("Credit/fraud", "SELLER_CANCEL_FRAUD_STOP_SHIPMENT"),
    ("credit - fraud", "SELLER_CANCEL_FRAUD_STOP_SHIPMENT"),
]


@pytest.mark.parametrize(("value", "expected"), REASONS)
def test_cancellation_reasons_all_forms(value: str, expected: str) -> None:
    assert resolve_cancellation_reason(value) == expected


@pytest.mark.parametrize("value", ["", "because", "cancel", "SELLER_CANCEL", "fraud\x00"])
def test_unknown_reason_is_refused_with_the_aliases(value: str) -> None:
    exc = refused(resolve_cancellation_reason, value)
    for _, alias, _ in REASON_HELP:
        assert alias in exc.message
    assert all(ch.isprintable() for ch in exc.message)


def test_reason_typo_gets_a_suggestion() -> None:
    assert "did you mean 'fraud'" in refused(resolve_cancellation_reason, "frod").message
    assert "'out-of-stock'" in refused(resolve_cancellation_reason, "no stock").message


def test_reason_help_covers_every_walmart_reason_once() -> None:
    codes = [code for code, _, _ in REASON_HELP]
    assert sorted(codes) == sorted(enums.cancellation_reasons())
    for code, alias, description in REASON_HELP:
        assert resolve_cancellation_reason(alias) == code
        assert description


def test_reason_warnings_and_customer_intent() -> None:
    assert any("real fraud" in w for w in reason_warnings("SELLER_CANCEL_FRAUD_STOP_SHIPMENT"))
    assert any("out of stock" in w for w in reason_warnings("SELLER_CANCEL_OUT_OF_STOCK"))
    assert reason_warnings("SELLER_CANCEL_PRICING_ERROR") == []
    assert requires_customer_request("CUSTOMER_REQUESTED_SELLER_TO_CANCEL")
    others = [c for c in enums.cancellation_reasons() if c != "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"]
    assert len(others) == 4
    assert not any(requires_customer_request(c) for c in others)


# ---------------------------------------------------------------------------------------------------------
# Allocation

L = LineAvailability


def test_allocation_fills_lines_in_numeric_order() -> None:
    lines = [L("10", "A", 1), L("9", "A", 1), L("2", "B", 2), L("1", "A", 1)]
    assert allocate({"A": 2, "B": 1}, lines) == [
        Allocation("1", "A", 1),
        Allocation("2", "B", 1),
        Allocation("9", "A", 1),
    ]


def test_allocation_skips_lines_with_nothing_left() -> None:
    lines = [L("1", "A", 0), L("2", "A", 2), L("3", "A", 1)]
    assert allocate({"A": 3}, lines) == [Allocation("2", "A", 2), Allocation("3", "A", 1)]


def test_allocation_refuses_more_than_is_left() -> None:
    exc = refused(allocate, {"A": 3}, [L("1", "A", 1), L("2", "A", 1), L("3", "B", 5)])
    assert "SKU 'A'" in exc.message
    assert "asked for 3" in exc.message
    assert "only 2 left" in exc.message


def test_allocation_refuses_sku_not_on_order_with_suggestion() -> None:
    exc = refused(allocate, {"WIDGET-1": 1, "A": 1}, [L("1", "widget-1", 1), L("2", "A", 1)])
    assert "'WIDGET-1' is not on this Walmart order" in exc.message
    assert "did you mean 'widget-1'" in exc.message
    assert exc.hint is not None
    assert "'widget-1'" in exc.hint


@pytest.mark.parametrize("qty", [0, -1, True, 1.5, "2"])
def test_allocation_quantities_must_be_positive_integers(qty: object) -> None:
    exc = refused(allocate, {"A": qty}, [L("1", "A", 5)])
    assert exc.rule == "allocation-quantity"


def test_allocation_needs_something_to_allocate() -> None:
    refused(allocate, {}, [L("1", "A", 5)])


def test_line_availability_rejects_negative_and_duplicates() -> None:
    with pytest.raises(ValueError, match="negative"):
        L("1", "A", -1)
    with pytest.raises(ValueError, match="twice"):
        allocate({"A": 1}, [L("1", "A", 1), L("1", "B", 1)])


@st.composite
def orders(draw: st.DrawFn) -> tuple[list[LineAvailability], dict[str, int]]:
    numbers = draw(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=12, unique=True))
    lines = [
        L(str(n), draw(st.sampled_from(["A", "B", "C", "D"])), draw(st.integers(min_value=0, max_value=3)))
        for n in numbers
    ]
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.sku] += line.available_qty
    in_stock = sorted(s for s, t in totals.items() if t > 0)
    chosen = draw(st.lists(st.sampled_from(in_stock), unique=True, min_size=1)) if in_stock else []
    requested = {sku: draw(st.integers(min_value=1, max_value=totals[sku])) for sku in chosen}
    return lines, requested


@given(orders())
def test_allocation_properties(order: tuple[list[LineAvailability], dict[str, int]]) -> None:
    lines, requested = order
    if not requested:
        return
    result = allocate(requested, lines)
    by_line = {ln.line_number: ln for ln in lines}
    assert len({a.line_number for a in result}) == len(result)  # each line at most once
    for a in result:
        line = by_line[a.line_number]
        assert a.sku == line.sku  # only that line's SKU
        assert a.sku in requested  # never a SKU that was not asked for
        assert 0 < a.qty <= line.available_qty  # never more than is left
    sums: dict[str, int] = defaultdict(int)
    for a in result:
        sums[a.sku] += a.qty
    assert sums == requested  # exactly what was asked
    # lowest line numbers first: every line before the last one used for a SKU is used fully
    given_qty = {a.line_number: a.qty for a in result}
    for sku in requested:
        sku_lines = sorted((ln for ln in lines if ln.sku == sku), key=lambda ln: int(ln.line_number))
        used = [ln for ln in sku_lines if ln.line_number in given_qty]
        last = int(used[-1].line_number)
        for ln in sku_lines:
            if int(ln.line_number) < last:
                assert given_qty.get(ln.line_number, 0) == ln.available_qty
    assert [int(a.line_number) for a in result] == sorted(int(a.line_number) for a in result)


@given(orders(), st.integers(min_value=1, max_value=5))
def test_allocation_refuses_any_shortfall(
    order: tuple[list[LineAvailability], dict[str, int]], extra: int
) -> None:
    lines, requested = order
    if not requested:
        return
    sku = next(iter(requested))
    left = sum(ln.available_qty for ln in lines if ln.sku == sku)
    exc = refused(allocate, {**requested, sku: left + extra}, lines)
    assert f"SKU '{sku}'" in exc.message
    assert f"asked for {left + extra}" in exc.message
    assert f"only {left} left" in exc.message


def test_exact_mapping_key_wins_over_walmart_list_case_insensitively() -> None:
    mapping = {"fedex": "FEDEXSP", "dhl": "DHL Ecommerce - US"}
    assert resolve_carrier("fedex", mapping=mapping).carrier == "FEDEXSP"
    assert resolve_carrier("dhl", mapping=mapping).carrier == "DHL Ecommerce - US"
    # Walmart's exact spelling is still Walmart's carrier
    assert resolve_carrier("FedEx", mapping=mapping).carrier == "FedEx"
    assert resolve_carrier("DHL", mapping=mapping).carrier == "DHL"
    problems = {p.key: p.kind for p in check_carrier_mapping(mapping)}
    assert problems == {"fedex": "ok", "dhl": "ok"}
