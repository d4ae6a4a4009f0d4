"""Why an answer looks the way it does: reason codes for an empty answer, and what shaped a journey.

`explain` runs after the core: when it found nothing, `Explanation.reasons` says why in codes a
client can act on, with plain-words text; for each journey of a constrained request (wheelchair,
max_transfers below the default 6), `Explanation.constraints` says what was avoided. Reads the
timetable and re-plans through the core with relaxed constraints (sync, executor). Ordinary
queries (journeys found, no constraint) cost nothing; each constraint of a request costs one plan
without it (per request, not per journey); an empty answer at most four plans.

Empty answer, checked in this order (the first that holds answers):

1. ``outside_timetable_dates``: the searched span is before the first or after the last day any
   trip runs.
2. ``no_service_on_date`` / ``origin_not_served`` / ``destination_not_served``: no departure from
   the origin (arrival at the destination) in the searched span; ``no_service_on_date`` when the
   origin has none on the whole local date. ``next_departure`` / ``next_arrival`` say when it next is.
3. ``none_in_window`` (a window request): one search over the same span finds journeys outside
   the window; ``max_transfers_exceeded``: a plan with 10 transfers finds journeys
   (``transfers_needed``).
4. ``no_accessible_route``: a plan without the wheelchair constraint finds journeys; what they use
   that is not accessible is in ``blocking_stops`` and ``blocking_trips``.
5. ``no_service_on_date``: a plan over the next 7 days (10 transfers) finds a journey
   (``next_departure``); else, for wheelchair, ``no_accessible_route`` when one without it does.
6. ``no_connection``: nothing more specific holds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from oura.http.schemas import DATE, DATE_TIME, INTEGER, STRING, array_of, nullable, object_of

from .compile import Network
from .core import Journey, Place, PlanRequest, PlanResult, TransitLeg, candidate_days, plan
from .core.timetable import NO_DROP_OFF, NO_PICKUP, Timetable

__all__ = ["Explanation", "explain", "REASON_CODES", "REASON_COMPONENTS", "RELAXED_MAX_TRANSFERS",
           "LATER_HORIZON_S"]

RELAXED_MAX_TRANSFERS = 10  # the re-plan that tells max_transfers_exceeded
DEFAULT_MAX_TRANSFERS = PlanRequest.__dataclass_fields__["max_transfers"].default  # below it, a constraint
LATER_HORIZON_S = 7 * 86400  # how far ahead the re-plan that finds the next journey looks
_DAY_CHUNK = 14  # service days scanned at once when looking for a stop's next departure

REASON_CODES: dict[str, str] = {
    "outside_timetable_dates": "the time is outside the dates the loaded timetables run (service_dates)",
    "no_service_on_date": "nothing leaves that day: the origin is not served on that date, or no journey "
                          "leaves within a day (date; next_departure: the next one within 7 days, or null)",
    "origin_not_served": "no departure from the origin in the searched span (next_departure, or null)",
    "destination_not_served": "no arrival at the destination in the searched span (next_arrival, or null)",
    "none_in_window": "(a window request) journeys exist, none leaves (arrives, for arrive-by) within the window "
                      "(next_departure, next_arrival: the closest one, after the window or, for arrive-by, before it)",
    "max_transfers_exceeded": "journeys exist with more transfers than max_transfers (transfers_needed: the fewest)",
    "no_accessible_route": "journeys exist but none is wheelchair accessible (blocking_stops, blocking_trips: "
                           "what the journeys without the constraint use)",
    "no_connection": "no journey, even with 10 transfers, without the wheelchair constraint, over 7 days",
    "max_transfers_avoided": "(a journey's constraint) a better journey was avoided because it needs more "
                             "transfers than max_transfers (transfers_needed, avoided_departure, avoided_arrival, "
                             "departure_delta_s, arrival_delta_s); only when max_transfers is below the default 6",
    "inaccessible_avoided": "(a journey's constraint) a better journey was avoided because a stop or trip of it "
                            "is not wheelchair accessible (blocking_stops, blocking_trips, avoided_departure, "
                            "avoided_arrival, departure_delta_s, arrival_delta_s)",
}


def _reason(code: str, message: str, **details: Any) -> dict:
    """A Reason object; ``code`` must be one of `REASON_CODES` (they are not problem+json error codes)."""
    if code not in REASON_CODES:
        raise ValueError(f"undeclared reason code {code!r}")
    return {"code": code, "message": message, **details}


@dataclass(frozen=True)
class Explanation:
    reasons: list[dict]  # why there is no journey (empty when there are journeys)
    constraints: list[list[dict]]  # per journey of the result, in order


def explain(network: Network, request: PlanRequest, result: PlanResult,
            reversed_timetable: Timetable | None) -> Explanation:
    """Reasons (``{"code", "message", ...}``) for an empty result, constraints per journey."""
    ctx = _Context(network, request, reversed_timetable)
    if not result.journeys:
        return Explanation(_empty_reasons(ctx), [])
    constraints: list[list[dict]] = [[] for _ in result.journeys]
    if request.wheelchair:
        free = ctx.plan(wheelchair=False).journeys
        for shaped, j in zip(constraints, result.journeys):
            shaped.extend(_avoided(ctx, j, free))
    if request.max_transfers < DEFAULT_MAX_TRANSFERS:
        more = ctx.plan(max_transfers=DEFAULT_MAX_TRANSFERS).journeys
        for shaped, j in zip(constraints, result.journeys):
            shaped.extend(_over_max_transfers(ctx, j, more))
    return Explanation([], constraints)


@dataclass(frozen=True)
class _Context:
    network: Network
    request: PlanRequest
    reversed_tt: Timetable | None

    @property
    def tt(self) -> Timetable:
        return self.network.timetable

    def plan(self, **changes: Any) -> PlanResult:
        request = replace(self.request, **changes)
        return plan(self.tt, request, self.reversed_tt)

    def relaxed_plan(self, **changes: Any) -> PlanResult:
        """The request with ``changes``, as one search over the same span (no window: cheaper)."""
        r = self.request
        horizon = int(r.search_horizon_s) + max(0, int(r.window_s))
        return self.plan(window_s=0, search_horizon_s=horizon, **changes)

    def span(self) -> tuple[int, int]:
        """The POSIX seconds the core searched: after the time (depart-at) or before it (arrive-by)."""
        r = self.request
        h = int(r.search_horizon_s) + max(0, int(r.window_s))
        return (r.time_s - h, r.time_s) if r.arrive_by else (r.time_s, r.time_s + h)

    def zone(self, stop: int) -> ZoneInfo:
        net = self.network
        feed = int(net.stop_feed[stop]) if 0 <= stop < net.stop_feed.size else 0
        return ZoneInfo(net.timezones[net.feed_tz[feed]])

    def local(self, ts: int, stop: int) -> datetime:
        return datetime.fromtimestamp(ts, self.zone(stop))

    def iso(self, ts: int | None, stop: int) -> str | None:
        return None if ts is None else self.local(ts, stop).isoformat()

    def when(self, ts: int, stop: int, ref_date: date | None = None) -> str:
        """'08:12', or 'Mon 2024-03-11 at 06:00' when not on ``ref_date``."""
        t = self.local(ts, stop)
        return t.strftime("%H:%M") if t.date() == ref_date else t.strftime("%a %Y-%m-%d at %H:%M")

    def stop_json(self, s: int) -> dict:
        return {"id": str(self.network.stop_ids[s]), "name": str(self.network.stop_names[s])}

    def place_name(self, place: Place) -> str:
        if place.stops.size == 0:
            return "the place"
        s = int(place.stops[int(np.argmin(place.walk_s))])
        parent = int(self.tt.stop_parent[s])
        if parent >= 0 and bool(np.all(self.tt.stop_parent[place.stops] == parent)):
            s = parent
        name = str(self.network.stop_names[s])
        return f"the stops near {name}" if int(place.walk_s.min()) > 0 else name


# --- empty answers --------------------------------------------------------------------------------

def _empty_reasons(ctx: _Context) -> list[dict]:
    outside = _outside_dates(ctx)
    if outside is not None:
        return [outside]
    served = _served(ctx)
    if served:
        return served
    r = ctx.request
    relaxed = max(r.max_transfers, RELAXED_MAX_TRANSFERS)
    if r.window_s > 0 or r.max_transfers < relaxed:
        more = ctx.relaxed_plan(max_transfers=relaxed).journeys
        fits = [j for j in more if j.transfers <= r.max_transfers]
        if fits and r.window_s > 0:
            return [_none_in_window(ctx, fits)]
        over = tuple(j for j in more if j.transfers > r.max_transfers)
        if over:
            return [_max_transfers(ctx, over)]
    if r.wheelchair:
        free = ctx.relaxed_plan(wheelchair=False, max_transfers=relaxed).journeys
        if free:
            return [_no_accessible(ctx, free)]
    later = _later_plan(ctx, max_transfers=relaxed)
    if later:
        return [_next_journey(ctx, later)]
    if r.wheelchair:
        free = _later_plan(ctx, max_transfers=relaxed, wheelchair=False)
        if free:
            return [_no_accessible(ctx, free)]
    names = f"{ctx.place_name(r.origin)} to {ctx.place_name(r.destination)}"
    return [_reason("no_connection", f"No journey connects {names}, even with up to {relaxed} "
                    f"transfers{' or without the wheelchair constraint' if r.wheelchair else ''}, "
                    f"over the {LATER_HORIZON_S // 86400} days searched.")]


def _running_days(tt: Timetable) -> np.ndarray:
    """The service days some trip runs (a calendar no trip uses does not count)."""
    if tt.service_days.size == 0 or tt.trip_count == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(tt.service_days[np.unique(tt.trip_service)].any(axis=0))


def _outside_dates(ctx: _Context) -> dict | None:
    tt = ctx.tt
    days = _running_days(tt)
    lo, hi = ctx.span()
    stop = int(ctx.request.origin.stops[0]) if ctx.request.origin.stops.size else 0
    asked = ctx.local(ctx.request.time_s, stop).date()
    if days.size == 0:
        return _reason("outside_timetable_dates", "The loaded timetables have no service day at all.",
                       service_dates=None)
    first, last = int(days[0]), int(days[-1])
    start = int(tt.day_base_s[first].min())
    end = int(tt.day_base_s[last].max()) + int(tt.max_stop_time_s)
    if start <= hi and lo <= end:
        return None
    d0, d1 = ctx.network.date_of_day(first), ctx.network.date_of_day(last)
    side = "before" if hi < start else "after"
    return _reason("outside_timetable_dates", f"The timetables run from {d0.isoformat()} to {d1.isoformat()}; "
                   f"{asked.isoformat()} is {side} them.",
                   service_dates={"first": d0.isoformat(), "last": d1.isoformat()})


@dataclass(frozen=True)
class _Events:
    """Times a place is left (or reached) by some trip at one of its stops or a stop a footpath
    links to it: s since the trip's day origin, shifted by the walk between the place and the stop,
    with the trip's service and time zone."""

    times: np.ndarray  # int64
    services: np.ndarray  # int32, rows of service_days
    tz: np.ndarray  # int32, columns of day_base_s


def _walkable(tt: Timetable, place: Place, departures: bool) -> dict[int, int]:
    """StopIdx -> walking time from the place (to it, for arrivals): its stops and their footpaths."""
    reach: dict[int, int] = {}
    for s, w in zip(place.stops.tolist(), place.walk_s.tolist()):
        reach[s] = min(w, reach.get(s, w))
        if departures:  # footpaths leaving s
            lo, hi = int(tt.footpath_offsets[s]), int(tt.footpath_offsets[s + 1])
            near, dur = tt.footpath_to[lo:hi].tolist(), tt.footpath_duration_s[lo:hi].tolist()
        else:  # footpaths arriving at s
            rows = np.flatnonzero(tt.footpath_to == s)
            near = (np.searchsorted(tt.footpath_offsets, rows, side="right") - 1).tolist()
            dur = tt.footpath_duration_s[rows].tolist()
        for n, d in zip(near, dur):
            reach[n] = min(w + d, reach.get(n, w + d))
    return reach


def _events(tt: Timetable, place: Place, departures: bool) -> _Events:
    reach = _walkable(tt, place, departures)
    stops = np.fromiter(reach.keys(), dtype=np.int64, count=len(reach))
    walk = np.fromiter(reach.values(), dtype=np.int64, count=len(reach))
    entries, owner = _ranges(tt.stop_pattern_offsets[stops], tt.stop_pattern_offsets[stops + 1])
    p = tt.stop_pattern_pattern[entries].astype(np.int64)
    pos = tt.stop_pattern_pos[entries].astype(np.int64)
    n_s = tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p]
    useful = pos != (n_s - 1 if departures else 0)  # no boarding at the end, no alighting at the start
    p, pos, n_s, w = p[useful], pos[useful], n_s[useful], walk[owner[useful]]
    trips, of = _ranges(tt.pattern_trip_offsets[p], tt.pattern_trip_offsets[p + 1])
    local = trips - tt.pattern_trip_offsets[p][of]
    rows = tt.pattern_stop_time_offsets[p][of] + local * n_s[of] + pos[of]
    ok = (tt.stop_time_flags[rows] & (NO_PICKUP if departures else NO_DROP_OFF)) == 0
    col = tt.stop_time_departure if departures else tt.stop_time_arrival
    shift = -w[of] if departures else w[of]
    return _Events(col[rows[ok]].astype(np.int64) + shift[ok], tt.trip_service[trips[ok]],
                   tt.pattern_tz[p[of[ok]]].astype(np.int32))


def _ranges(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every index of the ranges [starts[i], ends[i]) and, for each, the range i it belongs to."""
    counts = (ends - starts).astype(np.int64)
    owner = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    first = np.repeat(starts.astype(np.int64) - np.cumsum(counts) + counts, counts)
    return first + np.arange(int(counts.sum()), dtype=np.int64), owner


def _first_event(tt: Timetable, ev: _Events, lo: int, hi: int) -> int | None:
    """The earliest event in [lo, hi] (POSIX s), scanning the service days a chunk at a time."""
    if ev.times.size == 0:
        return None
    days = candidate_days(tt, lo, hi)
    best: int | None = None
    for start in range(0, days.size, _DAY_CHUNK):
        d = days[start:start + _DAY_CHUNK]
        if best is not None and int(tt.day_base_s[d[0]].min()) > best:
            break
        at = tt.day_base_s[d][:, ev.tz].T + ev.times[:, np.newaxis]  # (event, day)
        ok = (tt.service_days[:, d][ev.services] != 0) & (at >= lo) & (at <= hi)
        if ok.any():
            found = int(at[ok].min())
            best = found if best is None else min(best, found)
    return best


def _timetable_end(tt: Timetable) -> int:
    return int(tt.day_base_s.max()) + int(tt.max_stop_time_s) if tt.day_count else 0


def _served(ctx: _Context) -> list[dict]:
    """Reasons when the origin has no departure, or the destination no arrival, in the span."""
    r = ctx.request
    lo, hi = ctx.span()
    checks = (_origin_check, _destination_check)
    for check in (checks[::-1] if r.arrive_by else checks):  # the end the time is about first
        reason = check(ctx, lo, hi)
        if reason is not None:
            return [reason]
    return []


def _destination_check(ctx: _Context, lo: int, hi: int) -> dict | None:
    tt, r = ctx.tt, ctx.request
    dest = _events(tt, r.destination, departures=False)
    if _first_event(tt, dest, lo, hi) is not None:
        return None
    nxt = _first_event(tt, dest, lo, _timetable_end(tt))
    stop = int(r.destination.stops[0]) if r.destination.stops.size else 0
    asked = ctx.local(r.time_s, stop).date()
    then = f"the next arrival is {ctx.when(nxt, stop, asked)}" if nxt is not None else "none does later"
    return _reason("destination_not_served",
                   f"No trip reaches {ctx.place_name(r.destination)} {_span_words(ctx, stop)}; {then}.",
                   next_arrival=ctx.iso(nxt, stop))


def _origin_check(ctx: _Context, lo: int, hi: int) -> dict | None:
    tt, r = ctx.tt, ctx.request
    origin = _events(tt, r.origin, departures=True)
    if _first_event(tt, origin, lo, hi) is not None:
        return None
    stop = int(r.origin.stops[0]) if r.origin.stops.size else 0
    name = ctx.place_name(r.origin)
    asked = ctx.local(r.time_s, stop).date()
    nxt = _first_event(tt, origin, lo, _timetable_end(tt))
    zone = ctx.zone(stop)
    day_lo = int(datetime.combine(asked, time(), zone).timestamp())
    day_hi = int(datetime.combine(asked + timedelta(days=1), time(), zone).timestamp()) - 1
    then = f"the next departure is {ctx.when(nxt, stop, asked)}" if nxt is not None else "none does later"
    if _first_event(tt, origin, day_lo, day_hi) is None:
        return _reason("no_service_on_date", f"No trip serves {name} on {asked.strftime('%a %Y-%m-%d')}; {then}.",
                       date=asked.isoformat(), next_departure=ctx.iso(nxt, stop))
    return _reason("origin_not_served", f"No trip leaves {name} {_span_words(ctx, stop)}; {then}.",
                   next_departure=ctx.iso(nxt, stop))


def _span_words(ctx: _Context, stop: int) -> str:
    lo, hi = ctx.span()
    hours = (hi - lo) // 3600
    if ctx.request.arrive_by:
        return f"in the {hours} h before {ctx.when(hi, stop)}"
    return f"in the {hours} h after {ctx.when(lo, stop)}"


def _max_transfers(ctx: _Context, journeys: tuple[Journey, ...]) -> dict:
    r = ctx.request
    best = min(journeys, key=lambda j: (j.transfers, j.arrival_s))
    allowed = _transfers_words(r.max_transfers)
    stop = _first_stop(best)
    asked = ctx.local(r.time_s, stop).date()
    return _reason("max_transfers_exceeded",
                   f"No journey with at most {allowed}; the fewest needed is {best.transfers} (leaving "
                   f"{ctx.when(best.departure_s, stop, asked)}, arriving {ctx.when(best.arrival_s, stop, asked)}).",
                   transfers_needed=best.transfers, next_departure=ctx.iso(best.departure_s, stop))


def _none_in_window(ctx: _Context, found: list[Journey]) -> dict:
    """none_in_window: journeys exist, none leaves (arrives, for arrive-by) within the window."""
    r = ctx.request
    j = (max(found, key=lambda c: (c.arrival_s, c.departure_s)) if r.arrive_by
         else min(found, key=lambda c: (c.departure_s, c.arrival_s)))
    stop = _first_stop(j)
    day = ctx.local(r.time_s, stop).date()
    lo, hi = (r.time_s - r.window_s, r.time_s) if r.arrive_by else (r.time_s, r.time_s + r.window_s)
    names = f"{ctx.place_name(r.origin)} to {ctx.place_name(r.destination)}"
    verb = "arrives" if r.arrive_by else "leaves"
    closest = (f"the latest one before arrives {ctx.when(j.arrival_s, stop, day)}" if r.arrive_by
               else f"the next one leaves {ctx.when(j.departure_s, stop, day)}")
    return _reason("none_in_window", f"No journey from {names} {verb} between {ctx.when(lo, stop, day)} and "
                   f"{ctx.when(hi, stop, day)}; {closest}.",
                   next_departure=ctx.iso(j.departure_s, stop), next_arrival=ctx.iso(j.arrival_s, stop))


def _later_plan(ctx: _Context, **changes: Any) -> tuple[Journey, ...]:
    """Journeys leaving from the start of the searched span over the next 7 days (depart-at)."""
    lo, _ = ctx.span()
    return ctx.plan(arrive_by=False, time_s=lo, window_s=0, search_horizon_s=LATER_HORIZON_S, **changes).journeys


def _next_journey(ctx: _Context, found: tuple[Journey, ...]) -> dict:
    """no_service_on_date: the first journey leaving later than the searched span, within 7 days."""
    r = ctx.request
    first = min(found, key=lambda j: (j.departure_s, j.arrival_s))
    stop = _first_stop(first)
    asked = ctx.local(r.time_s, stop).date()
    names = f"{ctx.place_name(r.origin)} to {ctx.place_name(r.destination)}"
    details: dict[str, Any] = {"date": asked.isoformat(), "next_departure": ctx.iso(first.departure_s, stop)}
    more = ""
    if first.transfers > r.max_transfers:
        details["transfers_needed"] = first.transfers
        more = f", with {_transfers_words(first.transfers)}"
    return _reason("no_service_on_date", f"No journey from {names} {_span_words(ctx, stop)}; "
                   f"the next one leaves {ctx.when(first.departure_s, stop, asked)}, arriving "
                   f"{ctx.when(first.arrival_s, stop, ctx.local(first.departure_s, stop).date())}{more}.", **details)


def _transfers_words(n: int) -> str:
    return f"{n} transfer{'s' if n != 1 else ''}"


def _first_stop(j: Journey) -> int:
    return next((s for leg in j.legs for s in (leg.from_stop, leg.to_stop) if s >= 0), 0)


# --- wheelchair -----------------------------------------------------------------------------------

def _blocking(ctx: _Context, journeys: tuple[Journey, ...] | list[Journey]) -> tuple[list[dict], list[dict]]:
    """The stops without wheelchair boarding and the trips not wheelchair accessible the journeys use."""
    tt, net = ctx.tt, ctx.network
    stops: dict[int, dict] = {}
    trips: dict[tuple[int, int], dict] = {}
    for j in journeys:
        for leg in j.legs:
            for s in (leg.from_stop, leg.to_stop, *getattr(leg, "via_stops", ())):
                if s >= 0 and not tt.stop_accessible[s] and s not in stops:
                    stops[s] = ctx.stop_json(s)
            if isinstance(leg, TransitLeg) and not tt.trip_accessible[leg.trip]:
                route = int(net.trip_routes[leg.trip]) if leg.trip < net.trip_routes.size else -1
                trips.setdefault((leg.trip, leg.day), {
                    "trip_id": str(net.trip_ids[leg.trip]) if leg.trip < net.trip_ids.size else "",
                    "route": _route_name(net, route),
                    "departure": ctx.iso(leg.departure_s, leg.from_stop),
                    "from": ctx.stop_json(leg.from_stop),
                })
    return list(stops.values()), list(trips.values())


def _route_name(net: Network, route: int) -> str:
    if route < 0:
        return ""
    return str(net.route_short_names[route] or net.route_long_names[route] or net.route_ids[route])


def _blocking_words(ctx: _Context, stops: list[dict], trips: list[dict]) -> str:
    asked = ctx.local(ctx.request.time_s, int(ctx.request.origin.stops[0])).date()

    def when(iso: str) -> str:
        t = datetime.fromisoformat(iso)
        return t.strftime("%H:%M") if t.date() == asked else t.strftime("%a %Y-%m-%d %H:%M")

    parts = [f"the {when(t['departure'])} {t['route']} from {t['from']['name']} is not wheelchair accessible"
             for t in trips]
    ends = {str(ctx.network.stop_ids[s]): " (at the origin)" for s in ctx.request.origin.stops.tolist()}
    ends.update({str(ctx.network.stop_ids[s]): " (at the destination)" for s in ctx.request.destination.stops.tolist()})
    names = dict.fromkeys(f"{s['name']}{ends.get(s['id'], '')}" for s in stops)
    parts += [f"{name} has no wheelchair boarding" for name in names]
    parts = list(dict.fromkeys(parts))  # platforms of one name, or one run on several days, said once
    if len(parts) > 3:
        parts = parts[:3] + [f"{len(parts) - 3} more"]
    return "; ".join(parts) if parts else "a stop or trip is not wheelchair accessible"


def _no_accessible(ctx: _Context, free: tuple[Journey, ...]) -> dict:
    r = ctx.request
    stops, trips = _blocking(ctx, free)
    reason = _reason("no_accessible_route", f"No wheelchair-accessible journey: {_blocking_words(ctx, stops, trips)}.",
                     blocking_stops=stops, blocking_trips=trips)
    fewest = min(j.transfers for j in free)
    if fewest > r.max_transfers:
        reason["transfers_needed"] = fewest
    return reason


def _better(u: Journey, j: Journey, arrive_by: bool) -> bool:
    if arrive_by:
        return (u.departure_s, -u.transfers) > (j.departure_s, -j.transfers)
    return (u.arrival_s, u.transfers) < (j.arrival_s, j.transfers)


def _avoided(ctx: _Context, j: Journey, free: tuple[Journey, ...]) -> list[dict]:
    """The constraint that shaped journey ``j``: the closest better journey it avoided, if any."""
    arrive_by = ctx.request.arrive_by
    candidates = [u for u in free if _better(u, j, arrive_by) and any(_blocking(ctx, [u]))]
    if not candidates:
        return []
    u = _nearest_better(candidates, arrive_by)
    stops, trips = _blocking(ctx, [u])
    dep, arr = j.departure_s - u.departure_s, j.arrival_s - u.arrival_s
    stop = _first_stop(u)
    extra = j.transfers - u.transfers
    more = f", with {_transfers_words(extra).replace(' ', ' more ', 1)}" if extra > 0 else ""
    return [_reason("inaccessible_avoided", f"{_capital(_blocking_words(ctx, stops, trips))}; this journey leaves "
                    f"{_delta_words(dep)} and arrives {_delta_words(arr)}{more}.",
                    blocking_stops=stops, blocking_trips=trips, avoided_departure=ctx.iso(u.departure_s, stop),
                    avoided_arrival=ctx.iso(u.arrival_s, stop), departure_delta_s=dep, arrival_delta_s=arr)]


def _nearest_better(candidates: list[Journey], arrive_by: bool) -> Journey:
    """The closest of the better journeys: latest arrival (earliest departure for arrive-by)."""
    return min(candidates, key=lambda c: c.departure_s) if arrive_by else max(candidates, key=lambda c: c.arrival_s)


def _over_max_transfers(ctx: _Context, j: Journey, more: tuple[Journey, ...]) -> list[dict]:
    """The constraint max_transfers put on journey ``j``: the closest better journey with more transfers."""
    r = ctx.request
    candidates = [u for u in more if u.transfers > r.max_transfers and _better(u, j, r.arrive_by)]
    if not candidates:
        return []
    u = _nearest_better(candidates, r.arrive_by)
    dep, arr = j.departure_s - u.departure_s, j.arrival_s - u.arrival_s
    stop = _first_stop(u)
    day = ctx.local(r.time_s, stop).date()
    limit = _transfers_words(r.max_transfers)
    return [_reason("max_transfers_avoided",
                    f"A journey with {_transfers_words(u.transfers)}, leaving {ctx.when(u.departure_s, stop, day)} and "
                    f"arriving {ctx.when(u.arrival_s, stop, day)}, is over the limit of {limit}; this journey "
                    f"leaves {_delta_words(dep)} and arrives {_delta_words(arr)}.",
                    transfers_needed=u.transfers, avoided_departure=ctx.iso(u.departure_s, stop),
                    avoided_arrival=ctx.iso(u.arrival_s, stop), departure_delta_s=dep, arrival_delta_s=arr)]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _delta_words(delta_s: int) -> str:
    if delta_s == 0:
        return "at the same time"
    minutes = round(abs(delta_s) / 60)
    if minutes == 0:
        amount = f"{abs(delta_s)} s"
    else:
        amount = f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d}"
    return f"{amount} {'later' if delta_s > 0 else 'earlier'}"


# --- schema ---------------------------------------------------------------------------------------

_STOP_REF = object_of({"id": STRING, "name": STRING})
_DETAILS: dict[str, Any] = {
    "date": {**DATE, "description": "the local date asked about"},
    "service_dates": nullable(object_of({"first": DATE, "last": DATE},
                                        description="the first and last day any trip of the timetables runs")),
    "next_departure": nullable({**DATE_TIME, "description": "when the origin is next left, or the next journey leaves"}),
    "next_arrival": nullable({**DATE_TIME, "description": "when the destination is next reached, or the closest "
                                                        "journey arrives"}),
    "transfers_needed": {**INTEGER, "description": "the fewest transfers a journey needs"},
    "blocking_stops": array_of(_STOP_REF, description="stops without wheelchair boarding"),
    "blocking_trips": array_of(object_of({"trip_id": STRING, "route": STRING, "departure": DATE_TIME,
                                          "from": _STOP_REF}), description="trips not wheelchair accessible"),
    "avoided_departure": DATE_TIME,
    "avoided_arrival": DATE_TIME,
    "departure_delta_s": {**INTEGER, "description": "this journey's departure minus the avoided one's"},
    "arrival_delta_s": {**INTEGER, "description": "this journey's arrival minus the avoided one's"},
}

REASON_COMPONENTS: dict[str, Any] = {
    "Reason": object_of(
        {"code": {"type": "string", "enum": list(REASON_CODES)}, "message": STRING, **_DETAILS},
        optional=tuple(_DETAILS),
        description="why the answer is empty, or what shaped a journey (code: stable, message: plain words). "
                    "Codes: " + "; ".join(f"{code}: {text}" for code, text in REASON_CODES.items()),
    ),
}
