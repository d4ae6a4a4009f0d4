"""HTTP routes for devices: registration by an admin, offline sales upload, deny-list acks, heartbeats."""

from __future__ import annotations

from oura.http import RouteTable

__all__ = ["routes"]

routes = RouteTable(tag="devices")
