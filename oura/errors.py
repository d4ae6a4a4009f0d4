"""The base of every error that OùRA turns into an HTTP answer.

Each package has its own ``errors.py`` that subclasses these with a stable machine ``code``. The
default message of an error class is its docstring, so an error documents itself and can be
raised without arguments (procrastinate's pattern). The HTTP error middleware renders any
`OuraError` as RFC 9457 problem+json with ``status``, ``code``, ``title`` and ``detail``; anything
else becomes a logged 500 that shows the client nothing but a request id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "OuraError",
    "BadRequest",
    "InvalidParameter",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "PayloadTooLarge",
    "RequestTimeout",
    "UriTooLong",
    "HeadersTooLarge",
    "UnprocessableEntity",
    "ServiceUnavailable",
]


class OuraError(Exception):
    """An unexpected error occurred."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal error"
    close_connection: ClassVar[bool] = False  # True: the answer closes the connection (the request is not trusted)

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail or (self.__class__.__doc__ or self.title).strip().splitlines()[0]
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.extra = dict(extra or {})
        super().__init__(self.detail)

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the problem body (none by default)."""
        return {}

    def to_problem(self) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": f"https://oura.example/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        problem.update(self.extra)
        return problem


class BadRequest(OuraError):
    """The request is malformed."""

    status = 400
    code = "bad_request"
    title = "Bad request"


class InvalidParameter(BadRequest):
    """A request parameter is missing or malformed."""

    code = "invalid_parameter"
    title = "Invalid parameter"

    def __init__(self, name: str, reason: str, *, code: str | None = None) -> None:
        super().__init__(
            f"parameter '{name}': {reason}",
            code=code,
            extra={"invalid_params": [{"name": name, "reason": reason}]},
        )
        self.name = name


class Unauthorized(OuraError):
    """This endpoint needs a valid API key (header 'Authorization: Bearer <key>')."""

    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class Forbidden(OuraError):
    """Your API key does not allow this."""

    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(OuraError):
    """No such resource."""

    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(OuraError):
    """The request conflicts with the current state of the resource."""

    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(OuraError):
    """The request body is too large."""

    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class RequestTimeout(OuraError):
    """The request body did not arrive in time; the connection is closed."""

    status = 408
    code = "request_timeout"
    title = "Request timeout"
    close_connection = True


class UriTooLong(OuraError):
    """The request line (method, path and query) is too long."""

    status = 414
    code = "uri_too_long"
    title = "URI too long"
    close_connection = True


class HeadersTooLarge(OuraError):
    """A request header field is too long, or there are too many of them."""

    status = 431
    code = "headers_too_large"
    title = "Request header fields too large"
    close_connection = True


class UnprocessableEntity(OuraError):
    """The request is well-formed but cannot be processed."""

    status = 422
    code = "unprocessable"
    title = "Unprocessable entity"


class ServiceUnavailable(OuraError):
    """The service is not ready to answer this yet."""

    status = 503
    code = "unavailable"
    title = "Service unavailable"
    retry_after_s: ClassVar[int] = 5  # when to retry (RFC 9110 Retry-After); subclasses say theirs

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}
