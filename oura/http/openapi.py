"""The OpenAPI 3.1 document, built from the same `RouteSpec`s that aiohttp mounts."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from .routing import RouteSpec

__all__ = ["build_openapi", "render_docs_page"]

_PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable machine-readable error code"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "invalid_params": {"type": "array", "items": {"type": "object"}},
    },
}


def _response(description: Any, content_type: str) -> dict[str, Any]:
    if isinstance(description, dict):
        return description
    return {"description": str(description), "content": {content_type: {}}}


def build_openapi(specs: Iterable[RouteSpec], *, title: str, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for spec in specs:
        operation: dict[str, Any] = {
            "operationId": spec.operation_id,
            "summary": spec.summary,
            "tags": [spec.tag],
            "parameters": [p.to_openapi() for p in spec.params],
            "responses": {
                str(code): _response(desc, spec.content_type) for code, desc in sorted(spec.responses.items())
            },
        }
        if spec.description:
            operation["description"] = spec.description
        if spec.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": dict(spec.body)}},
            }
        operation["responses"].setdefault(
            "4XX",
            {"description": "Problem details (RFC 9457)", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
        )
        if spec.roles is not None:
            operation["security"] = [{"apiKey": []}]
            operation["x-roles"] = sorted(spec.roles)
            operation["responses"].setdefault("401", {"description": "Missing or invalid API key"})
            operation["responses"].setdefault("403", {"description": "The key's role or authority does not allow this"})
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "OùRA: journeys, tickets and statistics for a region's pooled public transport.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Problem": _PROBLEM},
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "oura_<id>_<secret>"}},
        },
    }


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
            parts.append("</div>")
    parts.append("</body></html>")
    return "".join(parts)
