"""HTTP and WebSocket routes of the remote load protocol (Keyple Distributed JSON API, server side)."""

from __future__ import annotations

from oura.http import RouteTable

__all__ = ["routes"]

routes = RouteTable(tag="nfc")
