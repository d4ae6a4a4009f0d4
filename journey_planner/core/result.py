"""What the router answers: journeys as legs over indices (names are added by `mapping`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TransitLeg", "WalkLeg", "Journey", "PlanResult"]


@dataclass(frozen=True)
class TransitLeg:
    """A ride on one trip from the stop at ``board_pos`` to the stop at ``alight_pos``."""

    trip: int  # TripIdx in the timetable that was searched (forward one for arrive-by too)
    pattern: int  # PatternIdx
    day: int  # DayIdx of the trip's service day
    board_pos: int  # position in the pattern
    alight_pos: int
    from_stop: int  # StopIdx
    to_stop: int
    departure_s: int  # POSIX seconds
    arrival_s: int


@dataclass(frozen=True)
class WalkLeg:
    """A walk between two stops, or between the place and a stop (``from_stop``/``to_stop`` -1).

    A walk through other stops (a walking transfer then the walk to the destination) is one leg:
    the traveller sees one walk, ``via_stops`` keeps the stops it passes for its geometry.
    """

    from_stop: int
    to_stop: int
    departure_s: int
    arrival_s: int
    duration_s: int
    distance_m: float | None = None  # None: straight lines through via_stops, measured by the mapper
    via_stops: tuple[int, ...] = ()  # StopIdx walked through, in walking order


@dataclass(frozen=True)
class Journey:
    legs: tuple[TransitLeg | WalkLeg, ...]
    departure_s: int
    arrival_s: int

    @property
    def transfers(self) -> int:
        return max(0, sum(isinstance(leg, TransitLeg) for leg in self.legs) - 1)

    @property
    def duration_s(self) -> int:
        return self.arrival_s - self.departure_s


@dataclass(frozen=True)
class PlanResult:
    """The Pareto set found, best first (earliest arrival; latest departure for arrive-by)."""

    journeys: tuple[Journey, ...]
    rounds: int  # RAPTOR rounds run (last search)
    searches: int  # RAPTOR runs (more than one for range queries)
