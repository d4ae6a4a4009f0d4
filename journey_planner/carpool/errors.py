"""The carpool package's errors: stable codes, the docstring is the default message.

The demo operator (`demo_operator.py`) answers with these as problem+json that also carries the
standard-covoiturage ``error`` member (the standard's 400/404/409 bodies are ``{"error": ...}``,
and its codes ``missing_booking``, ``missing_journey``, ``status_already_set`` are kept).
"""

from __future__ import annotations

from oura.errors import BadRequest, Conflict, InvalidParameter, NotFound, OuraError, Unauthorized

__all__ = [
    "InvalidCarpoolParameter",
    "InvalidCarpoolBody",
    "MissingBooking",
    "MissingJourney",
    "StatusAlreadySet",
    "InvalidStatusTransition",
    "NoSeatAvailable",
    "BookingIdTaken",
    "OperatorApiKeyRequired",
    "OperatorFailing",
]


class InvalidCarpoolParameter(InvalidParameter):
    """A parameter of the standard-covoiturage request is missing or malformed."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason, code="invalid_carpool_parameter")


class InvalidCarpoolBody(BadRequest):
    """The request body is not the standard-covoiturage object this operation takes."""

    code = "invalid_carpool_body"


class MissingBooking(NotFound):
    """This booking does not exist (or no longer exists)."""

    code = "missing_booking"


class MissingJourney(BadRequest):
    """The driver journey of this booking does not exist."""

    code = "missing_journey"


class StatusAlreadySet(Conflict):
    """The booking already has the status requested."""

    code = "status_already_set"


class InvalidStatusTransition(BadRequest):
    """A booking cannot go from its current status to the one requested."""

    code = "invalid_status_transition"


class NoSeatAvailable(BadRequest):
    """Every seat of this driver journey is already booked."""

    code = "no_seat_available"


class BookingIdTaken(BadRequest):
    """Another booking already has this id."""

    code = "booking_id_taken"


class OperatorApiKeyRequired(Unauthorized):
    """This operator's API needs its API key (header X-API-KEY)."""

    code = "operator_api_key_required"


class OperatorFailing(OuraError):
    """The demo operator is set to fail (mode fail_500)."""

    code = "operator_failing"
