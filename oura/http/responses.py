"""JSON in and out: one encoder for the whole API, one strict body reader."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import decimal
import enum
import json
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from ..errors import InvalidJson, JsonTooDeep, PayloadTooLarge, RequestTimeout

__all__ = ["json_response", "read_json", "parse_json", "to_jsonable", "dumps", "MAX_JSON_DEPTH"]

MAX_JSON_DEPTH = 32
"""The deepest nesting of arrays and objects a request body may have (the top level counts 1).

The deepest body the API takes is 4 levels (an order: object > items > item > holder); 32 leaves
any client room, and stays far below the recursion limits of the parser and of everything that
walks a body afterwards (request hashing, encoding, jsonb). A deeper body is a 400
``json_too_deep``, never a RecursionError."""

DEFAULT_BODY_TIMEOUT_S = 30.0  # when the app carries no config (HttpConfig.body_timeout_s)


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


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays/objects nest deeper than ``limit`` (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def parse_json(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON text from a client -> value, or a 400 problem: the one parser of request bodies.

    Refuses nesting deeper than ``max_depth`` (``json_too_deep``), and NaN/Infinity and integers
    longer than Python converts (``invalid_json``); no RecursionError or ValueError escapes."""
    if not raw:
        raise InvalidJson("a JSON request body is required")
    too_deep = JsonTooDeep(f"the request body nests arrays or objects deeper than {max_depth} levels")
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:  # the C scanner stops at the interpreter's recursion limit (~1000)
        raise too_deep from None
    except (UnicodeDecodeError, ValueError) as error:  # JSONDecodeError, int digits limit, NaN
        raise InvalidJson(f"the request body is not valid JSON: {error}") from None
    if isinstance(value, (dict, list)) and _deeper_than(value, max_depth):
        raise too_deep
    return value


async def read_json(request: web.Request) -> Any:
    """The request body as JSON (`parse_json`), or a 400/408/413 problem saying why it is not.

    The whole body must arrive within ``http.body_timeout_s``: a client trickling it byte by
    byte gets a 408 and its connection is closed, instead of holding a handler forever."""
    from ..keys import CONFIG  # late: oura.keys imports this package

    config = request.app.get(CONFIG)
    timeout_s = config.http.body_timeout_s if config is not None else DEFAULT_BODY_TIMEOUT_S
    try:
        async with asyncio.timeout(timeout_s):
            raw = await request.read()
    except TimeoutError:
        raise RequestTimeout(f"the request body did not arrive within {timeout_s:g} s") from None
    except web.HTTPRequestEntityTooLarge as error:
        raise PayloadTooLarge(
            f"request body larger than {request.app._client_max_size} bytes"  # noqa: SLF001
        ) from error
    return parse_json(raw)
