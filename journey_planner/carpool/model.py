"""The standard-covoiturage objects as frozen dataclasses, and their JSON mapping (pure).

The standard (``../shared/specs/standard-covoiturage``, OpenAPI 0.0.1 "v1.0.0-alpha") speaks
camelCase JSON; these classes speak snake_case Python. The mapping is mechanical and one place
does it: a field ``passenger_pickup_lat`` is the member ``passengerPickupLat`` (`camel`), a field
without a default is a member the standard requires, nested objects and lists follow the type
annotations. `parse(cls, obj)` reads a JSON object into ``cls`` (members the standard does not
know are ignored, as its schemas allow); a missing required member or a value of the wrong type
is a `CarpoolPayloadError` naming the member's path. One leniency, for what operators really send
(the playground's default data does): a driver journey's or regular trip's ``driver`` without its
``operator`` is the trip's operator (the standard says an operator always sends the same value).
`to_json(value)` writes it back, leaving out members that are None.

Two readings. ``parse(..., strict=True)`` is for what OùRA's own routes receive: the body is held
to the document as OùRA serves it (`schemas.CARPOOL_COMPONENTS`): a null member is refused (the
standard declares no member nullable; an absent optional member is left out, not null), and the
bounds the standard gives are checked (`Bounds`: ids of 1 to 255 characters, UUIDs, the pickup
time of day), so what OùRA stores and answers stays within them. The default reading, for what
operators answer and for OùRA's own stored payloads, takes a null optional member as absent and
checks no bounds: one odd member would otherwise lose an operator's whole answer.

Times are what the standard sends: POSIX seconds (UTC) as integers; distances in metres,
durations in seconds, search radii in kilometres (the standard's units).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar, Union

__all__ = [
    "BookingStatus",
    "BOOKING_TRANSITIONS",
    "PriceType",
    "JourneyType",
    "Weekday",
    "Gender",
    "Price",
    "User",
    "Car",
    "Preferences",
    "DriverJourney",
    "JourneySchedule",
    "Schedule",
    "RegularTrip",
    "Booking",
    "CarpoolBooking",
    "CarpoolBookingEvent",
    "CarpoolPayloadError",
    "Bounds",
    "camel",
    "parse",
    "parse_list",
    "to_json",
]


class BookingStatus(enum.StrEnum):
    """The five statuses of a booking (`bookingStatus` in the standard)."""

    WAITING_CONFIRMATION = "WAITING_CONFIRMATION"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    COMPLETED_PENDING_VALIDATION = "COMPLETED_PENDING_VALIDATION"
    VALIDATED = "VALIDATED"


# The status flow: WAITING_CONFIRMATION -> CONFIRMED -> COMPLETED_PENDING_VALIDATION -> VALIDATED,
# and CANCELLED from any status before VALIDATED. VALIDATED and CANCELLED are final.
BOOKING_TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.WAITING_CONFIRMATION: frozenset({BookingStatus.CONFIRMED, BookingStatus.CANCELLED}),
    BookingStatus.CONFIRMED: frozenset({BookingStatus.COMPLETED_PENDING_VALIDATION, BookingStatus.CANCELLED}),
    BookingStatus.COMPLETED_PENDING_VALIDATION: frozenset({BookingStatus.VALIDATED, BookingStatus.CANCELLED}),
    BookingStatus.VALIDATED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
}


class PriceType(enum.StrEnum):
    FREE = "FREE"
    PAYING = "PAYING"
    UNKNOWN = "UNKNOWN"  # should be PAYING, the amount is not known yet


class JourneyType(enum.StrEnum):
    PLANNED = "PLANNED"
    DYNAMIC = "DYNAMIC"  # happening in real time
    LINE = "LINE"


class Weekday(enum.StrEnum):
    MON = "MON"
    TUE = "TUE"
    WED = "WED"
    THU = "THU"
    FRI = "FRI"
    SAT = "SAT"
    SUN = "SUN"


class Gender(enum.StrEnum):
    F = "F"
    M = "M"
    O = "O"  # noqa: E741 - the standard's "other"


class CarpoolPayloadError(ValueError):
    """A standard-covoiturage payload that does not have the shape the standard gives it."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path or 'payload'}: {reason}")


@dataclass(frozen=True, slots=True)
class Bounds:
    """What the standard bounds a text member to, checked by ``parse(..., strict=True)``."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None  # matched in full
    what: str = ""  # how a refusal names the pattern ("a UUID")

    def problem(self, value: str) -> str | None:
        if self.min_length is not None and len(value) < self.min_length:
            return f"must have at least {self.min_length} character(s)"
        if self.max_length is not None and len(value) > self.max_length:
            return f"must have at most {self.max_length} characters"
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            return f"must be {self.what or 'of the form ' + self.pattern}"
        return None


# The standard's bounds, which the served schemas (`schemas.py`) repeat: change them together.
ID_BOUNDS = Bounds(min_length=1, max_length=255)
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
UUID_BOUNDS = Bounds(pattern=UUID_PATTERN, what="a UUID (8-4-4-4-12 hexadecimal digits)")
TIME_OF_DAY_PATTERN = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
TIME_OF_DAY_BOUNDS = Bounds(pattern=TIME_OF_DAY_PATTERN, what="a time of day HH:MM:SS")


def _bounded(bounds: Bounds, **default: Any) -> Any:
    """A dataclass field whose text the standard bounds (``default=None`` for an optional one)."""
    return field(metadata={"bounds": bounds}, **default)


@dataclass(frozen=True, slots=True)
class Price:
    type: PriceType | None = None
    amount: float | None = None  # the passenger's cost (what the operator expects, when booked by API)
    currency: str | None = None  # ISO 4217


@dataclass(frozen=True, slots=True)
class User:
    id: str  # unique for its operator
    operator: str  # the operator's domain name
    alias: str
    first_name: str | None = None
    last_name: str | None = None
    grade: int | None = None  # 1..5
    picture: str | None = None
    gender: Gender | None = None
    verified_identity: bool | None = None


@dataclass(frozen=True, slots=True)
class Car:
    model: str | None = None
    brand: str | None = None


@dataclass(frozen=True, slots=True)
class Preferences:
    smoking: bool | None = None
    animals: bool | None = None
    music: bool | None = None
    is_talker: bool | None = None
    luggage_size: int | None = None  # 1 (very small) .. 5 (very big)


@dataclass(frozen=True, slots=True)
class JourneySchedule:
    passenger_pickup_date: int
    type: JourneyType
    id: str | None = _bounded(ID_BOUNDS, default=None)
    driver_departure_date: int | None = None
    web_url: str | None = None


@dataclass(frozen=True, slots=True)
class DriverJourney:
    """A punctual driver journey offered to a passenger: where and when the car picks up and drops."""

    operator: str
    driver: User
    passenger_pickup_lat: float
    passenger_pickup_lng: float
    passenger_drop_lat: float
    passenger_drop_lng: float
    duration: int  # seconds of carpooling (pickup to drop)
    passenger_pickup_date: int
    type: JourneyType
    id: str | None = _bounded(ID_BOUNDS, default=None)
    driver_departure_date: int | None = None
    web_url: str | None = None  # the deep link, for booking on the operator's side
    available_seats: int | None = None
    price: Price | None = None
    distance: int | None = None  # metres of carpooling
    passenger_pickup_address: str | None = None
    passenger_drop_address: str | None = None
    driver_departure_lat: float | None = None
    driver_departure_lng: float | None = None
    driver_arrival_lat: float | None = None
    driver_arrival_lng: float | None = None
    driver_departure_address: str | None = None
    driver_arrival_address: str | None = None
    journey_polyline: str | None = None
    preferences: Preferences | None = None
    car: Car | None = None
    departure_to_pickup_walking_distance: int | None = None
    departure_to_pickup_walking_duration: int | None = None
    dropoff_to_arrival_walking_distance: int | None = None
    dropoff_to_arrival_walking_duration: int | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    passenger_pickup_day: Weekday | None = None
    passenger_pickup_time_of_day: str | None = _bounded(TIME_OF_DAY_BOUNDS, default=None)  # "07:30:00"
    journey_schedules: tuple[JourneySchedule, ...] = ()


@dataclass(frozen=True, slots=True)
class RegularTrip:
    """A driver's regular trip (`DriverTrip` with `schedules`): the same trip on several weekdays."""

    operator: str
    driver: User
    passenger_pickup_lat: float
    passenger_pickup_lng: float
    passenger_drop_lat: float
    passenger_drop_lng: float
    duration: int
    schedules: tuple[Schedule, ...] = ()
    distance: int | None = None
    web_url: str | None = None
    passenger_pickup_address: str | None = None
    passenger_drop_address: str | None = None
    driver_departure_lat: float | None = None
    driver_departure_lng: float | None = None
    driver_arrival_lat: float | None = None
    driver_arrival_lng: float | None = None
    driver_departure_address: str | None = None
    driver_arrival_address: str | None = None
    journey_polyline: str | None = None
    preferences: Preferences | None = None
    car: Car | None = None
    departure_to_pickup_walking_distance: int | None = None
    departure_to_pickup_walking_duration: int | None = None
    dropoff_to_arrival_walking_distance: int | None = None
    dropoff_to_arrival_walking_duration: int | None = None


@dataclass(frozen=True, slots=True)
class Booking:
    """A booking by API (`Booking`): its id is a UUID made by whoever initiates it."""

    id: str = _bounded(UUID_BOUNDS)
    driver: User
    passenger: User
    passenger_pickup_date: int
    passenger_pickup_lat: float
    passenger_pickup_lng: float
    passenger_drop_lat: float
    passenger_drop_lng: float
    status: BookingStatus
    price: Price
    passenger_pickup_address: str | None = None
    passenger_drop_address: str | None = None
    duration: int | None = None
    distance: int | None = None
    web_url: str | None = None
    car: Car | None = None
    driver_journey_id: str | None = _bounded(ID_BOUNDS, default=None)
    passenger_journey_id: str | None = _bounded(ID_BOUNDS, default=None)


@dataclass(frozen=True, slots=True)
class CarpoolBooking:
    """The booking carried by a `CarpoolBookingEvent` (the driver's or the passenger's view)."""

    id: str
    passenger_pickup_date: int
    passenger_pickup_lat: float
    passenger_pickup_lng: float
    passenger_drop_lat: float
    passenger_drop_lng: float
    status: BookingStatus
    web_url: str
    passenger_pickup_address: str | None = None
    passenger_drop_address: str | None = None
    distance: int | None = None
    duration: int | None = None
    driver: User | None = None  # a DriverCarpoolBooking has driver and price
    price: Price | None = None
    car: Car | None = None
    passenger: User | None = None  # a PassengerCarpoolBooking has passenger


@dataclass(frozen=True, slots=True)
class CarpoolBookingEvent:
    """`POST /booking_events`: an operator tells the MaaS platform about a booking."""

    id: str = _bounded(UUID_BOUNDS)
    id_token: str  # the OpenID Connect ID token of the user
    data: CarpoolBooking


T = TypeVar("T")


def camel(name: str) -> str:
    """``passenger_pickup_lat`` -> ``passengerPickupLat``."""
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


@cache
def _fields(cls: type) -> tuple[tuple[str, str, Any, bool, Bounds | None], ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        (f.name, camel(f.name), hints[f.name],
         f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, f.metadata.get("bounds"))
        for f in dataclasses.fields(cls)
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalar(kind: type, value: Any, path: str) -> Any:
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(value)
        except ValueError:
            raise CarpoolPayloadError(path, f"{value!r} is not one of {[m.value for m in kind]}") from None
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        # the standard types dates as "number, format long": an integral float is accepted
        if _is_number(value) and float(value).is_integer():
            return int(value)
    elif kind is float:
        if _is_number(value):
            return float(value)
    elif kind is str:
        if isinstance(value, str):
            return value
    else:  # pragma: no cover - a field type this module does not declare
        raise TypeError(f"unsupported field type {kind!r}")
    raise CarpoolPayloadError(path, f"expected {kind.__name__}, got {type(value).__name__}")


def _value(kind: Any, value: Any, path: str, strict: bool) -> Any:
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        if value is None and not strict:
            return None
        (kind,) = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _value(kind, value, path, strict)
    if value is None:
        raise CarpoolPayloadError(path, "must not be null (leave the member out when it has no value)")
    if origin is tuple:
        if not isinstance(value, list):
            raise CarpoolPayloadError(path, f"expected an array, got {type(value).__name__}")
        item = typing.get_args(kind)[0]
        return tuple(_value(item, element, f"{path}[{i}]", strict) for i, element in enumerate(value))
    if dataclasses.is_dataclass(kind):
        return parse(kind, value, path, strict=strict)
    return _scalar(kind, value, path)


def parse(cls: type[T], obj: Any, path: str = "", *, strict: bool = False) -> T:
    """The ``cls`` a JSON object describes (camelCase members), or `CarpoolPayloadError`.

    ``strict``: what OùRA's routes receive (no null member, the standard's `Bounds` checked);
    without it, what operators answer (a null optional member is absent; see the module's doc)."""
    if not isinstance(obj, dict):
        raise CarpoolPayloadError(path, f"expected an object, got {type(obj).__name__}")
    if cls in _DRIVER_INHERITS_OPERATOR:
        obj = _driver_with_operator(obj, strict)
    values = {}
    for name, member, kind, required, bounds in _fields(cls):
        where = f"{path}.{member}" if path else member
        if member not in obj or (obj[member] is None and not strict):
            if required:
                raise CarpoolPayloadError(where, "is required")
            continue
        values[name] = _value(kind, obj[member], where, strict)
        if strict and bounds is not None and isinstance(values[name], str):
            problem = bounds.problem(values[name])
            if problem is not None:
                raise CarpoolPayloadError(where, problem)
    return cls(**values)


def _driver_with_operator(obj: dict, strict: bool) -> dict:
    """The trip's operator as its driver's when the driver has none: what operators answer only
    (strict reading, OùRA's own routes: the standard requires it, so it is refused when absent)."""
    driver = obj.get("driver")
    if strict or not isinstance(driver, dict) or not isinstance(obj.get("operator"), str):
        return obj
    if driver.get("operator") is None:
        return {**obj, "driver": {**driver, "operator": obj["operator"]}}
    return obj


_DRIVER_INHERITS_OPERATOR = frozenset({DriverJourney, RegularTrip})


def parse_list(cls: type[T], array: Any) -> list[T]:
    """Every element of a JSON array as a ``cls``."""
    if not isinstance(array, list):
        raise CarpoolPayloadError("", f"expected an array, got {type(array).__name__}")
    return [parse(cls, element, f"[{i}]") for i, element in enumerate(array)]  # what an operator answers


def to_json(value: Any) -> Any:
    """A dataclass of this module (or a list of them) as the standard's JSON; None members left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for name, member, _kind, _required, _bounds in _fields(type(value)):
            item = getattr(value, name)
            if item is not None:
                out[member] = to_json(item)
        return out
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value
