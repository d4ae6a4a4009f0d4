"""The feeds package's start-up: the state it puts on the app, and its background tasks.

- ``app[REGISTRY]``: the authority registry. The assembly loads it once per process
  (`load_registry_into`, called by `oura.app.create_app`) and every package's start-up reads it
  from here; without a registry the service serves no feeds.
- `feeds_context` (a ``cleanup_ctx`` generator, after the database and the HTTP client): opens the
  feed store (``app[STORE]``), starts the periodic ingestion (`FeedScheduler`, ``app[SCHEDULER]``)
  when `FeedsConfig.ingest_on_start` is set, and keeps the interchange hubs of the served versions
  computed (``app[HUBS]``: computed after the first ingestion round, then after each accepted
  version, only when the served set changed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiohttp import web

from feeds import repository
from feeds.adapters import read_network_feed
from feeds.authorities import Registry, load_registry
from feeds.hubs import HUB_INPUT_FILES, Hub, list_hubs
from feeds.ingest import archive_limits, fetch_limits
from feeds.scheduler import FeedScheduler, follow_versions
from feeds.store import FeedStore
from oura.concurrency import cancel_and_wait, run_blocking
from oura.config import Config
from oura.keys import CLOCK, CONFIG, HTTP_CLIENT, POOL, READINESS

__all__ = ["REGISTRY", "STORE", "SCHEDULER", "HUBS", "HubSet", "HubHolder", "feeds_context", "load_registry_into"]

log = logging.getLogger(__name__)

REGISTRY = web.AppKey("feeds.registry", Registry)
STORE = web.AppKey("feeds.store", FeedStore)
SCHEDULER = web.AppKey("feeds.scheduler", FeedScheduler)


@dataclass(frozen=True)
class HubSet:
    """The hubs of one set of served versions, replaced whole when a new version is published."""

    versions: tuple[tuple[str, str], ...]  # (network id, sha256) of each served version, sorted
    hubs: tuple[Hub, ...]


@dataclass
class HubHolder:
    """The current `HubSet`: None until the first computation, then swapped by reference
    (`publish`); each listener (`subscribe`: the assembly, handing hubs to the planner) is called
    with every new set."""

    current: HubSet | None = None
    _listeners: list[Callable[[HubSet], None]] = field(default_factory=list)

    def publish(self, hubs: HubSet) -> None:
        self.current = hubs
        for listener in self._listeners:
            listener(hubs)

    def subscribe(self, listener: Callable[[HubSet], None]) -> None:
        """Call ``listener`` with every new set, and now with the current one if there is one."""
        self._listeners.append(listener)
        if self.current is not None:
            listener(self.current)


HUBS = web.AppKey("feeds.hubs", HubHolder)


def load_registry_into(app: web.Application, config: Config) -> Registry | None:
    """Load the configured registry (once per process: the assembly calls this when it builds the
    app) into ``app[REGISTRY]``; None, and nothing set, when no registry is configured. A registry
    that cannot be read fails here, before anything starts."""
    if config.feeds.registry is None:
        return None
    registry = load_registry(config.feeds.registry)
    app[REGISTRY] = registry
    return registry


def _compute_hubs(served: list[repository.CurrentFeed], adapters: dict[str, str]) -> tuple[Hub, ...]:
    """Read each served version's hub inputs (its adapter applied) and cluster them; sync, CPU-bound."""
    tables = {feed.feed_id: read_network_feed(feed.content_path, adapters.get(feed.feed_id),
                                              only=list(HUB_INPUT_FILES))
              for feed in served}
    return tuple(list_hubs(tables))


async def _refresh_hubs(app: web.Application, registry: Registry) -> None:
    """Compute the hubs unless the served versions are those of the current `HubSet`."""
    networks = registry.list_networks()
    known = {network.id for network in networks}
    served = [feed for feed in await repository.list_current_feeds(app[POOL]) if feed.feed_id in known]
    versions = tuple(sorted((feed.feed_id, feed.sha256) for feed in served))
    holder = app[HUBS]
    if holder.current is not None and holder.current.versions == versions:
        return
    adapters = {network.id: network.adapter for network in networks if network.adapter}
    hubs = await run_blocking(_compute_hubs, served, adapters)
    holder.publish(HubSet(versions=versions, hubs=hubs))
    log.info("interchange hubs computed", extra={"feeds": len(served), "hubs": len(hubs)})


async def _keep_hubs_current(app: web.Application, registry: Registry, scheduler: FeedScheduler | None) -> None:
    """Compute the hubs after the first ingestion round, then again after accepted versions."""
    await follow_versions(scheduler, lambda: _refresh_hubs(app, registry), what="the interchange hubs")


async def feeds_context(app: web.Application) -> AsyncIterator[None]:
    """Open the feed store; with a registry (``app[REGISTRY]``, loaded once by the assembly), start
    periodic ingestion when `FeedsConfig.ingest_on_start` is set, and keep the hubs of the served
    versions computed."""
    config = app[CONFIG].feeds
    store = FeedStore(config.store_dir)
    removed = store.remove_leftovers()
    if removed:
        log.info("removed %d abandoned download(s) from the feed store", removed)
    app[STORE] = store
    app[HUBS] = HubHolder()
    registry = app.get(REGISTRY)
    if registry is None:
        app[HUBS].publish(HubSet(versions=(), hubs=()))  # no networks, so no hubs and nothing to wait for
        yield
        return
    scheduler = None
    if config.ingest_on_start:
        scheduler = FeedScheduler(app[POOL], registry, store=store, session=app[HTTP_CLIENT], clock=app[CLOCK],
                                  limits=fetch_limits(config), archive_limits=archive_limits(config))
        app[SCHEDULER] = scheduler
        app[READINESS].expect("feeds", "first ingestion round running")
        scheduler.start()

        async def mark_ready() -> None:
            await scheduler.first_round.wait()
            app[READINESS].set("feeds", True, f"{len(registry.list_networks())} networks checked")

        ready_task = asyncio.create_task(mark_ready())
    hubs_task = asyncio.create_task(_keep_hubs_current(app, registry, scheduler))
    try:
        yield
    finally:
        await cancel_and_wait(hubs_task)
        if scheduler is not None:
            ready_task.cancel()
            await scheduler.stop()
