"""ship and cancel share one write protocol: the same lease time-to-live on taking and renewing the order's
lease, and one journal record for "already done"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wmsync.journal import ALREADY_DONE, Journal, default_journal_path
from wmsync.sandbox import Sandbox


@pytest.fixture
def lease_ttls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float]]:
    """Every time-to-live a run asks the journal for (the real journal does the work)."""
    seen: list[tuple[str, float]] = []
    acquire, renew = Journal.acquire, Journal.renew

    def spy_acquire(self: Journal, store: str, resource: str, **kw: Any) -> bool:
        seen.append(("acquire", kw["ttl"]))
        return acquire(self, store, resource, **kw)

    def spy_renew(self: Journal, store: str, resource: str, *, ttl: float) -> None:
        seen.append(("renew", ttl))
        renew(self, store, resource, ttl=ttl)

    monkeypatch.setattr(Journal, "acquire", spy_acquire)
    monkeypatch.setattr(Journal, "renew", spy_renew)
    return seen


@pytest.mark.parametrize("command", [
    ("cancel", "000000127", "--reason", "out-of-stock", "--yes"),
    ("ship", "000000101", "--carrier", "UPS", "--tracking", "1ZW1X2Y30390010006"),
])
def test_the_order_lease_has_one_time_to_live(cli: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
                                              lease_ttls: list[tuple[str, float]], command: tuple[str, ...]) -> None:
    monkeypatch.setenv("WMSYNC_LEASE", "100")
    monkeypatch.setenv("WMSYNC_CONFIRM", "20")
    monkeypatch.setenv("WMSYNC_UNKNOWN_GRACE", "7")
    r = cli(*command, "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    kinds = {kind for kind, _ttl in lease_ttls}
    assert kinds == {"acquire", "renew"}, lease_ttls
    assert {ttl for _kind, ttl in lease_ttls} == {100 + 20 + 7}, lease_ttls


def test_plain_cancel_records_already_done_as_a_file_run_does(cli: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    r = cli("cancel", "000000127", "--store", "sandbox", "--json", "--reason", "out-of-stock", "--yes")
    assert r.exit_code == 0, r
    key = f"cancel:{r.json()['purchase_order_id']}:all"
    for suffix in ("", "-wal", "-shm"):  # another machine: this journal knows nothing of it
        Path(str(default_journal_path()) + suffix).unlink(missing_ok=True)
    again = cli("cancel", "000000127", "--store", "sandbox", "--json", "--reason", "out-of-stock", "--yes")
    assert again.exit_code == 0, again
    assert again.json()["result"] == "already_done"
    journal = Journal(default_journal_path())
    try:
        assert [op.state for op in journal.by_key("sandbox", key)] == [ALREADY_DONE]
    finally:
        journal.close()
    # so a file run of the same cancellation skips it without a request, as after a file run
    path = tmp_path / "c.csv"
    path.write_text("order,reason\n000000127,out-of-stock\n")
    sandbox.clear_request_log()
    f = cli("cancel", "--from-file", str(path), "--store", "sandbox", "--json", "--yes")
    assert f.exit_code == 0, f
    assert sandbox.request_log() == []
