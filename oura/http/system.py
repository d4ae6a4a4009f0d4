"""Operational endpoints: liveness, readiness, metrics, the API description."""

from __future__ import annotations

from aiohttp import web

from ..auth import Role
from ..keys import METRICS, POOL, READINESS
from .metrics import CONTENT_TYPE_LATEST
from .openapi import render_docs_page
from .responses import json_response
from .routing import RouteTable, reply
from .schemas import BOOLEAN, STRING, object_of

__all__ = ["routes", "OPENAPI"]

routes = RouteTable(tag="operations")
OPENAPI = web.AppKey("oura.openapi", dict)

_READINESS = object_of({
    "status": {"enum": ["ready", "not_ready"]},
    "checks": {"type": "object", "description": "component (database, timetable, feeds, ...) -> its state",
               "additionalProperties": object_of({"ready": BOOLEAN, "detail": STRING})},
})
_TEXT = {"type": "string"}


@routes.get("/healthz", summary="Liveness: the process is up",
            responses={200: reply("Alive", object_of({"status": {"const": "ok"}}))})
async def get_healthz(request: web.Request) -> web.Response:
    """Answers 200 as long as the event loop runs; checks nothing else."""
    return json_response({"status": "ok"})


@routes.get(
    "/readyz",
    summary="Readiness: the database answers and every component has loaded",
    responses={200: reply("Ready", _READINESS),
               503: reply("Not ready (the body says which component)", _READINESS, content_type="application/json")},
)
async def get_readyz(request: web.Request) -> web.Response:
    readiness = request.app[READINESS]
    checks: dict[str, dict[str, object]] = {}
    try:
        async with request.app[POOL].acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1", timeout=2)
        checks["database"] = {"ready": True, "detail": ""}
    except Exception as error:  # noqa: BLE001 - any failure means "not ready", reported as such
        checks["database"] = {"ready": False, "detail": type(error).__name__}
    for name, (ok, detail) in readiness.components.items():
        checks[name] = {"ready": ok, "detail": detail}
    ready = all(c["ready"] for c in checks.values())
    return json_response({"status": "ready" if ready else "not_ready", "checks": checks}, status=200 if ready else 503)


@routes.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format); a `metrics` or `admin` key",
    roles=[Role.METRICS, Role.ADMIN],
    responses={200: reply("Metrics", _TEXT)},
    content_type="text/plain",
)
async def get_metrics(request: web.Request) -> web.Response:
    """Needs a key: the per-route request counts are business figures (201s on /v1/orders are the
    region's sales, /v1/validations its ridership) and the realtime series show each network's
    feed health, which is not for anyone on the internet. The scraper gets its own read-only
    `metrics` key (``oura keys create --role metrics``), so it never holds an admin key."""
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@routes.get("/openapi.json", summary="This API's OpenAPI 3.1 document",
            responses={200: reply("OpenAPI document", {
                "type": "object", "required": ["openapi", "info", "paths", "components"],
                "properties": {"openapi": {"type": "string", "pattern": "^3\\.1\\."}}})})
async def get_openapi(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI])


@routes.get(
    "/docs",
    summary="Human-readable API reference",
    responses={200: reply("HTML page", _TEXT)},
    content_type="text/html",
)
async def get_docs(request: web.Request) -> web.Response:
    return web.Response(text=render_docs_page(request.app[OPENAPI]), content_type="text/html")
