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
    "PlaceError",
    "InvalidCoordinate",
    "NoStopNearby",
    "NoStopWithinReach",
    "InvalidCursor",
    "InvalidItineraryId",
    "EmptyStation",
    "UnknownWatch",
    "ItineraryOver",
    "InvalidWebhookUrl",
    "InvalidModes",
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


class NoStopWithinReach(InvalidParameter):
    """No stop is within walking reach of the coordinate."""

    def __init__(self, name: str, max_radius_m: float,
                 nearest: tuple[str, str, float, float, float] | None) -> None:
        """``nearest``: (stop id, name, lat, lon, straight-line distance in m) of the nearest stop."""
        if nearest is None:
            reason = "no stop served in the loaded timetables"
        else:
            reason = (f"no stop within {max_radius_m:.0f} m; the nearest, {nearest[1]} ({nearest[0]}), "
                      f"is {nearest[4]:.0f} m away")
        super().__init__(name, reason, code="no_stop_nearby")
        self.extra.update({
            "max_access_radius_m": max_radius_m,
            "nearest_stop_m": None if nearest is None else round(nearest[4], 1),
            "nearest_stop": None if nearest is None else {
                "id": nearest[0], "name": nearest[1], "lat": nearest[2], "lon": nearest[3]},
        })


class InvalidCursor(InvalidParameter):
    """The page cursor is not one this planner issued."""

    def __init__(self, reason: str) -> None:
        super().__init__("cursor", reason, code="invalid_cursor")


class InvalidItineraryId(InvalidParameter):
    """The itinerary id is not one this planner issued."""

    def __init__(self, reason: str) -> None:
        super().__init__("id", reason, code="invalid_itinerary_id")


class TimetableNotReady(ServiceUnavailable):
    """The timetable is still loading; retry in a moment."""

    code = "timetable_not_ready"


class PlaceError(ValueError):
    """The text names no stop, station or valid coordinate.

    Raised by `journey_planner.places` while resolving a place; the service answers it as
    `UnknownPlace` (code ``unknown_place``), so the subclasses' codes only tell callers of
    `resolve_place` (the CLI, tests) which case it was.
    """

    code = "unknown_place"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__class__.__doc__ or "").strip().splitlines()[0])


class InvalidCoordinate(PlaceError):
    """The latitude/longitude is out of range."""

    code = "invalid_coordinate"


class NoStopNearby(PlaceError):
    """No stop is within walking distance of the coordinate."""

    code = "no_stop_nearby"


class EmptyStation(PlaceError):
    """The station has no platforms."""

    code = "empty_station"


class UnknownWatch(NotFound):
    """No watch with this id (never created, deleted, or expired long ago)."""

    code = "unknown_watch"


class ItineraryOver(PlannerError):
    """The itinerary has already arrived: there is nothing left to watch."""

    code = "itinerary_over"


class InvalidWebhookUrl(InvalidParameter):
    """The webhook URL is not https (http only to 127.0.0.1 or localhost)."""

    def __init__(self, reason: str) -> None:
        super().__init__("webhook_url", reason, code="invalid_webhook_url")


class InvalidModes(InvalidParameter):
    """The modes are not a comma-separated list of transit, walk and carpool."""

    def __init__(self, text: str) -> None:
        super().__init__("modes", f"{text[:100]!r}: give a comma-separated list of transit, walk, carpool",
                         code="invalid_modes")
