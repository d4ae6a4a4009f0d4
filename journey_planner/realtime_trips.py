"""What one resolved trip update makes of one trip on one day: the trip it removes, and the
realtime trip that runs instead (a copy with updated times and skipped stops, or an added trip).

- A scheduled update's copy keeps the static stop list, except where a stop is assigned another
  stop (``assigned_stop_id``, a platform change: the run calls there instead); pickup/drop-off
  types in the update replace the static ones at that stop (1 forbids, 0/2/3 allow).
- A REPLACEMENT's copy runs the update's whole stop list instead of the scheduled one (its own
  pattern, as `_rebuild` groups realtime trips by stop list); the static run stops that day.
- An added trip (NEW/ADDED, or a DUPLICATED copy) has no source; one whose trip_id is a static
  trip is refused (``trip_id_conflict``: it must not take that trip's place).

`journey_planner.realtime` gathers these changes into the realtime timetable; this module knows
how a single update reads, nothing about patterns or the rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from feeds.realtime.model import ResolvedTripUpdate, RtError, RtErrorType

from .compile import Network
from .core.timetable import NO_DROP_OFF, NO_PICKUP

__all__ = ["RealtimeTrip", "TripChange", "change_for_update", "parse_service_date"]


@dataclass(frozen=True)
class RealtimeTrip:
    """A trip that runs one day in the realtime timetable: a static trip's copy, or an added one."""

    source: int  # static TripIdx, -1 for an added trip
    day: int
    stops: np.ndarray  # StopIdx in travel order
    arr: np.ndarray  # s since the day's noon minus 12 h
    dep: np.ndarray
    flags: np.ndarray
    route: int
    tz: int
    trip_id: str


def parse_service_date(text: str) -> date | None:
    try:
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except (ValueError, IndexError, TypeError):
        return None


@dataclass(frozen=True)
class TripChange:
    """What an update does on its day: ``source`` (a static TripIdx) stops running, cancelled or
    replaced by ``trip``; an added trip has no source."""

    source: int | None
    canceled: bool
    trip: RealtimeTrip | None


def change_for_update(static: Network, u: ResolvedTripUpdate, day: int, errors: list[RtError]) -> TripChange | None:
    """The change ``u`` makes on ``day`` (None: unusable, the reason appended to ``errors``)."""
    if u.added:
        if static.list_trips(u.trip_id):
            errors.append(RtError(RtErrorType.TRIP_ID_CONFLICT, entity_id=u.entity_id, trip_id=u.trip_id,
                                  detail="added trip reuses a static trip_id"))
            return None
        made = _listed_trip(static, u, day, -1, errors)
        return None if made is None else TripChange(None, False, made)
    t = _find_static_trip(static, u, day, errors)
    if t is None:
        return None
    tt = static.timetable
    if not tt.service_days[tt.trip_service[t], day]:
        errors.append(RtError(RtErrorType.NO_SERVICE_ON_DATE, trip_id=u.trip_id, detail=u.service_date))
        return None
    if u.canceled:
        return TripChange(t, True, None)
    if u.replacement:
        made = _listed_trip(static, u, day, t, errors)
        return None if made is None else TripChange(t, False, made)
    return TripChange(t, False, _updated_trip(static, t, day, u, errors))


def _find_static_trip(static: Network, u: ResolvedTripUpdate, day: int, errors: list[RtError]) -> int | None:
    """The static TripIdx an update names (the run its start time names, for frequency trips)."""
    candidates = static.list_trips(u.trip_id)
    if not candidates:
        errors.append(RtError(RtErrorType.UNKNOWN_TRIP, trip_id=u.trip_id))
        return None
    if len(candidates) == 1:
        return candidates[0]
    t = _find_run(static.timetable, candidates, day, u.start_time_s)
    if t is None:
        errors.append(RtError(RtErrorType.AMBIGUOUS_TRIP, trip_id=u.trip_id,
                              detail=f"frequency-based trip: no run starts at {u.start_time_s} s"))
    return t


def _updated_trip(static: Network, t: int, day: int, u: ResolvedTripUpdate, errors: list[RtError]) -> RealtimeTrip:
    """The realtime copy of static trip t on that day, with the update's times and skipped stops."""
    tt = static.timetable
    trip_id = u.trip_id
    p = int(tt.trip_pattern[t])
    s0, s1 = int(tt.pattern_stop_offsets[p]), int(tt.pattern_stop_offsets[p + 1])
    n_s = s1 - s0
    row0 = tt.trip_rows(t)[0]
    arr = tt.stop_time_arrival[row0: row0 + n_s].astype(np.int64)
    dep = tt.stop_time_departure[row0: row0 + n_s].astype(np.int64)
    flags = tt.stop_time_flags[row0: row0 + n_s].copy()
    stops = tt.pattern_stops[s0:s1].copy()
    base = int(tt.day_base_s[day, tt.pattern_tz[p]])
    for stu in u.stop_time_updates:
        i = stu.stop_index
        if not 0 <= i < n_s:
            errors.append(RtError(RtErrorType.INVALID_STOP_SEQUENCE, trip_id=trip_id, stop_id=stu.stop_id))
            continue
        if stu.arrival_time is not None:
            arr[i] = stu.arrival_time - base
        if stu.departure_time is not None:
            dep[i] = stu.departure_time - base
        if stu.arrival_time is not None and stu.departure_time is None:
            dep[i] = max(dep[i], arr[i])
        if stu.departure_time is not None and stu.arrival_time is None:
            arr[i] = min(arr[i], dep[i])
        _apply_stop_properties(static, stops, flags, i, stu, errors, trip_id)
        if stu.skipped:
            flags[i] |= NO_PICKUP | NO_DROP_OFF
    dep = np.maximum(dep, arr)
    fixed = np.maximum.accumulate(np.ravel(np.column_stack([arr, dep])))
    if np.any(fixed != np.ravel(np.column_stack([arr, dep]))):
        errors.append(RtError(RtErrorType.NEGATIVE_HOP_TIME, trip_id=trip_id, detail="times clamped"))
        arr, dep = fixed[0::2], fixed[1::2]
    return RealtimeTrip(t, day, stops, arr, dep, flags, int(tt.pattern_route[p]),
                         int(tt.pattern_tz[p]), str(static.trip_ids[t]))


def _apply_stop_properties(static: Network, stops: np.ndarray, flags: np.ndarray, i: int, stu,
                           errors: list[RtError], trip_id: str) -> None:
    """A stop's StopTimeProperties on the copy: the assigned stop, pickup and drop-off types."""
    if stu.assigned_stop_id is not None:
        s = static.find_stop(stu.assigned_stop_id)
        if s is None:
            errors.append(RtError(RtErrorType.UNKNOWN_STOP, trip_id=trip_id, stop_id=stu.assigned_stop_id,
                                  detail="assigned_stop_id not in the network"))
        else:
            stops[i] = s
    flags[i] = _flag_bits(flags[i], stu.pickup_type, stu.drop_off_type)


def _flag_bits(current, pickup_type: int | None, drop_off_type: int | None):
    """Stop-time flag bits with GTFS pickup/drop-off types applied (None: unchanged)."""
    bits = int(current)
    if pickup_type is not None:
        bits = (bits | int(NO_PICKUP)) if pickup_type == 1 else (bits & ~int(NO_PICKUP))
    if drop_off_type is not None:
        bits = (bits | int(NO_DROP_OFF)) if drop_off_type == 1 else (bits & ~int(NO_DROP_OFF))
    return np.uint8(bits)


def _find_run(tt, runs: list[int], day: int, start_time_s: int | None) -> int | None:
    """The run of a frequency-based trip (one TripIdx per start) that starts at ``start_time_s``.

    An exact start wins; otherwise (exact_times=0 headways, where the vehicle's real start is
    published) the run running that day whose start is nearest, if it is nearer than half the
    gap to the next run on either side. None when nothing identifies one run.
    """
    if start_time_s is None:
        return None
    starts = np.array([int(tt.stop_time_departure[tt.trip_rows(t)[0]]) for t in runs], dtype=np.int64)
    running = np.array([bool(tt.service_days[tt.trip_service[t], day]) for t in runs])
    exact = np.flatnonzero((starts == start_time_s) & running)
    if exact.size:
        return runs[int(exact[0])]
    order = np.argsort(starts, kind="stable")
    s_sorted = starts[order]
    i = int(np.argmin(np.abs(s_sorted - start_time_s)))
    gap = min(
        (s_sorted[i] - s_sorted[i - 1]) if i > 0 else np.iinfo(np.int64).max,
        (s_sorted[i + 1] - s_sorted[i]) if i + 1 < s_sorted.size else np.iinfo(np.int64).max,
    )
    if 2 * abs(int(s_sorted[i]) - start_time_s) < gap and running[order[i]]:
        return runs[int(order[i])]
    return None


def _listed_trip(static: Network, u: ResolvedTripUpdate, day: int, source: int, errors: list[RtError]):
    """The trip an update lists stop by stop (``added_stops``): an added trip (``source`` -1) or
    the replacement of static trip ``source`` that day (its route, then)."""
    route = None
    if source >= 0:
        route = int(static.trip_routes[source])
    elif u.route_id is not None:
        hits = np.flatnonzero(static.route_ids == u.route_id)
        route = int(hits[0]) if hits.size else None
    if route is None:
        errors.append(RtError(RtErrorType.UNKNOWN_ROUTE, trip_id=u.trip_id, detail=str(u.route_id)))
        return None
    stops, times_a, times_d = [], [], []
    for stop_id, a, dtime in u.added_stops:
        s = static.find_stop(stop_id)
        if s is None:
            errors.append(RtError(RtErrorType.UNKNOWN_STOP, trip_id=u.trip_id, stop_id=stop_id))
            return None
        stops.append(s)
        times_a.append(a)
        times_d.append(dtime)
    if len(stops) < 2:
        errors.append(RtError(RtErrorType.INVALID_STOP_SEQUENCE, trip_id=u.trip_id, detail="fewer than 2 stops"))
        return None
    feed = int(static.stop_feed[stops[0]])
    tz = static.feed_tz[feed]
    base = int(static.timetable.day_base_s[day, tz])
    arr = np.asarray(times_a, dtype=np.int64) - base
    dep = np.asarray(times_d, dtype=np.int64) - base
    dep = np.maximum(dep, arr)
    flags = np.zeros(len(stops), np.uint8)
    for i, (pickup, drop_off) in enumerate(u.added_stop_flags[: len(stops)]):
        flags[i] = _flag_bits(0, pickup, drop_off)
    return RealtimeTrip(source, day, np.asarray(stops, dtype=np.int32), arr, dep, flags,
                        route, tz, u.trip_id)
