"""Secrets: lookup order, messages when missing, no value in reprs, redaction."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from wmsync import secrets
from wmsync.errors import ExitCode, MissingSecretError
from wmsync.secrets import Lookup, SecretResolver, env_name, generic_env_name, redact, register_secret


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.reads: list[tuple[str, str]] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.reads.append((service, username))
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise PasswordDeleteError("not found")
        del self.entries[(service, username)]


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


NAME = "WALMART_CLIENT_SECRET"


def test_env_names() -> None:
    assert env_name("us", NAME) == "WMSYNC_US_WALMART_CLIENT_SECRET"
    assert env_name("eu-west.1", "COMMERCE_TOKEN") == "WMSYNC_EU_WEST_1_COMMERCE_TOKEN"
    assert generic_env_name(NAME) == "WMSYNC_WALMART_CLIENT_SECRET"


def test_per_store_env_wins_over_generic_and_keyring(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("wmsync", f"us:{NAME}", "from-keyring")
    env = {"WMSYNC_US_WALMART_CLIENT_SECRET": "per-store-value", "WMSYNC_WALMART_CLIENT_SECRET": "generic-value"}
    found = SecretResolver("us", store_count=1, environ=env).lookup(NAME)
    assert (found.source, found.where, found.value) == ("env", "WMSYNC_US_WALMART_CLIENT_SECRET", "per-store-value")
    assert memory_keyring.reads == []


def test_generic_env_when_exactly_one_store(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("wmsync", f"us:{NAME}", "from-keyring")
    env = {"WMSYNC_WALMART_CLIENT_SECRET": "generic-value"}
    found = SecretResolver("us", store_count=1, environ=env).lookup(NAME)
    assert (found.source, found.where, found.value) == ("env (generic)", "WMSYNC_WALMART_CLIENT_SECRET",
                                                        "generic-value")


def test_generic_env_is_ignored_with_several_stores(memory_keyring: MemoryKeyring) -> None:
    env = {"WMSYNC_WALMART_CLIENT_SECRET": "generic-value"}
    found = SecretResolver("us", store_count=2, environ=env).lookup(NAME)
    assert found.source == "missing"
    assert found.value is None
    memory_keyring.set_password("wmsync", f"us:{NAME}", "from-keyring")
    found = SecretResolver("us", store_count=2, environ=env).lookup(NAME)
    assert (found.source, found.value) == ("keyring", "from-keyring")


def test_keyring_after_env(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("wmsync", f"eu:{NAME}", "from-keyring")
    found = SecretResolver("eu", store_count=3, environ={}).lookup(NAME)
    assert (found.source, found.where, found.value) == ("keyring", f"wmsync/eu:{NAME}", "from-keyring")
    assert memory_keyring.reads == [("wmsync", f"eu:{NAME}")]


def test_empty_env_value_counts_as_missing(memory_keyring: MemoryKeyring) -> None:
    env = {"WMSYNC_US_WALMART_CLIENT_SECRET": "", "WMSYNC_WALMART_CLIENT_SECRET": ""}
    assert SecretResolver("us", store_count=1, environ=env).lookup(NAME).source == "missing"


def test_keyring_can_be_skipped(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("wmsync", f"us:{NAME}", "from-keyring")
    assert SecretResolver("us", store_count=1, environ={}, use_keyring=False).lookup(NAME).source == "missing"
    assert memory_keyring.reads == []


def test_no_keyring_message_is_one_line_naming_the_variable() -> None:
    # conftest selects keyring's "fail" backend, as on a server without a keyring
    resolver = SecretResolver("us", store_count=1, environ={})
    with pytest.raises(MissingSecretError) as info:
        resolver.require(NAME)
    err = info.value
    assert err.exit_code == ExitCode.CONFIG == 3
    assert "\n" not in err.message
    assert "WMSYNC_US_WALMART_CLIENT_SECRET" in err.message
    assert "WMSYNC_WALMART_CLIENT_SECRET" in err.message  # one store: the generic name works too
    assert "keyring not usable" in err.message
    assert err.hint == "export WMSYNC_US_WALMART_CLIENT_SECRET=..."


def test_missing_with_several_stores_does_not_offer_the_generic_name() -> None:
    with pytest.raises(MissingSecretError) as info:
        SecretResolver("ca", store_count=2, environ={}).require("COMMERCE_TOKEN")
    assert "WMSYNC_CA_COMMERCE_TOKEN" in info.value.message
    assert "WMSYNC_COMMERCE_TOKEN" not in info.value.message


def test_missing_with_a_keyring_suggests_stores_add(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(MissingSecretError) as info:
        SecretResolver("us", store_count=1, environ={}).require(NAME)
    assert "wmsync stores add us" in info.value.message
    assert "\n" not in info.value.message


def test_require_returns_the_value() -> None:
    resolver = SecretResolver("us", store_count=1, environ={"WMSYNC_US_WALMART_CLIENT_SECRET": "s3cret-value"})
    assert resolver.require(NAME) == "s3cret-value"


def test_fixed_secrets_for_the_sandbox() -> None:
    resolver = SecretResolver("sandbox", store_count=1, environ={"WMSYNC_SANDBOX_WALMART_CLIENT_SECRET": "env"},
                              fixed={NAME: "sandbox-secret"})
    found = resolver.lookup(NAME)
    assert (found.source, found.value) == ("built-in sandbox", "sandbox-secret")
    assert resolver.lookup("COMMERCE_TOKEN").source == "missing"


def test_lookup_repr_never_shows_the_value() -> None:
    found = SecretResolver("us", store_count=1, environ={"WMSYNC_US_WALMART_CLIENT_SECRET": "hunter2-canary"}
                           ).lookup(NAME)
    assert found.value == "hunter2-canary"
    for text in (repr(found), str(found), f"{found}", f"{found!r}", repr([found]), repr({"k": found})):
        assert "hunter2-canary" not in text
        assert "WMSYNC_US_WALMART_CLIENT_SECRET" in text
    assert "hunter2" not in repr(Lookup("X", "env", "WMSYNC_X", "hunter2"))


def test_redact_masks_registered_values() -> None:
    register_secret("alpha-secret-1")
    register_secret("alpha-secret-1-longer")
    text = "a=alpha-secret-1 b=alpha-secret-1-longer c=alpha-secret-1"
    assert redact(text) == "a=**** b=**** c=****"
    assert redact("nothing to hide") == "nothing to hide"


def test_short_values_are_not_registered() -> None:
    register_secret("abc")
    register_secret("")
    register_secret(None)
    assert redact("abc is a word") == "abc is a word"


def test_looked_up_values_are_redacted_from_then_on(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("wmsync", "kr:COMMERCE_TOKEN", "keyring-value-42")
    env = {"WMSYNC_KR_WALMART_CLIENT_SECRET": "env-value-43", "WMSYNC_COMMERCE_CONSUMER_KEY": "generic-value-44"}
    resolver = SecretResolver("kr", store_count=1, environ=env)
    for name in (NAME, "COMMERCE_TOKEN", "COMMERCE_CONSUMER_KEY"):
        assert resolver.lookup(name).value
    assert redact("env-value-43 keyring-value-42 generic-value-44") == "**** **** ****"


def test_keyring_available() -> None:
    assert secrets.keyring_available() is False  # the fail backend


def test_keyring_available_with_a_backend(memory_keyring: MemoryKeyring) -> None:
    assert secrets.keyring_available() is True
    secrets.keyring_set("us", NAME, "stored-1")
    assert memory_keyring.entries == {("wmsync", f"us:{NAME}"): "stored-1"}
    assert secrets.keyring_delete("us", secrets.ALL_NAMES) == [NAME]
    assert memory_keyring.entries == {}


def test_keyring_delete_never_fails_without_a_backend() -> None:
    assert secrets.keyring_delete("us", secrets.ALL_NAMES) == []
