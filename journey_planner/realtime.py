"""Apply resolved GTFS-RT trip updates to a copy of the static timetable (the single writer's job).

The static network is never touched. Each application starts again from the static timetable
with the full current set of updates (GTFS-RT trip-update feeds are full datasets), which makes
it idempotent and keeps stale delays from lingering:

- a cancelled trip stops running on that service day: it moves to a copy of its service with
  that day removed;
- a delayed trip (or one with skipped stops) is removed that day the same way, and a realtime
  copy of it runs that day only, with the updated times; skipped stops allow neither boarding
  nor alighting;
- realtime copies are grouped by the pattern of their trip and split into FIFO sub-patterns, so a
  delayed bus overtaken by the next one does not break the earliest-trip binary search;
- an added trip becomes a one-trip pattern on its day;
- an update for a frequency-based trip (one trip_id, one compiled trip per run) applies to the
  run its ``start_time_s`` names.

Problems are returned as `RtError` values (unknown trip, no service that day, ...), never raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from feeds.realtime.model import ResolvedTripUpdate, RtError, RtErrorType

from .compile import Network, fifo_split
from .core.timetable import NO_DROP_OFF, NO_PICKUP, build_stop_patterns

__all__ = ["RealtimeOverlay", "apply_trip_updates"]


@dataclass(frozen=True)
class RealtimeOverlay:
    """What the realtime timetable changed, for mapping statuses back to travellers."""

    canceled: frozenset[tuple[int, int]] = frozenset()  # (static TripIdx, DayIdx)
    replaced: dict[tuple[int, int], int] = field(default_factory=dict)  # (static trip, day) -> rt trip
    added_trips: tuple[int, ...] = ()  # TripIdx of added trips in the realtime timetable
    applied: int = 0
    errors: tuple[RtError, ...] = ()


def _parse_date(text: str) -> date | None:
    try:
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except (ValueError, IndexError, TypeError):
        return None


def apply_trip_updates(static: Network, updates: Iterable[ResolvedTripUpdate]) -> tuple[Network, RealtimeOverlay]:
    """A new network whose timetable has ``updates`` applied (``static`` is left unchanged)."""
    tt = static.timetable
    errors: list[RtError] = []
    # last update wins per run: (trip, service date), plus the start time for frequency trips
    latest: dict[tuple[str, str, int | None], ResolvedTripUpdate] = {}
    for u in updates:
        runs = 0 if u.added else len(static.list_trips(u.trip_id))
        latest[(u.trip_id, u.service_date, u.start_time_s if runs > 1 else None)] = u
    removed_days: dict[int, set[int]] = {}
    canceled: set[tuple[int, int]] = set()
    # realtime trips: (source trip or -1, day, pattern key stops, arr, dep, flags, route, tz, trip id)
    new_trips: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int, str]] = []
    applied = 0
    for (trip_id, service_date, _), u in latest.items():
        d = _parse_date(service_date)
        day = static.find_day(d) if d is not None else None
        if day is None:
            errors.append(RtError(RtErrorType.NO_SERVICE_ON_DATE, trip_id=trip_id, detail=service_date))
            continue
        if u.added:
            made = _added_trip(static, u, day, errors)
            if made is not None:
                new_trips.append(made)
                applied += 1
            continue
        candidates = static.list_trips(trip_id)
        if not candidates:
            errors.append(RtError(RtErrorType.UNKNOWN_TRIP, trip_id=trip_id))
            continue
        if len(candidates) > 1:
            t = _find_run(tt, candidates, day, u.start_time_s)
            if t is None:
                errors.append(RtError(RtErrorType.AMBIGUOUS_TRIP, trip_id=trip_id,
                                      detail=f"frequency-based trip: no run starts at {u.start_time_s} s"))
                continue
        else:
            t = candidates[0]
        if not tt.service_days[tt.trip_service[t], day]:
            errors.append(RtError(RtErrorType.NO_SERVICE_ON_DATE, trip_id=trip_id, detail=service_date))
            continue
        removed_days.setdefault(t, set()).add(day)
        applied += 1
        if u.canceled:
            canceled.add((t, day))
            continue
        p = int(tt.trip_pattern[t])
        s0, s1 = int(tt.pattern_stop_offsets[p]), int(tt.pattern_stop_offsets[p + 1])
        n_s = s1 - s0
        row0 = int(tt.pattern_stop_time_offsets[p]) + (t - int(tt.pattern_trip_offsets[p])) * n_s
        arr = tt.stop_time_arrival[row0: row0 + n_s].astype(np.int64)
        dep = tt.stop_time_departure[row0: row0 + n_s].astype(np.int64)
        flags = tt.stop_time_flags[row0: row0 + n_s].copy()
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
            if stu.skipped:
                flags[i] |= NO_PICKUP | NO_DROP_OFF
        dep = np.maximum(dep, arr)
        fixed = np.maximum.accumulate(np.ravel(np.column_stack([arr, dep])))
        if np.any(fixed != np.ravel(np.column_stack([arr, dep]))):
            errors.append(RtError(RtErrorType.NEGATIVE_HOP_TIME, trip_id=trip_id, detail="times clamped"))
            arr, dep = fixed[0::2], fixed[1::2]
        stops = tt.pattern_stops[s0:s1]
        new_trips.append(
            (t, day, stops, arr, dep, flags, int(tt.pattern_route[p]), int(tt.pattern_tz[p]),
             str(static.trip_ids[t]))
        )
    network, replaced, added = _rebuild(static, removed_days, new_trips)
    overlay = RealtimeOverlay(
        canceled=frozenset(canceled), replaced=replaced, added_trips=tuple(added),
        applied=applied, errors=tuple(errors),
    )
    return network, overlay


def _find_run(tt, runs: list[int], day: int, start_time_s: int | None) -> int | None:
    """The run of a frequency-based trip (one TripIdx per start) that starts at ``start_time_s``.

    An exact start wins; otherwise (exact_times=0 headways, where the vehicle's real start is
    published) the run running that day whose start is nearest, if it is nearer than half the
    gap to the next run on either side. None when nothing identifies one run.
    """
    if start_time_s is None:
        return None
    starts = np.array([int(tt.stop_time_departure[_first_row(tt, t)]) for t in runs], dtype=np.int64)
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


def _first_row(tt, t: int) -> int:
    p = int(tt.trip_pattern[t])
    n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
    return int(tt.pattern_stop_time_offsets[p]) + (t - int(tt.pattern_trip_offsets[p])) * n_s


def _added_trip(static: Network, u: ResolvedTripUpdate, day: int, errors: list[RtError]):
    route = None
    if u.route_id is not None:
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
    return (-1, day, np.asarray(stops, dtype=np.int32), arr, dep, np.zeros(len(stops), np.uint8),
            route, tz, u.trip_id)


def _rebuild(static: Network, removed_days: dict[int, set[int]], new_trips: Sequence[tuple]):
    tt = static.timetable
    service_days = tt.service_days
    trip_service = tt.trip_service.copy()
    extra_rows: list[np.ndarray] = []
    row_of: dict[tuple[int, frozenset[int]], int] = {}
    for t, days in removed_days.items():
        svc = int(trip_service[t])
        key = (svc, frozenset(days))
        if key not in row_of:
            row = service_days[svc].copy()
            row[list(days)] = 0
            row_of[key] = service_days.shape[0] + len(extra_rows)
            extra_rows.append(row)
        trip_service[t] = row_of[key]
    day_rows: dict[int, int] = {}
    for item in new_trips:
        day = item[1]
        if day not in day_rows:
            row = np.zeros(service_days.shape[1], dtype=np.uint8)
            row[day] = 1
            day_rows[day] = service_days.shape[0] + len(extra_rows)
            extra_rows.append(row)
    if extra_rows:
        service_days = np.concatenate([service_days, np.stack(extra_rows)])
    n_trips0 = tt.trip_count
    if not new_trips:
        timetable = tt.replace(trip_service=trip_service, service_days=service_days,
                               trip_source=np.arange(n_trips0, dtype=np.int64))
        return static.with_timetable(timetable), {}, []
    # group realtime trips by (route, stops) then FIFO-split
    groups: dict[bytes, list[int]] = {}
    for i, item in enumerate(new_trips):
        key = np.int64(item[6]).tobytes() + np.int64(item[1]).tobytes() + item[2].tobytes()
        groups.setdefault(key, []).append(i)
    p_stops, p_route, p_tz, p_ntrips = [], [], [], []
    t_src, t_svc, t_acc, t_ids, t_routes, t_heads, t_shapes = [], [], [], [], [], [], []
    st_arr, st_dep, st_flags = [], [], []
    replaced: dict[tuple[int, int], int] = {}
    added: list[int] = []
    next_trip = n_trips0
    for members in groups.values():
        members = sorted(members, key=lambda i: (int(new_trips[i][4][0]), int(new_trips[i][3][-1])))
        arr = np.stack([new_trips[i][3] for i in members])
        dep = np.stack([new_trips[i][4] for i in members])
        sub = fifo_split(arr, dep)
        for g in range(int(sub.max()) + 1):
            chosen = [members[j] for j in np.flatnonzero(sub == g)]
            first = new_trips[chosen[0]]
            p_stops.append(first[2])
            p_route.append(first[6])
            p_tz.append(first[7])
            p_ntrips.append(len(chosen))
            for i in chosen:
                src, day, _, a, d, f, route, _, trip_id = new_trips[i]
                st_arr.append(a)
                st_dep.append(d)
                st_flags.append(f)
                t_src.append(src)
                t_svc.append(day_rows[day])
                t_acc.append(tt.trip_accessible[src] if src >= 0 else 0)
                t_ids.append(trip_id)
                t_routes.append(route)
                t_heads.append(static.trip_headsigns[src] if src >= 0 else "")
                t_shapes.append(static.trip_shape_ids[src] if src >= 0 else "")
                if src >= 0:
                    replaced[(src, day)] = next_trip
                else:
                    added.append(next_trip)
                next_trip += 1
    n_new_p = len(p_stops)
    lens = np.array([s.size for s in p_stops], dtype=np.int64)
    ntr = np.array(p_ntrips, dtype=np.int64)
    pattern_stop_offsets = np.r_[tt.pattern_stop_offsets, tt.pattern_stop_offsets[-1] + np.cumsum(lens)]
    pattern_stops = np.concatenate([tt.pattern_stops, *p_stops]).astype(np.int32)
    pattern_trip_offsets = np.r_[tt.pattern_trip_offsets, tt.pattern_trip_offsets[-1] + np.cumsum(ntr)]
    pattern_stop_time_offsets = np.r_[
        tt.pattern_stop_time_offsets, tt.pattern_stop_time_offsets[-1] + np.cumsum(lens * ntr)
    ]
    n_p0 = tt.pattern_count
    trip_pattern = np.r_[tt.trip_pattern, np.repeat(np.arange(n_p0, n_p0 + n_new_p), ntr)].astype(np.int32)
    sp_off, sp_pat, sp_pos = build_stop_patterns(tt.stop_count, pattern_stop_offsets, pattern_stops)
    timetable = tt.replace(
        pattern_stop_offsets=pattern_stop_offsets.astype(np.int64),
        pattern_stops=pattern_stops,
        pattern_trip_offsets=pattern_trip_offsets.astype(np.int64),
        pattern_stop_time_offsets=pattern_stop_time_offsets.astype(np.int64),
        pattern_route=np.r_[tt.pattern_route, p_route].astype(np.int32),
        pattern_tz=np.r_[tt.pattern_tz, p_tz].astype(np.int32),
        stop_time_arrival=np.concatenate([tt.stop_time_arrival, *st_arr]).astype(np.int32),
        stop_time_departure=np.concatenate([tt.stop_time_departure, *st_dep]).astype(np.int32),
        stop_time_flags=np.concatenate([tt.stop_time_flags, *st_flags]).astype(np.uint8),
        trip_pattern=trip_pattern,
        trip_service=np.r_[trip_service, t_svc].astype(np.int32),
        trip_accessible=np.r_[tt.trip_accessible, t_acc].astype(np.uint8),
        service_days=service_days,
        stop_pattern_offsets=sp_off, stop_pattern_pattern=sp_pat, stop_pattern_pos=sp_pos,
        trip_source=np.r_[np.arange(n_trips0), t_src].astype(np.int64),
        trip_rule_key=_extend_rule_keys(tt, np.asarray(t_src, dtype=np.int64)),
        max_stop_time_s=int(max(tt.max_stop_time_s, max(int(a.max()) for a in st_arr))),
    )
    network = static.with_timetable(
        timetable,
        trip_ids=np.r_[static.trip_ids, np.array(t_ids, dtype=object)],
        trip_routes=np.r_[static.trip_routes, t_routes].astype(np.int32),
        trip_headsigns=np.r_[static.trip_headsigns, np.array(t_heads, dtype=object)],
        trip_shape_ids=np.r_[static.trip_shape_ids, np.array(t_shapes, dtype=object)],
    )
    return network, replaced, added


def _extend_rule_keys(tt, sources: np.ndarray) -> np.ndarray | None:
    """Realtime copies keep their static trip's transfer-rule key; added trips have none."""
    if tt.trip_rule_key is None:
        return None
    extra = np.where(sources >= 0, tt.trip_rule_key[np.maximum(sources, 0)], -1)
    return np.r_[tt.trip_rule_key, extra].astype(np.int32)
