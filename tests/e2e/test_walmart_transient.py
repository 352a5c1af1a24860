"""Walmart answers 520 (gateway SYSTEM_ERROR) and 423 (RESOURCE_IS_LOCKED) as transient errors: a read retries
them; a write that got one may or may not have been applied, so it is an unknown outcome, settled by re-reading
the order — never reported as refused, and never sent twice."""

from __future__ import annotations

from typing import Any

import pytest

from wmsync.sandbox import Sandbox

UPS = "1ZW1X2Y30390010006"


@pytest.mark.parametrize("kind", ["520", "423"])
def test_a_read_is_retried(cli: Any, sandbox: Sandbox, kind: str) -> None:
    sandbox.inject_fault(kind, method="GET", path_regex=r"^/v3/orders/\d+$")
    r = cli("status", "000000101", "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    gets = [e for e in sandbox.request_log() if e.method == "GET" and e.path.startswith("/v3/orders/")]
    assert [e.status for e in gets][:2] == [int(kind), 200]


@pytest.mark.parametrize("kind", ["520", "423"])
def test_a_write_that_got_one_is_settled_not_refused(cli: Any, sandbox: Sandbox, kind: str) -> None:
    sandbox.inject_fault(kind, method="POST", path_regex=r"/shipping$")
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--json")
    assert r.exit_code == 5, r  # outcome unknown: the re-read did not show it (the sandbox did not apply it)
    assert "refused" not in r.stderr.lower()
    r = cli("ship", "000000101", "--store", "sandbox", "--carrier", "UPS", "--tracking", UPS, "--json")
    assert r.exit_code == 0, r  # the re-run sends it (resend_quiet is 0 in tests), once
    posts = [e for e in sandbox.request_log() if e.method == "POST" and e.path.endswith("/shipping")]
    assert [e.status for e in posts] == [int(kind), 200]
    assert len(sandbox.walmart_shipments_by_tracking()[UPS]) == 1
