"""HTTP: active service alerts, live vehicles and the realtime sources' status (public, read-only).

Stop and route parameters are namespaced ids (``tcl:1234``), as everywhere in the API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from feeds.realtime.repository import StoredAlert
from feeds.realtime.startup import ALERT_REPOSITORY, REALTIME_STATUS, VEHICLES
from feeds.realtime.status import FeedStatus
from feeds.schemas import REALTIME_COMPONENTS
from oura.http import RouteTable, json_response, query, query_datetime, query_int, query_str, reply, schema_ref
from oura.keys import CLOCK, CONFIG

__all__ = ["routes"]

routes = RouteTable(tag="realtime", components=REALTIME_COMPONENTS)


def _posix_iso(value: int | None) -> str | None:
    return None if value is None else dt.datetime.fromtimestamp(value, dt.UTC).isoformat()


def _alert_json(stored: StoredAlert) -> dict[str, Any]:
    alert = stored.alert
    return {
        "id": f"{stored.feed_id}:{alert.entity_id}",
        "feed_id": stored.feed_id,
        "cause": alert.cause,
        "effect": alert.effect,
        "severity_level": alert.severity_level,
        "header_text": alert.header_text,
        "description_text": alert.description_text,
        "url": alert.url,
        "active_periods": [{"start": _posix_iso(p.start), "end": _posix_iso(p.end)} for p in alert.active_periods],
        "informed_entities": [
            {
                key: value
                for key, value in (
                    ("agency_id", s.agency_id),
                    ("route_id", s.route_id),
                    ("route_type", s.route_type),
                    ("direction_id", s.direction_id),
                    ("stop_id", s.stop_id),
                    ("trip_id", s.trip.trip_id if s.trip is not None else None),
                )
                if value is not None
            }
            for s in alert.informed_entities
        ],
        "received_at": stored.received_at,
    }


@routes.get(
    "/v1/alerts",
    summary="Service alerts active now (or at a given time), by stop and/or route",
    params=[
        query("stop", maxLength=200, description="namespaced stop id, e.g. tcl:1234: alerts naming this stop"),
        query("route", maxLength=200, description="namespaced route id, e.g. tcl:C3: alerts naming this route"),
        query("active_at", format="date-time", description="ISO 8601 time (default: now)"),
        query("limit", "integer", minimum=1, maximum=1000, description="at most this many alerts (500)"),
    ],
    responses={200: reply("Active alerts, ordered by feed and id", schema_ref("Alerts")), 400: "Malformed parameter"},
)
async def list_alerts(request: web.Request) -> web.Response:
    """Alerts from every realtime feed whose active periods contain the time asked (an alert without
    periods is always active). ``stop`` and ``route`` match the alert's informed entities directly."""
    params = request.query
    region_tz = _region_timezone(request)
    active_at = query_datetime(params, "active_at", assume_tz=region_tz) or request.app[CLOCK].now()
    alerts = await request.app[ALERT_REPOSITORY].list_active_alerts(
        active_at,
        stop_id=query_str(params, "stop", max_length=200),
        route_id=query_str(params, "route", max_length=200),
        limit=query_int(params, "limit", default=500, minimum=1, maximum=1000) or 500,
    )
    return json_response({"active_at": active_at, "alerts": [_alert_json(a) for a in alerts]})


@routes.get(
    "/v1/vehicles",
    summary="Latest vehicle positions, optionally on one route",
    params=[query("route", maxLength=200, description="namespaced route id, e.g. tcl:C3")],
    responses={200: reply("Vehicles, matched to a trip when possible, else to a route", schema_ref("Vehicles"))},
)
async def list_vehicles(request: web.Request) -> web.Response:
    """Positions as last published by each feed (expired when the feed goes stale)."""
    route = query_str(request.query, "route", max_length=200)
    vehicles = request.app[VEHICLES].list_vehicles(route_id=route)
    return json_response(
        {
            "vehicles": [
                {
                    "feed_id": v.feed_id,
                    "vehicle_id": v.vehicle_id,
                    "lat": v.latitude,
                    "lon": v.longitude,
                    "bearing": v.bearing,
                    "speed_mps": v.speed_mps,
                    "matched_by": v.matched_by,
                    "trip_id": v.trip_id,
                    "route_id": v.route_id,
                    "direction_id": v.direction_id,
                    "service_date": v.service_date,
                    "stop_id": v.stop_id,
                    "current_status": v.current_status,
                    "occupancy_status": v.occupancy_status,
                    "timestamp": _posix_iso(v.timestamp),
                }
                for v in vehicles
            ]
        }
    )


def _region_timezone(request: web.Request) -> str:
    config = request.app.get(CONFIG)
    return getattr(getattr(config, "region", None), "timezone", None) or "Europe/Paris"


@routes.get(
    "/v1/realtime/status",
    summary="What each realtime source (feed and kind) is doing: freshness, counts, rejections",
    params=[query("feed", maxLength=200, description="only this feed (its id, e.g. tcl)")],
    responses={200: reply("One entry per polled source, ordered by feed and kind", schema_ref("RealtimeStatus"))},
)
async def realtime_status(request: web.Request) -> web.Response:
    """Per (feed, kind): url, last fetch and last applied times, header timestamp of the served
    state, its entity counts (entities, applied, rejected), error counts by type since start,
    the stale flag, and the most recent rejected entities with their reasons (newest first)."""
    feed = query_str(request.query, "feed", max_length=200)
    statuses = [s for s in request.app[REALTIME_STATUS].list_feed_statuses() if feed is None or s.feed_id == feed]
    return json_response({"now": request.app[CLOCK].now(), "sources": [_status_json(s) for s in statuses]})


def _status_json(status: FeedStatus) -> dict[str, Any]:
    return {
        "feed_id": status.feed_id,
        "kind": status.kind.value,
        "url": status.url,
        "poll_s": status.poll_s,
        "last_fetch_at": status.last_fetch_at,
        "last_applied_at": status.last_applied_at or status.last_success_at,
        "header_timestamp": _posix_iso(status.header_timestamp),
        "stale": status.stale,
        "entities": {"total": status.entity_count, "applied": status.applied_count,
                     "rejected": status.rejected_count},
        "fetches": {"total": status.fetch_count, "not_modified": status.not_modified_count},
        "error_counts": {t.value: n for t, n in status.error_counts.items()},
        "last_error": status.last_error or None,
        "recent_rejected": [
            {
                "at": r.at,
                "type": r.error.type.value,
                "entity_id": r.error.entity_id,
                "trip_id": r.error.trip_id,
                "stop_id": r.error.stop_id,
                "detail": r.error.detail,
            }
            for r in status.recent_rejected
        ],
    }
