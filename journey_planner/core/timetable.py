"""The timetable as a catalogue of flat numpy arrays (struct of arrays, nigiri style).

Indices are dense ints. A *pattern* is what RAPTOR calls a route: trips with the same stop
sequence whose times never overtake each other (FIFO at every stop), so the earliest trip at a
stop is found by binary search. GTFS string ids never appear here; they live in lookup tables at
the edge (`journey_planner.compile.Network`).

Time model: stop times are seconds since "noon minus 12 h" of the trip's service day in the
pattern's time zone (the GTFS definition; it stays right on DST change days). The absolute time
of trip t on service day d is ``day_base_s[d, pattern_tz[p]] + stop_time``. A query looks at the
few service days that overlap its time span (yesterday's trips past 24:00 included).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import NewType

import numpy as np

__all__ = [
    "StopIdx",
    "PatternIdx",
    "RouteIdx",
    "TripIdx",
    "DayIdx",
    "Timetable",
    "NO_PICKUP",
    "NO_DROP_OFF",
    "SLACK_DEFAULT",
    "SLACK_FORBIDDEN",
    "build_stop_patterns",
    "build_rule_index",
    "reverse_timetable",
]

StopIdx = NewType("StopIdx", int)
PatternIdx = NewType("PatternIdx", int)
RouteIdx = NewType("RouteIdx", int)
TripIdx = NewType("TripIdx", int)
DayIdx = NewType("DayIdx", int)

NO_PICKUP = np.uint8(1)  # stop_time_flags bit: boarding not allowed (pickup_type=1)
NO_DROP_OFF = np.uint8(2)  # stop_time_flags bit: alighting not allowed (drop_off_type=1)
SLACK_DEFAULT = -1  # stop_transfer_slack_s: use the request's minimum change time
SLACK_FORBIDDEN = -2  # stop_transfer_slack_s: no change at this stop (transfers.txt type 3)


@dataclass(frozen=True, eq=False)
class Timetable:
    """Every array the router reads. Treat as read-only; realtime builds a new one."""

    # --- stops -----------------------------------------------------------------------------
    stop_lat: np.ndarray  # StopIdx -> latitude (float64)
    stop_lon: np.ndarray  # StopIdx -> longitude (float64)
    stop_parent: np.ndarray  # StopIdx -> StopIdx of its station, -1 when none (int32)
    stop_accessible: np.ndarray  # StopIdx -> 1 when wheelchair boarding is possible (uint8)
    stop_transfer_slack_s: np.ndarray  # StopIdx -> min change time at the stop, or SLACK_* (int32)
    # --- patterns (RAPTOR routes) ----------------------------------------------------------
    pattern_stop_offsets: np.ndarray  # PatternIdx -> start in pattern_stops, CSR (int64 [P+1])
    pattern_stops: np.ndarray  # CSR values -> StopIdx, in travel order (int32)
    pattern_trip_offsets: np.ndarray  # PatternIdx -> first TripIdx; trips are contiguous (int64 [P+1])
    pattern_stop_time_offsets: np.ndarray  # PatternIdx -> first stop_time row (int64 [P+1])
    pattern_route: np.ndarray  # PatternIdx -> RouteIdx (int32)
    pattern_tz: np.ndarray  # PatternIdx -> time-zone index into day_base_s columns (int32)
    # --- stop_times: row = pattern_stop_time_offsets[p] + (t - first trip) * n_stops + pos --
    stop_time_arrival: np.ndarray  # row -> arrival, s since service-day noon-12h (int32)
    stop_time_departure: np.ndarray  # row -> departure, same encoding (int32)
    stop_time_flags: np.ndarray  # row -> NO_PICKUP | NO_DROP_OFF bits (uint8)
    # --- trips (sorted by departure inside each pattern) -----------------------------------
    trip_pattern: np.ndarray  # TripIdx -> PatternIdx (int32)
    trip_service: np.ndarray  # TripIdx -> service index, row of service_days (int32)
    trip_accessible: np.ndarray  # TripIdx -> 1 when wheelchair_accessible=1 (uint8)
    # --- service days ----------------------------------------------------------------------
    service_days: np.ndarray  # (service, DayIdx) -> 1 when the service runs that day (uint8 2-D)
    first_day_ordinal: int  # DayIdx 0 -> date.toordinal() of the first service day
    day_base_s: np.ndarray  # (DayIdx, tz) -> POSIX seconds of that day's noon minus 12 h (int64 2-D)
    # --- stop -> patterns serving it (CSR) -------------------------------------------------
    stop_pattern_offsets: np.ndarray  # StopIdx -> start in stop_pattern_* (int64 [S+1])
    stop_pattern_pattern: np.ndarray  # CSR values -> PatternIdx (int32)
    stop_pattern_pos: np.ndarray  # CSR values -> position of the stop in that pattern (int32)
    # --- walking transfers between distinct stops (CSR, transitively closed) --------------
    footpath_offsets: np.ndarray  # StopIdx -> start in footpath_* (int64 [S+1])
    footpath_to: np.ndarray  # CSR values -> StopIdx reached on foot (int32)
    footpath_duration_s: np.ndarray  # CSR values -> walking time incl. transfers.txt time (int32)
    # --- bookkeeping -----------------------------------------------------------------------
    max_stop_time_s: int = 0  # largest stop time of any trip (e.g. 97200 for 27:00:00)
    # TripIdx -> TripIdx it stands for: in a reversed timetable the forward trip; in a realtime
    # one the static trip it replaces that day (-1 for an added trip); None when identity
    trip_source: np.ndarray | None = None
    # --- transfers.txt rows naming routes or trips (CSR by the stop boarded) ---------------
    # Sorted most specific first inside a stop (GTFS order: both trips, trip + route, one trip,
    # both routes, one route), so the first row matching a change is the one that applies.
    # None when the timetable has none (rules_or_empty() gives empty arrays).
    transfer_rule_offsets: np.ndarray | None = None  # StopIdx boarded -> start in transfer_rule_* (int64 [S+1])
    transfer_rule_from_stop: np.ndarray | None = None  # CSR values -> StopIdx the previous trip was left at (int32)
    transfer_rule_from_route: np.ndarray | None = None  # CSR values -> RouteIdx arrived with, -1 any (int32)
    transfer_rule_from_trip: np.ndarray | None = None  # CSR values -> trip rule key arrived with, -1 any (int32)
    transfer_rule_to_route: np.ndarray | None = None  # CSR values -> RouteIdx boarded, -1 any (int32)
    transfer_rule_to_trip: np.ndarray | None = None  # CSR values -> trip rule key boarded, -1 any (int32)
    transfer_rule_slack_s: np.ndarray | None = None  # CSR values -> min change time, or SLACK_FORBIDDEN (int32)
    trip_rule_key: np.ndarray | None = None  # TripIdx -> key of its trip_id in the rules, -1 unnamed (int32)

    @property
    def stop_count(self) -> int:
        return int(self.stop_lat.size)

    @property
    def pattern_count(self) -> int:
        return int(self.pattern_route.size)

    @property
    def trip_count(self) -> int:
        return int(self.trip_pattern.size)

    @property
    def day_count(self) -> int:
        return int(self.service_days.shape[1])

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array field by name (for the on-disk cache)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        }

    def replace(self, **changes: object) -> Timetable:
        return replace(self, **changes)

    def trip_rows(self, trip: int) -> tuple[int, int]:
        """The [first, end) stop-time rows of ``trip``: one per stop of its pattern, in order."""
        p = int(self.trip_pattern[trip])
        n_s = int(self.pattern_stop_offsets[p + 1] - self.pattern_stop_offsets[p])
        first = int(self.pattern_stop_time_offsets[p]) + (trip - int(self.pattern_trip_offsets[p])) * n_s
        return first, first + n_s

    def rules_or_empty(self) -> tuple[np.ndarray, ...]:
        """The transfer-rule arrays in kernel order (offsets, from stop/route/trip, to route/trip,
        slack, trip keys), empty ones when the timetable has no scoped rules."""
        if self.transfer_rule_offsets is not None and self.trip_rule_key is not None:
            return (self.transfer_rule_offsets, self.transfer_rule_from_stop, self.transfer_rule_from_route,
                    self.transfer_rule_from_trip, self.transfer_rule_to_route, self.transfer_rule_to_trip,
                    self.transfer_rule_slack_s, self.trip_rule_key)
        e = np.zeros(0, dtype=np.int32)
        return (np.zeros(self.stop_count + 1, dtype=np.int64), e, e, e, e, e, e,
                np.full(self.trip_count, -1, dtype=np.int32))

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays().values())


def build_stop_patterns(
    stop_count: int, pattern_stop_offsets: np.ndarray, pattern_stops: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stop -> (pattern, position) CSR index from the pattern -> stops CSR."""
    counts = np.diff(pattern_stop_offsets)
    pattern_of = np.repeat(np.arange(counts.size, dtype=np.int32), counts)
    pos_of = (np.arange(pattern_stops.size) - np.repeat(pattern_stop_offsets[:-1], counts)).astype(
        np.int32
    )
    order = np.argsort(pattern_stops, kind="stable")
    offsets = np.zeros(stop_count + 1, dtype=np.int64)
    np.cumsum(np.bincount(pattern_stops, minlength=stop_count), out=offsets[1:])
    return offsets, pattern_of[order], pos_of[order]


def reverse_timetable(tt: Timetable) -> Timetable:
    """The same network with time running backwards, for arrive-by searches.

    Patterns are reversed (last stop first), times negated (a departure becomes minus the
    arrival), trips reversed in each pattern so they stay sorted, pickup and drop-off swapped,
    footpaths transposed, and day bases negated. A forward search on the result is a backward
    search on ``tt``; ``trip_source`` maps each reversed trip back to its trip in ``tt``.
    """
    n_patterns = tt.pattern_count
    stop_counts = np.diff(tt.pattern_stop_offsets)
    trip_counts = np.diff(tt.pattern_trip_offsets)
    # pattern stops reversed within each pattern
    ps_index = np.arange(tt.pattern_stops.size)
    p_of = np.repeat(np.arange(n_patterns), stop_counts)
    local = ps_index - tt.pattern_stop_offsets[:-1][p_of]
    rev_ps = tt.pattern_stops[tt.pattern_stop_offsets[:-1][p_of] + (stop_counts[p_of] - 1 - local)]
    # stop_time rows: row(p, t_local, pos) -> row(p, n_t-1-t_local, n_s-1-pos)
    rows = np.arange(tt.stop_time_arrival.size)
    row_pattern = np.repeat(np.arange(n_patterns), stop_counts * trip_counts)
    base = tt.pattern_stop_time_offsets[:-1][row_pattern]
    within = rows - base
    ns = stop_counts[row_pattern]
    nt = trip_counts[row_pattern]
    t_local = within // np.maximum(ns, 1)
    pos = within % np.maximum(ns, 1)
    src = base + (nt - 1 - t_local) * ns + (ns - 1 - pos)
    arr = -tt.stop_time_departure[src]
    dep = -tt.stop_time_arrival[src]
    f = tt.stop_time_flags[src]
    flags = ((f & NO_PICKUP) << 1) | ((f & NO_DROP_OFF) >> 1)
    # trips reversed within each pattern
    trip_idx = np.arange(tt.trip_count)
    tp = tt.trip_pattern
    first = tt.pattern_trip_offsets[:-1][tp]
    trip_src = first + (trip_counts[tp] - 1 - (trip_idx - first))
    # footpaths transposed
    fp_from = np.repeat(np.arange(tt.stop_count, dtype=np.int32), np.diff(tt.footpath_offsets))
    order = np.lexsort((fp_from, tt.footpath_to))
    fp_offsets = np.zeros(tt.stop_count + 1, dtype=np.int64)
    np.cumsum(np.bincount(tt.footpath_to, minlength=tt.stop_count), out=fp_offsets[1:])
    sp_off, sp_pat, sp_pos = build_stop_patterns(tt.stop_count, tt.pattern_stop_offsets, rev_ps)
    rules = _transpose_rules(tt, trip_src)
    return tt.replace(
        **rules,
        pattern_stops=rev_ps.astype(np.int32),
        stop_time_arrival=arr.astype(np.int32),
        stop_time_departure=dep.astype(np.int32),
        stop_time_flags=flags.astype(np.uint8),
        trip_service=tt.trip_service[trip_src],
        trip_accessible=tt.trip_accessible[trip_src],
        day_base_s=-tt.day_base_s,
        stop_pattern_offsets=sp_off,
        stop_pattern_pattern=sp_pat,
        stop_pattern_pos=sp_pos,
        footpath_offsets=fp_offsets,
        footpath_to=fp_from[order],
        footpath_duration_s=tt.footpath_duration_s[order],
        trip_source=trip_src.astype(np.int64),
    )


def build_rule_index(
    stop_count: int, board_stop: np.ndarray, from_stop: np.ndarray, from_route: np.ndarray,
    from_trip: np.ndarray, to_route: np.ndarray, to_trip: np.ndarray, slack_s: np.ndarray,
) -> dict[str, np.ndarray]:
    """The transfer_rule_* CSR (by boarded stop, most specific first) from one row per rule."""
    n_trips = (from_trip >= 0).astype(np.int64) + (to_trip >= 0)
    n_routes = (from_route >= 0).astype(np.int64) + (to_route >= 0)
    specificity = n_trips * 3 + n_routes
    order = np.lexsort((-specificity, board_stop))
    offsets = np.zeros(stop_count + 1, dtype=np.int64)
    np.cumsum(np.bincount(board_stop.astype(np.int64), minlength=stop_count), out=offsets[1:])
    columns = {"from_stop": from_stop, "from_route": from_route, "from_trip": from_trip,
               "to_route": to_route, "to_trip": to_trip, "slack_s": slack_s}
    rules = {"transfer_rule_offsets": offsets}
    for name, values in columns.items():
        rules[f"transfer_rule_{name}"] = np.ascontiguousarray(values[order], dtype=np.int32)
    return rules


def _transpose_rules(tt: Timetable, trip_src: np.ndarray) -> dict[str, np.ndarray]:
    """Rules for the reversed timetable: the trip boarded backwards is the one left forwards."""
    off, f_stop, f_route, f_trip, t_route, t_trip, slack, key = tt.rules_or_empty()
    board = np.repeat(np.arange(tt.stop_count, dtype=np.int64), np.diff(off))
    rules = build_rule_index(tt.stop_count, f_stop.astype(np.int64), board, t_route, t_trip, f_route,
                             f_trip, slack)
    rules["trip_rule_key"] = np.ascontiguousarray(key[trip_src], dtype=np.int32)
    return rules
