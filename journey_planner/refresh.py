"""Itinerary refresh: re-read an itinerary id against one snapshot (pure, sync: run it in the executor).

`check_itinerary` finds each leg's trip run again (static TripIdx by trip id and service date,
the run of a frequency trip by its planned boarding time), follows it into the realtime
timetable (the overlay's ``replaced`` copy, or ``canceled``), finds the boarding and alighting
positions by stop id, reads scheduled and realtime times, and checks that every change still
holds: the next leg leaves at least the change time after the previous one arrives (the stop's
change time or the request's minimum at the same stop, the footpath's walking time between two
stops, or a transfers.txt rule naming the routes or trips). What breaks is data, not an
exception: `Problem` values with the codes below. The watches module reads `LegCheck` to know
where a traveller still is (``stops_after``) and plans alternatives from there.

`itinerary_check_json` renders a check for ``GET /v1/itineraries/{id}``; legs are rendered by
`Mapper.transit_leg_json` on a reconstructed core `TransitLeg`, so they look exactly like the legs
of ``/v1/journeys``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from .compile import Network
from .core import TransitLeg
from .core.timetable import NO_DROP_OFF, NO_PICKUP, SLACK_DEFAULT, SLACK_FORBIDDEN
from .itineraries import ItineraryRef, LegRef, encode_itinerary_id
from .mapping import NO_OVERLAY, Mapper
from .realtime import RealtimeOverlay
from .realtime_trips import parse_service_date
from .snapshot import Snapshot

__all__ = [
    "ALIGHTING_STOP_CLOSED", "BOARDING_STOP_CLOSED", "CONNECTION_MISSED", "TRIP_CANCELED", "TRIP_NOT_FOUND",
    "ItineraryCheck", "LegCheck", "Problem", "check_itinerary", "itinerary_check_json",
]

TRIP_CANCELED = "trip_canceled"  # the run does not run that day any more (trip update or alert)
TRIP_NOT_FOUND = "trip_not_found"  # no such trip (or stops) in the timetable: the feed changed
BOARDING_STOP_CLOSED = "boarding_stop_closed"  # the run no longer picks up at the boarding stop
ALIGHTING_STOP_CLOSED = "alighting_stop_closed"  # the run no longer sets down at the alighting stop
CONNECTION_MISSED = "connection_missed"  # less than the change time between this leg and the previous one

# LegCheck.status values (besides Mapper.status's scheduled / on_time / delayed / early)
STATUS_CANCELED = "cancelled"  # spelled as the legs and departures of the API spell it
STATUS_SKIPPED = "skipped"  # the boarding or alighting stop is skipped / closed
STATUS_NOT_FOUND = "not_found"
STATUS_ADDED = "added"  # a trip the realtime feed added (no schedule)


@dataclass(frozen=True)
class Problem:
    """Why an itinerary no longer holds: ``code`` (the constants above), the leg it concerns
    (for connection_missed: the leg that can no longer be caught) and a human sentence."""

    code: str
    leg_index: int
    detail: str


@dataclass(frozen=True)
class LegCheck:
    """One transit leg re-read against a snapshot.

    Times are POSIX seconds (None when the run is not found). ``trip`` is the TripIdx in the
    network that was checked (``snapshot.network(realtime)``: the realtime copy when the run has
    one) and ``board_pos``/``alight_pos`` positions in that trip's pattern (-1 when not found);
    ``day`` is the DayIdx. ``stops_after``: the StopIdx the trip still calls at after boarding
    (where one may alight), up to and past the alighting stop, with their realtime arrival in
    ``stops_after_arrival_s`` (empty for a canceled or unknown run).
    """

    index: int
    trip_id: str
    service_date: str  # YYYYMMDD
    status: str  # scheduled, on_time, delayed, early, added, cancelled, skipped, not_found
    departure_s: int | None
    arrival_s: int | None
    scheduled_departure_s: int | None
    scheduled_arrival_s: int | None
    trip: int
    day: int
    board_pos: int
    alight_pos: int
    stops_after: tuple[int, ...] = ()
    stops_after_arrival_s: tuple[int, ...] = ()


@dataclass(frozen=True)
class ItineraryCheck:
    """Whether every leg still runs as planned and every change still holds (``ok``), per leg."""

    ok: bool
    legs: tuple[LegCheck, ...]
    problems: tuple[Problem, ...]
    realtime: bool = False  # whether the realtime timetable was read


def check_itinerary(snapshot: Snapshot, ref: ItineraryRef, *, min_transfer_s: int = 120,
                    realtime: bool = True) -> ItineraryCheck:
    """Re-read ``ref`` against ``snapshot`` (its realtime timetable unless ``realtime`` is False):
    each leg's run, times and status, and whether every change still leaves the change time
    (``min_transfer_s`` at a stop that sets none)."""
    use_rt = realtime and snapshot.has_realtime()
    network = snapshot.network(use_rt)
    overlay = snapshot.overlay if use_rt else NO_OVERLAY
    legs: list[LegCheck] = []
    problems: list[Problem] = []
    for index, leg_ref in enumerate(ref.legs):
        leg, problem = _check_leg(snapshot.static, network, overlay, index, leg_ref)
        legs.append(leg)
        if problem is not None:
            problems.append(problem)
    for before, after in zip(legs, legs[1:]):
        problem = _connection_problem(network, ref, before, after, min_transfer_s)
        if problem is not None:
            problems.append(problem)
    return ItineraryCheck(not problems, tuple(legs), tuple(problems), use_rt)


@dataclass(frozen=True)
class _Run:
    """A leg's static run: static TripIdx, DayIdx and the boarding / alighting positions."""

    trip: int
    day: int
    board_pos: int
    alight_pos: int


def _not_found(index: int, leg_ref: LegRef, detail: str) -> tuple[LegCheck, Problem]:
    leg = LegCheck(index, leg_ref.trip_id, leg_ref.service_date, STATUS_NOT_FOUND, None, None, None, None,
                   -1, -1, -1, -1)
    return leg, Problem(TRIP_NOT_FOUND, index, detail)


def _check_leg(static: Network, network: Network, overlay: RealtimeOverlay, index: int,
               leg_ref: LegRef) -> tuple[LegCheck, Problem | None]:
    """One leg against the checked ``network`` (static or realtime); its problem, if any."""
    d = parse_service_date(leg_ref.service_date)
    day = static.find_day(d) if d is not None else None
    if day is None:
        return _not_found(index, leg_ref, f"service date {leg_ref.service_date} is outside the timetable")
    board, alight = static.find_stop(leg_ref.board_stop_id), static.find_stop(leg_ref.alight_stop_id)
    if board is None or alight is None:
        return _not_found(index, leg_ref, "a stop of the leg is no longer in the timetable")
    run = _static_run(static, leg_ref, day, board, alight)
    if run is None:
        added = _added_run(network, overlay, leg_ref.trip_id, day, board, alight)
        if added is None:
            return _not_found(index, leg_ref, f"trip {leg_ref.trip_id} does not run on {leg_ref.service_date} "
                                               f"from {leg_ref.board_stop_id} to {leg_ref.alight_stop_id}")
        return _leg_of(network, index, leg_ref, added, added, live=True), None
    if (run.trip, day) in overlay.canceled:
        sched = _times(static.timetable, run.trip, day, run.board_pos, run.alight_pos)
        leg = LegCheck(index, leg_ref.trip_id, leg_ref.service_date, STATUS_CANCELED, sched[0], sched[1],
                       sched[0], sched[1], run.trip, day, run.board_pos, run.alight_pos)
        return leg, Problem(TRIP_CANCELED, index, f"trip {leg_ref.trip_id} is cancelled on {leg_ref.service_date}")
    copy = _realtime_run(network, overlay, run, board, alight)
    if copy is None:  # the realtime copy no longer calls at the boarding stop (a closed stop, a replacement)
        sched = _times(static.timetable, run.trip, day, run.board_pos, run.alight_pos)
        leg = LegCheck(index, leg_ref.trip_id, leg_ref.service_date, STATUS_SKIPPED, sched[0], sched[1],
                       sched[0], sched[1], run.trip, day, run.board_pos, run.alight_pos)
        return leg, Problem(BOARDING_STOP_CLOSED, index, f"trip {leg_ref.trip_id} no longer stops at "
                                                          f"{leg_ref.board_stop_id}")
    leg = _leg_of(network, index, leg_ref, copy, run, live=copy.trip != run.trip, static=static)
    return leg, _closed_end_problem(network, leg_ref, leg, copy)


def _static_run(static: Network, leg_ref: LegRef, day: int, board: int, alight: int) -> _Run | None:
    """The static run of the leg: among the trips carrying its id that run that day and call at
    the boarding stop then the alighting stop, the one leaving the boarding stop at the planned
    time (``board_time_s``; frequency trips), or nearest to it, or the first."""
    tt = static.timetable
    best: tuple[int, _Run] | None = None
    for trip in static.list_trips(leg_ref.trip_id):
        if not tt.service_days[tt.trip_service[trip], day]:
            continue
        positions = _positions(tt, trip, board, alight)
        if positions is None:
            continue
        run = _Run(trip, day, *positions)
        if leg_ref.board_time_s is None:
            return run
        gap = abs(_stop_time(tt, trip, run.board_pos)[1] - leg_ref.board_time_s)
        if best is None or gap < best[0]:
            best = (gap, run)
    return None if best is None else best[1]


def _added_run(network: Network, overlay: RealtimeOverlay, trip_id: str, day: int, board: int,
               alight: int) -> _Run | None:
    """An added realtime trip with that id running that day (a journey planned on it)."""
    tt = network.timetable
    for trip in overlay.added_trips:
        if str(network.trip_ids[trip]) != trip_id or not tt.service_days[tt.trip_service[trip], day]:
            continue
        positions = _positions(tt, trip, board, alight, strict=False)
        if positions is not None:
            return _Run(trip, day, *positions)
    return None


def _realtime_run(network: Network, overlay: RealtimeOverlay, run: _Run, board: int, alight: int) -> _Run | None:
    """The run in the checked network: the static trip itself, or its realtime copy (one of its
    parts when an alert cut it: the part calling at the boarding stop), None when no copy calls
    at the boarding stop any more. Positions ignore pickup / drop-off flags (checked after)."""
    tt = network.timetable
    copy = overlay.replaced.get((run.trip, run.day))
    if copy is None:
        return run
    candidates = overlay.parts.get((run.trip, run.day), (copy,))
    fallback = None
    for trip in candidates:
        positions = _positions(tt, trip, board, alight, strict=False)
        if positions is None:
            continue
        found = _Run(trip, run.day, *positions)
        if positions[1] >= 0:
            return found
        fallback = fallback or found
    return fallback


def _positions(tt, trip: int, board: int, alight: int, *, strict: bool = True) -> tuple[int, int] | None:
    """(board position, alight position) of ``trip``'s pattern: the first occurrence of the
    boarding stop, then the alighting stop after it. ``strict``: None unless both are found;
    otherwise the alight position is -1 when the trip no longer reaches the alighting stop."""
    p = int(tt.trip_pattern[trip])
    stops = tt.pattern_stops[int(tt.pattern_stop_offsets[p]):int(tt.pattern_stop_offsets[p + 1])]
    at_board = np.flatnonzero(stops == board)
    if at_board.size == 0:
        return None
    b = int(at_board[0])
    at_alight = np.flatnonzero(stops[b + 1:] == alight)
    if at_alight.size == 0:
        return None if strict else (b, -1)
    return b, b + 1 + int(at_alight[0])


def _row(tt, trip: int, pos: int) -> int:
    return tt.trip_rows(trip)[0] + pos


def _stop_time(tt, trip: int, pos: int) -> tuple[int, int, int]:
    """(arrival, departure, flags) of ``trip`` at ``pos``, times relative to its service day."""
    row = _row(tt, trip, pos)
    return int(tt.stop_time_arrival[row]), int(tt.stop_time_departure[row]), int(tt.stop_time_flags[row])


def _base(tt, trip: int, day: int) -> int:
    return int(tt.day_base_s[day, tt.pattern_tz[tt.trip_pattern[trip]]])


def _times(tt, trip: int, day: int, board_pos: int, alight_pos: int) -> tuple[int, int]:
    """(departure at board_pos, arrival at alight_pos) of the run, POSIX seconds."""
    base = _base(tt, trip, day)
    return base + _stop_time(tt, trip, board_pos)[1], base + _stop_time(tt, trip, alight_pos)[0]


def _leg_of(network: Network, index: int, leg_ref: LegRef, copy: _Run, run: _Run, *, live: bool,
            static: Network | None = None) -> LegCheck:
    """The check of a leg found in ``network`` (``copy``) whose static run is ``run`` (``static``
    None: an added trip, no schedule). A closed end keeps its scheduled time."""
    tt = network.timetable
    base = _base(tt, copy.trip, copy.day)
    sched_dep = sched_arr = None
    if static is not None:
        sched_dep, sched_arr = _times(static.timetable, run.trip, run.day, run.board_pos, run.alight_pos)
    _, dep, board_flags = _stop_time(tt, copy.trip, copy.board_pos)
    departure = base + dep
    closed = bool(board_flags & NO_PICKUP)
    if copy.alight_pos >= 0:
        arr, _, alight_flags = _stop_time(tt, copy.trip, copy.alight_pos)
        arrival = base + arr
        closed = closed or bool(alight_flags & NO_DROP_OFF)
    else:
        arrival, closed = sched_arr, True
    if closed:
        status = STATUS_SKIPPED
    elif static is None:
        status = STATUS_ADDED
    elif sched_dep is None or sched_arr is None or arrival is None:
        status = Mapper.status(live, 0, 0)
    else:
        status = Mapper.status(live, departure - sched_dep, arrival - sched_arr)
    after, after_s = _stops_after(tt, copy.trip, copy.board_pos, base) if not (board_flags & NO_PICKUP) else ((), ())
    return LegCheck(index, leg_ref.trip_id, leg_ref.service_date, status, departure, arrival, sched_dep, sched_arr,
                    copy.trip, copy.day, copy.board_pos, copy.alight_pos, after, after_s)


def _stops_after(tt, trip: int, board_pos: int, base: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The stops after ``board_pos`` where the trip still sets down, and its arrival there."""
    p = int(tt.trip_pattern[trip])
    s0, s1 = int(tt.pattern_stop_offsets[p]), int(tt.pattern_stop_offsets[p + 1])
    row0 = _row(tt, trip, 0)
    positions = np.arange(board_pos + 1, s1 - s0)
    keep = positions[(tt.stop_time_flags[row0 + positions] & NO_DROP_OFF) == 0]
    arrivals = tt.stop_time_arrival[row0 + keep].astype(np.int64) + base
    return tuple(tt.pattern_stops[s0 + keep].tolist()), tuple(arrivals.tolist())


def _closed_end_problem(network: Network, leg_ref: LegRef, leg: LegCheck, copy: _Run) -> Problem | None:
    """boarding_stop_closed / alighting_stop_closed for a run that no longer picks up or sets down there."""
    tt = network.timetable
    if _stop_time(tt, copy.trip, copy.board_pos)[2] & NO_PICKUP:
        return Problem(BOARDING_STOP_CLOSED, leg.index, f"trip {leg_ref.trip_id} no longer picks up at "
                                                        f"{leg_ref.board_stop_id}")
    if copy.alight_pos < 0 or _stop_time(tt, copy.trip, copy.alight_pos)[2] & NO_DROP_OFF:
        return Problem(ALIGHTING_STOP_CLOSED, leg.index, f"trip {leg_ref.trip_id} no longer sets down at "
                                                         f"{leg_ref.alight_stop_id}")
    return None


def _connection_problem(network: Network, ref: ItineraryRef, before: LegCheck, after: LegCheck,
                        min_transfer_s: int) -> Problem | None:
    """connection_missed when ``after`` leaves less than the change time after ``before`` arrives
    (legs already broken otherwise are not checked again)."""
    broken = (STATUS_NOT_FOUND, STATUS_CANCELED, STATUS_SKIPPED)
    if before.status in broken or after.status in broken or before.arrival_s is None or after.departure_s is None:
        return None
    a_id, b_id = ref.legs[before.index].alight_stop_id, ref.legs[after.index].board_stop_id
    a, b = network.find_stop(a_id), network.find_stop(b_id)
    if a is None or b is None:
        return None
    need = _change_time(network, a, b, before.trip, after.trip, min_transfer_s)
    gap = after.departure_s - before.arrival_s
    where = f"at {a_id}" if a == b else f"from {a_id} to {b_id}"
    if need is None:
        return Problem(CONNECTION_MISSED, after.index, f"changing {where} is not allowed")
    if gap < need:
        return Problem(CONNECTION_MISSED, after.index, f"{gap} s left to change {where}, {need} s needed")
    return None


def _change_time(network: Network, a: int, b: int, before_trip: int, after_trip: int,
                 min_transfer_s: int) -> int | None:
    """The change time the core applies between arriving at ``a`` on ``before_trip`` and leaving
    ``b`` on ``after_trip``: a transfers.txt row naming their routes or trips, else the stop's own
    change time (or ``min_transfer_s``) at the same stop, else the footpath's walking time (the
    minimum when no footpath joins them). None: the change is forbidden."""
    tt = network.timetable
    off, from_stop, from_route, from_trip, to_route, to_trip, slack, keys = tt.rules_or_empty()
    routes = network.trip_routes
    for x in range(int(off[b]), int(off[b + 1])):
        if (from_stop[x] == a and from_route[x] in (-1, routes[before_trip]) and from_trip[x] in (-1, keys[before_trip])
                and to_route[x] in (-1, routes[after_trip]) and to_trip[x] in (-1, keys[after_trip])):
            if slack[x] == SLACK_FORBIDDEN:
                return None
            if slack[x] >= 0:
                return int(slack[x])
            break  # the default: the stop's change time or the footpath
    if a == b:
        own = int(tt.stop_transfer_slack_s[a])
        return None if own == SLACK_FORBIDDEN else (min_transfer_s if own == SLACK_DEFAULT else own)
    lo, hi = int(tt.footpath_offsets[a]), int(tt.footpath_offsets[a + 1])
    found = np.flatnonzero(tt.footpath_to[lo:hi] == b)
    return int(tt.footpath_duration_s[lo + int(found[0])]) if found.size else min_transfer_s


def itinerary_check_json(snapshot: Snapshot, ref: ItineraryRef, check: ItineraryCheck,
                         langs: Sequence[str] = ()) -> dict:
    """The ``ItineraryCheck`` answer of ``GET /v1/itineraries/{id}`` (times ISO 8601 with the
    stop's offset; each found leg also rendered as /v1/journeys renders it, under ``leg``, with
    its alerts in ``langs``, preferred first)."""
    network = snapshot.network(check.realtime)
    mapper = Mapper(network, snapshot.overlay if check.realtime else NO_OVERLAY, check.realtime,
                    alerts=snapshot.alerts if check.realtime else None, langs=tuple(langs))
    legs = [_leg_json(mapper, ref.legs[leg.index], leg) for leg in check.legs]
    first = next((leg for leg in legs if leg["departure"] is not None), None)
    last = next((leg for leg in reversed(legs) if leg["arrival"] is not None), None)
    return {
        "id": encode_itinerary_id(ref),
        "ok": check.ok,
        "realtime": check.realtime,
        "origin": ref.origin,
        "destination": ref.destination,
        "departure": first["departure"] if first else None,
        "arrival": last["arrival"] if last else None,
        "legs": legs,
        "problems": [{"code": p.code, "leg_index": p.leg_index, "detail": p.detail} for p in check.problems],
    }


def _leg_json(mapper: Mapper, leg_ref: LegRef, leg: LegCheck) -> dict:
    network = mapper.network
    board = network.find_stop(leg_ref.board_stop_id)
    alight = network.find_stop(leg_ref.alight_stop_id)
    at_board = -1 if board is None else board
    at_alight = -1 if alight is None else alight

    def delay(actual: int | None, planned: int | None) -> int | None:
        return None if actual is None or planned is None or leg.status == STATUS_CANCELED else actual - planned

    rendered = None
    if leg.trip >= 0 and leg.alight_pos >= 0 and board is not None and alight is not None:
        core_leg = TransitLeg(leg.trip, int(network.timetable.trip_pattern[leg.trip]), leg.day, leg.board_pos,
                              leg.alight_pos, board, alight, int(leg.departure_s), int(leg.arrival_s))
        rendered = mapper.transit_leg_json(core_leg)
        if leg.status in (STATUS_CANCELED, STATUS_SKIPPED):
            rendered["status"] = leg.status
    d = parse_service_date(leg_ref.service_date)
    return {
        "index": leg.index,
        "trip_id": leg_ref.trip_id,
        "service_date": d.isoformat() if isinstance(d, date) else leg_ref.service_date,
        "board_stop_id": leg_ref.board_stop_id,
        "alight_stop_id": leg_ref.alight_stop_id,
        "status": leg.status,
        "scheduled_departure": mapper.iso(leg.scheduled_departure_s, at_board),
        "scheduled_arrival": mapper.iso(leg.scheduled_arrival_s, at_alight),
        "departure": mapper.iso(leg.departure_s, at_board),
        "arrival": mapper.iso(leg.arrival_s, at_alight),
        "departure_delay_s": delay(leg.departure_s, leg.scheduled_departure_s),
        "arrival_delay_s": delay(leg.arrival_s, leg.scheduled_arrival_s),
        "leg": rendered,
    }
