"""Several sandbox instances (as several wmsync processes would) share one database safely."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from sandbox.helpers import FakeClock, get_token, po_of, ship_body, wm_base_headers
from wmsync.sandbox import BASE_URL, CREDENTIALS, Sandbox


def test_parallel_writers_on_one_database(db_path: Path, clock: FakeClock) -> None:
    Sandbox(db_path, clock=clock).close()  # seed once
    errors: list[BaseException] = []
    results: dict[str, int] = {}
    increments = [f"000000{n}" for n in (101, 103, 119, 123, 124, 125, 127, 128, 129, 130)]

    def worker(batch: list[str]) -> None:
        sb = Sandbox(db_path, clock=clock)
        try:
            with httpx.Client(transport=sb.transport(), base_url=BASE_URL) as c:
                wm = {**wm_base_headers(), "WM_SEC.ACCESS_TOKEN": get_token(c)}
                mg = {"Authorization": f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"}
                for inc in batch:
                    po = po_of(sb, inc)
                    order = c.get(f"/v3/orders/{po}", headers=wm).json()["order"]
                    method = order["shippingInfo"]["methodCode"]
                    r = c.post(
                        f"/v3/orders/{po}/shipping", json=ship_body(tracking=f"PAR-{inc}", method=method), headers=wm
                    )
                    results[inc] = r.status_code
                    entity = int(inc) - 100
                    c.post(
                        f"/rest/V1/order/{entity}/ship",
                        json={"tracks": [{"track_number": f"PAR-{inc}", "title": "UPS", "carrier_code": "ups"}]},
                        headers=mg,
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            sb.close()

    threads = [threading.Thread(target=worker, args=(increments[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert results == dict.fromkeys(increments, 200)
    check = Sandbox(db_path, clock=clock)
    try:
        walmart = check.walmart_shipments_by_tracking()
        commerce = check.commerce_shipments_by_tracking()
        for inc in increments:
            assert len(walmart[f"PAR-{inc}"]) >= 1
            assert len(commerce[f"PAR-{inc}"]) == 1
        assert check.write_counts()["walmart.ship"] == len(increments)
    finally:
        check.close()
