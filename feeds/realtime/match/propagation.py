"""Stop-time propagation: a matched trip's stop_time_updates turned into every predicted stop.

The GTFS-realtime rule, with the choices the spec leaves to consumers:

- Scheduled absolute time = noon of the service day minus 12 h, in the feed time zone, plus the
  GTFS seconds (`feeds.gtfs.service_days`): correct across DST changes.
- A stop_time_update's delay propagates downstream to stops without their own update, until the
  next update carrying data; stops before the first update keep their schedule (no entry).
  NO_DATA stops end the propagation; SKIPPED stops carry ``skipped=True`` and let it through.
  Times without delays give ``delay = time - scheduled``. A missing arrival takes the upstream
  delay (else the stop's departure delay); a missing departure takes the arrival delay, and
  never leaves before the arrival.
- Predicted times that go backwards along the trip drop the whole update (``negative_hop_time``);
  a stop_time_update naming an unknown stop is dropped alone (``unknown_stop``).
- StopTimeProperties ride along: ``assigned_stop_id`` (the run calls at that stop instead, a
  platform change) and pickup/drop-off types, on the stop's entry (one without times when the
  update carries nothing else).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from feeds.realtime.match.trip_index import StaticTripIndex
from feeds.realtime.match.trip_matching import TripMatch
from feeds.realtime.model import (
    ResolvedStopTimeUpdate,
    RtError,
    RtErrorType,
    StopScheduleRelationship,
    StopTimeEvent,
    StopTimeUpdate,
    TripUpdate,
)

__all__ = ["propagate_stop_times"]

_ReportError = Callable[[RtErrorType, str | None, str], None]


@dataclass(frozen=True, slots=True)
class _TripSchedule:
    """One matched run's static stop times; ``base_s`` is its service day origin plus run offset."""

    stop_ids: list[str]
    sequences: list[int]
    arrivals_s: list[int]
    departures_s: list[int]
    base_s: int


def propagate_stop_times(
    update: TripUpdate,
    index: StaticTripIndex,
    match: TripMatch,
    trip_id: str,
    errors: list[RtError],
) -> tuple[ResolvedStopTimeUpdate, ...] | None:
    """Every predicted stop of the matched run, or None when the update must be dropped."""
    stop_ids, sequences, arrivals, departures = index.list_trip_stop_times(match.trip)
    schedule = _TripSchedule(
        stop_ids, sequences, arrivals, departures,
        index.get_service_day_start(match.service_date) + match.offset_s,
    )

    def error(kind: RtErrorType, stop_id: str | None, detail: str) -> None:
        errors.append(
            RtError(type=kind, entity_id=update.entity_id, trip_id=trip_id, stop_id=stop_id, detail=detail)
        )

    placed = _place_updates(update.stop_time_updates, schedule, index, error)
    if update.delay_s is not None:
        start = 0
    elif placed:
        start = min(placed)
    else:
        return ()
    result = _walk_trip(schedule, placed, start, update.delay_s, index)
    if not _times_go_forward(result, schedule, error):
        return None
    return _with_properties(result, placed, schedule, index, error)


def _with_properties(
    result: list[ResolvedStopTimeUpdate],
    placed: dict[int, StopTimeUpdate],
    schedule: _TripSchedule,
    index: StaticTripIndex,
    error: _ReportError,
) -> tuple[ResolvedStopTimeUpdate, ...]:
    """The predictions with each stop's StopTimeProperties (assigned stop, pickup/drop-off types);
    a stop whose update carries only properties gets an entry without times. An assigned stop
    unknown to the static feed is dropped alone (``unknown_stop``)."""
    changed = {}
    for i, stu in placed.items():
        assigned = stu.assigned_stop_id
        if assigned is not None and assigned not in index.stop_ids:
            error(RtErrorType.UNKNOWN_STOP, assigned, "assigned_stop_id not in static feed")
            assigned = None
        if assigned is not None or stu.pickup_type is not None or stu.drop_off_type is not None:
            changed[i] = (None if assigned is None else index.ns(assigned), stu.pickup_type, stu.drop_off_type)
    if not changed:
        return tuple(result)
    by_index = {r.stop_index: r for r in result}
    for i, (assigned, pickup, drop_off) in changed.items():
        base = by_index.get(i) or ResolvedStopTimeUpdate(i, index.ns(schedule.stop_ids[i]), None, None, None, None)
        by_index[i] = replace(base, assigned_stop_id=assigned, pickup_type=pickup, drop_off_type=drop_off)
    return tuple(by_index[i] for i in sorted(by_index))


def _place_updates(
    updates: Sequence[StopTimeUpdate], schedule: _TripSchedule, index: StaticTripIndex, error: _ReportError
) -> dict[int, StopTimeUpdate]:
    """Each stop_time_update on its stop index of the trip (by stop_sequence, else stop_id)."""
    stop_ids = schedule.stop_ids
    placed: dict[int, StopTimeUpdate] = {}
    last = -1
    position_by_sequence: dict[int, int] | None = None
    for stu in updates:
        if stu.stop_sequence is not None:
            if position_by_sequence is None:
                position_by_sequence = {seq: i for i, seq in enumerate(schedule.sequences)}
            position = position_by_sequence.get(stu.stop_sequence)
            if position is None:
                error(RtErrorType.INVALID_STOP_SEQUENCE, stu.stop_id, f"stop_sequence {stu.stop_sequence} not in trip")
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
            position = next((i for i in range(last + 1, len(stop_ids)) if stop_ids[i] == stu.stop_id), None)
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
    return placed


_SKIPPED = StopScheduleRelationship.SKIPPED
_NO_DATA = StopScheduleRelationship.NO_DATA


def _walk_trip(
    schedule: _TripSchedule,
    placed: dict[int, StopTimeUpdate],
    start: int,
    delay: int | None,
    index: StaticTripIndex,
) -> list[ResolvedStopTimeUpdate]:
    """Predictions from stop index ``start`` on, carrying the last known delay downstream."""
    result: list[ResolvedStopTimeUpdate] = []
    # the hot loop of realtime: every stop of every updated trip; attributes read once, not per stop
    stop_ids, arrivals_s, departures_s, base_s = schedule.stop_ids, schedule.arrivals_s, schedule.departures_s, schedule.base_s
    namespaced = index.ns
    for i in range(start, len(stop_ids)):
        stop_id = namespaced(stop_ids[i])
        arrival_s, departure_s = arrivals_s[i], departures_s[i]
        sched_arr = base_s + arrival_s if arrival_s >= 0 else None
        sched_dep = base_s + departure_s if departure_s >= 0 else None
        stu = placed.get(i)
        if stu is not None:
            if stu.schedule_relationship == _SKIPPED:
                result.append(ResolvedStopTimeUpdate(i, stop_id, None, None, None, None, skipped=True))
                continue
            if stu.schedule_relationship == _NO_DATA:
                delay = None
                continue
            predicted = _predict_stop(stu, sched_arr, sched_dep, delay)
            if predicted is not None:
                arr_t, dep_t, arr_d, dep_d = predicted
                result.append(ResolvedStopTimeUpdate(i, stop_id, arr_t, dep_t, arr_d, dep_d))
                delay = dep_d if dep_d is not None else arr_d
                continue
        if delay is None or sched_arr is None or sched_dep is None:
            continue
        result.append(ResolvedStopTimeUpdate(i, stop_id, sched_arr + delay, sched_dep + delay, delay, delay))
    return result


def _predict_stop(
    stu: StopTimeUpdate, sched_arr: int | None, sched_dep: int | None, upstream_delay: int | None
) -> tuple[int, int, int | None, int | None] | None:
    """(arrival, departure, arrival delay, departure delay) of a stop with its own update, or
    None when the update carries no time."""
    arr_t, arr_d = _event_time(stu.arrival, sched_arr)
    dep_t, dep_d = _event_time(stu.departure, sched_dep)
    if arr_t is None and dep_t is None:
        return None
    if arr_t is None:
        inferred = upstream_delay if upstream_delay is not None else dep_d
        arr_t = sched_arr + inferred if sched_arr is not None and inferred is not None else dep_t
        arr_t = min(arr_t, dep_t)  # type: ignore[type-var]
        arr_d = arr_t - sched_arr if sched_arr is not None else inferred
    if dep_t is None:
        dep_t = sched_dep + arr_d if sched_dep is not None and arr_d is not None else arr_t
        dep_t = max(dep_t, arr_t)
        dep_d = dep_t - sched_dep if sched_dep is not None else arr_d
    return arr_t, dep_t, arr_d, dep_d  # type: ignore[return-value]


def _event_time(event: StopTimeEvent | None, scheduled: int | None) -> tuple[int | None, int | None]:
    """(absolute time, delay) of one StopTimeEvent against its scheduled absolute time."""
    if event is None:
        return None, None
    if event.time is not None:
        return event.time, (event.time - scheduled if scheduled is not None else event.delay_s)
    if event.delay_s is not None and scheduled is not None:
        return scheduled + event.delay_s, event.delay_s
    return None, None


def _times_go_forward(
    result: Sequence[ResolvedStopTimeUpdate], schedule: _TripSchedule, error: _ReportError
) -> bool:
    """False (and ``negative_hop_time``) when predictions go backwards along the trip."""
    previous: int | None = None
    for stop in result:
        if stop.skipped:
            continue
        if (previous is not None and stop.arrival_time < previous) or (  # type: ignore[operator]
            stop.departure_time < stop.arrival_time  # type: ignore[operator]
        ):
            error(
                RtErrorType.NEGATIVE_HOP_TIME,
                schedule.stop_ids[stop.stop_index],
                f"predicted time goes backwards at stop index {stop.stop_index}",
            )
            return False
        previous = stop.departure_time
    return True
