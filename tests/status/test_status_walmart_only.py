"""After ``cancel --walmart-only`` the Commerce order is still open: status must not call that in sync."""

from __future__ import annotations

import shlex
from typing import Any

from wmsync.sandbox import Sandbox


def test_status_after_a_walmart_only_cancel_names_the_commerce_step(cli: Any, sandbox: Sandbox) -> None:
    r = cli("cancel", "000000101", "--store", "sandbox", "--reason", "out-of-stock", "--walmart-only", "--yes")
    assert r.exit_code == 0, r
    assert sandbox.commerce_order("000000101")["state"] != "canceled"  # type: ignore[index]

    r = cli("status", "000000101", "--store", "sandbox", "--json")
    doc = r.json()
    assert isinstance(doc, dict)
    assert doc["verdict"] != "in_sync", doc
    assert r.exit_code != 0
    cancel_diffs = [d for d in doc["differences"] if d["kind"] == "walmart_cancel_not_in_commerce"]
    assert cancel_diffs, doc["differences"]
    command = cancel_diffs[0]["command"]
    assert command is not None, cancel_diffs[0]
    assert command.startswith("wmsync cancel 000000101")

    # the suggested command does the Commerce step, and then both sides agree
    args = shlex.split(command)[1:]
    if "--store" not in args:
        args += ["--store", "sandbox"]
    if "--yes" not in args:
        args.append("--yes")
    r = cli(*args)
    assert r.exit_code == 0, r
    assert sandbox.commerce_order("000000101")["state"] == "canceled"  # type: ignore[index]
    r = cli("status", "000000101", "--store", "sandbox", "--json")
    assert r.json()["verdict"] == "in_sync", r  # type: ignore[index]
