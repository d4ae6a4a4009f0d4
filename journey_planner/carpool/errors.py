"""The carpool package's errors: stable codes, the docstring is the default message.

Errors of the standard-covoiturage routes OùRA serves (`standard_http`) are problem+json that
also carry the standard's ``error`` member (its 400/404/409 bodies are ``{"error": ...}``), with
the standard's own codes where it has one (``missing_booking``, ``missing_journey``,
``status_already_set``): the `StandardProblem` mixin adds it.
"""

from __future__ import annotations

from typing import Any

from oura.errors import BadRequest, Conflict, InvalidParameter, NotFound, ServiceUnavailable

__all__ = [
    "StandardProblem",
    "InvalidCarpoolParameter",
    "InvalidCarpoolBody",
    "MissingBooking",
    "MissingJourney",
    "StatusAlreadySet",
    "InvalidStatusTransition",
    "StatusNotYours",
    "NoSeatAvailable",
    "NotEnoughSeats",
    "BookingIdTaken",
    "IdempotencyKeyReused",
    "OperatorUnavailable",
    "OperatorRefusedBooking",
    "UnknownOperator",
    "CarpoolNotReady",
]


class StandardProblem:
    """Adds the standard-covoiturage ``error`` member (the code) to the problem body."""

    code: str

    def to_problem(self) -> dict[str, Any]:
        problem = super().to_problem()  # type: ignore[misc]
        problem.setdefault("error", self.code)
        return problem


class InvalidCarpoolParameter(StandardProblem, InvalidParameter):
    """A parameter of the carpool request is missing or malformed."""

    code = "invalid_carpool_parameter"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason, code=self.code)


class InvalidCarpoolBody(StandardProblem, BadRequest):
    """The request body is not the carpool object this operation takes."""

    code = "invalid_carpool_body"


class MissingBooking(StandardProblem, NotFound):
    """This booking does not exist (or no longer exists)."""

    code = "missing_booking"


class MissingJourney(StandardProblem, NotFound):
    """This driver journey is not known here: search again (offers are kept a while after a search)."""

    code = "missing_journey"


class StatusAlreadySet(StandardProblem, Conflict):
    """The booking already has the status requested."""

    code = "status_already_set"


class InvalidStatusTransition(StandardProblem, BadRequest):
    """A booking cannot go from its current status to the one requested."""

    code = "invalid_status_transition"


class StatusNotYours(StandardProblem, BadRequest):
    """Only the driver's side (the operator) confirms a booking."""

    code = "status_not_yours"


class NoSeatAvailable(StandardProblem, Conflict):
    """Every seat of this driver journey is already booked."""

    code = "no_seat_available"


class NotEnoughSeats(StandardProblem, BadRequest):
    """This driver journey has no free seat left (the standard's answer: 400)."""

    code = "not_enough_seats"


class BookingIdTaken(StandardProblem, BadRequest):
    """Another booking already has this id."""

    code = "booking_id_taken"


class IdempotencyKeyReused(Conflict):
    """This Idempotency-Key was used for another booking request."""

    code = "idempotency_key_reused"


class OperatorUnavailable(ServiceUnavailable):
    """The carpool operator did not answer in time or failed: nothing was booked, try again."""

    code = "carpool_operator_unavailable"
    retry_after_s = 10


class OperatorRefusedBooking(Conflict):
    """The carpool operator refused this booking: nothing was booked."""

    code = "carpool_operator_refused"


class UnknownOperator(NotFound):
    """No carpool operator of this id is configured."""

    code = "unknown_carpool_operator"


class CarpoolNotReady(ServiceUnavailable):
    """Carpool is not started yet."""

    code = "carpool_not_ready"
