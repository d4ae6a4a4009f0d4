"""Carpool matching, the greedy nearest-driver baseline (pure: stdlib and numpy).

Requests are taken one at a time by earliest departure (then input order). Each goes to the
"nearest" driver: among the drivers that can still take it, the one whose route grows least when
the passenger's pickup and drop-off are inserted at their best positions in the route it already
has (nearest in driving time, not in straight line, so a driver passing by beats one next door
going elsewhere). Nobody is ever moved once placed. It is the baseline the model is measured
against, and the model's starting point (its first hint): its routes are feasible by
construction (each one is a `DriverFrame.schedule` that passed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .matching_routes import DriverFrame


@dataclass(slots=True)
class CarState:
    """A driver's route while passengers are placed: nodes in order, seats used, arrival."""

    frame: DriverFrame
    order: list[int] = field(default_factory=list)
    members: list[int] = field(default_factory=list)  # local candidate indices
    used: int = 0
    arrival: int = 0

    def __post_init__(self) -> None:
        base = self.frame.schedule([])
        self.arrival = base[0] if base else 0

    def best_insertion(self, k: int) -> tuple[int, list[int]] | None:
        """(arrival, new order) inserting candidate ``k`` at its best positions, or None."""
        frame, order = self.frame, self.order
        if self.used + int(frame.seats[k]) > frame.capacity:
            return None
        pickup, drop = 2 + 2 * k, 3 + 2 * k
        best: tuple[int, list[int]] | None = None
        for i in range(len(order) + 1):
            for j in range(i, len(order) + 1):
                candidate = order[:i] + [pickup] + order[i:j] + [drop] + order[j:]
                got = frame.schedule(candidate)
                if got is not None and (best is None or got[0] < best[0]):
                    best = (got[0], candidate)
        return best

    def insert(self, k: int, arrival: int, order: list[int]) -> None:
        self.order, self.arrival = order, arrival
        self.members.append(k)
        self.used += int(self.frame.seats[k])


def greedy_assign(frames: list[DriverFrame], ready_s: np.ndarray,
                  cars: list[CarState] | None = None, only: set[int] | None = None) -> list[CarState]:
    """Place requests greedily (see the module docstring); ``cars`` continues from routes already
    built (the model's repair pass), ``only`` limits which requests are tried."""
    cars = cars if cars is not None else [CarState(frame) for frame in frames]
    by_request: dict[int, list[int]] = {}
    for d, frame in enumerate(frames):
        for r in frame.candidates.tolist():
            by_request.setdefault(r, []).append(d)
    placed = {int(car.frame.candidates[k]) for car in cars for k in car.members}
    requests = sorted((r for r in by_request if (only is None or r in only) and r not in placed),
                      key=lambda r: (int(ready_s[r]), r))
    for r in requests:
        best: tuple[int, int, list[int]] | None = None  # (added time, driver, order)
        for d in by_request[r]:
            car = cars[d]
            got = car.best_insertion(car.frame.local[r])
            if got is not None and (best is None or got[0] - car.arrival < best[0]):
                best = (got[0] - car.arrival, d, got[1])
        if best is not None:
            car = cars[best[1]]
            car.insert(car.frame.local[r], car.arrival + best[0], best[2])
    return cars
