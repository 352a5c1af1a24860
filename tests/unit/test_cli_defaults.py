"""Group commands without a subcommand, and `stores list` with a store chosen elsewhere."""

from __future__ import annotations

from typing import Any

import pytest


def test_stores_list_with_the_sandbox_chosen_still_lists_the_configured_stores(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = cli("stores", "add", "us", "--commerce-url", "https://shop.example.com", "--walmart-client-id", "abc")
    assert r.exit_code == 0, r
    monkeypatch.setenv("WMSYNC_STORE", "sandbox")
    r = cli("stores", "list")
    assert r.exit_code == 0, r
    assert "No stores configured" not in r.stdout
    assert "us" in r.stdout
    r = cli("stores", "list", "--store", "sandbox", "--json")
    assert [row["name"] for row in r.json()] == ["us"]
    r = cli("stores", "list", "--store", "us", "--json")  # a configured store narrows the list to it
    assert [row["name"] for row in r.json()] == ["us"]


def test_bare_orders_lists_the_orders(cli: Any) -> None:
    r = cli("orders", "--store", "sandbox", "--json")
    assert r.exit_code == 0, r
    assert isinstance(r.json(), list)
    assert r.json()


def test_bare_sandbox_shows_its_help_and_exits_0(cli: Any) -> None:
    r = cli("sandbox")
    assert r.exit_code == 0, r
    assert "serve" in r.stdout
