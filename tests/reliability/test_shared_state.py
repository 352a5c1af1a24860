"""Two machines, one store: a cron host and a laptop (separate data directories) racing ships, partial cancels
and syncs of the same orders against one ``wmsync sandbox serve`` with latency.

With the store's ``state`` in a shared MariaDB every machine sees the same leases and journal: each package is
shipped once and each cancellation made once on each side, counted from the sandbox's own state. Without shared
state each machine only re-reads both sides before it writes: what still slips through is counted, and
``status`` names it (several Commerce shipments for one tracking number) instead of suggesting a repair that
loops."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reliability.served import STORE, Served, prepare, ups_tracking

# packages of one unit each, on orders with more units than one package: a second Commerce shipment with the
# same tracking number is possible there (Magento allows it while units are left)
PACKAGES = [("000000104", "WM-BOTTLE-005"), ("000000118", "WM-SOCK-006")]
CANCEL = ("000000123", "WM-BOTTLE-005")  # qty 2 on one line: a partial cancel of 1
RUNS_PER_MACHINE = 3


def _machine(served: Served, root: Path, name: str, config: Path, password: str | None) -> dict[str, str]:
    extra = {
        "WMSYNC_DATA_DIR": str(root / name / "data"),
        "WMSYNC_CACHE_DIR": str(root / name / "cache"),
        "WMSYNC_CONFIG": str(config),
    }
    if password is not None:
        extra[f"WMSYNC_{STORE.upper()}_STATE_PASSWORD"] = password
    return served.env(**extra)


def _race(served: Served, machines: list[dict[str, str]]) -> list[tuple[list[str], int, str]]:
    procs: list[tuple[list[str], subprocess.Popen[str]]] = []
    for i in range(RUNS_PER_MACHINE):
        for env in machines:
            for n, (order, sku) in enumerate(PACKAGES):
                args = ["ship", order, "--carrier", "UPS", "--tracking", ups_tracking(7000 + n), "--item", f"{sku}=1",
                        "--json"]
                procs.append((args, served.popen(*args, env=env)))
            if i < 2:
                args = ["cancel", CANCEL[0], "--reason", "out-of-stock", "--item", f"{CANCEL[1]}=1", "--yes",
                        "--json"]
                procs.append((args, served.popen(*args, env=env)))
            if i == 0:
                procs.append((["sync", "--json"], served.popen("sync", "--json", env=env)))
    out = []
    for args, proc in procs:
        _stdout, stderr = proc.communicate(timeout=600)
        out.append((args, proc.returncode, stderr))
    return out


def _counts(served: Served) -> tuple[dict[str, int], dict[str, int], int]:
    with served.sandbox() as sb:
        commerce = {t: len(v) for t, v in sb.commerce_shipments_by_tracking().items()}
        walmart = {t: sum(s["qty"] for s in v) for t, v in sb.walmart_shipments_by_tracking().items()}
        po = str(sb.commerce_order(CANCEL[0])["ext_order_id"])  # type: ignore[index]
        cancelled = sum(c["qty"] for c in sb.cancellations(po) if c["source"] == "api")
    return commerce, walmart, cancelled


def _start(tmp_path: Path) -> Served:
    served = prepare(tmp_path, orders=10, seed=11)
    served.start(fault_rate=0.0, seed=11, latency_ms=150)
    return served


def test_two_machines_with_shared_state_ship_and_cancel_once(tmp_path: Path, state_db: Any) -> None:
    url, password = state_db
    served = _start(tmp_path)
    try:
        base = (served.home / "config" / "config.toml").read_text()
        config = tmp_path / "shared.toml"
        config.write_text(base.replace(f"[stores.{STORE}.rate_limits]",
                                       f'state = "{url}"\n[stores.{STORE}.rate_limits]'))
        machines = [_machine(served, tmp_path, m, config, password) for m in ("cron", "laptop")]
        runs = _race(served, machines)
        check = served.wmsync("stores", "check", "--json", env=machines[0])
    finally:
        served.stop()
    for args, code, stderr in runs:
        assert "Traceback" not in stderr, (args, stderr)
        # a partial cancel given again after the first finished is refused with --again (never done twice)
        again = args[0] == "cancel" and code == 2 and "--again" in stderr
        assert code in (0, 6, 7, 8) or again, (args, code, stderr[-2000:])
    commerce, walmart, cancelled = _counts(served)
    for n in range(len(PACKAGES)):
        tracking = ups_tracking(7000 + n)
        assert commerce.get(tracking) == 1, (tracking, commerce.get(tracking))
        assert walmart.get(tracking) == 1, (tracking, walmart.get(tracking))
    assert cancelled == 1, cancelled
    doc = json.loads(check.stdout)
    assert doc[0]["state"]["reachable"] is True, doc
    assert doc[0]["state"]["locks"] is True, doc
    print(f"\nshared state: {len(runs)} runs on 2 machines -> Commerce shipments per package "
          f"{[commerce.get(ups_tracking(7000 + n)) for n in range(len(PACKAGES))]}, Walmart units per package "
          f"{[walmart.get(ups_tracking(7000 + n)) for n in range(len(PACKAGES))]}, units cancelled {cancelled}")


def test_two_machines_without_shared_state_are_reported_honestly(tmp_path: Path) -> None:
    served = _start(tmp_path)
    try:
        config = served.home / "config" / "config.toml"
        machines = [_machine(served, tmp_path, m, config, None) for m in ("cron", "laptop")]
        runs = _race(served, machines)
        commerce, walmart, cancelled = _counts(served)
        statuses = {order: served.wmsync("status", order, "--json", env=machines[0])
                    for order in [o for o, _ in PACKAGES] + [CANCEL[0]]}
    finally:
        served.stop()
    for args, _code, stderr in runs:
        assert "Traceback" not in stderr, (args, stderr)
    extra = Counter[str]()
    for n, (order, _sku) in enumerate(PACKAGES):
        tracking = ups_tracking(7000 + n)
        assert walmart.get(tracking) == 1, (tracking, walmart)  # Walmart refuses a second post of the same units
        copies = commerce.get(tracking, 0)
        assert copies >= 1
        extra[order] = copies - 1
        doc = json.loads(statuses[order].stdout)
        kinds = [d["kind"] for d in doc["differences"]]
        if copies > 1:  # it slipped through: status names it, and suggests no `wmsync ship` that would loop
            assert "duplicate_commerce_shipments" in kinds, doc["differences"]
            assert not any((d["command"] or "").startswith("wmsync ship") for d in doc["differences"]), doc
    # partial cancels from two journals at the same moment: both read the order before either recorded its
    # intent, so the cancellation can be made twice; status then names it (no repair that would loop)
    assert 1 <= cancelled <= 2 * 2, cancelled
    doc = json.loads(statuses[CANCEL[0]].stdout)
    if cancelled > 1:
        repeated = [d for d in doc["differences"] if d["kind"] == "repeated_partial_cancel"]
        assert repeated, doc["differences"]
        assert repeated[0]["command"] is None
    print(f"\nno shared state: {len(runs)} runs on 2 machines -> extra Commerce shipments {dict(extra)}, units "
          f"cancelled {cancelled}")


@pytest.fixture(autouse=True)
def _fast_leases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMSYNC_LEASE", "30")
