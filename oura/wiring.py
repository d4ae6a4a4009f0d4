"""Assembly: keep the serving components in step with the ingested feeds.

The feeds package records which version of each network's feed is current; this module turns
that into what the other packages serve. After the first ingestion round, and again (debounced)
whenever a new version is accepted, it rebuilds the ticketing catalogue from the current versions'
Fares v2 files (plus the regional combined products) and swaps it in atomically. Requests keep
using the previous catalogue until the new one is published, so a reload never interrupts sales.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from feeds.adapters import read_network_feed
from feeds.authorities import Registry, load_registry
from feeds.http import SCHEDULER
from feeds.repository import CurrentFeed, list_current_feeds
from ticketing.catalogue import FARE_FILES, build_catalogue, load_catalogue
from ticketing.http import TICKETING, make_ticketing_context
from ticketing.service import network_authorities

from .concurrency import run_blocking
from .keys import POOL, READINESS

__all__ = ["serving_contexts", "RELOAD_DEBOUNCE_S"]

log = logging.getLogger(__name__)
RELOAD_DEBOUNCE_S = 2.0


def _catalogue_from(registry: Registry, current: list[CurrentFeed]):  # noqa: ANN202 - (Catalogue, issues)
    adapters = {network.id: network.adapter for network in registry.list_networks()}
    tables = {
        feed.feed_id: read_network_feed(feed.content_path, adapters.get(feed.feed_id) or None, only=list(FARE_FILES))
        for feed in current
        if feed.feed_id in adapters
    }
    return load_catalogue(registry, feeds=tables)


def _reload_context(registry: Registry) -> Callable[[web.Application], AsyncIterator[None]]:
    timezones = {network.id: network.timezone for network in registry.list_networks()}

    async def reload(app: web.Application) -> None:
        current = await list_current_feeds(app[POOL], timezones=timezones)
        # only ingested versions are sold: a network whose feed was never accepted has no products
        catalogue, issues = await run_blocking(_catalogue_from, registry, current)
        app[TICKETING].catalogues.swap(catalogue)
        app[READINESS].set("catalogue", True, f"{len(catalogue.products)} products from {len(current)} feeds")
        log.info("catalogue published", extra={"products": len(catalogue.products), "issues": len(issues)})

    async def context(app: web.Application) -> AsyncIterator[None]:
        app[READINESS].expect("catalogue", "waiting for the first ingestion round")
        wanted = asyncio.Event()
        scheduler = app.get(SCHEDULER)

        async def on_new_version(_outcome: object) -> None:
            wanted.set()

        async def loop() -> None:
            if scheduler is not None:
                scheduler.subscribe(on_new_version)
                await scheduler.first_round.wait()
            while True:
                wanted.clear()
                try:
                    await reload(app)
                except Exception:  # keep serving the previous catalogue; retry on the next version
                    log.exception("rebuilding the serving data failed")
                await wanted.wait()
                await asyncio.sleep(RELOAD_DEBOUNCE_S)  # several networks often change together

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context


def serving_contexts(registry_path: Path | None) -> list[Callable[[web.Application], AsyncIterator[None]]]:
    """The contexts that serve journeys and tickets, for the registry at ``registry_path``."""
    if registry_path is None:
        empty, _ = build_catalogue({})
        return [make_ticketing_context(empty, {})]
    registry = load_registry(registry_path)
    empty, _ = build_catalogue({})
    return [
        make_ticketing_context(empty, network_authorities(registry)),
        _reload_context(registry),
    ]
