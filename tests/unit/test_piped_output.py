"""Through a pipe, tables are tab-separated lines that nothing cuts: codes, secret names and tracking numbers
stay whole whatever the width."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def narrow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def test_cancel_reasons_piped_are_whole_and_tab_separated(cli: Any) -> None:
    r = cli("cancel", "--list-reasons")
    assert r.exit_code == 0, r
    rows = [line.split("\t") for line in r.stdout.splitlines() if "\t" in line]
    assert rows[0] == ["alias", "code", "meaning"]
    codes = {row[1] for row in rows[1:]}
    assert "CUSTOMER_REQUESTED_SELLER_TO_CANCEL" in codes
    assert "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE" in codes
    assert "…" not in r.stdout


def test_stores_list_piped_keeps_secret_names_whole(cli: Any) -> None:
    r = cli("stores", "add", "us-east-marketplace", "--commerce-url", "https://shop.example.com",
            "--walmart-client-id", "abc")
    assert r.exit_code == 0, r
    r = cli("stores", "list")
    assert "WMSYNC_US_EAST_MARKETPLACE_WALMART_CLIENT_SECRET" in r.stdout
    assert "…" not in r.stdout
    assert "\t" in r.stdout


def test_status_piped_keeps_tracking_numbers_whole(cli: Any) -> None:
    r = cli("status", "000000110", "--store", "sandbox")
    assert "9400110200881234567896" in r.stdout
    assert any(line.split("\t")[:2] == ["2", "WM-SOCK-006"] for line in r.stdout.splitlines())
