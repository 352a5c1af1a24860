"""A tracking number already shipped on both sides, given again without --item while other units are open:
wmsync names the open lines and refuses (exit 2) rather than answering "already done"."""

from __future__ import annotations

from typing import Any

import pytest

from wmsync.sandbox import Sandbox


@pytest.mark.parametrize(("order", "carrier", "tracking", "open_line"), [
    ("000000110", "USPS", "9400110200881234567896", "2 × WM-SOCK-006"),
    ("000000114", "FedEx", "449044304137821", "1 × WM-LAMP-004"),
])
def test_open_units_are_named_not_hidden(cli: Any, sandbox: Sandbox, order: str, carrier: str, tracking: str,
                                         open_line: str) -> None:
    r = cli("ship", order, "--store", "sandbox", "--carrier", carrier, "--tracking", tracking)
    assert r.exit_code == 2, r
    assert open_line in r.stderr
    assert [e.path for e in sandbox.request_log() if e.method == "POST" and not e.path.endswith("/token")] == []


def test_a_package_that_covers_everything_is_still_already_done(cli: Any, sandbox: Sandbox) -> None:
    r = cli("ship", "000000107", "--store", "sandbox", "--carrier", "UPS", "--tracking", "1Z999AA10123456784")
    assert r.exit_code == 0, r
