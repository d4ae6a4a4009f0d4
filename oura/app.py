"""The application factory: wires the foundation and every package into one aiohttp app.

`create_app(config)` builds the app without connecting to anything; connections are opened by
the `cleanup_ctx` generators when the app starts, and closed in reverse order when it stops
(aiohttp-demos' pattern). Tests build the app exactly the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import replace

import aiohttp
import asyncpg
from aiohttp import web

from feeds.startup import load_registry_into

from . import __version__
from .auth import PrincipalCache
from .clock import Clock, SystemClock
from .concurrency import cancel_and_wait, run_blocking
from .config import Config
from .db.embedded import EmbeddedPostgres
from .db.migrate import apply_migrations
from .db.pool import create_pool
from .http.health import Readiness, require_ready
from .http.metrics import Metrics
from .http.middleware import auth_guard, make_error_middleware
from .http.openapi import build_openapi
from .http.routing import RouteSpec, RouteTable
from .http.server import handler_args
from .http.system import OPENAPI
from .http.system import routes as system_routes
from .keys import CLOCK, CONFIG, HTTP_CLIENT, METRICS, POOL, READINESS
from .wiring import package_contexts

__all__ = ["create_app", "route_tables"]

log = logging.getLogger(__name__)
EMBEDDED_WATCH_EVERY_S = 1.0  # how often the watchdog checks that the embedded server is alive
EMBEDDED_RESTART_MAX_DELAY_S = 15.0  # the backoff between failed restarts doubles up to this


def route_tables() -> list[RouteTable]:
    """Every package's routes, in the order they appear in the API document."""
    from feeds.disruptions.http import routes as disruption_routes
    from journey_planner.carpool.http import routes as carpool_routes
    from journey_planner.carpool.standard_http import routes as carpool_standard_routes
    from feeds.http import routes as feeds_routes
    from feeds.realtime.http import routes as realtime_routes
    from journey_planner.http import routes as planner_routes
    from journey_planner.itinerary_http import routes as itinerary_routes
    from journey_planner.watch_http import routes as watch_routes
    from nfc_gateway.devices.http import routes as device_routes
    from nfc_gateway.remote.http import routes as nfc_routes
    from ticketing.http import routes as ticketing_routes
    from ticketing.statistics.http import routes as statistics_routes
    from traveller_site.http import routes as site_routes

    return [system_routes, planner_routes, itinerary_routes, watch_routes, feeds_routes, realtime_routes,
            disruption_routes, ticketing_routes, statistics_routes, nfc_routes, device_routes, carpool_routes,
            carpool_standard_routes, site_routes]


def _mount(app: web.Application, tables: Iterable[RouteTable]) -> list[RouteSpec]:
    specs: list[RouteSpec] = []
    keys = PrincipalCache()  # one per app: a revocation is seen by every route within its ttl
    for table in tables:
        for spec in table:
            handler = spec.handler
            if spec.requires is not None:  # checked after the key: a bad key is refused even while loading
                handler = require_ready(handler, spec.requires, lambda request: request.app[READINESS])
            if not spec.public:
                handler = auth_guard(replace(spec, handler=handler), lambda request: request.app[POOL], keys)
            app.router.add_route(spec.method, spec.path, handler, name=spec.operation_id)
            specs.append(spec)
    return specs


async def _watch_embedded(embedded: EmbeddedPostgres, pool: asyncpg.Pool) -> None:
    """Bring the embedded server back when it dies (killed, out of memory) while the app runs.

    Requests meanwhile answer 503 ``database_unavailable`` (the error middleware). A restart that
    fails (the backends of the killed server have not exited yet, say) is retried with a doubling
    delay capped at ``EMBEDDED_RESTART_MAX_DELAY_S``, for as long as the app runs. Once the server
    is back, the pool's connections to the dead one are expired, so the next requests get fresh
    ones instead of failing once each."""
    while True:
        await asyncio.sleep(EMBEDDED_WATCH_EVERY_S)
        if await run_blocking(embedded.running_pid) is not None:
            continue
        log.error("the embedded postgresql is not running; restarting it", extra={"pgdata": str(embedded.pgdata)})
        delay_s = EMBEDDED_WATCH_EVERY_S
        while True:
            try:
                await run_blocking(embedded.restart)
                break
            except Exception:  # noqa: BLE001 - logged; the next attempt may succeed
                log.exception("restarting the embedded postgresql failed; retrying in %.0f s", delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(2 * delay_s, EMBEDDED_RESTART_MAX_DELAY_S)
        await pool.expire_connections()


async def _database(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG].database
    embedded: EmbeddedPostgres | None = None
    dsn = config.url
    if dsn is None:
        embedded = EmbeddedPostgres(config.embedded_pgdata)
        dsn = await run_blocking(embedded.start)
    try:
        pool = await create_pool(
            dsn,
            min_size=config.pool_min_size,
            max_size=config.pool_max_size,
            command_timeout_s=config.command_timeout_s,
        )
        try:
            if config.migrate_on_start:
                async with pool.acquire() as conn:
                    applied = await apply_migrations(conn)
                if applied:
                    log.info("migrations applied", extra={"migrations": applied})
            app[POOL] = pool
            watchdog = asyncio.create_task(_watch_embedded(embedded, pool)) if embedded is not None else None
            try:
                yield
            finally:
                await cancel_and_wait(watchdog)
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            await run_blocking(embedded.stop)


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        app[HTTP_CLIENT] = session
        yield


def create_app(
    config: Config,
    *,
    clock: Clock | None = None,
    extra_routes: Iterable[RouteTable] = (),
    extra_contexts: Iterable[Callable[[web.Application], AsyncIterator[None]]] = (),
) -> web.Application:
    """Build the OùRA application for ``config`` (nothing connects until it starts).

    ``extra_routes`` and ``extra_contexts`` mount more route tables and startup/shutdown
    generators after the standard ones: for tests, and for packages not wired in yet.
    """
    metrics = Metrics()
    app = web.Application(
        middlewares=[make_error_middleware(metrics, config.http.max_body_bytes)],
        client_max_size=config.http.max_body_bytes,
        handler_args=handler_args(config.http),  # connection limits and timeouts (oura.http.server)
    )
    app[CONFIG] = config
    app[CLOCK] = clock or SystemClock()
    app[METRICS] = metrics
    app[READINESS] = Readiness()
    registry = load_registry_into(app, config)  # the one load of the registry in this process
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_http_client)
    # a table or context passed again in extra_* (tests written before it was wired) counts once
    app.cleanup_ctx.extend(dict.fromkeys([*package_contexts(config, registry), *extra_contexts]))
    specs = _mount(app, list(dict.fromkeys([*route_tables(), *extra_routes])))
    app[OPENAPI] = build_openapi(specs, title="OùRA", version=__version__)
    return app
