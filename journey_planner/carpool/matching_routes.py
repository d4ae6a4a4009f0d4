"""Carpool matching, the route arithmetic (pure: stdlib and numpy).

The batch as flat arrays (`Instance`), what each driver could do carrying one passenger alone
(`pair_stages`, one numpy pass over every offer x request), and per driver a `DriverFrame`: the
travel-time matrix of its origin, its destination and its candidates' pickup and drop-off points,
from which the schedule of any order of stops is read (`DriverFrame.schedule`), the earliest order
for a set of passengers is searched (`DriverFrame.best_route`) and every pair of candidates is
checked at once (`DriverFrame.pair_compatible`).

Schedule rules (the same here, in the baseline, in the model and in `matching.verify_routes`,
which re-implements them without this module):

- the driver leaves its origin at its departure time;
- at a pickup the car arrives, waits for the passenger if it is early (until their earliest
  departure), and must not be there later than earliest departure + waiting limit; at a drop-off
  the passenger alights on arrival, not after their latest arrival (when they gave one);
- each stop then takes ``stop_s`` (boarding, alighting) before the car drives on;
- the seats taken never exceed the offer's seats;
- the driver's detour, arrival at destination - departure - direct drive (waits and stops
  included), is within its budget.

Travel times are whole seconds (`travel_seconds` rounds the injected function's answer to the
nearest second); every function here reads them from the same matrices, so they agree.

Node numbering of a frame: 0 the driver's origin, 1 its destination, ``2 + 2k`` the pickup and
``3 + 2k`` the drop-off of its k-th candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# (lat1, lon1, lat2, lon2) in degrees, numpy arrays broadcast together -> seconds.
TravelTime = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]

# The furthest a (offer, request) pair gets when the passenger would ride alone (`pair_stages`):
# enough seats, then a detour within budget driving via the passenger, then a car at the pickup
# before the waiting limit, then a car not kept waiting past its budget, then the latest arrival.
STAGE_SEATS, STAGE_DETOUR, STAGE_LATE, STAGE_EARLY, STAGE_ARRIVAL, STAGE_FEASIBLE = range(6)
NODE_LIMIT = 200_000  # a best_route search expanding more partial orders gives up (set treated as infeasible)
_NEVER = np.iinfo(np.int64).max // 4


def travel_seconds(travel_time: TravelTime, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Seconds from points ``a`` to points ``b`` (``(..., 2)`` arrays of lat, lon, broadcast),
    rounded to whole seconds: the one place the injected travel-time function is called."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    got = np.asarray(travel_time(a[..., 0], a[..., 1], b[..., 0], b[..., 1]), dtype=np.float64)
    shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    if got.shape != shape:
        raise ValueError(f"travel_time returned shape {got.shape}, expected {shape}")
    if not np.all(np.isfinite(got)) or np.any(got < 0):
        raise ValueError("travel_time returned a negative, infinite or NaN time")
    return np.rint(got).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Instance:
    """A validated batch as arrays (index = position in the caller's lists)."""

    pickup: np.ndarray  # request -> (lat, lon) of its pickup point
    drop: np.ndarray  # request -> (lat, lon) of its drop-off point
    ready_s: np.ndarray  # request -> earliest departure, POSIX s
    pickup_latest_s: np.ndarray  # request -> earliest departure + waiting limit
    drop_latest_s: np.ndarray  # request -> latest arrival (a far future when none)
    seats: np.ndarray  # request -> seats asked
    start: np.ndarray  # offer -> (lat, lon) of its origin
    end: np.ndarray  # offer -> (lat, lon) of its destination
    departure_s: np.ndarray  # offer -> departure, POSIX s
    capacity: np.ndarray  # offer -> seats offered
    budget_s: np.ndarray  # offer -> detour budget
    direct_s: np.ndarray  # offer -> direct drive origin -> destination
    ride_s: np.ndarray  # request -> direct drive pickup -> drop-off
    stop_s: int
    travel_time: TravelTime

    @property
    def n_requests(self) -> int:
        return len(self.seats)

    @property
    def n_offers(self) -> int:
        return len(self.capacity)


@dataclass(frozen=True, slots=True)
class PairStages:
    """Every (offer, request) pair with the passenger riding alone: ``stage[o, r]`` (`STAGE_*`),
    ``added_s[o, r]`` the driver's detour when feasible, and ``short_s[o, r]`` by how many
    seconds (or seats, at `STAGE_SEATS`) the failing rule was missed (0 when feasible)."""

    stage: np.ndarray
    added_s: np.ndarray
    short_s: np.ndarray


def pair_stages(inst: Instance) -> PairStages:
    """Check each driver against each passenger alone (see `PairStages`)."""
    to_pickup = travel_seconds(inst.travel_time, inst.start[:, None, :], inst.pickup[None, :, :])
    from_drop = travel_seconds(inst.travel_time, inst.drop[None, :, :], inst.end[:, None, :])
    dep = inst.departure_s[:, None]
    direct = inst.direct_s[:, None]
    budget = inst.budget_s[:, None]
    ride = inst.ride_s[None, :] + 2 * inst.stop_s  # pickup -> drop-off -> on its way, both stops
    arrive = dep + to_pickup
    board = np.maximum(arrive, inst.ready_s[None, :])
    driving = to_pickup + ride + from_drop - direct  # detour without waiting
    added = board - dep + ride + from_drop - direct  # detour with the wait at the pickup
    alights = board + inst.stop_s + inst.ride_s[None, :]
    checks = (  # (stage when failed, missed by), in the order they are applied
        (STAGE_SEATS, inst.seats[None, :] - inst.capacity[:, None]),
        (STAGE_DETOUR, driving - budget),
        (STAGE_LATE, arrive - inst.pickup_latest_s[None, :]),
        (STAGE_EARLY, added - budget),
        (STAGE_ARRIVAL, alights - inst.drop_latest_s[None, :]),
    )
    stage = np.full(added.shape, STAGE_FEASIBLE, dtype=np.int8)
    short = np.zeros(added.shape, dtype=np.int64)
    for code, missed in reversed(checks):  # the first failing check wins
        failed = missed > 0
        stage[failed] = code
        short[failed] = missed[failed]
    return PairStages(stage, np.where(stage == STAGE_FEASIBLE, added, 0), short)


class DriverFrame:
    """One driver and the requests it could carry alone (its candidates, by request index)."""

    def __init__(self, inst: Instance, offer: int, candidates: np.ndarray, added_s: np.ndarray):
        self.offer = offer
        self.candidates = np.asarray(candidates, dtype=np.int64)
        self.local = {int(r): k for k, r in enumerate(self.candidates.tolist())}
        self.added_s = np.asarray(added_s, dtype=np.int64)  # candidate -> detour carrying it alone
        n = len(self.candidates)
        points = np.empty((2 * n + 2, 2))
        points[0], points[1] = inst.start[offer], inst.end[offer]
        points[2::2], points[3::2] = inst.pickup[self.candidates], inst.drop[self.candidates]
        self.matrix = travel_seconds(inst.travel_time, points[:, None, :], points[None, :, :])
        self.ready = np.zeros(2 * n + 2, dtype=np.int64)
        self.latest = np.full(2 * n + 2, _NEVER, dtype=np.int64)
        self.ready[2::2] = inst.ready_s[self.candidates]
        self.latest[2::2] = inst.pickup_latest_s[self.candidates]
        self.latest[3::2] = inst.drop_latest_s[self.candidates]
        self.seats = inst.seats[self.candidates].astype(np.int64)
        self.departure = int(inst.departure_s[offer])
        self.capacity = int(inst.capacity[offer])
        self.direct = int(inst.direct_s[offer])
        self.arrival_max = self.departure + self.direct + int(inst.budget_s[offer])
        self.stop_s = inst.stop_s
        self._m = self.matrix.tolist()
        self._ready = self.ready.tolist()
        self._latest = self.latest.tolist()
        self._seats = self.seats.tolist()

    def schedule(self, order: Sequence[int]) -> tuple[int, list[int]] | None:
        """The car's arrival at its destination and each stop's time (the car there, passenger
        boarding or alighting) along ``order`` (nodes, origin and destination left out), or None
        when a rule is broken. ``order`` must pick each passenger up before dropping them."""
        m, ready, latest, seats, stop = self._m, self._ready, self._latest, self._seats, self.stop_s
        t, at, load, times = self.departure, 0, 0, []
        for node in order:
            k, is_drop = divmod(node - 2, 2)
            serve = max(t + m[at][node], ready[node])
            if serve > latest[node]:
                return None
            load += -seats[k] if is_drop else seats[k]
            if load > self.capacity:
                return None
            times.append(serve)
            t, at = serve + stop, node
        arrival = t + m[at][1]
        return (arrival, times) if arrival <= self.arrival_max else None

    def best_route(self, members: Sequence[int], node_limit: int = NODE_LIMIT) -> tuple[int, list[int]] | None:
        """The order of stops serving candidates ``members`` (local indices) that arrives
        earliest, as (arrival, nodes), or None when no order keeps every rule. Depth-first with a
        bound (time so far + straight to the destination); past ``node_limit`` expansions the set
        is treated as infeasible (never output unchecked)."""
        m, ready, latest, seats, stop = self._m, self._ready, self._latest, self._seats, self.stop_s
        best: list = [self.arrival_max + 1, None]
        expansions = 0

        def search(at: int, t: int, load: int, waiting: frozenset, onboard: frozenset, order: list) -> None:
            nonlocal expansions
            if not waiting and not onboard:
                arrival = t + m[at][1]
                if arrival < best[0]:
                    best[0], best[1] = arrival, list(order)
                return
            if t + m[at][1] >= best[0] or expansions > node_limit:
                return
            expansions += 1
            for node in sorted(waiting | onboard):
                k, is_drop = divmod(node - 2, 2)
                new_load = load - seats[k] if is_drop else load + seats[k]
                serve = max(t + m[at][node], ready[node])
                if serve > latest[node] or new_load > self.capacity:
                    continue
                order.append(node)
                if is_drop:
                    search(node, serve + stop, new_load, waiting, onboard - {node}, order)
                else:
                    search(node, serve + stop, new_load, waiting - {node}, onboard | {node + 1}, order)
                order.pop()

        search(0, self.departure, 0, frozenset(2 + 2 * k for k in members), frozenset(), [])
        if best[1] is None or expansions > node_limit:
            return None
        return best[0], best[1]

    def pair_compatible(self) -> np.ndarray:
        """``ok[i, j]``: candidates i and j fit in this car together in some order of their four
        stops (seats counted while both are on board); numpy over all pairs at once."""
        n = len(self.candidates)
        i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        pi, di, pj, dj = 2 + 2 * i, 3 + 2 * i, 2 + 2 * j, 3 + 2 * j
        both = self.seats[i] + self.seats[j] <= self.capacity
        first = np.zeros((n, n), dtype=bool)  # some order with i boarding first works
        for order, together in (((pi, di, pj, dj), None), ((pi, pj, di, dj), both), ((pi, pj, dj, di), both)):
            ok = self._feasible(order)
            first |= ok if together is None else ok & together
        compatible = first | first.T
        np.fill_diagonal(compatible, False)
        return compatible

    def _feasible(self, order: Sequence[np.ndarray]) -> np.ndarray:
        t = np.full(order[0].shape, self.departure, dtype=np.int64)
        at = np.zeros(order[0].shape, dtype=np.int64)
        ok = np.ones(order[0].shape, dtype=bool)
        for node in order:
            serve = np.maximum(t + self.matrix[at, node], self.ready[node])
            ok &= serve <= self.latest[node]
            t, at = serve + self.stop_s, node
        return ok & (t + self.matrix[at, 1] <= self.arrival_max)


def build_frames(inst: Instance, stages: PairStages) -> list[DriverFrame]:
    """One frame per offer, its candidates the requests it could carry alone (in request order)."""
    frames = []
    for offer in range(inst.n_offers):
        candidates = np.flatnonzero(stages.stage[offer] == STAGE_FEASIBLE)
        frames.append(DriverFrame(inst, offer, candidates, stages.added_s[offer, candidates]))
    return frames
