"""Deterministic sandbox data: the fixed seed (documented in ``SEED.md``) and bulk orders for benchmarks.

Ids never change: Commerce ``entity_id`` = increment number − 100 (``000000101`` is entity 1), Walmart POs
and customer order ids are derived from a hash of the increment id. Dates are relative to the sandbox clock at
reset time (orders from the last two days), so a fresh reset always falls inside Walmart's default
"last 7 days" listing window.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from dataclasses import dataclass
from typing import Any

from wmsync.sandbox import commerce, walmart
from wmsync.sandbox.common import Ctx, magento_time
from wmsync.sandbox.constants import SKU_MAP
from wmsync.sandbox.settings import SandboxSettings

__all__ = ["FIXED_ORDERS", "po_for", "seed"]

DAY = 86400.0


def _hash_digits(tag: str, digits: int) -> str:
    value = int(hashlib.sha256(tag.encode("utf-8")).hexdigest(), 16)
    return str(value % (10**digits)).zfill(digits)


def po_for(increment: int) -> str:
    """The Walmart PO of the seeded order ``increment`` (15 digits)."""
    return "10" + _hash_digits(f"po-{increment}", 13)


def customer_order_for(increment: int) -> str:
    return "20" + _hash_digits(f"co-{increment}", 11)


@dataclass(frozen=True)
class Customer:
    first: str
    last: str
    street: str
    city: str
    region: str
    region_code: str
    postcode: str
    phone: str


CUSTOMERS = (
    Customer("Ada", "Lovelace", "12 Analytical Way", "Bentonville", "Arkansas", "AR", "72712", "4795550101"),
    Customer("Grace", "Hopper", "900 Compiler Ct", "Arlington", "Virginia", "VA", "22201", "7035550102"),
    Customer("Alan", "Turing", "7 Enigma Rd", "Austin", "Texas", "TX", "78701", "5125550103"),
    Customer("Katherine", "Johnson", "44 Orbit Ln", "Hampton", "Virginia", "VA", "23666", "7575550104"),
    Customer("Edsger", "Dijkstra", "3 Shortest Path", "Portland", "Oregon", "OR", "97201", "5035550105"),
    Customer("Barbara", "Liskov", "18 Substitution St", "Cambridge", "Massachusetts", "MA", "02139", "6175550106"),
    Customer("Donald", "Knuth", "64 Art Ave", "Palo Alto", "California", "CA", "94301", "6505550107"),
    Customer("Frances", "Allen", "5 Optimizer Blvd", "Peekskill", "New York", "NY", "10566", "9145550108"),
)

PRODUCTS = {
    "WM-MUG-001": ("Enamel Camp Mug 12oz", 14.99),
    "WM-TEE-002": ("Cotton Crew Tee", 19.5),
    "WM-CABLE-003": ("USB-C Cable 2m", 9.99),
    "WM-LAMP-004": ("LED Desk Lamp", 39.0),
    "WM-BOTTLE-005": ("Steel Water Bottle 750ml", 24.95),
    "WM-SOCK-006": ("Wool Hiking Socks", 12.0),
    "WM-PAN-007": ("Cast Iron Skillet 10in", 34.5),
    "WM-BAG-008": ("Canvas Tote Bag", 16.0),
    "WM-KNIFE-009": ("Folding Pocket Knife", 29.99),
    "WM-TENT-010": ("2-Person Dome Tent", 129.0),
}
CONFIGURABLE = ("WM-HOODIE", "Zip Hoodie", "WM-HOODIE-M-BLUE", "Zip Hoodie - M / Blue", 49.0)
# bundles: (SKU, name, price, shipment type "0" together / "1" separately, [(child SKU, name, units per bundle)])
BUNDLES = {
    134: ("WM-KIT-011", "Picnic Kit", 39.0, "0",
          [("WM-KIT-011-PLATE", "Picnic plate", 2), ("WM-KIT-011-CUP", "Picnic cup", 2)]),
    135: ("WM-KIT-012", "Camp Kit", 59.0, "1",
          [("WM-KIT-012-STOVE", "Camp stove", 1), ("WM-KIT-012-POT", "Camp pot", 2)]),
}

# (increment, Walmart PO?, what it covers) — mirrored in SEED.md; tests check the two agree.
FIXED_ORDERS: tuple[tuple[int, bool, str], ...] = (
    (101, True, "single line, qty 1, Acknowledged: the plain case"),
    (102, True, "single line, Created (not acknowledged yet); Commerce state new"),
    (103, True, "two lines, two SKUs, Acknowledged"),
    (104, True, "quantity split: Commerce item qty 3 = three Walmart lines of qty 1, same SKU"),
    (105, True, "configurable product: parent + child items; the Walmart line carries the child's SKU"),
    (106, True, "customer intent to cancel on line 1 (shipping needs intentToCancelOverride)"),
    (107, True, "already shipped on both sides, same UPS tracking; invoiced, Commerce complete"),
    (108, True, "already cancelled on both sides (SELLER_CANCEL_OUT_OF_STOCK)"),
    (109, True, "fully invoiced, not shipped: Commerce cancel returns false"),
    (110, True, "partly shipped: line 1 shipped on both sides (USPS), line 2 Acknowledged"),
    (111, False, "web store order, ext_order_id null"),
    (112, False, "another channel's order: ext_order_id 112-1234567-1234567 (Amazon style)"),
    (113, True, "three lines, all Created; Commerce state new"),
    (114, True, "one line qty 2: 1 Shipped (FedEx) + 1 Acknowledged; Commerce qty_shipped 1"),
    (115, True, "Commerce order on hold: ship refused, cancel returns false"),
    (116, True, "shipped on Walmart only (posted directly), no Commerce shipment"),
    (117, True, "Commerce shipment with tracking, Walmart still Acknowledged (the push never arrived)"),
    (118, True, "mixed split: SKU A qty 2 = lines 1 and 2, SKU B qty 1 = line 3"),
    (119, True, "Express method code"),
    (120, False, "ext_order_id looks like a PO (15 digits) but no such PO exists on Walmart"),
    (121, True, "Commerce payment_review: ship refused, cancel returns false"),
    (122, True, "cancelled on Walmart only (customer cancel), Commerce still processing"),
    (123, True, "single line, qty 2 on one Walmart line"),
    (124, True, "two lines, Acknowledged"),
    (125, True, "Value method code"),
    (126, True, "OneDay method code"),
    (127, True, "single line, qty 1, Acknowledged"),
    (128, True, "single line, qty 1, Acknowledged"),
    (129, True, "single line, qty 1, Acknowledged"),
    (130, True, "single line, qty 1, Acknowledged"),
    (131, True, "fulfilled by Walmart (shipNode.type WFSFulfilled): not the seller's to ship"),
    (132, True, "fulfilled by a 3PL (shipNode.type 3PLFulfilled): not the seller's to ship"),
    (133, True, "Walmart SKU LAMP-4-WMT for Commerce SKU WM-LAMP-004 (the store's skus table)"),
    (134, True, "bundle shipped together: the bundle item ships, its items are not shipped alone"),
    (135, True, "bundle shipped separately: its items ship, the bundle item itself is refused"),
)

#: The sandbox store's ``skus`` table (``SKU_MAP``, in constants): 000000133 is listed on Walmart as LAMP-4-WMT.

#: A Walmart PO with no Commerce order (not imported yet).
UNIMPORTED_PO_INCREMENT = 199
#: The look-alike PO number stored on order 000000120 (not on Walmart).
PHANTOM_PO = "10" + _hash_digits("phantom", 13)
AMAZON_ORDER = "112-1234567-1234567"


class Builder:
    def __init__(self, conn: sqlite3.Connection, now: float) -> None:
        self.conn = conn
        self.now = now
        self.ctx = Ctx(conn, now, SandboxSettings())
        self._item_id = int(conn.execute("SELECT COALESCE(MAX(item_id), 0) FROM c_items").fetchone()[0])
        self._products: dict[str, int] = {}

    def product_id(self, sku: str) -> int:
        if sku not in self._products:
            self._products[sku] = 1000 + int(_hash_digits(f"product-{sku}", 5))
        return self._products[sku]

    # Commerce ---------------------------------------------------------------------------------------

    def commerce_order(
        self,
        increment: int,
        created: float,
        customer: Customer,
        *,
        ext: str | None,
        email: str,
        state: str = "processing",
        method: str = "Standard",
        channel: bool = True,
    ) -> int:
        entity_id = increment - 100
        ts = magento_time(created)
        address = {
            "firstname": customer.first,
            "lastname": customer.last,
            "street": [customer.street],
            "city": customer.city,
            "region": customer.region,
            "region_code": customer.region_code,
            "postcode": customer.postcode,
            "country_id": "US",
            "telephone": customer.phone,
        }
        status = {"new": "pending", "payment_review": "payment_review"}.get(state, state)
        self.conn.execute(
            "INSERT INTO c_orders (entity_id, increment_id, ext_order_id, state, status, created_at, updated_at, "
            "customer_email, customer_firstname, customer_lastname, customer_is_guest, shipping_description, "
            "shipping_method, payment_method, payment_title, address_json) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            (
                entity_id,
                f"{increment:09d}",
                ext,
                state,
                status,
                ts,
                ts,
                email,
                customer.first,
                customer.last,
                f"Channel Shipping - {method}" if channel else "Flat Rate - Fixed",
                "channelshipping_channelshipping" if channel else "flatrate_flatrate",
                "channelpayment" if channel else "checkmo",
                "Offline Channel Payment" if channel else "Check / Money order",
                json.dumps(address),
            ),
        )
        return entity_id

    def item(
        self,
        order_id: int,
        sku: str,
        name: str,
        qty: int,
        price: float,
        *,
        product_type: str = "simple",
        parent: int | None = None,
        product_sku: str | None = None,
    ) -> int:
        self._item_id += 1
        ts = self.conn.execute("SELECT created_at FROM c_orders WHERE entity_id = ?", (order_id,)).fetchone()[0]
        self.conn.execute(
            "INSERT INTO c_items (item_id, order_id, parent_item_id, sku, name, product_type, product_id, "
            "qty_ordered, price, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self._item_id,
                order_id,
                parent,
                sku,
                name,
                product_type,
                self.product_id(product_sku or sku),
                qty,
                price,
                ts,
                ts,
            ),
        )
        return self._item_id

    def bundle(self, order_id: int, qty: int, bundle: tuple[str, str, float, str, list[tuple[str, str, int]]]) -> int:
        """A bundle parent item and its children (``units`` of each per bundle); the catalog keeps its
        shipment type ("Ship Bundle Items": "0" together, "1" separately)."""
        sku, name, price, shipment_type, children = bundle
        parent = self.item(order_id, sku, name, qty, price, product_type="bundle")
        for child_sku, child_name, units in children:
            self.item(order_id, child_sku, child_name, qty * units, 0.0, parent=parent)
        self.conn.execute(
            "INSERT OR REPLACE INTO c_products (sku, type_id, shipment_type) VALUES (?, 'bundle', ?)",
            (sku, shipment_type),
        )
        return parent

    def configurable(self, order_id: int, qty: int) -> tuple[int, int]:
        parent_sku, parent_name, child_sku, child_name, price = CONFIGURABLE
        # Magento stores the selected child's SKU on the configurable parent item too.
        parent = self.item(
            order_id, child_sku, parent_name, qty, price, product_type="configurable", product_sku=parent_sku
        )
        child = self.item(order_id, child_sku, child_name, qty, 0.0, parent=parent)
        return parent, child

    def finish_order(self, order_id: int, *, invoiced: bool = False, shipping: float = 5.99) -> None:
        rows = self.conn.execute(
            "SELECT qty_ordered, price FROM c_items WHERE order_id = ? AND parent_item_id IS NULL", (order_id,)
        ).fetchall()
        subtotal = round(sum(float(r["qty_ordered"]) * float(r["price"]) for r in rows), 2)
        qty = sum(float(r["qty_ordered"]) for r in rows)
        tax = round(subtotal * 0.08, 2)
        grand = round(subtotal + tax + shipping, 2)
        paid = grand if invoiced else 0.0
        self.conn.execute(
            "UPDATE c_orders SET subtotal = ?, tax_amount = ?, shipping_amount = ?, grand_total = ?, "
            "total_qty_ordered = ?, total_paid = ?, total_invoiced = ? WHERE entity_id = ?",
            (subtotal, tax, shipping, grand, qty, paid, paid, order_id),
        )
        if invoiced:
            self.conn.execute("UPDATE c_items SET qty_invoiced = qty_ordered WHERE order_id = ?", (order_id,))

    def history(self, order_id: int, comment: str, when: float, status: str | None) -> None:
        commerce.add_history(self.conn, order_id, comment, magento_time(when), status=status)

    def commerce_ship(self, order_id: int, items: list[tuple[int, int]], track: tuple[str, str, str]) -> int:
        order = self.conn.execute("SELECT * FROM c_orders WHERE entity_id = ?", (order_id,)).fetchone()
        body = {
            "items": [{"order_item_id": i, "qty": q} for i, q in items],
            "tracks": [{"track_number": track[0], "title": track[1], "carrier_code": track[2]}],
        }
        return commerce.ship_order(self.ctx, order, body, source="seed")

    def commerce_cancel(self, order_id: int) -> None:
        order = self.conn.execute("SELECT * FROM c_orders WHERE entity_id = ?", (order_id,)).fetchone()
        if not commerce.cancel_order(self.ctx, order, source="seed"):  # pragma: no cover - seed data is fixed
            raise AssertionError(f"seed: cannot cancel order {order_id}")

    # Walmart ----------------------------------------------------------------------------------------

    def walmart_po(
        self,
        po: str,
        customer_order_id: str,
        created: float,
        customer: Customer,
        email: str,
        method: str,
        ship_node_type: str = "SellerFulfilled",
        shipping_program: str | None = None,
        ship_days: float = 2,
    ) -> None:
        ms = int(created * 1000)
        address = {
            "name": f"{customer.first} {customer.last}",
            "address1": customer.street,
            "city": customer.city,
            "state": customer.region_code,
            "postalCode": customer.postcode,
            "country": "USA",
            "addressType": "RESIDENTIAL",
        }
        self.conn.execute(
            "INSERT INTO w_orders (po, customer_order_id, customer_email, order_date, last_modified, method_code, "
            "est_ship, est_delivery, phone, address_json, ship_node_type, shipping_program) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                po,
                customer_order_id,
                email,
                ms,
                ms,
                method,
                ms + int(ship_days * DAY * 1000),
                ms + int(5 * DAY * 1000),
                customer.phone,
                json.dumps(address),
                ship_node_type,
                shipping_program,
            ),
        )

    def line(
        self,
        po: str,
        number: int,
        sku: str,
        name: str,
        qty: int,
        price: float,
        *,
        status: str = "Acknowledged",
        intent: bool = False,
    ) -> None:
        ms = int(self.conn.execute("SELECT order_date FROM w_orders WHERE po = ?", (po,)).fetchone()[0])
        self.conn.execute(
            "INSERT INTO w_lines (po, line_number, position, sku, product_name, qty, price, tax, status_date, "
            "intent_to_cancel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (po, str(number), number, sku, name, qty, price, round(price * qty * 0.08, 2), ms, 1 if intent else 0),
        )
        self.conn.execute(
            "INSERT INTO w_status (po, line_number, status, qty, source) VALUES (?, ?, ?, ?, 'seed')",
            (po, str(number), status, qty),
        )

    def walmart_ship(self, po: str, lines: list[tuple[int, int]], track: tuple[str, str], seller_order_id: str) -> None:
        method = self.conn.execute("SELECT method_code FROM w_orders WHERE po = ?", (po,)).fetchone()[0]
        items = [
            walmart.ShipItem(
                line_number=str(n),
                qty=q,
                ship_date_time=int((self.now - 3600) * 1000),
                carrier=track[1],
                other_carrier=None,
                method_code=method,
                tracking_number=track[0],
                tracking_url=None,
                seller_order_id=seller_order_id,
            )
            for n, q in lines
        ]
        walmart.apply_ship(self.conn, po, items, int((self.now - 3600) * 1000), source="seed")

    def walmart_cancel(self, po: str, lines: list[tuple[int, int]], reason: str) -> None:
        items = [walmart.CancelItem(str(n), q, reason) for n, q in lines]
        walmart.apply_cancel(self.conn, po, items, int((self.now - 1800) * 1000), source="seed")


def _email(increment: int) -> str:
    return _hash_digits(f"mail-{increment}", 32).upper()[:32] + "@relay.walmart.com"


def _walmart_pair(
    b: Builder,
    increment: int,
    created: float,
    lines: list[tuple[str, int]],
    *,
    split: bool = False,
    line_status: str = "Acknowledged",
    commerce_state: str = "processing",
    method: str = "Standard",
    intent_lines: tuple[int, ...] = (),
    invoiced: bool = False,
    ship_node_type: str = "SellerFulfilled",
    shipping_program: str | None = None,
    ship_days: float = 2,
) -> tuple[int, str, dict[str, int]]:
    """A Commerce order imported from a Walmart PO. ``lines``: (sku, qty) per Commerce item.

    ``split`` spreads each item's quantity over quantity-1 Walmart lines. Returns (entity_id, po, item ids by sku).
    """
    po = po_for(increment)
    customer = CUSTOMERS[increment % len(CUSTOMERS)]
    email = _email(increment)
    b.walmart_po(po, customer_order_for(increment), created, customer, email, method, ship_node_type,
                 shipping_program, ship_days)
    oid = b.commerce_order(increment, created, customer, ext=po, email=email, state=commerce_state, method=method)
    items: dict[str, int] = {}
    n = 0
    for sku, qty in lines:
        name, price = PRODUCTS[sku]
        items[sku] = b.item(oid, sku, name, qty, price)
        for q in [1] * qty if split else [qty]:
            n += 1
            b.line(po, n, sku, name, q, price, status=line_status, intent=n in intent_lines)
    b.finish_order(oid, invoiced=invoiced)
    b.history(
        oid, f"Walmart purchase order {po} imported.", created, "processing" if commerce_state != "new" else "pending"
    )
    return oid, po, items


def seed(conn: sqlite3.Connection, now: float, *, orders: int = 0, rng_seed: int = 0) -> None:
    """Write the fixed seed, then ``orders`` generated orders. The tables must be empty."""
    b = Builder(conn, now)

    def at(increment: int) -> float:
        return now - (200 - increment) * 1800.0  # 000000101 about 50 h ago, one order every 30 minutes

    _walmart_pair(b, 101, at(101), [("WM-MUG-001", 1)])
    _walmart_pair(b, 102, at(102), [("WM-TEE-002", 1)], line_status="Created", commerce_state="new")
    _walmart_pair(b, 103, at(103), [("WM-CABLE-003", 1), ("WM-LAMP-004", 1)])
    _walmart_pair(b, 104, at(104), [("WM-BOTTLE-005", 3)], split=True)

    # 105: configurable
    po = po_for(105)
    customer = CUSTOMERS[105 % len(CUSTOMERS)]
    b.walmart_po(po, customer_order_for(105), at(105), customer, _email(105), "Standard")
    oid = b.commerce_order(105, at(105), customer, ext=po, email=_email(105))
    b.configurable(oid, 1)
    b.line(po, 1, CONFIGURABLE[2], CONFIGURABLE[3], 1, CONFIGURABLE[4])
    b.finish_order(oid)
    b.history(oid, f"Walmart purchase order {po} imported.", at(105), "processing")

    _walmart_pair(b, 106, at(106), [("WM-SOCK-006", 1), ("WM-MUG-001", 1)], intent_lines=(1,))

    oid, po, items = _walmart_pair(b, 107, at(107), [("WM-PAN-007", 1)], invoiced=True)
    b.commerce_ship(oid, [(items["WM-PAN-007"], 1)], ("1Z999AA10123456784", "United Parcel Service", "ups"))
    b.walmart_ship(po, [(1, 1)], ("1Z999AA10123456784", "UPS"), "000000107")

    oid, po, _ = _walmart_pair(b, 108, at(108), [("WM-BAG-008", 1)])
    b.walmart_cancel(po, [(1, 1)], "SELLER_CANCEL_OUT_OF_STOCK")
    b.history(oid, "Cancelled on Walmart: SELLER_CANCEL_OUT_OF_STOCK", now - 1800, "processing")
    b.commerce_cancel(oid)

    _walmart_pair(b, 109, at(109), [("WM-KNIFE-009", 1)], invoiced=True)

    oid, po, items = _walmart_pair(b, 110, at(110), [("WM-MUG-001", 1), ("WM-SOCK-006", 2)])
    b.commerce_ship(oid, [(items["WM-MUG-001"], 1)], ("9400110200881234567896", "United States Postal Service", "usps"))
    b.walmart_ship(po, [(1, 1)], ("9400110200881234567896", "USPS"), "000000110")

    # 111 / 112: not Walmart orders
    for increment, ext in ((111, None), (112, AMAZON_ORDER)):
        customer = CUSTOMERS[increment % len(CUSTOMERS)]
        oid = b.commerce_order(
            increment,
            at(increment),
            customer,
            ext=ext,
            email=f"{customer.first.lower()}.{customer.last.lower()}@example.com",
            channel=False,
        )
        b.item(oid, "WM-MUG-001", PRODUCTS["WM-MUG-001"][0], 1, PRODUCTS["WM-MUG-001"][1])
        b.finish_order(oid)

    _walmart_pair(
        b,
        113,
        at(113),
        [("WM-TEE-002", 1), ("WM-CABLE-003", 1), ("WM-BOTTLE-005", 1)],
        line_status="Created",
        commerce_state="new",
    )

    oid, po, items = _walmart_pair(b, 114, at(114), [("WM-LAMP-004", 2)])
    b.commerce_ship(oid, [(items["WM-LAMP-004"], 1)], ("449044304137821", "Federal Express", "fedex"))
    b.walmart_ship(po, [(1, 1)], ("449044304137821", "FedEx"), "000000114")

    oid, _, _ = _walmart_pair(b, 115, at(115), [("WM-TENT-010", 1)])
    conn.execute(
        "UPDATE c_orders SET hold_before_state = 'processing', hold_before_status = 'processing', "
        "state = 'holded', status = 'holded' WHERE entity_id = ?",
        (oid,),
    )

    oid, po, _ = _walmart_pair(b, 116, at(116), [("WM-BOTTLE-005", 1)])
    b.walmart_ship(po, [(1, 1)], ("9400110200881234567117", "USPS"), "000000116")

    oid, po, items = _walmart_pair(b, 117, at(117), [("WM-PAN-007", 1)])
    b.commerce_ship(oid, [(items["WM-PAN-007"], 1)], ("1Z999AA10123456113", "United Parcel Service", "ups"))

    _walmart_pair(b, 118, at(118), [("WM-SOCK-006", 2), ("WM-BAG-008", 1)], split=True)
    _walmart_pair(b, 119, at(119), [("WM-CABLE-003", 1)], method="Express", shipping_program="TWO_DAY")

    customer = CUSTOMERS[120 % len(CUSTOMERS)]
    oid = b.commerce_order(120, at(120), customer, ext=PHANTOM_PO, email=_email(120))
    b.item(oid, "WM-MUG-001", PRODUCTS["WM-MUG-001"][0], 1, PRODUCTS["WM-MUG-001"][1])
    b.finish_order(oid)

    _walmart_pair(b, 121, at(121), [("WM-KNIFE-009", 1)], commerce_state="payment_review")

    oid, po, _ = _walmart_pair(b, 122, at(122), [("WM-TEE-002", 1)])
    b.walmart_cancel(po, [(1, 1)], "CUSTOMER_REQUESTED_SELLER_TO_CANCEL")

    _walmart_pair(b, 123, at(123), [("WM-BOTTLE-005", 2)])
    _walmart_pair(b, 124, at(124), [("WM-MUG-001", 1), ("WM-BAG-008", 1)])
    _walmart_pair(b, 125, at(125), [("WM-TEE-002", 1)], method="Value")
    # a one-day order placed 37 hours ago: due to ship within a day, so past its ship-by time
    _walmart_pair(b, 126, at(126), [("WM-LAMP-004", 1)], method="OneDay", shipping_program="ONE_DAY", ship_days=1)
    for increment, sku in ((127, "WM-SOCK-006"), (128, "WM-CABLE-003"), (129, "WM-KNIFE-009"), (130, "WM-PAN-007")):
        _walmart_pair(b, increment, at(increment), [(sku, 1)])
    # fulfilled by Walmart Fulfillment Services / a third-party logistics provider: not the seller's to ship
    # the orders added later are placed before 000000101 (50.5 to 51.5 hours ago), so the newest orders stay the same
    _walmart_pair(b, 131, at(99), [("WM-MUG-001", 1)], ship_node_type="WFSFulfilled")
    _walmart_pair(b, 132, at(98), [("WM-SOCK-006", 1)], ship_node_type="3PLFulfilled")
    # listed on Walmart under another SKU than Commerce's (the sandbox store's skus table maps it)
    _oid, po, _ = _walmart_pair(b, 133, at(97), [("WM-LAMP-004", 1)])
    walmart_sku = next(w for w, c in SKU_MAP.items() if c == "WM-LAMP-004")
    conn.execute("UPDATE w_lines SET sku = ? WHERE po = ?", (walmart_sku, po))

    # bundles: shipped as one item ("together") or by their items ("separately"); placed before 000000101 too
    for increment, when in ((134, at(96)), (135, at(95))):
        sku, name, price, _type, _children = BUNDLES[increment]
        po = po_for(increment)
        customer = CUSTOMERS[increment % len(CUSTOMERS)]
        b.walmart_po(po, customer_order_for(increment), when, customer, _email(increment), "Standard")
        oid = b.commerce_order(increment, when, customer, ext=po, email=_email(increment))
        b.bundle(oid, 1, BUNDLES[increment])
        b.line(po, 1, sku, name, 1, price)
        b.finish_order(oid)
        b.history(oid, f"Walmart purchase order {po} imported.", when, "processing")

    # Walmart returns on some of the orders above (sandbox/walmart/returns.py)
    from wmsync.sandbox.walmart import returns as _returns

    _returns.seed(conn, int(now * 1000))

    # Multi-Source Inventory (served with the setting msi): two warehouses; "east" has no lamps, "west" no mugs
    _sources(conn)

    # a PO that Channel Manager has not imported yet
    po = po_for(UNIMPORTED_PO_INCREMENT)
    customer = CUSTOMERS[0]
    b.walmart_po(po, customer_order_for(UNIMPORTED_PO_INCREMENT), now - 600, customer, _email(199), "Standard")
    b.line(po, 1, "WM-MUG-001", PRODUCTS["WM-MUG-001"][0], 1, PRODUCTS["WM-MUG-001"][1], status="Created")

    if orders > 0:
        _generate(b, orders, rng_seed, first_increment=1001)


#: (source code, name, priority) of the sandbox's Multi-Source Inventory, and the SKUs each lacks
MSI_SOURCES = (("east", "East warehouse", 1), ("west", "West warehouse", 2))
MSI_OUT_OF_STOCK = {"east": ("WM-LAMP-004",), "west": ("WM-MUG-001",)}


def _sources(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO c_sources (source_code, name, enabled, priority) VALUES ('default', 'Default', 1, 9)")
    bundle_skus = [b[0] for b in BUNDLES.values()] + [c[0] for b in BUNDLES.values() for c in b[4]]
    skus = [*PRODUCTS, CONFIGURABLE[2], *bundle_skus]
    for code, name, priority in MSI_SOURCES:
        conn.execute("INSERT INTO c_sources (source_code, name, enabled, priority) VALUES (?, ?, 1, ?)",
                     (code, name, priority))
        for sku in skus:
            qty = 0 if sku in MSI_OUT_OF_STOCK.get(code, ()) else 100
            conn.execute("INSERT INTO c_source_items (sku, source_code, quantity, status) VALUES (?, ?, ?, ?)",
                         (sku, code, qty, 1 if qty > 0 else 0))


def _generate(b: Builder, count: int, rng_seed: int, *, first_increment: int) -> None:
    """Bulk orders for benchmarks: mostly plain acknowledged ones, with the usual traps mixed in."""
    rng = random.Random(rng_seed)
    skus = sorted(PRODUCTS)
    for k in range(count):
        increment = first_increment + k
        created = b.now - 60.0 - rng.random() * 5.5 * DAY
        roll = rng.random()
        if roll < 0.05:
            customer = CUSTOMERS[increment % len(CUSTOMERS)]
            oid = b.commerce_order(
                increment,
                created,
                customer,
                ext=rng.choice([None, AMAZON_ORDER]),
                email="web@example.com",
                channel=False,
            )
            sku = rng.choice(skus)
            b.item(oid, sku, PRODUCTS[sku][0], 1, PRODUCTS[sku][1])
            b.finish_order(oid)
            continue
        if roll < 0.60:
            spec = [(rng.choice(skus), 1)]
            split = False
        elif roll < 0.80:
            chosen = rng.sample(skus, rng.randint(2, 4))
            spec = [(s, rng.randint(1, 2)) for s in chosen]
            split = False
        else:
            spec = [(rng.choice(skus), rng.randint(2, 4))]
            split = True
        created_status = rng.random() < 0.1
        _walmart_pair(
            b,
            increment,
            created,
            spec,
            split=split,
            line_status="Created" if created_status else "Acknowledged",
            commerce_state="new" if created_status else "processing",
        )


def describe() -> list[dict[str, Any]]:
    """The fixed seed as rows (increment_id, entity_id, ext_order_id, Walmart PO, covers), for docs and tests."""
    rows = []
    for increment, has_po, covers in FIXED_ORDERS:
        ext: str | None
        if has_po:
            ext = po_for(increment)
        elif increment == 112:
            ext = AMAZON_ORDER
        elif increment == 120:
            ext = PHANTOM_PO
        else:
            ext = None
        rows.append(
            {
                "increment_id": f"{increment:09d}",
                "entity_id": increment - 100,
                "ext_order_id": ext,
                "walmart_po": po_for(increment) if has_po else None,
                "covers": covers,
            }
        )
    return rows
