"""HTTP routes of the statistics: GET /v1/statistics/... for authorities (their own networks)
and admins (the region).

(to be written: see the issue 14 brief "reports")
"""

from __future__ import annotations

from oura.http import RouteTable

__all__ = ["routes"]

routes = RouteTable(tag="statistics")
