"""Typed reading of query parameters: each failure is a 400 naming the parameter and the reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from ..errors import InvalidParameter, MissingParameter

__all__ = [
    "query_str",
    "query_int",
    "query_float",
    "query_bool",
    "query_datetime",
    "query_latlon",
    "parse_latlon",
]

_MISSING = object()


def _raw(params: Mapping[str, str], name: str, required: bool) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise MissingParameter(name)
        return None
    return value


def query_str(params: Mapping[str, str], name: str, *, required: bool = False, default: str | None = None, max_length: int = 500) -> str | None:
    value = _raw(params, name, required)
    if value is None:
        return default
    if len(value) > max_length:
        raise InvalidParameter(name, f"longer than {max_length} characters")
    return value


def _check_bounds(name: str, number: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and number < minimum:
        raise InvalidParameter(name, f"must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise InvalidParameter(name, f"must be at most {maximum}")


def query_int(
    params: Mapping[str, str], name: str, *, required: bool = False, default: int | None = None,
    minimum: int | None = None, maximum: int | None = None,
) -> int | None:
    """An integer from ``minimum`` to ``maximum`` (say both, and declare them on the route); never
    beyond PostgreSQL's bigint, so no value reaches the database or date arithmetic unbounded."""
    value = _raw(params, name, required)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:  # also digits beyond Python's conversion limit
        raise InvalidParameter(name, f"must be an integer, got {value[:40]!r}") from None
    _check_bounds(name, number, minimum, maximum)
    if not -(2**63) <= number < 2**63:  # what PostgreSQL's bigint (and every id here) can hold
        raise InvalidParameter(name, f"must be from {-(2**63)} to {2**63 - 1}")
    return number


def query_float(
    params: Mapping[str, str], name: str, *, required: bool = False, default: float | None = None,
    minimum: float | None = None, maximum: float | None = None,
) -> float | None:
    value = _raw(params, name, required)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise InvalidParameter(name, f"must be a number, got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise InvalidParameter(name, "must be a finite number")
    _check_bounds(name, number, minimum, maximum)
    return number


def query_bool(params: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    value = _raw(params, name, False)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise InvalidParameter(name, f"must be true or false, got {value!r}")


def query_datetime(
    params: Mapping[str, str], name: str, *, required: bool = False, default: dt.datetime | None = None,
    assume_tz: str = "Europe/Paris",
) -> dt.datetime | None:
    """An ISO 8601 date-time; one without an offset is read in ``assume_tz`` (the region's zone)."""
    value = _raw(params, name, required)
    if value is None:
        return default
    try:
        moment = dt.datetime.fromisoformat(value.replace(" ", "+") if value.count(" ") == 1 and "T" in value else value)
    except ValueError:
        raise InvalidParameter(name, f"must be an ISO 8601 date-time such as 2026-03-01T08:30:00+01:00, got {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(assume_tz))
    return moment


def parse_latlon(text: str) -> tuple[float, float] | None:
    """``"45.76,4.83"`` -> (45.76, 4.83); None when the text is not a coordinate pair."""
    parts = text.split(",")
    if len(parts) != 2:
        return None
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    return lat, lon


def query_latlon(params: Mapping[str, str], name: str, *, required: bool = False) -> tuple[float, float] | None:
    value = _raw(params, name, required)
    if value is None:
        return None
    pair = parse_latlon(value)
    if pair is None:
        raise InvalidParameter(name, f"must be 'lat,lon' in degrees, got {value!r}")
    return pair
