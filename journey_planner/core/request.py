"""What a caller asks the router: places as weighted stop sets, a time, and the rules to apply."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Place", "PlanRequest"]


@dataclass(frozen=True)
class Place:
    """An origin or destination as the stops one can start from / end at, with walking times.

    A stop is one entry with 0 s; a station is all its platforms with 0 s; a coordinate is the
    stops within walking radius with their walking times (computed outside the core).
    """

    stops: np.ndarray  # int32 [n] -> StopIdx
    walk_s: np.ndarray  # int32 [n] -> walking time between the place and that stop
    walk_m: np.ndarray | None = None  # float64 [n] -> walking distance, for reporting only

    @staticmethod
    def of_stops(stops: list[int] | np.ndarray, walk_s: list[int] | np.ndarray | None = None) -> Place:
        s = np.asarray(stops, dtype=np.int32)
        w = np.zeros(s.size, dtype=np.int32) if walk_s is None else np.asarray(walk_s, dtype=np.int32)
        return Place(s, w)


@dataclass(frozen=True)
class PlanRequest:
    """One journey query.

    ``time_s`` is POSIX seconds: the earliest departure, or with ``arrive_by`` the latest arrival.
    ``window_s`` > 0 turns it into a range query returning the distinct good journeys departing
    (arriving, for arrive-by) within ``[time_s, time_s + window_s]`` (``[time_s - window_s,
    time_s]``). ``transfer_slack_s`` is the minimum change time at one stop where transfers.txt
    gives none. ``max_journeys`` caps the answer, best first.
    """

    origin: Place
    destination: Place
    time_s: int
    arrive_by: bool = False
    max_transfers: int = 6
    transfer_slack_s: int = 120
    wheelchair: bool = False
    window_s: int = 0
    max_journeys: int = 5
    search_horizon_s: int = 24 * 3600
