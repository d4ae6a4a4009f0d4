"""The one entry of the core: `plan(timetable, request) -> PlanResult`.

Depart-at queries run RAPTOR forward. Arrive-by queries run the same kernel on the reversed
timetable (`reverse_timetable`: time negated, patterns and footpaths reversed), so there is a
single kernel to trust; legs are mapped back to the forward timetable before returning. Range
queries run the departures of the window from the latest to the earliest, keeping the labels
(range RAPTOR), and keep each run's journeys that improve on every later departure.

Then every journey found is run again the other way (`_latest_departures`, on the other
timetable, bounded to the journey's corridor): it leaves as late as it can for its arrival with
no more rides (arrive-by: arrives as early as it can for its departure), or gives way to a
journey with more rides that saves a wait longer than max(1 h, its own duration). A window
keeps only the journeys leaving (arriving) inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Lock
from weakref import WeakKeyDictionary

import numpy as np

from .raptor import FROM_ACCESS, INF_TIME, SearchState, collect_departures, raptor_run
from .request import Place, PlanRequest
from .result import Journey, PlanResult, TransitLeg, WalkLeg
from .timetable import Timetable, reverse_timetable

__all__ = ["plan", "candidate_days", "MAX_WINDOW_S"]

MAX_WINDOW_S = 6 * 3600
# An alternative that saves a change by arriving later (or leaving earlier) than another journey
# by more than max(DETOUR_FLOOR_S, that journey's duration) is useless to a traveller.
DETOUR_FLOOR_S = 3600


def candidate_days(tt: Timetable, t_from: int, t_to: int) -> np.ndarray:
    """Service days whose trips may run during [t_from, t_to] (POSIX s), in any time zone."""
    base = tt.day_base_s
    if base.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    starts = base.min(axis=1)
    ends = base.max(axis=1) + tt.max_stop_time_s
    return np.flatnonzero((ends >= t_from) & (starts <= t_to)).astype(np.int64)


def _kernel_args(tt: Timetable) -> tuple:
    return (
        tt.pattern_stop_offsets, tt.pattern_stops, tt.pattern_trip_offsets,
        tt.pattern_stop_time_offsets, tt.pattern_tz, tt.stop_time_arrival, tt.stop_time_departure,
        tt.stop_time_flags, tt.stop_pattern_offsets, tt.stop_pattern_pattern, tt.stop_pattern_pos,
        tt.footpath_offsets, tt.footpath_to, tt.footpath_duration_s, tt.stop_transfer_slack_s,
        *tt.rules_or_empty(), tt.trip_pattern, tt.pattern_route,
    )


def _state_args(st: SearchState) -> tuple:
    return (
        st.tarr, st.t_trip, st.t_day, st.t_board, st.t_alight, st.arr, st.arr_from, st.ready,
        st.ready_from, st.best_tarr, st.best_arr, st.best_ready, st.dest_arr, st.dest_stop,
        st.marked, st.marked_list, st.next_marked, st.next_list, st.transit_flag, st.transit_list,
        st.pattern_first, st.pattern_list,
    )


def _filter_place(place: Place, stop_ok: np.ndarray) -> Place:
    keep = stop_ok[place.stops] != 0
    wm = None if place.walk_m is None else place.walk_m[keep]
    return Place(place.stops[keep], place.walk_s[keep], wm)


def _reconstruct(
    tt: Timetable, st: SearchState, k: int, dest_e: int, origin: Place, dest: Place,
    days: np.ndarray,
) -> list[TransitLeg | WalkLeg]:
    """Legs (in the searched timetable's time) of the round-k journey ending at egress dest_e."""
    legs: list[TransitLeg | WalkLeg] = []
    s = int(dest.stops[dest_e])
    w = int(dest.walk_s[dest_e])
    t_end = int(st.arr[k, s])
    if w > 0:
        wm = None if dest.walk_m is None else float(dest.walk_m[dest_e])
        legs.append(WalkLeg(s, -1, t_end, t_end + w, w, wm))
    frm = int(st.arr_from[k, s])
    if frm >= 0:
        t0 = int(st.tarr[k, frm])
        legs.append(WalkLeg(frm, s, t0, t0 + _fp_duration(tt, frm, s), _fp_duration(tt, frm, s)))
        s = frm
    elif frm == FROM_ACCESS:
        return _finish_access(legs, origin, s, int(st.arr[k, s]))
    while k > 0:
        trip = int(st.t_trip[k, s])
        c = int(st.t_day[k, s])
        bp = int(st.t_board[k, s])
        ap = int(st.t_alight[k, s])
        p = int(tt.trip_pattern[trip])
        n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
        row0 = int(tt.pattern_stop_time_offsets[p]) + (trip - int(tt.pattern_trip_offsets[p])) * n_s
        z = int(tt.pattern_tz[p])
        b = int(tt.day_base_s[days[c], z])
        board_stop = int(tt.pattern_stops[tt.pattern_stop_offsets[p] + bp])
        legs.append(
            TransitLeg(
                trip=trip, pattern=p, day=int(days[c]), board_pos=bp, alight_pos=ap,
                from_stop=board_stop, to_stop=s,
                departure_s=b + int(tt.stop_time_departure[row0 + bp]),
                arrival_s=b + int(tt.stop_time_arrival[row0 + ap]),
            )
        )
        k -= 1
        s = board_stop
        rf = int(st.ready_from[k, s])
        if rf == FROM_ACCESS:
            return _finish_access(legs, origin, s, int(st.ready[k, s]))
        if rf >= 0:
            d = _fp_duration(tt, rf, s)
            t0 = int(st.tarr[k, rf])
            legs.append(WalkLeg(rf, s, t0, t0 + d, d))
            s = rf
            if k == 0:
                return _finish_access(legs, origin, s, int(st.tarr[0, s]))
        elif k == 0:
            return _finish_access(legs, origin, s, int(st.tarr[0, s]))
    return _finish_access(legs, origin, s, int(st.tarr[0, s]))


def _finish_access(legs: list, origin: Place, s: int, t_at_stop: int) -> list:
    hits = np.flatnonzero(origin.stops == s)
    if hits.size:
        a = int(hits[np.argmin(origin.walk_s[hits])])
        w = int(origin.walk_s[a])
        if w > 0:
            wm = None if origin.walk_m is None else float(origin.walk_m[a])
            legs.append(WalkLeg(-1, s, t_at_stop - w, t_at_stop, w, wm))
    legs.reverse()
    return legs


def _fp_duration(tt: Timetable, a: int, b: int) -> int:
    lo, hi = int(tt.footpath_offsets[a]), int(tt.footpath_offsets[a + 1])
    hits = np.flatnonzero(tt.footpath_to[lo:hi] == b)
    return int(tt.footpath_duration_s[lo + hits[0]]) if hits.size else 0


def _reverse_legs(fwd: Timetable, legs: list[TransitLeg | WalkLeg], rev: Timetable) -> list:
    """Legs found on the reversed timetable, in forward time and order."""
    out: list[TransitLeg | WalkLeg] = []
    for leg in reversed(legs):
        if isinstance(leg, WalkLeg):
            out.append(
                WalkLeg(leg.to_stop, leg.from_stop, -leg.arrival_s, -leg.departure_s,
                        leg.duration_s, leg.distance_m, leg.via_stops[::-1])
            )
        else:
            n_s = int(fwd.pattern_stop_offsets[leg.pattern + 1] - fwd.pattern_stop_offsets[leg.pattern])
            out.append(
                TransitLeg(
                    trip=int(rev.trip_source[leg.trip]), pattern=leg.pattern, day=leg.day,
                    board_pos=n_s - 1 - leg.alight_pos, alight_pos=n_s - 1 - leg.board_pos,
                    from_stop=leg.to_stop, to_stop=leg.from_stop,
                    departure_s=-leg.arrival_s, arrival_s=-leg.departure_s,
                )
            )
    return out


def _merge_walks(legs: list[TransitLeg | WalkLeg]) -> list[TransitLeg | WalkLeg]:
    """Consecutive walks as one leg (a walking transfer then the walk to a coordinate is one
    walk for the traveller), with the summed time and distance and the stops passed as via."""
    out: list[TransitLeg | WalkLeg] = []
    for leg in legs:
        prev = out[-1] if out else None
        if isinstance(leg, WalkLeg) and isinstance(prev, WalkLeg):
            distance = (None if prev.distance_m is None or leg.distance_m is None
                        else prev.distance_m + leg.distance_m)
            via = prev.via_stops + ((prev.to_stop,) if prev.to_stop >= 0 else ()) + leg.via_stops
            out[-1] = WalkLeg(prev.from_stop, leg.to_stop, prev.departure_s,
                              prev.departure_s + prev.duration_s + leg.duration_s,
                              prev.duration_s + leg.duration_s, distance, via)
        else:
            out.append(leg)
    return out


def _journey(legs: list[TransitLeg | WalkLeg], fallback_time: int) -> Journey:
    """The journey, with walks before the first ride packed to end as it departs and walks after
    the last ride starting as it arrives (the traveller leaves as late, arrives as early, as they can)."""
    if not legs:
        return Journey((), fallback_time, fallback_time)
    legs = _merge_walks(legs)
    transit = [i for i, leg in enumerate(legs) if isinstance(leg, TransitLeg)]
    if transit:
        out = list(legs)
        t = out[transit[0]].departure_s
        for i in range(transit[0] - 1, -1, -1):
            leg = out[i]
            out[i] = WalkLeg(leg.from_stop, leg.to_stop, t - leg.duration_s, t, leg.duration_s,
                             leg.distance_m, leg.via_stops)
            t -= leg.duration_s
        t = out[transit[-1]].arrival_s
        for i in range(transit[-1] + 1, len(out)):
            leg = out[i]
            out[i] = WalkLeg(leg.from_stop, leg.to_stop, t, t + leg.duration_s, leg.duration_s,
                             leg.distance_m, leg.via_stops)
            t += leg.duration_s
        legs = out
    return Journey(tuple(legs), legs[0].departure_s, legs[-1].arrival_s)


def _signature(j: Journey) -> tuple:
    return tuple(
        (leg.trip, leg.day, leg.board_pos, leg.alight_pos) if isinstance(leg, TransitLeg)
        else (leg.from_stop, leg.to_stop, leg.via_stops)
        for leg in j.legs
    )


@dataclass(frozen=True)
class _Query:
    """One direction of a query: the timetable searched, its masks for the query's days, and the
    places to search from and to (the request's, swapped for arrive-by)."""

    tt: Timetable
    args: tuple  # `_kernel_args(tt)`
    days: np.ndarray
    active: np.ndarray
    pattern_active: np.ndarray
    base: np.ndarray
    stop_ok: np.ndarray
    origin: Place
    dest: Place

    def flipped(self, other: Timetable, reversed_tt: Timetable) -> _Query:
        """The same query on the other timetable, from its destination back to its origin.
        Reversing keeps pattern indices and reverses trips in place (``trip_source`` is its own
        inverse), so the masks are permuted, not rebuilt."""
        active = np.take(self.active, reversed_tt.trip_source, axis=1)
        return _Query(other, _kernel_args(other), self.days, active, self.pattern_active, -self.base,
                      self.stop_ok, self.dest, self.origin)


def plan(timetable: Timetable, request: PlanRequest, reversed_timetable: Timetable | None = None) -> PlanResult:
    """Pareto-optimal journeys over (arrival, transfers), or (departure, arrival, transfers) in a window,
    each leaving as late as it can for its arrival (arrive-by: arriving as early as it can).

    ``reversed_timetable`` is `reverse_timetable(timetable)` when the caller keeps one (snapshots
    do); it is built (once per timetable, kept while the timetable lives) otherwise.
    """
    fwd = timetable
    rev = reversed_timetable if reversed_timetable is not None else _reversed(fwd)
    window = max(0, min(int(request.window_s), MAX_WINDOW_S))
    horizon = int(request.search_horizon_s) + window
    t = int(request.time_s)
    if request.arrive_by:
        tt, other, days = rev, fwd, candidate_days(fwd, t - horizon, t)
        origin, dest, t_query = request.destination, request.origin, -t
    else:
        tt, other, days = fwd, rev, candidate_days(fwd, t, t + horizon)
        origin, dest, t_query = request.origin, request.destination, t
    rounds = max(1, int(request.max_transfers) + 1)
    if days.size == 0:
        return PlanResult((), 0, 0)
    active, pattern_active, base, stop_ok = _query_masks(tt, days, request.wheelchair)
    q = _Query(tt, _kernel_args(tt), days, active, pattern_active, base, stop_ok,
               _filter_place(origin, stop_ok), _filter_place(dest, stop_ok))
    if q.origin.stops.size == 0 or q.dest.stops.size == 0:
        return PlanResult((), 0, 0)
    state = SearchState(rounds, tt.stop_count, tt.pattern_count)
    run_times = _run_times(tt, q.origin, t_query, window, active, base, stop_ok)
    found, rounds_run = _range_search(q, fwd, state, run_times, rounds, request)
    found = _latest_departures(q, q.flipped(other, rev), fwd, state, found, request)
    found = _dedupe([j for j in found if _within(j, request, window)])
    found = _pareto(found, request.arrive_by)
    if window == 0 and found:
        found = _trim_alternatives(found, request.arrive_by)
    found.sort(key=_sort_key(request.arrive_by, window))
    return PlanResult(tuple(found[: max(1, request.max_journeys)]), rounds_run, int(run_times.size))


def _range_search(
    q: _Query, fwd: Timetable, state: SearchState, run_times: np.ndarray, rounds: int, request: PlanRequest,
) -> tuple[list[Journey], int]:
    """The runs from the latest departure to the earliest, labels kept (range RAPTOR): each run's
    journeys that arrive earlier than every later run's with as many rides. Returns them (in
    forward time) and the rounds of the last run."""
    recorded = np.full(rounds + 1, INF_TIME, dtype=np.int64)
    found: list[Journey] = []
    rounds_run = 0
    egress_walk = q.dest.walk_s.astype(np.int64)
    for n, t_run in enumerate(run_times.tolist()):
        if n:  # later runs' labels bound every round >= 1 only from rounds 0 and 1 (fewer rides)
            for best, labels in ((state.best_tarr, state.tarr), (state.best_arr, state.arr),
                                 (state.best_ready, state.ready)):
                np.minimum(labels[0], labels[1], out=best)
        access_times = (t_run + q.origin.walk_s.astype(np.int64)).astype(np.int64)
        rounds_run = raptor_run(
            *q.args, q.active, q.pattern_active, q.base, q.stop_ok, q.origin.stops, access_times, q.dest.stops,
            egress_walk, rounds, int(request.transfer_slack_s), INF_TIME, *_state_args(state),
        )
        best_fewer = INF_TIME
        for k in range(rounds + 1):
            a = int(state.dest_arr[k])
            if a < best_fewer and a < recorded[k]:
                legs = _reconstruct(q.tt, state, k, int(state.dest_stop[k]), q.origin, q.dest, q.days)
                found.append(_to_forward(legs, q.tt, fwd, a))
            recorded[k] = min(recorded[k], a)
            best_fewer = min(best_fewer, a)
    return found, rounds_run


def _to_forward(legs: list[TransitLeg | WalkLeg], searched: Timetable, fwd: Timetable, arrival: int) -> Journey:
    """The journey of legs found on ``searched`` (at searched-time ``arrival``), in forward time."""
    if searched is not fwd:
        return _journey(_reverse_legs(fwd, legs, searched), -arrival)
    return _journey(legs, arrival)


def _latest_departures(
    q: _Query, other: _Query, fwd: Timetable, state: SearchState, journeys: list[Journey], request: PlanRequest,
) -> list[Journey]:
    """Each journey replaced by the one leaving latest for its arrival with no more rides
    (arrive-by: arriving earliest for its departure), so no journey waits longer than it must.

    One run on the other timetable (the reversed one for depart-at) per journey, from its arrival
    back to the origin with at most its rides, on the search's state (reset, not allocated). Two
    bounds keep a run to the journey's corridor, a few stops: a label must leave a stop no earlier
    than the first search reached it, and the origin be left later than the journey does. Runs do
    not share labels: a label kept from a run with more rides would prune one with fewer. A
    journey still longer than DETOUR_FLOOR_S then gets one run with every ride allowed, for
    departures late enough to save a long wait only (`_saves_long_wait`).
    """
    # StopIdx -> earliest arrival from the origin, any round of any run (best_* is per run)
    reach = state.arr.min(axis=0)
    run = _BackwardRuns(other, state, reach, int(request.transfer_slack_s))
    out = list(journeys)
    for i, j in enumerate(journeys):
        a, d, rides = _searched_times(j, request.arrive_by)
        if rides == 0:
            continue
        run(a, d + 1, rides)
        r = int(np.argmin(state.dest_arr[: rides + 1]))
        leave = -int(state.dest_arr[r])
        if leave > d:
            out[i] = run.journey(r, fwd)
        else:
            leave = d
        if a - leave > DETOUR_FLOOR_S and rides < state.rounds:
            run(a, leave + max(DETOUR_FLOOR_S, (a - leave) // 2) + 1, state.rounds)
            r = _saves_long_wait(state.dest_arr, rides)
            if r >= 0:
                out[i] = run.journey(r, fwd)
    return out


class _BackwardRuns:
    """The runs of `_latest_departures` on one state: from the destination at a searched-time
    arrival back to the origin, labels bounded by the first search's earliest arrivals."""

    def __init__(self, other: _Query, state: SearchState, reach: np.ndarray, slack: int) -> None:
        self.other, self.state, self.reach, self.slack = other, state, reach, slack
        self.ruled = np.diff(other.tt.rules_or_empty()[0]) > 0  # change times there depend on trips
        self.access_walk = other.origin.walk_s.astype(np.int64)
        self.egress_walk = other.dest.walk_s.astype(np.int64)

    def __call__(self, a: int, leave: int, rounds: int) -> None:
        """Arrive by ``a``, leave the origin at ``leave`` or later, with at most ``rounds`` rides."""
        st, o = self.state, self.other
        st.reset(rounds)
        limit = 1 - np.minimum(self.reach, a)  # other time: a label must stay below it
        st.best_tarr[:] = limit
        st.best_arr[:] = limit
        limit[self.ruled] = INF_TIME  # a transfer rule may allow a shorter change there
        st.best_ready[:] = limit
        raptor_run(
            *o.args, o.active, o.pattern_active, o.base, o.stop_ok, o.origin.stops, self.access_walk - a,
            o.dest.stops, self.egress_walk, rounds, self.slack, np.int64(1 - leave), *_state_args(st),
        )

    def journey(self, r: int, fwd: Timetable) -> Journey:
        st, o = self.state, self.other
        legs = _reconstruct(o.tt, st, r, int(st.dest_stop[r]), o.origin, o.dest, o.days)
        return _to_forward(legs, o.tt, fwd, int(st.dest_arr[r]))


def _saves_long_wait(dest_arr: np.ndarray, rides: int) -> int:
    """The fewest rides above ``rides`` with a journey in ``dest_arr`` (a run bounded to leave
    late enough to save more than max(DETOUR_FLOOR_S, its own duration)), or -1. Leaving at 23:33
    to wait 6 h for the first train saves a change, nothing a traveller wants: the rule
    `_trim_alternatives` applies to arrivals, applied to departures."""
    for more in range(rides + 1, dest_arr.size):
        if dest_arr[more] < INF_TIME:
            return more
    return -1


def _searched_times(j: Journey, arrive_by: bool) -> tuple[int, int, int]:
    """(arrival, departure, rides) in the time of the searched timetable (negated for arrive-by)."""
    rides = sum(isinstance(leg, TransitLeg) for leg in j.legs)
    if arrive_by:
        return -j.departure_s, -j.arrival_s, rides
    return j.arrival_s, j.departure_s, rides


def _within(j: Journey, request: PlanRequest, window: int) -> bool:
    """Depart-at: leaves at or after the query time (and by the window's end); arrive-by: arrives
    by the query time (and from the window's start)."""
    t = int(request.time_s)
    if request.arrive_by:
        return j.arrival_s <= t and (window == 0 or j.arrival_s >= t - window)
    return j.departure_s >= t and (window == 0 or j.departure_s <= t + window)


def _dedupe(journeys: list[Journey]) -> list[Journey]:
    seen: set[tuple] = set()
    out = []
    for j in journeys:
        sig = _signature(j)
        if sig not in seen:
            seen.add(sig)
            out.append(j)
    return out


_REVERSED: WeakKeyDictionary = WeakKeyDictionary()
_REVERSED_LOCK = Lock()


def _reversed(fwd: Timetable) -> Timetable:
    """`reverse_timetable(fwd)`, built once per timetable object (timetables are immutable)."""
    with _REVERSED_LOCK:
        found = _REVERSED.get(fwd)
    if found is None:
        found = reverse_timetable(fwd)
        with _REVERSED_LOCK:
            _REVERSED[fwd] = found
    return found


def _query_masks(
    tt: Timetable, days: np.ndarray, wheelchair: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(candidate day, trip) runs, (candidate day, pattern) runs, day origins, usable stops."""
    # one gather per day: indexing the (service, day) bitmap by trip at once is several times slower
    active = np.stack([tt.service_days[:, d].take(tt.trip_service) for d in days.tolist()])
    if wheelchair:
        active &= tt.trip_accessible[np.newaxis, :]
        stop_ok = tt.stop_accessible.astype(np.uint8)
    else:
        stop_ok = np.ones(tt.stop_count, dtype=np.uint8)
    base = np.ascontiguousarray(tt.day_base_s[days])
    starts = tt.pattern_trip_offsets[:-1]
    nonempty = np.flatnonzero(np.diff(tt.pattern_trip_offsets) > 0)
    pattern_active = np.zeros((days.size, tt.pattern_count), dtype=np.uint8)
    if nonempty.size:
        pattern_active[:, nonempty] = np.maximum.reduceat(active, starts[nonempty], axis=1)
    return active, pattern_active, base, stop_ok


def _run_times(
    tt: Timetable, origin: Place, t_query: int, window: int,
    active: np.ndarray, base: np.ndarray, stop_ok: np.ndarray,
) -> np.ndarray:
    """The departure times of the runs, latest first: the query time, or every departure of the
    window from the origin's stops and the window's start (its run finds the earliest journey,
    also one that walks to another stop first, which no departure of the origin's own starts)."""
    if window <= 0:
        return np.array([t_query], dtype=np.int64)
    departures = collect_departures(
        origin.stops, origin.walk_s, t_query, t_query + window, tt.pattern_stop_offsets,
        tt.pattern_trip_offsets, tt.pattern_stop_time_offsets, tt.pattern_tz,
        tt.stop_time_departure, tt.stop_time_flags, tt.stop_pattern_offsets,
        tt.stop_pattern_pattern, tt.stop_pattern_pos, active, base, stop_ok,
    )
    return np.unique(np.append(departures, np.int64(t_query)))[::-1]


def _latest_departure_first(j: Journey) -> tuple[int, int, int]:
    return (-j.departure_s, j.arrival_s, j.transfers)


def _earliest_departure_first(j: Journey) -> tuple[int, int, int]:
    return (j.departure_s, j.arrival_s, j.transfers)


def _earliest_arrival_first(j: Journey) -> tuple[int, int]:
    return (j.arrival_s, j.transfers)


def _sort_key(arrive_by: bool, window: int):
    """Arrive-by: latest departure first; a window: by departure; else by arrival."""
    if arrive_by:
        return _latest_departure_first
    return _earliest_departure_first if window > 0 else _earliest_arrival_first


def _pareto(journeys: list[Journey], arrive_by: bool) -> list[Journey]:
    """Drop journeys another one beats on departure, arrival and transfers (all at least as good)."""
    keep: list[Journey] = []
    for j in journeys:
        dominated = False
        for o in journeys:
            if o is j:
                continue
            better_eq = (o.departure_s >= j.departure_s and o.arrival_s <= j.arrival_s
                         and o.transfers <= j.transfers)
            strictly = (o.departure_s > j.departure_s or o.arrival_s < j.arrival_s
                        or o.transfers < j.transfers)
            if better_eq and strictly:
                dominated = True
                break
        if not dominated:
            keep.append(j)
    return keep


def _trim_alternatives(journeys: list[Journey], arrive_by: bool) -> list[Journey]:
    """Drop Pareto alternatives that only win on transfers by costing a large detour in time.

    A journey with fewer changes that arrives the next morning is Pareto-optimal but useless;
    keep alternatives arriving (departing, for arrive-by) within max(1 h, fastest duration) of
    the best one.
    """
    if arrive_by:
        best = max(journeys, key=lambda j: (j.departure_s, -j.transfers))
        limit = max(DETOUR_FLOOR_S, best.duration_s)
        return [j for j in journeys if j.departure_s >= best.departure_s - limit]
    best = min(journeys, key=lambda j: (j.arrival_s, j.transfers))
    limit = max(DETOUR_FLOOR_S, best.duration_s)
    return [j for j in journeys if j.arrival_s <= best.arrival_s + limit]
