"""A file run reads Commerce in bulk: many order numbers per search (as ``sync`` does), not one search per row,
so a package costs about three requests plus its share of the re-read just before the Commerce write (one search
for the workers about to write together)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.batch.conftest import write

from wmsync.sandbox import Sandbox

# plain seeded orders, one Acknowledged line each; 000000110 has a shipment already (its shipments are read too)
PLAIN = ["000000101", "000000119", "000000124", "000000125", "000000126", "000000127", "000000128", "000000129",
         "000000130", "000000123"]


def _by_path(sb: Sandbox) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in sb.request_log():
        key = f"{e.method} {e.path.split('?')[0]}"
        out[key] = out.get(key, 0) + 1
    return out


def test_a_file_run_searches_commerce_once_for_many_orders(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    rows = ["order,carrier,tracking"] + [f"{o},FedEx,{449044304137900 + i}" for i, o in enumerate(PLAIN)]
    rows.append("000000110,FedEx,449044304137990")  # its open line (qty 2), beside the one already shipped
    f = write(tmp_path, "rows.csv", "\n".join(rows) + "\n")
    r = cli("ship", "--from-file", str(f), "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    counts = _by_path(sandbox)
    searches = counts.get("GET /rest/default/V1/orders", 0)
    assert searches <= 2, counts  # was one per row (11)
    assert counts.get("GET /rest/default/V1/shipments", 0) <= 2 + len(rows) - 1, counts
    # every package once on each side
    shipped = sandbox.commerce_shipments_by_tracking()
    for i in range(len(PLAIN)):
        assert len(shipped[str(449044304137900 + i)]) == 1
    assert len(shipped["449044304137990"]) == 1
    total = sum(counts.values())
    packages = len(rows) - 1
    assert total / packages <= 4.5, counts


def test_a_row_given_by_purchase_order_id_is_found_in_the_bulk_read(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    po = str(sandbox.commerce_order("000000127")["ext_order_id"])  # type: ignore[index]
    f = write(tmp_path, "rows.csv", f"order,carrier,tracking\n{po},FedEx,449044304137921\n"
                                    "000000128,FedEx,449044304137922\n")
    r = cli("ship", "--from-file", str(f), "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    assert _by_path(sandbox).get("GET /rest/default/V1/orders", 0) == 1
    assert len(sandbox.commerce_shipments_by_tracking()["449044304137921"]) == 1


def test_unknown_and_ambiguous_rows_still_fail_alone(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    f = write(tmp_path, "rows.csv", "order,carrier,tracking\n000000999,FedEx,449044304137931\n"
                                    "000000128,FedEx,449044304137932\n")
    r = cli("ship", "--from-file", str(f), "--store", "sandbox", "--json")
    assert r.exit_code != 0, r
    assert "000000999" in r.stdout
    assert len(sandbox.commerce_shipments_by_tracking()["449044304137932"]) == 1
    assert "449044304137931" not in sandbox.commerce_shipments_by_tracking()


def test_the_re_read_before_each_commerce_shipment_is_shared_by_the_workers(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    """With every answer 100 ms away, the workers about to create a Commerce shipment at the same moment re-read
    their orders' shipments in one search: a package costs about three requests (Walmart read, Commerce shipment,
    Walmart shipment), not four."""
    r = cli("stores", "check", "sandbox")  # token and inventory sources cached, as on a host that ran before
    assert r.exit_code == 0, r
    sandbox.update_settings(latency_ms=100)
    first = len(sandbox.request_log())
    rows = ["order,carrier,tracking"] + [f"{o},FedEx,{449044304137900 + i}" for i, o in enumerate(PLAIN)]
    f = write(tmp_path, "rows.csv", "\n".join(rows) + "\n")
    r = cli("ship", "--from-file", str(f), "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    counts: dict[str, int] = {}
    for e in sandbox.request_log()[first:]:
        key = f"{e.method} {e.path.split('?')[0]}"
        counts[key] = counts.get(key, 0) + 1
    packages = len(PLAIN)
    shipped = sandbox.commerce_shipments_by_tracking()
    assert all(len(shipped[str(449044304137900 + i)]) == 1 for i in range(packages))
    re_reads = counts.get("GET /rest/default/V1/shipments", 0)
    assert re_reads <= packages // 2, counts  # one per package before
    assert sum(counts.values()) / packages <= 3.6, counts
