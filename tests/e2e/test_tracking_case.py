"""One package is one tracking number, however it is typed: upper or lower case, with or without spaces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"



def _ship_posts(sb: Sandbox) -> list[str]:
    return [e.path for e in sb.request_log() if e.method == "POST" and e.path.endswith(("/ship", "/shipping"))]


@pytest.mark.parametrize("again", [UPS.lower(), "1ZW1 X2Y3 0390 0100 06", " 1zw1x2y30390010006 "])
def test_the_same_number_typed_otherwise_is_the_same_package(cli: Any, sandbox: Sandbox, again: str) -> None:
    r = cli("ship", "000000103", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS,
            "--item", "WM-CABLE-003")
    assert r.exit_code == 0, r
    assert len(_ship_posts(sandbox)) == 2
    # without --item: "the package with this tracking number" — which exists, typed otherwise
    r = cli("ship", "000000103", "--store", "sandbox", "--json", "--carrier", "UPS", "--tracking", again)
    assert len(_ship_posts(sandbox)) == 2, "the package was shipped a second time"
    assert r.exit_code in (0, 2), r  # already done, or refused — never a second package
    assert len(sandbox.commerce_shipments_by_tracking().get(UPS, [])) == 1
    assert not any(k != UPS and k.replace(" ", "").upper() == UPS
                   for k in sandbox.commerce_shipments_by_tracking())


def test_a_file_row_typed_otherwise_is_skipped_as_done(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS)
    assert r.exit_code == 0, r
    rows = tmp_path / "rows.csv"
    rows.write_text(f"order,carrier,tracking\n000000101,UPS,{UPS.lower()}\n")
    posts = len(_ship_posts(sandbox))
    r = cli("ship", "--from-file", str(rows), "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    assert len(_ship_posts(sandbox)) == posts
