"""`ship --from-file` honours the flags a single ship takes: --via, --override-intent-to-cancel,
--skip-format-check and --ship-date apply to every row (a row's own ship_date wins)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"



def rows(tmp_path: Path, *lines: str, header: str = "order,carrier,tracking") -> str:
    path = tmp_path / "rows.csv"
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    return str(path)


def walmart_posts(sb: Sandbox) -> list[Any]:
    return [e for e in sb.request_log() if e.method == "POST" and e.path.endswith("/shipping") and e.applied]


def test_via_channel_manager_posts_nothing_to_walmart(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.update_settings(channel_manager=True, walmart_delay=0.3)
    r = cli("ship", "--from-file", rows(tmp_path, f"000000101,UPS,{UPS}"), "--store", "sandbox",
            "--via", "channel-manager", "--timeout", "20")
    assert r.exit_code == 0, r
    assert walmart_posts(sandbox) == []  # Channel Manager posted it; wmsync only waited
    assert len(sandbox.commerce_shipments_by_tracking().get(UPS, [])) == 1


def test_override_intent_to_cancel_applies_to_the_rows(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    path = rows(tmp_path, f"000000106,UPS,{UPS},WM-SOCK-006", header="order,carrier,tracking,sku")
    r = cli("ship", "--from-file", path, "--store", "sandbox")
    assert r.exit_code == 7, r  # the customer asked to cancel that line
    assert walmart_posts(sandbox) == []
    r = cli("ship", "--from-file", path, "--store", "sandbox", "--override-intent-to-cancel")
    assert r.exit_code == 0, r
    assert len(walmart_posts(sandbox)) == 1


def test_skip_format_check_applies_to_the_rows(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    odd = "1ZW1X2Y30390010007"  # a 1Z number whose check digit does not fit
    path = rows(tmp_path, f"000000101,UPS,{odd}")
    r = cli("ship", "--from-file", path, "--store", "sandbox")
    assert r.exit_code in (2, 7), r
    assert walmart_posts(sandbox) == []
    r = cli("ship", "--from-file", path, "--store", "sandbox", "--skip-format-check")
    assert r.exit_code == 0, r
    assert len(walmart_posts(sandbox)) == 1


def test_ship_date_applies_to_rows_without_their_own(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    when = datetime.now(UTC).replace(microsecond=0, second=0, minute=0)
    r = cli("ship", "--from-file", rows(tmp_path, f"000000101,UPS,{UPS}"), "--store", "sandbox",
            "--ship-date", when.isoformat())
    assert r.exit_code == 0, r
    (post,) = walmart_posts(sandbox)
    body = json.loads(post.request_body)
    line = body["orderShipment"]["orderLines"]["orderLine"][0]
    sent = line["orderLineStatuses"]["orderLineStatus"][0]["trackingInfo"]["shipDateTime"]
    assert sent == int(when.timestamp() * 1000)
