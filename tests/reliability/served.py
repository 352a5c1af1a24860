"""A ``wmsync sandbox serve`` process on 127.0.0.1 with its own data dir, wmsync processes run against it as a
configured store, and the invariants read back from the sandbox's own state.

Everything here runs real processes: the server is a subprocess stopped by the test (SIGTERM, then SIGKILL),
and every wmsync run is ``python -m wmsync ...`` with its own environment (config, data and cache dirs, the
sandbox's public credentials, shortened timeouts)."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wmsync.sandbox import CREDENTIALS, Sandbox

# The faults a run injects at random: every kind but plain latency (which only slows the run down).
FAULTS = ("500", "503", "504", "429", "timeout", "connect", "reset", "malformed", "applied_timeout", "applied_reset")
STORE = "local"
REASONS = ("out-of-stock", "pricing-error", "address-not-serviceable", "SELLER_CANCEL_FRAUD_STOP_SHIPMENT")
REASON_CODES = {"out-of-stock": "SELLER_CANCEL_OUT_OF_STOCK", "pricing-error": "SELLER_CANCEL_PRICING_ERROR",
                "address-not-serviceable": "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE",
                "SELLER_CANCEL_FRAUD_STOP_SHIPMENT": "SELLER_CANCEL_FRAUD_STOP_SHIPMENT"}
# Short waits: a timeout fault costs WMSYNC_READ seconds, a 429 at most WMSYNC_RETRY_AFTER_MAX.
FAST = {
    "WMSYNC_READ": "1",
    "WMSYNC_CONNECT": "2",
    "WMSYNC_CONFIRM": "10",
    "WMSYNC_POLL_INITIAL": "0.05",
    "WMSYNC_POLL_MAX": "0.3",
    "WMSYNC_BACKOFF_BASE": "0.01",
    "WMSYNC_BACKOFF_MAX": "0.05",
    "WMSYNC_RETRY_AFTER_MAX": "0.05",
    "WMSYNC_MAX_ATTEMPTS": "6",
    # after a write with an unknown outcome: re-read for it this long; a re-run re-sends it after this quiet time
    # (the sandbox applies a request before it stalls or drops the answer, so nothing lands later)
    "WMSYNC_UNKNOWN_GRACE": "2",
    "WMSYNC_RESEND_QUIET": "1",
}


def ups_tracking(n: int, shipper: str = "W1X2Y3") -> str:
    """A valid UPS 1Z number (the check digit computed as UPS publishes it: letters as (ASCII − 3) mod 10,
    odd positions ×1, even ×2, 10 − sum mod 10)."""
    body = f"{shipper}03{n:07d}"
    total = sum((int(c) if c.isdigit() else (ord(c) - 3) % 10) * (2 if i % 2 else 1) for i, c in enumerate(body))
    return f"1Z{body}{(10 - total % 10) % 10}"


def store_config(base_url: str) -> str:
    limits = "\n".join(f"{k} = 100000" for k in ("walmart_read_per_min", "walmart_ship_per_min",
                                                  "walmart_cancel_per_min", "walmart_acknowledge_per_min",
                                                  "walmart_token_per_min", "commerce_per_min"))
    return (f'default_store = "{STORE}"\n[stores.{STORE}]\ncommerce_url = "{base_url}"\ncommerce_auth = "oauth1"\n'
            f'walmart_url = "{base_url}"\nwalmart_client_id = "{CREDENTIALS["WALMART_CLIENT_ID"]}"\n'
            f"[stores.{STORE}.rate_limits]\n{limits}\n")


@dataclass
class Run:
    args: list[str]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    killed: bool = False

    def rows(self) -> list[dict[str, Any]]:
        """The ``--jsonl`` row lines."""
        out = []
        for line in self.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                doc = json.loads(line)
                if "row" in doc or "rows" in doc:
                    out.append(doc)
        return out

    def __repr__(self) -> str:
        return (f"Run({' '.join(self.args)!r}, exit {self.exit_code}, {self.seconds:.1f}s,\n"
                f"stdout={self.stdout[-1500:]!r},\nstderr={self.stderr[-3000:]!r})")


@dataclass
class Served:
    """A sandbox server and a wmsync home configured for it."""

    root: Path
    db: Path
    base_url: str = ""
    proc: subprocess.Popen[str] | None = None
    env_extra: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "client"

    def start(self, *, fault_rate: float, seed: int, latency_ms: int | None = None, token_ttl: int | None = None,
              ship_rate_per_min: int | None = None) -> None:
        args = [sys.executable, "-m", "wmsync", "sandbox", "serve", "--json", "--port", "0",
                "--fault-rate", str(fault_rate), "--seed", str(seed)]
        if latency_ms is not None:
            args += ["--latency-ms", str(latency_ms)]
        if token_ttl is not None:
            args += ["--token-ttl", str(token_ttl)]
        if ship_rate_per_min is not None:
            args += ["--ship-rate-per-min", str(ship_rate_per_min)]
        env = clean_env()
        env["WMSYNC_DATA_DIR"] = str(self.db.parent)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"sandbox serve did not start: {self.proc.stderr.read() if self.proc.stderr else ''}")
        self.base_url = json.loads(line)["base_url"]
        assert self.base_url.startswith("http://127.0.0.1:")
        config = self.home / "config" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(store_config(self.base_url))

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        self.proc = None

    def env(self, **extra: str) -> dict[str, str]:
        env = clean_env()
        env.update({
            "WMSYNC_CONFIG": str(self.home / "config" / "config.toml"),
            "WMSYNC_DATA_DIR": str(self.home / "data"),
            "WMSYNC_CACHE_DIR": str(self.home / "cache"),
            "WMSYNC_STORE": STORE,
            "NO_COLOR": "1",
            "COLUMNS": "200",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        })
        for name, value in CREDENTIALS.items():
            if name != "WALMART_CLIENT_ID":
                env[f"WMSYNC_{STORE.upper()}_{name}"] = value
        env.update(FAST)
        env.update(self.env_extra)
        env.update(extra)
        return env

    def wmsync(self, *args: str, timeout: float = 600, env: dict[str, str] | None = None) -> Run:
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "wmsync", *args], capture_output=True, text=True,
                              timeout=timeout, env=env or self.env(), stdin=subprocess.DEVNULL, check=False)
        return Run(list(args), proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started,
                   killed=proc.returncode == -signal.SIGKILL)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "wmsync", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env or self.env(), stdin=subprocess.DEVNULL)

    def sandbox(self) -> Sandbox:
        return Sandbox(self.db)


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("WMSYNC_")}


def prepare(root: Path, *, orders: int, seed: int, fault_kinds: tuple[str, ...] = FAULTS) -> Served:
    """A fresh sandbox database with ``orders`` generated orders; the server is started by the caller."""
    db = root / "server" / "sandbox.sqlite3"
    db.parent.mkdir(parents=True, exist_ok=True)
    with Sandbox(db) as sb:
        sb.reset(orders=orders, seed=seed)
        sb.update_settings(fault_kinds=fault_kinds, fault_rate=0.0, seed=seed)
    return Served(root=root, db=db)


# ---------------------------------------------------------------------------------------------- the work


@dataclass
class Work:
    """What a file asks for, and what the sandbox should show afterwards."""

    ship_rows: list[dict[str, str]] = field(default_factory=list)
    cancel_rows: list[dict[str, str]] = field(default_factory=list)
    # tracking number -> (PO, order, {sku: qty})
    packages: dict[str, tuple[str, str, dict[str, int]]] = field(default_factory=dict)
    # PO -> (order, reason code, {sku: qty cancelled by this file} or None for the whole order)
    cancels: dict[str, tuple[str, str, dict[str, int] | None]] = field(default_factory=dict)

    @property
    def operations(self) -> int:
        return len(self.packages) + len(self.cancels)

    def orders(self) -> set[str]:
        return {o for _, o, _ in self.packages.values()} | {o for o, _, _ in self.cancels.values()}


def open_qty(wm: dict[str, Any]) -> dict[str, int]:
    """Open (not shipped/cancelled) quantity per SKU of a Walmart order as the sandbox renders it."""
    out: dict[str, int] = {}
    for line in wm["orderLines"]["orderLine"]:
        total = int(line["orderLineQuantity"]["amount"])
        closed = sum(int(s["statusQuantity"]["amount"]) for s in line["orderLineStatuses"]["orderLineStatus"]
                     if s["status"] in ("Shipped", "Delivered", "Cancelled", "Refund"))
        sku = line["item"]["sku"]
        out[sku] = out.get(sku, 0) + total - closed
    return out


def plan_work(sb: Sandbox, *, operations: int, seed: int, first_tracking: int = 1) -> Work:
    """Rows for ``operations`` operations over the generated orders: about two thirds shipments (some orders in
    two packages, the first naming a SKU and quantity), one third cancellations (some partial)."""
    rng = random.Random(seed)
    work = Work()
    tracking_n = first_tracking
    increment = 1001
    while work.operations < operations:
        order = f"{increment:09d}"
        increment += 1
        c = sb.commerce_order(order)
        if c is None:
            raise RuntimeError(f"the sandbox has too few generated orders for {operations} operations")
        po = c.get("ext_order_id")
        if not po or not str(po).isdigit():
            continue  # another channel's order: not for wmsync
        wm = sb.walmart_order(str(po))
        assert wm is not None
        left = {k: v for k, v in open_qty(wm).items() if v > 0}
        if not left:
            continue
        if rng.random() < 0.66:
            sku, qty = next(iter(sorted(left.items())))
            if (qty > 1 or len(left) > 1) and rng.random() < 0.4 and work.operations + 2 <= operations:
                # two packages: one unit of a SKU, then the rest, one row per SKU (several rows with one
                # order and tracking number are one package)
                t1 = ups_tracking(tracking_n)
                t2 = ups_tracking(tracking_n + 1)
                tracking_n += 2
                work.ship_rows.append({"order": order, "carrier": "UPS", "tracking": t1, "sku": sku, "qty": "1"})
                rest = dict(left)
                rest[sku] -= 1
                rest = {k: v for k, v in rest.items() if v}
                for k, v in sorted(rest.items()):
                    work.ship_rows.append({"order": order, "carrier": "ups", "tracking": t2, "sku": k, "qty": str(v)})
                work.packages[t1] = (str(po), order, {sku: 1})
                work.packages[t2] = (str(po), order, rest)
            else:
                t = ups_tracking(tracking_n)
                tracking_n += 1
                work.ship_rows.append({"order": order, "carrier": "UPS", "tracking": t, "sku": "", "qty": ""})
                work.packages[t] = (str(po), order, left)
        else:
            reason = rng.choice(REASONS)
            sku, qty = next(iter(sorted(left.items())))
            if qty > 1 and rng.random() < 0.5:
                n = rng.randint(1, qty - 1)
                work.cancel_rows.append({"order": order, "reason": reason, "sku": sku, "qty": str(n)})
                work.cancels[str(po)] = (order, REASON_CODES[reason], {sku: n})
            else:
                work.cancel_rows.append({"order": order, "reason": reason, "sku": "", "qty": ""})
                work.cancels[str(po)] = (order, REASON_CODES[reason], None)
    return work


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str], *, bom: bool = False,
              crlf: bool = False) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n" if crlf else "\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    path.write_bytes(("\ufeff" if bom else "").encode() + buf.getvalue().encode())
    return path


SHIP_COLUMNS = ["order", "carrier", "tracking", "sku", "qty"]
CANCEL_COLUMNS = ["order", "reason", "sku", "qty"]


# ---------------------------------------------------------------------------------------------- state


def snapshot(sb: Sandbox, orders: list[str]) -> dict[str, Any]:
    """Both sides of these orders, for "nothing changed that was not asked"."""
    out = {}
    for order in orders:
        c = sb.commerce_order(order)
        assert c is not None
        po = c.get("ext_order_id")
        wm = sb.walmart_order(str(po)) if po else None
        out[order] = {"commerce": c, "shipments": sb.commerce_shipments(order), "comments": sb.comments(order),
                      "walmart": wm}
    return out


def all_orders(sb: Sandbox) -> list[str]:
    conn = sb.db.connection()
    return [r[0] for r in conn.execute("SELECT increment_id FROM c_orders ORDER BY entity_id")]


@dataclass
class Figures:
    requests: int
    faults: dict[str, int]
    token_refusals: int  # Walmart requests refused for their token (expired: 400 INVALID_TOKEN; unknown: 401)
    writes: dict[str, int]


def figures(sb: Sandbox) -> Figures:
    log = sb.request_log()
    faults = Counter(e.fault for e in log if e.fault)
    return Figures(
        requests=len(log),
        faults=dict(sorted(faults.items())),
        token_refusals=sum(1 for e in log if e.service == "walmart" and e.status in (400, 401)
                           and e.operation not in ("walmart.token", "walmart.ship", "walmart.cancel")),
        writes=sb.write_counts(),
    )


def check_invariants(sb: Sandbox, work: Work, before: dict[str, Any]) -> dict[str, int]:
    """Every row done, exactly one shipment per tracking number on each side, every cancellation done once with
    its reason, nothing done that was not asked. Returns counts for the report."""
    log = sb.request_log()
    walmart_tracks = sb.walmart_shipments_by_tracking()
    commerce_tracks = sb.commerce_shipments_by_tracking()
    ship_posts = Counter()
    for e in log:
        if e.operation == "walmart.ship" and e.applied and e.status == 200 and e.request_body:
            for t in {s["trackingInfo"]["trackingNumber"]
                      for line in json.loads(e.request_body)["orderShipment"]["orderLines"]["orderLine"]
                      for s in line["orderLineStatuses"]["orderLineStatus"]}:
                ship_posts[t] += 1
    commerce_posts = Counter()
    for e in log:
        if e.operation == "commerce.ship" and e.applied and e.status == 200 and e.request_body:
            for t in json.loads(e.request_body)["tracks"]:
                commerce_posts[t["track_number"]] += 1

    for tracking, (po, order, skus) in work.packages.items():
        shipped = walmart_tracks.get(tracking, [])
        assert shipped, f"{order}: package {tracking} not on Walmart"
        assert {s["po"] for s in shipped} == {po}, f"{tracking} shipped on another PO"
        wm = sb.walmart_order(po)
        assert wm is not None
        by_sku: Counter[str] = Counter()
        sku_of_line = {line["lineNumber"]: line["item"]["sku"] for line in wm["orderLines"]["orderLine"]}
        for s in shipped:
            by_sku[sku_of_line[str(s["line_number"])]] += s["qty"]
        assert dict(by_sku) == skus, f"{order} {tracking}: Walmart shows {dict(by_sku)}, the file asked {skus}"
        assert ship_posts[tracking] == 1, f"{tracking}: {ship_posts[tracking]} Walmart shipments posted"
        tracks = commerce_tracks.get(tracking, [])
        assert len(tracks) == 1, f"{tracking}: {len(tracks)} Commerce shipments"
        assert tracks[0]["increment_id"] == order
        assert commerce_posts[tracking] == 1, f"{tracking}: {commerce_posts[tracking]} Commerce ship requests applied"

    cancel_posts = Counter(e.path.split("/")[-2] for e in log
                           if e.operation == "walmart.cancel" and e.applied and e.status == 200)
    commerce_cancels = Counter(e.path for e in log if e.operation == "commerce.cancel" and e.applied
                               and e.status == 200)
    for po, (order, reason, items) in work.cancels.items():
        was = before[order]["walmart"]
        wm = sb.walmart_order(po)
        assert wm is not None
        cancelled = [c for c in sb.cancellations(po) if c["source"] != "seed"]
        assert cancelled, f"{order}: nothing cancelled"
        assert {c["reason"] for c in cancelled} == {reason}, f"{order}: reasons {cancelled}"
        assert cancel_posts[po] == 1, f"{order}: {cancel_posts[po]} Walmart cancellations posted"
        now_open = open_qty(wm)
        then_open = open_qty(was)
        expected = dict.fromkeys(then_open, 0) if items is None else {
            k: then_open[k] - items.get(k, 0) for k in then_open}
        assert now_open == expected, f"{order}: open {now_open}, expected {expected}"
        comments = [c["comment"] or "" for c in sb.comments(order)]
        mine = [c for c in comments if reason in c and "[wmsync cancel:" in c]
        assert len(mine) == 1, f"{order}: {len(mine)} cancellation comments: {comments}"
        state = (sb.commerce_order(order) or {}).get("state")
        if items is None:
            assert state == "canceled", f"{order}: Commerce state {state}"
            entity = (sb.commerce_order(order) or {})["entity_id"]
            assert sum(n for p, n in commerce_cancels.items() if p.endswith(f"/orders/{entity}/cancel")) == 1
        else:
            assert state != "canceled"
        assert not [t for t, ss in walmart_tracks.items() if any(s["po"] == po for s in ss)
                    if t not in {x for x, (p, _, _) in work.packages.items() if p == po}
                    and t not in tracks_in(was)], f"{order}: shipped although only a cancel was asked"

    # nothing done that was not asked: every other order exactly as before
    asked = work.orders()
    after = snapshot(sb, [o for o in before if o not in asked])
    for order, state in after.items():
        assert state == before[order], f"{order} changed although the file did not name it"
    return {"packages": len(work.packages), "cancellations": len(work.cancels), "untouched_orders": len(after)}


def tracks_in(wm: dict[str, Any] | None) -> set[str]:
    if wm is None:
        return set()
    return {s["trackingInfo"]["trackingNumber"] for line in wm["orderLines"]["orderLine"]
            for s in line["orderLineStatuses"]["orderLineStatus"] if s.get("trackingInfo")}


def commerce_ship_directly(sb: Sandbox, order: str, tracking: str) -> dict[str, int]:
    """A Commerce shipment of everything left on the order, with one UPS track, made as a warehouse system
    would (straight through the Commerce API, not by wmsync). Returns {sku: qty}."""
    import httpx

    from wmsync.sandbox import BASE_URL, STORE_CODE

    c = sb.commerce_order(order)
    assert c is not None
    top = [i for i in c["items"] if i.get("parent_item_id") is None]
    items = [{"order_item_id": i["item_id"], "qty": int(i["qty_ordered"] - i["qty_shipped"])} for i in top
             if i["qty_ordered"] - i["qty_shipped"] > 0]
    body = {"items": items, "notify": False,
            "tracks": [{"track_number": tracking, "title": "United Parcel Service", "carrier_code": "ups"}]}
    request = httpx.Request("POST", f"{BASE_URL}/rest/{STORE_CODE}/V1/order/{c['entity_id']}/ship", json=body,
                            headers={"Authorization": f"Bearer {CREDENTIALS['COMMERCE_TOKEN']}"})
    response = sb.handle(request)
    assert response.status_code == 200, response.read()
    return {i["sku"]: int(i["qty_ordered"] - i["qty_shipped"]) for i in top if i["qty_ordered"] - i["qty_shipped"] > 0}
