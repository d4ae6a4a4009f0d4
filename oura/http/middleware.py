"""The one error middleware, plus request ids, access logging and metrics.

Every error reaches the client as RFC 9457 problem+json with a stable ``code``: `OuraError`
subclasses carry their own status and code; aiohttp's HTTP exceptions (unknown path, wrong
method, body too large) are mapped to the same shape; a database that cannot be reached
(`oura.db.pool.DATABASE_UNAVAILABLE`) is a 503 ``database_unavailable`` with Retry-After, since a
retry succeeds once the pool reconnects; anything else is logged once, with the request id, and
answered with a bare 500 that shows no stack trace.
"""

from __future__ import annotations

import logging
import time
import uuid

import asyncpg
from aiohttp import web

from ..auth import PrincipalCache
from ..db.pool import DATABASE_UNAVAILABLE, DatabaseUnavailable
from ..errors import (
    HTTP_STATUS_CODES,
    HttpError,
    InvalidApiKey,
    InvalidCharacter,
    MalformedValue,
    OuraError,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    WrongRole,
)
from .responses import dumps
from .routing import PRINCIPAL_KEY, RouteSpec

__all__ = ["problem_response", "error_middleware", "auth_guard", "REQUEST_ID_KEY"]

log = logging.getLogger("oura.http")
REQUEST_ID_KEY = web.RequestKey("oura.request_id", str)
PROBLEM_TYPE = "application/problem+json"

def problem_response(problem: dict, request_id: str | None, headers: dict[str, str] | None = None) -> web.Response:
    if request_id:
        problem = {**problem, "instance": f"urn:oura:request:{request_id}"}
    response = web.Response(
        text=dumps(problem), status=problem["status"], content_type=PROBLEM_TYPE, headers=headers
    )
    if request_id:
        response.headers["X-Request-Id"] = request_id
    return response


def _route_label(request: web.Request) -> str:
    info = request.match_info
    if info.http_exception is not None or info.route.resource is None:
        return "unmatched"
    return info.route.resource.canonical


def make_error_middleware(metrics, max_body_bytes: int):  # noqa: ANN001, ANN201
    @web.middleware
    async def error_middleware(request: web.Request, handler):  # noqa: ANN001, ANN202
        request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        request[REQUEST_ID_KEY] = request_id
        started = time.perf_counter()
        status = 500
        try:
            if request.content_length is not None and request.content_length > max_body_bytes:
                raise PayloadTooLarge(f"request body larger than {max_body_bytes} bytes")
            if "\x00" in request.path or any("\x00" in v for v in request.query.values()):
                # no identifier or text here may hold NUL (PostgreSQL text cannot): refuse it whole
                raise InvalidCharacter("the request path or query contains a NUL character")
            try:
                response = await handler(request)
            except asyncpg.DataError as error:
                # Safety net: a value the database cannot take (an id beyond bigint, say) is the
                # client's input, not our failure. Handlers should validate first; log to find them.
                log.warning("database refused a request value: %s", error, extra={"request_id": request_id})
                raise MalformedValue("a value in the request is out of range or malformed") from error
            status = response.status
            response.headers["X-Request-Id"] = request_id
            return response
        except OuraError as error:
            status = error.status
            if isinstance(error, ServiceUnavailable):  # expected while starting: the client retries
                log.info("not ready: %s", error, extra={"request_id": request_id})
            elif status >= 500:
                log.error("request failed: %s", error, extra={"request_id": request_id})
            response = problem_response(error.to_problem(), request_id, error.headers())
            if error.close_connection:  # e.g. a body that did not arrive in time: do not wait for the rest
                response.force_close()
            return response
        except web.HTTPException as error:
            status = error.status
            if status < 400:
                raise
            code = HTTP_STATUS_CODES.get(status, HttpError.code)
            detail = error.text if error.text and not error.text.startswith(f"{status}:") else error.reason
            headers = {}
            if status == 405 and "Allow" in error.headers:
                headers["Allow"] = error.headers["Allow"]
            problem = {
                "type": f"https://oura.example/problems/{code}",
                "title": error.reason,
                "status": status,
                "code": code,
                "detail": detail if status != 404 else f"no resource at {request.path}",
            }
            return problem_response(problem, request_id, headers)
        except DATABASE_UNAVAILABLE as error:  # an outage, not a bug: retry later (the pool reconnects)
            unavailable = DatabaseUnavailable()
            status = unavailable.status
            log.warning("database unavailable on %s %s: %s: %s", request.method, request.path,
                        type(error).__name__, error, extra={"request_id": request_id})
            return problem_response(unavailable.to_problem(), request_id, unavailable.headers())
        except Exception:  # the one place unexpected errors are caught, logged, and hidden
            status = 500
            log.exception(
                "unexpected error on %s %s", request.method, request.path, extra={"request_id": request_id}
            )
            return problem_response(OuraError().to_problem(), request_id)
        finally:
            if metrics is not None:
                metrics.observe(_route_label(request), request.method, status, time.perf_counter() - started)

    return error_middleware


def _bearer(request: web.Request) -> str | None:
    value = request.headers.get("Authorization", "")
    if value.lower().startswith("bearer "):
        return value[7:].strip()
    return request.headers.get("X-Api-Key")


def auth_guard(spec: RouteSpec, pool_getter, principal_cache: PrincipalCache | None = None):  # noqa: ANN001, ANN201
    """Wrap a protected handler: 401 without a valid key, 403 with a role the route refuses.

    Keys are checked through a `PrincipalCache` (a revoked key is refused within its ``ttl_s``):
    the one given, or one of this route's own, created with the app (never module-wide). The
    guarded handler exposes it as ``principal_cache``."""
    cache = principal_cache if principal_cache is not None else PrincipalCache()

    async def guarded(request: web.Request) -> web.StreamResponse:
        token = _bearer(request)
        if not token:
            raise Unauthorized()
        principal = await cache.authenticate(pool_getter(request), token)
        if principal is None:
            raise InvalidApiKey("the API key is unknown, malformed or revoked")
        assert spec.roles is not None
        if principal.role not in spec.roles:
            allowed = ", ".join(sorted(spec.roles))
            raise WrongRole(f"this endpoint is for {allowed} keys; yours is a {principal.role} key")
        request[PRINCIPAL_KEY] = principal
        return await spec.handler(request)

    guarded.__name__ = spec.handler.__name__
    guarded.principal_cache = cache  # type: ignore[attr-defined]
    return guarded
