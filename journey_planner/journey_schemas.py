"""JSON Schemas of the ``GET /v1/journeys`` answer (`Journeys`, `Itinerary`), merged into
`journey_planner.schemas.COMPONENTS`; legs are described there, reasons in `explain`.
"""

from __future__ import annotations

from typing import Any

from oura.http import schema_ref
from oura.http.schemas import BOOLEAN, DATE_TIME, INTEGER, NUMBER, STRING, array_of, nullable, object_of

__all__ = ["JOURNEY_COMPONENTS"]

JOURNEY_COMPONENTS: dict[str, Any] = {
    "LegAlert": object_of({
        "id": {**STRING, "description": "namespaced alert id (feed:entity_id)"},
        "effect": {**STRING, "description": "GTFS-realtime effect: NO_SERVICE (the planner routes around it), "
                   "REDUCED_SERVICE, SIGNIFICANT_DELAYS, DETOUR, STOP_MOVED, ... (these only inform)"},
        "cause": STRING,
        "severity": STRING,
        "header": nullable({**STRING, "description": "in the requested language (lang, else Accept-Language): the "
                            "exact tag, its primary subtag, the untagged text, then any"}),
        "description": nullable(STRING),
        "url": nullable(STRING),
        "active_periods": array_of(object_of({"start": nullable(DATE_TIME), "end": nullable(DATE_TIME)}),
                                   description="empty: always active; a null end is open"),
    }, description="a service alert touching the leg's trip, route, agency, mode or its boarding or alighting "
                   "stop (or their station) while the leg runs"),
    "Itinerary": object_of({
        "id": {**STRING, "description": "stable id of what the itinerary rides (trips, service dates, boarding and "
               "alighting stops): GET /v1/itineraries/{id} re-reads it against the current realtime"},
        "departure": DATE_TIME,
        "arrival": DATE_TIME,
        "duration_s": INTEGER,
        "transfers": INTEGER,
        "walking_distance_m": NUMBER,
        "realtime": BOOLEAN,
        "legs": array_of({"oneOf": [schema_ref("TransitLeg"), schema_ref("WalkLeg"), schema_ref("CarpoolLeg")]}),
        "constraints": array_of(schema_ref("Reason"), description="what the request's constraints made it avoid"),
        "fare": {
            "type": ["object", "null"],
            "description": "the fare of the transit legs, as POST /v1/fares/quote answers (null: walking only, no fares)",
            "required": ["total_minor", "currency", "is_complete", "products", "legs"],
            "properties": {"total_minor": INTEGER, "currency": STRING, "is_complete": BOOLEAN,
                           "products": array_of({"type": "object"}), "legs": array_of({"type": "object"})},
        },
        "total_price": nullable(object_of({
            "total_minor": INTEGER, "currency": STRING,
            "is_complete": {**BOOLEAN, "description": "false when the carpool's or the transit part's price is unknown"},
        }, description="with a carpool leg only: the transit fare plus the carpool's price (null: mixed currencies)")),
    }, optional=("total_price",)),
    "CarpoolLeg": object_of({
        "mode": {"const": "carpool"},
        "type": {"const": "carpool"},
        "from": object_of({"id": {"type": "null"}, "name": STRING, "lat": NUMBER, "lon": NUMBER,
                           "departure": DATE_TIME}, description="the pickup point"),
        "to": object_of({"id": {"type": "null"}, "name": STRING, "lat": NUMBER, "lon": NUMBER,
                         "arrival": DATE_TIME}, description="the drop-off point"),
        "departure": {**DATE_TIME, "description": "pickup time"},
        "arrival": {**DATE_TIME, "description": "drop-off time (the operator's duration after the pickup)"},
        "duration_s": INTEGER,
        "distance_m": NUMBER,
        "realtime": BOOLEAN,
        "operator": {**STRING, "description": "the standard-covoiturage operator (its domain name)"},
        "driver": object_of({"alias": STRING, "grade": nullable(INTEGER)}),
        "car": nullable(object_of({"model": nullable(STRING), "brand": nullable(STRING)})),
        "seats": nullable({**INTEGER, "description": "seats left when searched"}),
        "price": nullable(object_of({
            "type": {"type": "string", "enum": ["FREE", "PAYING", "UNKNOWN"]},
            "amount_minor": nullable(INTEGER), "currency": nullable(STRING),
        }, description="the passenger's share, as the operator states it (never part of the transit fare)")),
        "booking": object_of({
            "operator": STRING,
            "driver_journey_id": nullable({**STRING, "description": "POST /v1/carpool/bookings with operator and "
                                           "this id books a seat"}),
            "url": nullable({**STRING, "description": "the operator's page for this journey"}),
        }),
        "geometry": schema_ref("GeoJSONLineString"),
    }, description="a ride in a driver's car, from an operator of the standard-covoiturage API"),
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
            "cursor": nullable(STRING),
            "modes": array_of({"type": "string", "enum": ["carpool", "transit", "walk"]}),
        }),
        "walking": object_of({
            "method": {"type": "string", "enum": ["crow_fly_detour"],
                       "description": "crow_fly_detour: the straight line times detour_factor (no street routing yet)"},
            "detour_factor": NUMBER,
            "speed_mps": NUMBER,
            "max_access_radius_m": NUMBER,
            "max_walk_only_m": NUMBER,
        }, description="how the walks to, from and between places (walk-only journeys) were measured"),
        "next": {"type": "string", "description": "cursor of the next page (journeys departing later): "
                 "pass it as 'cursor' with the same from and to"},
        "previous": {"type": "string", "description": "cursor of the previous page (journeys arriving earlier)"},
        "journeys": array_of(schema_ref("Itinerary"), description="best first; a walk-only journey is one walk "
                             "leg from place to place, proposed when walking is competitive"),
        "reasons": array_of(schema_ref("Reason"), description="why there is no transit journey (empty when there "
                            "are some; a walk-only journey may still be proposed)"),
        "carpool": object_of({
            "searched": {**BOOLEAN, "description": "false: no carpool service is configured"},
            "asks": {**INTEGER, "description": "searches sent (door to door, to and from railway stations)"},
            "offers": {**INTEGER, "description": "driver journeys found"},
            "operator_errors": array_of(object_of({"operator": STRING, "failure": STRING, "detail": STRING}),
                                        description="operators that did not answer in time or answered wrongly: "
                                        "the journeys are planned without them"),
        }, description="with modes=carpool only"),
    }, optional=("carpool",)),
}
