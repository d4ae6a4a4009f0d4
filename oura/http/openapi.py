"""The OpenAPI 3.1 document, built from the same `RouteSpec`s that aiohttp mounts.

Every answer of every operation has a JSON Schema: the 2xx bodies as each package declares them
(``reply(description, schema)``, shared shapes in its ``components``), every error as RFC 9457
``application/problem+json`` with the ``Problem`` schema (its ``status`` pinned to the answer's).
The foundation adds the answers any route can give, whatever its handler does: 400 (a NUL in the
path or query, a malformed parameter), 408/413/414/431 (a request too slow or too large), 500 (an
unexpected error, logged) and 503 (not ready, or the database unreachable; with ``Retry-After``), plus 401 and 403
on protected routes. The test suite checks every response it receives against this document
(tests/openapi_check.py), and schemathesis fuzzes it (tests/oura/test_openapi_schemathesis.py).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .routing import Reply, RouteSpec, schema_ref

__all__ = ["build_openapi", "render_docs_page", "FOUNDATION_SCHEMAS", "PROBLEM_SCHEMA", "PROBLEM_CONTENT_TYPE"]

PROBLEM_CONTENT_TYPE = "application/problem+json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; members beyond these are extensions of one error code",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "https://oura.example/problems/<code>"},
        "title": {"type": "string", "description": "the status's short name"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "description": "stable machine-readable error code"},
        "detail": {"type": "string", "description": "what went wrong, for a human"},
        "instance": {"type": "string", "description": "urn:oura:request:<request id> (also in X-Request-Id)"},
        "invalid_params": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "reason"],
                "properties": {"name": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}

_POSITION = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"},
             "description": "[longitude, latitude] (WGS 84, GeoJSON order)"}

# shapes every package may use (referred to with schema_ref), next to the packages' own components
FOUNDATION_SCHEMAS: dict[str, Any] = {
    "Problem": PROBLEM_SCHEMA,
    "GeoJSONPoint": {
        "type": "object",
        "description": "RFC 7946 Point",
        "required": ["type", "coordinates"],
        "properties": {"type": {"const": "Point"}, "coordinates": _POSITION},
    },
    "GeoJSONLineString": {
        "type": "object",
        "description": "RFC 7946 LineString (empty coordinates when the ends are unknown)",
        "required": ["type", "coordinates"],
        "properties": {"type": {"const": "LineString"}, "coordinates": {"type": "array", "items": _POSITION}},
    },
}

_REQUEST_ID = {
    "X-Request-Id": {
        "description": "the request's id (the client's own X-Request-Id, else a new one): quote it to support",
        "schema": {"type": "string", "maxLength": 64},
    }
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds after which to retry (RFC 9110)",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}

# what any route can answer, whatever its handler (see the module docstring)
_EVERY_ROUTE: dict[int, str] = {
    400: "Malformed request: a parameter, the path or the body",
    408: "The request body did not arrive in time",
    413: "Request body too large",
    414: "Request line too long",
    431: "Request header fields too large",
    500: "Unexpected error (logged with the request id; the body shows nothing else)",
    503: "Not ready yet, or the database is unreachable: retry after Retry-After seconds",
}
_PROTECTED_ROUTE: dict[int, str] = {
    401: "Missing or invalid API key",
    403: "The key's role or authority does not allow this",
}


def _problem(status: int, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The Problem schema with this answer's status (and the route's own extension members)."""
    parts: list[Mapping[str, Any]] = [schema_ref("Problem"), {"properties": {"status": {"const": status}}}]
    if schema is not None:
        parts.append(schema)
    return {"allOf": parts}


def _response(status: int, declared: Any, spec: RouteSpec) -> dict[str, Any]:
    if isinstance(declared, dict):  # a raw OpenAPI response object
        return declared
    answer = declared if isinstance(declared, Reply) else Reply(str(declared))
    error = status >= 400
    content_type = answer.content_type or (PROBLEM_CONTENT_TYPE if error else spec.content_type)
    if error and content_type == PROBLEM_CONTENT_TYPE:
        schema: Mapping[str, Any] | None = _problem(status, answer.schema)
    else:
        schema = answer.schema
    response: dict[str, Any] = {
        "description": answer.description,
        "content": {content_type: {} if schema is None else {"schema": dict(schema)}},
    }
    headers = {**_REQUEST_ID, **answer.headers}
    if status == 503 and content_type == PROBLEM_CONTENT_TYPE:
        headers = {**_RETRY_AFTER, **headers}
    if headers:
        response["headers"] = {
            name: value if "schema" in value else {"schema": dict(value)} for name, value in headers.items()
        }
    return response


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        ref = value.get("$ref")
        if isinstance(ref, str):
            yield ref
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def build_openapi(specs: Iterable[RouteSpec], *, title: str, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = dict(FOUNDATION_SCHEMAS)
    for spec in specs:
        for name, schema in spec.components.items():
            if schemas.setdefault(name, schema) != schema:
                raise ValueError(f"two route tables define the schema {name!r} differently")
        declared: dict[int, Any] = {**_EVERY_ROUTE, **({} if spec.public else _PROTECTED_ROUTE)}
        declared.update(spec.responses)
        operation: dict[str, Any] = {
            "operationId": spec.operation_id,
            "summary": spec.summary,
            "tags": [spec.tag],
            "parameters": [p.to_openapi() for p in spec.params],
            "responses": {str(code): _response(code, desc, spec) for code, desc in sorted(declared.items())},
        }
        if spec.description:
            operation["description"] = spec.description
        if spec.body is not None:
            operation["requestBody"] = {
                "required": spec.body_required,
                "content": {"application/json": {"schema": dict(spec.body)}},
            }
        if spec.roles is not None:
            operation["security"] = [{"apiKey": []}]
            operation["x-roles"] = sorted(spec.roles)
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "OùRA: journeys, tickets and statistics for a region's pooled public transport.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "oura_<id>_<secret>"}},
        },
    }
    prefix = "#/components/schemas/"
    dangling = sorted({ref for ref in _refs(document) if not (ref.startswith(prefix) and ref[len(prefix):] in schemas)})
    if dangling:
        raise ValueError(f"the OpenAPI document refers to undefined schemas: {', '.join(dangling)}")
    return document


def render_docs_page(document: dict[str, Any]) -> str:
    """A self-contained HTML reference of the API (no scripts, no CDN: it works offline)."""
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(document['info']['title'])} API</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "h2{border-bottom:1px solid #ddd;padding-bottom:.2rem}.op{margin:1rem 0;padding:.6rem 1rem;border-left:4px solid #3a7}"
        ".m{font-weight:bold;font-family:monospace;text-transform:uppercase;margin-right:.5rem}code{background:#f4f4f4;padding:0 .2rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;font-size:.9rem}"
        ".lock{color:#a50}</style></head><body>",
        f"<h1>{esc(document['info']['title'])} <small>{esc(document['info']['version'])}</small></h1>",
        f"<p>{esc(document['info']['description'])} Machine-readable: <a href='/openapi.json'>/openapi.json</a>.</p>",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            by_tag.setdefault(op["tags"][0], []).append((method, path, op))
    for tag, operations in sorted(by_tag.items()):
        parts.append(f"<h2>{esc(tag)}</h2>")
        for method, path, op in operations:
            roles = op.get("x-roles")
            lock = f" <span class='lock'>🔒 {esc(', '.join(roles))}</span>" if roles else ""
            parts.append(f"<div class='op'><span class='m'>{esc(method)}</span><code>{esc(path)}</code>{lock}")
            parts.append(f"<p>{esc(op['summary'])}</p>")
            if op.get("description") and op["description"] != op["summary"]:
                parts.append(f"<p><small>{esc(op['description'])}</small></p>")
            if op["parameters"]:
                parts.append("<table><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>")
                for p in op["parameters"]:
                    req = " (required)" if p["required"] else ""
                    parts.append(
                        f"<tr><td><code>{esc(p['name'])}</code>{req}</td><td>{esc(p['in'])}</td>"
                        f"<td>{esc(str(p['schema'].get('type', '')))}</td><td>{esc(p['description'])}</td></tr>"
                    )
                parts.append("</table>")
            answers = []
            for status, response in op["responses"].items():
                schemas = [c.get("schema", {}) for c in response.get("content", {}).values()]
                ref = next((s["$ref"].rsplit("/", 1)[-1] for s in schemas if "$ref" in s), "")
                answers.append(f"<code>{esc(status)}</code> {esc(response['description'])}"
                               + (f" (<code>{esc(ref)}</code>)" if ref else ""))
            parts.append("<p><small>" + " · ".join(answers) + "</small></p>")
            parts.append("</div>")
    parts.append("</body></html>")
    return "".join(parts)
