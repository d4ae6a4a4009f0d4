"""The planner's start-up: the service it puts on the app.

`planner_context` is the ``cleanup_ctx`` generator. It uses ``app[PLANNER]`` when the assembly
(or a test) already set a service; otherwise it builds one and, when ``app[PLANNER_SOURCES]``
lists static feeds (`FeedSource`s), compiles them in the executor (the on-disk cache under
``config.planner.cache_dir``) and publishes the timetable. It marks readiness "timetable" once a
timetable is published. The service is also the realtime sink the feeds poller writes to
(``feeds.realtime.startup.REALTIME_SINK``), which the assembly connects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from oura.concurrency import run_blocking
from oura.keys import CLOCK, CONFIG, READINESS

from .compile import FeedSource, load_network
from .service import PlannerService

__all__ = ["PLANNER", "PLANNER_SOURCES", "planner_context"]

PLANNER = web.AppKey("journey_planner.service", PlannerService)
PLANNER_SOURCES = web.AppKey("journey_planner.sources", list)


async def planner_context(app: web.Application) -> AsyncIterator[None]:
    """Load the timetable (from the cache when the feed versions match) and expose the service."""
    readiness = app[READINESS]
    readiness.expect("timetable")
    service = app.get(PLANNER)
    if service is None:
        config = app[CONFIG]
        service = PlannerService(None, app[CLOCK], walk_radius_m=config.planner.walk_radius_m,
                                 max_window_s=config.planner.max_window_s)
        app[PLANNER] = service
        sources: list[FeedSource] = list(app.get(PLANNER_SOURCES, []))
        if sources:
            network = await run_blocking(load_network, sources, cache_dir=config.planner.cache_dir)
            await service.publish(network)
    if service.holder is not None:
        net = service.holder.get().static
        readiness.set("timetable", True, f"{len(net.feed_ids)} feeds, {net.timetable.trip_count} trips")
    yield
