"""Output through a pipe (stdout not a terminal): tab-separated text, nothing cut (issue 14 item 11)."""

from __future__ import annotations

from typing import Any


def test_item11_orders_list_through_a_pipe_is_tab_separated_and_never_truncated(cli: Any) -> None:
    as_json = cli("orders", "list", "--store", "sandbox", "--json")
    assert as_json.exit_code == 0, as_json
    rows = as_json.json()
    assert isinstance(rows, list)
    long_states = {r["order"]: r["commerce_state"] for r in rows if len(str(r["commerce_state"] or "")) > 11}
    assert long_states, "the sandbox seeds an order whose Commerce state is longer than the terminal column"

    r = cli("orders", "list", "--store", "sandbox")
    assert r.exit_code == 0, r
    assert "…" not in r.stdout
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    header = lines[0].split("\t")
    assert header[:2] == ["ORDER", "WALMART PO"]
    by_order = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    for order, state in long_states.items():
        cells = by_order[order]
        assert len(cells) == len(header), cells
        assert cells[header.index("COMMERCE")] == state
