"""Carpool matching, the CP-SAT model over candidate routes (pure: stdlib, numpy, ortools).

Columns: per driver, every set of its candidates that one route can serve (`enumerate_routes`),
each with the earliest order of its stops (`DriverFrame.best_route`), so every column is a route
checked against every rule before the solver sees it. Sets grow one passenger at a time from
feasible sets, and a set is tried only when all its pairs fit (`DriverFrame.pair_compatible`) and
all its subsets one smaller are feasible: with a travel time that keeps the triangle inequality
(the default estimate does; its rounding to whole seconds is covered by the stop time), dropping
a passenger never makes a route later, so that finds every feasible set. On the bench (1,000
requests, 300 offers) that is about 2,000 columns in 30 ms. A driver whose sets exceed
``max_columns_per_driver`` (or a batch whose enumeration passes its share of the time) keeps the
smaller sets found so far: the answer is still checked, only no longer provably optimal.

Model: one boolean per column; at most one column per driver; each request in at most one chosen
column. Phase 1 maximises passengers (seats) served; phase 2 keeps the same passengers served and
minimises the drivers' total detour (the routes' real detours, waits included), in at most half
the time left.
A set packing over complete routes has a tight linear relaxation, so CP-SAT proves phase 1
optimal in well under a second on the bench where a model of (driver, passenger) pairs with
lazy cuts on infeasible triples needed 3-6 s and sometimes no proof in 8 s.

The hint is the greedy baseline's routes (added as columns if enumeration missed them), so the
answer never serves fewer passengers than the baseline it starts from.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from .matching_routes import DriverFrame

STATUS_OPTIMAL = "optimal"  # most passengers proved (every feasible set enumerated)
STATUS_FEASIBLE = "feasible"  # a checked solution, optimality not proved (time, or columns capped)
STATUS_HINT = "hint"  # the solver found nothing in time: the greedy baseline's routes

MAX_COLUMNS_PER_DRIVER = 5_000
ENUMERATE_SHARE = 0.25  # of the time left, at most, for enumerating routes (the rest is the solver's)


@dataclass(frozen=True, slots=True)
class Column:
    driver: int
    members: tuple[int, ...]  # local candidate indices, sorted
    arrival: int
    order: list[int]  # nodes of the route (`matching_routes` numbering)
    seats: int  # passengers served (seats)
    detour_s: int


@dataclass(frozen=True, slots=True)
class ModelOutcome:
    sets: list[tuple[int, ...]]  # driver -> local indices of its passengers
    routes: list[tuple[int, list[int]] | None]  # driver -> (arrival, nodes) of its set (None: empty)
    status: str  # STATUS_*
    columns: int
    complete: bool  # every feasible set was enumerated
    bound: float  # phase 1's bound on passengers (NaN if no solve ended)
    enumerate_s: float
    phase1_s: float
    phase2_s: float


def enumerate_routes(frame: DriverFrame, driver: int, *, deadline: float,
                     max_columns: int = MAX_COLUMNS_PER_DRIVER) -> tuple[list[Column], bool]:
    """Every set of ``frame``'s candidates one route can serve, smallest first, as columns with
    their earliest routes; and whether the enumeration is complete (not cut by ``max_columns``
    or ``deadline``)."""
    n = len(frame.candidates)
    seats = frame.seats.tolist()
    direct, departure = frame.direct, frame.departure
    columns: list[Column] = []

    def add(members: tuple[int, ...], route: tuple[int, list[int]]) -> None:
        columns.append(Column(driver, members, route[0], route[1], sum(seats[k] for k in members),
                              route[0] - departure - direct))

    level: list[tuple[int, ...]] = []
    for k in range(n):  # every candidate fits alone (that is what a candidate is)
        route = frame.best_route((k,))
        if route is not None:
            add((k,), route)
            level.append((k,))
    ok = frame.pair_compatible() if n >= 2 else np.zeros((n, n), dtype=bool)
    neighbours = [set(np.flatnonzero(ok[k]).tolist()) for k in range(n)]
    while level:
        feasible = set(level)
        grown: list[tuple[int, ...]] = []
        for members in level:
            common = set.intersection(*(neighbours[k] for k in members))
            for k in sorted(c for c in common if c > members[-1]):
                bigger = members + (k,)
                if len(bigger) > 2 and any(bigger[:i] + bigger[i + 1:] not in feasible for i in range(len(bigger) - 1)):
                    continue
                if len(columns) >= max_columns or time.monotonic() > deadline:
                    return columns, False
                route = frame.best_route(bigger)
                if route is not None:
                    add(bigger, route)
                    grown.append(bigger)
        level = grown
    return columns, True


def _solve(model: cp_model.CpModel, deadline: float, seed: int, workers: int):
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = max(0.05, deadline - time.monotonic())
    return solver, solver.Solve(model)


def solve(frames: Sequence[DriverFrame], n_requests: int, hint: Sequence[Sequence[int]],
          hint_routes: Sequence[tuple[int, list[int]] | None], *,
          deadline: float, seed: int = 0, workers: int = 1) -> ModelOutcome:
    """Most passengers, then least detour (the module docstring), until the monotonic clock
    passes ``deadline``. ``hint`` (driver -> local indices) with its routes ``hint_routes`` is a
    feasible start: the answer is never worse than it."""
    started = time.monotonic()
    enumerate_deadline = started + ENUMERATE_SHARE * (deadline - started)
    columns: list[Column] = []
    complete = True
    for d, frame in enumerate(frames):
        got, done = enumerate_routes(frame, d, deadline=enumerate_deadline, max_columns=MAX_COLUMNS_PER_DRIVER)
        columns.extend(got)
        complete &= done
    index = {(c.driver, c.members): i for i, c in enumerate(columns)}
    hinted: set[int] = set()
    for d, (members, route) in enumerate(zip(hint, hint_routes)):
        if members and route is not None:
            key = (d, tuple(sorted(members)))
            if key not in index:
                index[key] = len(columns)
                seats = int(frames[d].seats[list(key[1])].sum())
                columns.append(Column(d, key[1], route[0], route[1], seats,
                                      route[0] - frames[d].departure - frames[d].direct))
            hinted.add(index[key])
    enumerate_s = time.monotonic() - started

    model = cp_model.CpModel()
    y = [model.NewBoolVar(f"y{i}") for i in range(len(columns))]
    by_driver: list[list] = [[] for _ in frames]
    by_request: list[list] = [[] for _ in range(n_requests)]
    for c, v in zip(columns, y):
        by_driver[c.driver].append(v)
        for k in c.members:
            by_request[int(frames[c.driver].candidates[k])].append(v)
    for vs in by_driver + by_request:
        if len(vs) > 1:
            model.AddAtMostOne(vs)
    for i, v in enumerate(y):
        model.AddHint(v, int(i in hinted))
    model.Maximize(sum(c.seats * v for c, v in zip(columns, y)))

    chosen, status, bound = sorted(hinted), STATUS_HINT, float("nan")
    t = time.monotonic()
    solver, result = _solve(model, deadline, seed, workers)
    phase1_s = time.monotonic() - t
    phase2_s = 0.0
    if result in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = [i for i, v in enumerate(y) if solver.BooleanValue(v)]
        if sum(columns[i].seats for i in found) >= sum(columns[i].seats for i in chosen):
            chosen = found
        bound = solver.BestObjectiveBound()
        status = STATUS_OPTIMAL if result == cp_model.OPTIMAL and complete else STATUS_FEASIBLE
        # Phase 2: the same requests served, least total detour, in the time left.
        served = {int(frames[columns[i].driver].candidates[k]) for i in chosen for k in columns[i].members}
        for r, vs in enumerate(by_request):
            if r in served:
                model.AddExactlyOne(vs)
            else:
                for v in vs:
                    model.Add(v == 0)
        model.ClearHints()
        for i, v in enumerate(y):
            model.AddHint(v, int(i in set(chosen)))
        model.Minimize(sum(c.detour_s * v for c, v in zip(columns, y)))
        t = time.monotonic()
        solver, result = _solve(model, t + (deadline - t) / 2, seed, workers)  # a nicety: half the time left at most
        phase2_s = time.monotonic() - t
        if result in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            chosen = [i for i, v in enumerate(y) if solver.BooleanValue(v)]

    sets: list[tuple[int, ...]] = [() for _ in frames]
    routes: list[tuple[int, list[int]] | None] = [None for _ in frames]
    for i in chosen:
        c = columns[i]
        sets[c.driver], routes[c.driver] = c.members, (c.arrival, c.order)
    return ModelOutcome(sets, routes, status, len(columns), complete, float(bound), enumerate_s, phase1_s, phase2_s)
