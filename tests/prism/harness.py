"""Run Stoplight Prism as a validating proxy in tests, and read the violations it reports.

``prism proxy <document> <upstream> --errors`` forwards each request to the upstream and checks both directions
against the document:

- a request that violates the document is NOT forwarded: Prism answers 422 (``application/problem+json``,
  ``type`` ending in ``#UNPROCESSABLE_ENTITY``, the violations in ``validation``), or 401 ``#UNAUTHORIZED`` when a
  security requirement is not met, or 404 ``#NO_PATH_MATCHED_ERROR`` / 405 for an undocumented route;
- a response that violates the document with severity Error is replaced by a 500 problem+json
  (``#VIOLATIONS``), the violations also in the ``sl-violations`` header;
- a response with only warnings (e.g. an undeclared status code) is passed through with an ``sl-violations``
  header.

:func:`assert_no_violations` fails on all of these. The binary is found through ``$WMSYNC_PRISM`` or
``<repo>/.ci/.work/node_modules/.bin/prism`` (installed by ``.ci/install-prism``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

REPO_ROOT = Path(__file__).resolve().parents[2]
PRISM_ENV = "WMSYNC_PRISM"
DEFAULT_PRISM = REPO_ROOT / ".ci" / ".work" / "node_modules" / ".bin" / "prism"
PRISM_ERROR_TYPE = "https://stoplight.io/prism/errors#"

__all__ = [
    "PrismProcess",
    "PrismStartError",
    "StubUpstream",
    "Violation",
    "assert_no_violations",
    "assert_violation",
    "find_prism",
    "free_port",
    "prism_error",
    "prism_missing_reason",
    "prism_proxy",
    "prism_violations",
    "require_prism",
]


# --- locating the binary -----------------------------------------------------------------------------------------


def find_prism() -> Path | None:
    """$WMSYNC_PRISM if set (must be executable), else the copy installed by .ci/install-prism, else None."""
    env = os.environ.get(PRISM_ENV)
    candidate = Path(env).expanduser() if env else DEFAULT_PRISM
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    return None


def prism_missing_reason() -> str | None:
    if find_prism() is not None:
        return None
    env = os.environ.get(PRISM_ENV)
    where = f"${PRISM_ENV}={env}" if env else str(DEFAULT_PRISM)
    return f"Stoplight Prism not found ({where} is not an executable); run .ci/install-prism"


def require_prism() -> Path:
    """The Prism binary; otherwise skip the calling test, or fail it when $CI is set."""
    import pytest

    prism = find_prism()
    if prism is None:
        reason = prism_missing_reason() or "Prism not found"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (required when CI is set)")
        pytest.skip(reason)
    return prism


# --- running Prism -----------------------------------------------------------------------------------------------


class PrismStartError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class PrismProcess:
    """One ``prism proxy`` process on 127.0.0.1. Use :meth:`start`, then :meth:`stop` (or ``with``)."""

    document: Path
    upstream: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    startup_seconds: float = 0.0
    _log_file: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls,
        document: Path | str,
        upstream: str,
        *,
        prism: Path | None = None,
        port: int | None = None,
        timeout: float = 90.0,
        log_dir: Path | None = None,
        verbose_level: str = "info",
    ) -> PrismProcess:
        """Start ``prism proxy document upstream --errors`` and wait until it accepts connections.

        Raises PrismStartError (with the end of Prism's log) if it exits or does not listen within ``timeout``.
        """
        binary = prism or find_prism()
        if binary is None:
            raise PrismStartError(prism_missing_reason() or "Prism not found")
        document = Path(document)
        if not document.is_file():
            raise PrismStartError(f"document not found: {document}")
        log_dir = log_dir or Path(tempfile.mkdtemp(prefix="wmsync-prism-"))
        attempts = 1 if port is not None else 3
        last_error: PrismStartError | None = None
        for attempt in range(attempts):
            chosen = port if port is not None else free_port()
            log_path = log_dir / f"prism-{document.stem}-{chosen}.log"
            try:
                return cls._start_once(binary, document, upstream, chosen, timeout, log_path, verbose_level)
            except PrismStartError as exc:
                last_error = exc
                if "EADDRINUSE" not in str(exc) or attempt == attempts - 1:
                    raise
        raise last_error or PrismStartError("Prism did not start")  # pragma: no cover

    @classmethod
    def _start_once(
        cls,
        binary: Path,
        document: Path,
        upstream: str,
        port: int,
        timeout: float,
        log_path: Path,
        verbose_level: str,
    ) -> PrismProcess:
        command = [
            str(binary),
            "proxy",
            str(document),
            upstream,
            "--errors",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--cors",
            "false",
            "--verboseLevel",
            verbose_level,
        ]
        log_file = log_path.open("wb")
        began = time.monotonic()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends Prism and anything it forked
        )
        proxy = cls(document, upstream, port, log_path, process, _log_file=log_file)
        deadline = began + timeout
        while True:
            if process.poll() is not None:
                proxy.stop()
                raise PrismStartError(
                    f"Prism exited with {process.returncode} before listening on port {port}:\n{proxy.log_tail()}"
                )
            if _listening(port):
                proxy.startup_seconds = time.monotonic() - began
                return proxy
            if time.monotonic() > deadline:
                proxy.stop()
                raise PrismStartError(f"Prism did not listen on port {port} within {timeout}s:\n{proxy.log_tail()}")
            time.sleep(0.05)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self, grace: float = 5.0) -> None:
        """Stop Prism: SIGTERM to its process group, SIGKILL after ``grace`` seconds. Idempotent."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(grace)
        if self._log_file is not None and not self._log_file.closed:
            self._log_file.close()

    def __enter__(self) -> PrismProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def prism_proxy(document_path: Path | str, upstream_url: str, **kwargs: Any) -> Iterator[str]:
    """Run ``prism proxy document upstream --errors`` on a free 127.0.0.1 port; yields its base URL."""
    with PrismProcess.start(document_path, upstream_url, **kwargs) as proxy:
        yield proxy.url


# --- reading violations ------------------------------------------------------------------------------------------


class _Response(Protocol):
    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...


@dataclass(frozen=True)
class Violation:
    location: tuple[str, ...]
    severity: str  # "Error", "Warning", ...
    message: str
    code: str | None = None

    def __str__(self) -> str:
        where = ".".join(self.location) or "(request)"
        return f"[{self.severity}] {where}: {self.message}"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Violation:
        code = data.get("code")
        return cls(
            location=tuple(str(p) for p in data.get("location", ())),
            severity=str(data.get("severity", "Error")),
            message=str(data.get("message", "")),
            code=None if code is None else str(code),
        )


def _header(response: _Response, name: str) -> str | None:
    value = response.headers.get(name)
    if value is None:  # plain dicts are case-sensitive
        lowered = name.lower()
        value = next((v for k, v in response.headers.items() if k.lower() == lowered), None)
    return value


def prism_error(response: _Response) -> dict[str, Any] | None:
    """The problem+json document when Prism (not the upstream) produced this response, else None."""
    content_type = _header(response, "content-type") or ""
    if "json" not in content_type:
        return None
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return None
    if isinstance(body, dict) and str(body.get("type", "")).startswith(PRISM_ERROR_TYPE):
        return body
    return None


def prism_violations(response: _Response) -> list[Violation]:
    """Every violation Prism reported on this response (``sl-violations`` header and problem+json body)."""
    found: list[Violation] = []
    header = _header(response, "sl-violations")
    if header:
        found.extend(Violation.from_json(v) for v in json.loads(header))
    error = prism_error(response)
    if error is not None:
        for item in error.get("validation", []):
            violation = Violation.from_json(item)
            if violation not in found:
                found.append(violation)
    return found


def _describe(response: _Response) -> str:
    error = prism_error(response)
    lines = [f"HTTP {response.status_code}"]
    if error is not None:
        kind = str(error.get("type", "")).removeprefix(PRISM_ERROR_TYPE)
        lines[0] += f" from Prism ({kind}): {error.get('title')} - {error.get('detail')}"
    lines += [f"  - {v}" for v in prism_violations(response)]
    return "\n".join(lines)


def assert_no_violations(response: _Response, *, allow_warnings: bool = False) -> None:
    """Fail unless the response came from the upstream with no violation reported by Prism.

    Warnings (e.g. an undeclared status code) fail too, unless ``allow_warnings``.
    """
    error = prism_error(response)
    violations = prism_violations(response)
    if not allow_warnings:
        blocking = violations
    else:
        blocking = [v for v in violations if v.severity.lower() not in ("warning", "information", "hint")]
    if error is not None or blocking:
        raise AssertionError(f"Prism reported a problem with this exchange:\n{_describe(response)}")


def assert_violation(
    response: _Response,
    *,
    status: int | None = None,
    location: str | None = None,
    message: str | re.Pattern[str] | None = None,
) -> list[Violation]:
    """Assert Prism flagged the exchange; optionally that some violation's dotted location starts with
    ``location`` (case-insensitive: Prism lower-cases header and path parameter names) and its message
    contains ``message`` (a substring or regex). Returns all violations."""
    violations = prism_violations(response)
    error = prism_error(response)
    if error is None and not violations:
        raise AssertionError(f"expected Prism to flag this exchange, got a clean HTTP {response.status_code}")
    if status is not None and response.status_code != status:
        raise AssertionError(f"expected HTTP {status}, got:\n{_describe(response)}")
    if location is not None or message is not None:

        def matches(v: Violation) -> bool:
            if location is not None and not ".".join(v.location).lower().startswith(location.lower()):
                return False
            if message is None:
                return True
            if isinstance(message, re.Pattern):
                return message.search(v.message) is not None
            return message in v.message

        if not any(matches(v) for v in violations):
            raise AssertionError(f"no violation at {location!r} matching {message!r} in:\n{_describe(response)}")
    return violations


# --- a stub upstream ---------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]


class StubUpstream:
    """A tiny JSON server on 127.0.0.1 for harness tests: canned answers per route, requests recorded.

    ``route("GET", "/v3/orders/{id}", 200, {...})``: ``{name}`` matches one path segment; the query string is
    ignored; the most recently added matching route wins. Unknown routes answer 599 so they stand out.
    """

    def __init__(self) -> None:
        self.routes: list[_Route] = []
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # silence stderr
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                with stub._lock:
                    stub.requests.append(
                        RecordedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    route = next(
                        (r for r in reversed(stub.routes) if r.method == self.command and r.pattern.match(path)),
                        None,
                    )
                if route is None:
                    status, payload, headers = 599, {"stub": f"no route for {self.command} {path}"}, {}
                else:
                    status, payload, headers = route.status, route.body, route.headers
                raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
                for key, value in headers.items():
                    if key != "Content-Type":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="stub-upstream", daemon=True)

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def route(self, method: str, path: str, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")
        with self._lock:
            self.routes.append(_Route(method.upper(), pattern, status, body, dict(headers or {})))

    def received(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and r.path.startswith(path_prefix)]

    def start(self) -> StubUpstream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> StubUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
