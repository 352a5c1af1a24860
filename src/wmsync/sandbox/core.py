"""The sandbox: one object that turns a request into the response Walmart or Commerce would give — an
``httpx.Request`` (:class:`SandboxTransport`) or, without loading httpx, a :class:`wmsync.wire.WireRequest`
(:class:`SandboxWire`, what ``--store sandbox`` uses).

All state lives in SQLite (see :mod:`wmsync.sandbox.db`), so several processes can share one sandbox. Each
request runs in one ``BEGIN IMMEDIATE`` transaction: due Channel Manager events first, then the handler, then
the request log entry.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wmsync.sandbox import channel_manager, commerce, faults, walmart
from wmsync.sandbox.common import Ctx, ParsedRequest, Reply
from wmsync.sandbox.constants import BASE_URL
from wmsync.sandbox.db import STATE_TABLES, Database
from wmsync.sandbox.settings import SandboxSettings
from wmsync.wire import Headers, Wire, WireError

if TYPE_CHECKING:
    import httpx

__all__ = ["LogEntry", "Sandbox", "SandboxFault", "SandboxTransport", "SandboxWire"]

log = logging.getLogger("wmsync.sandbox")

WRITE_OPERATIONS = (
    "walmart.acknowledge",
    "walmart.ship",
    "walmart.cancel",
    "commerce.ship",
    "commerce.cancel",
    "commerce.add_comment",
    "commerce.hold",
    "commerce.unhold",
)
DEFAULT_FAULT_LATENCY_MS = 1500


@dataclass(frozen=True)
class LogEntry:
    """One request the sandbox saw. ``status`` is None when no response was sent (transport fault);
    ``applied`` is True when the request reached the simulated service (its writes took effect)."""

    id: int
    time: float
    service: str
    operation: str
    method: str
    path: str
    query: str
    status: int | None
    correlation_id: str | None
    fault: str | None
    request_body: str | None
    applied: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SandboxFault(Exception):
    """A transport fault the sandbox injected: ``kind`` is a fault kind (``timeout``, ``applied_reset``, …)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def SandboxTransport(sandbox: Sandbox) -> httpx.BaseTransport:
    """An httpx transport answering every request from the sandbox (no network)."""
    return _transport_class()(sandbox)  # type: ignore[no-any-return]


@functools.cache
def _transport_class() -> type:
    """The transport class, defined when first wanted: httpx is loaded then, not with the sandbox."""
    import httpx

    class _SandboxTransport(httpx.BaseTransport):
        def __init__(self, sandbox: Sandbox) -> None:
            self._sandbox = sandbox

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            return self._sandbox.handle(request)

    return _SandboxTransport


class SandboxWire(Wire):
    """Requests answered in-process by the sandbox, without httpx: what ``--store sandbox`` runs on."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    def send(self, request: Any) -> tuple[int, Headers, bytes]:
        req = ParsedRequest.parse(request.method, request.url, request.headers, request.content)
        try:
            status, headers, body = self._sandbox.answer(req)
        except SandboxFault as exc:
            failure, error, text = _TRANSPORT_FAULTS[exc.kind]
            raise WireError(failure, f"{error}: {text}") from None
        return status, Headers(headers), body


#: each transport fault: what the client meets (a wire failure), and the httpx error and text that carry it
_TRANSPORT_FAULTS: dict[str, tuple[Any, str, str]] = {
    kind: (failure, error, text)
    for kinds, failure, error, text in (
        (("timeout", "applied_timeout"), "timeout", "ReadTimeout", "The read operation timed out (sandbox fault)"),
        (("connect",), "connect", "ConnectError", "[Errno 111] Connection refused (sandbox fault)"),
        (("reset", "applied_reset"), "reset", "RemoteProtocolError",
         "Server disconnected without sending a response. (sandbox fault)"),
    )
    for kind in kinds
}


class Sandbox:
    """The simulated Walmart + Commerce pair.

    ``settings``: when given, this instance uses them instead of the ones saved in the database (a server
    started with explicit settings); otherwise the saved settings apply, re-read on every request.
    ``clock`` gives the sandbox time (token expiry, Channel Manager delays, order dates); ``sleep`` is used
    for latency (pass a fake in tests).
    """

    def __init__(
        self,
        db_path: Path,
        settings: SandboxSettings | None = None,
        clock: Callable[[], float] = time.time,
        *,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.db = Database(self.db_path)
        self._override = settings
        self._clock = clock
        if sleep is None:
            from wmsync.clock import SystemClock

            sleep = SystemClock().sleep
        self._sleep = sleep
        self._rng_lock = threading.Lock()
        self._rng_seed: int | None = None
        self._rng = random.Random()
        self._debug = os.environ.get("WMSYNC_SANDBOX_DEBUG") == "1"
        self.ensure_seeded()

    # ------------------------------------------------------------------------------------------- settings

    def load_settings(self) -> SandboxSettings:
        """The settings saved in the database (defaults when none were saved)."""
        row = self.db.connection().execute("SELECT value FROM settings WHERE key = 'settings'").fetchone()
        if row is None:
            return SandboxSettings()
        return SandboxSettings.from_dict(json.loads(row[0]))

    def save_settings(self, settings: SandboxSettings) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('settings', ?)", (settings.to_json(),))

    def update_settings(self, **changes: Any) -> SandboxSettings:
        """Change some saved settings; returns the new saved settings."""
        new = self.load_settings().replace(**changes)
        self.save_settings(new)
        return new

    @property
    def settings(self) -> SandboxSettings:
        """The settings in effect for this instance."""
        return self._override if self._override is not None else self.load_settings()

    # ------------------------------------------------------------------------------------------- data

    def ensure_seeded(self) -> None:
        """Seed a fresh database (once, even with several processes starting together)."""
        with self.db.transaction() as conn:
            if conn.execute("SELECT value FROM meta WHERE key = 'seeded'").fetchone() is None:
                self._seed(conn, orders=0, seed=0)

    def reset(self, orders: int | None = None, seed: int = 0) -> None:
        """Back to the fixed seed (plus ``orders`` generated orders). Settings and issued tokens are kept."""
        with self.db.transaction() as conn:
            for table in STATE_TABLES:
                if table != "w_tokens":
                    conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM sqlite_sequence WHERE name != 'w_tokens'")
            self._seed(conn, orders=orders or 0, seed=seed)

    def _seed(self, conn: Any, *, orders: int, seed: int) -> None:
        from wmsync.sandbox.seed import seed as write_seed

        write_seed(conn, self._clock(), orders=orders, rng_seed=seed)
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('seeded', ?)",
            (json.dumps({"orders": orders, "seed": seed, "at": self._clock()}),),
        )

    # ------------------------------------------------------------------------------------------- HTTP

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport answering from this sandbox (for httpx clients and tests that wrap it)."""
        return SandboxTransport(self)

    def wire(self) -> SandboxWire:
        """What wmsync's own clients use in-process: the same answers without httpx."""
        return SandboxWire(self)

    def client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` wired to this sandbox, with ``BASE_URL`` as base URL."""
        import httpx

        kwargs.setdefault("base_url", BASE_URL)
        return httpx.Client(transport=self.transport(), **kwargs)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request. Raises ``httpx.ReadTimeout`` / ``httpx.ConnectError`` /
        ``httpx.RemoteProtocolError`` for transport faults (after applying the request for ``applied_*``)."""
        import httpx

        try:
            status, headers, body = self.answer(ParsedRequest.from_httpx(request))
        except SandboxFault as exc:
            raise _transport_error(exc.kind, request) from None
        return httpx.Response(status, headers=headers, content=body, request=request)

    def answer(self, req: ParsedRequest) -> tuple[int, dict[str, str], bytes]:
        """Answer one parsed request: (status, headers, body). Raises :class:`SandboxFault` for a transport
        fault (after applying the request for ``applied_*``)."""
        if req.path.startswith("/_sandbox"):
            reply = self._control(req)
            return reply.status, reply.all_headers(), reply.content()
        service, operation, params = self._route(req)
        settings = self.settings
        with self.db.transaction() as conn:
            fault = faults.pick(conn, req.method, req.path, settings, self._rng_for(settings))
        delay_ms = settings.latency_ms
        if fault == "latency":
            delay_ms += settings.latency_ms or DEFAULT_FAULT_LATENCY_MS
        if delay_ms > 0:
            self._sleep(delay_ms / 1000.0)
        if fault in ("timeout", "connect", "reset"):
            self._log_only(req, service, operation, None, fault)
            raise SandboxFault(fault)
        if fault in ("500", "503", "504", "429", "520", "423"):
            reply = faults.error_reply(service, fault)
            self._log_only(req, service, operation, reply.status, fault)
            return reply.status, reply.all_headers(), reply.content()

        reply = self._apply(req, service, operation, params, settings, fault)
        if fault in ("applied_timeout", "applied_reset"):
            raise SandboxFault(fault)
        content = reply.content()
        if fault == "malformed":
            content = content[: max(1, len(content) // 2)]
        return reply.status, reply.all_headers(), content

    def _route(self, req: ParsedRequest) -> tuple[str, str, dict[str, str]]:
        if req.path == "/v3" or req.path.startswith("/v3/"):
            op, params = walmart.route(req.method, req.path)
            return "walmart", op, params
        op, params = commerce.route(req.method, req.path)
        return "commerce", op, params

    def _apply(
        self,
        req: ParsedRequest,
        service: str,
        operation: str,
        params: dict[str, str],
        settings: SandboxSettings,
        fault: str | None,
    ) -> Reply:
        try:
            with self.db.transaction() as conn:
                ctx = Ctx(conn, self._clock(), settings)
                channel_manager.process_due(ctx)
                if service == "walmart":
                    reply = walmart.handle(ctx, req, operation, params)
                else:
                    reply = commerce.handle(ctx, req, operation, params)
                self._log(conn, ctx.now, req, service, operation, reply.status, fault, applied=True)
                return reply
        except Exception:
            if self._debug:
                raise
            log.exception("sandbox: unexpected error handling %s %s", req.method, req.path)
            reply = faults.error_reply(service, "500")
            self._log_only(req, service, operation, reply.status, "internal_error")
            return reply

    def _rng_for(self, settings: SandboxSettings) -> random.Random:
        with self._rng_lock:
            if settings.seed is not None and settings.seed != self._rng_seed:
                self._rng = random.Random(settings.seed)
                self._rng_seed = settings.seed
            return self._rng

    def _log(
        self,
        conn: Any,
        now: float,
        req: ParsedRequest,
        service: str,
        operation: str,
        status: int | None,
        fault: str | None,
        *,
        applied: bool,
    ) -> None:
        correlation = (
            req.headers.get("WM_QOS.CORRELATION_ID")
            or req.headers.get("X-Correlation-Id")
            or req.headers.get("X-Request-Id")
        )
        body = None
        if req.method != "GET" and req.body:
            body = req.body[:65536].decode("utf-8", "replace")
            if operation == "walmart.token":
                body = "(form redacted)"
        conn.execute(
            "INSERT INTO request_log (time, service, operation, method, path, query, status, correlation_id, fault, "
            "request_body, applied) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                now,
                service,
                operation,
                req.method,
                req.path,
                req.raw_query,
                status,
                correlation,
                fault,
                body,
                int(applied),
            ),
        )

    def _log_only(
        self, req: ParsedRequest, service: str, operation: str, status: int | None, fault: str | None
    ) -> None:
        with self.db.transaction() as conn:
            self._log(conn, self._clock(), req, service, operation, status, fault, applied=False)

    # ------------------------------------------------------------------------------------------- control

    def inject_fault(
        self, kind: str, *, method: str | None = None, path_regex: str | None = None, count: int = 1
    ) -> int:
        """Arm a fault for the next ``count`` matching requests (any process using this database)."""
        with self.db.transaction() as conn:
            return faults.arm(conn, kind, method, path_regex, count)

    def armed_faults(self) -> list[dict[str, Any]]:
        rows = self.db.connection().execute("SELECT * FROM faults ORDER BY id").fetchall()
        return [dict(r) for r in rows]

    def clear_faults(self) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM faults")

    def expire_tokens(self) -> int:
        """Expire every issued Walmart token now; returns how many."""
        with self.db.transaction() as conn:
            cur = conn.execute(
                "UPDATE w_tokens SET expires_at = ? WHERE expires_at > ?", (self._clock() - 1, self._clock() - 1)
            )
            return int(cur.rowcount)

    def process_events(self) -> int:
        """Run the Channel Manager events due now (requests and state queries do this by themselves)."""
        with self.db.transaction() as conn:
            return channel_manager.process_due(Ctx(conn, self._clock(), self.settings))

    def request_log(self) -> list[LogEntry]:
        rows = self.db.connection().execute("SELECT * FROM request_log ORDER BY id").fetchall()
        return [
            LogEntry(
                id=int(r["id"]),
                time=float(r["time"]),
                service=r["service"],
                operation=r["operation"],
                method=r["method"],
                path=r["path"],
                query=r["query"],
                status=r["status"],
                correlation_id=r["correlation_id"],
                fault=r["fault"],
                request_body=r["request_body"],
                applied=bool(r["applied"]),
            )
            for r in rows
        ]

    def clear_request_log(self) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM request_log")

    def write_counts(self) -> dict[str, int]:
        """Successful writes per operation (``walmart.ship``, ``commerce.ship``, ...), from the request log."""
        rows = (
            self.db.connection()
            .execute(
                "SELECT operation, COUNT(*) AS n FROM request_log WHERE applied = 1 AND status = 200 "
                f"AND operation IN ({','.join('?' * len(WRITE_OPERATIONS))}) GROUP BY operation",
                WRITE_OPERATIONS,
            )
            .fetchall()
        )
        counts = dict.fromkeys(WRITE_OPERATIONS, 0)
        counts.update({r["operation"]: int(r["n"]) for r in rows})
        return counts

    # ------------------------------------------------------------------------------------------- state

    def _read(self) -> Any:
        self.process_events()
        return self.db.connection()

    def walmart_order(self, po: str) -> dict[str, Any] | None:
        """The purchase order as ``GET /v3/orders/{po}`` shows it (the inner ``order`` object)."""
        orders = walmart.render_orders(self._read(), [po])
        return orders[0] if orders else None

    def walmart_pos(self) -> list[str]:
        return [r[0] for r in self._read().execute("SELECT po FROM w_orders ORDER BY order_date, po")]

    def commerce_order(self, order: int | str) -> dict[str, Any] | None:
        """A Commerce order by ``entity_id`` (int) or ``increment_id`` (str), as ``GET /V1/orders/{id}`` shows it."""
        row = self._order_row(order)
        return commerce.render_orders(self.db.connection(), [row])[0] if row is not None else None

    def _order_row(self, order: int | str) -> Any:
        conn = self._read()
        if isinstance(order, int):
            return conn.execute("SELECT * FROM c_orders WHERE entity_id = ?", (order,)).fetchone()
        return conn.execute("SELECT * FROM c_orders WHERE increment_id = ?", (order,)).fetchone()

    def commerce_shipments(self, order: int | str) -> list[dict[str, Any]]:
        row = self._order_row(order)
        if row is None:
            return []
        conn = self.db.connection()
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT entity_id FROM c_shipments WHERE order_id = ? ORDER BY entity_id", (row["entity_id"],)
            )
        ]
        return commerce.render_shipments(conn, ids)

    def comments(self, order: int | str) -> list[dict[str, Any]]:
        """The order's status-history comments, oldest first."""
        row = self._order_row(order)
        if row is None:
            return []
        rows = (
            self.db.connection()
            .execute("SELECT * FROM c_history WHERE parent_id = ? ORDER BY created_at, entity_id", (row["entity_id"],))
            .fetchall()
        )
        return [commerce.render_history(r) for r in rows]

    def walmart_shipments_by_tracking(self) -> dict[str, list[dict[str, Any]]]:
        """Every Walmart shipped quantity, grouped by tracking number."""
        out: dict[str, list[dict[str, Any]]] = {}
        for r in self._read().execute("SELECT * FROM w_status WHERE status = 'Shipped' ORDER BY id"):
            out.setdefault(r["tracking_number"], []).append(
                {
                    "po": r["po"],
                    "line_number": r["line_number"],
                    "qty": int(r["qty"]),
                    "carrier": r["carrier"],
                    "other_carrier": r["other_carrier"],
                    "method_code": r["method_code"],
                    "ship_date_time": r["ship_date_time"],
                    "source": r["source"],
                }
            )
        return out

    def commerce_shipments_by_tracking(self) -> dict[str, list[dict[str, Any]]]:
        """Every Commerce track, grouped by tracking number."""
        out: dict[str, list[dict[str, Any]]] = {}
        rows = self._read().execute(
            "SELECT t.*, o.increment_id FROM c_tracks t JOIN c_orders o ON o.entity_id = t.order_id "
            "ORDER BY t.entity_id"
        )
        for r in rows:
            out.setdefault(r["track_number"], []).append(
                {
                    "order_id": int(r["order_id"]),
                    "increment_id": r["increment_id"],
                    "shipment_id": int(r["parent_id"]),
                    "carrier_code": r["carrier_code"],
                    "title": r["title"],
                }
            )
        return out

    def cancellations(self, po: str) -> list[dict[str, Any]]:
        """Cancelled quantities of a PO: line number, quantity, reason, and who cancelled (api/seed/...)."""
        rows = (
            self._read()
            .execute("SELECT * FROM w_status WHERE po = ? AND status = 'Cancelled' ORDER BY id", (po,))
            .fetchall()
        )
        return [
            {"line_number": r["line_number"], "qty": int(r["qty"]), "reason": r["reason"], "source": r["source"]}
            for r in rows
        ]

    def channel_manager_events(self) -> list[dict[str, Any]]:
        """Channel Manager pushes: kind, order, due time, state (pending/done/error/skipped) and detail."""
        rows = self._read().execute("SELECT * FROM cm_events ORDER BY id").fetchall()
        out = []
        for r in rows:
            d = dict(r)
            if d["state"] == "error" and d["detail"]:
                d["errors"] = json.loads(d["detail"])
            out.append(d)
        return out

    def summary(self) -> dict[str, Any]:
        conn = self._read()

        def count(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])

        meta = conn.execute("SELECT value FROM meta WHERE key = 'seeded'").fetchone()
        return {
            "db_path": str(self.db_path),
            "seeded": json.loads(meta[0]) if meta else None,
            "settings": self.settings.to_dict(),
            "commerce_orders": count("SELECT COUNT(*) FROM c_orders"),
            "commerce_shipments": count("SELECT COUNT(*) FROM c_shipments"),
            "walmart_orders": count("SELECT COUNT(*) FROM w_orders"),
            "walmart_lines": count("SELECT COUNT(*) FROM w_lines"),
            "tokens_live": int(
                conn.execute("SELECT COUNT(*) FROM w_tokens WHERE expires_at > ?", (self._clock(),)).fetchone()[0]
            ),
            "requests": count("SELECT COUNT(*) FROM request_log"),
            "armed_faults": count("SELECT COUNT(*) FROM faults"),
            "channel_manager": {
                state: count(f"SELECT COUNT(*) FROM cm_events WHERE state = '{state}'")
                for state in ("pending", "done", "error", "skipped")
            },
            "writes": self.write_counts(),
        }

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------- control API

    def _control(self, req: ParsedRequest) -> Reply:
        from wmsync.sandbox.control import handle_control

        return handle_control(self, req)


def _transport_error(kind: str, request: httpx.Request) -> httpx.TransportError:
    import httpx

    _, error, text = _TRANSPORT_FAULTS[kind]
    exc: httpx.TransportError = getattr(httpx, error)(text, request=request)
    return exc
