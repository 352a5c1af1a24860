"""The cancel comment codec: what wmsync writes on the Commerce order reads back exactly, and older comments
still read."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wmsync.workflows import cancel_note
from wmsync.workflows.cancel_note import CancelNote

# SKUs as sellers write them, including the characters the tags use (',', '=', '}', '%', spaces)
skus = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(lambda s: s.strip())
quantities = st.dictionaries(skus, st.integers(min_value=0, max_value=10_000), max_size=5)


@given(
    po=st.from_regex(r"[0-9]{10,15}", fullmatch=True),
    key=st.from_regex(r"[0-9a-f]{16}", fullmatch=True),
    asked=quantities.filter(bool),
    before=quantities,
    reason=st.sampled_from(["SELLER_CANCEL_OUT_OF_STOCK", "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"]),
)
def test_a_partial_cancel_reads_back_exactly(po: str, key: str, asked: dict[str, int], before: dict[str, int],
                                             reason: str) -> None:
    note = CancelNote(po, key, reason, asked, before)
    text = cancel_note.format_comment(note)
    assert cancel_note.parse(text) == [note]
    assert cancel_note.baseline_of([text], note.marker) == before
    assert cancel_note.has_marker([text], note.marker)


def test_a_whole_cancel_reads_back() -> None:
    note = CancelNote("1796277083022", cancel_note.WHOLE, "SELLER_CANCEL_FRAUD_STOP_SHIPMENT", {}, {"A": 0})
    text = cancel_note.format_comment(note)
    assert text.startswith("Walmart PO 1796277083022: cancelled all open lines with reason ")
    (back,) = cancel_note.parse(text)
    assert back == note
    assert back.whole


def test_the_machine_part_comes_after_the_sentence() -> None:
    text = cancel_note.format_comment(CancelNote("1", "abc", "SELLER_CANCEL_OUT_OF_STOCK", {"A": 2}, {"A": 0}))
    sentence, _, machine = text.partition(" [wmsync ")
    assert sentence == "Walmart PO 1: cancelled 2 × A with reason SELLER_CANCEL_OUT_OF_STOCK."
    assert machine.startswith("cancel:1:abc]")


def test_comments_written_before_the_quantity_tag_still_read() -> None:
    # the format of earlier releases: quantities only in the sentence
    old = (
        "Walmart PO 1796277083022: cancelled 1 × WM-BOTTLE-005, 2 × WM-MUG-002 with reason "
        "SELLER_CANCEL_OUT_OF_STOCK. [wmsync cancel:1796277083022:0123456789abcdef] "
        "{cancelled before: WM-BOTTLE-005=0, WM-MUG-002=1}"
    )
    (note,) = cancel_note.parse(old)
    assert note.quantities == {"WM-BOTTLE-005": 1, "WM-MUG-002": 2}
    assert note.baseline == {"WM-BOTTLE-005": 0, "WM-MUG-002": 1}
    assert note.reason == "SELLER_CANCEL_OUT_OF_STOCK"


def test_a_tag_that_is_not_what_wmsync_wrote_is_not_trusted() -> None:
    text = "Walmart PO 1: cancelled 1 × A with reason R. [wmsync cancel:1:abc] {cancelled before: A=x}"
    assert cancel_note.baseline_of([text], "[wmsync cancel:1:abc]") is None


def test_notes_of_another_po_are_not_counted() -> None:
    mine = cancel_note.format_comment(CancelNote("1", "abc", None, {"A": 1}, {}))
    other = cancel_note.format_comment(CancelNote("2", "abc", None, {"A": 5}, {}))
    found = cancel_note.notes_for([mine, other, "an admin's note"], "1")
    assert [(n.po, dict(n.quantities)) for n, _ in found] == [("1", {"A": 1})]


def test_latest_reason_is_the_newest_code_in_any_comment() -> None:
    comments = [("2026-01-02 10:00:00", "Channel Manager: SELLER_CANCEL_PRICING_ERROR"),
                ("2026-01-03 10:00:00", "cancelled, CUSTOMER_REQUESTED_SELLER_TO_CANCEL"),
                ("2026-01-01 10:00:00", "SELLER_CANCEL_OUT_OF_STOCK")]
    assert cancel_note.latest_reason(comments) == "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"
    assert cancel_note.latest_reason([("x", "no code here")]) is None
