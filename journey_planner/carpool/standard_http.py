"""OùRA's standard-covoiturage routes (``/v1/carpool/standard``): OùRA as the operator of the
journeys drivers publish through it, for other platforms (MaaS apps, other operators).

The routes, parameters and bodies are the standard's (camelCase, POSIX seconds; its document is
../shared/specs/standard-covoiturage/standard-covoiturage_openapi.yaml, and the tests check every
answer against it). Searches and ``/status`` are public, as the standard suggests; bookings and
booking events need an API key (the standard only says 401). Errors are problem+json carrying
the standard's ``error`` member (`errors.StandardProblem`). PATCH answers the booking (the
standard declares no body for its 200; one is allowed).

Parameters are read as the standard spells them: ``departureRadius`` and ``arrivalRadius`` in
kilometres (default 1), ``timeDelta`` in seconds (default 900), ``departureWeekdays`` a
comma-separated list of MON..SUN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aiohttp import web

from oura.http import RouteTable, json_response, path_param, query, reply, schema_ref

from .client import JourneyQuery, RegularTripQuery
from .errors import InvalidCarpoolBody, InvalidCarpoolParameter
from .http import body_object, carpool_service
from .model import (
    TIME_OF_DAY_PATTERN,
    Booking,
    BookingStatus,
    CarpoolBookingEvent,
    CarpoolPayloadError,
    Weekday,
    parse,
    to_json,
)
from .schemas import CARPOOL_COMPONENTS, STATUSES

__all__ = ["routes", "PREFIX"]

PREFIX = "/v1/carpool/standard"
MAX_POSIX_S = 32_503_680_000  # 3000-01-01T00:00:00Z: dates (and a search window around them) stay within datetime
routes = RouteTable(tag="carpool-standard", components=CARPOOL_COMPONENTS)

_PARTNERS = ("authority", "admin")
_TIME_OF_DAY = re.compile(f"^{TIME_OF_DAY_PATTERN}$")
_BOOKING_ID = path_param("bookingId", description="the booking's UUID (made by whoever initiated it)",
                         format="uuid", maxLength=36)


def _number(params: Mapping[str, str], name: str, *, default: float | None = None, minimum: float, maximum: float,
            integer: bool = False) -> float | None:
    text = params.get(name)
    if text is None or text == "":
        if default is None:
            raise InvalidCarpoolParameter(name, "is required")
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise InvalidCarpoolParameter(name, f"must be {'an integer' if integer else 'a number'}") from None
    if not minimum <= value <= maximum:
        raise InvalidCarpoolParameter(name, f"must be from {minimum:g} to {maximum:g}")
    return value


def _ends(params: Mapping[str, str]) -> tuple[float, float, float, float, int, float, float, int | None]:
    count = params.get("count")
    return (
        _number(params, "departureLat", minimum=-90, maximum=90), _number(params, "departureLng", minimum=-180, maximum=180),
        _number(params, "arrivalLat", minimum=-90, maximum=90), _number(params, "arrivalLng", minimum=-180, maximum=180),
        int(_number(params, "timeDelta", default=900, minimum=0, maximum=86_400, integer=True)),
        _number(params, "departureRadius", default=1.0, minimum=0.0, maximum=100.0),
        _number(params, "arrivalRadius", default=1.0, minimum=0.0, maximum=100.0),
        None if count in (None, "") else int(_number(params, "count", minimum=0, maximum=1000, integer=True)),
    )


_SEARCH_PARAMS = [
    query("departureLat", "number", required=True, minimum=-90, maximum=90, description="latitude of the departure"),
    query("departureLng", "number", required=True, minimum=-180, maximum=180, description="longitude of the departure"),
    query("arrivalLat", "number", required=True, minimum=-90, maximum=90, description="latitude of the arrival"),
    query("arrivalLng", "number", required=True, minimum=-180, maximum=180, description="longitude of the arrival"),
    query("timeDelta", "integer", minimum=0, maximum=86_400, description="± seconds (900)"),
    query("departureRadius", "number", minimum=0, maximum=100, description="km around the departure (1)"),
    query("arrivalRadius", "number", minimum=0, maximum=100, description="km around the arrival (1)"),
    query("count", "integer", minimum=0, maximum=1000, description="at most this many (all when absent)"),
]


@routes.get(
    PREFIX + "/driver_journeys",
    summary="standard-covoiturage: punctual driver journeys published through OùRA",
    params=[*_SEARCH_PARAMS[:4],
            query("departureDate", "integer", required=True, minimum=0, maximum=MAX_POSIX_S, description="POSIX seconds"),
            *_SEARCH_PARAMS[4:]],
    responses={200: reply("DriverJourneys (with their free seats)", {"type": "array",
                                                                      "items": schema_ref("StdcovDriverJourney")}),
               503: "Carpool not started yet"},
)
async def stdcov_get_driver_journeys(request: web.Request) -> web.Response:
    service = carpool_service(request)
    params = request.query
    lat, lng, to_lat, to_lng, delta, radius, to_radius, count = _ends(params)
    date = int(_number(params, "departureDate", minimum=0, maximum=MAX_POSIX_S, integer=True))
    journeys = await service.list_hosted_journeys(JourneyQuery(lat, lng, to_lat, to_lng, date, delta, radius,
                                                               to_radius, count))
    return json_response([to_json(journey) for journey in journeys])


@routes.get(
    PREFIX + "/driver_regular_trips",
    summary="standard-covoiturage: regular driver trips published through OùRA",
    params=[*_SEARCH_PARAMS[:4],
            query("departureTimeOfDay", required=True, pattern=_TIME_OF_DAY.pattern, description="HH:MM:SS"),
            query("departureWeekdays", pattern="^(MON|TUE|WED|THU|FRI|SAT|SUN)(,(MON|TUE|WED|THU|FRI|SAT|SUN))*$",
                  description="comma-separated days (every day)"),
            query("minDepartureDate", "integer", minimum=0, maximum=MAX_POSIX_S, description="POSIX seconds"),
            query("maxDepartureDate", "integer", minimum=0, maximum=MAX_POSIX_S, description="POSIX seconds"),
            *_SEARCH_PARAMS[4:]],
    responses={200: reply("DriverTrips with their schedules", {"type": "array",
                                                                "items": schema_ref("StdcovRegularTrip")}),
               503: "Carpool not started yet"},
)
async def stdcov_get_driver_regular_trips(request: web.Request) -> web.Response:
    service = carpool_service(request)
    params = request.query
    lat, lng, to_lat, to_lng, delta, radius, to_radius, count = _ends(params)
    time_of_day = params.get("departureTimeOfDay", "")
    if not _TIME_OF_DAY.match(time_of_day):
        raise InvalidCarpoolParameter("departureTimeOfDay", "must be HH:MM:SS")
    days_text = params.get("departureWeekdays") or ",".join(day.value for day in Weekday)
    try:
        days = tuple(Weekday(day) for day in days_text.split(","))
    except ValueError:
        raise InvalidCarpoolParameter("departureWeekdays", "must be comma-separated MON..SUN") from None
    for name in ("minDepartureDate", "maxDepartureDate"):
        if params.get(name):
            _number(params, name, minimum=0, maximum=MAX_POSIX_S, integer=True)
    trips = await service.list_hosted_regular_trips(RegularTripQuery(lat, lng, to_lat, to_lng, time_of_day, days,
                                                                     delta, radius, to_radius, count=count))
    return json_response([to_json(trip) for trip in trips])


@routes.post(
    PREFIX + "/bookings",
    summary="standard-covoiturage: book a journey published through OùRA (status WAITING_CONFIRMATION)",
    roles=_PARTNERS,
    body=schema_ref("StdcovBooking"),
    responses={201: reply("The Booking (CONFIRMED: OùRA's journeys are booked instantly)", schema_ref("StdcovBooking")),
               400: "Not a new Booking, an id taken by another booking, no seat left",
               404: "No such driver journey"},
)
async def stdcov_post_bookings(request: web.Request) -> web.Response:
    """Posting the same Booking again answers it again; one seat per booking (the standard has no seat count)."""
    service = carpool_service(request)
    try:
        booking = parse(Booking, await body_object(request), strict=True)
    except CarpoolPayloadError as error:
        raise InvalidCarpoolBody(str(error)) from None
    return json_response(to_json(await service.receive_booking(booking)), status=201)


@routes.get(
    PREFIX + "/bookings/{bookingId}",
    summary="standard-covoiturage: a Booking of a journey published through OùRA, or one OùRA made",
    roles=_PARTNERS,
    params=[_BOOKING_ID],
    responses={200: reply("The Booking", schema_ref("StdcovBooking")), 404: "No such booking"},
)
async def stdcov_get_booking(request: web.Request) -> web.Response:
    return json_response(to_json(await carpool_service(request).standard_booking(request.match_info["bookingId"])))


@routes.route(
    "PATCH",
    PREFIX + "/bookings/{bookingId}",
    summary="standard-covoiturage: the other side changes a Booking's status",
    roles=_PARTNERS,
    params=[_BOOKING_ID, query("status", required=True, enum=STATUSES, description="the new status"),
            query("message", maxLength=500, description="why")],
    responses={200: reply("The Booking after the change", schema_ref("StdcovBooking")),
               400: "Not a step of the status flow", 404: "No such booking", 409: "The booking has this status already"},
)
async def stdcov_patch_booking(request: web.Request) -> web.Response:
    service = carpool_service(request)
    booking_id = request.match_info["bookingId"]
    status = request.query.get("status", "")
    if status not in STATUSES:
        raise InvalidCarpoolParameter("status", f"must be one of {', '.join(STATUSES)}")
    message = request.query.get("message")
    if message is not None and len(message) > 500:
        raise InvalidCarpoolParameter("message", "must be at most 500 characters")
    await service.standard_set_status(booking_id, BookingStatus(status), message)
    return json_response(to_json(await service.standard_booking(booking_id)))


@routes.post(
    PREFIX + "/booking_events",
    summary="standard-covoiturage: an operator tells OùRA the status of a booking (webhook)",
    roles=_PARTNERS,
    body=schema_ref("StdcovBookingEvent"),
    responses={200: reply("Received", {"type": "object", "required": ["known"], "additionalProperties": False,
                                       "properties": {"known": {"type": "boolean",
                                                                "description": "a booking OùRA made"}}}),
               400: "Not a CarpoolBookingEvent"},
)
async def stdcov_post_booking_events(request: web.Request) -> web.Response:
    service = carpool_service(request)
    try:
        event = parse(CarpoolBookingEvent, await body_object(request), strict=True)
    except CarpoolPayloadError as error:
        raise InvalidCarpoolBody(str(error)) from None
    return json_response({"known": await service.receive_booking_event(event)})


@routes.get(
    PREFIX + "/status",
    summary="standard-covoiturage: the webservice is available",
    responses={200: reply("Available", {"type": "object", "required": ["status"], "additionalProperties": False,
                                        "properties": {"status": {"const": "ok"}}}),
               503: "Carpool not started yet"},
)
async def stdcov_get_status(request: web.Request) -> web.Response:
    carpool_service(request)
    return json_response({"status": "ok"})

