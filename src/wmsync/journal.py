"""The journal: a SQLite file recording each operation, its steps, outcomes and correlation ids.

It gives history (``wmsync status``), the per-order leases that keep two runs off the same order, the batch
re-run skip list and the last successful sync. Safety against duplicates does not rest on it alone: every run
re-reads both sides and does only what is missing; the journal says what a crashed run was in the middle of.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wmsync.secrets import redact

SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY,
    store TEXT NOT NULL,
    kind TEXT NOT NULL,
    order_number TEXT,
    purchase_order_id TEXT,
    op_key TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL,
    result TEXT,
    error TEXT,
    error_code TEXT,
    correlation_ids TEXT NOT NULL DEFAULT '[]',
    confirm_deadline REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS operations_key ON operations(store, op_key);
CREATE INDEX IF NOT EXISTS operations_po ON operations(store, purchase_order_id);
CREATE INDEX IF NOT EXISTS operations_order ON operations(store, order_number);
CREATE TABLE IF NOT EXISTS steps (
    op_id TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT,
    correlation_id TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (op_id, name)
);
CREATE TABLE IF NOT EXISTS leases (
    store TEXT NOT NULL,
    resource TEXT NOT NULL,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (store, resource)
);
CREATE TABLE IF NOT EXISTS meta (
    store TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (store, key)
);
"""

#: The journal's schema version, kept in SQLite's ``user_version``. Journals written before versions existed
#: read 0 and hold the version-1 tables already.
SCHEMA_VERSION = 2

#: version -> the statements that bring a journal from the version before it to this one, run in one
#: transaction. Version 1 creates what is missing (``IF NOT EXISTS``), so an older journal keeps its data. A
#: change to the tables adds the next version here (e.g. ``2: "ALTER TABLE operations ADD COLUMN …"``).
MIGRATIONS: dict[int, str] = {
    1: SCHEMA,
    # when a lease was taken, so a run that meets it can say since when another run holds the order
    2: "ALTER TABLE leases ADD COLUMN taken_at REAL",
}


# operation states
PLANNED = "planned"
IN_PROGRESS = "in_progress"
CONFIRMED = "confirmed"
PENDING = "pending"
ALREADY_DONE = "already_done"
FAILED = "failed"
DONE_STATES = (CONFIRMED, ALREADY_DONE)


def _unusable(path: Path, what: str, hint: str) -> Exception:
    from wmsync.errors import ConfigError

    return ConfigError(f"the journal {path} {what}; nothing was sent", hint=hint)


def default_journal_path() -> Path:
    from wmsync.paths import data_dir

    return data_dir() / "journal.sqlite3"


@dataclass
class Operation:
    id: str
    store: str
    kind: str
    order_number: str | None
    purchase_order_id: str | None
    op_key: str
    params: dict[str, Any]
    state: str
    result: dict[str, Any] | None
    error: str | None
    error_code: str | None
    correlation_ids: list[str]
    confirm_deadline: float | None
    created_at: float
    updated_at: float
    steps: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class DoneOperation:
    order_number: str | None
    purchase_order_id: str | None
    op_key: str
    params: dict[str, Any]


class Journal:
    #: how a write transaction starts (SQLite takes the write lock at once; see MySQLJournal)
    BEGIN = "BEGIN IMMEDIATE"

    def __init__(self, path: Path, *, clock: Any = None) -> None:
        self.path = path
        self._clock = clock
        self._time = clock.time if clock is not None else time.time
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if path.is_dir():
                raise _unusable(path, "is a directory", f"remove or rename the directory {path}")
            new = not path.exists()
            if not new and path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)  # the journal names orders and customers' POs: never readable by others
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            if new:
                os.chmod(path, 0o600)
            self._setup()
        except PermissionError as exc:
            raise _unusable(path, f"cannot be written ({exc.strerror})",
                            f"give this user write access to {path.parent}, or set WMSYNC_DATA_DIR") from exc
        except sqlite3.DatabaseError as exc:
            if "locked" in str(exc):
                raise
            raise _unusable(
                path,
                f"cannot be used ({exc})",
                f"if it is damaged, move it aside (`mv {path} {path}.bad`) and run again: wmsync re-reads both "
                "sides, but a write sent in the last few minutes may be sent again; or fix the directory's "
                "permissions / set WMSYNC_DATA_DIR",
            ) from exc
        # host and pid in the owner let another run on the same host take over the lease of a process that died
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{_process_tag(os.getpid())}:{uuid.uuid4().hex[:8]}"

    def _setup(self) -> None:
        """WAL mode and the schema. Switching a new file to WAL does not wait on the busy timeout: when several
        processes open a new journal at once (two cron jobs on a fresh host), the losers retry for a while."""
        from wmsync.clock import SYSTEM

        deadline = SYSTEM.monotonic() + 30
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or SYSTEM.monotonic() > deadline:
                    raise
                SYSTEM.sleep(0.05)

    def _version(self) -> int:
        version: int = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            from wmsync.errors import ConfigError

            raise ConfigError(
                f"the journal {self.path} was written by a newer wmsync (schema {version}; this one knows up to "
                f"{SCHEMA_VERSION}); nothing was sent",
                hint="upgrade wmsync on this machine, or point WMSYNC_DATA_DIR at another directory",
            )
        return version

    def _migrate(self) -> None:
        """Bring the journal to :data:`SCHEMA_VERSION`, one step at a time in one transaction (another process
        opening it at the same moment waits, then finds it done)."""
        if self._version() == SCHEMA_VERSION:
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for version in range(self._version() + 1, SCHEMA_VERSION + 1):
                for statement in filter(str.strip, MIGRATIONS[version].split(";")):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {int(version)}")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def reopen(self) -> Journal:
        """Another connection to the same journal (a worker thread's: its own lease owner)."""
        return Journal(self.path, clock=self._clock)

    @property
    def shared(self) -> bool:
        """Whether other machines see this journal's leases (a shared state database)."""
        return False

    def close(self) -> None:
        with self._lock:
            self.release_all()
            self.db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.db.execute(self.BEGIN)
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    # ------------------------------------------------------------ operations

    def start(
        self,
        *,
        store: str,
        kind: str,
        op_key: str,
        order_number: str | None,
        purchase_order_id: str | None,
        params: dict[str, Any],
    ) -> str:
        op_id = uuid.uuid4().hex
        now = self._time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO operations (id, store, kind, order_number, purchase_order_id, op_key, params, state,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    op_id,
                    store,
                    kind,
                    order_number,
                    purchase_order_id,
                    op_key,
                    json.dumps(params),
                    PLANNED,
                    now,
                    now,
                ),
            )
        return op_id

    def step(
        self,
        op_id: str,
        name: str,
        state: str,
        detail: dict[str, Any] | None = None,
        correlation_id: str | None = None,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO steps (op_id, name, state, detail, correlation_id, updated_at) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT(op_id, name) DO UPDATE SET state=excluded.state, detail=excluded.detail,"
                " correlation_id=COALESCE(excluded.correlation_id, steps.correlation_id),"
                " updated_at=excluded.updated_at",
                (
                    op_id,
                    name,
                    state,
                    json.dumps(detail) if detail is not None else None,
                    correlation_id,
                    self._time(),
                ),
            )
            db.execute(
                "UPDATE operations SET state=CASE WHEN state=? THEN ? ELSE state END, updated_at=? WHERE id=?",
                (PLANNED, IN_PROGRESS, self._time(), op_id),
            )

    def finish(
        self,
        op_id: str,
        state: str,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        error_code: str | None = None,
        correlation_ids: list[str] | None = None,
        confirm_deadline: float | None = None,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE operations SET state=?, result=?, error=?, error_code=?, correlation_ids=?,"
                " confirm_deadline=?, updated_at=? WHERE id=?",
                (
                    state,
                    json.dumps(result) if result is not None else None,
                    redact(error) if error is not None else None,
                    error_code,
                    json.dumps(correlation_ids or []),
                    confirm_deadline,
                    self._time(),
                    op_id,
                ),
            )

    def _row(self, row: tuple[Any, ...]) -> Operation:
        (
            op_id,
            store,
            kind,
            order_number,
            po,
            op_key,
            params,
            state,
            result,
            error,
            error_code,
            cids,
            deadline,
            created,
            updated,
        ) = row
        steps = {}
        for name, st, detail, cid, upd in self.db.execute(
            "SELECT name, state, detail, correlation_id, updated_at FROM steps WHERE op_id=? ORDER BY updated_at",
            (op_id,),
        ):
            steps[name] = {
                "state": st,
                "detail": json.loads(detail) if detail else None,
                "correlation_id": cid,
                "updated_at": upd,
            }
        return Operation(
            op_id,
            store,
            kind,
            order_number,
            po,
            op_key,
            json.loads(params),
            state,
            json.loads(result) if result else None,
            error,
            error_code,
            json.loads(cids),
            deadline,
            created,
            updated,
            steps,
        )

    _COLUMNS = (
        "id, store, kind, order_number, purchase_order_id, op_key, params, state, result, error,"
        " error_code, correlation_ids, confirm_deadline, created_at, updated_at"
    )

    def get(self, op_id: str) -> Operation | None:
        with self._lock:
            row = self.db.execute(f"SELECT {self._COLUMNS} FROM operations WHERE id=?", (op_id,)).fetchone()
            return self._row(row) if row else None

    def by_key(self, store: str, op_key: str) -> list[Operation]:
        with self._lock:
            rows = self.db.execute(
                f"SELECT {self._COLUMNS} FROM operations WHERE store=? AND op_key=? ORDER BY created_at",
                (store, op_key),
            ).fetchall()
            return [self._row(r) for r in rows]

    def done_operations(self, store: str, kind: str, orders: Iterable[str]) -> list[DoneOperation]:
        """Operations of ``kind`` finished (confirmed or already done) for any of ``orders``, each matched as a
        Commerce order number or a Walmart PO id: the batch re-run skip list, read without touching the
        services. Steps are not loaded."""
        wanted = sorted(set(orders))
        out: list[DoneOperation] = []
        with self._lock:
            for start in range(0, len(wanted), 400):
                chunk = wanted[start : start + 400]
                marks = ",".join("?" * len(chunk))
                rows = self.db.execute(
                    "SELECT order_number, purchase_order_id, op_key, params FROM operations"
                    " WHERE store=? AND kind=? AND state IN (?, ?)"
                    f" AND (order_number IN ({marks}) OR purchase_order_id IN ({marks}))",
                    (store, kind, *DONE_STATES, *chunk, *chunk),
                ).fetchall()
                out.extend(DoneOperation(r[0], r[1], r[2], json.loads(r[3])) for r in rows)
        return out

    def now(self) -> float:
        """The journal's clock (what ``updated_at`` is measured with)."""
        return float(self._time())

    def changed_since(self, store: str, purchase_order_id: str, since: float) -> bool:
        """Whether any run recorded something for this PO at or after ``since`` (journal time): a run that read
        an order before taking its lease re-reads it when this is true, since another run just worked on it."""
        with self._lock:
            row = self.db.execute(
                "SELECT 1 FROM operations WHERE store=? AND purchase_order_id=? AND updated_at>=? LIMIT 1",
                (store, purchase_order_id, since),
            ).fetchone()
            return row is not None

    def history(self, store: str, purchase_order_id: str, limit: int = 20) -> list[Operation]:
        with self._lock:
            rows = self.db.execute(
                f"SELECT {self._COLUMNS} FROM operations WHERE store=? AND purchase_order_id=?"
                " ORDER BY created_at DESC LIMIT ?",
                (store, purchase_order_id, limit),
            ).fetchall()
            return [self._row(r) for r in rows]

    def acquire(
        self,
        store: str,
        resource: str,
        *,
        ttl: float,
        wait: float,
        poll: float = 0.2,
        sleep: Any = time.sleep,
    ) -> bool:
        """Take the per-order lease, waiting up to ``wait`` seconds for another run to let go."""
        deadline = time.monotonic() + wait
        while True:
            now = self._time()
            with self._tx() as db:
                row = db.execute(
                    "SELECT owner, expires_at FROM leases WHERE store=? AND resource=?", (store, resource)
                ).fetchone()
                if row is None or row[0] == self.owner or row[1] < now or _owner_is_dead(row[0]):
                    db.execute(
                        "INSERT INTO leases (store, resource, owner, expires_at, taken_at) VALUES (?,?,?,?,?)"
                        " ON CONFLICT(store, resource) DO UPDATE SET"
                        " taken_at=CASE WHEN leases.owner = excluded.owner THEN leases.taken_at"
                        " ELSE excluded.taken_at END,"
                        " owner=excluded.owner, expires_at=excluded.expires_at",
                        (store, resource, self.owner, now + ttl, now),
                    )
                    return True
            if time.monotonic() >= deadline:
                return False
            sleep(poll)

    def holder(self, store: str, resource: str) -> dict[str, Any] | None:
        """Who holds a lease (host, pid), since when and until when (epoch seconds; ``until`` unless renewed);
        None when free."""
        with self._tx() as db:
            row = db.execute(
                "SELECT owner, expires_at, taken_at FROM leases WHERE store=? AND resource=?", (store, resource)
            ).fetchone()
        return None if row is None else holder_of(row)

    def renew(self, store: str, resource: str, *, ttl: float) -> None:
        """Extend our lease; raise if it has expired and another run holds it now (never act without it)."""
        from wmsync.errors import LeaseTimeoutError

        now = self._time()
        with self._tx() as db:
            cur = db.execute(
                "UPDATE leases SET expires_at=? WHERE store=? AND resource=? AND owner=?",
                (now + ttl, store, resource, self.owner),
            )
            if cur.rowcount == 1:
                return
            row = db.execute(
                "SELECT owner, expires_at FROM leases WHERE store=? AND resource=?", (store, resource)
            ).fetchone()
            if row is None or row[1] < now:
                db.execute(
                    "INSERT INTO leases (store, resource, owner, expires_at, taken_at) VALUES (?,?,?,?,?)"
                    " ON CONFLICT(store, resource) DO UPDATE SET owner=excluded.owner,"
                    " expires_at=excluded.expires_at, taken_at=excluded.taken_at",
                    (store, resource, self.owner, now + ttl, now),
                )
                return
        raise LeaseTimeoutError(
            f"this run's hold on {resource} expired and another run took it over; stopping here",
            hint="a re-run finishes the work; raise the lease setting for very long runs",
        )

    def release(self, store: str, resource: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM leases WHERE store=? AND resource=? AND owner=?", (store, resource, self.owner))

    def release_all(self) -> None:
        try:
            with self._tx() as db:
                db.execute("DELETE FROM leases WHERE owner=?", (self.owner,))
        except sqlite3.Error:
            pass

    # ------------------------------------------------------------ meta

    def get_meta(self, store: str, key: str) -> str | None:
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE store=? AND key=?", (store, key)).fetchone()
            return str(row[0]) if row else None

    def set_meta(self, store: str, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO meta (store, key, value) VALUES (?,?,?) ON CONFLICT(store, key)"
                " DO UPDATE SET value=excluded.value",
                (store, key, value),
            )


def holder_of(row: Any) -> dict[str, Any]:
    """A lease row (owner, expires_at, taken_at) as :meth:`Journal.holder` reports it: host, pid, until, since."""
    parts = str(row[0]).split(":")
    return {
        "host": parts[0] if parts else None,
        "pid": int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None,
        "expires_at": float(row[1]),
        "since": float(row[2]) if row[2] is not None else None,
    }


def _process_tag(pid: int) -> str:
    """Where a pid is meaningful, and which process it is: the PID namespace and the process's start time (so
    a pid reused by another process, or the same pid in another container, is never taken for the owner).
    Empty where /proc cannot tell (not Linux): such leases are only freed when they expire."""
    try:
        ns = os.readlink("/proc/self/ns/pid").strip("pid:[]")
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        start_time = fields[19].decode()  # field 22 of stat: start time in clock ticks after boot
        with open("/proc/sys/kernel/random/boot_id") as fh:
            boot = fh.read().strip()[:8]
    except (OSError, IndexError, ValueError):
        return ""
    return f"{ns}.{boot}.{start_time}"


def _owner_is_dead(owner: str) -> bool:
    """True only when the lease's owner was certainly a process of this host, this boot and this PID namespace
    that no longer runs (killed, crashed). Anything uncertain waits for the lease to expire."""
    parts = owner.split(":")
    if len(parts) != 4:
        return False
    host, pid_text, tag, _ = parts
    if host != socket.gethostname() or not pid_text.isdigit() or not tag:
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    mine = _process_tag(os.getpid())
    if not mine or tag.split(".")[:2] != mine.split(".")[:2]:
        return False  # another PID namespace or another boot: the pid means nothing here
    current = _process_tag(pid)
    if not current:
        return True  # no such process in this namespace
    return current != tag  # the pid now belongs to another process
