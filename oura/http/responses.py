"""JSON in and out: one encoder for the whole API, one strict body reader."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from ..errors import BadRequest, PayloadTooLarge

__all__ = ["json_response", "read_json", "to_jsonable", "dumps"]


def to_jsonable(value: Any) -> Any:
    """Default hook of the encoder: ISO 8601 times with offsets, enums by value, dataclasses as dicts."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime cannot go to the API (times carry offsets)")
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, (uuid.UUID, Path, decimal.Decimal)):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return json.dumps(value, default=to_jsonable, ensure_ascii=False, separators=(",", ":"))


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None, content_type: str = "application/json"
) -> web.Response:
    return web.Response(
        text=dumps(data), status=status, headers=headers, content_type=content_type, charset="utf-8"
    )


async def read_json(request: web.Request) -> Any:
    """The request body as JSON, or a 400 problem saying why it is not."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as error:
        raise PayloadTooLarge(
            f"request body larger than {request.app._client_max_size} bytes"  # noqa: SLF001
        ) from error
    if not raw:
        raise BadRequest("a JSON request body is required", code="invalid_json")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(f"the request body is not valid JSON: {error}", code="invalid_json") from error
