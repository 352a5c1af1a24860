"""Two runs that do not share a data directory (a cron job and a laptop) shipping the same package.

Without shared state wmsync cannot exclude the race, so it narrows it — Commerce is read again just before the
Commerce shipment is created — and ``status`` names what is left when it happens anyway: several Commerce
shipments for one tracking number, with a repair that does not send the operator back to ``wmsync ship``
(which answers "already done")."""

from __future__ import annotations

from typing import Any

import pytest

from wmsync.sandbox import Sandbox

UPS = "1Z999AA10123456800"
ORDER, ENTITY, SKU = "000000104", 4, "WM-BOTTLE-005"  # one Commerce item, qty 3 = Walmart lines 1-3 of qty 1


def _other_machine_ships(sb: Sandbox, qty: int = 1, entity: int = ENTITY) -> None:
    """Another wmsync (own data directory) creates the Commerce shipment with the same tracking number."""
    order = sb.commerce_order(entity)
    assert order is not None
    item_id = order["items"][0]["item_id"]
    with sb.client() as client:
        r = client.post(
            f"/rest/default/V1/order/{entity}/ship",
            json={
                "items": [{"order_item_id": item_id, "qty": qty}],
                "tracks": [{"track_number": UPS, "title": "UPS", "carrier_code": "ups"}],
            },
            headers={"Authorization": "Bearer " + _commerce_token()},
        )
    assert r.status_code == 200, r.text


def _commerce_token() -> str:
    from wmsync.sandbox import CREDENTIALS

    return CREDENTIALS["COMMERCE_TOKEN"]


def test_commerce_shipments_are_read_after_the_order_and_before_the_shipment_is_created(
    cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipments are read with the Walmart order, once the order's lease is held (one round trip for both):
    another machine's shipment made after this run found the order is seen, and not made twice."""
    import wmsync.workflows.session as session

    real = session.find_commerce_order

    def find_then_race(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        _other_machine_ships(sandbox)  # after this run read the Commerce order, before it writes
        return out

    monkeypatch.setattr(session, "find_commerce_order", find_then_race)
    r = cli("ship", ORDER, "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--item", f"{SKU}=1",
            "--json")
    assert r.exit_code == 0, r
    assert len(sandbox.commerce_shipments_by_tracking().get(UPS, [])) == 1, "a second Commerce shipment"
    assert len(sandbox.walmart_shipments_by_tracking().get(UPS, [])) == 1


def test_commerce_is_read_again_when_a_write_came_between_the_read_and_the_shipment(
    cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An order with Created lines is acknowledged first: a round trip after the shipments were read, so they
    are read again just before the Commerce shipment is created."""
    import wmsync.workflows.ship as ship

    real = ship.acknowledge
    created_order, created_entity = "000000102", 2  # one line, Created

    def acknowledge_then_race(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        _other_machine_ships(sandbox, entity=created_entity)  # after the acknowledge, before the Commerce write
        return out

    monkeypatch.setattr(ship, "acknowledge", acknowledge_then_race)
    r = cli("ship", created_order, "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--json")
    assert r.exit_code == 0, r
    assert "acknowledge" in r.json()["sent"]  # type: ignore[index]
    assert len(sandbox.commerce_shipments_by_tracking().get(UPS, [])) == 1, "a second Commerce shipment"
    assert len(sandbox.walmart_shipments_by_tracking().get(UPS, [])) == 1


def test_status_names_several_commerce_shipments_for_one_tracking_number(cli: Any, sandbox: Sandbox) -> None:
    r = cli("ship", ORDER, "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--item", f"{SKU}=1")
    assert r.exit_code == 0, r
    _other_machine_ships(sandbox)  # the race happened: two Commerce shipments, Walmart shows the number once
    ids = sorted(s["shipment_id"] for s in sandbox.commerce_shipments_by_tracking()[UPS])
    assert len(ids) == 2

    r = cli("status", ORDER, "--store", "sandbox", "--json")
    doc = r.json()
    assert isinstance(doc, dict)
    assert doc["verdict"] == "diverged", doc
    diffs = [d for d in doc["differences"] if d["kind"] == "duplicate_commerce_shipments"]
    assert len(diffs) == 1, doc["differences"]
    d = diffs[0]
    assert UPS in d["what"], d
    assert all(f"#{i}" in d["what"] for i in ids), d
    # no repair that loops: `wmsync ship` would answer "already done"
    assert d["command"] is None
    assert "wmsync ship" not in d["repair"]
    assert not any(x["command"] and x["command"].startswith("wmsync ship") for x in doc["differences"]), doc
    # the text form says it too
    r = cli("status", ORDER, "--store", "sandbox")
    assert "several Commerce shipments" in r.stdout, r.stdout
