"""Small builders for the JSON Schemas that routes declare (see `oura.http.routing`).

Packages keep their shapes in their own ``schemas.py``; these only spell the common parts the same
way everywhere: an object lists every property it always emits as required (a value that may be
absent is ``nullable``, not optional) and no other, times are ISO 8601 with an offset (``date-time``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["STRING", "INTEGER", "NUMBER", "BOOLEAN", "DATE_TIME", "DATE", "LATLON_PATTERN", "ID_MAXIMUM",
           "nullable", "array_of", "object_of"]

STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
NUMBER: dict[str, Any] = {"type": "number"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
DATE_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
DATE: dict[str, Any] = {"type": "string", "format": "date"}
# a 'lat,lon' query value (oura.http.params.query_latlon): degrees, latitude -90..90, longitude -180..180
LATLON_PATTERN = (r"^[-+]?(90(\.0*)?|[1-8]?[0-9](\.[0-9]*)?),"
                  r"[-+]?(180(\.0*)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]*)?)$")
ID_MAXIMUM = 2**63 - 1  # ids are PostgreSQL bigint


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def array_of(items: dict[str, Any], **keywords: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **keywords}


def object_of(
    properties: dict[str, Any], *, optional: tuple[str, ...] = (), description: str = "", closed: bool = True
) -> dict[str, Any]:
    """An object whose every property is required (they may be null), except the ``optional`` ones;
    ``closed`` (the default): no other property, so a field a handler adds undocumented fails the
    suite's response check and schemathesis."""
    unknown = set(optional) - set(properties)
    if unknown:
        raise ValueError(f"optional properties not in the object: {sorted(unknown)}")
    schema: dict[str, Any] = {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
    }
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema
