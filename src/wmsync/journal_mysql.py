"""The journal and the leases in a MariaDB/MySQL database: shared state for a team.

Every machine working on a store (a cron job on a server, an engineer's laptop) that names the same database in
the store's ``state`` setting sees the same operations and the same leases, so a package is shipped once and a
line cancelled once whoever runs it. SQLite in the data directory stays the default (:class:`wmsync.journal.
Journal`); this class keeps its interface and its SQL, translated on the way to the server.

Leases are the database's own named locks (``GET_LOCK``): held by this run's connection, released when it lets
go — and by the server when the connection dies, so a crashed run elsewhere never blocks an order until a
timeout. A ``leases`` row beside each lock says who holds it (host, pid, since) for the message another run
shows; the lock, not the row, decides.

The driver (PyMySQL) is an optional extra, ``pip install 'wmsync[mysql]'``, imported only when configured."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from wmsync.errors import ConfigError, LeaseTimeoutError
from wmsync.journal import SCHEMA_VERSION, Journal, _process_tag, holder_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
    id VARCHAR(32) NOT NULL PRIMARY KEY,
    store VARCHAR(191) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    order_number VARCHAR(64),
    purchase_order_id VARCHAR(64),
    op_key VARCHAR(512) NOT NULL,
    params MEDIUMTEXT NOT NULL,
    state VARCHAR(32) NOT NULL,
    result MEDIUMTEXT,
    error TEXT,
    error_code VARCHAR(191),
    correlation_ids VARCHAR(4096) NOT NULL DEFAULT '[]',
    confirm_deadline DOUBLE,
    created_at DOUBLE NOT NULL,
    updated_at DOUBLE NOT NULL,
    INDEX operations_key (store, op_key(191)),
    INDEX operations_po (store, purchase_order_id),
    INDEX operations_order (store, order_number)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS steps (
    op_id VARCHAR(32) NOT NULL,
    name VARCHAR(64) NOT NULL,
    state VARCHAR(32) NOT NULL,
    detail MEDIUMTEXT,
    correlation_id VARCHAR(191),
    updated_at DOUBLE NOT NULL,
    PRIMARY KEY (op_id, name)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS leases (
    store VARCHAR(191) NOT NULL,
    resource VARCHAR(191) NOT NULL,
    owner VARCHAR(255) NOT NULL,
    expires_at DOUBLE NOT NULL,
    taken_at DOUBLE,
    PRIMARY KEY (store, resource)
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS meta (
    store VARCHAR(191) NOT NULL,
    `key` VARCHAR(191) NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (store, `key`)
) DEFAULT CHARSET=utf8mb4
"""

#: the row of ``meta`` that holds the schema version (SQLite keeps it in ``user_version``)
VERSION_KEY = ("", "schema_version")


@dataclass(frozen=True)
class StateURL:
    """``mysql://USER@HOST[:PORT]/DATABASE`` (the password comes from ``WMSYNC_<STORE>_STATE_PASSWORD`` or the
    keyring, never from the URL)."""

    user: str
    host: str
    port: int
    database: str

    @classmethod
    def parse(cls, url: str) -> StateURL:
        parts = urlsplit(url)
        if parts.scheme not in ("mysql", "mariadb"):
            raise ConfigError(f"state = {url!r}: expected mysql://USER@HOST[:PORT]/DATABASE")
        if parts.password:
            raise ConfigError(
                "state: the URL holds a password; keep it out of the config file",
                hint="put it in WMSYNC_<STORE>_STATE_PASSWORD or the keyring (`wmsync stores add`)",
            )
        database = parts.path.lstrip("/")
        if not parts.hostname or not parts.username or not re.fullmatch(r"[A-Za-z0-9_$]{1,64}", database or ""):
            raise ConfigError(f"state = {url!r}: expected mysql://USER@HOST[:PORT]/DATABASE")
        return cls(unquote(parts.username), parts.hostname, parts.port or 3306, database)

    def __str__(self) -> str:
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.database}"


def _translate(sql: str) -> str:
    """The journal's SQLite statements in MySQL's dialect (the journal writes no literal '?')."""
    sql = sql.replace("BEGIN IMMEDIATE", "START TRANSACTION")
    sql = re.sub(r"ON CONFLICT\([^)]*\)\s*DO UPDATE SET", "ON DUPLICATE KEY UPDATE", sql)
    sql = re.sub(r"\bexcluded\.(\w+)", r"VALUES(\1)", sql)
    sql = re.sub(r"\b(?:steps|leases|meta)\.(\w+)", r"\1", sql)
    sql = re.sub(r"(?<![`\w])key(?=\s*[=,)])", "`key`", sql)
    return sql.replace("?", "%s")


class _Connection:
    """Enough of sqlite3.Connection for :class:`Journal`: ``execute`` returns a cursor."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        cur = self.conn.cursor()
        cur.execute(_translate(sql), tuple(params))
        return cur

    def close(self) -> None:
        self.conn.close()


def _driver() -> Any:
    try:
        import pymysql  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ConfigError(
            "the store keeps its state in MySQL/MariaDB, but the driver is not installed",
            hint="pip install 'wmsync[mysql]' (PyMySQL)",
        ) from exc
    return pymysql


class MySQLJournal(Journal):
    """:class:`Journal` on a shared MariaDB/MySQL database, with ``GET_LOCK`` leases."""

    BEGIN = "START TRANSACTION"

    def __init__(
        self, url: StateURL, password: str | None, *, clock: Any = None, connect_timeout: float = 10.0
    ) -> None:
        self.url = url
        self._password = password
        self._clock = clock
        self.path = Path(str(url))  # named in messages; ThreadJournals reopens through reopen()
        self._time = clock.time if clock is not None else time.time
        self._lock = threading.RLock()
        pymysql = _driver()
        try:
            conn = pymysql.connect(
                host=url.host,
                port=url.port,
                user=url.user,
                password=password or "",
                database=url.database,
                autocommit=True,
                connect_timeout=connect_timeout,
                charset="utf8mb4",
            )
        except pymysql.MySQLError as exc:
            raise ConfigError(
                f"cannot use the store's state database {url}: {exc.args[-1] if exc.args else exc}",
                hint="check the state URL, WMSYNC_<STORE>_STATE_PASSWORD and that the server lets this host in; "
                "nothing was sent",
            ) from exc
        self.my = _Connection(conn)
        self.db = self.my  # type: ignore[assignment]  # the journal's SQL goes through the translation
        self._held: set[str] = set()
        self._setup()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{_process_tag(os.getpid())}:{uuid.uuid4().hex[:8]}"

    def reopen(self) -> MySQLJournal:
        """Another connection (another worker thread: its own leases)."""
        return MySQLJournal(self.url, self._password, clock=self._clock)

    @property
    def shared(self) -> bool:
        return True

    # ------------------------------------------------------------ schema

    def _setup(self) -> None:
        with self._lock:
            self.db.execute("SELECT GET_LOCK('wmsync:schema', 30)")
            try:
                self.db.execute(
                    "CREATE TABLE IF NOT EXISTS meta (store VARCHAR(191) NOT NULL, `key` VARCHAR(191) NOT NULL,"
                    " value TEXT NOT NULL, PRIMARY KEY (store, `key`)) DEFAULT CHARSET=utf8mb4"
                )
                version = self._version()
                if version < SCHEMA_VERSION:
                    for statement in filter(str.strip, SCHEMA.split(";")):
                        self.my.conn.cursor().execute(statement)
                    self.my.conn.cursor().execute(
                        "REPLACE INTO meta (store, `key`, value) VALUES (%s, %s, %s)",
                        (*VERSION_KEY, str(SCHEMA_VERSION)),
                    )
            finally:
                self.db.execute("SELECT RELEASE_LOCK('wmsync:schema')")

    def _version(self) -> int:
        cur = self.my.conn.cursor()
        cur.execute("SELECT value FROM meta WHERE store=%s AND `key`=%s", VERSION_KEY)
        row = cur.fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"the state database {self.url} was written by a newer wmsync (schema {version}; this one knows up "
                f"to {SCHEMA_VERSION}); nothing was sent",
                hint="upgrade wmsync on this machine to the version the others run",
            )
        return version

    @property
    def schema_version(self) -> int:
        with self._lock:
            return self._version()

    def close(self) -> None:
        with self._lock:
            try:
                self.release_all()
            finally:
                self.db.close()

    # ------------------------------------------------------------ leases: the server's named locks

    @staticmethod
    def lock_name(store: str, resource: str) -> str:
        """A lock name within MySQL's 64 characters, the same on every machine for one store and order."""
        raw = f"wmsync:{store}:{resource}"
        if len(raw) <= 64:
            return raw
        return "wmsync:" + hashlib.sha256(raw.encode()).hexdigest()[:56]

    def _scalar(self, sql: str, params: tuple[Any, ...]) -> Any:
        row = self.db.execute(sql, params).fetchone()
        return row[0] if row else None

    def acquire(
        self,
        store: str,
        resource: str,
        *,
        ttl: float,
        wait: float,
        poll: float = 0.2,  # noqa: ARG002 - the server waits, not a poll loop
        sleep: Any = time.sleep,  # noqa: ARG002
    ) -> bool:
        """Take the order's lock, waiting up to ``wait`` seconds for the run that holds it (on any machine)."""
        name = self.lock_name(store, resource)
        with self._lock:
            if name in self._held:
                return True
            got = self._scalar("SELECT GET_LOCK(?, ?)", (name, max(0, int(wait + 0.999))))
            if got != 1:
                return False
            self._held.add(name)
            now = self._time()
            self.db.execute(
                "REPLACE INTO leases (store, resource, owner, expires_at, taken_at) VALUES (?,?,?,?,?)",
                (store, resource, self.owner, now + ttl, now),
            )
            return True

    def holder(self, store: str, resource: str) -> dict[str, Any] | None:
        name = self.lock_name(store, resource)
        with self._lock:
            if self._scalar("SELECT IS_USED_LOCK(?)", (name,)) is None:
                return None
            row = self.db.execute(
                "SELECT owner, expires_at, taken_at FROM leases WHERE store=? AND resource=?", (store, resource)
            ).fetchone()
        if row is None:
            return {"host": None, "pid": None, "expires_at": self._time(), "since": None}
        return holder_of(row)

    def renew(self, store: str, resource: str, *, ttl: float) -> None:
        """Our lock is held as long as this connection lives: renewing checks it still is ours."""
        name = self.lock_name(store, resource)
        with self._lock:
            mine = self._scalar("SELECT IS_USED_LOCK(?) = CONNECTION_ID()", (name,))
            if mine == 1:
                self.db.execute(
                    "UPDATE leases SET expires_at=? WHERE store=? AND resource=? AND owner=?",
                    (self._time() + ttl, store, resource, self.owner),
                )
                return
        raise LeaseTimeoutError(
            f"this run's hold on {resource} in the shared state database was lost (its connection was reset); "
            "stopping here",
            hint="a re-run finishes the work",
        )

    def release(self, store: str, resource: str) -> None:
        name = self.lock_name(store, resource)
        with self._lock:
            if name in self._held:
                self.db.execute("DELETE FROM leases WHERE store=? AND resource=? AND owner=?",
                                (store, resource, self.owner))
                self._scalar("SELECT RELEASE_LOCK(?)", (name,))
                self._held.discard(name)

    def release_all(self) -> None:
        with self._lock:
            try:
                if self._held:
                    self.db.execute("DELETE FROM leases WHERE owner=?", (self.owner,))
                    for name in list(self._held):
                        self._scalar("SELECT RELEASE_LOCK(?)", (name,))
            except Exception:  # closing: the server frees the locks with the connection anyway
                pass
            self._held.clear()
