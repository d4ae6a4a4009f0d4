"""OùRA's carpool routes (``/v1/carpool``): offers from every operator, bookings, publishing.

Travellers are anonymous, as for watched journeys: a booking's id (a UUID) is its capability. A
booking needs an ``Idempotency-Key`` header: the same key again answers the booking it made
(200 instead of 201), with another request it is refused (409). Drivers publish journeys through
an authority's (or an admin's) key; other platforms then find them on OùRA's standard-covoiturage
routes (`standard_http`). An admin exports the validated trips for the proof register
(``/v1/carpool/proofs``, `proof_export`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from oura.http import RouteTable, header, json_response, path_param, query, read_json, reply, schema_ref
from oura.http.params import query_bool, query_datetime, query_float, query_int, query_latlon
from oura.http.schemas import LATLON_PATTERN

from .client import JourneyQuery
from .errors import CarpoolNotReady, InvalidCarpoolBody, InvalidCarpoolParameter
from .model import BookingStatus, CarpoolPayloadError, DriverJourney, RegularTrip, parse, to_json
from .schemas import (
    BOOKING_REQUEST,
    CARPOOL_COMPONENTS,
    PUBLISH_JOURNEY_REQUEST,
    PUBLISH_REGULAR_TRIP_REQUEST,
    STATUS_REQUEST,
)
from .proof_export import export_validated
from .service import BookingRequest, CarpoolService, Traveller
from .startup import CARPOOL

__all__ = ["routes", "carpool_service", "body_object", "text_member"]

routes = RouteTable(tag="carpool", components=CARPOOL_COMPONENTS)

_BOOKING_ID = path_param("booking_id", description="the booking's id (POST /v1/carpool/bookings answered it)",
                         format="uuid", maxLength=36)
_PUBLISHERS = ("authority", "admin")


def carpool_service(request: web.Request) -> CarpoolService:
    service = request.app.get(CARPOOL)
    if service is None:
        raise CarpoolNotReady()
    return service


async def body_object(request: web.Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidCarpoolBody("the body must be a JSON object")
    return body


def text_member(body: dict, name: str, max_length: int, *, required: bool = False, where: str = "") -> str | None:
    value = body.get(name)
    label = f"{where}{name}"
    if value is None:
        if required:
            raise InvalidCarpoolParameter(label, "is required")
        return None
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise InvalidCarpoolParameter(label, f"must be a non-empty string of at most {max_length} characters")
    return value


def _closed(body: dict, allowed: set[str], where: str = "") -> None:
    unknown = set(body) - allowed
    if unknown:
        raise InvalidCarpoolParameter(f"{where}{sorted(unknown)[0]}", "is not a member of this object")


def _booking_request(body: dict) -> BookingRequest:
    _closed(body, {"operator", "driver_journey_id", "seats", "passenger", "medium_serial"})
    seats = body.get("seats", 1)
    if isinstance(seats, bool) or not isinstance(seats, int) or not 1 <= seats <= 8:
        raise InvalidCarpoolParameter("seats", "must be an integer from 1 to 8")
    passenger = body.get("passenger")
    if not isinstance(passenger, dict):
        raise InvalidCarpoolParameter("passenger", "must be an object with at least an alias")
    _closed(passenger, {"alias", "first_name", "last_name", "phone", "over_18"}, "passenger.")
    over_18 = passenger.get("over_18")
    if over_18 is not None and not isinstance(over_18, bool):
        raise InvalidCarpoolParameter("passenger.over_18", "must be a boolean")
    return BookingRequest(
        operator=text_member(body, "operator", 255, required=True),
        driver_journey_id=text_member(body, "driver_journey_id", 255, required=True),
        passenger=Traveller(alias=text_member(passenger, "alias", 100, required=True, where="passenger."),
                            first_name=text_member(passenger, "first_name", 100, where="passenger."),
                            last_name=text_member(passenger, "last_name", 100, where="passenger."),
                            phone=text_member(passenger, "phone", 32, where="passenger."), over_18=over_18),
        seats=seats,
        medium_serial=text_member(body, "medium_serial", 64),
    )


@routes.get(
    "/v1/carpool/offers",
    summary="Carpool offers between two points around a time, from every operator (partial when one fails)",
    params=[query("from", required=True, pattern=LATLON_PATTERN, description="'lat,lon' of the departure"),
            query("to", required=True, pattern=LATLON_PATTERN, description="'lat,lon' of the arrival"),
            query("departure", required=True, format="date-time",
                  description="ISO 8601 (Europe/Paris when without an offset)"),
            query("time_delta_s", "integer", minimum=0, maximum=7200, description="± seconds around it (900)"),
            query("radius_km", "number", minimum=0.1, maximum=30, description="search radius at each end (2)")],
    responses={200: reply("Offers sorted by pickup time, and the operators that failed", schema_ref("CarpoolOffers")),
               503: "Carpool not started yet"},
)
async def list_carpool_offers(request: web.Request) -> web.Response:
    """Each operator is bounded by its timeout (300 ms by default): a slow one is reported, not awaited."""
    service = carpool_service(request)
    params = request.query
    origin = query_latlon(params, "from", required=True)
    destination = query_latlon(params, "to", required=True)
    departure = query_datetime(params, "departure", required=True)
    delta = query_int(params, "time_delta_s", default=900, minimum=0, maximum=7200)
    radius = query_float(params, "radius_km", default=2.0, minimum=0.1, maximum=30.0)
    found = await service.search(JourneyQuery(origin[0], origin[1], destination[0], destination[1],
                                              int(departure.timestamp()), delta, radius, radius))
    return json_response({
        "offers": [to_json(offer) for offer in found.offers],
        "failures": [{"operator": e.operator, "failure": e.failure.value, "detail": e.detail} for e in found.errors],
    })


@routes.post(
    "/v1/carpool/bookings",
    summary="Book seats of a carpool offer (idempotent by Idempotency-Key), relayed to its operator",
    params=[header("Idempotency-Key", required=True, minLength=1, maxLength=64, pattern="^[\\x21-\\x7e]+$",
                   description="the client's key of this booking request: retried with it, the same booking answers")],
    body=BOOKING_REQUEST,
    responses={201: reply("The booking made", schema_ref("CarpoolBooking")),
               200: reply("The booking this Idempotency-Key made before", schema_ref("CarpoolBooking")),
               400: "A malformed request, or a missing Idempotency-Key",
               404: "No such offer (search again) or operator",
               409: "No seat left, the key used for another request, or the operator refused",
               503: "The operator did not answer in time (nothing was booked)"},
)
async def create_carpool_booking(request: web.Request) -> web.Response:
    """Seats are counted under a lock of the offer: a seat is never sold twice."""
    service = carpool_service(request)
    key = request.headers.get("Idempotency-Key", "")
    if not key or len(key) > 64 or not all(33 <= ord(c) <= 126 for c in key):
        raise InvalidCarpoolParameter("Idempotency-Key", "a header of 1 to 64 visible ASCII characters is required")
    booking, created = await service.book(_booking_request(await body_object(request)), key)
    return json_response(booking, status=201 if created else 200,
                         headers={"Location": f"/v1/carpool/bookings/{booking['id']}"})


@routes.get(
    "/v1/carpool/bookings/{booking_id}",
    summary="A carpool booking: its status and history",
    params=[_BOOKING_ID],
    responses={200: reply("The booking", schema_ref("CarpoolBooking")), 404: "No such booking"},
)
async def get_carpool_booking(request: web.Request) -> web.Response:
    return json_response(await carpool_service(request).describe(request.match_info["booking_id"]))


@routes.route(
    "PATCH",
    "/v1/carpool/bookings/{booking_id}",
    summary="The passenger cancels a booking, says the trip is done, or validates it (relayed to the operator)",
    params=[_BOOKING_ID],
    body=STATUS_REQUEST,
    responses={200: reply("The booking after the change", schema_ref("CarpoolBooking")),
               400: "Not a step of the status flow", 404: "No such booking", 409: "The booking has this status already",
               503: "The operator could not be told (nothing changed)"},
)
async def update_carpool_booking(request: web.Request) -> web.Response:
    """WAITING_CONFIRMATION -> CONFIRMED (the driver's side) -> COMPLETED_PENDING_VALIDATION -> VALIDATED, or CANCELLED."""
    service = carpool_service(request)
    body = await body_object(request)
    _closed(body, {"status", "message"})
    status = body.get("status")
    if status not in ("CANCELLED", "COMPLETED_PENDING_VALIDATION", "VALIDATED"):
        raise InvalidCarpoolParameter("status", "must be CANCELLED, COMPLETED_PENDING_VALIDATION or VALIDATED")
    message = text_member(body, "message", 500)
    return json_response(await service.set_status(request.match_info["booking_id"], BookingStatus(status),
                                                  source="passenger", message=message))


@routes.post(
    "/v1/carpool/driver_journeys",
    summary="Publish a driver's journey through OùRA (served on OùRA's standard-covoiturage routes)",
    roles=_PUBLISHERS,
    body=PUBLISH_JOURNEY_REQUEST,
    responses={201: reply("The journey as published (its operator is OùRA's, its id made when absent)",
                          schema_ref("StdcovDriverJourney")),
               400: "Not a standard-covoiturage DriverJourney"},
)
async def publish_driver_journey(request: web.Request) -> web.Response:
    """availableSeats (default 1) are the seats OùRA sells; the driver's phone is kept only truncated and hashed."""
    service = carpool_service(request)
    body = await body_object(request)
    _closed(body, {"journey", "driver_phone", "driver_last_name"})
    journey = _parse_member(DriverJourney, body, "journey")
    try:
        published = await service.publish_journey(journey, driver_phone=text_member(body, "driver_phone", 32),
                                                  driver_last_name=text_member(body, "driver_last_name", 100))
    except ValueError as error:
        raise InvalidCarpoolParameter("driver_phone", str(error)) from None
    return json_response(to_json(published), status=201)


@routes.post(
    "/v1/carpool/driver_regular_trips",
    summary="Publish a driver's regular trip through OùRA",
    roles=_PUBLISHERS,
    body=PUBLISH_REGULAR_TRIP_REQUEST,
    responses={201: reply("The trip as published", schema_ref("StdcovRegularTrip")),
               400: "Not a standard-covoiturage regular trip"},
)
async def publish_driver_regular_trip(request: web.Request) -> web.Response:
    service = carpool_service(request)
    body = await body_object(request)
    _closed(body, {"trip_id", "trip"})
    trip_id = text_member(body, "trip_id", 255, required=True)
    trip = _parse_member(RegularTrip, body, "trip")
    return json_response(to_json(await service.publish_regular_trip(trip_id, trip)), status=201)


MAX_PROOF_WINDOW = dt.timedelta(days=31)


@routes.get(
    "/v1/carpool/proofs",
    summary="Validated carpool trips of journeys published through OùRA, as proof-register v3.3 journeys",
    roles=("admin",),
    params=[query("since", required=True, format="date-time",
                  description="validated from (ISO 8601, Europe/Paris when without an offset)"),
            query("until", required=True, format="date-time", description="validated before; at most 31 days on"),
            query("travel_pass", "boolean", description="give the passenger's OùRA card as travel_pass (false): "
                                                        "the register's v3.3 document does not list it yet")],
    responses={200: reply("The window's trips, each with its first export", schema_ref("CarpoolProofs")),
               400: "since is not before until, or the window is over 31 days",
               503: "Carpool not started yet"},
)
async def list_carpool_proofs(request: web.Request) -> web.Response:
    """A trip is in the window of its validation, marked at its first export; the same window
    again answers the same journeys (`proof_export`)."""
    service = carpool_service(request)
    params = request.query
    since = _utc(query_datetime(params, "since", required=True), "since")
    until = _utc(query_datetime(params, "until", required=True), "until")
    if not since < until:
        raise InvalidCarpoolParameter("until", "must be after since")
    if until - since > MAX_PROOF_WINDOW:
        raise InvalidCarpoolParameter("until", "must be at most 31 days after since")
    window = await export_validated(service.pool, service.clock, since, until,
                                    travel_pass_name="oura" if query_bool(params, "travel_pass") else None)
    return json_response({
        "since": since.isoformat(), "until": until.isoformat(),
        "journeys": [{"booking_id": j.booking_id, "validated_at": j.validated_at.isoformat(),
                      "exported_at": j.exported_at.isoformat(), "first_export": j.first_export, "journey": j.journey}
                     for j in window.journeys],
        "skipped": [{"booking_id": booking_id, "reason": reason} for booking_id, reason in window.skipped],
    })


def _utc(moment: dt.datetime, name: str) -> dt.datetime:
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise InvalidCarpoolParameter(name, "must be between years 1 and 9999 in UTC") from None


def _parse_member(cls: type, body: dict, name: str) -> Any:
    if name not in body:
        raise InvalidCarpoolParameter(name, "is required")
    try:
        return parse(cls, body[name], name, strict=True)
    except CarpoolPayloadError as error:
        raise InvalidCarpoolParameter(error.path, error.reason) from None

