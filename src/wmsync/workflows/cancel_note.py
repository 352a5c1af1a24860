"""The comment wmsync writes on a Commerce order when it cancels on Walmart, and how it is read back.

Commerce's REST API cannot record a partial cancellation, so wmsync keeps it where every machine sees it: a
comment on the order. The prose is for the admin; after it comes a short machine part that this module alone
writes and reads::

    Walmart PO 1796277083022: cancelled 1 × SKU-A with reason SELLER_CANCEL_OUT_OF_STOCK.
    [wmsync cancel:1796277083022:3f0c…] {cancelled: SKU-A=1} {cancelled before: SKU-A=0}

* the marker ``[wmsync cancel:PO:KEY]`` names the operation (``KEY`` is ``all`` for a whole-order cancel);
* ``{cancelled: …}`` the units this cancellation asked for, per SKU (absent for a whole-order cancel);
* ``{cancelled before: …}`` Walmart's cancelled units per SKU before it, so a re-run from any machine knows
  how much was its own.

SKUs in the tags are percent-encoded, so ``,``, ``=`` or ``}`` in a SKU cannot change what is read back.
Comments written before the ``{cancelled: …}`` tag existed carry the quantities only in the prose; they are
still read (:func:`parse`), and nothing outside this module looks at the prose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

WHOLE = "all"

_MARKER_RE = re.compile(r"\[wmsync cancel:([^:\]]+):([^\]]+)\]")
_CANCELLED_RE = re.compile(r"\{cancelled: ([^}]*)\}")
_BEFORE_RE = re.compile(r"\{cancelled before: ([^}]*)\}")
_REASON_RE = re.compile(r"\b(CUSTOMER_REQUESTED_SELLER_TO_CANCEL|SELLER_CANCEL_[A-Z_]+)\b")
# the prose of comments written before the {cancelled: …} tag: "cancelled 1 × A, 2 × B with reason …"
_LEGACY_QTY_RE = re.compile(r"(\d+) × (\S+?)(?=,| with reason|$)")


@dataclass(frozen=True)
class CancelNote:
    """One cancellation as recorded on the Commerce order."""

    po: str
    key: str  # WHOLE, or the operation's key
    reason: str | None = None
    quantities: Mapping[str, int] = field(default_factory=dict)  # units asked per SKU; empty when whole
    baseline: Mapping[str, int] | None = None  # Walmart's cancelled units per SKU before it

    @property
    def whole(self) -> bool:
        return self.key == WHOLE

    @property
    def marker(self) -> str:
        return marker(self.po, self.key)


def marker(po: str, key: str) -> str:
    return f"[wmsync cancel:{po}:{key}]"


def intent_marker(po: str, key: str) -> str:
    """The marker of the comment written *before* a partial cancel is sent to Walmart: it carries the quantities
    cancelled before, so a re-run from any machine after a crash between the two writes cancels nothing twice.
    (``cancelling:`` is not ``cancel:``: the finished comment's marker never matches it.)"""
    return f"[wmsync cancelling:{po}:{key}]"


def format_intent(note: CancelNote) -> str:
    """The comment recorded before the Walmart cancel of a partial cancellation."""
    what = ", ".join(f"{q} × {s}" for s, q in sorted(note.quantities.items()))
    prose = f"Walmart PO {note.po}: cancelling {what}" + (f" with reason {note.reason}" if note.reason else "") + "."
    tags = [intent_marker(note.po, note.key), "{cancelled: " + _encode(note.quantities) + "}"]
    if note.baseline is not None:
        tags.append("{cancelled before: " + _encode(note.baseline) + "}")
    return prose + " " + " ".join(tags)


def _encode(values: Mapping[str, int]) -> str:
    return ", ".join(f"{quote(sku, safe='')}={qty}" for sku, qty in sorted(values.items()))


def _decode(text: str) -> dict[str, int] | None:
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        sku, _, qty = part.rpartition("=")
        if not sku or not qty.isdigit():
            return None  # not what wmsync wrote: trust nothing of it
        out[unquote(sku)] = int(qty)
    return out


def format_comment(note: CancelNote) -> str:
    """The comment text: a sentence for the admin, then the marker and the tags."""
    what = "all open lines" if note.whole else ", ".join(f"{q} × {s}" for s, q in sorted(note.quantities.items()))
    prose = f"Walmart PO {note.po}: cancelled {what}" + (f" with reason {note.reason}" if note.reason else "") + "."
    tags = [note.marker]
    if not note.whole:
        tags.append("{cancelled: " + _encode(note.quantities) + "}")
    if note.baseline is not None:
        tags.append("{cancelled before: " + _encode(note.baseline) + "}")
    return prose + " " + " ".join(tags)


def parse(text: str) -> list[CancelNote]:
    """Every wmsync cancellation recorded in one comment (normally one)."""
    out = []
    for m in _MARKER_RE.finditer(text):
        po, key = m.group(1), m.group(2)
        reason_m = _REASON_RE.search(text)
        before_m = _BEFORE_RE.search(text, m.end())
        baseline = _decode(before_m.group(1)) if before_m else None
        quantities: dict[str, int] = {}
        if key != WHOLE:
            tag = _CANCELLED_RE.search(text, m.end())
            if tag is not None:
                quantities = _decode(tag.group(1)) or {}
            else:  # written before the tag existed: the quantities are only in the sentence
                head = text[: m.start()].split(" with reason", 1)[0]
                head = head.split("cancelled ", 1)[1] if "cancelled " in head else head
                for n, sku in _LEGACY_QTY_RE.findall(head.rstrip(". ")):
                    quantities[sku] = quantities.get(sku, 0) + int(n)
        out.append(CancelNote(po, key, reason_m.group(1) if reason_m else None, quantities, baseline))
    return out


def notes_for(comments: Iterable[str], po: str) -> list[tuple[CancelNote, str]]:
    """The cancellations of this PO recorded in the comments, each with the comment it came from."""
    return [(note, text) for text in comments for note in parse(text) if note.po == po]


def baseline_of(comments: Iterable[str], note_marker: str) -> dict[str, int] | None:
    """The ``{cancelled before: …}`` of the first comment carrying this marker, if it can be read."""
    for text in comments:
        if note_marker not in text:
            continue
        found = _BEFORE_RE.search(text, text.index(note_marker))
        if found is not None:
            return _decode(found.group(1))  # None when it is not what wmsync wrote: trust nothing of it
    return None


def has_marker(comments: Iterable[str], note_marker: str) -> bool:
    return any(note_marker in text for text in comments)


def latest_reason(comments: Iterable[tuple[str, str]]) -> str | None:
    """The newest Walmart cancellation reason code in ``(created_at, text)`` comments: wmsync and Channel
    Manager both write the code itself, which is what is looked for (no wording)."""
    found = [(when, m.group(1)) for when, text in comments if (m := _REASON_RE.search(text))]
    return sorted(found)[-1][1] if found else None
