"""HTTP routes of itineraries: re-evaluate a planned itinerary by its id."""

from __future__ import annotations

from oura.http import RouteTable

__all__ = ["routes"]

routes = RouteTable(tag="journeys")
