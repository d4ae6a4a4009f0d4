"""NO_SERVICE service alerts as routing constraints: which stop-times of which runs they close.

An alert whose effect is NO_SERVICE closes, during its active periods, what its informed entities
name (GTFS-realtime: the fields of one entity combine as AND, the entities of an alert as OR):

- a stop: no boarding nor alighting there (a station, location_type 1: all its platforms);
- a route, a trip (its ``start_date`` / ``start_time`` when given), an agency, a route_type: every
  stop-time of its runs, so the run is cancelled when all of them are in the period;
- a route section: entities carrying both a route_id and a stop_id close those stops for that
  route; where a trip calls at two or more of them consecutively it is cut there, so nobody
  rides across: the part ending at the section's first stop allows alighting there only, the
  part starting at its last stop allows boarding there only.

A stop-time is closed when its time lies in an active period: its departure for boarding, its
arrival for alighting (the realtime times of a run with a trip update) (half-open ``[start, end)`` ranges, POSIX seconds; no period: always).
Other effects only inform (journey_planner.alert_index attaches them to legs).

Work is per (trip, day) run and limited to the days within `ALERT_HORIZON_BEFORE_S` /
`ALERT_HORIZON_AFTER_S` of "now": alerts are a realtime concern; closures far ahead belong in the
static GTFS. Targets come from the timetable's indexes (stop -> (pattern, position), pattern ->
route), so a stop closure costs the few patterns calling there, never a scan of the stop-times.

Limits: the compiled network knows neither a route's agency nor a trip's direction, so an agency
is matched by its feed (every route of the agency's feed) and an entity with a direction_id does
not close anything (it still informs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from feeds.realtime.model import Alert, EntitySelector

from .compile import Network
from .core.timetable import NO_DROP_OFF, NO_PICKUP
from .realtime_trips import RealtimeTrip, parse_service_date

__all__ = [
    "ALERT_HORIZON_AFTER_S", "ALERT_HORIZON_BEFORE_S", "NO_SERVICE", "RunEdit", "alert_periods",
    "AlertEdits", "apply_closures", "closed_network", "closures_for_alerts", "feed_of",
]

ALERT_HORIZON_BEFORE_S = 86_400  # runs up to one day before now are still edited (long runs, late queries)
ALERT_HORIZON_AFTER_S = 3 * 86_400  # and up to three days ahead; further closures belong in the GTFS
NO_SERVICE = "NO_SERVICE"
_INF = np.iinfo(np.int64).max // 4

Periods = tuple[np.ndarray, np.ndarray]  # (starts, ends), POSIX s, half-open


@dataclass
class RunEdit:
    """What the alerts do to one run: positions closed for boarding / alighting, sections cut."""

    no_board: np.ndarray  # position -> closed for boarding (bool)
    no_alight: np.ndarray  # position -> closed for alighting (bool)
    cuts: set[tuple[int, int]] = field(default_factory=set)  # (first, last) position of a cut section
    alert_ids: set[str] = field(default_factory=set)


@dataclass
class AlertEdits:
    """What the NO_SERVICE alerts do: per-run edits, and the stop closures that hold on every day
    (an alert active throughout the timetable), applied to the stop-time flags of the static trips
    themselves: no realtime copy per run (a stop closure on the demo region closes tens of
    thousands of runs within the horizon)."""

    runs: dict[tuple[int, int], RunEdit] = field(default_factory=dict)
    static: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)  # (pattern, trips, positions)
    static_ids: dict[tuple[int, int], set[str]] = field(default_factory=dict)  # horizon run -> alert ids


def alert_periods(alert: Alert, now_s: int | None) -> Periods:
    """The alert's active periods clipped to the horizon around ``now_s`` (none: always active)."""
    lo, hi = (-_INF, _INF) if now_s is None else (now_s - ALERT_HORIZON_BEFORE_S, now_s + ALERT_HORIZON_AFTER_S)
    ranges = [(p.start if p.start is not None else -_INF, p.end if p.end is not None else _INF)
              for p in alert.active_periods] or [(-_INF, _INF)]
    clipped = [(max(a, lo), min(b, hi)) for a, b in ranges if max(a, lo) < min(b, hi)]
    return (np.array([a for a, _ in clipped], dtype=np.int64), np.array([b for _, b in clipped], dtype=np.int64))


def _in_periods(times: np.ndarray, periods: Periods) -> np.ndarray:
    starts, ends = periods
    t = times[..., np.newaxis]
    return np.any((t >= starts) & (t < ends), axis=-1)


def feed_of(network: Network, namespaced_id: str) -> str | None:
    """The feed id an id such as ``feed:agency`` belongs to, or None."""
    for feed in network.feed_ids:
        if namespaced_id.startswith(feed + ":"):
            return feed
    return None


def closures_for_alerts(static: Network, alerts: Iterable[Alert], now_s: int | None,
                        updated: Mapping[tuple[int, int], RealtimeTrip] | None = None) -> AlertEdits:
    """What the NO_SERVICE ``alerts`` close: per run ((static trip, day) -> `RunEdit`), and the
    always-active stop closures (on the static trips' flags). A run with a trip update
    (``updated``: (static trip, day) -> its updated copy) is judged on its realtime times: a
    delayed bus reaching a stop after its closure began does not stop there."""
    updated = updated or {}
    found = AlertEdits()
    edits = found.runs
    for alert in alerts:
        if alert.effect != NO_SERVICE:
            continue
        periods = alert_periods(alert, now_s)
        if periods[0].size == 0:
            continue
        days = _days_in(static, periods)
        if days.size == 0:
            continue
        sections: dict[str, set[int]] = {}
        for sel in alert.informed_entities:
            if sel.direction_id is not None:
                continue  # the compiled network has no direction: inform only (module docstring)
            if sel.stop_id is not None and sel.route_id is not None:
                sections.setdefault(sel.route_id, set()).update(_stop_set(static, sel.stop_id))
                continue
            always = _always_active(static, alert)
            for p, positions in _targets(static, sel):
                trips, only_day = _trip_filter(static, sel, p)
                if always and positions is not None and only_day is None:
                    found.static.append((p, trips, positions))
                    _note_runs(static, trips, days, alert.entity_id, found.static_ids)
                else:
                    _close(static, p, positions, (trips, only_day), days, periods, alert.entity_id, edits, updated)
        for route_id, stops in sections.items():
            _close_sections(static, route_id, stops, days, periods, alert.entity_id, edits, updated)
    return found


def _always_active(static: Network, alert: Alert) -> bool:
    """Whether some period of the alert covers every stop-time of the timetable."""
    tt = static.timetable
    if not alert.active_periods:
        return True
    first = int(tt.day_base_s.min()) if tt.day_count else 0
    last = int(tt.day_base_s.max()) + int(tt.max_stop_time_s) if tt.day_count else 0
    return any((p.start is None or p.start <= first) and (p.end is None or p.end > last) for p in alert.active_periods)


def _note_runs(static: Network, trips: np.ndarray, days: np.ndarray, alert_id: str, ids: dict) -> None:
    """Record ``alert_id`` on the runs of ``trips`` within the horizon days."""
    for day in days.tolist():
        for t in _running(static, trips, day).tolist():
            ids.setdefault((t, day), set()).add(alert_id)


def closed_network(static: Network, edits: AlertEdits) -> tuple[Network, np.ndarray | None]:
    """``static`` with the always-active stop closures on its trips' flags (a copy; ``static``
    itself when there are none), and the flag bits they added (per stop-time row)."""
    if not edits.static:
        return static, None
    tt = static.timetable
    flags = tt.stop_time_flags.copy()
    both = NO_PICKUP | NO_DROP_OFF
    for p, trips, positions in edits.static:
        n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
        rows = (int(tt.pattern_stop_time_offsets[p]) + (trips - int(tt.pattern_trip_offsets[p]))[:, np.newaxis] * n_s
                + np.asarray(positions)[np.newaxis, :])
        flags[rows] |= both
    added = flags & ~tt.stop_time_flags
    return static.with_timetable(tt.replace(stop_time_flags=flags)), added


def _days_in(static: Network, periods: Periods) -> np.ndarray:
    """DayIdx whose runs may have a stop-time within the periods."""
    tt = static.timetable
    first = tt.day_base_s.min(axis=1)
    last = tt.day_base_s.max(axis=1) + int(tt.max_stop_time_s)
    starts, ends = periods
    hit = np.any((first[:, np.newaxis] < ends) & (last[:, np.newaxis] >= starts), axis=1)
    return np.flatnonzero(hit)


def _stop_set(static: Network, stop_id: str) -> list[int]:
    s = static.find_stop(stop_id)
    if s is None:
        return []
    return sorted({s, *static.list_station_stops(s).tolist()})


def _pattern_positions(static: Network, stops: Iterable[int]) -> dict[int, list[int]]:
    """pattern -> positions of ``stops`` in it (from the stop -> (pattern, position) index)."""
    tt = static.timetable
    found: dict[int, list[int]] = {}
    for s in stops:
        for k in range(int(tt.stop_pattern_offsets[s]), int(tt.stop_pattern_offsets[s + 1])):
            found.setdefault(int(tt.stop_pattern_pattern[k]), []).append(int(tt.stop_pattern_pos[k]))
    return found


def _route_mask(static: Network, sel: EntitySelector) -> np.ndarray | None:
    """RouteIdx -> matches the selector's agency / route / route_type (None: no route condition)."""
    mask = None
    if sel.route_id is not None:
        mask = static.route_ids == sel.route_id
    if sel.route_type is not None:
        m = static.route_types == sel.route_type
        mask = m if mask is None else mask & m
    if sel.agency_id is not None:
        feed = feed_of(static, sel.agency_id)
        m = np.array([feed is not None and str(r).startswith(feed + ":") for r in static.route_ids.tolist()],
                     dtype=bool)
        mask = m if mask is None else mask & m
    return mask


def _targets(static: Network, sel: EntitySelector) -> list[tuple[int, np.ndarray | None]]:
    """(pattern, closed positions or None for all) the selector names."""
    tt = static.timetable
    routes = _route_mask(static, sel)
    if sel.stop_id is not None:
        by_pattern = _pattern_positions(static, _stop_set(static, sel.stop_id))
        return [(p, np.array(pos)) for p, pos in by_pattern.items()
                if routes is None or routes[tt.pattern_route[p]]]
    trip_id = sel.trip.trip_id if sel.trip is not None else None
    if trip_id is not None:
        patterns = sorted({int(tt.trip_pattern[t]) for t in static.list_trips(trip_id)})
        return [(p, None) for p in patterns if routes is None or routes[tt.pattern_route[p]]]
    if routes is None:
        return []  # an empty selector names nothing
    return [(int(p), None) for p in np.flatnonzero(routes[tt.pattern_route])]


def _trip_filter(static: Network, sel: EntitySelector, p: int):
    """TripIdx of pattern ``p`` the selector's trip names (all when none), and a day it requires."""
    tt = static.timetable
    trips = np.arange(int(tt.pattern_trip_offsets[p]), int(tt.pattern_trip_offsets[p + 1]))
    trip = sel.trip
    if trip is None or trip.trip_id is None:
        return trips, None
    keep = static.trip_ids[trips] == trip.trip_id
    if trip.start_time:
        start = _seconds(trip.start_time)
        n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
        rows = int(tt.pattern_stop_time_offsets[p]) + (trips - trips[0]) * n_s if trips.size else trips
        keep &= tt.stop_time_departure[rows] == start
    day = None
    if trip.start_date:
        d = parse_service_date(trip.start_date)
        day = static.find_day(d) if d is not None else -1
        day = -1 if day is None else day
    return trips[keep], day


def _seconds(hms: str) -> int:
    """GTFS "HH:MM:SS" (hours may pass 24) -> seconds; -1 (no trip starts then) when unreadable."""
    try:
        h, m, sec = (int(x) for x in hms.split(":"))
    except ValueError:
        return -1
    return h * 3600 + m * 60 + sec


def _run_times(static: Network, p: int, trips: np.ndarray, day: int,
               updated: Mapping[tuple[int, int], RealtimeTrip]):
    """(arrival, departure) POSIX s of ``trips`` of pattern ``p`` on ``day``: arrays (trips,
    positions); the realtime times of a run with an update (same stop list)."""
    tt = static.timetable
    n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
    rows = int(tt.pattern_stop_time_offsets[p]) + (trips - int(tt.pattern_trip_offsets[p]))[:, np.newaxis] * n_s
    rows = rows + np.arange(n_s)
    base = int(tt.day_base_s[day, tt.pattern_tz[p]])
    arr = tt.stop_time_arrival[rows].astype(np.int64) + base
    dep = tt.stop_time_departure[rows].astype(np.int64) + base
    if updated:
        for i, t in enumerate(trips.tolist()):
            trip = updated.get((t, day))
            if trip is not None and trip.stops.size == n_s:
                arr[i], dep[i] = trip.arr + base, trip.dep + base
    return arr, dep


def _running(static: Network, trips: np.ndarray, day: int) -> np.ndarray:
    tt = static.timetable
    return trips[tt.service_days[tt.trip_service[trips], day] == 1]


def _edit(edits: dict, t: int, day: int, n_s: int) -> RunEdit:
    edit = edits.get((t, day))
    if edit is None:
        edit = edits[(t, day)] = RunEdit(np.zeros(n_s, dtype=bool), np.zeros(n_s, dtype=bool))
    return edit


def _close(static: Network, p: int, positions: np.ndarray | None, trip_filter, days: np.ndarray,
           periods: Periods, alert_id: str, edits: dict, updated: Mapping) -> None:
    """Close ``positions`` (all when None) of the pattern's filtered trips where in the periods."""
    tt = static.timetable
    trips, only_day = trip_filter
    n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
    cols = np.arange(n_s) if positions is None else positions
    for day in days.tolist():
        if only_day is not None and day != only_day:
            continue
        running = _running(static, trips, day)
        if running.size == 0:
            continue
        arr, dep = _run_times(static, p, running, day, updated)
        board = _in_periods(dep[:, cols], periods)
        alight = _in_periods(arr[:, cols], periods)
        for i in np.flatnonzero(board.any(axis=1) | alight.any(axis=1)).tolist():
            edit = _edit(edits, int(running[i]), day, n_s)
            edit.no_board[cols[board[i]]] = True
            edit.no_alight[cols[alight[i]]] = True
            edit.alert_ids.add(alert_id)


def _close_sections(static: Network, route_id: str, stops: set[int], days: np.ndarray, periods: Periods,
                    alert_id: str, edits: dict, updated: Mapping) -> None:
    """Route-section semantics: consecutive section stops cut the trip, a lone one is closed."""
    tt = static.timetable
    routes = static.route_ids == route_id
    for p, positions in _pattern_positions(static, stops).items():
        if not routes[tt.pattern_route[p]]:
            continue
        positions = sorted(set(positions))
        runs, lone = _consecutive(positions)
        trips = np.arange(int(tt.pattern_trip_offsets[p]), int(tt.pattern_trip_offsets[p + 1]))
        if lone:
            _close(static, p, np.array(lone), (trips, None), days, periods, alert_id, edits, updated)
        n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
        for first, last in runs:
            for day in days.tolist():
                running = _running(static, trips, day)
                if running.size == 0:
                    continue
                arr, dep = _run_times(static, p, running, day, updated)
                inside = np.r_[first: last + 1]
                hit = _in_periods(arr[:, inside], periods).any(axis=1) | _in_periods(dep[:, inside], periods).any(axis=1)
                for i in np.flatnonzero(hit).tolist():
                    edit = _edit(edits, int(running[i]), day, n_s)
                    edit.cuts.add((first, last))
                    edit.alert_ids.add(alert_id)


def _consecutive(positions: list[int]) -> tuple[list[tuple[int, int]], list[int]]:
    """Sorted positions -> (runs of two or more consecutive ones as (first, last), lone ones)."""
    runs, lone = [], []
    i = 0
    while i < len(positions):
        j = i
        while j + 1 < len(positions) and positions[j + 1] == positions[j] + 1:
            j += 1
        if j > i:
            runs.append((positions[i], positions[j]))
        else:
            lone.append(positions[i])
        i = j + 1
    return runs, lone


def apply_closures(static: Network, found: AlertEdits, added: np.ndarray | None,
                   changed: dict[tuple[int, int], RealtimeTrip], canceled: set[tuple[int, int]],
                   removed_days: dict[int, set[int]]) -> tuple[list[RealtimeTrip], dict[tuple[int, int], tuple[str, ...]]]:
    """The realtime trips running instead of the updated (``changed``) and alert-hit runs, and the
    alert ids per run; a run left with no ride is added to ``canceled``, every edited run to
    ``removed_days`` (both updated in place). ``static`` is the network `closed_network` made,
    ``added`` its closure bits, also set on the updated copies."""
    edits = found.runs
    if added is not None:
        changed = {run: _with_bits(static, run[0], trip, added) for run, trip in changed.items()}
    trips = [trip for run, trip in changed.items() if run not in edits]
    alert_ids: dict[tuple[int, int], tuple[str, ...]] = {}
    for run, ids in found.static_ids.items():
        alert_ids[run] = tuple(sorted(ids | (edits[run].alert_ids if run in edits else set())))
    for (t, day), edit in edits.items():
        alert_ids[(t, day)] = tuple(sorted(edit.alert_ids | found.static_ids.get((t, day), set())))
        if (t, day) in canceled:
            continue
        base = changed.get((t, day)) or _static_copy(static, t, day)
        if base.stops.size != edit.no_board.size:  # a replaced stop list: positions do not apply
            trips.append(base)
            continue
        parts = _cut(base, edit)
        removed_days.setdefault(t, set()).add(day)
        if parts:
            trips.extend(parts)
        else:
            canceled.add((t, day))
    return trips, alert_ids


def _with_bits(static: Network, t: int, trip: RealtimeTrip, added: np.ndarray) -> RealtimeTrip:
    """An updated copy of static trip ``t`` with the closure bits of its static stop-times."""
    tt = static.timetable
    p = int(tt.trip_pattern[t])
    n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
    if trip.stops.size != n_s:
        return trip
    row0 = tt.trip_rows(t)[0]
    bits = added[row0: row0 + n_s]
    if not bits.any():
        return trip
    return RealtimeTrip(trip.source, trip.day, trip.stops, trip.arr, trip.dep, trip.flags | bits, trip.route,
                        trip.tz, trip.trip_id)


def _cut(base: RealtimeTrip, edit: RunEdit) -> list[RealtimeTrip]:
    """The run with the edit's closures, split at its cut sections; parts with no ride dropped."""
    flags = base.flags.copy()
    flags[edit.no_board] |= NO_PICKUP
    flags[edit.no_alight] |= NO_DROP_OFF
    bounds: list[tuple[int, int]] = []
    start = 0
    for first, last in sorted(edit.cuts):
        if first < start:
            start = max(start, last)
            continue
        bounds.append((start, first))
        start = last
    bounds.append((start, flags.size - 1))
    parts = []
    for k, (a, b) in enumerate(bounds):
        f = flags[a: b + 1].copy()
        if k > 0:
            f[0] |= NO_DROP_OFF  # starts at a section's last stop: boarding only
        if k < len(bounds) - 1:
            f[-1] |= NO_PICKUP  # ends at a section's first stop: alighting only
        if not _has_ride(f):
            continue
        parts.append(RealtimeTrip(base.source, base.day, base.stops[a: b + 1], base.arr[a: b + 1],
                                  base.dep[a: b + 1], f, base.route, base.tz, base.trip_id))
    return parts


def _has_ride(flags: np.ndarray) -> bool:
    """Whether some position allows boarding with a later one allowing alighting."""
    board = np.flatnonzero((flags & NO_PICKUP) == 0)
    alight = np.flatnonzero((flags & NO_DROP_OFF) == 0)
    return bool(board.size and alight.size and board[0] < alight[-1])


def _static_copy(static: Network, t: int, day: int) -> RealtimeTrip:
    """Static trip ``t`` as a realtime trip of ``day`` (scheduled times and flags)."""
    tt = static.timetable
    p = int(tt.trip_pattern[t])
    s0, s1 = int(tt.pattern_stop_offsets[p]), int(tt.pattern_stop_offsets[p + 1])
    n_s = s1 - s0
    row0 = tt.trip_rows(t)[0]
    return RealtimeTrip(t, day, tt.pattern_stops[s0:s1], tt.stop_time_arrival[row0: row0 + n_s].astype(np.int64),
                        tt.stop_time_departure[row0: row0 + n_s].astype(np.int64),
                        tt.stop_time_flags[row0: row0 + n_s].copy(), int(tt.pattern_route[p]),
                        int(tt.pattern_tz[p]), str(static.trip_ids[t]))
