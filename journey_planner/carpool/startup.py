"""The carpool start-up: the `CarpoolService` it puts on the app (``app[CARPOOL]``).

`carpool_context` (a ``cleanup_ctx`` generator, after the database and the HTTP client) builds one
`OperatorClient` per configured operator: those of ``app[CARPOOL_OPERATORS]`` when the assembly
put some there (the demo region's operator), else the registry file's ``[[carpool_operators]]``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from oura.keys import CLOCK, CONFIG, HTTP_CLIENT, POOL

from .client import OperatorClient, OperatorConfig
from .operators import load_operators
from .service import CarpoolService

__all__ = ["CARPOOL", "CARPOOL_OPERATORS", "carpool_context"]

CARPOOL = web.AppKey("journey_planner.carpool", CarpoolService)
CARPOOL_OPERATORS = web.AppKey("journey_planner.carpool.operators", tuple)


async def carpool_context(app: web.Application) -> AsyncIterator[None]:
    if CARPOOL not in app:
        config = app.get(CONFIG)
        operators: tuple[OperatorConfig, ...] = app.get(CARPOOL_OPERATORS) or tuple(
            load_operators(config.feeds.registry if config is not None else None))
        clock = app[CLOCK]
        clients = [OperatorClient(operator, app[HTTP_CLIENT], clock=clock) for operator in operators]
        app[CARPOOL] = CarpoolService(app[POOL], clock, clients)
    yield
