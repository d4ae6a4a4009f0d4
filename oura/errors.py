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
    "MissingParameter",
    "MalformedValue",
    "InvalidCharacter",
    "InvalidJson",
    "JsonTooDeep",
    "MalformedRequest",
    "InvalidApiKey",
    "WrongRole",
    "OtherAuthority",
    "HandlerTimeout",
    "ComponentNotReady",
    "DatabaseUnavailable",
    "MethodNotAllowed",
    "NotAcceptable",
    "LengthRequired",
    "UnsupportedMediaType",
    "HttpError",
    "HTTP_STATUS_CODES",
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


# The foundation's own codes: what oura.http and oura.auth refuse before any package sees a request.


class MissingParameter(InvalidParameter):
    """A required request parameter is missing."""

    code = "missing_parameter"

    def __init__(self, name: str, reason: str = "is required") -> None:
        super().__init__(name, reason)


class MalformedValue(BadRequest):
    """A value in the request is out of range or malformed (the database refused it)."""

    code = "invalid_parameter"  # the code of InvalidParameter, without the parameter's name


class InvalidCharacter(BadRequest):
    """The request path or query contains a NUL character."""

    code = "invalid_character"


class InvalidJson(BadRequest):
    """The request body is not valid JSON, or is missing."""

    code = "invalid_json"


class JsonTooDeep(BadRequest):
    """The request body nests arrays or objects too deeply."""

    code = "json_too_deep"


class MalformedRequest(BadRequest):
    """The request is not valid HTTP/1.1."""

    code = "malformed_request"


class InvalidApiKey(Unauthorized):
    """The API key is unknown, malformed or revoked."""

    code = "invalid_api_key"


class WrongRole(Forbidden):
    """This endpoint is not for your key's role."""

    code = "wrong_role"


class OtherAuthority(Forbidden):
    """This key acts for another authority."""

    code = "other_authority"


class HandlerTimeout(OuraError):
    """The request took too long."""

    status = 504
    code = "timeout"


class ComponentNotReady(ServiceUnavailable):
    """This part of the service is still loading; retry in a moment.

    The code names the component a route requires (``requires="timetable"`` -> ``timetable_not_ready``,
    ``"catalogue"`` -> ``catalogue_not_ready``): one code per readiness component, built here only.
    """

    code = "not_ready"
    retry_after_s = 2

    def __init__(self, component: str, detail: str | None = None) -> None:
        super().__init__(detail, code=f"{component}_not_ready")
        self.component = component


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached right now; retry in a moment."""

    code = "database_unavailable"
    retry_after_s = 2


# Refusals aiohttp makes itself (no route for the method, a body it will not read, ...): the error
# middleware answers them as problem+json with these codes.


class MethodNotAllowed(OuraError):
    """This resource does not answer this method."""

    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"


class NotAcceptable(OuraError):
    """No representation of this resource matches the Accept header."""

    status = 406
    code = "not_acceptable"
    title = "Not acceptable"


class LengthRequired(OuraError):
    """This request needs a Content-Length."""

    status = 411
    code = "length_required"
    title = "Length required"


class UnsupportedMediaType(OuraError):
    """The request body's media type is not accepted here."""

    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class HttpError(OuraError):
    """The HTTP request was refused."""

    status = 400
    code = "http_error"
    title = "HTTP error"


HTTP_STATUS_CODES: dict[int, str] = {  # an HTTP status aiohttp refuses with -> our code (else HttpError's)
    error.status: error.code
    for error in (BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, NotAcceptable, RequestTimeout,
                  LengthRequired, PayloadTooLarge, UriTooLong, UnsupportedMediaType, HeadersTooLarge)
}
