"""What every workflow runs with: the :class:`Settings` (a store's timeouts, already merged with the
environment by the CLI) and the :class:`Context` (clients, journal, clock, store config, settings).

Both are built in one place, the CLI layer (``wmsync.cli.common.Runtime.context``); no workflow reads the
environment or builds a client itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wmsync.clock import Clock
    from wmsync.commerce.client import CommerceClient
    from wmsync.commerce.models import Shipment
    from wmsync.config import StoreConfig, Timeouts
    from wmsync.journal import Journal
    from wmsync.walmart.client import WalmartClient


def _quiet(_message: str) -> None:
    return None


@dataclass(frozen=True)
class Settings:
    """Seconds, and whether to wait for Walmart's confirmation. Defaults are those of ``[timeouts]``."""

    timeout: float = 300.0  # how long to wait for Walmart to show a write (confirm)
    poll_initial: float = 1.0
    poll_max: float = 30.0
    wait: bool = True
    unknown_grace: float = 30.0  # after a write whose outcome is unknown: how long to re-read for it
    resend_quiet: float = 120.0  # how long after such an attempt a re-run waits before sending it again
    lease: float = 600.0  # base time-to-live of the per-order lease

    @classmethod
    def from_timeouts(cls, t: Timeouts, *, timeout: float | None = None, wait: bool = True) -> Settings:
        """From a store's timeouts (``Timeouts.with_env()`` already applied); ``timeout``: --timeout."""
        return cls(
            timeout=t.confirm if timeout is None else timeout,
            poll_initial=t.poll_initial,
            poll_max=t.poll_max,
            wait=wait,
            unknown_grace=t.unknown_grace,
            resend_quiet=t.resend_quiet,
            lease=t.lease,
        )

    @property
    def lease_ttl(self) -> float:
        """The per-order lease's time to live, on taking it and on every renewal: the lease is renewed before
        every write and every wait, so it must outlast one write settled after an unknown outcome
        (``unknown_grace``) or one confirmation wait (``timeout``)."""
        return self.lease + self.timeout + self.unknown_grace


@dataclass(frozen=True)
class Context:
    """One store's clients, journal and clock, its config and the run's settings. ``progress``: short status
    lines (a spinner); ``note``: notes and warnings for the operator (stderr)."""

    store_name: str
    store: StoreConfig
    commerce: CommerceClient
    walmart: WalmartClient
    journal: Journal
    clock: Clock
    settings: Settings = field(default_factory=Settings)
    progress: Callable[[str], None] = _quiet
    note: Callable[[str], None] = _quiet
    #: reads an order's Commerce shipments afresh (by entity id): a file run's workers share one group read
    #: (prefetch.ShipmentReads); None: the Commerce client's own read
    shipments_reader: Callable[[int], list[Shipment]] | None = None

    def with_(
        self,
        *,
        walmart: WalmartClient | None = None,
        journal: Journal | None = None,
        settings: Settings | None = None,
        progress: Callable[[str], None] | None = None,
        note: Callable[[str], None] | None = None,
        shipments_reader: Callable[[int], list[Shipment]] | None = None,
    ) -> Context:
        """The same context with some parts replaced (a worker thread's journal, an order's Walmart client)."""
        return replace(
            self,
            walmart=self.walmart if walmart is None else walmart,
            journal=self.journal if journal is None else journal,
            settings=self.settings if settings is None else settings,
            progress=self.progress if progress is None else progress,
            note=self.note if note is None else note,
            shipments_reader=self.shipments_reader if shipments_reader is None else shipments_reader,
        )
