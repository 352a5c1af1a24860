"""One order session: find the Commerce order → take the order's lease → re-read it if another run worked on
it meanwhile → read the Walmart order. Ship and cancel work on an order only inside one; a read-only command
(status) opens one with ``dry_run=True``, which takes no lease."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from wmsync.commerce.models import Order
from wmsync.walmart.models import WalmartOrder
from wmsync.workflows.base import (
    alongside,
    find_commerce_order,
    order_lease,
    purchase_order_of,
    read_walmart_order,
    renewing,
)
from wmsync.workflows.context import Context


@dataclass(frozen=True)
class OrderSession:
    """``ctx.progress`` renews the order's lease (called before every write and every wait). ``walmart``: the
    purchase order, read once the lease is held. ``changed``: another run worked on the order after it was
    first read (the Commerce order was read again). ``also``: what the caller's ``also`` read returned (None
    without one), read at the same time as the Walmart order, once the lease is held."""

    ctx: Context
    order: Order
    purchase_order_id: str
    walmart: WalmartOrder
    changed: bool
    also: Any = None


@contextmanager
def order_session(
    ctx: Context,
    order_arg: str,
    *,
    dry_run: bool,
    lock_timeout: float,
    order: Order | None = None,
    read_at: float | None = None,
    also: Callable[[Order], Any] | None = None,
) -> Iterator[OrderSession]:
    """``order``: the Commerce order when the caller has read it in bulk (``wmsync sync``, file runs), so it is
    not searched again; ``read_at``: the journal time of that read, so a change another run made since is
    noticed. A dry run reads only and takes no lease. ``also``: another read of the Commerce order (its
    shipments, say) made at the same time as the Walmart read: one round trip for both."""
    if order is None or read_at is None:
        read_at = ctx.journal.now()
    if order is None:
        order = find_commerce_order(ctx.commerce, ctx.store, order_arg)
    po = purchase_order_of(order, ctx.store)
    ttl = ctx.settings.lease_ttl
    with order_lease(
        ctx.journal,
        ctx.store_name,
        po,
        order.increment_id,
        dry_run=dry_run,
        wait=lock_timeout,
        ttl=ttl,
        sleep=ctx.clock.sleep,
    ):
        changed = not dry_run and ctx.journal.changed_since(ctx.store_name, po, read_at)
        if changed:
            # another run worked on this order after it was read: plan from what it left, not from before
            order = ctx.commerce.get_order(order.entity_id)
        extra = None
        if also is None:
            wm = read_walmart_order(ctx.walmart, po, order.increment_id)
        else:
            the_order = order
            wm, extra = alongside(lambda: read_walmart_order(ctx.walmart, po, the_order.increment_id),
                                  lambda: also(the_order))
        progress = renewing(ctx.progress, ctx.journal, ctx.store_name, po, ttl=ttl, dry_run=dry_run)
        yield OrderSession(ctx.with_(progress=progress), order, po, wm, changed, extra)
