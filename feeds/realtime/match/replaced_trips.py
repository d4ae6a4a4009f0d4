"""REPLACEMENT and DUPLICATED trip updates: trips whose stop list or start is not the schedule's.

- REPLACEMENT: the update's stop_time_updates are the run's whole stop list that day, replacing
  the scheduled one (a diversion). Each stop is its ``assigned_stop_id``, else its ``stop_id``,
  else the scheduled stop of its ``stop_sequence``; its time is absolute, or a delay on the
  scheduled time of the same stop in the static trip (looked up in order). SKIPPED stops are left
  out. The result is the static run's ``added_stops`` (``replacement=True``).
- DUPLICATED: ``trip_properties`` gives the copy's new trip_id (required, and not a static one:
  ``trip_id_conflict``), start_date and start_time (default: the original's); the copy runs the
  original's stops shifted to the new start, with the update's stop_time_updates propagated on the
  shifted schedule, alongside the original, as an added trip (``duplicated_from``). The original's
  service need not run on the new date (the spec copies a trip "to a different service date").

Pickup and drop-off types of each stop come from its StopTimeProperties (regular otherwise).
"""

from __future__ import annotations

from feeds.realtime.match.propagation import propagate_stop_times
from feeds.realtime.match.trip_index import StaticTripIndex, local_date
from feeds.realtime.match.trip_matching import TripMatch, parse_start_time, valid_date
from feeds.realtime.model import (
    ResolvedTripUpdate,
    RtError,
    RtErrorType,
    StopScheduleRelationship,
    StopTimeEvent,
    StopTimeUpdate,
    TripUpdate,
)

__all__ = ["resolve_duplicated", "resolve_replacement", "stop_flags"]

Stops = tuple[tuple[str, int, int], ...]
Flags = tuple[tuple[int, int], ...]


def stop_flags(stu: StopTimeUpdate) -> tuple[int, int]:
    """(pickup_type, drop_off_type) GTFS numbers of a stop_time_update (0, regular, when unset)."""
    return (stu.pickup_type or 0, stu.drop_off_type or 0)


def _event_time(event: StopTimeEvent | None, scheduled: int | None) -> int | None:
    if event is None:
        return None
    if event.time is not None:
        return event.time
    if event.delay_s is not None and scheduled is not None:
        return scheduled + event.delay_s
    return None


def resolve_replacement(
    update: TripUpdate, index: StaticTripIndex, match: TripMatch, errors: list[RtError]
) -> tuple[Stops, Flags] | None:
    """The replacing stop list of a matched run (None, the reason in ``errors``, when unusable)."""
    trip_id = index.trip_ids[match.trip]

    def error(kind: RtErrorType, stop_id: str | None, detail: str) -> None:
        errors.append(RtError(type=kind, entity_id=update.entity_id, trip_id=trip_id, stop_id=stop_id,
                              detail=detail))

    stop_ids, sequences, arrivals, departures = index.list_trip_stop_times(match.trip)
    base = index.get_service_day_start(match.service_date) + match.offset_s
    position_of_sequence = {seq: i for i, seq in enumerate(sequences)}
    stops: list[tuple[str, int, int]] = []
    flags: list[tuple[int, int]] = []
    last = -1  # scheduled position of the previous stop found in the static trip
    for stu in update.stop_time_updates:
        if stu.schedule_relationship == StopScheduleRelationship.SKIPPED:
            continue
        position = position_of_sequence.get(stu.stop_sequence) if stu.stop_sequence is not None else None
        if position is None and stu.stop_id is not None:
            position = next((i for i in range(last + 1, len(stop_ids)) if stop_ids[i] == stu.stop_id), None)
        stop_id = stu.assigned_stop_id or stu.stop_id or (stop_ids[position] if position is not None else None)
        if stop_id is None or stop_id not in index.stop_ids:
            error(RtErrorType.UNKNOWN_STOP, stop_id, "replacement stop not in static feed")
            return None
        sched_arr = base + arrivals[position] if position is not None and arrivals[position] >= 0 else None
        sched_dep = base + departures[position] if position is not None and departures[position] >= 0 else None
        arrival, departure = _event_time(stu.arrival, sched_arr), _event_time(stu.departure, sched_dep)
        if arrival is None and departure is None:
            error(RtErrorType.INVALID_STOP_SEQUENCE, stop_id,
                  "replacement stop without a time (absolute, or a delay on a scheduled stop)")
            return None
        if position is not None:
            last = position
        arrival = arrival if arrival is not None else departure
        departure = max(departure if departure is not None else arrival, arrival)  # type: ignore[type-var]
        stops.append((index.ns(stop_id), arrival, departure))  # type: ignore[arg-type]
        flags.append(stop_flags(stu))
    if len(stops) < 2:
        error(RtErrorType.INVALID_STOP_SEQUENCE, None, "replacement trip needs two stops with times")
        return None
    if not _forward(stops, error):
        return None
    return tuple(stops), tuple(flags) if any(f != (0, 0) for f in flags) else ()


def _forward(stops: list[tuple[str, int, int]], error) -> bool:  # type: ignore[no-untyped-def]
    previous = None
    for stop_id, arrival, departure in stops:
        if departure < arrival or (previous is not None and arrival < previous):
            error(RtErrorType.NEGATIVE_HOP_TIME, stop_id, "trip times go backwards")
            return False
        previous = departure
    return True


def resolve_duplicated(
    update: TripUpdate,
    index: StaticTripIndex,
    reference_s: int | None,
    timestamp: int | None,
    errors: list[RtError],
) -> ResolvedTripUpdate | None:
    """A DUPLICATED update as an added trip copied from its static trip (None when unusable)."""
    descriptor, properties = update.trip, update.trip_properties

    def error(kind: RtErrorType, detail: str) -> None:
        errors.append(RtError(type=kind, entity_id=update.entity_id, trip_id=descriptor.trip_id, detail=detail))

    if properties is None or not properties.trip_id:
        error(RtErrorType.MISSING_TRIP_DESCRIPTOR, "DUPLICATED trip without trip_properties.trip_id")
        return None
    if index.find_trip(properties.trip_id) is not None:
        error(RtErrorType.TRIP_ID_CONFLICT, f"DUPLICATED trip's new trip_id {properties.trip_id!r} is a static trip")
        return None
    source = index.find_trip(descriptor.trip_id) if descriptor.trip_id else None
    if source is None:
        error(RtErrorType.UNKNOWN_TRIP, f"DUPLICATED trip copies unknown trip_id {descriptor.trip_id!r}")
        return None
    if source in index.frequencies:
        error(RtErrorType.UNSUPPORTED_RELATIONSHIP, "DUPLICATED copy of a frequency-based trip")
        return None
    date = properties.start_date or descriptor.start_date
    if date is None and reference_s is not None:
        date = local_date(index.timezone, reference_s).strftime("%Y%m%d")
    if not valid_date(date):
        error(RtErrorType.NO_SERVICE_ON_DATE, f"DUPLICATED trip without a valid start_date ({date!r})")
        return None
    first = index.find_first_departure_s(source)
    start_s = parse_start_time(properties.start_time) if properties.start_time else first
    if start_s is None or first is None:
        error(RtErrorType.INVALID_STOP_SEQUENCE, f"invalid start_time {properties.start_time!r}")
        return None
    match = TripMatch(source, date, start_s - first)  # type: ignore[arg-type]
    predicted = propagate_stop_times(update, index, match, index.trip_ids[source], errors)
    if predicted is None:
        return None
    stops, flags = _shifted_stops(index, match, predicted)
    if len(stops) < 2:
        error(RtErrorType.INVALID_STOP_SEQUENCE, "DUPLICATED trip keeps fewer than two stops")
        return None
    return ResolvedTripUpdate(
        feed_id=index.feed_id, trip_id=index.ns(properties.trip_id), service_date=date,  # type: ignore[arg-type]
        canceled=False, added=True, stop_time_updates=(),
        route_id=index.ns(index.trip_route_ids[source]), added_stops=stops, timestamp=timestamp,
        start_time_s=start_s, duplicated_from=index.ns(index.trip_ids[source]), added_stop_flags=flags,
    )


def _shifted_stops(index: StaticTripIndex, match: TripMatch, predicted) -> tuple[Stops, Flags]:  # type: ignore[no-untyped-def]
    """The source trip's stops on the shifted schedule, realtime where predicted (skipped ones out)."""
    stop_ids, _, arrivals, departures = index.list_trip_stop_times(match.trip)
    base = index.get_service_day_start(match.service_date) + match.offset_s
    by_position = {p.stop_index: p for p in predicted}
    stops: list[tuple[str, int, int]] = []
    flags: list[tuple[int, int]] = []
    for i, stop_id in enumerate(stop_ids):
        if arrivals[i] < 0 or departures[i] < 0:
            continue  # untimed stop of the template: not a stop the copy can be given a time at
        p = by_position.get(i)
        if p is not None and p.skipped:
            continue
        arrival = p.arrival_time if p is not None and p.arrival_time is not None else base + arrivals[i]
        departure = p.departure_time if p is not None and p.departure_time is not None else base + departures[i]
        stop = p.assigned_stop_id if p is not None and p.assigned_stop_id else index.ns(stop_id)
        stops.append((stop, arrival, max(arrival, departure)))
        flags.append((p.pickup_type or 0, p.drop_off_type or 0) if p is not None else (0, 0))
    return tuple(stops), tuple(flags) if any(f != (0, 0) for f in flags) else ()
