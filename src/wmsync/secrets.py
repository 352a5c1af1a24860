"""Secrets: environment variables first (per store, then generic), then the system keyring.

They are never read from the config file, never accepted as flag values, and every value that was looked up is
registered for redaction, so it is masked wherever wmsync writes text (stderr traces, trace files, errors).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from wmsync.errors import ConfigError, MissingSecretError

KEYRING_SERVICE = "wmsync"
COMMERCE_BEARER = ("COMMERCE_TOKEN",)
COMMERCE_OAUTH1 = (
    "COMMERCE_CONSUMER_KEY",
    "COMMERCE_CONSUMER_SECRET",
    "COMMERCE_ACCESS_TOKEN",
    "COMMERCE_ACCESS_TOKEN_SECRET",
)
WALMART = ("WALMART_CLIENT_SECRET",)
ALL_NAMES = COMMERCE_BEARER + COMMERCE_OAUTH1 + WALMART

Source = Literal["env", "env (generic)", "keyring", "missing", "built-in sandbox"]


def names_for(commerce_auth: str) -> tuple[str, ...]:
    return (COMMERCE_BEARER if commerce_auth == "bearer" else COMMERCE_OAUTH1) + WALMART


def env_name(store: str, name: str) -> str:
    """``WMSYNC_<STORE>_<NAME>``: store upper-cased, non-alphanumerics as ``_``."""
    return f"WMSYNC_{re.sub(r'[^A-Za-z0-9]', '_', store).upper()}_{name}"


def generic_env_name(name: str) -> str:
    return f"WMSYNC_{name}"


# ---------------------------------------------------------------- redaction

_redact_lock = threading.Lock()
_redact_values: set[str] = set()
MASK = "****"


def register_secret(value: str | None) -> None:
    """Mask this value in everything wmsync writes from now on."""
    if value and len(value) >= 4:
        with _redact_lock:
            _redact_values.add(value)


def redact(text: str) -> str:
    if not _redact_values:
        return text
    with _redact_lock:
        values = sorted(_redact_values, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


# ---------------------------------------------------------------- keyring (lazy: importing it is slow)


class KeyringUnavailable(Exception):
    pass


def _keyring_get(store: str, name: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError, NoKeyringError
    except Exception as exc:  # pragma: no cover - keyring is a dependency
        raise KeyringUnavailable(str(exc)) from exc
    try:
        value: str | None = keyring.get_password(KEYRING_SERVICE, f"{store}:{name}")
    except NoKeyringError as exc:
        raise KeyringUnavailable("no keyring backend on this machine") from exc
    except KeyringError as exc:
        raise KeyringUnavailable(str(exc)) from exc
    return value


def keyring_available() -> bool:
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:
        return False
    return not isinstance(backend, fail.Keyring)


def keyring_set(store: str, name: str, value: str) -> None:
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(KEYRING_SERVICE, f"{store}:{name}", value)
    except KeyringError as exc:
        raise ConfigError(f"could not store {name} in the keyring: {exc}") from exc


def keyring_delete(store: str, names: Iterable[str]) -> list[str]:
    """Delete what is there; return the names deleted. Never fails for a missing entry or backend."""
    deleted: list[str] = []
    try:
        import keyring
        from keyring.errors import KeyringError, PasswordDeleteError
    except Exception:  # pragma: no cover
        return deleted
    for name in names:
        try:
            keyring.delete_password(KEYRING_SERVICE, f"{store}:{name}")
            deleted.append(name)
        except (PasswordDeleteError, KeyringError):
            continue
        except Exception:
            continue
    return deleted


# ---------------------------------------------------------------- lookup


@dataclass(frozen=True)
class Lookup:
    name: str
    source: Source
    where: str  # the variable name or keyring entry; never the value
    value: str | None = None

    def __repr__(self) -> str:  # never show the value
        return f"Lookup(name={self.name!r}, source={self.source!r}, where={self.where!r})"


class SecretResolver:
    """Finds the secrets of one store. ``environ`` is injectable for tests."""

    def __init__(
        self,
        store: str,
        *,
        store_count: int,
        environ: Mapping[str, str] | None = None,
        use_keyring: bool = True,
        fixed: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.store_count = store_count
        self.environ = os.environ if environ is None else environ
        self.use_keyring = use_keyring
        self.fixed = fixed
        self._keyring_error: str | None = None

    def lookup(self, name: str) -> Lookup:
        if self.fixed is not None:
            value = self.fixed.get(name)
            return Lookup(name, "built-in sandbox" if value else "missing", "sandbox", value)
        per_store = env_name(self.store, name)
        value = self.environ.get(per_store)
        if value:
            register_secret(value)
            return Lookup(name, "env", per_store, value)
        generic = generic_env_name(name)
        if self.store_count == 1:
            value = self.environ.get(generic)
            if value:
                register_secret(value)
                return Lookup(name, "env (generic)", generic, value)
        if self.use_keyring and self._keyring_error is None:
            try:
                value = _keyring_get(self.store, name)
            except KeyringUnavailable as exc:
                self._keyring_error = str(exc)
                value = None
            if value:
                register_secret(value)
                return Lookup(name, "keyring", f"{KEYRING_SERVICE}/{self.store}:{name}", value)
        return Lookup(name, "missing", per_store)

    def require(self, name: str) -> str:
        found = self.lookup(name)
        if found.value:
            return found.value
        where = env_name(self.store, name)
        extra = ""
        if self.store_count == 1:
            extra = f" (or {generic_env_name(name)})"
        keyring_note = ""
        if self._keyring_error:
            keyring_note = f"; keyring not usable here: {self._keyring_error}"
        else:
            keyring_note = f", or store it with `wmsync stores add {self.store}` in the keyring"
        raise MissingSecretError(
            f"missing secret {name} for store {self.store!r}: set {where}{extra}{keyring_note}",
            hint=f"export {where}=...",
        )
