"""Declaring HTTP routes: one place gives the path, the roles allowed and the OpenAPI text.

Each package keeps a `RouteTable` in its ``http.py`` and decorates its handlers::

    routes = RouteTable(tag="journeys")

    @routes.get(
        "/v1/journeys",
        summary="Plan door-to-door journeys",
        params=[query("from", required=True, description="stop id, station id or 'lat,lon'")],
        responses={200: reply("Itineraries", ITINERARIES), 503: "Timetable still loading"},
    )
    async def list_journeys(request: web.Request) -> web.Response: ...

``roles=None`` (the default) makes a route public. Any set of `Role` makes it require an API key
with one of those roles (401 without a valid key, 403 with another role); the handler then finds
the caller with `get_principal(request)`. `oura.app` mounts every table, and `oura.http.openapi`
builds the OpenAPI document from the same declarations, so the two cannot drift apart.

Every answer is documented with a JSON Schema: a 2xx with ``reply(description, schema)``; an
error status with its description alone, which documents it as ``application/problem+json`` with
the ``Problem`` schema. Shapes shared by several routes are the table's ``components``
(``RouteTable(tag, components={"Order": {...}})``), referred to with ``schema_ref("Order")``; each
package keeps them in its own ``schemas.py``, next to its routes. The foundation adds what every
route can answer (400, 408, 413, 414, 431, 500, 503; 401 and 403 on protected routes).

``requires="catalogue"`` (or ``"timetable"``, any readiness component) makes a route answer 503
``<component>_not_ready`` with Retry-After until that component is ready (`oura.http.health`):
a route that reads data published after start-up never answers from the empty placeholder (a 404
``unknown_product``, a validation stored as ``unknown_route``) in the first seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..auth import Principal, Role

__all__ = [
    "Param",
    "Reply",
    "RouteSpec",
    "RouteTable",
    "query",
    "path_param",
    "header",
    "reply",
    "schema_ref",
    "get_principal",
    "PRINCIPAL_KEY",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PRINCIPAL_KEY = web.RequestKey("oura.principal", Principal)


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # "query" | "path" | "header"
    schema: Mapping[str, Any]
    required: bool = False
    description: str = ""

    def to_openapi(self) -> dict[str, Any]:
        required = self.required or self.location == "path"
        schema = dict(self.schema)
        if required and schema.get("type") == "string":
            schema.setdefault("minLength", 1)  # an empty required value is a missing one (oura.http.params)
        parameter = {
            "name": self.name,
            "in": self.location,
            "required": required,
            "description": self.description,
            "schema": schema,
        }
        if self.location == "query" and not required:
            parameter["allowEmptyValue"] = True  # 'name=' reads as absent (oura.http.params)
        return parameter


def query(name: str, type: str = "string", *, required: bool = False, description: str = "", **schema: Any) -> Param:
    return Param(name, "query", {"type": type, **schema}, required, description)


def path_param(name: str, type: str = "string", *, description: str = "", **schema: Any) -> Param:
    return Param(name, "path", {"type": type, **schema}, True, description)


def header(name: str, type: str = "string", *, required: bool = False, description: str = "", **schema: Any) -> Param:
    return Param(name, "header", {"type": type, **schema}, required, description)


@dataclass(frozen=True)
class Reply:
    """One documented answer of a route: what it means and the JSON Schema of its body."""

    description: str
    schema: Mapping[str, Any] | None = None
    content_type: str | None = None  # default: the route's (2xx) or application/problem+json (errors)
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # name -> JSON Schema of its value


def reply(
    description: str,
    schema: Mapping[str, Any] | None = None,
    *,
    content_type: str | None = None,
    headers: Mapping[str, Mapping[str, Any]] | None = None,
) -> Reply:
    return Reply(description, schema, content_type, dict(headers or {}))


def schema_ref(name: str) -> dict[str, str]:
    """A reference to a shared schema (declared in some table's ``components``)."""
    return {"$ref": f"#/components/schemas/{name}"}


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    handler: Handler
    summary: str
    roles: frozenset[Role] | None = None
    params: tuple[Param, ...] = ()
    body: Mapping[str, Any] | None = None  # JSON schema of the request body
    body_required: bool = True  # False: the route also takes no body at all
    responses: Mapping[int, Any] = field(default_factory=dict)
    description: str = ""
    tag: str = "default"
    content_type: str = "application/json"
    components: Mapping[str, Any] = field(default_factory=dict, compare=False)  # the table's shared schemas
    requires: str | None = None  # a readiness component the route needs: 503 until it is ready

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    @property
    def public(self) -> bool:
        return self.roles is None


class RouteTable:
    """The routes of one package, with their documentation and access rules."""

    def __init__(self, tag: str, *, components: Mapping[str, Any] | None = None) -> None:
        self.tag = tag
        self.components: dict[str, Any] = dict(components or {})
        self._specs: list[RouteSpec] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        roles: Iterable[Role | str] | None = None,
        params: Iterable[Param] = (),
        body: Mapping[str, Any] | None = None,
        body_required: bool = True,
        responses: Mapping[int, Any] | None = None,
        description: str = "",
        content_type: str = "application/json",
        requires: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self._specs.append(
                RouteSpec(
                    method=method.upper(),
                    path=path,
                    handler=handler,
                    summary=summary,
                    roles=None if roles is None else frozenset(Role(r) for r in roles),
                    params=tuple(params),
                    body=body,
                    body_required=body_required,
                    responses=dict(responses or {200: "OK"}),
                    description=description or (handler.__doc__ or "").strip(),
                    tag=self.tag,
                    content_type=content_type,
                    components=self.components,
                    requires=requires,
                )
            )
            return handler

        return decorate

    def get(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kwargs)

    def __iter__(self) -> Iterator[RouteSpec]:
        return iter(self._specs)


def get_principal(request: web.Request) -> Principal:
    """The authenticated caller of a protected route."""
    principal = request.get(PRINCIPAL_KEY)
    if principal is None:
        raise RuntimeError("get_principal() called on a public route")
    return principal
