"""Assembly: keep the serving components in step with the ingested feeds.

The feeds package records which version of each network's feed is current; this module turns
that into what the other packages serve, without them knowing each other:

- after the first ingestion round, and again (debounced) whenever a new version is accepted, it
  compiles the planner's timetable and rebuilds the ticketing catalogue from the current versions,
  and publishes both atomically (requests keep the previous ones until then);
- the planner is the sink of the realtime pollers (its single writer applies trip updates);
- the planner receives each set of interchange hubs feeds compute (journey places, stop search);
- itineraries are priced by the planner's pricing adapter (`journey_planner.pricing`) over
  ticketing's current catalogue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from feeds import CurrentFeed, list_current_feeds
from feeds.adapters import get_adapter, read_network_feed
from feeds.authorities import Registry
from feeds.disruptions.startup import DISRUPTION_SINK, disruptions_context
from feeds.realtime.indexes import TripIndexes, current_feed_sources
from feeds.realtime.startup import REALTIME_SINK, STATIC_INDEX_FINDER, realtime_context
from feeds.scheduler import follow_versions
from feeds.startup import HUBS, REGISTRY, SCHEDULER, HubSet, feeds_context
from journey_planner.compile import FeedSource, load_network
from journey_planner.hubs import HubPlace
from journey_planner.startup import PLANNER, planner_context
from journey_planner.pricing import JourneyPricing
from journey_planner.carpool.startup import CARPOOL, carpool_context
from journey_planner.watch_startup import WATCHES, watches_context
from nfc_gateway.remote.jobs import loads_context
from nfc_gateway.remote.services import remote_context
from traveller_site.startup import make_site_context
from ticketing.catalogue import FARE_FILES, build_catalogue, load_catalogue
from ticketing.startup import TICKETING, make_ticketing_context
from ticketing.payments import TestPaymentProvider
from ticketing.service import network_authorities
from ticketing.products import DEFAULT_TIMEZONE
from ticketing.statistics.jobs import statistics_context
from ticketing.statistics.model import StatisticsSettings

from .concurrency import cancel_and_wait, run_blocking
from .config import Config
from .keys import CONFIG, POOL, READINESS

__all__ = ["package_contexts", "statistics_settings"]

log = logging.getLogger(__name__)
REALTIME_COALESCE_S = 1.0  # trip updates of all networks arriving within 1 s: one new snapshot
Context = Callable[[web.Application], AsyncIterator[None]]


# realtime matching against the feed versions actually served (not the registry's sources)
INDEXES = web.AppKey("oura.wiring.trip_indexes", TripIndexes)


def _catalogue_from(registry: Registry, current: list[CurrentFeed], adapters: dict[str, str]) -> Any:
    tables = {
        feed.feed_id: read_network_feed(feed.content_path, adapters.get(feed.feed_id), only=list(FARE_FILES))
        for feed in current
    }
    return load_catalogue(registry, feeds=tables)


async def _publish(app: web.Application, registry: Registry) -> None:
    """Compile and publish the timetable and the catalogue of the current feed versions."""
    networks = registry.list_networks()
    timezones = {network.id: network.timezone for network in networks}
    adapters = {network.id: network.adapter for network in networks if network.adapter}
    current = [f for f in await list_current_feeds(app[POOL], timezones=timezones) if f.feed_id in timezones]
    readiness = app[READINESS]

    catalogue, issues = await run_blocking(_catalogue_from, registry, current, adapters)
    app[TICKETING].catalogues.swap(catalogue)
    readiness.set("catalogue", True, f"{len(catalogue.products)} products from {len(current)} feeds")
    log.info("catalogue published", extra={"products": len(catalogue.products), "issues": len(issues)})

    if not current:
        return
    sources = []
    for feed in current:
        adapter = adapters.get(feed.feed_id, "")
        sources.append(FeedSource(feed.feed_id, feed.content_path,
                                  adapt=get_adapter(adapter) if adapter else None, adapter_name=adapter,
                                  timezone=feed.timezone or ""))
    network = await run_blocking(load_network, sources, cache_dir=app[CONFIG].planner.cache_dir)
    await app[PLANNER].publish(network)  # the latest trip updates are re-applied to it
    log.info("timetable published", extra={"feeds": len(network.feed_ids), "trips": network.timetable.trip_count})
    try:
        if INDEXES in app:  # realtime matching follows the versions just published
            built = await run_blocking(app[INDEXES].refresh, current_feed_sources(current, adapters))
            log.info("realtime trip indexes refreshed", extra={"built": built})
    finally:  # ready once this work is done: the first travellers' requests do not share the cores with it
        readiness.set("timetable", True, f"{len(network.feed_ids)} feeds, {network.timetable.trip_count} trips")


async def _connect_planner(app: web.Application) -> AsyncIterator[None]:
    """The planner receives trip updates (unless a sink was already provided, as tests do), and
    when feeds are ingested, updates are matched against the ingested versions."""
    if REALTIME_SINK not in app:
        app[REALTIME_SINK] = app[PLANNER]
        if app[CONFIG].feeds.realtime and REGISTRY in app:  # pollers will run
            app[PLANNER].coalesce_s = REALTIME_COALESCE_S
    if app[CONFIG].feeds.ingest_on_start and STATIC_INDEX_FINDER not in app:
        app[INDEXES] = TripIndexes()
        app[STATIC_INDEX_FINDER] = app[INDEXES].find
    yield


async def _connect_hubs(app: web.Application) -> AsyncIterator[None]:
    """Each hub set feeds compute (`feeds.startup.HubHolder`) goes to the planner: hub ids become
    journey places, and stop search lists the hubs. The planner indexes them against its networks
    (`PlannerService.set_hubs`, 0.1 s for the demo region's 8,900 hubs) in the executor, one set
    at a time, the latest one when several came meanwhile."""
    if HUBS not in app:
        yield
        return
    latest: list[HubSet] = []
    wanted = asyncio.Event()

    def on_hubs(hub_set: HubSet) -> None:
        latest[:] = [hub_set]
        wanted.set()

    async def hand_over() -> None:
        while True:
            await wanted.wait()
            wanted.clear()
            places = [HubPlace(h.hub_id, h.name, h.station_ids) for h in latest[0].hubs]
            try:
                await run_blocking(app[PLANNER].set_hubs, places)
            except Exception:  # the planner keeps the previous hubs; the next set retries
                log.exception("handing the hubs to the planner failed")

    task = asyncio.create_task(hand_over())
    app[HUBS].subscribe(on_hubs)
    try:
        yield
    finally:
        await cancel_and_wait(task)


async def _connect_pricing(app: web.Application) -> AsyncIterator[None]:
    app[PLANNER].set_pricing(JourneyPricing(app[TICKETING].catalogues))
    yield


async def _connect_carpool(app: web.Application) -> AsyncIterator[None]:
    """Carpool offers (`journey_planner.carpool`) into journeys asking for modes=carpool."""
    app[PLANNER].set_carpool(app[CARPOOL])
    yield
    app[PLANNER].set_carpool(None)


async def _connect_watches(app: web.Application) -> AsyncIterator[None]:
    """Watched journeys (`journey_planner.watch_startup`): alternatives say whether the tickets on
    the traveller's medium cover them through ticketing's public ``check_coverage`` (handed in as
    a plain callable, once ticketing has it), so the planner never imports ticketing's service."""
    context = watches_context(app)
    await anext(context)
    app[WATCHES].set_coverage(getattr(app[TICKETING], "check_coverage", None))
    try:
        yield
    finally:
        await anext(context, None)


async def _reload_on_new_versions(app: web.Application) -> AsyncIterator[None]:
    registry = app.get(REGISTRY)
    if registry is None:  # nothing to load: an empty planner is all there is to be ready for
        if app[PLANNER].holder is None:
            app[READINESS].set("timetable", True, "no feed registry configured")
        yield
        return
    app[READINESS].expect("catalogue", "waiting for the first ingestion round")
    task = asyncio.create_task(follow_versions(app.get(SCHEDULER), lambda: _publish(app, registry),
                                               what="the serving data (planner, catalogue, trip indexes)"))
    try:
        yield
    finally:
        await cancel_and_wait(task)


async def _connect_disruptions(app: web.Application) -> AsyncIterator[None]:
    """Operator disruptions go to the planner as alerts and trip updates (its
    ``set_operator_disruptions``, once the planner has it), and are checked against the realtime
    trip indexes of the served versions; feeds and the planner never import each other."""
    setter = getattr(app[PLANNER], "set_operator_disruptions", None)
    if setter is not None and DISRUPTION_SINK not in app:
        app[DISRUPTION_SINK] = setter
    context = disruptions_context(app)
    await anext(context)
    try:
        yield
    finally:
        await anext(context, None)


def statistics_settings(config: Config) -> StatisticsSettings:
    """The `[statistics]` configuration as the statistics package takes it (hours -> seconds)."""
    c = config.statistics
    return StatisticsSettings(
        retention_s=c.retention_h * 3600.0, k=c.k, method=c.method, epsilon_per_day=c.epsilon_per_day, delta=c.delta,
        max_validations_per_medium_day=c.max_validations_per_medium_day, max_items_per_order=c.max_items_per_order,
        max_amount_per_order_minor=c.max_amount_per_order_minor, release_grace_s=c.release_grace_s, every_s=c.every_s,
    )


def web_shop_authority(config: Config, registry: Registry | None) -> str | None:
    """The authority the site's web shop sells for: the configured one, else the registry's region."""
    if config.site.web_shop_authority:
        return config.site.web_shop_authority
    if registry is None:
        return None
    region = next((a for a in registry.authorities if a.kind == "region"), None)
    return (region or (registry.authorities[0] if registry.authorities else None)).id if registry.authorities else None


def package_contexts(config: Config, registry: Registry | None) -> list[Context]:
    """Every package's startup/shutdown generator, in dependency order (after the database);
    ``registry`` is the one loaded into ``app[REGISTRY]`` (None: no feeds are served)."""
    authorities = network_authorities(registry) if registry is not None else {}
    empty, _ = build_catalogue({})
    statistics = statistics_settings(config)
    return [
        feeds_context,  # feed store, scheduler, hubs (the registry is already on the app)
        planner_context,  # the planner service (timetable published later by _reload_on_new_versions)
        _connect_planner,
        _connect_hubs,  # feeds' hubs -> the planner's places
        realtime_context,  # pollers, writing into the planner
        # the default provider journals its charges in the data folder: a restart never charges twice
        make_ticketing_context(empty, authorities, TestPaymentProvider(journal=config.data_dir / "payments" / "test-provider.jsonl"),
                               retention_s=statistics.retention_s),  # late uploads past the retention: stored without serial
        # released statistics of closed periods, then the purge of identifying data past its retention
        statistics_context(statistics, authorities, (registry.timezone if registry is not None else "") or DEFAULT_TIMEZONE),
        make_site_context(config.site, web_shop_authority(config, registry)),  # the site's web shop (a sales point)
        loads_context(config.nfc),  # NFC load jobs: created for new card/wallet sales, refunded past their deadline
        remote_context(),  # the Keyple JSON API's remote card services and the server's secure module (nfc_gateway)
        _connect_pricing,
        _connect_watches,  # watched journeys: re-checked after each snapshot, alternatives priced by coverage
        carpool_context,  # carpool operators' clients, bookings, the journeys published through OùRA
        _connect_carpool,
        _reload_on_new_versions,
        _connect_disruptions,  # operator disruptions -> the planner, after the serving data follows versions
    ]
