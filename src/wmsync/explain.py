"""``wmsync explain``: Walmart and Commerce error codes and messages, and wmsync's exit codes, in plain words
with what to do about them. Pure data and lookup; no I/O."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

WALMART = "Walmart"
COMMERCE = "Commerce"
EXIT = "wmsync exit code"

#: Suffixes Walmart appends to error codes, and what they say about where the error came from.
SUFFIXES = {
    "GMP_ORDER_API": "from Walmart's orders API",
    "GMP_GATEWAY_API": "from Walmart's API gateway (before the request reached the orders API)",
    "GMP_ITEM_API": "from Walmart's items API",
    "GMP_PRICE_API": "from Walmart's price API",
}


@dataclass(frozen=True)
class Explanation:
    code: str
    source: str
    meaning: str
    todo: tuple[str, ...]
    http_status: int | None = None
    patterns: tuple[str, ...] = ()  # lower-case fragments of the message as the service words it
    aliases: tuple[str, ...] = ()

    def to_json(self, query: str, suffix: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "query": query,
            "code": self.code,
            "source": self.source,
            "http_status": self.http_status,
            "meaning": self.meaning,
            "what_to_do": list(self.todo),
        }
        if suffix:
            out["suffix"] = suffix
            out["suffix_meaning"] = SUFFIXES.get(suffix, "a Walmart API name")
        return out


E = Explanation

ENTRIES: tuple[Explanation, ...] = (
    # ------------------------------------------------------------------ Walmart error codes
    E(
        "INVALID_REQUEST_CONTENT",
        WALMART,
        "Walmart refused the request body or a parameter: a line number, quantity, status, carrier name, "
        "method code, tracking number or date that does not fit the order or the API. The error's "
        "description and field say which.",
        (
            "read the description: it names the line and the field",
            "run `wmsync status ORDER`: the order may have changed on Walmart (shipped, cancelled) since wmsync "
            "read it — wmsync checks these rules before sending, so a fresh look usually explains it",
            "`wmsync ship ORDER ... --dry-run` shows the exact body wmsync would send",
        ),
        400,
    ),
    E(
        "MISSING_REQUEST_HEADER",
        WALMART,
        "A required header was missing (WM_SEC.ACCESS_TOKEN, WM_SVC.NAME, WM_QOS.CORRELATION_ID or Accept).",
        (
            "wmsync always sends them: a proxy between you and Walmart probably removed one",
            "run the command with --trace-file trace.json and check the request headers it recorded",
        ),
        400,
    ),
    E(
        "UNAUTHORIZED",
        WALMART,
        "Walmart did not accept the access token or the client id/secret.",
        (
            "wmsync fetches a fresh token and retries once by itself; if it still fails the keys are wrong",
            "check walmart_client_id and WALMART_CLIENT_SECRET — production and sandbox keys differ",
            "`wmsync stores check` tests the credentials",
        ),
        401,
    ),
    E(
        "INVALID_TOKEN",
        WALMART,
        "The access token expired or was revoked (Walmart tokens last 15 minutes). Walmart's gateway answers "
        "this as HTTP 400 INVALID_TOKEN.GMP_GATEWAY_API as well as 401.",
        (
            "nothing to do if it happens once: wmsync refreshes the token and retries",
            "if it persists, the client secret was rotated or revoked: update WALMART_CLIENT_SECRET and run "
            "`wmsync stores check`",
        ),
        400,
    ),
    E(
        "FORBIDDEN",
        WALMART,
        "The credentials work but are not allowed to do this: the API key's Orders permission is view-only "
        "or none, or the seller account is not enabled for the API.",
        (
            "`wmsync stores check` shows the token's scopes (orders: full_access is needed to ship and cancel)",
            "give the key full access to Orders in Walmart's Developer Portal, or use a key that has it",
        ),
        403,
    ),
    E(
        "CONTENT_NOT_FOUND",
        WALMART,
        "Walmart has no purchase order with this id, or no order matches the filters. For a list it simply "
        "means an empty result.",
        (
            "check the PO id and that the store's Walmart keys belong to the seller account the order came from",
            "Walmart's list only reaches back 180 days",
            "a Commerce order whose PO field holds another channel's number is not a Walmart order",
        ),
        404,
    ),
    E(
        "RESOURCE_IS_LOCKED",
        WALMART,
        "Another update of the same order is in progress on Walmart's side (for example Channel Manager "
        "posting at the same moment).",
        (
            "wait a minute and run the same command again — a re-run does only what is missing",
            "if Channel Manager is installed, use channel-manager mode so only one of them posts",
        ),
        423,
    ),
    E(
        "REQUEST_THRESHOLD_VIOLATED",
        WALMART,
        "Too many requests: Walmart's per-seller, per-API rate limit was exceeded.",
        (
            "wmsync waits (Retry-After) and retries by itself; seeing it as a failure means it kept happening",
            "other integrations (Channel Manager, an ERP) share the seller's quota: lower the store's "
            "rate_limits in the config, or run large batches at quiet times",
        ),
        429,
    ),
    E(
        "SYSTEM_ERROR",
        WALMART,
        "An internal error at Walmart.",
        (
            "reads are retried automatically; a write is only retried after re-reading the order",
            "run `wmsync status ORDER` to see whether it went through, then re-run the command if not",
            "if it persists, contact Walmart support with the correlation id from the error or `wmsync status`",
        ),
        500,
    ),
    E(
        "DOWNSTREAM_SYSTEM_TIME_OUT",
        WALMART,
        "Walmart timed out talking to one of its own systems; the update may or may not have been applied.",
        (
            "run `wmsync status ORDER`: it shows whether Walmart has it",
            "re-run the same command — wmsync re-reads the order first and never posts a shipment twice",
        ),
        504,
    ),
    # ------------------------------------------------------------------ Walmart messages
    E(
        "SHIPPED_STATUS",
        WALMART,
        "The line is already Shipped on Walmart: a shipment was posted for it before — often by Channel "
        "Manager or another tool, or a re-post of the same shipment. Channel Manager shows this as Error.",
        (
            "run `wmsync status ORDER`: if Walmart shows the same tracking number, it is done",
            "if Channel Manager is installed, use --via channel-manager (or submit = \"channel-manager\") so only "
            "Channel Manager posts",
            "a shipped line cannot be cancelled: refund it instead",
        ),
        400,
        patterns=("is in shipped status", "in shipped status"),
        aliases=("IS IN SHIPPED STATUS",),
    ),
    E(
        "CANCELLED_STATUS",
        WALMART,
        "The line is already Cancelled on Walmart (by the customer, by Walmart's auto-cancel, or by the seller); "
        "it can no longer be shipped.",
        (
            "run `wmsync status ORDER` to see who cancelled what",
            "do not ship it; cancel the Commerce order to match (`wmsync cancel ORDER --reason ...`)",
        ),
        400,
        patterns=("is in cancelled status", "in cancelled status"),
        aliases=("IS IN CANCELLED STATUS",),
    ),
    E(
        "METHOD_CODE_NOT_SUPPORTED",
        WALMART,
        "The shipping method code does not fit the order's shipping program (e.g. Standard on a OneDay order).",
        (
            "leave --method out: wmsync then uses the order's own shippingInfo.methodCode",
            "otherwise pick one of Standard, Express, OneDay, Freight, WhiteGlove, Value that the order allows",
        ),
        400,
        patterns=("method code is not supported", "methodcode is not supported", "invalid method code"),
        aliases=("METHOD CODE IS NOT SUPPORTED",),
    ),
    E(
        "INVALID_CARRIER",
        WALMART,
        "The carrier name is not on Walmart's list as spelled (the list is exact), or an otherCarrier was "
        "sent without a tracking URL.",
        (
            "`wmsync carriers` lists Walmart's carrier names; `wmsync carriers check` checks the store's mapping",
            "for a carrier not on the list, give --tracking-url (or a URL template in the [carriers] mapping)",
            "do not send a listed carrier as 'other': it counts against the valid-tracking rate",
        ),
        400,
        patterns=("invalid carrier", "carrier name is invalid", "carriername", "invalid carriername",
                  "carrier is not valid", "othercarrier"),
        aliases=("INVALID CARRIER",),
    ),
    E(
        "NOT_ACKNOWLEDGED",
        WALMART,
        "The line is still Created: Walmart needs lines acknowledged before they can be shipped.",
        ("`wmsync ship` acknowledges Created lines first by itself; re-run it",),
        400,
        patterns=("created status", "not acknowledged", "must be acknowledged"),
    ),
    E(
        "INTENT_TO_CANCEL",
        WALMART,
        "The customer asked to cancel this line; Walmart blocks shipping it unless told to override.",
        (
            "cancel it: `wmsync cancel ORDER --reason customer-request`",
            "or, if it has already left the warehouse, ship with --override-intent-to-cancel",
        ),
        400,
        patterns=("intenttocancel", "intent to cancel"),
    ),
    # ------------------------------------------------------------------ Commerce
    E(
        "SHIPMENT_NOT_ALLOWED",
        COMMERCE,
        "Magento refused to create the shipment (canShip() is false): the order is on hold, in payment review, "
        "canceled, closed or complete, or nothing is left to ship.",
        (
            "run `wmsync status ORDER` to see both sides",
            "release a hold or finish the payment review in Commerce, then re-run",
            "if everything is already shipped in Commerce, `wmsync ship ORDER` (no --tracking) sends the recorded "
            "tracks to Walmart",
        ),
        400,
        patterns=("does not allow a shipment to be created", "the order does not allow a shipment"),
        aliases=("THE ORDER DOES NOT ALLOW A SHIPMENT TO BE CREATED.",),
    ),
    E(
        "BUNDLE_SHIPMENT_TYPE",
        COMMERCE,
        "Magento refused a shipment of a bundle the wrong way: a bundle whose items ship separately is shipped by "
        "its items, a bundle shipped together by the bundle item itself.",
        (
            "wmsync reads the bundle's shipment type from the catalog: grant the integration Magento_Catalog::products "
            "(read) so it can",
            "re-run the same `wmsync ship`: nothing was created",
        ),
        400,
        patterns=("has shipment type",),
    ),
    E(
        "SHIPMENT_VALIDATION",
        COMMERCE,
        "Magento's shipment validation failed: a quantity is more than is left to ship, an item id is not on the "
        "order, a configurable's child item was given instead of its parent, or a Multi-Source Inventory store "
        "needs a source.",
        (
            "run `wmsync status ORDER`: the order may have been shipped in Commerce meanwhile",
            "on a Multi-Source Inventory store set source_code in the store config",
            "the message after the colon names the exact problem",
        ),
        400,
        patterns=("shipment document validation error",),
        aliases=("SHIPMENT DOCUMENT VALIDATION ERROR(S)",),
    ),
    E(
        "CONSUMER_NOT_AUTHORIZED",
        COMMERCE,
        "Commerce refused the integration's credentials (HTTP 401): a wrong token or OAuth signature, an "
        "integration token used as Bearer on a store that does not allow that (the default since 2.4.4), or a "
        "missing ACL resource.",
        (
            "use commerce_auth = \"oauth1\" with the four integration credentials, or enable "
            "'Allow OAuth Access Tokens to be used as standalone Bearer tokens' in the store's settings",
            "give the integration the ACL resources for orders, shipments, ship, cancel and comments "
            "(see README), and re-activate it",
            "`wmsync stores check` tests the connection",
        ),
        401,
        patterns=("consumer isn't authorized", "consumer is not authorized", "%resources"),
        aliases=("THE CONSUMER ISN'T AUTHORIZED TO ACCESS %RESOURCES.",),
    ),
    E(
        "CANCEL_FALSE",
        COMMERCE,
        "Commerce answered `false` to a cancel: Magento refused without saying why. It does so for orders on "
        "hold, in payment review, fully invoiced, complete, closed or already canceled.",
        (
            "release a hold or finish the payment review, then re-run",
            "for an invoiced order create a credit memo (refund) in Commerce instead",
            "`wmsync cancel ORDER --reason ... --walmart-only` cancels on Walmart alone and records the reason on "
            "the Commerce order",
        ),
        200,
        patterns=("cancel false", "cancel returned false", "answered false", "refused to cancel"),
        aliases=("FALSE",),
    ),
    E(
        "SOURCE_ITEM_NOT_FOUND",
        COMMERCE,
        "Multi-Source Inventory: the shipment's source (or `default`, when none is named) does not carry an item of "
        "the shipment, or holds too little of it. Nothing was created.",
        (
            "`wmsync ship ORDER ... --source CODE` with the warehouse the package leaves from (wmsync checks the "
            "source before sending)",
            "or set source_code in the store config",
        ),
        400,
        patterns=("source item not found", "not all of your products are available in the requested quantity"),
    ),
    E(
        "TRACKING_UPDATE_REFUSED",
        WALMART,
        "Walmart refused a tracking correction (PARTIAL_UPDATE): the line is not Shipped, the old number is not "
        "the one it shipped under, or its window (4 hours after the first shipping information) has passed.",
        (
            "`wmsync status ORDER` shows the tracking numbers the lines shipped under",
            "after the window, correct it in Walmart Seller Center",
        ),
        400,
        patterns=("unable to update tracking details", "currenttrackinginfo", "tracking update"),
    ),
    E(
        "REFUND_REFUSED",
        WALMART,
        "Walmart refused a refund: the line is not shipped (that is a cancellation), an amount is not negative, or "
        "the refunds would exceed what was charged.",
        (
            "`wmsync refund` checks all three before sending; `wmsync status ORDER` shows what is shipped",
            "for a line not shipped use `wmsync cancel ORDER --item SKU`",
        ),
        400,
        patterns=(
            "only shipped quantities can be refunded", "refund amount exceeds", "refund amounts must be negative"
        ),
    ),
    E(
        "CREDITMEMO_REFUSED",
        COMMERCE,
        "Magento refused the offline credit memo: the order is not invoiced for these items, they are refunded "
        "already, or the order is closed, cancelled or on hold.",
        (
            "invoice the order in Commerce first, or refund there another way and run `wmsync refund ... "
            "--walmart-only`",
        ),
        400,
        patterns=("creditmemo", "credit memo"),
    ),
    E(
        "COMMERCE_INTERNAL_ERROR",
        COMMERCE,
        "Commerce hid an internal error behind a generic message (HTTP 500).",
        (
            "the store's var/log/exception.log (or the report id in the message) has the real error",
            "run `wmsync status ORDER` before re-running a write",
        ),
        500,
        patterns=("internal error. details are available in magento log file", "an internal error"),
    ),
)

EXIT_CODES: dict[int, tuple[str, tuple[str, ...]]] = {
    0: ("done: the operation succeeded, was already done, or (status) the two sides agree", ()),
    1: (
        "internal error: a bug in wmsync",
        ("run again with --verbose and --trace-file trace.json, and report it with the trace",),
    ),
    2: (
        "refused before sending: bad input, or the order's state does not allow it. Nothing was sent.",
        ("read the message and hint; fix the input (or the order) and run again",),
    ),
    3: (
        "configuration or credentials problem",
        ("`wmsync stores check` tests each store's settings and credentials",),
    ),
    4: (
        "sent and rejected by Walmart or Commerce",
        ("`wmsync explain CODE` with the error code from the message; `wmsync status ORDER` shows both sides",),
    ),
    5: (
        "unavailable: the service could not be reached or kept failing after retries (or another wmsync run holds "
        "the order)",
        ("run the same command again later; a re-run does only what is missing",),
    ),
    6: (
        "sent but not confirmed before the timeout (status: still pending)",
        ("`wmsync status ORDER --wait` keeps watching; re-running never sends it twice",),
    ),
    7: (
        "batch finished with failures: some rows failed, the others are done",
        ("the output lists the failed rows; fix them and re-run the file — finished rows are skipped",),
    ),
    8: (
        "the two sides disagree (status): Commerce and Walmart show different things",
        ("`wmsync status ORDER` prints each difference and the command that repairs it",),
    ),
    130: ("interrupted (Ctrl-C)", ("run the same command again: it continues where it stopped",)),
}


HTTP = "HTTP status"

# an HTTP status as an operator meets it in a log line, a trace file or a proxy's error page
HTTP_STATUSES: dict[str, tuple[int | None, str, tuple[str, ...]]] = {
    "400": (400, "the service refused the request as wrong (a field, a line, a status): it was not applied",
            ("the error's code and description say which field; `wmsync explain CODE` for the code",
             "a write refused with 400 is not retried: fix the input and run the command again")),
    "401": (401, "not authenticated: a wrong or expired credential",
            ("`wmsync stores check` names the side and the secret; Walmart tokens are refreshed once by wmsync",)),
    "403": (403, "authenticated but not allowed: the API key or integration lacks a permission or scope",
            ("`wmsync stores check` shows Walmart's orders scope; Commerce: the integration's resource access",)),
    "404": (404, "not found: the order, PO or endpoint does not exist on that store (or a wrong base URL)",
            ("check the store's URLs with `wmsync stores list` and the order number",)),
    "408": (408, "the server gave up waiting for the request (timeout)",
            ("reads are retried; a write may or may not have been applied: re-run — wmsync checks before resending",)),
    "409": (409, "conflict: the order changed at the same time on the server",
            ("run `wmsync status ORDER` and then the command again",)),
    "423": (423, "the resource is locked by Walmart (another update of the order is in progress)",
            ("wait a minute and re-run; wmsync retries it for reads",)),
    "429": (429, "too many requests: the service's rate limit was reached; it says when to retry (Retry-After)",
            ("wmsync waits as asked (Retry-After) and retries; `-v` shows each wait",
             "lower the store's rate limits in the config file if it happens often")),
    "500": (500, "the service failed internally; whether a write was applied is not known",
            ("re-run the command: wmsync reads both sides before sending anything again",)),
    "502": (502, "a proxy or load balancer in front of the service got no valid answer (bad gateway)",
            ("usually brief: re-run; a write is checked before it is sent again",)),
    "503": (503, "the service is unavailable (maintenance or overload)",
            ("wait and re-run; reads are retried automatically",)),
    "504": (504, "a proxy timed out waiting for the service; a write may have been applied",
            ("re-run: wmsync checks each side before resending, never sending twice",)),
    "520": (520, "Cloudflare's 'unknown error': the origin server answered with something empty or invalid",
            ("usually the Commerce server or its PHP crashed or restarted: check its logs, then re-run",)),
    "5XX": (None, "a server-side failure (500-599): the service, or a proxy in front of it, failed",
            ("re-run the command: wmsync reads both sides before sending anything again",
             "`wmsync explain 5NN` for the exact status")),
}
_HTTP_RE = re.compile(r"(?i)(?:http(?:[ /]*\d(?:\.\d)?)?[ :-]*(?:status)?[ :=-]*)?([1-5]\d\d|[45]xx)")


def _http_entry(key: str) -> Explanation:
    status, meaning, todo = HTTP_STATUSES[key]
    return Explanation(key.lower() if key.endswith("XX") else key, HTTP, meaning, todo, http_status=status)


def _exit_entry(code: int) -> Explanation:
    meaning, todo = EXIT_CODES[code]
    return Explanation(str(code), EXIT, meaning, todo)


_BY_CODE = {e.code: e for e in ENTRIES}
_CODE_RE = re.compile(r"^([A-Z][A-Z0-9_]*)(?:\.([A-Z][A-Z0-9_]*))?$")


@dataclass(frozen=True)
class Match:
    entry: Explanation
    query: str
    suffix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return self.entry.to_json(self.query, self.suffix)


def lookup(query: str) -> Match | None:
    """A code (``INVALID_REQUEST_CONTENT``, with or without ``.GMP_ORDER_API``), an exit code (``0``–``8``,
    ``130``, also ``exit 8``), or a message as Walmart or Commerce words it (a fragment is enough)."""
    text = query.strip()
    if not text:
        return None
    m = re.fullmatch(r"(?i)(?:exit(?:[ _-]?code)?[ :=-]*)?(\d{1,3})", text)
    if m and int(m.group(1)) in EXIT_CODES:
        return Match(_exit_entry(int(m.group(1))), text)
    hm = _HTTP_RE.fullmatch(text)
    if hm:
        key = hm.group(1).upper()
        if key in HTTP_STATUSES:
            return Match(_http_entry(key), text)
        if key.startswith("5"):
            return Match(_http_entry("5XX"), text)
    upper = text.upper().strip("'\"` ")
    cm = _CODE_RE.match(upper)
    if cm:
        if cm.group(1) in _BY_CODE:
            return Match(_BY_CODE[cm.group(1)], text, cm.group(2))
        if upper in _BY_CODE:
            return Match(_BY_CODE[upper], text)
    for e in ENTRIES:
        if upper in e.aliases:
            return Match(e, text)
    low = text.lower()
    for e in ENTRIES:
        if any(p in low for p in e.patterns):
            return Match(e, text)
    # a code inside a longer message, e.g. "Walmart: ... [INVALID_REQUEST_CONTENT.GMP_ORDER_API]"
    for word in re.findall(r"[A-Z][A-Z0-9_]{3,}(?:\.[A-Z][A-Z0-9_]*)?", text):
        inner = _CODE_RE.match(word)
        if inner and inner.group(1) in _BY_CODE:
            return Match(_BY_CODE[inner.group(1)], text, inner.group(2))
    return None


def suggestions(query: str, n: int = 3) -> list[str]:
    """Close matches for an unknown query, for "did you mean"."""
    upper = query.strip().upper().split(".", 1)[0]
    names = [e.code for e in ENTRIES]
    close = difflib.get_close_matches(upper, names, n=n, cutoff=0.5)
    if not close:
        words = set(re.findall(r"[A-Z]{4,}", upper))
        close = [c for c in names if words & set(c.split("_"))][:n]
    return close


def known() -> list[str]:
    return [e.code for e in ENTRIES] + [str(c) for c in EXIT_CODES] + [
        k.lower() if k.endswith("XX") else f"HTTP {k}" for k in HTTP_STATUSES]
