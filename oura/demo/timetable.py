"""Trips of one route: departures by time of day, running times, vehicle blocks.

Headways follow the shape of real urban timetables: a thin early service, a morning and an
evening peak, a slower off-peak, a thinning evening and, for major lines, late trips that run
past midnight (GTFS times beyond 24:00). Saturdays are flatter and Sundays sparse; minor lines do
not run on Sundays. Coaches run at fixed times with school-day extras, trains at a clock-face
headway, alternating all-stops and semi-fast services where a line has both.

Running times come from the distance along the shape and the route's speed, slowed down at peak
hours and sped up at night, so stop times are strictly increasing within a trip.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from oura.demo.network import Pattern, RoutePlan
from oura.demo.service_calendar import SATURDAY, SCHOOL_DAY, SUNDAY, WEEKDAY

__all__ = ["TripTimes", "list_route_trips", "list_route_services"]

_H = 3600

# service -> (start hour, end hour, headway multiplier of the route's peak headway)
_URBAN_PERIODS: dict[str, tuple[tuple[float, float, float], ...]] = {
    WEEKDAY: ((5.5, 6.5, 2.0), (6.5, 9.0, 1.0), (9.0, 16.5, 1.6), (16.5, 19.0, 1.0), (19.0, 21.0, 2.0), (21.0, 24.5, 3.0)),
    SATURDAY: ((6.0, 9.0, 2.0), (9.0, 19.0, 1.4), (19.0, 21.0, 2.2), (21.0, 24.5, 3.0)),
    SUNDAY: ((7.0, 21.0, 2.5), (21.0, 24.5, 4.0)),
}
_LAST_DEPARTURE_H = {0: 24.5, 1: 21.0, 2: 20.0}  # by route rank

_COACH_TIMES_H: dict[str, dict[int, tuple[float, ...]]] = {
    WEEKDAY: {0: (6.0, 6.75, 7.5, 8.5, 10.0, 12.0, 14.0, 16.5, 17.5, 18.5, 19.5), 1: (6.5, 7.25, 12.25, 17.0, 18.25), 2: (6.75, 12.5, 17.75)},
    SCHOOL_DAY: {0: (6.6, 7.1, 16.75, 17.6), 1: (6.6, 7.1, 16.75, 17.6), 2: (7.0, 16.9)},
    SATURDAY: {0: (7.5, 9.0, 12.0, 14.0, 17.0, 18.5), 1: (8.0, 12.5, 17.5), 2: (9.0, 17.0)},
    SUNDAY: {0: (9.0, 17.5, 19.0)},
}
_REGIONAL_COACH_TIMES_H = {
    WEEKDAY: tuple(6.0 + 2.0 * k for k in range(8)),
    SATURDAY: (7.0, 10.0, 13.0, 16.0, 19.0),
    SUNDAY: (9.0, 14.0, 18.0),
}
_RAIL_PERIODS: dict[str, tuple[tuple[float, float, str], ...]] = {
    WEEKDAY: ((5.5, 6.5, "off"), (6.5, 9.0, "peak"), (9.0, 16.5, "off"), (16.5, 19.5, "peak"), (19.5, 23.2, "off")),
    SATURDAY: ((6.0, 22.5, "off"),),
    SUNDAY: ((7.0, 23.0, "off"),),
}
_LAYOVER_S = {"metro": 180, "tram": 240, "bus": 300, "coach": 600, "regional-coach": 900, "rail": 600}


@dataclass(frozen=True, slots=True)
class TripTimes:
    """One trip with its times (seconds after midnight of the service day, may exceed 86400)."""

    trip_id: str
    service_id: str
    pattern: Pattern
    arrival_s: np.ndarray = field(repr=False)
    departure_s: np.ndarray = field(repr=False)
    block_id: str
    wheelchair_accessible: int


def list_route_services(route: RoutePlan) -> tuple[str, ...]:
    if route.timetable in ("rail", "regional-coach", "metro", "tram"):
        return (WEEKDAY, SATURDAY, SUNDAY)
    if route.timetable == "bus" and not route.school:
        return (WEEKDAY, SATURDAY, SUNDAY) if route.rank < 2 else (WEEKDAY, SATURDAY)
    return (WEEKDAY, SCHOOL_DAY, SATURDAY, SUNDAY)


def _headway_departures(periods, base_min: float, last_h: float, first_h: float | None, rng) -> list[int]:
    start_h = periods[0][0] if first_h is None else first_h
    t = start_h * _H + rng.uniform(0, periods[0][2] * base_min * 60)
    out: list[int] = []
    for begin, end, factor in periods:
        end = min(end, last_h)
        headway = max(120.0, factor * base_min * 60)
        while t < end * _H:
            out.append(int(t // 60 * 60))
            t += headway
    return out


def _departures(route: RoutePlan, service_id: str, direction_id: int, rng: np.random.Generator) -> list[int]:
    kind = route.timetable
    if kind in ("metro", "tram", "bus"):
        if service_id == SCHOOL_DAY:
            base = (7.0, 7.33, 12.0, 13.25, 16.67, 17.17)
            return sorted(int((h * _H + rng.integers(-5, 6) * 60) // 60 * 60) for h in base)
        if service_id == SUNDAY and route.rank == 2:
            return []
        periods = _URBAN_PERIODS[service_id]
        first = 5.0 if kind == "metro" and service_id == WEEKDAY else None
        return _headway_departures(periods, route.headway_min, _LAST_DEPARTURE_H[route.rank], first, rng)
    if kind == "rail":
        out = []
        t = _RAIL_PERIODS[service_id][0][0] * _H + rng.integers(0, 30) * 60 + direction_id * 7 * 60
        peak = route.headway_min * 60
        off = max(peak, 60.0 * 60 if route.rank == 0 else 120.0 * 60)
        for begin, end, level in _RAIL_PERIODS[service_id]:
            headway = peak if level == "peak" else off
            while t < end * _H:
                if t >= begin * _H:
                    out.append(int(t // 60 * 60))
                t += headway
        return out
    if kind == "coach":
        hours = _COACH_TIMES_H.get(service_id, {}).get(route.rank, ())
    else:
        hours = _REGIONAL_COACH_TIMES_H.get(service_id, ())
    shift = direction_id * int(rng.integers(10, 45)) * 60
    return sorted(int(h * _H) + shift + int(rng.integers(-10, 11)) * 60 for h in hours)


def _speed_factor(kind: str, service_id: str, departure_s: int) -> float:
    if kind in ("metro", "rail"):
        return 1.0
    hour = departure_s / _H
    peak = service_id in (WEEKDAY, SCHOOL_DAY) and (7.0 <= hour < 9.0 or 16.5 <= hour < 19.0)
    factor = 1.2 if peak else (0.85 if hour >= 21.0 or hour < 6.5 or service_id == SUNDAY else 1.0)
    return 1.0 + (factor - 1.0) / 2 if kind == "tram" else factor


def _offsets(pattern: Pattern, speed_kmh: float, dwell_s: int, factor: float) -> tuple[np.ndarray, np.ndarray]:
    run_s = np.maximum(np.diff(pattern.stop_dist_km) / speed_kmh * _H * factor, 25.0)
    n = len(pattern.stop_ids)
    dwell = np.full(n, float(dwell_s))
    dwell[0] = dwell[-1] = 0.0
    arrival = np.concatenate(([0.0], np.cumsum(run_s + dwell[:-1])))
    arrival = np.round(arrival).astype(np.int64)
    departure = arrival + dwell.astype(np.int64)
    return arrival, departure


def list_route_trips(route: RoutePlan, rng: np.random.Generator) -> list[TripTimes]:
    """Every trip of ``route`` on every service it runs, with vehicle blocks assigned."""
    by_direction: dict[int, list[Pattern]] = {}
    for pattern in route.patterns:
        by_direction.setdefault(pattern.direction_id, []).append(pattern)
    trips: list[TripTimes] = []
    offsets_cache: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]] = {}
    for service_id in list_route_services(route):
        planned: list[tuple[int, Pattern, np.ndarray, np.ndarray]] = []
        for direction_id, patterns in sorted(by_direction.items()):
            for k, start in enumerate(_departures(route, service_id, direction_id, rng)):
                pattern = patterns[k % len(patterns)]
                factor = _speed_factor(route.timetable, service_id, start)
                key = (pattern.key, factor)
                if key not in offsets_cache:
                    offsets_cache[key] = _offsets(pattern, route.speed_kmh, route.dwell_s, factor)
                arrival, departure = offsets_cache[key]
                planned.append((start, pattern, arrival + start, departure + start))
        planned.sort(key=lambda p: (p[0], p[1].direction_id))
        blocks = _assign_blocks(planned, _LAYOVER_S[route.timetable])
        counters: dict[int, int] = {}
        for (start, pattern, arrival, departure), vehicle in zip(planned, blocks):
            k = counters.get(pattern.direction_id, 0)
            counters[pattern.direction_id] = k + 1
            trips.append(TripTimes(
                trip_id=f"{route.route_id}-{service_id}-{pattern.direction_id}-{k:03d}",
                service_id=service_id,
                pattern=pattern,
                arrival_s=arrival,
                departure_s=departure,
                block_id=f"{route.route_id}-{service_id}-v{vehicle:02d}",
                wheelchair_accessible=1 if rng.random() < route.wheelchair_share else 2,
            ))
    return trips


def _assign_blocks(planned, layover_s: int) -> list[int]:
    """Greedy vehicle chaining: a trip takes a vehicle waiting at its first terminal, if any."""
    waiting: dict[str, list[tuple[int, int]]] = {}
    vehicles = 0
    out = []
    for start, pattern, arrival, _ in planned:
        queue = waiting.setdefault(pattern.first_terminal, [])
        if queue and queue[0][0] <= start:
            _, vehicle = heapq.heappop(queue)
        else:
            vehicles += 1
            vehicle = vehicles
        out.append(vehicle)
        heapq.heappush(waiting.setdefault(pattern.last_terminal, []), (int(arrival[-1]) + layover_s, vehicle))
    return out
