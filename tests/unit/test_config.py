"""Config file: validation with clear messages, URL rules, reserved names, atomic private save, env overrides."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from wmsync import config as cfg
from wmsync.errors import ConfigError, ExitCode

VALID = """\
default_store = "us"

[stores.us]
commerce_url = "https://shop.test/"
commerce_store_code = "us_view"
commerce_auth = "bearer"
walmart_client_id = "abc-123"
po_field = "ext_order_id"
submit = "channel-manager"
notify_customer = true

[stores.us.carriers]
ups = "UPS"
"Acme Freight" = { other = "Acme Freight", tracking_url = "https://acme.test/t/{tracking}" }

[stores.us.timeouts]
confirm = 60
max_attempts = 3

[stores.us.rate_limits]
walmart_ship_per_min = 30

[stores.ca]
commerce_url = "https://ca.shop.test"
walmart_client_id = "def-456"
walmart_url = "https://sandbox.walmartapis.test"
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_load_valid_config(tmp_path: Path) -> None:
    conf = cfg.load(_write(tmp_path / "c.toml", VALID))
    assert conf.default_store == "us"
    assert set(conf.stores) == {"us", "ca"}
    us = conf.stores["us"]
    assert us.commerce_url == "https://shop.test"  # trailing slash dropped
    assert us.commerce_store_code == "us_view"
    assert us.commerce_auth == "bearer"
    assert us.submit == "channel-manager"
    assert us.notify_customer is True
    assert us.carriers["ups"] == "UPS"
    other = us.carriers["Acme Freight"]
    assert isinstance(other, cfg.OtherCarrier)
    assert other.tracking_url == "https://acme.test/t/{tracking}"
    assert us.timeouts.confirm == 60
    assert us.timeouts.max_attempts == 3
    assert us.timeouts.read == 30.0  # default kept
    assert us.rate_limits.walmart_ship_per_min == 30
    ca = conf.stores["ca"]
    assert ca.commerce_auth == "oauth1"
    assert ca.walmart_url == "https://sandbox.walmartapis.test"
    assert ca.po_field == "ext_order_id"


def test_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    conf = cfg.load(tmp_path / "absent.toml")
    assert conf.stores == {}
    assert conf.default_store is None


def _load_error(tmp_path: Path, text: str) -> ConfigError:
    path = _write(tmp_path / "conf" / "config.toml", text)
    with pytest.raises(ConfigError) as info:
        cfg.load(path)
    assert info.value.exit_code == ExitCode.CONFIG == 3
    assert str(path) in info.value.message
    return info.value


def test_unknown_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    err = _load_error(tmp_path, VALID.replace('po_field = "ext_order_id"', 'po_feild = "ext_order_id"'))
    assert "stores.us.po_feild" in err.message
    assert "unknown key" in err.message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    err = _load_error(tmp_path, 'defualt_store = "us"\n')
    assert "defualt_store" in err.message


def test_unknown_nested_key(tmp_path: Path) -> None:
    err = _load_error(tmp_path, VALID.replace("confirm = 60", "confirm_seconds = 60"))
    assert "stores.us.timeouts.confirm_seconds" in err.message


def test_wrong_type(tmp_path: Path) -> None:
    err = _load_error(tmp_path, VALID.replace("max_attempts = 3", 'max_attempts = "many"'))
    assert "stores.us.timeouts.max_attempts" in err.message


def test_wrong_enum_value(tmp_path: Path) -> None:
    err = _load_error(tmp_path, VALID.replace('commerce_auth = "bearer"', 'commerce_auth = "basic"'))
    assert "stores.us.commerce_auth" in err.message


def test_missing_required_key(tmp_path: Path) -> None:
    err = _load_error(tmp_path, '[stores.x]\ncommerce_url = "https://shop.test"\n')
    assert "walmart_client_id" in err.message


def test_malformed_toml(tmp_path: Path) -> None:
    err = _load_error(tmp_path, "[stores.us\ncommerce_url = \n")
    assert "not valid TOML" in err.message
    assert "line 1" in err.message
    assert "\n" not in err.message


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b'default_store = "\xff"\n')
    with pytest.raises(ConfigError):
        cfg.load(path)


def test_unreadable_path_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        cfg.load(tmp_path)  # a directory
    assert str(tmp_path) in info.value.message


@pytest.mark.parametrize(
    "url",
    ["http://shop.test", "http://10.0.0.5:8080", "http://127.0.0.1.nip.io", "ftp://shop.test", "shop.test",
     "https://user:pw@shop.test", "https://shop.test/?x=1", "https://shop.test/#frag", "https://"],
)
def test_refused_urls(url: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked below for the http case
        cfg.check_url(url)


def test_plain_http_message_explains(tmp_path: Path) -> None:
    err = _load_error(tmp_path, VALID.replace("https://shop.test/", "http://shop.test"))
    assert "stores.us.commerce_url" in err.message
    assert "plain http" in err.message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9000/", "http://localhost:9000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://127.0.0.2", "http://127.0.0.2"),
        ("https://shop.test/magento/", "https://shop.test/magento"),
        ("  https://shop.test  ", "https://shop.test"),
    ],
)
def test_accepted_urls(url: str, expected: str) -> None:
    assert cfg.check_url(url) == expected


def test_loopback_http_accepted_in_config(tmp_path: Path) -> None:
    conf = cfg.load(_write(tmp_path / "c.toml", VALID.replace("https://shop.test/", "http://127.0.0.1:8080")))
    assert conf.stores["us"].commerce_url == "http://127.0.0.1:8080"


def test_reserved_store_name(tmp_path: Path) -> None:
    err = _load_error(tmp_path, '[stores.sandbox]\ncommerce_url = "https://s.test"\nwalmart_client_id = "x"\n')
    assert "reserved" in err.message


@pytest.mark.parametrize("name", ["has space", "-leading", "a" * 65, "dot.ted"])
def test_bad_store_names(tmp_path: Path, name: str) -> None:
    _load_error(tmp_path, f'[stores."{name}"]\ncommerce_url = "https://s.test"\nwalmart_client_id = "x"\n')


def test_default_store_must_exist(tmp_path: Path) -> None:
    err = _load_error(tmp_path, VALID.replace('default_store = "us"', 'default_store = "eu"'))
    assert "eu" in err.message


def test_bad_po_pattern(tmp_path: Path) -> None:
    err = _load_error(tmp_path, VALID.replace('po_field = "ext_order_id"', 'po_pattern = "([0-9"'))
    assert "regular expression" in err.message


def test_save_is_private_atomic_and_round_trips(tmp_path: Path) -> None:
    original = cfg.load(_write(tmp_path / "in.toml", VALID))
    out = tmp_path / "new" / "dir" / "config.toml"
    cfg.save(original, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert cfg.load(out) == original
    assert sorted(p.name for p in out.parent.iterdir()) == ["config.toml"]  # no temp file left behind
    text = out.read_text()
    assert "read = " not in text  # defaults are not written out
    # saving again over an existing (e.g. once world-readable) file keeps it private
    os.chmod(out, 0o644)
    cfg.save(original, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_save_failure_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tomli_w

    path = _write(tmp_path / "c.toml", VALID)
    conf = cfg.load(path)

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(tomli_w, "dump", boom)
    with pytest.raises(OSError, match="disk full"):
        cfg.save(conf, path)
    assert path.read_text() == VALID
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]


def test_env_overrides_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMSYNC_CONFIRM", "5")
    monkeypatch.setenv("WMSYNC_MAX_ATTEMPTS", "2")
    base = cfg.Timeouts(confirm=300, read=12)
    t = base.with_env()
    assert t.confirm == 5.0
    assert t.max_attempts == 2
    assert isinstance(t.max_attempts, int)
    assert t.read == 12  # not overridden
    assert base.confirm == 300  # the original is unchanged


def test_empty_env_override_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMSYNC_CONFIRM", "")
    assert cfg.Timeouts().with_env().confirm == 300


@pytest.mark.parametrize(("var", "value"), [("WMSYNC_CONFIRM", "soon"), ("WMSYNC_READ", "-1"),
                                            ("WMSYNC_MAX_ATTEMPTS", "2.5"), ("WMSYNC_MAX_ATTEMPTS", "99")])
def test_bad_env_override(monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        cfg.Timeouts().with_env()
    assert info.value.exit_code == 3
    assert var in info.value.message or var.removeprefix("WMSYNC_").lower() in info.value.message


def test_skus_table_maps_walmart_skus_to_commerce_skus(tmp_path: Path) -> None:
    text = VALID + '\n[stores.ca.skus]\n"LAMP-4-WMT" = "WM-LAMP-004"\n'
    conf = cfg.load(_write(tmp_path / "c.toml", text))
    assert conf.stores["ca"].skus == {"LAMP-4-WMT": "WM-LAMP-004"}
    assert conf.stores["us"].skus == {}
    with pytest.raises(ConfigError):
        cfg.load(_write(tmp_path / "d.toml", VALID + '\n[stores.ca.skus]\n"LAMP-4-WMT" = ""\n'))
