"""Canary secrets: with every secret set to a recognisable value, no command output, trace or file written
under the home shows a secret (nor the Walmart access token), whatever the outcome and the output flags."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

FLAG_SETS = {
    "plain": [],
    "verbose": ["--verbose"],
    "json": ["--json"],
    "verbose-json-trace": ["--verbose", "--json", "--trace-file", "TRACE"],
    "trace": ["--trace-file", "TRACE"],
}

SCENARIOS = {
    "ok": {},
    "walmart-401": {"token": httpx.Response(401, json={"error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API"}]})},
    "commerce-401": {"commerce": httpx.Response(401, json={"message": "The consumer isn't authorized"})},
    "detail-401": {"detail": httpx.Response(401, json={"error": [{"code": "UNAUTHORIZED.GMP_GATEWAY_API"}]})},
    "500": {"commerce": httpx.Response(500, json={"message": "Internal Error. Details are available in Magento "
                                                  "log file. Report ID: webapi-6a0f"}),
            "detail": httpx.Response(500, text="<html><body>Internal Server Error</body></html>")},
    "timeout": {"commerce": httpx.ReadTimeout("timed out"), "token": httpx.ReadTimeout("timed out")},
    "echoing-proxy": {"commerce": httpx.Response(403), "detail": httpx.Response(401), "echo": True},
    "echoing-token-endpoint": {"token": httpx.Response(401), "echo": True},
}

EXPECTED_EXIT = {"ok": 0, "walmart-401": 3, "commerce-401": 3, "detail-401": 3, "500": 5, "timeout": 5,
                 "echoing-proxy": 3, "echoing-token-endpoint": 3}


def _forbidden(secrets: dict[str, str], access_token: str) -> dict[str, str]:
    basic = base64.b64encode(f"wm-client-id:{secrets['WALMART_CLIENT_SECRET']}".encode()).decode()
    return {**secrets, "walmart access token": access_token, "basic credentials": basic}


def _assert_clean(where: str, text: str, forbidden: dict[str, str]) -> None:
    for name, value in forbidden.items():
        assert value not in text, f"{name} leaked into {where}"
    assert "CANARY" not in text, f"a canary leaked into {where}"


@pytest.mark.parametrize("flags", list(FLAG_SETS), ids=list(FLAG_SETS))
@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_stores_check_never_shows_a_secret(cli, config_file: Path, store_secrets: dict[str, str], services,
                                           isolated_env: Path, tmp_path: Path, scenario: str, flags: str) -> None:
    plan = dict(SCENARIOS[scenario])
    services.echo_credentials = bool(plan.pop("echo", False))
    for key, value in plan.items():
        setattr(services, key, value)
    trace = tmp_path / "trace.json"
    args = [str(trace) if a == "TRACE" else a for a in FLAG_SETS[flags]]
    result = cli("stores", "check", *args)
    assert result.exit_code == EXPECTED_EXIT[scenario], result
    assert services.requests  # the services were really called

    forbidden = _forbidden(store_secrets, services.access_token)
    _assert_clean("stdout", result.stdout, forbidden)
    _assert_clean("stderr", result.stderr, forbidden)
    if "--json" in args:
        json.loads(result.stdout)
    if "--verbose" in args:
        assert "http: " in result.stderr
    if trace.exists() or "--trace-file" in args:
        doc = json.loads(trace.read_text())
        assert doc["exchanges"]
        _assert_clean("the trace file", trace.read_text(), forbidden)
    for path in sorted(p for p in isolated_env.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", "replace")
        if path.name.startswith("walmart-token-"):
            # the token cache may hold the access token, never a client secret
            _assert_clean(str(path), text, {k: v for k, v in forbidden.items() if k != "walmart access token"})
        else:
            _assert_clean(str(path), text, forbidden)


@pytest.mark.parametrize("flags", [[], ["--json"], ["--verbose"], ["--verbose", "--json"]])
def test_stores_list_never_shows_a_secret(cli, config_file: Path, store_secrets: dict[str, str],
                                          isolated_env: Path, flags: list[str]) -> None:
    result = cli("stores", "list", *flags)
    assert result.exit_code == 0, result
    forbidden = dict(store_secrets)
    _assert_clean("stdout", result.stdout, forbidden)
    _assert_clean("stderr", result.stderr, forbidden)
    assert "WALMART_CLIENT_SECRET" in result.stdout  # the names are shown, the values are not
    for path in isolated_env.rglob("*"):
        if path.is_file():
            _assert_clean(str(path), path.read_text(errors="replace"), forbidden)
