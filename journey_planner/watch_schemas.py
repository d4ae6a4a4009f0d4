"""JSON Schemas of the watch routes (`journey_planner.watch_http`), merged into
`journey_planner.schemas.COMPONENTS`. They describe what `WatchService` renders: change both together.
"""

from __future__ import annotations

from typing import Any

from oura.http import schema_ref
from oura.http.schemas import BOOLEAN, DATE_TIME, INTEGER, STRING, array_of, nullable, object_of

__all__ = ["WATCH_COMPONENTS", "WATCH_REQUEST"]

_PROBLEM = object_of({"code": {**STRING, "description": "trip_canceled, trip_not_found, boarding_stop_closed, "
                                "alighting_stop_closed or connection_missed"},
                      "leg_index": INTEGER, "detail": STRING})

WATCH_REQUEST: dict[str, Any] = object_of({
    "itinerary_id": {**STRING, "minLength": 4, "maxLength": 4000, "pattern": "^i1\\.[A-Za-z0-9_-]+$",
                     "description": "the id of a journey of /v1/journeys"},
    "medium_serial": {**STRING, "minLength": 1, "maxLength": 64,
                      "description": "the traveller's card or wallet serial: each alternative then says whether "
                      "the tickets on it cover it"},
    "webhook_url": {**STRING, "maxLength": 2000, "format": "uri", "pattern": "^https?://",
                    "description": "events are also POSTed here "
                    "(https; http only to 127.0.0.1 or localhost)"},
}, optional=("medium_serial", "webhook_url"))

WATCH_COMPONENTS: dict[str, Any] = {
    "Watch": object_of({
        "id": {**STRING, "description": "the watch's id, also its only key: keep it secret"},
        "itinerary_id": STRING,
        "status": {"enum": ["ok", "broken", "expired"]},
        "created_at": DATE_TIME,
        "expires_at": {**DATE_TIME, "description": "the journey's planned arrival plus a margin"},
        "medium_serial": {**BOOLEAN, "description": "whether a medium serial was given (it is never shown)"},
        "webhook": {**BOOLEAN, "description": "whether events are also POSTed to a webhook"},
        "last_event_id": INTEGER,
        "events_url": {**STRING, "description": "Server-Sent Events stream of this watch"},
        "check": {"type": "object", "required": ["ok", "problems", "legs"],
                  "description": "the itinerary's check against the current snapshot, as GET /v1/itineraries/{id}"},
    }),
    "WatchEventData": object_of({
        "event": {"enum": ["broken", "restored", "expired"]},
        "event_id": INTEGER,
        "watch_id": STRING,
        "itinerary_id": STRING,
        "at": DATE_TIME,
        "snapshot_version": INTEGER,
        "problems": array_of(_PROBLEM),
        "position": nullable(object_of({
            "kind": {"enum": ["waiting", "on_board", "arrived"]},
            "leg_index": INTEGER,
            "stop_ids": array_of(STRING, description="waiting: the stop; on board: the next stops planned from"),
        })),
        "alternatives": array_of(object_of({
            "itinerary": schema_ref("Itinerary"),
            "coverage": nullable({"type": "object",
                                  "required": ["covered", "contracts", "uncovered_legs", "extra_price"],
                                  "description": "whether the tickets on the medium cover it, else the extra price"}),
        }), maxItems=3),
    }, optional=("snapshot_version",), description="the data: line of an SSE event, also the webhook's body"),
}
