"""Decoded GTFS-realtime, as plain frozen values: the interface between `feeds` and the planner.

`feeds.realtime.decode` turns protobuf payloads into these; `feeds.realtime.match` resolves their
trip references against a static feed; `journey_planner` applies the resolved updates to its
timetable. Nothing here knows about protobuf, HTTP or PostgreSQL.

Ids are the publisher's original ids (not namespaced) until matching, which returns namespaced
``<feed_id>:<id>`` values like every other downstream id. Times are POSIX seconds (UTC).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class FeedKind(enum.StrEnum):
    TRIP_UPDATES = "trip_updates"
    ALERTS = "alerts"
    VEHICLE_POSITIONS = "vehicle_positions"


class TripScheduleRelationship(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    ADDED = "ADDED"
    UNSCHEDULED = "UNSCHEDULED"
    CANCELED = "CANCELED"
    REPLACEMENT = "REPLACEMENT"
    DUPLICATED = "DUPLICATED"
    DELETED = "DELETED"
    NEW = "NEW"


class StopScheduleRelationship(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    SKIPPED = "SKIPPED"
    NO_DATA = "NO_DATA"
    UNSCHEDULED = "UNSCHEDULED"


class RtErrorType(enum.StrEnum):
    """Why an entity of a realtime feed could not be used (counted per authority and type)."""

    MALFORMED_PAYLOAD = "malformed_payload"
    FETCH_FAILED = "fetch_failed"  # HTTP error status, timeout, connection refused
    STALE_HEADER = "stale_header"
    UNKNOWN_TRIP = "unknown_trip"
    UNKNOWN_STOP = "unknown_stop"
    UNKNOWN_ROUTE = "unknown_route"
    NO_SERVICE_ON_DATE = "no_service_on_date"
    AMBIGUOUS_TRIP = "ambiguous_trip"
    MISSING_TRIP_DESCRIPTOR = "missing_trip_descriptor"
    INVALID_STOP_SEQUENCE = "invalid_stop_sequence"
    NEGATIVE_HOP_TIME = "negative_hop_time"
    UNSUPPORTED_RELATIONSHIP = "unsupported_relationship"  # a relationship this consumer cannot apply
    # a NEW/ADDED (or DUPLICATED's new) trip_id that is a static trip of the feed: refused, it
    # would replace that trip's genuine update
    TRIP_ID_CONFLICT = "trip_id_conflict"
    # a second entity for a run already updated by an earlier entity of the same payload (the
    # first one is kept; one entity never overwrites another's)
    DUPLICATE_ENTITY = "duplicate_entity"


@dataclass(frozen=True, slots=True)
class TripDescriptor:
    trip_id: str | None = None
    route_id: str | None = None
    direction_id: int | None = None
    start_time: str | None = None  # "HH:MM:SS", may exceed 24:00
    start_date: str | None = None  # "YYYYMMDD"
    schedule_relationship: TripScheduleRelationship = TripScheduleRelationship.SCHEDULED


@dataclass(frozen=True, slots=True)
class StopTimeEvent:
    delay_s: int | None = None
    time: int | None = None  # POSIX seconds
    uncertainty_s: int | None = None


@dataclass(frozen=True, slots=True)
class StopTimeUpdate:
    stop_sequence: int | None = None
    stop_id: str | None = None
    arrival: StopTimeEvent | None = None
    departure: StopTimeEvent | None = None
    schedule_relationship: StopScheduleRelationship = StopScheduleRelationship.SCHEDULED
    # StopTimeProperties (experimental in the spec): platform change, pickup/drop-off changes.
    # pickup_type / drop_off_type use the GTFS numbers (0 regular, 1 none, 2 phone, 3 driver).
    assigned_stop_id: str | None = None
    pickup_type: int | None = None
    drop_off_type: int | None = None


@dataclass(frozen=True, slots=True)
class TripProperties:
    """TripUpdate.trip_properties: the new run of a DUPLICATED trip (or a NEW trip's details)."""

    trip_id: str | None = None
    start_date: str | None = None  # "YYYYMMDD"
    start_time: str | None = None  # "HH:MM:SS"
    shape_id: str | None = None
    trip_headsign: str | None = None


@dataclass(frozen=True, slots=True)
class TripUpdate:
    entity_id: str
    trip: TripDescriptor
    stop_time_updates: tuple[StopTimeUpdate, ...] = ()
    vehicle_id: str | None = None
    timestamp: int | None = None
    delay_s: int | None = None  # trip-level delay (experimental field in the spec)
    trip_properties: TripProperties | None = None


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True, slots=True)
class EntitySelector:
    agency_id: str | None = None
    route_id: str | None = None
    route_type: int | None = None
    stop_id: str | None = None
    trip: TripDescriptor | None = None
    direction_id: int | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    entity_id: str
    active_periods: tuple[TimeRange, ...] = ()
    informed_entities: tuple[EntitySelector, ...] = ()
    cause: str = "UNKNOWN_CAUSE"
    effect: str = "UNKNOWN_EFFECT"
    severity_level: str = "UNKNOWN_SEVERITY"
    header_text: dict[str, str] = field(default_factory=dict)  # language ("" if none) -> text
    description_text: dict[str, str] = field(default_factory=dict)
    url: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VehiclePosition:
    entity_id: str
    trip: TripDescriptor | None
    vehicle_id: str | None
    latitude: float | None
    longitude: float | None
    bearing: float | None = None
    speed_mps: float | None = None
    current_stop_sequence: int | None = None
    stop_id: str | None = None
    current_status: str | None = None
    occupancy_status: str | None = None
    timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class RtError:
    """One entity (or the whole message) that could not be used, and why."""

    type: RtErrorType
    entity_id: str | None = None
    trip_id: str | None = None
    stop_id: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """One decoded payload. ``errors`` holds entity-level problems found while decoding."""

    kind: FeedKind | None  # None when the message mixes kinds or is empty
    header_timestamp: int | None
    gtfs_realtime_version: str
    incrementality: str
    trip_updates: tuple[TripUpdate, ...] = ()
    alerts: tuple[Alert, ...] = ()
    vehicle_positions: tuple[VehiclePosition, ...] = ()
    errors: tuple[RtError, ...] = ()


def _ns(feed_id: str, value: str | None) -> str | None:
    return None if value is None else f"{feed_id}:{value}"


def namespace_alert(feed_id: str, alert: Alert) -> Alert:
    """The alert with its informed entities' ids namespaced (entity_id stays the publisher's)."""
    selectors = tuple(
        EntitySelector(
            agency_id=_ns(feed_id, s.agency_id),
            route_id=_ns(feed_id, s.route_id or (s.trip.route_id if s.trip is not None else None)),
            route_type=s.route_type,
            stop_id=_ns(feed_id, s.stop_id),
            trip=None
            if s.trip is None or s.trip.trip_id is None
            else TripDescriptor(trip_id=_ns(feed_id, s.trip.trip_id)),
            direction_id=s.direction_id if s.direction_id is not None else (s.trip.direction_id if s.trip else None),
        )
        for s in alert.informed_entities
    )
    return Alert(
        entity_id=alert.entity_id,
        active_periods=alert.active_periods,
        informed_entities=selectors,
        cause=alert.cause,
        effect=alert.effect,
        severity_level=alert.severity_level,
        header_text=dict(alert.header_text),
        description_text=dict(alert.description_text),
        url=dict(alert.url),
    )



# --- resolved against a static feed (output of feeds.realtime.match) -------------------------


@dataclass(frozen=True, slots=True)
class ResolvedStopTimeUpdate:
    """An update for one stop of a matched trip, by its index in the trip's stop sequence."""

    stop_index: int  # 0-based position in the trip's stop_times, ordered by stop_sequence
    stop_id: str  # namespaced
    arrival_time: int | None  # POSIX seconds, absolute (delays already resolved)
    departure_time: int | None
    arrival_delay_s: int | None
    departure_delay_s: int | None
    skipped: bool = False
    assigned_stop_id: str | None = None  # namespaced: the run calls here instead (platform change)
    pickup_type: int | None = None  # GTFS number when the update changes it, else None
    drop_off_type: int | None = None


@dataclass(frozen=True, slots=True)
class ResolvedTripUpdate:
    """A trip update whose trip and service day are known in the static feed (or an added trip)."""

    feed_id: str
    trip_id: str  # namespaced; for an ADDED trip, the namespaced id from the feed
    service_date: str  # "YYYYMMDD" of the trip's service day in the feed's time zone
    canceled: bool
    added: bool
    stop_time_updates: tuple[ResolvedStopTimeUpdate, ...]
    route_id: str | None = None  # namespaced; required for an added trip
    # For an added trip only: the full ordered stop list with absolute times.
    added_stops: tuple[tuple[str, int, int], ...] = ()  # (stop_id, arrival, departure)
    timestamp: int | None = None
    # Scheduled first departure of the run, seconds since the service day's "noon minus 12h".
    # Identifies the run of a frequency-based trip (one trip_id, many runs); set for every trip.
    start_time_s: int | None = None
    # REPLACEMENT: ``added_stops`` is the day's full stop list of the static trip ``trip_id``,
    # replacing its scheduled one (its flags in ``added_stop_flags`` when given).
    replacement: bool = False
    # DUPLICATED: an added trip (``added=True``, its own new ``trip_id``) copied from this
    # namespaced static trip, shifted to its new start; the original runs as scheduled.
    duplicated_from: str | None = None
    # Per stop of ``added_stops``: (pickup_type, drop_off_type) GTFS numbers; empty = regular.
    added_stop_flags: tuple[tuple[int, int], ...] = ()
    entity_id: str | None = None  # the publisher's entity id, for diagnostics


@dataclass(frozen=True, slots=True)
class ResolvedVehiclePosition:
    """A vehicle's latest position, tied to a static trip when possible, else to a route."""

    feed_id: str
    entity_id: str
    vehicle_id: str | None  # the publisher's vehicle label/id, not namespaced (not a GTFS id)
    latitude: float | None
    longitude: float | None
    matched_by: str | None  # "trip", "route", or None when neither is known in the static feed
    trip_id: str | None = None  # namespaced
    route_id: str | None = None  # namespaced
    direction_id: int | None = None
    service_date: str | None = None  # "YYYYMMDD", when matched by trip
    stop_id: str | None = None  # namespaced
    current_stop_sequence: int | None = None
    current_status: str | None = None
    occupancy_status: str | None = None
    bearing: float | None = None
    speed_mps: float | None = None
    timestamp: int | None = None
