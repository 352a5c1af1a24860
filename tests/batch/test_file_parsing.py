"""Reading and validating batch files: pure functions, no services."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from wmsync.cli.common import sandbox_store
from wmsync.workflows import batch

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
STORE = sandbox_store().config
UPS = "1ZW1X2Y30390010006"
UPS2 = "1ZW1X2Y30390010015"
HEAD = "order,carrier,tracking,method,tracking_url,sku,qty,ship_date\n"


def ship(text: str, name: str | None = "f.csv") -> batch.Validated:
    errors: list[batch.RowError] = []
    records = batch.read_records(io.StringIO(text), name=name,
                                 required=batch.SHIP_REQUIRED, optional=batch.SHIP_OPTIONAL, errors=errors)
    return batch.validate_ship(records, STORE, now=NOW, errors=errors)


def cancel(text: str, name: str | None = "f.csv") -> batch.Validated:
    errors: list[batch.RowError] = []
    records = batch.read_records(io.StringIO(text), name=name, required=batch.CANCEL_REQUIRED,
                                 optional=batch.CANCEL_OPTIONAL, errors=errors)
    return batch.validate_cancel(records, errors=errors)


def bad(v: batch.Validated) -> dict[int, str]:
    return {e.line: e.message for e in v.invalid}


def test_bom_and_crlf() -> None:
    v = ship(f"\ufefforder,carrier,tracking\r\n000000101,UPS,{UPS}\r\n\r\n000000103,FedEx,123456789012\r\n")
    assert v.ok, v.invalid
    assert [(p.order, p.tracking, p.carrier_name, p.lines) for p in v.jobs] == [
        ("000000101", UPS, "UPS", [2]), ("000000103", "123456789012", "FedEx", [4])]
    assert v.rows == 2


def test_rows_with_one_tracking_number_form_one_package() -> None:
    v = ship(HEAD + f"000000118,UPS,{UPS},,,WM-SOCK-006,2,\n"
                    f"000000118,UPS,{UPS},,,WM-BAG-008,,\n"
                    f"000000118,UPS,{UPS2},,,,,\n")
    assert v.ok, v.invalid
    first, second = v.jobs
    assert (first.tracking, first.items, first.lines) == (UPS, {"WM-SOCK-006": 2, "WM-BAG-008": None}, [2, 3])
    assert (second.tracking, second.items, second.lines) == (UPS2, None, [4])
    assert batch.by_order(v.jobs) == [[first, second]]  # one order's packages run one after the other


def test_every_invalid_row_is_reported_with_its_line() -> None:
    v = ship(HEAD
             + f"000000101,UPS,{UPS},,,,,\n"                       # 2 ok
             + f"ORD#7,UPS,{UPS},,,,,\n"                           # 3 bad order
             + "000000103,Fedx Ground,123456789012,,,,,\n"         # 4 unknown carrier
             + "000000104,UPS,1ZW1X2Y30390010007,,,,,\n"           # 5 UPS check digit
             + f"000000105,UPS,{UPS2},,,WM-A,0,\n"                 # 6 qty 0
             + f"000000106,UPS,{UPS2},,,WM-A,-2,\n"                # 7 negative
             + f"000000107,UPS,{UPS2},,,WM-A,1.5,\n"               # 8 fraction
             + f"000000108,UPS,{UPS2},,,WM-A,99999999,\n"          # 9 huge
             + f"000000109,UPS,{UPS2},,,,3,\n"                     # 10 qty without sku
             + f"000000110,UPS,{UPS2},,,WM\u200bA,1,\n"            # 11 invisible character
             + f"000000111,UPS,{UPS2},Slow,,,,\n"                  # 12 method
             + f"000000112,UPS,{UPS2},,,,,next tuesday\n"          # 13 ship date
             + f"000000113,UPS,{UPS2},,,,\n"                       # 14 one value short
             + f"000000101,UPS,{UPS},,,,,\n"                       # 15 duplicate of 2
             + f"000000114,,{UPS2},,,,,\n")                        # 16 no carrier
    msgs = bad(v)
    assert sorted(msgs) == list(range(3, 17))
    assert "contains the character '#'" in msgs[3]
    assert "'Fedx Ground' is not on Walmart's carrier list" in msgs[4]
    assert "check digit" in msgs[5]
    assert msgs[6] == "qty 0 must be at least 1"
    assert msgs[7] == "qty '-2' is not a whole number from 1 to 999999"
    assert msgs[8] == "qty '1.5' is not a whole number from 1 to 999999"
    assert msgs[9] == "qty 99999999 is too large (at most 999999)"
    assert msgs[10] == "qty needs a sku on the same row"
    assert msgs[11] == "sku contains an invisible or control character (U+200B)"
    assert "Slow" in msgs[12]
    assert "ship_date 'next tuesday' is not an ISO 8601" in msgs[13]
    assert msgs[14] == "7 values, but the header has 8 columns"
    assert msgs[15] == "duplicate of line 2"
    assert msgs[16] == "carrier is empty"
    # the duplicate does not stop the first occurrence
    assert [(p.order, p.lines) for p in v.jobs] == [("000000101", [2])]


def test_a_bad_row_stops_its_whole_package() -> None:
    v = ship(HEAD + f"000000118,UPS,{UPS},,,WM-SOCK-006,1,\n"
                    f"000000118,UPS,{UPS},,,WM-BAG-008,x,\n"
                    f"000000118,UPS,{UPS2},,,,,\n")
    msgs = bad(v)
    assert msgs[3] == "qty 'x' is not a whole number from 1 to 999999"
    assert msgs[2] == "not run: line 3 of the same package is invalid"
    assert [(p.tracking, p.lines) for p in v.jobs] == [(UPS2, [4])]


def test_conflicting_rows_of_one_package() -> None:
    v = ship(HEAD + f"000000118,UPS,{UPS},,,WM-SOCK-006,1,\n"
                    f"000000118,UPS,{UPS},Express,,WM-BAG-008,1,\n"
                    f"000000119,UPS,{UPS2},,,,,\n"
                    f"000000119,UPS,{UPS2},,,WM-CABLE-003,1,\n"
                    f"000000120,UPS,1ZW1X2Y30390010024,,,WM-MUG-001,1,\n"
                    f"000000120,UPS,1ZW1X2Y30390010024,,,WM-MUG-001,2,\n")
    msgs = bad(v)
    assert msgs[3] == "conflicts with line 2: the same package (order and tracking number) with a different method"
    assert msgs[2] == "not run: line 3 of the same package is invalid"
    assert msgs[5].startswith("conflicts with line 4, which takes the whole order")
    assert msgs[7] == "sku WM-MUG-001 is on line 6 too, with another qty"
    assert v.jobs == []


def test_json_lines() -> None:
    text = (
        f'{{"order": "000000101", "carrier": "UPS", "tracking": "{UPS}"}}\n'
        "\n"
        f'{{"order": "000000118", "carrier": "UPS", "tracking": "{UPS2}", "sku": "WM-SOCK-006", "qty": 2}}\n'
        f'{{"order": "000000119", "carrier": "UPS", "tracking": "{UPS2}", "qty": 1.5, "sku": "X"}}\n'
        '{"order": "000000120", "carrier": "UPS", "trackingg": "1"}\n'
        "[1, 2]\n"
        "{not json\n"
    )
    v = ship(text, name=None)
    msgs = bad(v)
    assert msgs[4] == "qty '1.5' is not a whole number from 1 to 999999"
    assert msgs[5].startswith("unknown key 'trackingg'")
    assert msgs[6].startswith("expected a JSON object")
    assert msgs[7].startswith("not valid JSON")
    assert [(p.order, p.items, p.lines) for p in v.jobs] == [
        ("000000101", None, [1]), ("000000118", {"WM-SOCK-006": 2}, [3])]


def test_format_from_content_and_other_delimiters() -> None:
    v = ship(f"order;carrier;tracking\n000000101;UPS;{UPS}\n", name=None)
    assert v.ok
    assert v.jobs[0].tracking == UPS
    v = ship(f"Order\tCarrier\tTracking\n000000101\tUPS\t{UPS}\n", name="x.tsv")
    assert v.ok
    assert v.jobs[0].order == "000000101"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("order,carrier\n1,UPS\n", "line 1: missing required column(s) tracking"),
        ("order,carrier,trackng\n", "line 1: unknown column 'trackng' (did you mean 'tracking'?)"),
        ("order,carrier,tracking,order\n", "line 1: column 'order' appears twice"),
        ('[{"order": "1"}]\n', "line 1: a JSON array; expected JSON Lines (one object per line)"),
    ],
)
def test_file_level_errors(text: str, message: str) -> None:
    with pytest.raises(batch.FileFormatError) as err:
        ship(text, name=None)
    assert err.value.message == message


def test_long_lines_are_reported_not_held() -> None:
    v = ship("order,carrier,tracking\n" + "1," * 10_000 + "\n" + f"000000101,UPS,{UPS}\n")
    assert bad(v) == {2: f"the line is longer than {batch.MAX_LINE} characters"}
    assert v.jobs[0].lines == [3]


def test_empty_file_has_no_rows() -> None:
    v = ship("")
    assert (v.rows, v.jobs, v.invalid) == (0, [], [])
    v = ship("order,carrier,tracking\r\n")
    assert (v.rows, v.jobs, v.invalid) == (0, [], [])


def test_cancel_rows() -> None:
    v = cancel("order,reason,sku,qty\n"
               "000000127,out-of-stock,,\n"
               "000000118,pricing-error,WM-SOCK-006,1\n"
               "000000118,pricing-error,WM-BAG-008,\n"
               "000000124,out-of-stock,,\n"
               "000000124,fraud,,\n"
               "000000128,because,,\n"
               "000000127,Out of stock,,\n")
    msgs = bad(v)
    assert msgs[6] == "conflicts with line 5: the same order with a different reason"
    assert msgs[5] == "not run: line 6 of the same cancellation is invalid"
    assert msgs[7].startswith("cancellation reason 'because' is not one Walmart accepts")
    assert msgs[8] == "duplicate of line 2"  # the alias and Channel Manager's label are the same reason
    assert [(j.order, j.reason_code, j.items, j.lines) for j in v.jobs] == [
        ("000000127", "SELLER_CANCEL_OUT_OF_STOCK", None, [2]),
        ("000000118", "SELLER_CANCEL_PRICING_ERROR", {"WM-SOCK-006": 1, "WM-BAG-008": None}, [3, 4]),
    ]


@pytest.mark.parametrize("line", [
    '{"order": 127, "carrier": "UPS", "tracking": "1ZW1X2Y30390010006"}',
    '{"order": "000000127", "carrier": "UPS", "tracking": 1234567890}',
])
def test_json_lines_refuse_a_number_where_text_is_expected(line: str) -> None:
    v = ship(line + "\n", name="f.jsonl")
    assert v.jobs == []
    assert "expected a string" in bad(v)[1]


def test_json_lines_refuse_a_duplicated_key() -> None:
    line = '{"order": "000000101", "carrier": "UPS", "tracking": "1ZW1X2Y30390010006", "order": "000000127"}'
    v = ship(line + "\n", name="f.jsonl")
    assert v.jobs == []
    assert "order" in bad(v)[1]
    assert "twice" in bad(v)[1]


def test_json_lines_take_a_quantity_as_a_number() -> None:
    line = '{"order": "000000103", "carrier": "UPS", "tracking": "1ZW1X2Y30390010006", "sku": "WM-CABLE-003", "qty": 1}'
    v = ship(line + "\n", name="f.jsonl")
    assert bad(v) == {}


@pytest.mark.parametrize("column", ["carrier", "tracking", "method"])
@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
def test_spreadsheet_formulas_are_refused_in_carrier_method_and_tracking(column: str, prefix: str) -> None:
    row = {"order": "000000101", "carrier": "UPS", "tracking": "1ZW1X2Y30390010006", "method": "Standard"}
    row[column] = prefix + "SUM(A1:A2)"
    cols = ("order", "carrier", "tracking", "method")
    v = ship(",".join(cols) + "\n" + ",".join(row[c] for c in cols) + "\n")
    assert v.jobs == []
    assert "formula" in bad(v)[2]
