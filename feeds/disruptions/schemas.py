"""JSON Schemas of the disruptions routes (request bodies and answers), for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from feeds.disruptions.model import CAUSES, EFFECTS, Kind
from oura.http.schemas import DATE_TIME, INTEGER, STRING, array_of, nullable, object_of

__all__ = ["COMPONENTS", "DISRUPTION_REQUEST", "DISRUPTION_PATCH", "DISRUPTION_LIST", "AUDIT_LIST", "FEED_MESSAGE_JSON"]

_TEXTS: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 4000},
                          "propertyNames": {"pattern": r"^[A-Za-z]{0,8}(-[A-Za-z0-9]{1,8})*$"},
                          "description": "language (BCP 47, '' for none) -> text"}
_TEXTS_REQUIRED: dict[str, Any] = {**_TEXTS, "minProperties": 1}
# ISO 8601 with an offset, years 1971 to 2199 (POSIX times of a service day; the parser says the same)
_WHEN: dict[str, Any] = {**DATE_TIME, "pattern": r"^(19[7-9][0-9]|2[01][0-9][0-9])-"}
_PERIOD_IN: dict[str, Any] = {
    "type": "object", "required": ["start"],
    "properties": {"start": _WHEN, "end": nullable(_WHEN)},
    "description": "ISO 8601 with an offset; no end: until further notice",
}
_ID: dict[str, Any] = {"type": "string", "pattern": r"^[A-Za-z0-9_.-]{1,100}:[^\u0000-\u001f]{1,200}$",
                       "description": "namespaced '<network>:<id>'"}
_DATES: dict[str, Any] = array_of(
    {"type": "string", "pattern": r"^(19[7-9][0-9]|2[01][0-9][0-9])(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$"},
    minItems=1, maxItems=400)
_STOP_TIME: dict[str, Any] = {
    "type": "object", "required": ["stop_id"],
    "properties": {"stop_id": _ID, "arrival": STRING, "departure": STRING},
    "description": "times as ISO 8601 with an offset, or HH:MM:SS of the service_dates",
}

DISRUPTION_REQUEST: dict[str, Any] = {
    "type": "object", "required": ["kind", "period", "header"],
    "properties": {
        "kind": {"type": "string", "enum": [k.value for k in Kind]},
        "period": _PERIOD_IN,
        "header": _TEXTS_REQUIRED, "description": _TEXTS, "url": _TEXTS,
        "cause": {"type": "string", "enum": sorted(CAUSES)},
        "effect": {"type": "string", "enum": sorted(EFFECTS),
                   "description": "NO_SERVICE for every kind but replacement_bus (default ADDITIONAL_SERVICE)"},
        "stop_id": _ID, "route_id": _ID, "from_stop_id": _ID, "to_stop_id": _ID,
        "trip_ids": array_of(_ID, minItems=1, maxItems=1000),
        "service_dates": _DATES,
        "stop_times": array_of(_STOP_TIME, minItems=2, maxItems=300),
    },
    "description": "close_stop: stop_id; cut_route: route_id, from_stop_id, to_stop_id; cancel_trips: trip_ids "
                   "(service_dates optional); replacement_bus: route_id, stop_times (service_dates with HH:MM:SS)",
}

DISRUPTION_PATCH: dict[str, Any] = {
    "type": "object", "minProperties": 1, "additionalProperties": False,
    "properties": {"period": _PERIOD_IN, "cause": {"type": "string", "enum": sorted(CAUSES)},
                   "header": _TEXTS_REQUIRED, "description": _TEXTS, "url": _TEXTS},
}

_DISRUPTION = object_of({
    "id": INTEGER, "alert_id": STRING, "authority_id": STRING, "network_id": STRING,
    "kind": {"type": "string", "enum": [k.value for k in Kind]},
    "stop_id": STRING, "route_id": STRING, "from_stop_id": STRING, "to_stop_id": STRING,
    "trip_ids": array_of(STRING), "service_dates": array_of(STRING),
    "stop_times": array_of(object_of({"stop_id": STRING, "arrival": STRING, "departure": STRING})),
    "period": object_of({"start": DATE_TIME, "end": nullable(DATE_TIME)}),
    "cause": STRING, "effect": STRING, "header": _TEXTS, "description": _TEXTS, "url": _TEXTS,
    "status": {"type": "string", "enum": ["upcoming", "active", "expired", "ended"]},
    "created_at": DATE_TIME, "updated_at": DATE_TIME, "ended_at": nullable(DATE_TIME),
}, optional=("stop_id", "route_id", "from_stop_id", "to_stop_id", "trip_ids", "service_dates", "stop_times"))

_AUDIT_ENTRY = object_of({
    "action": {"type": "string", "enum": ["create", "update", "end"]}, "key_id": STRING,
    "authority_id": nullable(STRING), "at": DATE_TIME,
    "before": nullable({"type": "object"}), "after": {"type": "object"},
})

COMPONENTS: dict[str, Any] = {"Disruption": _DISRUPTION}

DISRUPTION_LIST: dict[str, Any] = object_of({"disruptions": array_of({"$ref": "#/components/schemas/Disruption"})})
AUDIT_LIST: dict[str, Any] = object_of({"audit": array_of(_AUDIT_ENTRY)})
FEED_MESSAGE_JSON: dict[str, Any] = {
    "type": "object", "required": ["header"],
    "properties": {"header": {"type": "object"}, "entity": array_of({"type": "object"})},
    "description": "the GTFS-realtime FeedMessage as JSON (google.protobuf.json_format, .proto field names)",
}

