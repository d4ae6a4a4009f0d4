"""HTTP routes of watched journeys: create a watch, follow its events (Server-Sent Events)."""

from __future__ import annotations

from oura.http import RouteTable

__all__ = ["routes"]

routes = RouteTable(tag="watches")
