"""Hostile input (issue item 5): each gives a clear message, the documented exit code, no traceback, and zero
requests sent — counted by the fake services, which see every request wmsync makes (the token request too)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reliability.canary import STORE, CanaryServices, store_toml
from reliability.conftest import write_config

UPS = "1ZW1X2Y30390010006"
TEN_KB = "0" * 10_240

HOSTILE_ORDERS = {
    "slash": "000000101/000000102",
    "dot-dot": "..",
    "path-traversal": "../../etc/passwd",
    "dot-dot-in-order": "000000101/../102",
    "encoded-slash": "000000101%2F..%2F102",
    "encoded-slash-only": "%2F",
    "query": "000000101?searchCriteria[pageSize]=1000",
    "fragment": "000000101#x",
    "space-inside": "000000 101",
    "space-around": " 000000101 ",
    "newline": "000000101\n",
    "nul": "000000101\x00",
    "escape-sequence": "\x1b[2J000000101",
    "delete-char": "000000101\x7f",
    "cyrillic-o": "\u041e00000101",  # 'О' looks like '0'... and like 'O'
    "cyrillic-o-inside": "0000О0101",
    "fullwidth-digits": "\uff10\uff10\uff10\uff10\uff10\uff10\uff11\uff10\uff11",
    "zero-width-space": "000000\u200b101",
    "right-to-left-override": "\u202e101000000",
    "ten-kb": TEN_KB,
    "ten-kb-of-junk": "/%?#" * 2560,
    "empty": "",
    "emoji": "000000101\U0001f4e6",
    "sql": "000000101' OR '1'='1",
    "wildcard": "%",
}

CARRIER_VALUES = {
    "nul": "UPS\x00",
    "escape": "U\x1b[31mPS",
    "newline": "UPS\n",
    "carriage-return": "UPS\r",
    "zero-width": "\u200bUPS",
    "ten-kb": "U" * 10_240,
}
TRACKING_VALUES = {
    "nul": "1ZW1X2Y3039001\x000006",
    "crlf": UPS + "\r\n",
    "tab": "1ZW1X2Y3\t0390010006",
    "escape": "\x1b]0;title\x071ZW1X2Y30390010006",
    "delete": UPS + "\x7f",
    "zero-width": "1ZW1X2Y3\u200b0390010006",
    "bidi": "\u202e" + UPS,
    "ten-kb": "1Z" + "9" * 10_240,
}
QUANTITIES = {
    "zero": "0",
    "negative": "-1",
    "fraction": "1.5",
    "huge": "99999999999",
    "exponent": "1e3",
    "hex": "0x10",
    "empty": "",
    "plus": "+1",
    "spaces": "1 1",
    "nan": "nan",
    "unicode-digit": "\u0661",  # ARABIC-INDIC DIGIT ONE: int() would take it
    "superscript": "\u00b9",
}


def assert_refused(result: Any, services: CanaryServices, *, code: int = 2, words: tuple[str, ...] = ()) -> None:
    assert result.exit_code == code, result
    assert "Traceback" not in result.stderr, result
    assert "internal error" not in result.stderr, result
    assert result.stderr.startswith("error: ") or "\nerror: " in result.stderr, result
    first = result.stderr.split("\n", 1)[0]
    assert len(first) < 400, "the message should be one readable line, not a dump of the input"
    for ch in ("\x1b", "\x00", "\x07"):
        assert ch not in result.stderr, "control characters echoed to the terminal"
    for word in words:
        assert word.lower() in result.stderr.lower(), result
    assert services.requests == [], [f"{r.method} {r.url}" for r in services.requests]


def with_json(result: Any, code: int) -> None:
    doc = json.loads(result.stdout)
    assert doc["exit_code"] == code
    assert doc["error"]


@pytest.fixture
def configured(isolated_env: Path, services: CanaryServices) -> CanaryServices:
    write_config(isolated_env)
    return services


@pytest.mark.parametrize("command", ["ship", "cancel", "status"])
@pytest.mark.parametrize("value", list(HOSTILE_ORDERS.values()), ids=list(HOSTILE_ORDERS))
def test_hostile_order_values(cli: Any, configured: CanaryServices, command: str, value: str) -> None:
    extra = {"ship": ["--carrier", "UPS", "--tracking", UPS], "cancel": ["--reason", "out-of-stock", "--yes"],
             "status": []}[command]
    if command == "status" and cli("status", "--help").exit_code != 0:
        pytest.skip("`wmsync status` is not available yet")
    r = cli(command, "--store", STORE, "--json", *extra, "--", value)
    assert_refused(r, configured, words=("ORDER",))
    with_json(r, 2)


@pytest.mark.parametrize("value", list(CARRIER_VALUES.values()), ids=list(CARRIER_VALUES))
def test_hostile_carrier(cli: Any, configured: CanaryServices, value: str) -> None:
    r = cli("ship", "000000101", "--store", STORE, "--carrier", value, "--tracking", UPS)
    assert_refused(r, configured, words=("carrier",))


@pytest.mark.parametrize("value", list(TRACKING_VALUES.values()), ids=list(TRACKING_VALUES))
def test_hostile_tracking(cli: Any, configured: CanaryServices, value: str) -> None:
    r = cli("ship", "000000101", "--store", STORE, "--json", "--carrier", "UPS", "--tracking", value)
    assert_refused(r, configured, words=("tracking",))
    with_json(r, 2)


@pytest.mark.parametrize(
    ("option", "value", "word"),
    [
        ("--method", "Teleport", "method"),
        ("--tracking-url", "https://acme.example/t/\x1b[2J", "url"),
        ("--tracking-url", "javascript:alert(1)", "url"),
        ("--ship-date", "yesterday\x00", "ship-date"),
        ("--ship-date", "9" * 10_240, "ship-date"),
        ("--via", "carrier-pigeon", "via"),
    ],
)
def test_hostile_ship_options(cli: Any, configured: CanaryServices, option: str, value: str, word: str) -> None:
    r = cli("ship", "000000101", "--store", STORE, "--carrier", "UPS", "--tracking", UPS, option, value)
    assert_refused(r, configured, words=(word,))


@pytest.mark.parametrize("command", ["ship", "cancel"])
@pytest.mark.parametrize("qty", list(QUANTITIES.values()), ids=list(QUANTITIES))
def test_hostile_quantities(cli: Any, configured: CanaryServices, command: str, qty: str) -> None:
    extra = ["--carrier", "UPS", "--tracking", UPS] if command == "ship" else ["--reason", "out-of-stock", "--yes"]
    r = cli(command, "000000123", "--store", STORE, "--json", *extra, "--item", f"WM-MUG-001={qty}")
    assert_refused(r, configured, words=("quantity",))
    with_json(r, 2)


@pytest.mark.parametrize("item", ["=1", "WM-MUG\x00=1", "WM\x1b[2J=1", "S" * 10_240 + "=1", " =1", "\u200b=1"])
def test_hostile_skus(cli: Any, configured: CanaryServices, item: str) -> None:
    r = cli("ship", "000000123", "--store", STORE, "--carrier", "UPS", "--tracking", UPS, "--item", item)
    assert_refused(r, configured, words=("--item",))


@pytest.mark.parametrize("reason", ["out-of-stock\x00", "\x1b[2Jfraud", "R" * 10_240, "", "DROP TABLE"])
def test_hostile_cancel_reasons(cli: Any, configured: CanaryServices, reason: str) -> None:
    r = cli("cancel", "000000101", "--store", STORE, "--yes", "--reason", reason)
    assert_refused(r, configured, words=("reason",))


# ---------------------------------------------------------------- config files (exit 3)

BASE = store_toml()
BAD_CONFIGS = {
    "not-toml": ("[stores.main\ncommerce_url = ", "TOML"),
    "binary": ("\x00\xff\xfe garbage", "config"),
    "unknown-top-level-key": ("colour = true\n" + BASE, "colour"),
    "unknown-store-key": (BASE + 'walmart_client_secret = "oops"\n', "walmart_client_secret"),
    "misspelt-key": (BASE.replace("commerce_auth", "comerce_auth"), "comerce_auth"),
    "wrong-type-string": (BASE.replace('walmart_client_id = "canary-client-id"', "walmart_client_id = 5"),
                          "walmart_client_id"),
    "wrong-type-table": ("stores = 5\n", "stores"),
    "wrong-enum": (BASE.replace('commerce_auth = "oauth1"', 'commerce_auth = "basic"'), "commerce_auth"),
    "negative-rate": (BASE + "[stores.main.rate_limits]\nwalmart_ship_per_min = -1\n", "walmart_ship_per_min"),
    "timeout-as-text": (BASE + '[stores.main.timeouts]\nconfirm = "five minutes"\n', "confirm"),
    "bad-regex": (BASE + 'po_pattern = "[0-9"\n', "po_pattern"),
    "bad-default-store": ('default_store = "nope"\n' + BASE, "default_store"),
    "reserved-store-name": (BASE.replace("[stores.main]", "[stores.sandbox]"), "sandbox"),
    "http-non-loopback": (BASE.replace("https://shop.canary.test", "http://shop.canary.test"), "http"),
    "http-private-ip": (BASE.replace("https://walmart.canary.test", "http://10.0.0.7"), "http"),
    "http-loopback-lookalike": (BASE.replace("https://shop.canary.test", "http://127.0.0.1.nip.io"), "http"),
    "http-localhost-suffix": (BASE.replace("https://shop.canary.test", "http://localhost.evil.example"), "http"),
    "url-with-credentials": (BASE.replace("https://shop.canary.test", "https://user:pw@shop.canary.test"),
                             "credentials"),
    "url-with-query": (BASE.replace("https://walmart.canary.test", "https://walmart.canary.test/?x=1"), "query"),
    "not-a-url": (BASE.replace("https://shop.canary.test", "shop.canary.test"), "URL"),
    "bad-cancel-reason": (BASE + 'default_cancel_reason = "because"\n', "default_cancel_reason"),
    "bad-store-code": (BASE + 'commerce_store_code = "../admin"\n', "commerce_store_code"),
}


@pytest.mark.parametrize("args", [["stores", "list"], ["ship", "000000101", "--carrier", "UPS", "--tracking", UPS],
                                  ["cancel", "000000101", "--reason", "out-of-stock", "--yes"], ["carriers", "check"]],
                         ids=["stores-list", "ship", "cancel", "carriers-check"])
@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_bad_config_exits_3_naming_the_key_and_file(cli: Any, isolated_env: Path, services: CanaryServices,
                                                     name: str, args: list[str]) -> None:
    text, word = BAD_CONFIGS[name]
    path = isolated_env / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8", "surrogateescape") if name != "binary" else b"\x00\xff\xfe garbage")
    r = cli(*args, "--json")
    assert_refused(r, services, code=3, words=(word,))
    assert str(path) in r.stderr, "the message names the file"
    with_json(r, 3)


def test_config_path_that_is_a_directory(cli: Any, isolated_env: Path, services: CanaryServices) -> None:
    # WMSYNC_CONFIG is the --config option's variable: a directory there is a usage error of that option (2)
    path = isolated_env / "config" / "config.toml"
    path.mkdir(parents=True)
    r = cli("ship", "000000101", "--carrier", "UPS", "--tracking", UPS)
    assert_refused(r, services, code=2, words=("--config", "directory"))


@pytest.mark.parametrize(("var", "value"), [("WMSYNC_CONFIRM", "soon"), ("WMSYNC_MAX_ATTEMPTS", "0"),
                                            ("WMSYNC_READ", "-1"), ("WMSYNC_POLL_MAX", "nan")])
def test_bad_timeout_environment(cli: Any, configured: CanaryServices, monkeypatch: pytest.MonkeyPatch,
                                 var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    r = cli("ship", "000000101", "--store", STORE, "--carrier", "UPS", "--tracking", UPS)
    assert_refused(r, configured, code=3, words=(var,))
