"""A ship makes the four round trips a hand-written script would: find the Commerce order; read the Walmart
order and the Commerce shipments at once; create the Commerce shipment; post the Walmart shipment."""

from __future__ import annotations

from typing import Any

from wmsync.sandbox import Sandbox

LATENCY_MS = 400  # every sandbox answer waits this long: two reads one after the other are >= 0.4 s apart


def test_the_walmart_order_and_the_commerce_shipments_are_read_in_one_round_trip(cli: Any, sandbox: Sandbox) -> None:
    r = cli("stores", "check", "sandbox")  # token and inventory sources cached, as on a host that ran before
    assert r.exit_code == 0, r
    sandbox.update_settings(latency_ms=LATENCY_MS)
    first = len(sandbox.request_log())
    r = cli("ship", "000000101", "--carrier", "FedEx", "--tracking", "449044304137821", "--store", "sandbox",
            "--json")
    assert r.exit_code == 0, r
    log = sandbox.request_log()[first:]
    calls = [f"{e.method} {e.path.split('?')[0]}" for e in log]
    assert len(calls) == 5, calls
    assert calls[0] == "GET /rest/default/V1/orders"
    reads = {calls[1], calls[2]}
    assert reads == {"GET /v3/orders/103690568988397", "GET /rest/default/V1/shipments"}, calls
    assert calls[3:] == ["POST /rest/default/V1/order/1/ship", "POST /v3/orders/103690568988397/shipping"]
    # the two reads were answered together, not one after the other
    assert abs(log[1].time - log[2].time) < LATENCY_MS / 1000, [(c, e.time) for c, e in zip(calls, log, strict=True)]
    # and nothing else was read before the Commerce shipment was created
    assert log[3].time - max(log[1].time, log[2].time) >= LATENCY_MS / 1000 * 0.9
