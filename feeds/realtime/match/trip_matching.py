"""Trip matching: which run of which static trip, on which service day, a TripDescriptor designates.

- Trips are matched by ``trip_id``; when it is absent or unknown, by route_id + direction_id +
  start_time (+ start_date), which must designate exactly one trip (else ``ambiguous_trip``).
  Frequency-based trips are matched by trip_id + start_time (the run).
- The service day is ``start_date`` when given; otherwise the day (yesterday, today, tomorrow in
  the feed's time zone) whose scheduled run of the trip is closest to the reference time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from feeds.gtfs.service_days import parse_gtfs_date
from feeds.realtime.match.trip_index import Frequency, StaticTripIndex, local_date
from feeds.realtime.model import RtError, RtErrorType, TripDescriptor

__all__ = ["TripMatch", "match_trip", "parse_start_time", "valid_date"]

_DAY = dt.timedelta(days=1)
_ErrorFactory = Callable[[RtErrorType, str], RtError]


@dataclass(frozen=True, slots=True)
class TripMatch:
    """A publisher trip reference resolved to one run of one static trip on one service day."""

    trip: int  # trip index in the StaticTripIndex
    service_date: str  # YYYYMMDD
    offset_s: int  # shift of the run against the stop_times template (frequency runs), else 0


def valid_date(value: str | None) -> bool:
    """Whether ``value`` is a GTFS YYYYMMDD date."""
    return value is not None and len(value) == 8 and parse_gtfs_date(value) is not None


def match_trip(
    descriptor: TripDescriptor,
    index: StaticTripIndex,
    reference_s: int | None,
    entity_id: str | None,
) -> TripMatch | RtError:
    """Find the run of a static trip (and its service day) that a TripDescriptor designates."""

    def error(kind: RtErrorType, detail: str) -> RtError:
        return RtError(type=kind, entity_id=entity_id, trip_id=descriptor.trip_id, detail=detail)

    if descriptor.start_date is not None and not valid_date(descriptor.start_date):
        return error(RtErrorType.NO_SERVICE_ON_DATE, f"invalid start_date {descriptor.start_date!r}")
    candidates = _candidate_runs(descriptor, index, error)
    if isinstance(candidates, RtError):
        return candidates
    options = _service_day_options(descriptor, index, reference_s, candidates)
    if not options:
        if descriptor.start_date is None and reference_s is None:
            detail = "no start_date and no timestamp to choose the service day"
        else:
            detail = f"no service on {descriptor.start_date or 'the days around the feed time'}"
        return error(RtErrorType.NO_SERVICE_ON_DATE, detail)
    options.sort(key=_distance)
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


def _distance(option: tuple[int, TripMatch]) -> int:
    return option[0]


def _candidate_runs(
    descriptor: TripDescriptor, index: StaticTripIndex, error: _ErrorFactory
) -> list[tuple[int, int]] | RtError:
    """(trip, offset_s) runs the descriptor may designate, before choosing the service day."""
    start_s = parse_start_time(descriptor.start_time)
    trip = index.find_trip(descriptor.trip_id) if descriptor.trip_id else None
    if trip is not None:
        windows = index.frequencies.get(trip)
        if windows is None:
            return [(trip, 0)]
        if start_s is None:
            return error(RtErrorType.AMBIGUOUS_TRIP, "frequency-based trip without start_time")
        offset = _frequency_offset(index, trip, windows, start_s)
        if offset is None:
            return error(
                RtErrorType.UNKNOWN_TRIP,
                f"start_time {descriptor.start_time} outside the trip's frequencies",
            )
        return [(trip, offset)]
    if descriptor.route_id and start_s is not None:
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
        return candidates
    if descriptor.trip_id:
        return error(RtErrorType.UNKNOWN_TRIP, f"unknown trip_id {descriptor.trip_id!r}")
    return error(
        RtErrorType.MISSING_TRIP_DESCRIPTOR,
        "no trip_id, and route_id + start_time are not both given",
    )


def _service_day_options(
    descriptor: TripDescriptor,
    index: StaticTripIndex,
    reference_s: int | None,
    candidates: Sequence[tuple[int, int]],
) -> list[tuple[int, TripMatch]]:
    """(distance to the reference time, match) of each candidate run on each possible day:
    start_date when given (distance 0), else yesterday, today and tomorrow."""
    options: list[tuple[int, TripMatch]] = []
    for trip, offset in candidates:
        service_id = index.trip_service_ids[trip]
        if descriptor.start_date is not None:
            if index.is_service_active(service_id, descriptor.start_date):
                options.append((0, TripMatch(trip, descriptor.start_date, offset)))
            continue
        if reference_s is None:
            continue
        today = local_date(index.timezone, reference_s)
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
    return options


def parse_start_time(value: str | None) -> int | None:
    """GTFS-realtime "HH:MM:SS" (hours may pass 24) -> seconds, None when absent or malformed."""
    if not value:
        return None
    parts = value.strip().split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    hours, minutes, seconds = (int(p) for p in parts)
    if minutes > 59 or seconds > 59:
        return None
    return hours * 3600 + minutes * 60 + seconds


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
