"""HTTP routes of operator disruptions and the region's GTFS-realtime export.

Disruptions need an ``authority`` key (scoped to the networks of its authority: another's -> 403
``other_authority``) or an ``admin`` key (any). The two GTFS-realtime feeds are public: protobuf
by default, ``?format=json`` for the same message as JSON; both answer 304 to a matching
If-None-Match.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from feeds.disruptions import schemas
from feeds.disruptions.export import encode_alerts, encode_trip_updates, etag_of, message_json
from feeds.disruptions.service import DisruptionService
from feeds.disruptions.startup import DISRUPTIONS
from feeds.errors import UnknownDisruption
from feeds.realtime.startup import ALERT_REPOSITORY
from oura.auth import Role
from oura.errors import InvalidParameter, ServiceUnavailable
from oura.http import RouteTable, get_principal, header, json_response, path_param, query, query_bool, read_json, reply, \
    schema_ref
from oura.http.schemas import ID_MAXIMUM
from oura.keys import CLOCK

__all__ = ["routes"]

routes = RouteTable(tag="disruptions", components=schemas.COMPONENTS)
_ROLES = [Role.AUTHORITY, Role.ADMIN]
_ID_PARAM = path_param("disruption_id", "integer", minimum=1, maximum=ID_MAXIMUM)
_ONE = reply("The disruption", schema_ref("Disruption"))
PROTOBUF = "application/x-protobuf"


def _service(request: web.Request) -> DisruptionService:
    service = request.app.get(DISRUPTIONS)
    if service is None:
        raise ServiceUnavailable("disruptions are not started")
    return service


def _disruption_id(request: web.Request) -> int:
    try:
        value = int(request.match_info["disruption_id"])
    except ValueError:
        raise UnknownDisruption() from None
    if not 1 <= value <= ID_MAXIMUM:
        raise UnknownDisruption()
    return value


def _now(request: web.Request) -> Any:
    return request.app[CLOCK].now()


@routes.post(
    "/v1/disruptions", summary="Declare a disruption (close a stop, cut a route, cancel trips, add a replacement bus)",
    roles=_ROLES, body=schemas.DISRUPTION_REQUEST,
    params=[header("Idempotency-Key", minLength=1, maxLength=200, pattern=r"^[!-~]+$", description="retries with the same key return the first one")],
    responses={201: reply("Declared, and applied to routing", schema_ref("Disruption")),
               200: reply("The same disruption (a retry with the same Idempotency-Key)", schema_ref("Disruption")),
               403: "A stop, route or trip of another authority's network", 409: "Idempotency-Key reused",
               422: "Invalid, or an id not in the served feed (the field is named)",
               503: "The network's static feed is not indexed yet"},
)
async def create_disruption(request: web.Request) -> web.Response:
    """Ids are namespaced (``tcl:S12``), all of one network of the key's authority. The answer
    comes once the planner's snapshot applies it."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidParameter("Idempotency-Key", "1 to 200 characters")
    body = await read_json(request)
    disruption, created = await _service(request).create(get_principal(request), body, key)
    return json_response(disruption.to_json(_now(request)), status=201 if created else 200)


@routes.get(
    "/v1/disruptions", summary="The disruptions of the key's authority (all for an admin), newest first",
    roles=_ROLES, params=[query("include_ended", "boolean", description="also the ended ones (default false)")],
    responses={200: reply("Disruptions", schemas.DISRUPTION_LIST)},
)
async def list_disruptions(request: web.Request) -> web.Response:
    include_ended = query_bool(request.query, "include_ended")
    found = await _service(request).list(get_principal(request), include_ended=include_ended)
    now = _now(request)
    return json_response({"disruptions": [d.to_json(now) for d in found]})


@routes.get("/v1/disruptions/{disruption_id}", summary="One disruption", roles=_ROLES, params=[_ID_PARAM],
            responses={200: _ONE, 403: "Another authority's disruption", 404: "Unknown disruption"})
async def get_disruption(request: web.Request) -> web.Response:
    disruption = await _service(request).get(get_principal(request), _disruption_id(request))
    return json_response(disruption.to_json(_now(request)))


@routes.route("PATCH", "/v1/disruptions/{disruption_id}", summary="Change a disruption's period or texts",
              roles=_ROLES, params=[_ID_PARAM], body=schemas.DISRUPTION_PATCH,
              responses={200: _ONE, 403: "Another authority's disruption", 404: "Unknown disruption",
                         409: "The disruption has ended", 422: "Invalid change (the field is named)",
                         503: "The network's static feed is not indexed yet"})
async def patch_disruption(request: web.Request) -> web.Response:
    body = await read_json(request)
    disruption = await _service(request).update(get_principal(request), _disruption_id(request), body)
    return json_response(disruption.to_json(_now(request)))


@routes.delete("/v1/disruptions/{disruption_id}", summary="End a disruption now (kept, marked ended)",
               roles=_ROLES, params=[_ID_PARAM],
               responses={200: reply("The ended disruption", schema_ref("Disruption")),
                          403: "Another authority's disruption", 404: "Unknown disruption"})
async def end_disruption(request: web.Request) -> web.Response:
    disruption = await _service(request).end(get_principal(request), _disruption_id(request))
    return json_response(disruption.to_json(_now(request)))


@routes.get("/v1/disruptions/{disruption_id}/audit", summary="Every change of a disruption: who, when, before, after",
            roles=_ROLES, params=[_ID_PARAM],
            responses={200: reply("Audit entries, oldest first", schemas.AUDIT_LIST),
                       403: "Another authority's disruption", 404: "Unknown disruption"})
async def list_disruption_audit(request: web.Request) -> web.Response:
    entries = await _service(request).list_audit(get_principal(request), _disruption_id(request))
    return json_response({"audit": [
        {"action": e.action, "key_id": e.key_id, "authority_id": e.authority_id, "at": e.at.isoformat(),
         "before": e.before, "after": e.after} for e in entries]})


# --- GTFS-realtime export ----------------------------------------------------------------------

_FORMAT = query("format", enum=["protobuf", "json"], description="protobuf (default) or json")


def _feed_response(content_type: str) -> dict[str, Any]:
    return {
        "description": "A FULL_DATASET FeedMessage (gtfs_realtime_version 2.0); ETag for If-None-Match",
        "headers": {"ETag": {"schema": {"type": "string"}}},
        "content": {PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": schemas.FEED_MESSAGE_JSON}},
    }


def _answer(request: web.Request, message: Any) -> web.StreamResponse:
    wanted = request.query.get("format", "protobuf") or "protobuf"
    if wanted not in ("protobuf", "json"):
        raise InvalidParameter("format", "protobuf or json")
    payload = message.SerializeToString()
    etag = etag_of(payload + wanted.encode())
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        return web.Response(status=304, headers={"ETag": etag})
    if wanted == "json":
        return json_response(message_json(message), headers={"ETag": etag})
    return web.Response(body=payload, headers={"ETag": etag, "Content-Type": PROTOBUF})


@routes.get("/v1/gtfs-rt/alerts", summary="The region's service alerts as GTFS-realtime (operator disruptions and "
            "every feed's active alerts, ids namespaced)", params=[_FORMAT], content_type=PROTOBUF,
            responses={200: _feed_response(PROTOBUF), 304: {"description": "Not modified (If-None-Match)", "content": {}}})
async def get_gtfs_rt_alerts(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    now = _now(request)
    alerts = list(service.current.alerts)
    stamp = int(service.changed_at.timestamp())
    repository = request.app.get(ALERT_REPOSITORY)
    if repository is not None:
        for stored in await repository.list_active_alerts(now):
            alerts.append(dataclasses.replace(stored.alert, entity_id=f"{stored.feed_id}:{stored.alert.entity_id}"))
            stamp = max(stamp, int(stored.received_at.timestamp()))
    return _answer(request, encode_alerts(alerts, stamp))


@routes.get("/v1/gtfs-rt/trip-updates", summary="Operator cancellations and replacement trips as GTFS-realtime "
            "trip updates (ids namespaced)", params=[_FORMAT], content_type=PROTOBUF,
            responses={200: _feed_response(PROTOBUF), 304: {"description": "Not modified (If-None-Match)", "content": {}}})
async def get_gtfs_rt_trip_updates(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    return _answer(request, encode_trip_updates(service.current.updates, int(service.changed_at.timestamp())))
