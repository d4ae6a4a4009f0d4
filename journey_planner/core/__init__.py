"""The pure planner core: arrays in, journeys out (stdlib, numpy and numba only).

Public API: `plan`, `PlanRequest`, `Place`, `PlanResult`, `Journey`, `TransitLeg`, `WalkLeg`,
`Timetable`, `reverse_timetable`, `build_stop_patterns`, the index types and flag constants.
"""

from .planner import MAX_WINDOW_S, candidate_days, plan
from .request import Place, PlanRequest
from .result import Journey, PlanResult, TransitLeg, WalkLeg
from .timetable import (
    NO_DROP_OFF,
    NO_PICKUP,
    SLACK_DEFAULT,
    SLACK_FORBIDDEN,
    DayIdx,
    PatternIdx,
    RouteIdx,
    StopIdx,
    Timetable,
    TripIdx,
    build_stop_patterns,
    reverse_timetable,
)

__all__ = [
    "plan", "candidate_days", "MAX_WINDOW_S", "Place", "PlanRequest", "Journey", "PlanResult",
    "TransitLeg", "WalkLeg", "Timetable", "reverse_timetable", "build_stop_patterns", "StopIdx",
    "PatternIdx", "RouteIdx", "TripIdx", "DayIdx", "NO_PICKUP", "NO_DROP_OFF", "SLACK_DEFAULT",
    "SLACK_FORBIDDEN",
]
