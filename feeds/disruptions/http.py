"""HTTP routes of operator disruptions and the region's GTFS-realtime export."""

from __future__ import annotations

from oura.http import RouteTable

__all__ = ["routes"]

routes = RouteTable(tag="disruptions")
