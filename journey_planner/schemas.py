"""JSON Schemas of what the planner's routes answer (components of the OpenAPI document).

They describe what `journey_planner.mapping.Mapper` and `PlannerService` render: change one and
the other together (the test suite checks every response it receives against these).
"""

from __future__ import annotations

from typing import Any

from oura.http import schema_ref
from oura.http.schemas import BOOLEAN, DATE, DATE_TIME, INTEGER, NUMBER, STRING, array_of, nullable, object_of

from .explain import REASON_COMPONENTS
from .itinerary_schemas import ITINERARY_COMPONENTS
from .journey_schemas import JOURNEY_COMPONENTS
from .stop_search import STOP_SEARCH_COMPONENTS
from .watch_schemas import WATCH_COMPONENTS

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
_PLATFORM = nullable({"type": "string", "description": "stops.txt platform_code (A, 3...); null when the feed has none"})
_CALL_PROPERTIES: dict[str, Any] = {
    **_STOP_PROPERTIES,
    "platform": _PLATFORM,
    "scheduled_arrival": nullable(DATE_TIME),
    "scheduled_departure": nullable(DATE_TIME),
    "realtime_arrival": nullable(DATE_TIME),
    "realtime_departure": nullable(DATE_TIME),
    "status": _STATUS,
}

_LEGS_AND_DEPARTURES: dict[str, Any] = {
    "Stop": object_of(_STOP_PROPERTIES),
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
        "delay_s": nullable({**INTEGER, "description": "the arrival delay (arrival_delay_s), for older clients"}),
        "departure_delay_s": nullable({**INTEGER, "description": "seconds late (+) or early (-) leaving the "
                                       "boarding stop; null without realtime"}),
        "arrival_delay_s": nullable({**INTEGER, "description": "seconds late (+) or early (-) at the alighting "
                                     "stop; null without realtime"}),
        "status": {**_STATUS, "description": _STATUS["description"] + ". A leg is delayed when its departure or "
                   "its arrival is at least 60 s late, else early when either is at least 60 s early"},
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
        "alerts": array_of(schema_ref("LegAlert"), description="service alerts of the ride (empty without realtime)"),
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
    "Departures": object_of({
        "stop": schema_ref("Stop"),
        "realtime": BOOLEAN,
        "departures": array_of(object_of({
            "stop": schema_ref("Stop"),
            "platform": _PLATFORM,
            "trip_id": STRING,
            "service_date": DATE,
            "route": object_of({"id": STRING, "short_name": STRING, "mode": _MODE, "color": _COLOR}),
            "headsign": STRING,
            "scheduled_departure": DATE_TIME,
            "realtime_departure": nullable(DATE_TIME),
            "delay_s": nullable(INTEGER),
            "status": _STATUS,
            "realtime": BOOLEAN,
            "alerts": array_of(schema_ref("LegAlert"), description="service alerts of this departure"),
        })),
    }),
}

_POSITION = {"type": "array", "minItems": 2, "maxItems": 2, "items": NUMBER}
_BASEMAP = {
    "Basemap": {
        "type": "object",
        "description": "RFC 7946 FeatureCollection of the offline basemap (journey_planner.basemap)",
        "required": ["type", "features"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "features": array_of({
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"const": "Feature"},
                    "geometry": {"oneOf": [
                        object_of({"type": {"const": "Polygon"},
                                   "coordinates": array_of(array_of(_POSITION))}),
                        schema_ref("GeoJSONLineString"),
                        schema_ref("GeoJSONPoint"),
                    ]},
                    "properties": {"type": "object", "required": ["layer"], "properties": {
                        "layer": {"enum": ["outline", "rail", "line", "town"]},
                        "name": {**STRING, "description": "a town's name (its busiest station)"},
                        "rank": {**INTEGER, "description": "a town's rank, 1 the busiest: label the lowest first"},
                        "route": {**STRING, "description": "a line's short (else long) name"},
                        "color": _COLOR,
                    }},
                },
            }),
        },
    },
}

COMPONENTS: dict[str, Any] = {
    **_LEGS_AND_DEPARTURES,
    **_BASEMAP,
    **JOURNEY_COMPONENTS,
    **ITINERARY_COMPONENTS,
    **REASON_COMPONENTS,
    **STOP_SEARCH_COMPONENTS,
    **WATCH_COMPONENTS,
}
