"""Carpool matching of a batch: passengers to drivers, most passengers served (pure: stdlib,
numpy, ortools; no I/O).

`match(requests, offers)` takes a batch of passenger requests (a morning's commuters, say) and
driver offers and assigns passengers to drivers under each driver's detour budget (default
15 min) and each passenger's waiting limit (and latest arrival, when given), serving as many
passengers (seats) as it can, then with the least detour. It answers a `MatchResult`: who rides
with whom, each driver's route with its times, and for every request not served the reason
(`UnservedReason`), the offer that came closest and by how much it missed.

How (the modules beside this one):

- `matching_routes`: every offer x request pair checked with the passenger alone in one numpy
  pass, which gives the candidates of each driver and the reasons of the unserved; per driver the
  travel-time matrix of its candidates' points, the schedule of an order of stops and the search
  of the earliest order for a set of passengers;
- `matching_baseline`: the greedy nearest-driver baseline (`match_greedy`), also the model's start;
- `matching_model`: every set of passengers each driver's route can serve, enumerated and
  checked, then a CP-SAT set packing over those candidate routes (most passengers, then least
  detour); never worse than the baseline it starts from.

`verify_routes` checks routes against the rules again without that code (its own loop, its own
calls to the travel-time function): the tests and the bench run it on every answer.

Travel time is injected: a function ``(lat1, lon1, lat2, lon2) -> seconds`` over numpy arrays.
The default, `straight_line_travel_time`, is the great-circle (haversine) distance times a road
detour factor at a road speed: an estimate, meant to be replaced by a road router's durations
(the same signature) when one is wired in. Times are POSIX seconds; travel times are rounded to
whole seconds. The schedule rules are in `matching_routes`' docstring.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import matching_model
from .matching_baseline import greedy_assign
from .matching_routes import (
    STAGE_ARRIVAL,
    STAGE_DETOUR,
    STAGE_EARLY,
    STAGE_FEASIBLE,
    STAGE_LATE,
    STAGE_SEATS,
    DriverFrame,
    Instance,
    PairStages,
    TravelTime,
    build_frames,
    pair_stages,
    travel_seconds,
)

__all__ = [
    "DEFAULT_DETOUR_BUDGET_S",
    "DEFAULT_WAITING_LIMIT_S",
    "DEFAULT_STOP_S",
    "PassengerRequest",
    "DriverOffer",
    "RouteStop",
    "DriverRoute",
    "Unserved",
    "UnservedReason",
    "MatchResult",
    "MatchingInputError",
    "RouteProblem",
    "RouteProblemKind",
    "TravelTime",
    "straight_line_travel_time",
    "match",
    "match_greedy",
    "verify_routes",
]

DEFAULT_DETOUR_BUDGET_S = 15 * 60  # issue 16: the driver's detour budget
DEFAULT_WAITING_LIMIT_S = 10 * 60  # how long after their earliest departure a passenger waits
DEFAULT_STOP_S = 60  # a pickup or drop-off: stop, board or alight, drive on
DEFAULT_TIME_LIMIT_S = 7.0  # the whole of `match`, preparation included (issue 16 asks <= 10 s)
_EARTH_RADIUS_KM = 6371.0088
_NO_LATEST = np.iinfo(np.int64).max // 8


class MatchingInputError(ValueError):
    """A batch that cannot be matched as given (duplicate ids, no seats, a latitude out of range)."""


@dataclass(frozen=True, slots=True)
class PassengerRequest:
    """A passenger: picked up at ``pickup``, not before ``earliest_departure_s`` nor after it +
    ``waiting_limit_s``, dropped at ``drop_off`` by ``latest_arrival_s`` when given."""

    request_id: str
    pickup_lat: float
    pickup_lon: float
    drop_off_lat: float
    drop_off_lon: float
    earliest_departure_s: int
    waiting_limit_s: int = DEFAULT_WAITING_LIMIT_S
    latest_arrival_s: int | None = None
    seats: int = 1


@dataclass(frozen=True, slots=True)
class DriverOffer:
    """A driver leaving ``origin`` at ``departure_s`` for ``destination`` with ``seats`` free,
    who accepts to arrive at most ``detour_budget_s`` later than driving straight there."""

    offer_id: str
    origin_lat: float
    origin_lon: float
    destination_lat: float
    destination_lon: float
    departure_s: int
    seats: int
    detour_budget_s: int = DEFAULT_DETOUR_BUDGET_S


class StopKind(enum.StrEnum):
    PICKUP = "pickup"
    DROP_OFF = "drop_off"


@dataclass(frozen=True, slots=True)
class RouteStop:
    """A stop of a driver's route: the car there and the passenger boarding or alighting at
    ``time_s`` (the stop then lasts the batch's stop time)."""

    kind: StopKind
    request_id: str
    lat: float
    lon: float
    time_s: int


@dataclass(frozen=True, slots=True)
class DriverRoute:
    """A driver's route with passengers: origin at ``departure_s``, the stops in order, the
    destination at ``arrival_s``; ``detour_s`` = arrival - departure - ``direct_s``."""

    offer_id: str
    departure_s: int
    arrival_s: int
    direct_s: int
    detour_s: int
    detour_budget_s: int
    seats: int
    stops: tuple[RouteStop, ...]

    @property
    def request_ids(self) -> tuple[str, ...]:
        return tuple(s.request_id for s in self.stops if s.kind is StopKind.PICKUP)


class UnservedReason(enum.StrEnum):
    """Why a request was not served: the furthest rule any single offer got to with that
    passenger alone, or, when some offer could carry them alone, that the seats went to others."""

    NO_OFFER_WITH_SEATS = "no_offer_with_seats"  # no offer has the seats asked (missed_by: seats short)
    DETOUR_OVER_BUDGET = "detour_over_budget"  # driving via the passenger exceeds every budget
    PICKUP_AFTER_WAITING_LIMIT = "pickup_after_waiting_limit"  # no car there before the waiting limit
    DRIVER_WAIT_OVER_BUDGET = "driver_wait_over_budget"  # cars pass too early: waiting exceeds the budget
    ARRIVAL_AFTER_LATEST = "arrival_after_latest"  # the passenger's latest arrival would be missed
    SEATS_TAKEN = "seats_taken"  # some offers could carry them alone; serving others served more


_STAGE_REASON = {
    STAGE_SEATS: UnservedReason.NO_OFFER_WITH_SEATS,
    STAGE_DETOUR: UnservedReason.DETOUR_OVER_BUDGET,
    STAGE_LATE: UnservedReason.PICKUP_AFTER_WAITING_LIMIT,
    STAGE_EARLY: UnservedReason.DRIVER_WAIT_OVER_BUDGET,
    STAGE_ARRIVAL: UnservedReason.ARRIVAL_AFTER_LATEST,
    STAGE_FEASIBLE: UnservedReason.SEATS_TAKEN,
}


@dataclass(frozen=True, slots=True)
class Unserved:
    """A request not served: ``reason``; ``offer_id`` the offer that came closest (None when there
    is none), ``missed_by`` by how much it missed (seconds; seats for NO_OFFER_WITH_SEATS; for
    SEATS_TAKEN the number of offers that could have carried the passenger alone); ``detail`` in
    words."""

    request_id: str
    reason: UnservedReason
    offer_id: str | None
    missed_by: int
    detail: str


@dataclass(frozen=True, slots=True)
class MatchResult:
    method: str  # "model" or "greedy"
    status: str  # matching_model.STATUS_* for the model, "greedy" for the baseline
    assignments: dict[str, str]  # request_id -> offer_id
    routes: tuple[DriverRoute, ...]  # offers with passengers, in offer order
    unserved: tuple[Unserved, ...]  # in request order
    served_requests: int
    served_passengers: int
    solve_s: float  # wall time of the call, preparation included
    baseline_passengers: int | None = None  # the model: what its greedy start served
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def max_detour_s(self) -> int:
        return max((r.detour_s for r in self.routes), default=0)


class RouteProblemKind(enum.StrEnum):
    UNKNOWN_OFFER = "unknown_offer"
    OFFER_TWICE = "offer_twice"
    UNKNOWN_REQUEST = "unknown_request"
    SERVED_TWICE = "served_twice"  # a request picked up twice, in one route or two
    DROP_BEFORE_PICKUP = "drop_before_pickup"  # a drop-off of a passenger not on board
    NOT_DROPPED = "not_dropped"
    WRONG_PLACE = "wrong_place"  # a stop not at the request's pickup or drop-off point
    WRONG_DEPARTURE = "wrong_departure"  # the route does not leave at the offer's departure
    TOO_FAST = "too_fast"  # a time earlier than driving there allows
    PICKUP_BEFORE_READY = "pickup_before_ready"
    PICKUP_AFTER_WAITING_LIMIT = "pickup_after_waiting_limit"
    ARRIVAL_AFTER_LATEST = "arrival_after_latest"
    OVER_SEATS = "over_seats"
    DETOUR_OVER_BUDGET = "detour_over_budget"
    WRONG_DETOUR = "wrong_detour"  # the reported detour or direct drive is not the recomputed one


@dataclass(frozen=True, slots=True)
class RouteProblem:
    offer_id: str
    kind: RouteProblemKind
    request_id: str | None
    detail: str


def straight_line_travel_time(*, detour_factor: float = 1.3, speed_kmh: float = 50.0) -> TravelTime:
    """Travel time as the great-circle (haversine) distance x ``detour_factor`` (roads are not
    straight) at ``speed_kmh``: an estimate standing in for a road router, which can replace it
    with any function of the same signature ``(lat1, lon1, lat2, lon2) -> seconds`` (numpy
    arrays, broadcast). It keeps the triangle inequality, which the model's cuts rely on."""
    if detour_factor < 1 or speed_kmh <= 0:
        raise ValueError("detour_factor must be >= 1 and speed_kmh > 0")
    seconds_per_km = detour_factor * 3600.0 / speed_kmh

    def travel_time(lat1, lon1, lat2, lon2):
        p1, p2 = np.radians(lat1), np.radians(lat2)
        dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
        h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
        km = 2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
        return km * seconds_per_km

    return travel_time


# ---------------------------------------------------------------- the batch as arrays


def _validate(requests: Sequence[PassengerRequest], offers: Sequence[DriverOffer]) -> None:
    for kind, ids in (("request", [r.request_id for r in requests]), ("offer", [o.offer_id for o in offers])):
        if len(set(ids)) != len(ids):
            raise MatchingInputError(f"duplicate {kind} ids")
    for r in requests:
        if r.seats < 1 or r.waiting_limit_s < 0:
            raise MatchingInputError(f"request {r.request_id}: seats must be >= 1 and the waiting limit >= 0")
        _check_point(r.request_id, r.pickup_lat, r.pickup_lon)
        _check_point(r.request_id, r.drop_off_lat, r.drop_off_lon)
    for o in offers:
        if o.seats < 0 or o.detour_budget_s < 0:
            raise MatchingInputError(f"offer {o.offer_id}: seats and the detour budget must be >= 0")
        _check_point(o.offer_id, o.origin_lat, o.origin_lon)
        _check_point(o.offer_id, o.destination_lat, o.destination_lon)


def _check_point(owner: str, lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise MatchingInputError(f"{owner}: ({lat}, {lon}) is not a WGS84 point")


def _instance(requests: Sequence[PassengerRequest], offers: Sequence[DriverOffer],
              travel_time: TravelTime, stop_s: int) -> Instance:
    pickup = np.array([(r.pickup_lat, r.pickup_lon) for r in requests], dtype=np.float64).reshape(-1, 2)
    drop = np.array([(r.drop_off_lat, r.drop_off_lon) for r in requests], dtype=np.float64).reshape(-1, 2)
    start = np.array([(o.origin_lat, o.origin_lon) for o in offers], dtype=np.float64).reshape(-1, 2)
    end = np.array([(o.destination_lat, o.destination_lon) for o in offers], dtype=np.float64).reshape(-1, 2)
    ready = np.array([r.earliest_departure_s for r in requests], dtype=np.int64)
    return Instance(
        pickup=pickup, drop=drop, ready_s=ready,
        pickup_latest_s=ready + np.array([r.waiting_limit_s for r in requests], dtype=np.int64),
        drop_latest_s=np.array([_NO_LATEST if r.latest_arrival_s is None else r.latest_arrival_s
                                for r in requests], dtype=np.int64),
        seats=np.array([r.seats for r in requests], dtype=np.int64),
        start=start, end=end,
        departure_s=np.array([o.departure_s for o in offers], dtype=np.int64),
        capacity=np.array([o.seats for o in offers], dtype=np.int64),
        budget_s=np.array([o.detour_budget_s for o in offers], dtype=np.int64),
        direct_s=travel_seconds(travel_time, start, end),
        ride_s=travel_seconds(travel_time, pickup, drop),
        stop_s=int(stop_s), travel_time=travel_time,
    )


@dataclass(frozen=True, slots=True)
class _Prepared:
    inst: Instance
    stages: PairStages
    frames: list[DriverFrame]


def _prepare(requests, offers, travel_time, stop_s) -> _Prepared:
    _validate(requests, offers)
    if stop_s < 0:
        raise MatchingInputError("stop_s must be >= 0")
    inst = _instance(requests, offers, travel_time or straight_line_travel_time(), stop_s)
    if inst.n_offers == 0 or inst.n_requests == 0:
        empty = np.zeros((inst.n_offers, inst.n_requests), dtype=np.int64)
        stages = PairStages(empty.astype(np.int8), empty, empty)
    else:
        stages = pair_stages(inst)
    return _Prepared(inst, stages, build_frames(inst, stages))


# ---------------------------------------------------------------- entry points


def match_greedy(requests: Sequence[PassengerRequest], offers: Sequence[DriverOffer], *,
                 travel_time: TravelTime | None = None, stop_s: int = DEFAULT_STOP_S) -> MatchResult:
    """The greedy nearest-driver baseline (`matching_baseline`) as a `MatchResult`."""
    started = time.monotonic()
    prep = _prepare(requests, offers, travel_time, stop_s)
    cars = greedy_assign(prep.frames, prep.inst.ready_s)
    sets = [tuple(car.members) for car in cars]
    routes = [prep.frames[d].schedule(car.order) if car.members else None for d, car in enumerate(cars)]
    return _result("greedy", "greedy", requests, offers, prep, sets, [car.order for car in cars], routes,
                   time.monotonic() - started)


def match(requests: Sequence[PassengerRequest], offers: Sequence[DriverOffer], *,
          travel_time: TravelTime | None = None, stop_s: int = DEFAULT_STOP_S,
          time_limit_s: float = DEFAULT_TIME_LIMIT_S, seed: int = 0, workers: int = 2) -> MatchResult:
    """Assign passengers to drivers with the CP-SAT model (module docstring), starting from the
    greedy baseline, within ``time_limit_s`` of wall time for the whole call (then the best
    checked solution found is answered, never fewer passengers than the baseline)."""
    started = time.monotonic()
    deadline = started + time_limit_s
    prep = _prepare(requests, offers, travel_time, stop_s)
    cars = greedy_assign(prep.frames, prep.inst.ready_s)
    hint = [tuple(car.members) for car in cars]
    hint_routes = [(car.arrival, car.order) if car.members else None for car in cars]
    baseline = sum(car.used for car in cars)
    greedy_s = time.monotonic() - started
    outcome = matching_model.solve(prep.frames, prep.inst.n_requests, hint, hint_routes,
                                   deadline=deadline, seed=seed, workers=workers)
    orders = [route[1] if route else [] for route in outcome.routes]
    routes = [prep.frames[d].schedule(order) if s else None
              for d, (s, order) in enumerate(zip(outcome.sets, orders))]
    stats = {"prepare_and_greedy_s": greedy_s, "columns": outcome.columns, "complete": outcome.complete,
             "bound_passengers": outcome.bound, "enumerate_s": outcome.enumerate_s,
             "phase1_s": outcome.phase1_s, "phase2_s": outcome.phase2_s}
    return _result("model", outcome.status, requests, offers, prep, outcome.sets, orders, routes,
                   time.monotonic() - started, baseline, stats)


def _result(method, status, requests, offers, prep: _Prepared, sets, orders, schedules, solve_s,
            baseline=None, stats=None) -> MatchResult:
    inst, frames = prep.inst, prep.frames
    assignments: dict[str, str] = {}
    routes: list[DriverRoute] = []
    served = np.zeros(inst.n_requests, dtype=bool)
    for d, (members, order, got) in enumerate(zip(sets, orders, schedules)):
        if not members:
            continue
        if got is None:  # cannot happen: every set answered was checked by a schedule
            raise AssertionError(f"offer {offers[d].offer_id}: a route without a schedule")
        arrival, times = got
        frame, offer = frames[d], offers[d]
        stops = []
        for node, t in zip(order, times):
            k, is_drop = divmod(node - 2, 2)
            r = int(frame.candidates[k])
            lat, lon = inst.drop[r] if is_drop else inst.pickup[r]
            stops.append(RouteStop(StopKind.DROP_OFF if is_drop else StopKind.PICKUP,
                                   requests[r].request_id, float(lat), float(lon), int(t)))
            if not is_drop:
                served[r] = True
                assignments[requests[r].request_id] = offer.offer_id
        routes.append(DriverRoute(offer.offer_id, frame.departure, int(arrival), frame.direct,
                                  int(arrival) - frame.departure - frame.direct, offer.detour_budget_s,
                                  offer.seats, tuple(stops)))
    unserved = tuple(_explain(requests, offers, prep, r) for r in np.flatnonzero(~served).tolist())
    passengers = int(inst.seats[served].sum())
    return MatchResult(method, status, assignments, tuple(routes), unserved, int(served.sum()), passengers,
                       solve_s, baseline, dict(stats or {}))


def _explain(requests, offers, prep: _Prepared, r: int) -> Unserved:
    request = requests[r]
    if not offers:
        return Unserved(request.request_id, UnservedReason.NO_OFFER_WITH_SEATS, None, request.seats, "no offers")
    stage = prep.stages.stage[:, r]
    furthest = int(stage.max())
    reason = _STAGE_REASON[furthest]
    at = np.flatnonzero(stage == furthest)
    if furthest == STAGE_FEASIBLE:
        o = int(at[np.argmin(prep.stages.added_s[at, r])])
        return Unserved(request.request_id, reason, offers[o].offer_id, len(at),
                        f"{len(at)} offer(s) could carry this passenger alone; their seats or detour "
                        f"went to a set serving more passengers")
    short = prep.stages.short_s[at, r]
    o = int(at[np.argmin(short)])
    missed = int(short.min())
    offer = offers[o]
    texts = {
        UnservedReason.NO_OFFER_WITH_SEATS: f"{request.seats} seat(s) asked, the most offered is "
                                            f"{request.seats - missed}",
        UnservedReason.DETOUR_OVER_BUDGET: f"offer {offer.offer_id} comes closest: {missed} s over its "
                                           f"{offer.detour_budget_s} s detour budget",
        UnservedReason.PICKUP_AFTER_WAITING_LIMIT: f"offer {offer.offer_id} comes closest: at the pickup "
                                                   f"{missed} s after the waiting limit",
        UnservedReason.DRIVER_WAIT_OVER_BUDGET: f"offer {offer.offer_id} comes closest: waiting for the "
                                                f"passenger puts it {missed} s over its detour budget",
        UnservedReason.ARRIVAL_AFTER_LATEST: f"offer {offer.offer_id} comes closest: {missed} s after the "
                                             f"latest arrival",
    }
    return Unserved(request.request_id, reason, offer.offer_id, missed, texts[reason])


# ---------------------------------------------------------------- the independent checker


def _route_problems(route: DriverRoute, offer: DriverOffer | None, by_request: Mapping[str, PassengerRequest],
                    seconds: Callable[[tuple[float, float], tuple[float, float]], int], stop_s: int, *,
                    picked: set[str], seen_offers: set[str]) -> list[RouteProblem]:
    """`verify_routes` for one route (``picked`` and ``seen_offers`` carry across routes)."""
    problems: list[RouteProblem] = []

    def problem(kind, request_id=None, detail=""):
        problems.append(RouteProblem(route.offer_id, kind, request_id, detail))

    if offer is None:
        problem(RouteProblemKind.UNKNOWN_OFFER)
        return problems
    if route.offer_id in seen_offers:
        problem(RouteProblemKind.OFFER_TWICE)
    seen_offers.add(route.offer_id)
    if route.departure_s != offer.departure_s:
        problem(RouteProblemKind.WRONG_DEPARTURE, None, f"{route.departure_s} != {offer.departure_s}")
    origin, destination = (offer.origin_lat, offer.origin_lon), (offer.destination_lat, offer.destination_lon)
    at, t, load, onboard = origin, offer.departure_s, 0, set()
    for i, stop in enumerate(route.stops):
        request = by_request.get(stop.request_id)
        if request is None:
            problem(RouteProblemKind.UNKNOWN_REQUEST, stop.request_id)
            continue
        pickup = stop.kind == StopKind.PICKUP
        point = (request.pickup_lat, request.pickup_lon) if pickup else (request.drop_off_lat, request.drop_off_lon)
        if not (math.isclose(stop.lat, point[0], abs_tol=1e-9) and math.isclose(stop.lon, point[1], abs_tol=1e-9)):
            problem(RouteProblemKind.WRONG_PLACE, stop.request_id, f"stop {i}")
        soonest = t + (stop_s if i else 0) + seconds(at, point)
        if stop.time_s < soonest:
            problem(RouteProblemKind.TOO_FAST, stop.request_id, f"stop {i} at {stop.time_s}, soonest {soonest}")
        if pickup:
            if stop.request_id in picked:
                problem(RouteProblemKind.SERVED_TWICE, stop.request_id)
            picked.add(stop.request_id)
            onboard.add(stop.request_id)
            load += request.seats
            if stop.time_s < request.earliest_departure_s:
                problem(RouteProblemKind.PICKUP_BEFORE_READY, stop.request_id)
            if stop.time_s > request.earliest_departure_s + request.waiting_limit_s:
                problem(RouteProblemKind.PICKUP_AFTER_WAITING_LIMIT, stop.request_id,
                        f"{stop.time_s - request.earliest_departure_s - request.waiting_limit_s} s late")
            if load > offer.seats:
                problem(RouteProblemKind.OVER_SEATS, stop.request_id, f"{load} > {offer.seats}")
        else:
            if stop.request_id not in onboard:
                problem(RouteProblemKind.DROP_BEFORE_PICKUP, stop.request_id)
            else:
                onboard.discard(stop.request_id)
                load -= request.seats
            if request.latest_arrival_s is not None and stop.time_s > request.latest_arrival_s:
                problem(RouteProblemKind.ARRIVAL_AFTER_LATEST, stop.request_id,
                        f"{stop.time_s - request.latest_arrival_s} s late")
        at, t = point, stop.time_s
    for request_id in sorted(onboard):
        problem(RouteProblemKind.NOT_DROPPED, request_id)
    soonest = t + (stop_s if route.stops else 0) + seconds(at, destination)
    if route.arrival_s < soonest:
        problem(RouteProblemKind.TOO_FAST, None, f"arrival at {route.arrival_s}, soonest {soonest}")
    direct = seconds(origin, destination)
    detour = route.arrival_s - offer.departure_s - direct
    if route.direct_s != direct or route.detour_s != detour:
        problem(RouteProblemKind.WRONG_DETOUR, None, f"reported {route.direct_s}/{route.detour_s}, "
                                                     f"recomputed {direct}/{detour}")
    if detour > offer.detour_budget_s:
        problem(RouteProblemKind.DETOUR_OVER_BUDGET, None, f"{detour} s > {offer.detour_budget_s} s")
    return problems


def verify_routes(routes: Sequence[DriverRoute], requests: Sequence[PassengerRequest],
                  offers: Sequence[DriverOffer], *, travel_time: TravelTime | None = None,
                  stop_s: int = DEFAULT_STOP_S) -> list[RouteProblem]:
    """Every broken rule of ``routes`` (empty when they are all right), checked from the requests
    and offers alone: a parallel implementation of the schedule rules of `matching_routes`
    (change both together), one stop at a time, calling the travel-time function itself (rounded
    to whole seconds, as the matcher does). A time later than needed is allowed (a driver may
    wait); earlier than driving there allows is not."""
    travel_time = travel_time or straight_line_travel_time()
    by_request = {r.request_id: r for r in requests}
    by_offer = {o.offer_id: o for o in offers}
    problems: list[RouteProblem] = []
    picked: set[str] = set()
    seen_offers: set[str] = set()

    def seconds(a: tuple[float, float], b: tuple[float, float]) -> int:
        got = float(np.asarray(travel_time(np.float64(a[0]), np.float64(a[1]), np.float64(b[0]), np.float64(b[1]))))
        return int(round(got))

    for route in routes:
        problems += _route_problems(route, by_offer.get(route.offer_id), by_request, seconds, stop_s,
                                    picked=picked, seen_offers=seen_offers)
    return problems
