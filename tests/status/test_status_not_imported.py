"""A Walmart PO that Commerce has not imported yet: `status PO` shows the Walmart side and says so."""

from __future__ import annotations

from typing import Any

from wmsync.sandbox import Sandbox


def _po_only_on_walmart(sb: Sandbox) -> str:
    c = sb.db.connection()
    in_commerce = {r[0] for r in c.execute("SELECT ext_order_id FROM c_orders WHERE ext_order_id IS NOT NULL")}
    pos = [r[0] for r in c.execute("SELECT po FROM w_orders ORDER BY po") if r[0] not in in_commerce]
    assert pos, "the seed has a Walmart order that is not in Commerce"
    return str(pos[0])


def test_status_of_a_po_not_in_commerce_shows_the_walmart_side(cli: Any, sandbox: Sandbox) -> None:
    po = _po_only_on_walmart(sandbox)
    r = cli("status", po, "--store", "sandbox", "--json")
    assert r.exit_code == 6, r  # pending: Commerce has not imported it yet
    doc = r.json()
    assert doc["purchase_order_id"] == po
    assert doc["order"] is None
    assert doc["verdict"] == "pending"
    assert doc["lines"], "the Walmart lines are shown"
    assert any("not imported into Commerce yet" in n for n in doc["notes"])
    human = cli("status", po, "--store", "sandbox")
    assert "not imported into Commerce yet" in human.stdout + human.stderr


def test_an_unknown_number_is_still_refused(cli: Any, sandbox: Sandbox) -> None:
    r = cli("status", "999999999999999", "--store", "sandbox")
    assert r.exit_code == 2, r
