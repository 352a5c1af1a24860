"""The sandbox's SQLite database: schema, connections and short write transactions.

Several processes may use one database at once (WAL mode, ``BEGIN IMMEDIATE`` for every request, a busy
timeout). The state is disposable: when the schema version changes the tables are dropped and rebuilt.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["SCHEMA_VERSION", "Database"]

SCHEMA_VERSION = "11"

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS c_orders (
    entity_id INTEGER PRIMARY KEY,
    increment_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
    ext_order_id TEXT COLLATE NOCASE,
    state TEXT NOT NULL COLLATE NOCASE,
    status TEXT NOT NULL COLLATE NOCASE,
    hold_before_state TEXT,
    hold_before_status TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    customer_email TEXT NOT NULL COLLATE NOCASE,
    customer_firstname TEXT COLLATE NOCASE,
    customer_lastname TEXT COLLATE NOCASE,
    customer_is_guest INTEGER NOT NULL DEFAULT 1,
    grand_total REAL NOT NULL DEFAULT 0,
    subtotal REAL NOT NULL DEFAULT 0,
    shipping_amount REAL NOT NULL DEFAULT 0,
    tax_amount REAL NOT NULL DEFAULT 0,
    total_paid REAL NOT NULL DEFAULT 0,
    total_invoiced REAL NOT NULL DEFAULT 0,
    total_qty_ordered REAL NOT NULL DEFAULT 0,
    order_currency_code TEXT NOT NULL DEFAULT 'USD',
    store_id INTEGER NOT NULL DEFAULT 1,
    shipping_description TEXT COLLATE NOCASE,
    shipping_method TEXT COLLATE NOCASE,
    payment_method TEXT NOT NULL,
    payment_title TEXT NOT NULL,
    address_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS c_orders_ext ON c_orders (ext_order_id);
CREATE INDEX IF NOT EXISTS c_orders_created ON c_orders (created_at, ext_order_id);
CREATE INDEX IF NOT EXISTS c_orders_updated ON c_orders (updated_at, ext_order_id);

CREATE TABLE IF NOT EXISTS c_items (
    item_id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL,
    parent_item_id INTEGER,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    product_type TEXT NOT NULL,
    product_id INTEGER NOT NULL,
    qty_ordered REAL NOT NULL,
    qty_shipped REAL NOT NULL DEFAULT 0,
    qty_canceled REAL NOT NULL DEFAULT 0,
    qty_refunded REAL NOT NULL DEFAULT 0,
    qty_invoiced REAL NOT NULL DEFAULT 0,
    price REAL NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS c_items_order ON c_items (order_id);

-- catalog products wmsync reads (GET /V1/products/{sku}): a bundle's "Ship Bundle Items" setting
CREATE TABLE IF NOT EXISTS c_products (
    sku TEXT PRIMARY KEY,
    type_id TEXT NOT NULL,
    shipment_type TEXT
);

-- Multi-Source Inventory (served only with the setting msi): sources and what each holds
CREATE TABLE IF NOT EXISTS c_sources (
    source_code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    priority INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS c_source_items (
    sku TEXT NOT NULL,
    source_code TEXT NOT NULL,
    quantity REAL NOT NULL,
    status INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (sku, source_code)
);

CREATE TABLE IF NOT EXISTS c_shipments (
    entity_id INTEGER PRIMARY KEY,
    increment_id TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    total_qty REAL NOT NULL,
    email_sent INTEGER NOT NULL DEFAULT 0,
    source_code TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    store_id INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS c_shipments_order ON c_shipments (order_id);

CREATE TABLE IF NOT EXISTS c_shipment_items (
    entity_id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL,
    order_item_id INTEGER NOT NULL,
    qty REAL NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    price REAL NOT NULL,
    product_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS c_shipment_items_parent ON c_shipment_items (parent_id);

CREATE TABLE IF NOT EXISTS c_tracks (
    entity_id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    track_number TEXT NOT NULL,
    title TEXT NOT NULL,
    carrier_code TEXT NOT NULL,
    qty REAL NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS c_tracks_parent ON c_tracks (parent_id);

CREATE TABLE IF NOT EXISTS c_shipment_comments (
    entity_id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL,
    comment TEXT NOT NULL,
    is_customer_notified INTEGER NOT NULL DEFAULT 0,
    is_visible_on_front INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS c_history (
    entity_id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL,
    comment TEXT NOT NULL,
    status TEXT,
    is_customer_notified INTEGER NOT NULL DEFAULT 0,
    is_visible_on_front INTEGER NOT NULL DEFAULT 0,
    entity_name TEXT NOT NULL DEFAULT 'order',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS c_history_parent ON c_history (parent_id);

CREATE TABLE IF NOT EXISTS w_orders (
    po TEXT PRIMARY KEY,
    customer_order_id TEXT NOT NULL,
    customer_email TEXT NOT NULL,
    order_date INTEGER NOT NULL,
    last_modified INTEGER NOT NULL,
    method_code TEXT NOT NULL,
    est_ship INTEGER NOT NULL,
    est_delivery INTEGER NOT NULL,
    phone TEXT NOT NULL,
    address_json TEXT NOT NULL,
    ship_node_type TEXT NOT NULL DEFAULT 'SellerFulfilled',
    shipping_program TEXT
);
CREATE INDEX IF NOT EXISTS w_orders_date ON w_orders (order_date);
CREATE INDEX IF NOT EXISTS w_orders_customer ON w_orders (customer_order_id);
-- the order listing: filter by node type and date, sorted newest first, paged. Covering, so neither the count
-- nor a page reads the table (a sort per page made listing 50,000 orders quadratic)
CREATE INDEX IF NOT EXISTS w_orders_list ON w_orders (ship_node_type, order_date, po, last_modified);

CREATE TABLE IF NOT EXISTS w_lines (
    po TEXT NOT NULL,
    line_number TEXT NOT NULL,
    position INTEGER NOT NULL,
    sku TEXT NOT NULL,
    product_name TEXT NOT NULL,
    qty INTEGER NOT NULL,
    price REAL NOT NULL,
    tax REAL NOT NULL,
    status_date INTEGER NOT NULL,
    intent_to_cancel INTEGER NOT NULL DEFAULT 0,
    seller_order_id TEXT,
    PRIMARY KEY (po, line_number)
);
CREATE INDEX IF NOT EXISTS w_lines_sku ON w_lines (sku);

CREATE TABLE IF NOT EXISTS w_status (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    po TEXT NOT NULL,
    line_number TEXT NOT NULL,
    status TEXT NOT NULL,
    qty INTEGER NOT NULL,
    reason TEXT,
    ship_date_time INTEGER,
    carrier TEXT,
    other_carrier TEXT,
    method_code TEXT,
    tracking_number TEXT,
    tracking_url TEXT,
    source TEXT,
    applied_at INTEGER
);
CREATE INDEX IF NOT EXISTS w_status_po ON w_status (po, line_number);
CREATE TABLE IF NOT EXISTS w_returns (
    return_id TEXT PRIMARY KEY,
    customer_order_id TEXT NOT NULL,
    po TEXT NOT NULL,
    ship_node_type TEXT NOT NULL,
    refund_channel TEXT NOT NULL,
    tracking_number TEXT,
    carrier TEXT,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS w_returns_created ON w_returns (created_ms, return_id);
CREATE TABLE IF NOT EXISTS w_return_lines (
    return_id TEXT NOT NULL,
    line_no INTEGER NOT NULL,
    po_line TEXT NOT NULL,
    sku TEXT NOT NULL,
    product_name TEXT NOT NULL,
    qty INTEGER NOT NULL,
    unit_price REAL NOT NULL,
    unit_tax REAL NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    event_tag TEXT NOT NULL,
    refunded_qty INTEGER NOT NULL DEFAULT 0,
    refund_status TEXT,
    cancel_reason TEXT,
    status_ms INTEGER NOT NULL,
    PRIMARY KEY (return_id, line_no)
);
CREATE TABLE IF NOT EXISTS w_refunds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    po TEXT NOT NULL,
    line_number TEXT NOT NULL,
    refund_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    charge_type TEXT NOT NULL,
    charge_name TEXT NOT NULL,
    comments TEXT NOT NULL,
    amount REAL NOT NULL,
    tax REAL NOT NULL,
    applied_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS w_status_tracking ON w_status (tracking_number);

CREATE TABLE IF NOT EXISTS w_tokens (
    token TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS request_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    service TEXT NOT NULL,
    operation TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    status INTEGER,
    correlation_id TEXT,
    fault TEXT,
    request_body TEXT,
    applied INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    method TEXT,
    path_regex TEXT,
    remaining INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS cm_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    shipment_id INTEGER,
    created REAL NOT NULL,
    due REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    detail TEXT,
    processed REAL
);
CREATE INDEX IF NOT EXISTS cm_events_due ON cm_events (state, due);

CREATE TABLE IF NOT EXISTS rate_buckets (
    name TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    updated REAL NOT NULL
);
"""

#: Tables holding the simulated business state (cleared by a reset).
STATE_TABLES: tuple[str, ...] = (
    "c_orders",
    "c_items",
    "c_products",
    "c_sources",
    "c_source_items",
    "c_shipments",
    "c_shipment_items",
    "c_tracks",
    "c_shipment_comments",
    "c_history",
    "w_orders",
    "w_lines",
    "w_status",
    "w_refunds",
    "w_returns",
    "w_return_lines",
    "w_tokens",
    "request_log",
    "faults",
    "cm_events",
    "rate_buckets",
)


class Database:
    """One connection per thread to one SQLite file; writes are serialised by ``BEGIN IMMEDIATE``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.RLock()
        self._all: list[sqlite3.Connection] = []
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.transaction() as conn:
            self._ensure_schema(conn)

    def connection(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("sandbox database is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            # a small page cache per thread's connection (the OS caches the file anyway): with the sandbox
            # in-process, SQLite's default 2 MB per connection would grow the client's memory with the data
            conn.execute("PRAGMA cache_size=-256")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction (``BEGIN IMMEDIATE``), committed on success, rolled back on error."""
        with self._lock:
            conn = self.connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is not None and row[0] != SCHEMA_VERSION:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for name in names:
                if name != "sqlite_sequence":
                    conn.execute(f'DROP TABLE IF EXISTS "{name}"')
            conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        for statement in _TABLES.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))

    def release(self) -> None:
        """Close the calling thread's connection (server threads call this when their connection ends)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        try:
            conn.close()
        except sqlite3.Error:  # pragma: no cover - closing is best effort
            pass

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:  # pragma: no cover - closing is best effort
                    pass
            self._all.clear()
            self._local = threading.local()
