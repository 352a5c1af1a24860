"""The orders spec's global security is ``basicScheme``: order calls carry ``Authorization: Basic`` (client id and
secret, base64) beside the access token. The sandbox can require it (``orders_basic_auth``); wmsync sends it on
every order call and never shows it — not in -v, --trace-file, errors or the journal."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from wmsync.sandbox import CREDENTIALS, Sandbox

UPS = "1ZW1X2Y30390010006"


def test_order_calls_carry_basic_auth_and_it_is_never_shown(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.update_settings(orders_basic_auth=True)
    trace = tmp_path / "trace.jsonl"
    r = cli("ship", "000000102", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "-v",
            "--trace-file", str(trace))
    assert r.exit_code == 0, r
    r2 = cli("status", "000000102", "--store", "sandbox", "--json", "-v")
    assert r2.exit_code == 0, r2
    r3 = cli("orders", "list", "--store", "sandbox", "--json")
    assert r3.exit_code == 0, r3
    basic = base64.b64encode(
        f"{CREDENTIALS['WALMART_CLIENT_ID']}:{CREDENTIALS['WALMART_CLIENT_SECRET']}".encode()
    ).decode()
    shown = r.stdout + r.stderr + r2.stdout + r2.stderr + r3.stderr + trace.read_text()
    assert basic not in shown
    assert CREDENTIALS["WALMART_CLIENT_SECRET"] not in shown


def test_a_wrong_basic_header_on_an_order_call_is_refused(sandbox: Sandbox) -> None:
    from tests.sandbox.helpers import get_token, wm_base_headers

    with sandbox.client() as client:
        token = get_token(client)
        headers = {**wm_base_headers(), "WM_SEC.ACCESS_TOKEN": token}
        po = str(sandbox.commerce_order("000000101")["ext_order_id"])  # type: ignore[index]
        assert client.get(f"/v3/orders/{po}", headers=headers).status_code == 200  # not required by default
        bad = {**headers, "Authorization": "Basic " + base64.b64encode(b"someone:else").decode()}
        assert client.get(f"/v3/orders/{po}", headers=bad).status_code == 401
        sandbox.update_settings(orders_basic_auth=True)
        assert client.get(f"/v3/orders/{po}", headers=headers).status_code == 401
