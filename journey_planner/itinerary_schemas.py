"""JSON Schemas of the ``GET /v1/itineraries/{id}`` answer (`ItineraryCheck`), merged into
`journey_planner.schemas.COMPONENTS`; the legs it embeds are the ``TransitLeg`` of /v1/journeys.
They describe what `journey_planner.refresh.itinerary_check_json` renders: change both together.
"""

from __future__ import annotations

from typing import Any

from oura.http import schema_ref
from oura.http.schemas import BOOLEAN, DATE, DATE_TIME, INTEGER, STRING, array_of, nullable, object_of

__all__ = ["ITINERARY_COMPONENTS"]

_PROBLEM_CODES = ["trip_canceled", "trip_not_found", "boarding_stop_closed", "alighting_stop_closed",
                  "connection_missed"]
_LEG_STATUS = ["scheduled", "on_time", "delayed", "early", "added", "cancelled", "skipped", "not_found"]

ITINERARY_COMPONENTS: dict[str, Any] = {
    "ItineraryCheck": object_of({
        "id": {**STRING, "description": "the itinerary id asked for"},
        "ok": {**BOOLEAN, "description": "every leg still runs and every change still leaves the change time"},
        "realtime": {**BOOLEAN, "description": "whether realtime was applied (false: the planned timetable)"},
        "origin": nullable({**STRING, "description": "the journey's origin as given to /v1/journeys, when it is "
                            "not the first leg's stop"}),
        "destination": nullable(STRING),
        "departure": nullable({**DATE_TIME, "description": "the first leg's departure (now expected)"}),
        "arrival": nullable({**DATE_TIME, "description": "the last leg's arrival (now expected)"}),
        "legs": array_of(schema_ref("ItineraryLegCheck"), description="the transit legs, in order"),
        "problems": array_of(schema_ref("ItineraryProblem"), description="why the itinerary no longer holds "
                             "(empty when ok)"),
    }, description="an itinerary re-read against the current timetable"),
    "ItineraryLegCheck": object_of({
        "index": {**INTEGER, "description": "0-based index among the itinerary's transit legs"},
        "trip_id": STRING,
        "service_date": DATE,
        "board_stop_id": STRING,
        "alight_stop_id": STRING,
        "status": {"type": "string", "enum": _LEG_STATUS, "description": "scheduled (no realtime for the "
                   "trip), on_time, delayed, early, added (as legs of /v1/journeys), cancelled, skipped (the boarding "
                   "or alighting stop is no longer served), not_found (the timetable no longer has the trip)"},
        "scheduled_departure": nullable(DATE_TIME),
        "scheduled_arrival": nullable(DATE_TIME),
        "departure": nullable({**DATE_TIME, "description": "expected departure (the scheduled one for a "
                               "cancelled leg); null when not found"}),
        "arrival": nullable(DATE_TIME),
        "departure_delay_s": nullable(INTEGER),
        "arrival_delay_s": nullable(INTEGER),
        "leg": {"anyOf": [schema_ref("TransitLeg"), {"type": "null"}],
                "description": "the leg as /v1/journeys renders it now; null when the trip or its alighting "
                "stop is not found"},
    }),
    "ItineraryProblem": object_of({
        "code": {"type": "string", "enum": _PROBLEM_CODES},
        "leg_index": {**INTEGER, "description": "the leg concerned (for connection_missed: the leg that can no "
                      "longer be caught)"},
        "detail": STRING,
    }),
}
