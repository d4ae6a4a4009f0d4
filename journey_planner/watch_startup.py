"""The watches' start-up: the `WatchService` it puts on the app (``app[WATCHES]``).

`watches_context` is the ``cleanup_ctx`` generator, run after the planner's (the assembly,
`oura.wiring._connect_watches`, hands in ticketing's coverage check first): it loads the live
watches from PostgreSQL into the index, follows the planner's snapshots, and stops its tasks at
shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from oura.keys import CLOCK, CONFIG, HTTP_CLIENT, POOL

from .places import WalkingRules
from .startup import PLANNER
from .watch_service import WatchService

__all__ = ["WATCHES", "watches_context"]

WATCHES = web.AppKey("journey_planner.watches", WatchService)


async def watches_context(app: web.Application) -> AsyncIterator[None]:
    service = app.get(WATCHES)
    if service is None:
        config = app.get(CONFIG)
        service = WatchService(app[PLANNER], app[POOL], app[CLOCK], http=app.get(HTTP_CLIENT),
                               walking=WalkingRules.of_settings(config.planner if config is not None else None))
        app[WATCHES] = service
    await service.start()
    try:
        yield
    finally:
        await service.stop()
