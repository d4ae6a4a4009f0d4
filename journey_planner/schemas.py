"""JSON Schemas of what the planner's routes answer (components of the OpenAPI document).

They describe what `journey_planner.mapping.Mapper` and `PlannerService` render: change one and
the other together (the test suite checks every response it receives against these).
"""

from __future__ import annotations

from typing import Any

from oura.http import schema_ref
from oura.http.schemas import BOOLEAN, DATE, DATE_TIME, INTEGER, NUMBER, STRING, array_of, nullable, object_of

__all__ = ["COMPONENTS"]

_MODE = {"type": "string", "description": "bus, tram, subway, rail, ferry, ... (from the GTFS route_type)"}
_STATUS = {"type": "string", "description": "scheduled, on_time, delayed, early, skipped, added or cancelled"}
_COLOR = nullable({"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"})

_STOP_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "description": "namespaced stop id (network:stop_id)"},
    "name": STRING,
    "lat": NUMBER,
    "lon": NUMBER,
    "wheelchair_accessible": BOOLEAN,
}
_CALL_PROPERTIES: dict[str, Any] = {
    **_STOP_PROPERTIES,
    "scheduled_arrival": nullable(DATE_TIME),
    "scheduled_departure": nullable(DATE_TIME),
    "realtime_arrival": nullable(DATE_TIME),
    "realtime_departure": nullable(DATE_TIME),
    "status": _STATUS,
}

COMPONENTS: dict[str, Any] = {
    "Stop": object_of(_STOP_PROPERTIES),
    "StopMatch": object_of({
        **_STOP_PROPERTIES,
        "location_type": {"enum": ["stop", "station"]},
        "parent_station": nullable(STRING),
        "distance_m": NUMBER,
    }, optional=("distance_m",), description="a stop or station found by name or near a point (distance_m: near only)"),
    "Place": nullable(object_of({
        "id": nullable(STRING),
        "name": STRING,
        "lat": NUMBER,
        "lon": NUMBER,
        "wheelchair_accessible": BOOLEAN,
    }, optional=("wheelchair_accessible",), description="a stop, or the coordinates asked for (id null)")),
    "TransitLeg": object_of({
        "mode": _MODE,
        "type": {"const": "transit"},
        "from": object_of({**_CALL_PROPERTIES, "departure": DATE_TIME}),
        "to": object_of({**_CALL_PROPERTIES, "arrival": DATE_TIME}),
        "scheduled_departure": nullable(DATE_TIME),
        "scheduled_arrival": nullable(DATE_TIME),
        "departure": DATE_TIME,
        "arrival": DATE_TIME,
        "realtime": BOOLEAN,
        "delay_s": nullable(INTEGER),
        "status": _STATUS,
        "trip_id": STRING,
        "service_date": DATE,
        "route": object_of({
            "id": STRING,
            "short_name": STRING,
            "long_name": STRING,
            "color": _COLOR,
            "text_color": _COLOR,
            "mode": _MODE,
        }),
        "headsign": STRING,
        "wheelchair_accessible": BOOLEAN,
        "stops": array_of(object_of(_CALL_PROPERTIES), minItems=2),
        "geometry": schema_ref("GeoJSONLineString"),
    }),
    "WalkLeg": object_of({
        "mode": {"const": "walk"},
        "type": {"const": "walk"},
        "from": schema_ref("Place"),
        "to": schema_ref("Place"),
        "departure": DATE_TIME,
        "arrival": DATE_TIME,
        "duration_s": INTEGER,
        "distance_m": NUMBER,
        "geometry": schema_ref("GeoJSONLineString"),
    }),
    "Itinerary": object_of({
        "departure": DATE_TIME,
        "arrival": DATE_TIME,
        "duration_s": INTEGER,
        "transfers": INTEGER,
        "walking_distance_m": NUMBER,
        "realtime": BOOLEAN,
        "legs": array_of({"oneOf": [schema_ref("TransitLeg"), schema_ref("WalkLeg")]}),
        "fare": {
            "type": ["object", "null"],
            "description": "the fare of the transit legs, as POST /v1/fares/quote answers (null: walking only, no fares)",
            "required": ["total_minor", "currency", "is_complete", "products", "legs"],
            "properties": {"total_minor": INTEGER, "currency": STRING, "is_complete": BOOLEAN,
                           "products": array_of({"type": "object"}), "legs": array_of({"type": "object"})},
        },
    }),
    "Journeys": object_of({
        "realtime": {"type": "boolean", "description": "realtime was applied"},
        "realtime_at": nullable(DATE_TIME),
        "snapshot_version": INTEGER,
        "query": object_of({
            "from": STRING,
            "to": STRING,
            "datetime": DATE_TIME,
            "arrive_by": BOOLEAN,
            "max_transfers": INTEGER,
            "wheelchair": BOOLEAN,
            "window_s": INTEGER,
            "num": INTEGER,
            "rider_category": nullable(STRING),
        }),
        "journeys": array_of(schema_ref("Itinerary")),
    }),
    "Departures": object_of({
        "stop": schema_ref("Stop"),
        "realtime": BOOLEAN,
        "departures": array_of(object_of({
            "stop": schema_ref("Stop"),
            "trip_id": STRING,
            "service_date": DATE,
            "route": object_of({"id": STRING, "short_name": STRING, "mode": _MODE, "color": _COLOR}),
            "headsign": STRING,
            "scheduled_departure": DATE_TIME,
            "realtime_departure": nullable(DATE_TIME),
            "delay_s": nullable(INTEGER),
            "status": _STATUS,
            "realtime": BOOLEAN,
        })),
    }),
}
