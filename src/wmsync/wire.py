"""The few HTTP types that do not need httpx: case-insensitive headers, a request a signer can sign, and the
``Wire`` seam between :class:`wmsync.http.Http` and whatever carries a request.

Two wires exist. :class:`wmsync.http.HttpxWire` is the network (httpx, imported when the first client is
built, never for ``--version``/``--help``), and also takes any httpx transport (tests, pytest-httpx).
``wmsync.sandbox.core.SandboxWire`` answers in-process from the sandbox without httpx at all, so a command run
against ``--store sandbox`` does not pay for loading an HTTP stack it never uses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

TransportFailure = Literal["connect", "timeout", "reset", "malformed"]

__all__ = ["Headers", "TransportFailure", "Wire", "WireError", "WireRequest"]


class Headers(Mapping[str, str]):
    """Response or request headers: looked up without regard to case, kept in the order and case received."""

    __slots__ = ("_items", "_lower")

    def __init__(self, items: Mapping[str, str] | list[tuple[str, str]] | None = None) -> None:
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items or [])
        self._items: dict[str, str] = {}
        self._lower: dict[str, str] = {}
        for key, value in pairs:
            self[key] = value

    def __setitem__(self, key: str, value: str) -> None:
        old = self._lower.get(key.lower())
        if old is not None:
            del self._items[old]
        self._items[key] = value
        self._lower[key.lower()] = key

    def __getitem__(self, key: str) -> str:
        return self._items[self._lower[key.lower()]]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._lower

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class WireRequest:
    """A request about to be sent: what a signer reads (``method``, ``url``) and writes (``headers``)."""

    __slots__ = ("content", "headers", "method", "url")

    def __init__(self, method: str, url: str, headers: Mapping[str, str], content: bytes | None) -> None:
        self.method = method.upper()
        self.url = url
        self.headers = Headers(headers)
        self.content = content or b""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


class WireError(Exception):
    """The request got no answer: ``kind`` is ``connect`` (not sent), ``timeout`` or ``reset`` (perhaps applied)."""

    def __init__(self, kind: TransportFailure, text: str) -> None:
        super().__init__(text)
        self.kind = kind


class Wire:
    """Carries requests. ``build`` makes the request a signer then signs; ``send`` returns
    (status, headers, body) or raises :class:`WireError`; ``path`` is the request's URL path (for hooks)."""

    def build(
        self,
        method: str,
        url: str,
        *,
        params: Any,
        content: bytes | None,
        form: Mapping[str, str] | None,
        headers: dict[str, str],
    ) -> Any:
        from urllib.parse import urlencode

        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        if form is not None:
            content = urlencode(form).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return WireRequest(method, url, headers, content)

    def path(self, request: Any) -> str:
        return str(request.path)

    def send(self, request: Any) -> tuple[int, Mapping[str, str], bytes]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        return None


def reason_phrase(status: int) -> str:
    """``404`` → ``Not Found``; ``""`` for a status HTTP does not name."""
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
