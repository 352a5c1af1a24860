"""The sandbox over HTTP: a threaded server on 127.0.0.1 that hands every request to :meth:`Sandbox.handle`.

Transport faults become socket behaviour, as close to the real thing as a local server gets:

* ``timeout`` / ``applied_timeout``: the server holds the connection without answering (up to
  ``hold_seconds``, or until the server stops), so the client's read timeout fires;
* ``reset`` / ``applied_reset``: the connection is aborted with a TCP reset;
* ``connect``: the connection is closed without a response (an accepted connection cannot be refused).

Usage::

    with SandboxServer(Sandbox(path)) as base_url:   # port 0: a free port
        httpx.get(base_url + "/_sandbox/state")
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from wmsync.sandbox.core import Sandbox
    from wmsync.sandbox.settings import SandboxSettings

__all__ = ["NonLoopbackError", "SandboxServer", "is_loopback", "serve"]

log = logging.getLogger("wmsync.sandbox.server")

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class NonLoopbackError(ValueError):
    """Refusing to listen on a non-loopback address without ``allow_remote=True``."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox, hold_seconds: float) -> None:
        self.sandbox = sandbox
        self.hold_seconds = hold_seconds
        self.stopping = threading.Event()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "wmsync-sandbox"
    # TCP_NODELAY: the status line and headers go out before the body, and with Nagle's algorithm the body of
    # every answer on a kept-alive connection would wait for the client's delayed ACK (~40 ms on Linux).
    disable_nagle_algorithm = True
    sys_version = ""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _read_body(self) -> bytes | None:
        """The request body, or None when the client went away before sending all of it: the web server in
        front of Magento never runs such a request (it waits for the whole body, then drops the connection)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline()
                if not line:
                    return None
                size = int(line.strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunk = self.rfile.read(size)
                if len(chunk) < size:
                    return None
                chunks.append(chunk)
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0:
            return b""
        body = self.rfile.read(length)
        return body if len(body) == length else None

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self.close_connection = True
            return
        host = self.headers.get("Host") or f"{self.server.server_name}:{self.server.server_port}"
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in ("content-length", "transfer-encoding")]
        request = httpx.Request(self.command, f"http://{host}{self.path}", headers=headers, content=body)
        try:
            response = self.server.sandbox.handle(request)
        except httpx.TimeoutException:
            self.server.stopping.wait(self.server.hold_seconds)
            self._abort(reset=False)
            return
        except httpx.RemoteProtocolError:
            self._abort(reset=True)
            return
        except httpx.TransportError:
            self._abort(reset=False)
            return
        content = response.content
        self.send_response(response.status_code)
        for key, value in response.headers.multi_items():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    def _abort(self, *, reset: bool) -> None:
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:  # pragma: no cover - the peer may be gone already
            pass

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.sandbox.db.release()


class SandboxServer:
    """Serve a sandbox over HTTP. ``port=0`` picks a free port; only loopback hosts unless ``allow_remote``."""

    def __init__(
        self,
        sandbox: Sandbox,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        allow_remote: bool = False,
        hold_seconds: float = 60.0,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise NonLoopbackError(
                f"refusing to listen on {host!r}: the sandbox listens on loopback addresses only "
                "(127.0.0.1, ::1, localhost) unless remote access is explicitly allowed"
            )
        self.sandbox = sandbox
        self._host = host
        self._port = port
        self._hold = hold_seconds
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        address = self._httpd.server_address
        host = address[0].decode() if isinstance(address[0], bytes) else str(address[0])
        port = address[1]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def _bind(self) -> _Server:
        if self._httpd is None:
            server_class = _Server
            if ":" in self._host:

                class _Server6(_Server):
                    address_family = socket.AF_INET6

                server_class = _Server6
            self._httpd = server_class((self._host, self._port), self.sandbox, self._hold)
        return self._httpd

    def start(self) -> str:
        """Start serving in a background thread; returns the base URL."""
        httpd = self._bind()
        if self._thread is None:
            self._thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="wmsync-sandbox", daemon=True
            )
            self._thread.start()
        return self.base_url

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` is called from another thread."""
        self._bind().serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        httpd = self._httpd
        if httpd is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
        self._httpd = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    db_path: Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    overrides: Mapping[str, Any] | None = None,
    settings: SandboxSettings | None = None,
    on_ready: Callable[[str], None] | None = None,
    allow_remote: bool = False,
    stop_event: threading.Event | None = None,
) -> None:
    """Serve the sandbox at ``db_path`` (default: :func:`wmsync.sandbox.default_db_path`) until SIGINT or
    SIGTERM (or ``stop_event``). ``settings`` and/or ``overrides`` (field → value, applied on top of the saved
    settings or of ``settings``) fix this server's behaviour; without them it follows the saved settings.
    ``on_ready`` gets the base URL once the socket listens."""
    import signal

    from wmsync.sandbox import default_db_path
    from wmsync.sandbox.core import Sandbox

    path = Path(db_path) if db_path is not None else default_db_path()
    effective: SandboxSettings | None = None
    if settings is not None or overrides:
        probe = Sandbox(path)
        try:
            base = settings if settings is not None else probe.load_settings()
        finally:
            probe.close()
        effective = base.replace(**dict(overrides or {}))
    sandbox = Sandbox(path, settings=effective)
    server = SandboxServer(sandbox, host, port, allow_remote=allow_remote)
    stop = stop_event if stop_event is not None else threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        base_url = server.start()
        if on_ready is not None:
            on_ready(base_url)
        while not stop.wait(0.25):
            pass
    finally:
        server.stop()
        sandbox.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
