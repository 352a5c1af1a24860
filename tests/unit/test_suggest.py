from __future__ import annotations

import pytest

from wmsync.suggest import complete_command, complete_document, complete_text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("wmsync ship 000000101", "wmsync ship 000000101 --store shop"),
        ("wmsync cancel 1 --reason out-of-stock", "wmsync cancel 1 --reason out-of-stock --store shop --yes"),
        ("wmsync cancel 000000101 --reason x --dry-run", "wmsync cancel 000000101 --reason x --dry-run --store shop"),
        ("wmsync cancel --list-reasons", "wmsync cancel --list-reasons"),
        ("wmsync status 000000101 --wait", "wmsync status 000000101 --wait --store shop"),
        ("wmsync ship 1 --store other", "wmsync ship 1 --store other"),
        ("wmsync explain 429", "wmsync explain 429"),
        ("wmsync stores list", "wmsync stores list"),
        ("wmsync cancel 1 --reason x --yes", "wmsync cancel 1 --reason x --yes --store shop"),
    ],
)
def test_complete_command(given: str, expected: str) -> None:
    assert complete_command(given, "shop") == expected


def test_a_store_name_that_needs_quoting_is_quoted() -> None:
    assert complete_command("wmsync ship 1", "my shop") == "wmsync ship 1 --store 'my shop'"


def test_text_and_documents() -> None:
    text = "run `wmsync ship 1` then `wmsync explain 429`"
    assert complete_text(text, "s") == "run `wmsync ship 1 --store s` then `wmsync explain 429`"
    doc = {"command": "wmsync ship 1", "repair_commands": ["wmsync cancel 1 --reason r"], "n": 3, "note": text}
    out = complete_document(doc, "s")
    assert out["command"] == "wmsync ship 1 --store s"
    assert out["repair_commands"] == ["wmsync cancel 1 --reason r --store s --yes"]
    assert out["n"] == 3
    assert out["note"] == complete_text(text, "s")


def test_without_a_store_only_yes_is_added() -> None:
    from wmsync.suggest import set_store

    set_store(None)
    assert complete_command("wmsync cancel 1 --reason r", None) == "wmsync cancel 1 --reason r --yes"
