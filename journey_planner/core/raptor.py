"""RAPTOR rounds over the array timetable, compiled with numba (on-disk compile cache).

One run computes, round by round (round k = k trips), the earliest arrival at every stop. Three
labels are kept per (round, stop), because a change of vehicle at the same stop costs the minimum
change time while a walk to another stop costs the walk only:

- ``tarr``: earliest arrival by a trip (parent: trip, service day, board and alight positions);
- ``arr``: earliest arrival by a trip or by a trip then one footpath (what the destination sees);
- ``ready``: earliest time one can board at the stop (trip arrival + change time at that stop,
  or a trip then a footpath, or the access walk in round 0).

Footpaths are transitively closed at compile time, so one footpath follows a trip and footpaths
never chain. Labels persist across runs so that range RAPTOR can run the departures of a window
from the latest to the earliest and reuse the later runs' labels as upper bounds: a label must
beat the same round's label of any run and, from round 1 on, ``best_*``: the best of any round of
this run and of rounds 0 and 1 of the runs before (the caller sets it so between runs). A later
run's label with more rides must not prune one with fewer.

Pruning: a trip arrival that is not earlier than the best trip arrival at that stop in any round,
or not earlier than the best destination arrival with at most k trips, cannot improve the Pareto
set over (arrival, trips) and is dropped.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .timetable import NO_DROP_OFF, NO_PICKUP, SLACK_DEFAULT, SLACK_FORBIDDEN

__all__ = [
    "INF_TIME", "FROM_OWN_TRIP", "FROM_ACCESS", "UNREACHED", "SearchState", "raptor_run", "collect_departures",
]

INF_TIME = np.int64(2**62)
# arr_from / ready_from labels: how the stop was reached in that round (>= 0: walked from that stop)
FROM_OWN_TRIP = -1  # by the trip of tarr at this stop (then its change time, for ready)
FROM_ACCESS = -2  # by the access walk from the origin (round 0)
UNREACHED = -3
NO_RULE_MATCH = -2  # `_earliest_trip_ruled`: no transfers.txt row governs this change
NO_TRIP = -1
NOT_QUEUED = 2**30  # pattern_first: the pattern is not collected for this round
# integer copies of the stop_time_flags bits and slack markers, constants inside the kernels
PICKUP_FORBIDDEN_BIT = int(NO_PICKUP)
DROP_OFF_FORBIDDEN_BIT = int(NO_DROP_OFF)
USE_DEFAULT_SLACK = SLACK_DEFAULT
CHANGE_FORBIDDEN = SLACK_FORBIDDEN


class SearchState:
    """Mutable labels of one search (one query; reused across the runs of a range query)."""

    def __init__(self, rounds: int, stop_count: int, pattern_count: int) -> None:
        k1 = rounds + 1
        shape = (k1, stop_count)
        self.rounds = rounds
        self.tarr = np.full(shape, INF_TIME, dtype=np.int64)
        self.t_trip = np.full(shape, NO_TRIP, dtype=np.int32)
        self.t_day = np.zeros(shape, dtype=np.int32)  # candidate-day index of the trip
        self.t_board = np.zeros(shape, dtype=np.int32)  # board position in the pattern
        self.t_alight = np.zeros(shape, dtype=np.int32)
        self.arr = np.full(shape, INF_TIME, dtype=np.int64)
        self.arr_from = np.full(shape, UNREACHED, dtype=np.int32)  # FROM_*, or the stop walked from
        self.ready = np.full(shape, INF_TIME, dtype=np.int64)
        self.ready_from = np.full(shape, UNREACHED, dtype=np.int32)
        self.best_tarr = np.full(stop_count, INF_TIME, dtype=np.int64)
        self.best_arr = np.full(stop_count, INF_TIME, dtype=np.int64)
        self.best_ready = np.full(stop_count, INF_TIME, dtype=np.int64)
        self.dest_arr = np.full(k1, INF_TIME, dtype=np.int64)
        self.dest_stop = np.full(k1, -1, dtype=np.int32)
        # scratch
        self.marked = np.zeros(stop_count, dtype=np.uint8)
        self.marked_list = np.zeros(stop_count, dtype=np.int32)
        self.next_marked = np.zeros(stop_count, dtype=np.uint8)
        self.next_list = np.zeros(stop_count, dtype=np.int32)
        self.transit_flag = np.zeros(stop_count, dtype=np.uint8)
        self.transit_list = np.zeros(stop_count, dtype=np.int32)
        self.pattern_first = np.full(pattern_count, NOT_QUEUED, dtype=np.int32)
        self.pattern_list = np.zeros(pattern_count, dtype=np.int32)

    def reset(self, rounds: int | None = None) -> None:
        """Every label back to unreached (only rounds 0..``rounds`` of the per-round ones), so the
        arrays serve another search of that many rounds; the scratch arrays are left clean by
        every run."""
        n = self.rounds + 1 if rounds is None else rounds + 1
        for a in (self.tarr[:n], self.arr[:n], self.ready[:n], self.best_tarr, self.best_arr, self.best_ready,
                  self.dest_arr):
            a.fill(INF_TIME)
        self.t_trip[:n].fill(NO_TRIP)
        self.arr_from[:n].fill(UNREACHED)
        self.ready_from[:n].fill(UNREACHED)
        self.dest_stop.fill(-1)


@njit(cache=True, nogil=True)
def _first_at_or_after(st_dep, row0, n_s, n_trips, rel):
    """Binary search: the first trip of the pattern whose departure (row0 + j * n_s) is >= rel."""
    lo = 0
    hi = n_trips
    while lo < hi:
        mid = (lo + hi) >> 1
        if st_dep[row0 + mid * n_s] < rel:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _earliest_trip(p, pos, t_min, p_stop_off, p_trip_off, p_st_off, p_tz, st_dep, st_flags,
                   active, pattern_active, base):
    """(trip, candidate day, absolute departure) of the first trip boardable at (p, pos) >= t_min."""
    n_s = p_stop_off[p + 1] - p_stop_off[p]
    t0 = p_trip_off[p]
    nt = p_trip_off[p + 1] - t0
    row0 = p_st_off[p] + pos
    z = p_tz[p]
    best_abs = INF_TIME
    best_t = NO_TRIP
    best_c = -1
    for c in range(base.shape[0]):
        if pattern_active[c, p] == 0:
            continue
        b = base[c, z]
        for j in range(_first_at_or_after(st_dep, row0, n_s, nt, t_min - b), nt):
            row = row0 + j * n_s
            d = b + st_dep[row]
            if d >= best_abs:
                break
            t = t0 + j
            if active[c, t] != 0 and (st_flags[row] & PICKUP_FORBIDDEN_BIT) == 0:
                best_abs = d
                best_t = t
                best_c = c
                break
    return best_t, best_c, best_abs


@njit(cache=True, nogil=True)
def _earliest_trip_ruled(p, pos, r, t_left, left_stop, left_route, left_key, s, p_stop_off, p_trip_off,
                         p_st_off, p_tz, st_dep, st_flags, active, pattern_active, base, route,
                         rule_off, rule_from_stop, rule_from_route, rule_from_trip, rule_to_route,
                         rule_to_trip, rule_slack, trip_key):
    """`_earliest_trip` for a change governed by transfers.txt rows naming routes or trips.

    ``r`` is the ready time without such rows (stop-level change time or footpath), ``t_left``
    the arrival of the trip left at ``left_stop``. Each candidate trip gets the most specific
    matching row (rows are sorted that way): forbidden (CHANGE_FORBIDDEN), boardable from t_left +
    its time, or from ``r`` (USE_DEFAULT_SLACK: types 0 and 5, an ordinary change).
    Returns (trip, candidate day, departure) or (-1, -1, INF_TIME); the second value of the
    first tuple element is NO_RULE_MATCH when no row matches this change (use the plain search).
    """
    lo_time = r
    matched = False
    for x in range(rule_off[s], rule_off[s + 1]):
        if rule_from_stop[x] != left_stop:
            continue
        if rule_from_route[x] >= 0 and rule_from_route[x] != left_route:
            continue
        if rule_from_trip[x] >= 0 and rule_from_trip[x] != left_key:
            continue
        if rule_to_route[x] >= 0 and rule_to_route[x] != route:
            continue
        matched = True
        if rule_slack[x] >= 0 and t_left + rule_slack[x] < lo_time:
            lo_time = t_left + rule_slack[x]
    if not matched:
        return NO_RULE_MATCH, -1, INF_TIME
    n_s = p_stop_off[p + 1] - p_stop_off[p]
    t0 = p_trip_off[p]
    nt = p_trip_off[p + 1] - t0
    row0 = p_st_off[p] + pos
    z = p_tz[p]
    best_abs = INF_TIME
    best_t = -1
    best_c = -1
    for c in range(base.shape[0]):
        if pattern_active[c, p] == 0:
            continue
        b = base[c, z]
        for j in range(_first_at_or_after(st_dep, row0, n_s, nt, lo_time - b), nt):
            row = row0 + j * n_s
            d = b + st_dep[row]
            if d >= best_abs:
                break
            t = t0 + j
            if active[c, t] == 0 or (st_flags[row] & PICKUP_FORBIDDEN_BIT) != 0:
                continue
            need = r
            for x in range(rule_off[s], rule_off[s + 1]):
                if rule_from_stop[x] != left_stop:
                    continue
                if rule_from_route[x] >= 0 and rule_from_route[x] != left_route:
                    continue
                if rule_from_trip[x] >= 0 and rule_from_trip[x] != left_key:
                    continue
                if rule_to_route[x] >= 0 and rule_to_route[x] != route:
                    continue
                if rule_to_trip[x] >= 0 and rule_to_trip[x] != trip_key[t]:
                    continue
                if rule_slack[x] == CHANGE_FORBIDDEN:
                    need = INF_TIME
                elif rule_slack[x] >= 0:
                    need = t_left + rule_slack[x]
                break  # USE_DEFAULT_SLACK: the stop's own change time (r)
            if d >= need:
                best_abs = d
                best_t = t
                best_c = c
                break
    return best_t, best_c, best_abs


@njit(cache=True, nogil=True)
def _access_round(access_stops, access_times, tarr, t_trip, arr, arr_from, ready, ready_from,
                  best_tarr, best_arr, best_ready, marked, marked_list, transit_flag, transit_list):
    """Round 0: the access walks. Returns (marked stops, stops reached "by trip" to walk on from)."""
    n_marked = 0
    n_transit = 0
    for a in range(access_stops.size):
        s = access_stops[a]
        t = access_times[a]
        if t < tarr[0, s]:  # round 0 answers to round 0 only (best_* may hold a ride's labels)
            best_tarr[s] = min(best_tarr[s], t)
            tarr[0, s] = t
            t_trip[0, s] = NO_TRIP
            if transit_flag[s] == 0:
                transit_flag[s] = 1
                transit_list[n_transit] = s
                n_transit += 1
        if t < arr[0, s]:
            best_arr[s] = min(best_arr[s], t)
            arr[0, s] = t
            arr_from[0, s] = FROM_ACCESS
        if t < ready[0, s]:
            best_ready[s] = min(best_ready[s], t)
            ready[0, s] = t
            ready_from[0, s] = FROM_ACCESS
            if marked[s] == 0:
                marked[s] = 1
                marked_list[n_marked] = s
                n_marked += 1
    return n_marked, n_transit


@njit(cache=True, nogil=True)
def _walk_on(k, bound, n_transit, n_next, fp_off, fp_to, fp_dur, tarr, arr, arr_from, ready, ready_from,
             best_arr, best_ready, transit_flag, transit_list, next_marked, next_list):
    """Footpaths from the stops reached by a trip in round k (arrivals >= bound are useless).
    Returns the new length of the next round's queue."""
    for i in range(n_transit):
        s = transit_list[i]
        transit_flag[s] = 0
        ts = tarr[k, s]
        if ts >= bound:
            continue
        for f in range(fp_off[s], fp_off[s + 1]):
            u = fp_to[f]
            c = ts + fp_dur[f]
            if c >= bound:
                continue
            if c < arr[k, u] and (k == 0 or c < best_arr[u]):
                best_arr[u] = min(best_arr[u], c)
                arr[k, u] = c
                arr_from[k, u] = s
            if c < ready[k, u] and (k == 0 or c < best_ready[u]):
                best_ready[u] = min(best_ready[u], c)
                ready[k, u] = c
                ready_from[k, u] = s
                if next_marked[u] == 0:
                    next_marked[u] = 1
                    next_list[n_next] = u
                    n_next += 1
    return n_next


@njit(cache=True, nogil=True)
def _reach_destination(k, egress_stops, egress_walk, arr, dest_arr, dest_stop):
    for e in range(egress_stops.size):
        s = egress_stops[e]
        if arr[k, s] < INF_TIME:
            c = arr[k, s] + egress_walk[e]
            if c < dest_arr[k]:
                dest_arr[k] = c
                dest_stop[k] = e


@njit(cache=True, nogil=True)
def _collect_patterns(n_marked, marked, marked_list, stop_ok, s_pat_off, s_pat_pat, s_pat_pos,
                      pattern_active, pattern_first, pattern_list):
    """Patterns through the marked stops (idle ones skipped), each from its earliest marked
    position; the marks are cleared. Returns how many patterns are queued."""
    n_pat = 0
    for i in range(n_marked):
        s = marked_list[i]
        marked[s] = 0
        if stop_ok[s] == 0:
            continue
        for x in range(s_pat_off[s], s_pat_off[s + 1]):
            p = s_pat_pat[x]
            pos = s_pat_pos[x]
            idle = True
            for c in range(pattern_active.shape[0]):
                if pattern_active[c, p] != 0:
                    idle = False
            if idle:
                continue
            if pattern_first[p] == NOT_QUEUED:
                pattern_list[n_pat] = p
                n_pat += 1
                pattern_first[p] = pos
            elif pos < pattern_first[p]:
                pattern_first[p] = pos
    return n_pat


@njit(cache=True, nogil=True)
def _board_under_rules(k, p, pos, r, s, ready_from, t_trip, tarr, trip_pattern, pattern_route, trip_key,
                       p_stop_off, p_trip_off, p_st_off, p_tz, st_dep, st_flags, active, pattern_active, base,
                       rule_off, rule_from_stop, rule_from_route, rule_from_trip, rule_to_route, rule_to_trip,
                       rule_slack):
    """At a stop with transfer rules: find the trip the traveller changes from (the trip label of
    the stop, or of the stop a footpath came from) and search under the rules; (NO_RULE_MATCH,
    -1, INF_TIME) when the stop was reached otherwise or no row governs this change."""
    came_from = ready_from[k - 1, s]
    left = s if came_from == FROM_OWN_TRIP else came_from
    if came_from < FROM_OWN_TRIP or t_trip[k - 1, left] < 0:
        return NO_RULE_MATCH, -1, INF_TIME
    left_trip = t_trip[k - 1, left]
    return _earliest_trip_ruled(
        p, pos, r, tarr[k - 1, left], left, pattern_route[trip_pattern[left_trip]],
        trip_key[left_trip], s, p_stop_off, p_trip_off, p_st_off, p_tz, st_dep,
        st_flags, active, pattern_active, base, pattern_route[p], rule_off,
        rule_from_stop, rule_from_route, rule_from_trip, rule_to_route,
        rule_to_trip, rule_slack, trip_key,
    )


@njit(cache=True, nogil=True)
def _scan_patterns(
    k, bound, default_slack, n_pat, pattern_list, pattern_first, p_stop_off, p_stops, p_trip_off, p_st_off, p_tz,
    st_arr, st_dep, st_flags, stop_slack, rule_off, rule_from_stop, rule_from_route, rule_from_trip, rule_to_route,
    rule_to_trip, rule_slack, trip_key, trip_pattern, pattern_route, active, pattern_active, base, stop_ok, tarr,
    t_trip, t_day, t_board, t_alight, arr, arr_from, ready, ready_from, best_tarr, best_arr, best_ready,
    next_marked, next_list, transit_flag, transit_list,
):
    """Round k: ride the queued patterns from their first marked position, boarding earlier trips where one can.
    One loop, called once per round: helpers called per stop made queries several times slower."""
    n_next = 0
    n_transit = 0
    for pi in range(n_pat):
        p = pattern_list[pi]
        start = pattern_first[p]
        pattern_first[p] = NOT_QUEUED
        s0 = p_stop_off[p]
        n_s = p_stop_off[p + 1] - s0
        z = p_tz[p]
        cur_t, cur_c, cur_row0, cur_base, board_pos = NO_TRIP, -1, 0, np.int64(0), -1  # trip ridden, none yet
        for pos in range(start, n_s):
            s = p_stops[s0 + pos]
            if cur_t >= 0:
                row = cur_row0 + pos
                if (st_flags[row] & DROP_OFF_FORBIDDEN_BIT) == 0 and stop_ok[s] != 0:
                    a = cur_base + st_arr[row]
                    if a < best_tarr[s] and a < bound and a < tarr[k, s]:
                        best_tarr[s] = a
                        tarr[k, s] = a
                        t_trip[k, s] = cur_t
                        t_day[k, s] = cur_c
                        t_board[k, s] = board_pos
                        t_alight[k, s] = pos
                        if transit_flag[s] == 0:
                            transit_flag[s] = 1
                            transit_list[n_transit] = s
                            n_transit += 1
                        if a < best_arr[s] and a < arr[k, s]:
                            best_arr[s] = a
                            arr[k, s] = a
                            arr_from[k, s] = FROM_OWN_TRIP
                        sl = stop_slack[s]
                        if sl == USE_DEFAULT_SLACK:
                            sl = default_slack
                        if sl >= 0 and a + sl < best_ready[s] and a + sl < ready[k, s]:
                            best_ready[s] = a + sl
                            ready[k, s] = a + sl
                            ready_from[k, s] = FROM_OWN_TRIP
                            if next_marked[s] == 0:
                                next_marked[s] = 1
                                next_list[n_next] = s
                                n_next += 1
            # can we catch an earlier trip here?
            r = ready[k - 1, s]
            if r < INF_TIME and stop_ok[s] != 0:
                cur_dep = INF_TIME
                if cur_t >= 0:
                    cur_dep = cur_base + st_dep[cur_row0 + pos]
                nt_, nc_, nd_ = NO_RULE_MATCH, -1, INF_TIME
                if rule_off[s] != rule_off[s + 1]:  # transfers.txt rows naming routes/trips
                    nt_, nc_, nd_ = _board_under_rules(
                        k, p, pos, r, s, ready_from, t_trip, tarr, trip_pattern, pattern_route, trip_key,
                        p_stop_off, p_trip_off, p_st_off, p_tz, st_dep, st_flags, active, pattern_active, base,
                        rule_off, rule_from_stop, rule_from_route, rule_from_trip, rule_to_route, rule_to_trip,
                        rule_slack,
                    )
                if nt_ == NO_RULE_MATCH and r <= cur_dep:
                    nt_, nc_, nd_ = _earliest_trip(
                        p, pos, r, p_stop_off, p_trip_off, p_st_off, p_tz, st_dep, st_flags,
                        active, pattern_active, base,
                    )
                if nt_ != NO_RULE_MATCH:
                    if nt_ >= 0 and nd_ < cur_dep:
                        cur_t = nt_
                        cur_c = nc_
                        cur_base = base[nc_, z]
                        cur_row0 = p_st_off[p] + (nt_ - p_trip_off[p]) * n_s
                        board_pos = pos
    return n_next, n_transit


@njit(cache=True, nogil=True)
def raptor_run(
    # timetable
    p_stop_off, p_stops, p_trip_off, p_st_off, p_tz, st_arr, st_dep, st_flags,
    s_pat_off, s_pat_pat, s_pat_pos, fp_off, fp_to, fp_dur, stop_slack,
    rule_off, rule_from_stop, rule_from_route, rule_from_trip, rule_to_route, rule_to_trip,
    rule_slack, trip_key, trip_pattern, pattern_route,
    # query
    active, pattern_active, base, stop_ok, access_stops, access_times, egress_stops, egress_walk,
    max_rounds, default_slack, bound0,
    # state
    tarr, t_trip, t_day, t_board, t_alight, arr, arr_from, ready, ready_from,
    best_tarr, best_arr, best_ready, dest_arr, dest_stop,
    marked, marked_list, next_marked, next_list, transit_flag, transit_list,
    pattern_first, pattern_list,
):
    """One RAPTOR run from the access stops at the given absolute times. Returns rounds run.

    ``bound0`` bounds every label from round 1 on, as a destination arrival would (INF_TIME: none):
    a search that only wants arrivals before a known time says so.
    """
    n_marked, n_transit = _access_round(
        access_stops, access_times, tarr, t_trip, arr, arr_from, ready, ready_from,
        best_tarr, best_arr, best_ready, marked, marked_list, transit_flag, transit_list,
    )
    # round 0 walks on from the access stops without a bound, into this round's marks
    n_marked = _walk_on(0, INF_TIME, n_transit, n_marked, fp_off, fp_to, fp_dur, tarr, arr, arr_from,
                        ready, ready_from, best_arr, best_ready, transit_flag, transit_list, marked, marked_list)
    _reach_destination(0, egress_stops, egress_walk, arr, dest_arr, dest_stop)
    rounds_run = 0
    for k in range(1, max_rounds + 1):
        if n_marked == 0:
            break
        rounds_run = k
        bound = min(bound0, dest_arr[0])
        for j in range(1, k + 1):
            if dest_arr[j] < bound:
                bound = dest_arr[j]
        n_pat = _collect_patterns(n_marked, marked, marked_list, stop_ok, s_pat_off, s_pat_pat, s_pat_pos,
                                  pattern_active, pattern_first, pattern_list)
        n_next, n_transit = _scan_patterns(
            k, bound, default_slack, n_pat, pattern_list, pattern_first,
            p_stop_off, p_stops, p_trip_off, p_st_off, p_tz, st_arr, st_dep, st_flags, stop_slack,
            rule_off, rule_from_stop, rule_from_route, rule_from_trip, rule_to_route, rule_to_trip,
            rule_slack, trip_key, trip_pattern, pattern_route, active, pattern_active, base, stop_ok,
            tarr, t_trip, t_day, t_board, t_alight, arr, arr_from, ready, ready_from,
            best_tarr, best_arr, best_ready, next_marked, next_list, transit_flag, transit_list,
        )
        n_next = _walk_on(k, bound, n_transit, n_next, fp_off, fp_to, fp_dur, tarr, arr, arr_from, ready,
                          ready_from, best_arr, best_ready, transit_flag, transit_list, next_marked, next_list)
        _reach_destination(k, egress_stops, egress_walk, arr, dest_arr, dest_stop)
        # swap marked sets
        n_marked = 0
        for i in range(n_next):
            s = next_list[i]
            next_marked[s] = 0
            marked[s] = 1
            marked_list[n_marked] = s
            n_marked += 1
    # clear marks left by an early stop
    for i in range(n_marked):
        marked[marked_list[i]] = 0
    return rounds_run


@njit(cache=True, nogil=True)
def collect_departures(stops, walk_s, t_from, t_to, p_stop_off, p_trip_off, p_st_off, p_tz,
                       st_dep, st_flags, s_pat_off, s_pat_pat, s_pat_pos, active, base, stop_ok):
    """Distinct departure times from the place (trip departure minus access walk) in [t_from, t_to]."""
    out = []
    for a in range(stops.size):
        s = stops[a]
        if stop_ok[s] == 0:
            continue
        w = walk_s[a]
        for x in range(s_pat_off[s], s_pat_off[s + 1]):
            p = s_pat_pat[x]
            pos = s_pat_pos[x]
            n_s = p_stop_off[p + 1] - p_stop_off[p]
            if pos == n_s - 1:
                continue
            z = p_tz[p]
            t0 = p_trip_off[p]
            for c in range(base.shape[0]):
                b = base[c, z]
                for t in range(t0, p_trip_off[p + 1]):
                    row = p_st_off[p] + (t - t0) * n_s + pos
                    d = b + st_dep[row] - w
                    if d >= t_from and d <= t_to and active[c, t] != 0 and (st_flags[row] & PICKUP_FORBIDDEN_BIT) == 0:
                        out.append(d)
    return np.array(out, dtype=np.int64)
