"""``--item`` quantities keyed by Commerce SKU through the store's ``skus`` table."""

from __future__ import annotations

from wmsync.workflows.pairing import commerce_sku_items

TABLE = {"LAMP-4-WMT": "WM-LAMP-004"}


def test_a_walmart_sku_becomes_its_commerce_sku() -> None:
    assert commerce_sku_items({"LAMP-4-WMT": 1, "WM-MUG-001": None}, TABLE) == {"WM-LAMP-004": 1, "WM-MUG-001": None}


def test_both_skus_of_one_item_add_up() -> None:
    assert commerce_sku_items({"LAMP-4-WMT": 1, "WM-LAMP-004": 2}, TABLE) == {"WM-LAMP-004": 3}
    assert commerce_sku_items({"LAMP-4-WMT": None, "WM-LAMP-004": 2}, TABLE) == {"WM-LAMP-004": None}


def test_without_a_table_or_items_nothing_changes() -> None:
    assert commerce_sku_items({"LAMP-4-WMT": 1}, {}) == {"LAMP-4-WMT": 1}
    assert commerce_sku_items(None, TABLE) is None
