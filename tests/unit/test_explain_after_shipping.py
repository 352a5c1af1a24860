"""`explain` knows the errors of the newer commands: tracking corrections, refunds, credit memos, inventory
sources and bundles (the messages as the services word them)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("The quantity to creditmemo must not be greater than the unrefunded quantity.", "CREDITMEMO_REFUSED"),
        ("Source item not found by source code: default and sku: WM-MUG-001.", "SOURCE_ITEM_NOT_FOUND"),
        ("Not all of your products are available in the requested quantity.", "SOURCE_ITEM_NOT_FOUND"),
        ("Unable to update tracking details: the Line: 1 of PO: 1 is in ACKNOWLEDGED status",
         "TRACKING_UPDATE_REFUSED"),
        ("Refund amount exceeds the charge of line number 1", "REFUND_REFUSED"),
        ('Shipment Document Validation Error(s):\nCannot create shipment as bundle product "K" has shipment type '
         '"Separately".', "BUNDLE_SHIPMENT_TYPE"),
    ],
)
def test_explain_knows_the_newer_errors(cli: Any, message: str, code: str) -> None:
    r = cli("explain", message, "--json")
    assert r.exit_code == 0, r
    assert r.json()["code"] == code  # type: ignore[index]
