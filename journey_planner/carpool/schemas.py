"""JSON Schemas of the carpool routes (`carpool.http`, `carpool.standard_http`): the table's components.

The ``Stdcov*`` shapes are the standard-covoiturage objects as `model.to_json` writes them
(camelCase, members left out when empty, other members allowed as the standard allows them);
they follow ../shared/specs/standard-covoiturage/standard-covoiturage_openapi.yaml, and the tests
check the served answers against that document too. ``CarpoolBooking`` and ``CarpoolOffers``
are OùRA's own answers (snake_case, every property always there). Change them with
`service.CarpoolService.describe` and the handlers.
"""

from __future__ import annotations

from typing import Any

from oura.http import schema_ref
from oura.http.schemas import BOOLEAN, DATE_TIME, INTEGER, NUMBER, STRING, array_of, nullable, object_of

from .model import ID_BOUNDS, TIME_OF_DAY_PATTERN, UUID_PATTERN

__all__ = ["CARPOOL_COMPONENTS", "BOOKING_REQUEST", "STATUS_REQUEST", "PUBLISH_JOURNEY_REQUEST",
           "PUBLISH_REGULAR_TRIP_REQUEST", "STATUSES", "UUID"]

STATUSES = ["WAITING_CONFIRMATION", "CONFIRMED", "CANCELLED", "COMPLETED_PENDING_VALIDATION", "VALIDATED"]
UUID: dict[str, Any] = {"type": "string", "format": "uuid", "pattern": f"^{UUID_PATTERN}$"}
_ID = {**STRING, "minLength": ID_BOUNDS.min_length, "maxLength": ID_BOUNDS.max_length}  # the standard's ids
_POSIX_S = {"type": "integer", "description": "POSIX seconds (UTC)"}
_LAT = {"type": "number", "description": "degrees (WGS 84)"}  # unbounded, as in the standard
_LNG = _LAT


def _std(properties: dict[str, Any], required: tuple[str, ...] = (), description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": list(required), "properties": properties}
    if description:
        schema["description"] = description
    return schema


_TRIP = {
    "operator": STRING, "passengerPickupLat": _LAT, "passengerPickupLng": _LNG, "passengerDropLat": _LAT,
    "passengerDropLng": _LNG, "passengerPickupAddress": STRING, "passengerDropAddress": STRING,
    "distance": {**INTEGER, "description": "metres of carpooling"}, "driverDepartureLat": _LAT,
    "driverDepartureLng": _LNG, "driverArrivalLat": _LAT, "driverArrivalLng": _LNG, "driverDepartureAddress": STRING,
    "driverArrivalAddress": STRING, "duration": {**INTEGER, "description": "seconds of carpooling"},
    "journeyPolyline": STRING, "preferences": schema_ref("StdcovPreferences"), "webUrl": STRING,
    "driver": schema_ref("StdcovUser"), "car": schema_ref("StdcovCar"),
    "departureToPickupWalkingDistance": INTEGER, "departureToPickupWalkingDuration": INTEGER,
    "dropoffToArrivalWalkingDistance": INTEGER, "dropoffToArrivalWalkingDuration": INTEGER,
}
_TRIP_REQUIRED = ("operator", "driver", "passengerPickupLat", "passengerPickupLng", "passengerDropLat",
                  "passengerDropLng", "duration")
_JOURNEY_SCHEDULE = {"id": _ID, "passengerPickupDate": _POSIX_S,
                     "driverDepartureDate": _POSIX_S, "webUrl": STRING,
                     "type": {"enum": ["PLANNED", "DYNAMIC", "LINE"]}}
_BOOKING_COMMON = {
    "passengerPickupDate": _POSIX_S, "passengerPickupLat": _LAT, "passengerPickupLng": _LNG,
    "passengerDropLat": _LAT, "passengerDropLng": _LNG, "passengerPickupAddress": STRING,
    "passengerDropAddress": STRING, "status": {"enum": STATUSES}, "duration": INTEGER, "distance": INTEGER,
    "webUrl": STRING, "price": schema_ref("StdcovPrice"), "car": schema_ref("StdcovCar"),
    "driver": schema_ref("StdcovUser"), "passenger": schema_ref("StdcovUser"),
}

CARPOOL_COMPONENTS: dict[str, Any] = {
    "StdcovUser": _std({"id": STRING, "operator": STRING, "alias": STRING, "firstName": STRING, "lastName": STRING,
                        "grade": {**INTEGER, "description": "1 to 5"}, "picture": STRING,
                        "gender": {"enum": ["F", "M", "O"]}, "verifiedIdentity": BOOLEAN},
                       ("id", "operator", "alias"), "standard-covoiturage User"),
    "StdcovPrice": _std({"type": {"enum": ["FREE", "PAYING", "UNKNOWN"]}, "amount": NUMBER,
                         "currency": {**STRING, "description": "ISO 4217"}}, (), "standard-covoiturage Price"),
    "StdcovCar": _std({"model": STRING, "brand": STRING}),
    "StdcovPreferences": _std({"smoking": BOOLEAN, "animals": BOOLEAN, "music": BOOLEAN, "isTalker": BOOLEAN,
                               "luggageSize": {**INTEGER, "description": "1 (very small) to 5 (very big)"}}),
    "StdcovDriverJourney": _std({**_TRIP, **_JOURNEY_SCHEDULE, "availableSeats": {**INTEGER, "minimum": 0,
                                                    "description": "free seats (OùRA sells at most 8)"},
                                 "price": schema_ref("StdcovPrice")},
                                (*_TRIP_REQUIRED, "passengerPickupDate", "type"),
                                "standard-covoiturage DriverJourney: a punctual driver journey"),
    "StdcovJourneySchedule": _std(_JOURNEY_SCHEDULE, ("passengerPickupDate", "type")),
    "StdcovSchedule": _std({"passengerPickupDay": {"enum": ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]},
                            "passengerPickupTimeOfDay": {**STRING, "pattern": f"^{TIME_OF_DAY_PATTERN}$"},
                            "journeySchedules": array_of(schema_ref("StdcovJourneySchedule"))}),
    "StdcovRegularTrip": _std({**_TRIP, "schedules": array_of(schema_ref("StdcovSchedule"))}, _TRIP_REQUIRED,
                              "standard-covoiturage DriverTrip with its schedules (a regular trip)"),
    "StdcovBooking": _std({**_BOOKING_COMMON, "id": UUID,
                           "driverJourneyId": _ID, "passengerJourneyId": _ID},
                          ("id", "driver", "passenger", "status", "price", "passengerPickupDate", "passengerPickupLat",
                           "passengerPickupLng", "passengerDropLat", "passengerDropLng"),
                          "standard-covoiturage Booking"),
    "StdcovBookingEvent": _std({"id": UUID, "idToken": STRING,
                                "data": _std({**_BOOKING_COMMON, "id": STRING},
                                             ("id", "passengerPickupDate", "passengerPickupLat", "passengerPickupLng",
                                              "passengerDropLat", "passengerDropLng", "status", "webUrl"))},
                               ("id", "idToken", "data"), "standard-covoiturage CarpoolBookingEvent"),
    "CarpoolBooking": object_of({
        "id": UUID,
        "status": {"enum": STATUSES},
        "operator": {**STRING, "description": "the operator of the driver journey"},
        "driver_journey_id": STRING,
        "seats": {**INTEGER, "minimum": 1, "maximum": 8},
        "hosted": {**BOOLEAN, "description": "a journey published through OùRA (else relayed to its operator)"},
        "travel_pass": {**BOOLEAN, "description": "whether an OùRA card was given (it is never shown)"},
        "created_at": DATE_TIME,
        "updated_at": DATE_TIME,
        "events": array_of(object_of({"status": {"enum": STATUSES},
                                      "source": {"enum": ["passenger", "operator", "platform", "driver"]},
                                      "message": nullable(STRING), "at": DATE_TIME})),
        "booking": schema_ref("StdcovBooking"),
    }, description="a carpool booking: the idempotency key's booking, its status history, the standard's Booking"),
    "CarpoolProofs": object_of({
        "since": DATE_TIME,
        "until": DATE_TIME,
        "journeys": array_of(object_of({
            "booking_id": UUID,
            "validated_at": DATE_TIME,
            "exported_at": {**DATE_TIME, "description": "its first export"},
            "first_export": {**BOOLEAN, "description": "this export was its first"},
            "journey": schema_ref("ProofRegisterJourney"),
        }), description="the trips validated in the window, in the order of their validation"),
        "skipped": array_of(object_of({"booking_id": UUID, "reason": STRING}),
                            description="validated trips that cannot be sent (no identity), left unexported"),
    }, description="validated carpool trips of journeys published through OùRA, for the proof register"),
    "ProofRegisterJourney": {
        "type": "object",
        "description": "a journey of the proof register's API v3.3 (POST /journeys), as "
                       "../shared/specs/preuve-covoiturage/api-v3.3.yaml gives it",
        "required": ["operator_journey_id", "operator_trip_id", "operator_class", "incentives", "start", "end",
                     "distance", "driver", "passenger"],
        "additionalProperties": False,
        "properties": {
            "operator_journey_id": {**STRING, "pattern": "^[a-z0-9]+$", "maxLength": 256},
            "operator_trip_id": {**STRING, "pattern": "^[a-z0-9]+$", "maxLength": 256},
            "operator_class": {"enum": ["A", "B", "C"]},
            "incentives": array_of({"type": "object"}),
            "start": schema_ref("ProofRegisterPoint"),
            "end": schema_ref("ProofRegisterPoint"),
            "distance": {**INTEGER, "minimum": 0, "description": "metres"},
            "driver": {"type": "object", "required": ["identity", "revenue"],
                       "properties": {"identity": {"type": "object"}, "revenue": {**INTEGER, "minimum": 0}}},
            "passenger": {"type": "object", "required": ["identity", "contribution", "seats"],
                          "properties": {"identity": {"type": "object"}, "contribution": {**INTEGER, "minimum": 0},
                                         "seats": {**INTEGER, "minimum": 1, "maximum": 8}}},
        },
    },
    "ProofRegisterPoint": object_of({"datetime": {**STRING, "description": "UTC, YYYY-MM-DDThh:mm:ssZ"},
                                     "lat": NUMBER, "lon": NUMBER}),
    "CarpoolOffers": object_of({
        "offers": array_of(schema_ref("StdcovDriverJourney")),
        "failures": array_of(object_of({
            "operator": STRING,
            "failure": {"enum": ["timeout", "unreachable", "server_error", "bad_answer", "refused", "circuit_open"]},
            "detail": STRING,
        }), description="operators that gave nothing within their timeout, and why"),
    }),
}

BOOKING_REQUEST: dict[str, Any] = object_of({
    "operator": {**STRING, "minLength": 1, "maxLength": 255, "description": "the offer's operator"},
    "driver_journey_id": {**STRING, "minLength": 1, "maxLength": 255, "description": "the offer's id"},
    "seats": {**INTEGER, "minimum": 1, "maximum": 8, "default": 1},
    "passenger": object_of({
        "alias": {**STRING, "minLength": 1, "maxLength": 100},
        "first_name": {**STRING, "maxLength": 100},
        "last_name": {**STRING, "maxLength": 100},
        "phone": {**STRING, "maxLength": 32, "description": "kept only truncated and hashed, for the proof register"},
        "over_18": BOOLEAN,
    }, optional=("first_name", "last_name", "phone", "over_18")),
    "medium_serial": {**STRING, "minLength": 1, "maxLength": 64,
                      "description": "the traveller's OùRA card (the proof register's travel_pass)"},
}, optional=("seats", "medium_serial"))

STATUS_REQUEST: dict[str, Any] = object_of({
    "status": {"enum": ["CANCELLED", "COMPLETED_PENDING_VALIDATION", "VALIDATED"]},
    "message": {**STRING, "maxLength": 500},
}, optional=("message",))

PUBLISH_JOURNEY_REQUEST: dict[str, Any] = object_of({
    "journey": schema_ref("StdcovDriverJourney"),
    "driver_phone": {**STRING, "maxLength": 32, "description": "kept only truncated and hashed (proof register)"},
    "driver_last_name": {**STRING, "maxLength": 100},
}, optional=("driver_phone", "driver_last_name"))

PUBLISH_REGULAR_TRIP_REQUEST: dict[str, Any] = object_of({
    "trip_id": {**STRING, "minLength": 1, "maxLength": 255},
    "trip": schema_ref("StdcovRegularTrip"),
})
