"""The planner's errors: stable codes, the docstring is the default message (rendered as problem+json)."""

from __future__ import annotations

from oura.errors import BadRequest, InvalidParameter, NotFound, ServiceUnavailable

__all__ = [
    "PlannerError",
    "UnknownPlace",
    "UnknownStop",
    "SamePlace",
    "WindowTooLarge",
    "TimetableNotReady",
    "OutsideTimetable",
]


class PlannerError(BadRequest):
    """The journey request cannot be planned."""

    code = "planner_error"


class UnknownPlace(InvalidParameter):
    """The parameter names no known stop, station or valid coordinate."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason, code="unknown_place")


class UnknownStop(NotFound):
    """No stop or station with this id."""

    code = "unknown_stop"


class SamePlace(PlannerError):
    """'from' and 'to' are the same place."""

    code = "same_place"


class WindowTooLarge(InvalidParameter):
    """The time window is larger than the planner allows."""

    def __init__(self, maximum_s: int) -> None:
        super().__init__("window", f"must be at most {maximum_s} seconds", code="window_too_large")


class OutsideTimetable(PlannerError):
    """The requested time is outside the loaded timetables' service days."""

    code = "outside_timetable"


class TimetableNotReady(ServiceUnavailable):
    """The timetable is still loading; retry in a moment."""

    code = "timetable_not_ready"
