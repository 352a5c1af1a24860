"""`wmsync stores` end to end, in-process: add (no keyring on this machine), list, remove, and the live check
against faked Commerce and Walmart."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

import httpx
import pytest

ADD = ["stores", "add", "us", "--commerce-url", "https://shop.test", "--walmart-client-id", "wm-client-id",
       "--walmart-url", "https://walmart.test"]
OAUTH_VARS = [
    "WMSYNC_US_COMMERCE_CONSUMER_KEY",
    "WMSYNC_US_COMMERCE_CONSUMER_SECRET",
    "WMSYNC_US_COMMERCE_ACCESS_TOKEN",
    "WMSYNC_US_COMMERCE_ACCESS_TOKEN_SECRET",
    "WMSYNC_US_WALMART_CLIENT_SECRET",
]


def _config(home: Path) -> dict:
    return tomllib.loads((home / "config" / "config.toml").read_text())


# ---------------------------------------------------------------- add


def test_add_without_keyring_writes_config_and_names_the_variables(cli, isolated_env: Path) -> None:
    result = cli(*ADD)
    assert result.exit_code == 0, result
    path = isolated_env / "config" / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    conf = _config(isolated_env)
    assert conf["default_store"] == "us"  # the first store becomes the default
    assert conf["stores"]["us"] == {"commerce_url": "https://shop.test", "walmart_url": "https://walmart.test",
                                    "walmart_client_id": "wm-client-id"}
    for var in OAUTH_VARS:
        assert f"export {var}=..." in result.stdout
    assert "wmsync stores check us" in result.stdout


def test_add_bearer_names_its_two_variables(cli, isolated_env: Path) -> None:
    result = cli(*ADD, "--commerce-auth", "bearer", "--json")
    assert result.exit_code == 0, result
    assert result.json() == {
        "store": "us",
        "config_file": str(isolated_env / "config" / "config.toml"),
        "keyring": False,
        "stored_in_keyring": [],
        "set_environment_variables": ["WMSYNC_US_COMMERCE_TOKEN", "WMSYNC_US_WALMART_CLIENT_SECRET"],
    }


def test_add_secrets_stdin_stores_nothing_on_disk(cli, isolated_env: Path, grep_home) -> None:
    value = "CANARY-stdin-walmart-secret-91c2"
    token = "CANARY-stdin-consumer-key-91c2"
    stdin = f"# from the vault\nWMSYNC_WALMART_CLIENT_SECRET={value}\n\nCOMMERCE_CONSUMER_KEY = {token}\n"
    result = cli(*ADD, "--secrets-stdin", stdin=stdin)
    assert result.exit_code == 0, result
    assert "NOT stored" in result.stdout
    for secret in (value, token):
        assert secret not in result.stdout
        assert secret not in result.stderr
        assert grep_home(secret) == []
    assert (isolated_env / "config" / "config.toml").exists()
    for var in OAUTH_VARS:  # nothing was stored, so every variable is still needed
        assert var in result.stdout


def test_add_secrets_stdin_rejects_unknown_names_before_writing(cli, isolated_env: Path) -> None:
    result = cli(*ADD, "--secrets-stdin", stdin="WALMART_CLIENT_ID=abc\n")
    assert result.exit_code == 2, result
    assert "WALMART_CLIENT_ID" in result.stderr
    assert not (isolated_env / "config" / "config.toml").exists()


def test_add_secrets_stdin_rejects_lines_without_equals(cli, isolated_env: Path) -> None:
    result = cli(*ADD, "--secrets-stdin", stdin="just-a-secret-value\n")
    assert result.exit_code == 2
    assert "line 1" in result.stderr
    assert "just-a-secret-value" not in result.stderr
    assert not (isolated_env / "config" / "config.toml").exists()


def test_add_existing_needs_force(cli, isolated_env: Path) -> None:
    assert cli(*ADD).exit_code == 0
    again = cli(*ADD[:-2], "--walmart-url", "https://other.walmart.test")
    assert again.exit_code == 2
    assert "--force" in again.stderr
    assert _config(isolated_env)["stores"]["us"]["walmart_url"] == "https://walmart.test"
    forced = cli(*ADD[:-2], "--walmart-url", "https://other.walmart.test", "--force")
    assert forced.exit_code == 0, forced
    assert _config(isolated_env)["stores"]["us"]["walmart_url"] == "https://other.walmart.test"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--commerce-url", "http://shop.test"], "plain http"),
        (["--commerce-auth", "basic"], "commerce_auth"),
        (["--submit", "later"], "submit"),
    ],
)
def test_add_invalid_values_exit_2(cli, isolated_env: Path, args: list[str], needle: str) -> None:
    result = cli(*ADD, *args)
    assert result.exit_code == 2, result
    assert needle in result.stderr
    assert not (isolated_env / "config" / "config.toml").exists()


def test_add_reserved_name(cli, isolated_env: Path) -> None:
    result = cli("stores", "add", "sandbox", "--commerce-url", "https://shop.test", "--walmart-client-id", "x")
    assert result.exit_code == 2
    assert "reserved" in result.stderr


def test_add_second_store_keeps_the_default(cli, isolated_env: Path) -> None:
    assert cli(*ADD).exit_code == 0
    assert cli("stores", "add", "ca", "--commerce-url", "https://ca.shop.test",
               "--walmart-client-id", "x").exit_code == 0
    assert _config(isolated_env)["default_store"] == "us"
    assert cli("stores", "add", "mx", "--commerce-url", "https://mx.shop.test", "--walmart-client-id", "y",
               "--default").exit_code == 0
    assert _config(isolated_env)["default_store"] == "mx"


# ---------------------------------------------------------------- list


def test_list_shows_sources_never_values(cli, config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMSYNC_US_WALMART_CLIENT_SECRET", "CANARY-list-walmart-5d1e")
    monkeypatch.setenv("WMSYNC_COMMERCE_CONSUMER_KEY", "CANARY-list-generic-5d1e")
    result = cli("stores", "list", "--json")
    assert result.exit_code == 0, result
    (row,) = result.json()
    assert set(row) == {"name", "default", "commerce_url", "commerce_store_code", "commerce_auth", "walmart_url",
                        "walmart_client_id", "po_field", "submit", "secrets"}
    assert row["name"] == "us"
    assert row["default"] is True  # the only store
    assert row["secrets"] == {
        "COMMERCE_CONSUMER_KEY": {"source": "env (generic)", "where": "WMSYNC_COMMERCE_CONSUMER_KEY"},
        "COMMERCE_CONSUMER_SECRET": {"source": "missing", "where": "WMSYNC_US_COMMERCE_CONSUMER_SECRET"},
        "COMMERCE_ACCESS_TOKEN": {"source": "missing", "where": "WMSYNC_US_COMMERCE_ACCESS_TOKEN"},
        "COMMERCE_ACCESS_TOKEN_SECRET": {"source": "missing", "where": "WMSYNC_US_COMMERCE_ACCESS_TOKEN_SECRET"},
        "WALMART_CLIENT_SECRET": {"source": "env", "where": "WMSYNC_US_WALMART_CLIENT_SECRET"},
    }
    human = cli("stores", "list")
    assert human.exit_code == 0
    assert "WALMART_CLIENT_SECRET: env" in human.stdout
    assert "COMMERCE_CONSUMER_SECRET: missing" in human.stdout
    assert "set WMSYNC_US_COMMERCE_CONSUMER_SECRET" in human.stdout
    for res in (result, human, cli("stores"), cli("stores", "list", "--verbose")):
        assert "CANARY" not in res.stdout + res.stderr


def test_list_without_config(cli, isolated_env: Path) -> None:
    result = cli("stores", "list")
    assert result.exit_code == 0
    assert "No stores configured" in result.stdout
    assert cli("stores", "list", "--json").json() == []


def test_list_bad_config_names_key_and_file(cli, config_file: Path) -> None:
    config_file.write_text(config_file.read_text() + "colour = true\n")
    result = cli("stores", "list")
    assert result.exit_code == 3
    assert "stores.us.colour" in result.stderr
    assert str(config_file) in result.stderr
    as_json = cli("stores", "list", "--json")
    assert as_json.exit_code == 3
    assert as_json.json()["exit_code"] == 3


# ---------------------------------------------------------------- remove


def test_remove(cli, isolated_env: Path) -> None:
    assert cli(*ADD).exit_code == 0
    assert cli("stores", "add", "ca", "--commerce-url", "https://ca.shop.test",
               "--walmart-client-id", "x").exit_code == 0
    result = cli("stores", "remove", "us", "--json")
    assert result.exit_code == 0, result
    assert result.json() == {"store": "us", "removed": True, "keyring_entries_deleted": []}
    conf = _config(isolated_env)
    assert set(conf["stores"]) == {"ca"}
    assert "default_store" not in conf  # the default was the removed store
    assert stat.S_IMODE((isolated_env / "config" / "config.toml").stat().st_mode) == 0o600
    again = cli("stores", "remove", "us")
    assert again.exit_code == 2
    assert "no store named 'us'" in again.stderr


# ---------------------------------------------------------------- check


def test_check_ok(cli, config_file: Path, store_secrets: dict[str, str], services) -> None:
    result = cli("stores", "check", "--json")
    assert result.exit_code == 0, result
    (report,) = result.json()
    assert report["store"] == "us"
    assert report["exit_code"] == 0
    assert report["commerce"]["reachable"] is True
    assert report["commerce"]["authenticated"] is True
    assert report["walmart"]["authenticated"] is True
    assert report["walmart"]["orders_scope"] == "full_access"
    assert report["walmart"]["token_valid"] is True
    assert "error" not in report["commerce"]
    assert "error" not in report["walmart"]
    assert len(services.sent("walmart.test", "/v3/token")) == 1
    (search,) = services.sent("shop.test", "/rest/default/V1/orders")
    assert search.url.params["searchCriteria[pageSize]"] == "1"
    assert search.headers["Authorization"].startswith("OAuth ")
    human = cli("stores", "check", "us")
    assert human.exit_code == 0, human
    assert "us: OK" in human.stdout
    # the token cached by the first run is reused by the second
    assert len(services.sent("walmart.test", "/v3/token")) == 1


def test_check_walmart_wrong_secret_is_exit_3(cli, config_file: Path, store_secrets: dict[str, str],
                                             services) -> None:
    services.token = httpx.Response(401, json={"error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API",
                                                          "description": "Unauthorized"}]})
    result = cli("stores", "check", "--json")
    assert result.exit_code == 3, result
    (report,) = result.json()
    assert report["walmart"]["authenticated"] is False
    assert report["walmart"]["reachable"] is True  # it answered, and refused the secret
    assert "Unauthorized" in report["walmart"]["error"]
    assert report["commerce"]["authenticated"] is True
    assert len(services.sent("walmart.test", "/v3/token")) == 1  # a refused secret is not retried


def test_check_commerce_wrong_secret_is_exit_3(cli, config_file: Path, store_secrets: dict[str, str],
                                              services) -> None:
    services.commerce = httpx.Response(401, json={"message": "The consumer isn't authorized to access %resources.",
                                                  "parameters": {"resources": "Magento_Sales::actions_view"}})
    result = cli("stores", "check")
    assert result.exit_code == 3, result
    assert "us: FAILED" in result.stdout
    assert "The consumer isn't authorized to access Magento_Sales::actions_view." in result.stdout


def test_check_unreachable_is_exit_5(cli, config_file: Path, store_secrets: dict[str, str], services) -> None:
    services.commerce = httpx.ConnectError("Connection refused")
    services.token = httpx.ConnectError("Connection refused")
    result = cli("stores", "check", "--json")
    assert result.exit_code == 5, result
    (report,) = result.json()
    assert report["commerce"]["reachable"] is False
    assert report["walmart"]["reachable"] is False
    assert "Connection refused" in report["commerce"]["error"]
    assert len(services.sent("walmart.test", "/v3/token")) == 5  # the default attempts, then give up


def test_check_missing_secret_is_exit_3_and_names_the_variable(cli, config_file: Path,
                                                               store_secrets: dict[str, str],
                                                               monkeypatch: pytest.MonkeyPatch, services) -> None:
    monkeypatch.delenv("WMSYNC_US_WALMART_CLIENT_SECRET")
    result = cli("stores", "check")
    assert result.exit_code == 3, result
    assert "WMSYNC_US_WALMART_CLIENT_SECRET" in result.stdout
    assert services.sent("walmart.test", "/v3/token") == []  # nothing sent without the secret
    as_json = cli("stores", "check", "--json")
    assert as_json.exit_code == 3
    walmart = as_json.json()[0]["walmart"]
    assert "WMSYNC_US_WALMART_CLIENT_SECRET" in walmart["error"]
    assert walmart.get("reachable") is None


def test_check_walmart_failing_after_the_token_keeps_what_worked(cli, config_file: Path,
                                                                 store_secrets: dict[str, str], services) -> None:
    services.detail = httpx.Response(503, text="<html>Service Unavailable</html>")
    result = cli("stores", "check", "--json")
    assert result.exit_code == 5, result
    walmart = result.json()[0]["walmart"]
    assert walmart["reachable"] is True  # the token request went through
    assert walmart["authenticated"] is True
    assert "503" in walmart["error"]


def test_check_missing_commerce_secret_sends_nothing(cli, config_file: Path, store_secrets: dict[str, str],
                                                     monkeypatch: pytest.MonkeyPatch, services) -> None:
    monkeypatch.delenv("WMSYNC_US_COMMERCE_ACCESS_TOKEN_SECRET")
    result = cli("stores", "check", "--json")
    assert result.exit_code == 3, result
    commerce = result.json()[0]["commerce"]
    assert commerce["reachable"] is None  # not tried, so not known
    assert commerce["authenticated"] is False
    assert "WMSYNC_US_COMMERCE_ACCESS_TOKEN_SECRET" in commerce["error"]
    assert services.sent("shop.test", "/rest/default/V1/orders") == []


def test_check_every_store_into_one_trace_file(cli, config_file: Path, store_secrets: dict[str, str],
                                              monkeypatch: pytest.MonkeyPatch, services, tmp_path: Path) -> None:
    config_file.write_text(config_file.read_text() + '[stores.ca]\ncommerce_url = "https://ca.shop.test"\n'
                           'walmart_url = "https://walmart.test"\nwalmart_client_id = "ca-client-id"\n')
    for name, value in store_secrets.items():
        monkeypatch.setenv(f"WMSYNC_CA_{name}", value + "-ca")
    trace = tmp_path / "trace.json"
    result = cli("stores", "check", "--json", "--trace-file", str(trace))
    assert result.exit_code == 0, result
    assert [r["store"] for r in result.json()] == ["us", "ca"]
    hosts = [httpx.URL(e["url"]).host for e in json.loads(trace.read_text())["exchanges"]]
    assert "shop.test" in hosts
    assert "ca.shop.test" in hosts
    assert hosts.count("walmart.test") == 4  # token and detail for each store
    assert stat.S_IMODE(trace.stat().st_mode) == 0o600


def test_check_without_stores_is_exit_3(cli, isolated_env: Path) -> None:
    result = cli("stores", "check")
    assert result.exit_code == 3
    assert "no store is configured" in result.stderr


def test_check_unknown_store_is_exit_3(cli, config_file: Path) -> None:
    result = cli("stores", "check", "eu")
    assert result.exit_code == 3
    assert "no store named 'eu'" in result.stdout + result.stderr
