"""Resolve decoded GTFS-realtime against one static feed.

`StaticTripIndex` is the part of a static feed that realtime matching needs, built once per static
import (sync, CPU-bound: a few hundred ms for 400k stop_times) and then shared read-only.
`resolve_trip_updates` and `resolve_vehicle_positions` turn publisher references into namespaced
``<feed_id>:<id>`` values, absolute POSIX times and service days, and return every entity they could
not use as an `RtError` value (never an exception), so that failures are counted per type.

Decisions taken (the GTFS-realtime spec leaves some of them to consumers):

- Trips are matched by ``trip_id``; when it is absent or unknown, by route_id + direction_id +
  start_time (+ start_date), which must designate exactly one trip (else ``ambiguous_trip``).
  Frequency-based trips are matched by trip_id + start_time (the run).
- The service day is ``start_date`` when given; otherwise the day (yesterday, today, tomorrow in
  the feed's time zone) whose scheduled run of the trip is closest to the header timestamp.
- Scheduled absolute time = noon of the service day minus 12 h, in the feed time zone, plus the
  GTFS seconds: correct across DST changes, as the GTFS reference requires.
- A stop_time_update's delay propagates downstream to stops without their own update, until the
  next update carrying data; stops before the first update keep their schedule (no entry).
  NO_DATA stops end the propagation; SKIPPED stops carry ``skipped=True`` and let it through.
  Times without delays give ``delay = time - scheduled``. A missing arrival takes the upstream
  delay (else the stop's departure delay); a missing departure takes the arrival delay, and
  never leaves before the arrival.
- Predicted times that go backwards along the trip drop the whole update (``negative_hop_time``);
  a stop_time_update naming an unknown stop is dropped alone (``unknown_stop``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from feeds.gtfs.reader import GtfsTables, parse_gtfs_times
from feeds.realtime.model import (
    FeedMessage,
    ResolvedStopTimeUpdate,
    ResolvedTripUpdate,
    ResolvedVehiclePosition,
    RtError,
    RtErrorType,
    StopScheduleRelationship,
    StopTimeEvent,
    TripDescriptor,
    TripScheduleRelationship,
    TripUpdate,
)

__all__ = [
    "Frequency",
    "StaticIndexError",
    "StaticTripIndex",
    "TripMatch",
    "resolve_trip_updates",
    "resolve_vehicle_positions",
]

_NOON_S = 12 * 3600
_DAY = dt.timedelta(days=1)


class StaticIndexError(Exception):
    """The static feed lacks what realtime matching needs (trips, stop_times, a time zone)."""


@dataclass(frozen=True, slots=True)
class Frequency:
    """One frequencies.txt window of a trip, in seconds since the service day's noon minus 12h."""

    start_s: int
    end_s: int
    headway_s: int
    exact_times: bool


@dataclass(frozen=True, slots=True)
class _ServiceCalendar:
    start_date: str  # YYYYMMDD
    end_date: str
    weekdays: tuple[bool, bool, bool, bool, bool, bool, bool]  # Monday first


@dataclass(frozen=True, slots=True)
class TripMatch:
    """A publisher trip reference resolved to one run of one static trip on one service day."""

    trip: int  # trip index in the StaticTripIndex
    service_date: str  # YYYYMMDD
    offset_s: int  # shift of the run against the stop_times template (frequency runs), else 0


@dataclass(frozen=True)
class StaticTripIndex:
    """What realtime matching needs from one static feed. Ids here are the feed's original ids.

    Stop times are stored flat, ordered by (trip, stop_sequence); a trip's rows are
    ``stop_time_offsets[t]:stop_time_offsets[t + 1]``.
    """

    feed_id: str
    timezone: ZoneInfo
    trip_ids: tuple[str, ...]  # trip index -> trip_id
    trip_index: Mapping[str, int] = field(repr=False)  # trip_id -> trip index
    trip_route_ids: tuple[str, ...] = field(repr=False)  # trip index -> route_id
    trip_direction_ids: tuple[int | None, ...] = field(repr=False)  # trip index -> direction_id
    trip_service_ids: tuple[str, ...] = field(repr=False)  # trip index -> service_id
    stop_time_offsets: np.ndarray = field(repr=False)  # trip index -> first stop_time row (n+1)
    stop_time_stop_ids: np.ndarray = field(repr=False)  # stop_time row -> stop_id (object)
    stop_time_sequences: np.ndarray = field(repr=False)  # stop_time row -> stop_sequence (int64)
    stop_time_arrivals_s: np.ndarray = field(repr=False)  # stop_time row -> arrival (-1: none)
    stop_time_departures_s: np.ndarray = field(repr=False)  # stop_time row -> departure (-1: none)
    trips_by_start: Mapping[tuple[str, int | None, int], tuple[int, ...]] = field(repr=False)
    # (route_id, direction_id, first departure s) -> trip indices (frequency trips excluded)
    frequencies: Mapping[int, tuple[Frequency, ...]] = field(repr=False)  # trip index -> windows
    frequency_trips_by_route: Mapping[str, tuple[int, ...]] = field(repr=False)
    stop_ids: frozenset[str] = field(repr=False)
    route_ids: frozenset[str] = field(repr=False)
    calendars: Mapping[str, _ServiceCalendar] = field(repr=False)  # service_id -> calendar row
    calendar_dates: Mapping[tuple[str, str], bool] = field(repr=False)  # (service, date) -> added
    # the static version indexed (the assembly gives its sha256; "" when it never changes): the
    # poller re-matches a payload it already applied once this changes
    version: str = ""
    # date -> service day origin (POSIX s); a memo filled on use, not part of the index's value
    _day_starts: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    # --- construction -----------------------------------------------------------------------

    @classmethod
    def from_gtfs(
        cls, feed_id: str, tables: GtfsTables, *, timezone: str | None = None, version: str = ""
    ) -> StaticTripIndex:
        """Build the index; ``timezone`` overrides agency.txt (the registry may state it);
        ``version`` labels the static version indexed."""
        zone = _feed_timezone(tables, timezone)
        trips = tables.find("trips")
        stop_times = tables.find("stop_times")
        if trips is None or stop_times is None:
            raise StaticIndexError(f"{feed_id}: trips.txt and stop_times.txt are required")
        trip_ids = tuple(trips["trip_id"].str.strip().tolist()) if len(trips) else ()
        trip_index = {trip_id: i for i, trip_id in enumerate(trip_ids)}
        route_ids = _column(trips, "route_id")
        service_ids = _column(trips, "service_id")
        directions = tuple(
            int(value) if value in ("0", "1") else None for value in _column(trips, "direction_id")
        )

        # Flat stop_times ordered by (trip index, stop_sequence); rows of unknown trips dropped.
        st_trip = stop_times["trip_id"].str.strip().map(trip_index)
        known = st_trip.notna().to_numpy()
        st_trip_idx = st_trip.to_numpy()[known].astype(np.int64)
        sequences = pd.to_numeric(
            stop_times["stop_sequence"].str.strip(), errors="coerce"
        ).to_numpy()[known]
        sequences = np.nan_to_num(sequences, nan=-1).astype(np.int64)
        arrivals = parse_gtfs_times(stop_times["arrival_time"])[known]
        departures = parse_gtfs_times(stop_times["departure_time"])[known]
        arrivals = np.where(arrivals < 0, departures, arrivals)
        departures = np.where(departures < 0, arrivals, departures)
        stops = stop_times["stop_id"].str.strip().to_numpy(dtype=object)[known]
        order = np.lexsort((sequences, st_trip_idx))
        st_trip_idx = st_trip_idx[order]
        offsets = np.searchsorted(st_trip_idx, np.arange(len(trip_ids) + 1)).astype(np.int64)

        frequencies = _frequencies(tables, trip_index)
        arrivals_sorted = arrivals[order].astype(np.int32)
        departures_sorted = departures[order].astype(np.int32)
        by_start: dict[tuple[str, int | None, int], list[int]] = defaultdict(list)
        frequency_by_route: dict[str, list[int]] = defaultdict(list)
        for trip in range(len(trip_ids)):
            if trip in frequencies:
                frequency_by_route[route_ids[trip]].append(trip)
                continue
            begin, end = offsets[trip], offsets[trip + 1]
            if begin == end:
                continue
            first = int(departures_sorted[begin])
            if first >= 0:
                by_start[(route_ids[trip], directions[trip], first)].append(trip)

        stops_table = tables.find("stops")
        routes_table = tables.find("routes")
        return cls(
            feed_id=feed_id,
            timezone=zone,
            trip_ids=trip_ids,
            trip_index=trip_index,
            trip_route_ids=route_ids,
            trip_direction_ids=directions,
            trip_service_ids=service_ids,
            stop_time_offsets=offsets,
            stop_time_stop_ids=stops[order],
            stop_time_sequences=sequences[order],
            stop_time_arrivals_s=arrivals_sorted,
            stop_time_departures_s=departures_sorted,
            trips_by_start={key: tuple(value) for key, value in by_start.items()},
            frequencies=frequencies,
            frequency_trips_by_route={k: tuple(v) for k, v in frequency_by_route.items()},
            stop_ids=frozenset(_column(stops_table, "stop_id")) | frozenset(stops.tolist()),
            route_ids=frozenset(_column(routes_table, "route_id")) | frozenset(route_ids),
            calendars=_calendars(tables),
            calendar_dates=_calendar_dates(tables),
            version=version,
        )

    # --- queries ----------------------------------------------------------------------------

    def find_trip(self, trip_id: str) -> int | None:
        return self.trip_index.get(trip_id)

    def is_service_active(self, service_id: str, date: str) -> bool:
        """Whether ``service_id`` runs on ``date`` (YYYYMMDD): calendar_dates override calendar."""
        exception = self.calendar_dates.get((service_id, date))
        if exception is not None:
            return exception
        calendar = self.calendars.get(service_id)
        if calendar is None or not calendar.start_date <= date <= calendar.end_date:
            return False
        weekday = dt.date(int(date[:4]), int(date[4:6]), int(date[6:])).weekday()
        return calendar.weekdays[weekday]

    def get_service_day_start(self, date: str) -> int:
        """POSIX seconds of the service day's origin: noon minus 12 h in the feed time zone."""
        start = self._day_starts.get(date)
        if start is None:
            start = _service_day_start(self.timezone, date)
            if len(self._day_starts) > 4096:
                self._day_starts.clear()
            self._day_starts[date] = start
        return start

    def list_trip_stop_times(self, trip: int) -> tuple[list[str], list[int], list[int], list[int]]:
        """(stop_ids, stop_sequences, arrivals_s, departures_s) of a trip, in stop order."""
        begin, end = int(self.stop_time_offsets[trip]), int(self.stop_time_offsets[trip + 1])
        return (
            self.stop_time_stop_ids[begin:end].tolist(),
            self.stop_time_sequences[begin:end].tolist(),
            self.stop_time_arrivals_s[begin:end].tolist(),
            self.stop_time_departures_s[begin:end].tolist(),
        )

    def find_first_departure_s(self, trip: int) -> int | None:
        begin, end = int(self.stop_time_offsets[trip]), int(self.stop_time_offsets[trip + 1])
        if begin == end:
            return None
        value = int(self.stop_time_departures_s[begin])
        return value if value >= 0 else None

    def find_last_arrival_s(self, trip: int) -> int | None:
        begin, end = int(self.stop_time_offsets[trip]), int(self.stop_time_offsets[trip + 1])
        if begin == end:
            return None
        value = int(self.stop_time_arrivals_s[end - 1])
        return value if value >= 0 else None

    def ns(self, original_id: str) -> str:
        """The namespaced id ``<feed_id>:<original id>``."""
        return f"{self.feed_id}:{original_id}"


# --- index construction helpers --------------------------------------------------------------


def _column(table: pd.DataFrame | None, name: str) -> tuple[str, ...]:
    if table is None or name not in table.columns:
        return () if table is None else ("",) * len(table)
    return tuple(table[name].str.strip().tolist())


def _feed_timezone(tables: GtfsTables, override: str | None) -> ZoneInfo:
    name = override
    if not name:
        zones = tables.column("agency", "agency_timezone")
        name = zones.str.strip().iloc[0] if zones is not None and len(zones) else None
    if not name:
        raise StaticIndexError("no time zone: agency.txt has no agency_timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise StaticIndexError(f"unknown time zone {name!r}") from error


def _frequencies(
    tables: GtfsTables, trip_index: Mapping[str, int]
) -> dict[int, tuple[Frequency, ...]]:
    table = tables.find("frequencies")
    if table is None or not len(table):
        return {}
    starts = parse_gtfs_times(table["start_time"])
    ends = parse_gtfs_times(table["end_time"])
    headways = pd.to_numeric(table["headway_secs"].str.strip(), errors="coerce").fillna(0)
    exact = _column(table, "exact_times")
    windows: dict[int, list[Frequency]] = defaultdict(list)
    for row, trip_id in enumerate(table["trip_id"].str.strip().tolist()):
        trip = trip_index.get(trip_id)
        headway = int(headways.iloc[row])
        if trip is None or starts[row] < 0 or ends[row] < 0 or headway <= 0:
            continue
        windows[trip].append(Frequency(int(starts[row]), int(ends[row]), headway, exact[row] == "1"))
    return {trip: tuple(sorted(ws, key=lambda w: w.start_s)) for trip, ws in windows.items()}


def _calendars(tables: GtfsTables) -> dict[str, _ServiceCalendar]:
    table = tables.find("calendar")
    if table is None or not len(table):
        return {}
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    columns = [_column(table, day) for day in days]
    result = {}
    for row, (service_id, start, end) in enumerate(
        zip(_column(table, "service_id"), _column(table, "start_date"), _column(table, "end_date"))
    ):
        weekdays = tuple(column[row] == "1" for column in columns)
        result[service_id] = _ServiceCalendar(start, end, weekdays)  # type: ignore[arg-type]
    return result


def _calendar_dates(tables: GtfsTables) -> dict[tuple[str, str], bool]:
    table = tables.find("calendar_dates")
    if table is None or not len(table):
        return {}
    return {
        (service_id, date): exception == "1"
        for service_id, date, exception in zip(
            _column(table, "service_id"), _column(table, "date"), _column(table, "exception_type")
        )
        if exception in ("1", "2")
    }


def _service_day_start(zone: ZoneInfo, date: str) -> int:
    noon = dt.datetime(int(date[:4]), int(date[4:6]), int(date[6:]), 12, tzinfo=zone)
    return int(noon.timestamp()) - _NOON_S


def _parse_start_time(value: str | None) -> int | None:
    if not value:
        return None
    parts = value.strip().split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    hours, minutes, seconds = (int(p) for p in parts)
    if minutes > 59 or seconds > 59:
        return None
    return hours * 3600 + minutes * 60 + seconds


def _valid_date(value: str | None) -> bool:
    if not value or len(value) != 8 or not value.isdigit():
        return False
    try:
        dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


def _local_date(zone: ZoneInfo, posix_s: int) -> dt.date:
    return dt.datetime.fromtimestamp(posix_s, tz=zone).date()


# --- trip matching ---------------------------------------------------------------------------


def _match_trip(
    descriptor: TripDescriptor,
    index: StaticTripIndex,
    reference_s: int | None,
    entity_id: str | None,
) -> TripMatch | RtError:
    """Find the run of a static trip (and its service day) that a TripDescriptor designates."""

    def error(kind: RtErrorType, detail: str) -> RtError:
        return RtError(type=kind, entity_id=entity_id, trip_id=descriptor.trip_id, detail=detail)

    start_s = _parse_start_time(descriptor.start_time)
    if descriptor.start_date is not None and not _valid_date(descriptor.start_date):
        return error(RtErrorType.NO_SERVICE_ON_DATE, f"invalid start_date {descriptor.start_date!r}")
    candidates: list[tuple[int, int]] = []  # (trip, offset_s)
    trip = index.find_trip(descriptor.trip_id) if descriptor.trip_id else None
    if trip is not None:
        windows = index.frequencies.get(trip)
        if windows is None:
            candidates = [(trip, 0)]
        else:
            if start_s is None:
                return error(
                    RtErrorType.AMBIGUOUS_TRIP, "frequency-based trip without start_time"
                )
            offset = _frequency_offset(index, trip, windows, start_s)
            if offset is None:
                return error(
                    RtErrorType.UNKNOWN_TRIP,
                    f"start_time {descriptor.start_time} outside the trip's frequencies",
                )
            candidates = [(trip, offset)]
    elif descriptor.route_id and start_s is not None:
        if descriptor.route_id not in index.route_ids:
            return error(RtErrorType.UNKNOWN_ROUTE, f"unknown route_id {descriptor.route_id!r}")
        candidates = _candidates_by_start(index, descriptor.route_id, descriptor.direction_id, start_s)
        if not candidates:
            what = f"trip_id {descriptor.trip_id!r} unknown and no" if descriptor.trip_id else "no"
            return error(
                RtErrorType.UNKNOWN_TRIP,
                f"{what} trip of route {descriptor.route_id} "
                f"(direction {descriptor.direction_id}) starts at {descriptor.start_time}",
            )
    elif descriptor.trip_id:
        return error(RtErrorType.UNKNOWN_TRIP, f"unknown trip_id {descriptor.trip_id!r}")
    else:
        return error(
            RtErrorType.MISSING_TRIP_DESCRIPTOR,
            "no trip_id, and route_id + start_time are not both given",
        )

    # Service day: start_date when given, else the nearest run to the reference time.
    options: list[tuple[int, TripMatch]] = []
    for trip, offset in candidates:
        service_id = index.trip_service_ids[trip]
        if descriptor.start_date is not None:
            if index.is_service_active(service_id, descriptor.start_date):
                options.append((0, TripMatch(trip, descriptor.start_date, offset)))
            continue
        if reference_s is None:
            continue
        today = _local_date(index.timezone, reference_s)
        first = index.find_first_departure_s(trip)
        last = index.find_last_arrival_s(trip)
        for day in (today - _DAY, today, today + _DAY):
            date = day.strftime("%Y%m%d")
            if not index.is_service_active(service_id, date):
                continue
            base = index.get_service_day_start(date) + offset
            begin = base + (first if first is not None else 0)
            end = base + (last if last is not None else 0)
            distance = 0 if begin <= reference_s <= end else min(
                abs(reference_s - begin), abs(reference_s - end)
            )
            options.append((distance, TripMatch(trip, date, offset)))
    if not options:
        if descriptor.start_date is None and reference_s is None:
            detail = "no start_date and no timestamp to choose the service day"
        else:
            detail = f"no service on {descriptor.start_date or 'the days around the feed time'}"
        return error(RtErrorType.NO_SERVICE_ON_DATE, detail)
    options.sort(key=lambda option: option[0])
    if descriptor.start_date is not None and len({m.trip for _, m in options}) > 1:
        return error(
            RtErrorType.AMBIGUOUS_TRIP,
            f"{len(options)} trips of route {descriptor.route_id} start at {descriptor.start_time}",
        )
    if (
        descriptor.start_date is None
        and len(options) > 1
        and options[0][1].trip != options[1][1].trip
        and options[0][0] == options[1][0]
    ):
        return error(RtErrorType.AMBIGUOUS_TRIP, "several trips match equally well")
    return options[0][1]


def _frequency_offset(
    index: StaticTripIndex, trip: int, windows: Sequence[Frequency], start_s: int
) -> int | None:
    """The shift of the run starting at ``start_s`` against the stop_times template, if valid."""
    template_start = index.find_first_departure_s(trip)
    if template_start is None:
        return None
    for window in windows:
        if window.start_s <= start_s <= window.end_s:
            if window.exact_times and (start_s - window.start_s) % window.headway_s:
                continue
            return start_s - template_start
    return None


def _candidates_by_start(
    index: StaticTripIndex, route_id: str, direction_id: int | None, start_s: int
) -> list[tuple[int, int]]:
    directions: tuple[int | None, ...] = (direction_id, None) if direction_id is not None else (0, 1, None)
    found = [
        (trip, 0)
        for direction in directions
        for trip in index.trips_by_start.get((route_id, direction, start_s), ())
    ]
    for trip in index.frequency_trips_by_route.get(route_id, ()):
        trip_direction = index.trip_direction_ids[trip]
        if direction_id is not None and trip_direction not in (direction_id, None):
            continue
        offset = _frequency_offset(index, trip, index.frequencies[trip], start_s)
        if offset is not None:
            found.append((trip, offset))
    return found


# --- trip updates ----------------------------------------------------------------------------


def resolve_trip_updates(
    message: FeedMessage, index: StaticTripIndex
) -> tuple[list[ResolvedTripUpdate], list[RtError]]:
    """Match every TripUpdate of ``message`` to ``index``; return the usable ones and the errors.

    Only matching errors are returned; decoding errors stay in ``message.errors``.
    """
    resolved: list[ResolvedTripUpdate] = []
    errors: list[RtError] = []
    for update in message.trip_updates:
        result = _resolve_one(update, message.header_timestamp, index, errors)
        if result is not None:
            resolved.append(result)
    return resolved, errors


def _resolve_one(
    update: TripUpdate, header_s: int | None, index: StaticTripIndex, errors: list[RtError]
) -> ResolvedTripUpdate | None:
    relationship = update.trip.schedule_relationship
    timestamp = update.timestamp if update.timestamp is not None else header_s
    if relationship in (TripScheduleRelationship.ADDED, TripScheduleRelationship.NEW):
        return _resolve_added(update, index, errors, timestamp)
    if relationship == TripScheduleRelationship.DUPLICATED:
        errors.append(
            RtError(
                type=RtErrorType.UNSUPPORTED_RELATIONSHIP,
                entity_id=update.entity_id,
                trip_id=update.trip.trip_id,
                detail="DUPLICATED trips are not applied",
            )
        )
        return None
    reference_s = header_s if header_s is not None else timestamp
    if reference_s is None:
        reference_s = _first_absolute_time(update)
    match = _match_trip(update.trip, index, reference_s, update.entity_id)
    if isinstance(match, RtError):
        errors.append(match)
        return None
    trip_id = index.trip_ids[match.trip]
    first = index.find_first_departure_s(match.trip)
    common = dict(
        feed_id=index.feed_id,
        trip_id=index.ns(trip_id),
        service_date=match.service_date,
        added=False,
        route_id=index.ns(index.trip_route_ids[match.trip]),
        timestamp=timestamp,
        start_time_s=None if first is None else first + match.offset_s,
    )
    if relationship in (TripScheduleRelationship.CANCELED, TripScheduleRelationship.DELETED):
        return ResolvedTripUpdate(canceled=True, stop_time_updates=(), **common)
    stop_time_updates = _resolve_stop_times(update, index, match, trip_id, errors)
    if stop_time_updates is None:
        return None
    return ResolvedTripUpdate(canceled=False, stop_time_updates=stop_time_updates, **common)


def _first_absolute_time(update: TripUpdate) -> int | None:
    for stu in update.stop_time_updates:
        for event in (stu.arrival, stu.departure):
            if event is not None and event.time is not None:
                return event.time
    return None


def _event_time(event: StopTimeEvent | None, scheduled: int | None) -> tuple[int | None, int | None]:
    """(absolute time, delay) of one StopTimeEvent against its scheduled absolute time."""
    if event is None:
        return None, None
    if event.time is not None:
        return event.time, (event.time - scheduled if scheduled is not None else event.delay_s)
    if event.delay_s is not None and scheduled is not None:
        return scheduled + event.delay_s, event.delay_s
    return None, None


def _resolve_stop_times(
    update: TripUpdate,
    index: StaticTripIndex,
    match: TripMatch,
    trip_id: str,
    errors: list[RtError],
) -> tuple[ResolvedStopTimeUpdate, ...] | None:
    stop_ids, sequences, arrivals, departures = index.list_trip_stop_times(match.trip)
    count = len(stop_ids)
    base = index.get_service_day_start(match.service_date) + match.offset_s

    def error(kind: RtErrorType, stop_id: str | None, detail: str) -> None:
        errors.append(
            RtError(type=kind, entity_id=update.entity_id, trip_id=trip_id, stop_id=stop_id, detail=detail)
        )

    # 1. Place each stop_time_update on a stop index of the trip.
    placed: dict[int, object] = {}
    last = -1
    position_by_sequence: dict[int, int] | None = None
    for stu in update.stop_time_updates:
        if stu.stop_sequence is not None:
            if position_by_sequence is None:
                position_by_sequence = {seq: i for i, seq in enumerate(sequences)}
            position = position_by_sequence.get(stu.stop_sequence)
            if position is None:
                error(
                    RtErrorType.INVALID_STOP_SEQUENCE,
                    stu.stop_id,
                    f"stop_sequence {stu.stop_sequence} not in trip",
                )
                continue
            if stu.stop_id is not None and stu.stop_id != stop_ids[position]:
                if stu.stop_id not in index.stop_ids:
                    error(RtErrorType.UNKNOWN_STOP, stu.stop_id, "stop_id not in static feed")
                else:
                    error(
                        RtErrorType.INVALID_STOP_SEQUENCE,
                        stu.stop_id,
                        f"stop_sequence {stu.stop_sequence} is stop {stop_ids[position]}",
                    )
                continue
        elif stu.stop_id is not None:
            if stu.stop_id not in index.stop_ids:
                error(RtErrorType.UNKNOWN_STOP, stu.stop_id, "stop_id not in static feed")
                continue
            position = next((i for i in range(last + 1, count) if stop_ids[i] == stu.stop_id), None)
            if position is None:
                error(RtErrorType.UNKNOWN_STOP, stu.stop_id, "stop not served by the trip (here)")
                continue
        else:
            error(RtErrorType.INVALID_STOP_SEQUENCE, None, "neither stop_sequence nor stop_id")
            continue
        if position <= last:
            error(RtErrorType.INVALID_STOP_SEQUENCE, stu.stop_id, "stop_time_updates out of order")
            continue
        placed[position] = stu
        last = position

    # 2. Walk the trip from the first update (or from the start with a trip-level delay).
    delay = update.delay_s
    if delay is not None:
        start = 0
    elif placed:
        start = min(placed)
    else:
        return ()
    result: list[ResolvedStopTimeUpdate] = []
    for i in range(start, count):
        sched_arr = base + arrivals[i] if arrivals[i] >= 0 else None
        sched_dep = base + departures[i] if departures[i] >= 0 else None
        stu = placed.get(i)
        if stu is not None:
            relationship = stu.schedule_relationship  # type: ignore[attr-defined]
            if relationship == StopScheduleRelationship.SKIPPED:
                result.append(
                    ResolvedStopTimeUpdate(i, index.ns(stop_ids[i]), None, None, None, None, skipped=True)
                )
                continue
            if relationship == StopScheduleRelationship.NO_DATA:
                delay = None
                continue
            arr_t, arr_d = _event_time(stu.arrival, sched_arr)  # type: ignore[attr-defined]
            dep_t, dep_d = _event_time(stu.departure, sched_dep)  # type: ignore[attr-defined]
            if arr_t is not None or dep_t is not None:
                if arr_t is None:
                    inferred = delay if delay is not None else dep_d
                    arr_t = sched_arr + inferred if sched_arr is not None and inferred is not None else dep_t
                    arr_t = min(arr_t, dep_t)  # type: ignore[type-var]
                    arr_d = arr_t - sched_arr if sched_arr is not None else inferred
                if dep_t is None:
                    dep_t = sched_dep + arr_d if sched_dep is not None and arr_d is not None else arr_t
                    dep_t = max(dep_t, arr_t)
                    dep_d = dep_t - sched_dep if sched_dep is not None else arr_d
                result.append(
                    ResolvedStopTimeUpdate(i, index.ns(stop_ids[i]), arr_t, dep_t, arr_d, dep_d)
                )
                delay = dep_d if dep_d is not None else arr_d
                continue
        if delay is None or sched_arr is None or sched_dep is None:
            continue
        result.append(
            ResolvedStopTimeUpdate(
                i, index.ns(stop_ids[i]), sched_arr + delay, sched_dep + delay, delay, delay
            )
        )

    # 3. Reject updates whose predictions go backwards along the trip.
    previous: int | None = None
    for stop in result:
        if stop.skipped:
            continue
        if (previous is not None and stop.arrival_time < previous) or (  # type: ignore[operator]
            stop.departure_time < stop.arrival_time  # type: ignore[operator]
        ):
            error(
                RtErrorType.NEGATIVE_HOP_TIME,
                stop_ids[stop.stop_index],
                f"predicted time goes backwards at stop index {stop.stop_index}",
            )
            return None
        previous = stop.departure_time
    return tuple(result)


def _resolve_added(
    update: TripUpdate, index: StaticTripIndex, errors: list[RtError], timestamp: int | None
) -> ResolvedTripUpdate | None:
    """A trip absent from the static feed: its whole stop list must come with absolute times."""
    descriptor = update.trip

    def error(kind: RtErrorType, stop_id: str | None, detail: str) -> None:
        errors.append(
            RtError(
                type=kind,
                entity_id=update.entity_id,
                trip_id=descriptor.trip_id,
                stop_id=stop_id,
                detail=detail,
            )
        )

    if not descriptor.route_id:
        error(RtErrorType.MISSING_TRIP_DESCRIPTOR, None, "added trip without route_id")
        return None
    if descriptor.route_id not in index.route_ids:
        error(RtErrorType.UNKNOWN_ROUTE, None, f"added trip on unknown route {descriptor.route_id!r}")
        return None
    stops: list[tuple[str, int, int]] = []
    for stu in update.stop_time_updates:
        if stu.schedule_relationship == StopScheduleRelationship.SKIPPED:
            continue
        if stu.stop_id is None or stu.stop_id not in index.stop_ids:
            error(RtErrorType.UNKNOWN_STOP, stu.stop_id, "added trip stop not in static feed")
            continue
        arrival = stu.arrival.time if stu.arrival is not None else None
        departure = stu.departure.time if stu.departure is not None else None
        if arrival is None and departure is None:
            error(RtErrorType.INVALID_STOP_SEQUENCE, stu.stop_id, "added trip stop without a time")
            continue
        arrival = arrival if arrival is not None else departure
        departure = departure if departure is not None else arrival
        stops.append((index.ns(stu.stop_id), arrival, departure))  # type: ignore[arg-type]
    if len(stops) < 2:
        error(RtErrorType.INVALID_STOP_SEQUENCE, None, "added trip needs two stops with times")
        return None
    previous = None
    for stop_id, arrival, departure in stops:
        if departure < arrival or (previous is not None and arrival < previous):
            error(RtErrorType.NEGATIVE_HOP_TIME, stop_id, "added trip times go backwards")
            return None
        previous = departure
    if descriptor.start_date and _valid_date(descriptor.start_date):
        service_date = descriptor.start_date
    else:
        service_date = _local_date(index.timezone, stops[0][2]).strftime("%Y%m%d")
    base = index.get_service_day_start(service_date)
    return ResolvedTripUpdate(
        feed_id=index.feed_id,
        trip_id=index.ns(descriptor.trip_id or update.entity_id),
        service_date=service_date,
        canceled=False,
        added=True,
        stop_time_updates=(),
        route_id=index.ns(descriptor.route_id),
        added_stops=tuple(stops),
        timestamp=timestamp,
        start_time_s=stops[0][2] - base,
    )


# --- vehicle positions -----------------------------------------------------------------------


def resolve_vehicle_positions(
    message: FeedMessage, index: StaticTripIndex
) -> tuple[list[ResolvedVehiclePosition], list[RtError]]:
    """Tie each vehicle to its static trip when possible, else to its route.

    Every vehicle with a position is kept (a map is useful even when matching fails); what could
    not be matched is reported as an error as well.
    """
    resolved: list[ResolvedVehiclePosition] = []
    errors: list[RtError] = []
    for vehicle in message.vehicle_positions:
        descriptor = vehicle.trip
        matched_by: str | None = None
        trip_id = route_id = service_date = None
        direction_id = descriptor.direction_id if descriptor is not None else None
        if descriptor is not None and (descriptor.trip_id or descriptor.start_time):
            reference = vehicle.timestamp if vehicle.timestamp is not None else message.header_timestamp
            match = _match_trip(descriptor, index, reference, vehicle.entity_id)
            if isinstance(match, TripMatch):
                matched_by = "trip"
                trip_id = index.ns(index.trip_ids[match.trip])
                route_id = index.ns(index.trip_route_ids[match.trip])
                direction_id = index.trip_direction_ids[match.trip]
                service_date = match.service_date
            else:
                errors.append(match)  # counted even when the route still places the vehicle
        if matched_by is None and descriptor is not None and descriptor.route_id:
            if descriptor.route_id in index.route_ids:
                matched_by = "route"
                route_id = index.ns(descriptor.route_id)
            else:
                errors.append(
                    RtError(
                        type=RtErrorType.UNKNOWN_ROUTE,
                        entity_id=vehicle.entity_id,
                        detail=f"unknown route_id {descriptor.route_id!r}",
                    )
                )
        elif matched_by is None and descriptor is None:
            errors.append(
                RtError(
                    type=RtErrorType.MISSING_TRIP_DESCRIPTOR,
                    entity_id=vehicle.entity_id,
                    detail="vehicle without trip or route",
                )
            )
        stop_id = None
        if vehicle.stop_id is not None:
            if vehicle.stop_id in index.stop_ids:
                stop_id = index.ns(vehicle.stop_id)
            else:
                errors.append(
                    RtError(
                        type=RtErrorType.UNKNOWN_STOP,
                        entity_id=vehicle.entity_id,
                        stop_id=vehicle.stop_id,
                        detail="vehicle stop_id not in static feed",
                    )
                )
        resolved.append(
            ResolvedVehiclePosition(
                feed_id=index.feed_id,
                entity_id=vehicle.entity_id,
                vehicle_id=vehicle.vehicle_id,
                latitude=vehicle.latitude,
                longitude=vehicle.longitude,
                matched_by=matched_by,
                trip_id=trip_id,
                route_id=route_id,
                direction_id=direction_id,
                service_date=service_date,
                stop_id=stop_id,
                current_stop_sequence=vehicle.current_stop_sequence,
                current_status=vehicle.current_status,
                occupancy_status=vehicle.occupancy_status,
                bearing=vehicle.bearing,
                speed_mps=vehicle.speed_mps,
                timestamp=vehicle.timestamp,
            )
        )
    return resolved, errors
