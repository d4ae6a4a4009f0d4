"""Periodic static ingestion inside `oura serve`: one task per network, polling at its
``static_poll_s``, one ingestion at a time (reading and validating are CPU-bound, hold the GIL
mostly, and the machine is shared with the planner: bench/ingest.py shows two threads are slower).

A failing network only delays itself: errors are outcomes, and an unexpected exception in one
round is logged and retried at the next interval. Subscribers (the planner) are called after each
accepted version is published, outside the ingestion transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp
import asyncpg

from feeds.authorities import Network, Registry
from feeds.fetch import FetchLimits
from feeds.gtfs.archive import ArchiveLimits
from feeds.ingest import IngestOutcome, Outcome, ingest_network
from feeds.store import FeedStore
from oura.clock import Clock

__all__ = ["FeedScheduler", "follow_versions", "DEBOUNCE_S"]

log = logging.getLogger(__name__)

Subscriber = Callable[[IngestOutcome], Awaitable[None]]
DEBOUNCE_S = 2.0  # several networks often change together: one rebuild for the lot


class FeedScheduler:
    def __init__(self, pool: asyncpg.Pool, registry: Registry, *, store: FeedStore,
                 session: aiohttp.ClientSession | None, clock: Clock, limits: FetchLimits = FetchLimits(),
                 archive_limits: ArchiveLimits = ArchiveLimits(), concurrency: int = 1) -> None:
        self._pool = pool
        self._registry = registry
        self._store = store
        self._session = session
        self._clock = clock
        self._limits = limits
        self._archive_limits = archive_limits
        self._gate = asyncio.Semaphore(concurrency)
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribers: list[Subscriber] = []
        self.first_round = asyncio.Event()
        self._pending_first = 0

    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback`` after every accepted version is published."""
        self._subscribers.append(callback)

    async def ingest_once(self, network: Network) -> IngestOutcome:
        async with self._gate:
            outcome = await ingest_network(self._pool, network, store=self._store, session=self._session,
                                           clock=self._clock, work_dir=self._store.work_dir, limits=self._limits,
                                           archive_limits=self._archive_limits)
        log.info("feed ingestion", extra={"network": network.id, "outcome": outcome.outcome.value,
                                          "detail": outcome.message})
        if outcome.outcome is Outcome.ACCEPTED:
            for callback in self._subscribers:
                try:
                    await callback(outcome)
                except Exception:  # a subscriber's bug must not stop ingestion
                    log.exception("feed subscriber failed", extra={"network": network.id})
        return outcome

    async def _loop(self, network: Network) -> None:
        first = True
        while True:
            try:
                await self.ingest_once(network)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("feed ingestion crashed", extra={"network": network.id})
            if first:
                first = False
                self._pending_first -= 1
                if self._pending_first == 0:
                    self.first_round.set()
            await asyncio.sleep(network.static_poll_s)

    def start(self) -> None:
        networks = self._registry.list_networks()
        self._pending_first = len(networks)
        if not networks:
            self.first_round.set()
        self._tasks = [asyncio.create_task(self._loop(n), name=f"feeds:{n.id}") for n in networks]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []


async def follow_versions(scheduler: FeedScheduler | None, rebuild: Callable[[], Awaitable[None]], *,
                          what: str, debounce_s: float = DEBOUNCE_S) -> None:
    """Run ``rebuild`` after the first ingestion round, then again (debounced) after accepted
    versions are published; forever, until cancelled. Without a scheduler the versions already
    recorded are all there is, and one rebuild is done. A failed rebuild is logged and the
    previous result keeps serving until the next version. The planner, the fare catalogue and the
    interchange hubs are kept current this way."""
    wanted = asyncio.Event()

    async def on_new_version(_outcome: IngestOutcome) -> None:
        wanted.set()

    if scheduler is not None:
        scheduler.subscribe(on_new_version)
        await scheduler.first_round.wait()
    while True:
        wanted.clear()
        try:
            await rebuild()
        except Exception:  # keep serving what was built before; retry on the next version
            log.exception("rebuilding %s failed", what)
        await wanted.wait()
        await asyncio.sleep(debounce_s)
