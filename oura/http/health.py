"""Readiness: components report whether they can serve (database, timetable, catalogue...).

A component is *expected* (``expect``) when the app knows it will be published after start-up,
and *set* ready when it is. `/readyz` answers 200 only when every one is ready. Routes that need a
component declare it (``requires="catalogue"`` on the route, see `oura.http.routing`) and are
mounted behind `require_ready`: until the component is ready they answer 503
``<component>_not_ready`` with Retry-After, which a client retries, instead of a permanent answer
computed from the empty placeholder (a sale refused as ``unknown_product``, a validation recorded
as ``unknown_route`` and replayed forever). A component nobody expects (no feed registry: there is
nothing to wait for) counts as ready.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from ..errors import ComponentNotReady

__all__ = ["Readiness", "require_ready"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Readiness:
    """Component name -> (ready, detail). `/readyz` answers 200 only when every one is ready."""

    components: dict[str, tuple[bool, str]] = field(default_factory=dict)

    def expect(self, name: str, detail: str = "starting") -> None:
        self.components.setdefault(name, (False, detail))

    def set(self, name: str, ready: bool, detail: str = "") -> None:
        self.components[name] = (ready, detail)

    def is_ready(self, name: str) -> bool:
        """Whether ``name`` can serve: set ready, or never expected."""
        return self.components.get(name, (True, ""))[0]

    @property
    def ready(self) -> bool:
        return all(ok for ok, _ in self.components.values())


def require_ready(handler: Handler, component: str, readiness_of: Callable[[web.Request], Readiness]) -> Handler:
    """``handler``, answering 503 ``<component>_not_ready`` (Retry-After) while ``component`` is not ready."""

    async def gated(request: web.Request) -> web.StreamResponse:
        readiness = readiness_of(request)
        if not readiness.is_ready(component):
            _, detail = readiness.components[component]
            raise ComponentNotReady(component, f"the {component} is still loading ({detail}); retry in a moment")
        return await handler(request)

    gated.__name__ = handler.__name__
    gated.__doc__ = handler.__doc__
    return gated
