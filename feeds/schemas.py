"""JSON Schemas of what the feeds routes answer (components of the OpenAPI document).

They describe what `feeds.http` (``_version_json``, ``_status_json``, ``_hub_json``) and
`feeds.realtime.http` render: change a renderer and its schema together (the test suite checks
every response it receives against these).
"""

from __future__ import annotations

from typing import Any

from oura.http import schema_ref
from oura.http.schemas import BOOLEAN, DATE, DATE_TIME, INTEGER, NUMBER, STRING, array_of, nullable, object_of

__all__ = ["COMPONENTS", "REALTIME_COMPONENTS"]

_HEALTH = {"type": "string", "description": "the feed's health in one word (ok, stale, failing, ...)"}
_COUNTS = {"type": "object", "additionalProperties": INTEGER}
_TRANSLATED = {"type": "object", "additionalProperties": STRING, "description": "language ('' when none) -> text"}

_VERSION_PROPERTIES: dict[str, Any] = {
    "version_id": INTEGER,
    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    "status": {"type": "string", "description": "accepted, rejected or superseded"},
    "fetched_at": DATE_TIME,
    "validity_start": nullable(DATE),
    "validity_end": nullable(DATE),
    "size_bytes": INTEGER,
    "counts": {**_COUNTS, "description": "rows per GTFS file"},
    "issue_counts": {"type": "object", "additionalProperties": _COUNTS,
                     "description": "severity -> issue code -> occurrences"},
    "is_current": {"type": "boolean", "description": "the version being served"},
}

COMPONENTS: dict[str, Any] = {
    "Authorities": object_of({
        "region": nullable(STRING),
        "authorities": array_of(object_of({
            "authority_id": STRING,
            "name": STRING,
            "kind": STRING,
            "timezone": STRING,
            "networks": array_of(object_of({
                "network_id": STRING,
                "name": STRING,
                "timezone": STRING,
                "static_poll_s": INTEGER,
                "realtime": array_of({"enum": ["trip_updates", "alerts", "vehicle_positions"]}),
                "health": _HEALTH,
                "current_version_id": nullable(INTEGER),
            })),
        })),
    }),
    "FeedVersion": object_of(_VERSION_PROPERTIES),
    "NetworkFeeds": object_of({
        "network_id": STRING,
        "authority_id": STRING,
        "name": STRING,
        "timezone": STRING,
        "health": _HEALTH,
        "reason": {"type": "string", "description": "why, in plain words"},
        "age_s": nullable(INTEGER),
        "current": nullable(schema_ref("FeedVersion")),
        "last_attempt": nullable(object_of({
            "at": DATE_TIME,
            "outcome": {"type": "string", "description": "accepted, rejected, unchanged, not_modified or failed"},
            "error": nullable(STRING),
            "consecutive_failures": INTEGER,
        })),
        "versions": array_of(schema_ref("FeedVersion"), description="the most recent first"),
    }),
    "VersionReport": object_of({
        "version": object_of({
            **_VERSION_PROPERTIES,
            "network_id": STRING,
            "authority_id": STRING,
            "source": {"type": "string", "description": "where it was fetched from"},
        }),
        "summary": {"type": "string", "description": "the verdict in plain words"},
        "issues": array_of(object_of({
            "code": STRING,
            "severity": STRING,
            "file": nullable(STRING),
            "row": nullable(INTEGER),
            "entity_id": nullable(STRING),
            "field": nullable(STRING),
            "value": nullable(STRING),
            "message": STRING,
            "count": INTEGER,
        }), description="fatal first"),
    }),
    "Hubs": object_of({
        "total": {"type": "integer", "description": "hubs matched (more than listed when over limit)"},
        "hubs": array_of(object_of({
            "hub_id": STRING,
            "name": STRING,
            "geometry": nullable(schema_ref("GeoJSONPoint")),
            "networks": array_of(STRING),
            "interchange": {"type": "boolean", "description": "joins two or more networks"},
            "stops": array_of(object_of({
                "stop_id": STRING,
                "network_id": STRING,
                "name": STRING,
                "distance_m": nullable(NUMBER),
            })),
            "distance_m": NUMBER,
        }, optional=("distance_m",))),
    }),
}

REALTIME_COMPONENTS: dict[str, Any] = {
    "Alerts": object_of({
        "active_at": DATE_TIME,
        "alerts": array_of(object_of({
            "id": STRING,
            "feed_id": STRING,
            "cause": {"type": "string", "description": "GTFS-realtime Cause (UNKNOWN_CAUSE when absent)"},
            "effect": {"type": "string", "description": "GTFS-realtime Effect (UNKNOWN_EFFECT when absent)"},
            "severity_level": STRING,
            "header_text": _TRANSLATED,
            "description_text": _TRANSLATED,
            "url": _TRANSLATED,
            "active_periods": array_of(object_of({"start": nullable(DATE_TIME), "end": nullable(DATE_TIME)})),
            "informed_entities": array_of({
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "agency_id": STRING, "route_id": STRING, "route_type": INTEGER,
                    "direction_id": INTEGER, "stop_id": STRING, "trip_id": STRING,
                },
            }),
            "received_at": DATE_TIME,
        })),
    }),
    "RealtimeStatus": object_of({
        "now": DATE_TIME,
        "sources": array_of(object_of({
            "feed_id": STRING,
            "kind": {"enum": ["trip_updates", "alerts", "vehicle_positions"]},
            "url": STRING,
            "poll_s": INTEGER,
            "last_fetch_at": nullable(DATE_TIME),
            "last_applied_at": nullable(DATE_TIME),
            "header_timestamp": nullable(DATE_TIME),
            "stale": BOOLEAN,
            "entities": object_of({
                "total": {"type": "integer", "description": "entities of the state served"},
                "applied": {"type": "integer", "description": "of which matched and handed to the planner"},
                "rejected": {"type": "integer", "description": "of which refused (see recent_rejected)"},
            }),
            "fetches": object_of({"total": INTEGER, "not_modified": INTEGER}),
            "error_counts": {**_COUNTS, "description": "errors since start by RtErrorType (zeros included)"},
            "last_error": nullable(STRING),
            "recent_rejected": array_of(object_of({
                "at": DATE_TIME,
                "type": {"type": "string", "description": "RtErrorType, e.g. trip_id_conflict, unknown_trip"},
                "entity_id": nullable(STRING),
                "trip_id": nullable(STRING),
                "stop_id": nullable(STRING),
                "detail": STRING,
            }), description="the most recent rejected entities or payloads, newest first (at most 20)"),
        })),
    }),
    "Vehicles": object_of({
        "vehicles": array_of(object_of({
            "feed_id": STRING,
            "vehicle_id": nullable({"type": "string", "description": "the publisher's label (not a GTFS id)"}),
            "lat": nullable(NUMBER),
            "lon": nullable(NUMBER),
            "bearing": nullable(NUMBER),
            "speed_mps": nullable(NUMBER),
            "matched_by": nullable({"enum": ["trip", "route"]}),
            "trip_id": nullable(STRING),
            "route_id": nullable(STRING),
            "direction_id": nullable(INTEGER),
            "service_date": nullable({"type": "string", "pattern": "^[0-9]{8}$", "description": "YYYYMMDD"}),
            "stop_id": nullable(STRING),
            "current_status": nullable(STRING),
            "occupancy_status": nullable(STRING),
            "timestamp": nullable(DATE_TIME),
        })),
    }),
}
