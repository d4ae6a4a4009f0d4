"""The start-up of operator disruptions inside the app: the service, and its follow-up loop.

`disruptions_context` is a `cleanup_ctx` generator (the assembly runs it from
`oura.wiring._connect_disruptions`). It reads two optional hooks, both set by the assembly so this
package imports no other:

- ``app[DISRUPTION_SINK]``: where each converted set goes (the planner's
  ``set_operator_disruptions``); without it disruptions are stored and republished only;
- ``app[STATIC_INDEX_FINDER]`` (feeds.realtime.startup): the served static feeds, read at each use
  (the assembly fills it after the first ingestion round).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from feeds.disruptions.repository import DisruptionRepository
from feeds.disruptions.service import DisruptionService, DisruptionSink
from feeds.realtime.match import StaticTripIndex
from feeds.realtime.startup import STATIC_INDEX_FINDER
from feeds.startup import REGISTRY
from oura.concurrency import cancel_and_wait
from oura.keys import CLOCK, POOL

__all__ = ["DISRUPTIONS", "DISRUPTION_SINK", "disruptions_context"]

DISRUPTIONS = web.AppKey("feeds.disruptions.service", DisruptionService)
DISRUPTION_SINK = web.AppKey("feeds.disruptions.sink", DisruptionSink)
FOLLOW_INTERVAL_S = 1.0


async def disruptions_context(app: web.Application) -> AsyncIterator[None]:
    def find_index(feed_id: str) -> StaticTripIndex | None:
        finder = app.get(STATIC_INDEX_FINDER)
        return None if finder is None else finder(feed_id)

    service = DisruptionService(DisruptionRepository(app[POOL]), app.get(REGISTRY), find_index, app[CLOCK],
                                sink=app.get(DISRUPTION_SINK))
    app[DISRUPTIONS] = service
    task = asyncio.create_task(service.follow(FOLLOW_INTERVAL_S), name="disruptions-follow")
    try:
        yield
    finally:
        await cancel_and_wait(task)
