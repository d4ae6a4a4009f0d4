"""The start-up of realtime inside the app: state keys, sinks, the poller's lifetime.

`realtime_context` is the `cleanup_ctx` generator `oura/wiring.py` lists. It always sets
up what the HTTP routes and /metrics need (status, vehicle store, alert repository); it starts the
poller only when the config enables realtime and the app has a registry (app[REGISTRY]). Two hooks let the assembly plug
in other packages without this package importing them:

- ``app[REALTIME_SINK]`` (optional, set before this context runs): the planner's single writer,
  which then receives every trip update set next to the alert store and the vehicle store;
- ``app[STATIC_INDEX_FINDER]`` (optional): ``feed_id -> StaticTripIndex | None``, when another
  component already holds the static feeds (the assembly's `TripIndexes` of the ingested
  versions); otherwise a `TripIndexes` is filled here from the registry's local static paths (in
  the executor, in the background). `feeds.realtime.indexes` is the one builder either way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Sequence

from aiohttp import web

from feeds.realtime.indexes import TripIndexes, local_static_sources
from feeds.realtime.match import StaticTripIndex
from feeds.realtime.model import Alert, ResolvedTripUpdate, ResolvedVehiclePosition
from feeds.realtime.poller import FanOutSink, RealtimePoller, RealtimeSink, list_realtime_sources
from feeds.realtime.repository import AlertRepository
from feeds.realtime.status import PrometheusCollector, RealtimeStatus
from feeds.startup import REGISTRY
from oura.clock import Clock
from oura.concurrency import run_blocking
from oura.keys import CLOCK, CONFIG, HTTP_CLIENT, METRICS, POOL, READINESS

__all__ = [
    "ALERT_REPOSITORY",
    "REALTIME_SINK",
    "REALTIME_STATUS",
    "STATIC_INDEX_FINDER",
    "VEHICLES",
    "AlertStoreSink",
    "VehicleStore",
    "realtime_context",
]

log = logging.getLogger(__name__)

STATUS_SAVE_INTERVAL_S = 15


class VehicleStore:
    """Latest vehicle positions per feed, in memory (a sink: replaced wholesale per feed)."""

    def __init__(self) -> None:
        self._by_feed: dict[str, tuple[ResolvedVehiclePosition, ...]] = {}

    async def on_trip_updates(self, feed_id: str, resolved: Sequence[ResolvedTripUpdate], received_at: dt.datetime) -> None:
        return None

    async def on_alerts(self, feed_id: str, alerts: Sequence[Alert], received_at: dt.datetime) -> None:
        return None

    async def on_vehicle_positions(
        self, feed_id: str, vehicles: Sequence[ResolvedVehiclePosition], received_at: dt.datetime
    ) -> None:
        self._by_feed[feed_id] = tuple(vehicles)

    def list_vehicles(self, *, route_id: str | None = None) -> list[ResolvedVehiclePosition]:
        return [
            v
            for feed_id in sorted(self._by_feed)
            for v in self._by_feed[feed_id]
            if route_id is None or v.route_id == route_id
        ]


class AlertStoreSink:
    """Writes every alert set to PostgreSQL (replaced atomically per feed)."""

    def __init__(self, repository: AlertRepository) -> None:
        self.repository = repository

    async def on_trip_updates(self, feed_id: str, resolved: Sequence[ResolvedTripUpdate], received_at: dt.datetime) -> None:
        return None

    async def on_alerts(self, feed_id: str, alerts: Sequence[Alert], received_at: dt.datetime) -> None:
        await self.repository.replace_alerts(feed_id, alerts, received_at)

    async def on_vehicle_positions(
        self, feed_id: str, vehicles: Sequence[ResolvedVehiclePosition], received_at: dt.datetime
    ) -> None:
        return None


REALTIME_STATUS = web.AppKey("feeds.realtime.status", RealtimeStatus)
VEHICLES = web.AppKey("feeds.realtime.vehicles", VehicleStore)
ALERT_REPOSITORY = web.AppKey("feeds.realtime.alerts", AlertRepository)
REALTIME_SINK = web.AppKey("feeds.realtime.sink", RealtimeSink)
STATIC_INDEX_FINDER = web.AppKey("feeds.realtime.static_index_finder", Callable[[str], StaticTripIndex | None])


async def _save_statuses(repository: AlertRepository, status: RealtimeStatus, clock: Clock) -> None:
    while True:
        await asyncio.sleep(STATUS_SAVE_INTERVAL_S)
        try:
            await repository.save_feed_statuses(status.list_feed_statuses(), clock.now())
        except Exception:  # the report is best effort; polling goes on
            log.exception("realtime: cannot save feed statuses")


async def realtime_context(app: web.Application) -> AsyncIterator[None]:
    status = RealtimeStatus()
    vehicles = VehicleStore()
    repository = AlertRepository(app[POOL])
    app[REALTIME_STATUS] = status
    app[VEHICLES] = vehicles
    app[ALERT_REPOSITORY] = repository
    collector = PrometheusCollector(status)
    app[METRICS].registry.register(collector)
    config = app[CONFIG]
    tasks: list[asyncio.Task] = []
    registry = app.get(REGISTRY)  # loaded once by the assembly (feeds.startup)
    if config.feeds.realtime and registry is not None:
        networks = registry.list_networks()
        sources = list_realtime_sources(networks)
        finder = app.get(STATIC_INDEX_FINDER)
        if finder is None:  # nothing ingested: index the registry's local static feeds
            local = TripIndexes()
            finder = local.find
            with_realtime = local_static_sources(n for n in networks if n.realtime is not None)
            tasks.append(asyncio.create_task(run_blocking(local.refresh, with_realtime)))
        sinks: list[RealtimeSink] = [AlertStoreSink(repository), vehicles]
        if REALTIME_SINK in app:
            sinks.append(app[REALTIME_SINK])
        poller = RealtimePoller(
            app[HTTP_CLIENT], sources, sink=FanOutSink(sinks), find_index=finder, clock=app[CLOCK], status=status
        )
        tasks.append(asyncio.create_task(poller.run(), name="realtime-poller"))
        tasks.append(asyncio.create_task(_save_statuses(repository, status, app[CLOCK])))
        app[READINESS].set("realtime", True, f"{len(sources)} sources")
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: PERF203 - shutting down
                pass
        app[METRICS].registry.unregister(collector)
