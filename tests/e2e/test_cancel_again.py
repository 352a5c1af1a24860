"""A second partial cancel of the same SKU and quantity: a re-run of the first, or a new cancellation? wmsync
never answers "already cancelled" while Walmart still shows units open."""

from __future__ import annotations

from typing import Any

from wmsync.sandbox import Sandbox

ORDER = "000000104"  # WM-BOTTLE-005 × 3 on three Walmart lines



def cancel(cli: Any, *args: str) -> Any:
    return cli("cancel", ORDER, "--store", "sandbox", "--yes", "--item", "WM-BOTTLE-005=1", *args)


def cancelled(sb: Sandbox) -> int:
    return sum(1 for e in sb.request_log() if e.method == "POST" and e.path.endswith("/cancel") and e.applied)


def test_the_same_cancel_again_with_another_reason_is_a_new_cancellation(cli: Any, sandbox: Sandbox) -> None:
    assert cancel(cli, "--reason", "out-of-stock").exit_code == 0
    r = cancel(cli, "--reason", "pricing-error")
    assert r.exit_code == 0, r
    assert cancelled(sandbox) == 2
    r = cancel(cli, "--reason", "pricing-error")  # and that one, re-run, is not a third
    assert cancelled(sandbox) == 2
    assert r.exit_code == 2, r


def test_the_same_cancel_with_the_same_reason_is_refused_not_reported_done(cli: Any, sandbox: Sandbox) -> None:
    assert cancel(cli, "--reason", "out-of-stock").exit_code == 0
    r = cancel(cli, "--reason", "out-of-stock")
    assert r.exit_code == 2, r
    assert "--again" in r.stderr
    assert "Already" not in r.stdout + r.stderr
    assert cancelled(sandbox) == 1
    r = cancel(cli, "--reason", "out-of-stock", "--again")
    assert r.exit_code == 0, r
    assert cancelled(sandbox) == 2


def test_a_re_run_after_every_unit_is_cancelled_is_already_done(cli: Any, sandbox: Sandbox) -> None:
    r = cli("cancel", ORDER, "--store", "sandbox", "--yes", "--item", "WM-BOTTLE-005=3", "--reason", "out-of-stock")
    assert r.exit_code == 0, r
    r = cli("cancel", ORDER, "--store", "sandbox", "--yes", "--item", "WM-BOTTLE-005=3", "--reason", "out-of-stock")
    assert r.exit_code == 0, r
    assert cancelled(sandbox) == 1
