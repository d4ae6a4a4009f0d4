"""route_type: the basic GTFS types plus the extended (Hierarchical Vehicle Type) ones.

French feeds use extended types (712 school bus, 109 suburban railway, 1000 water). A value that
is not an integer is fatal (the planner cannot pick a mode); an integer outside both lists is a
warning and is treated as "other" downstream.
"""

from __future__ import annotations

import numpy as np

from feeds.gtfs.issues import Issue, IssueCode, Severity, issues_for_rows
from feeds.gtfs.reader import GtfsTables
from feeds.gtfs.rules._common import blank, to_numbers

BASIC_ROUTE_TYPES = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 11, 12})
EXTENDED_ROUTE_TYPES = frozenset(
    [*range(100, 118), *range(200, 210), *range(400, 406), *range(700, 718), 800, *range(900, 907), 1000, 1100,
     1200, *range(1300, 1308), 1400, *range(1500, 1508), *range(1700, 1703)]
)


def check_route_types(tables: GtfsTables) -> list[Issue]:
    routes = tables.find("routes")
    if routes is None or "route_type" not in routes.columns or len(routes) == 0:
        return []
    number = to_numbers(routes["route_type"])
    integer = np.isfinite(number) & (np.mod(np.nan_to_num(number), 1) == 0)
    invalid = integer == False  # noqa: E712 - numpy array comparison
    invalid &= ~blank(routes["route_type"])
    known = np.isin(np.where(integer, number, -1).astype(np.int64), list(BASIC_ROUTE_TYPES | EXTENDED_ROUTE_TYPES))
    issues = issues_for_rows(
        routes, invalid, code=IssueCode.INVALID_ROUTE_TYPE, severity=Severity.FATAL, file="routes.txt",
        field="route_type", entity_column="route_id",
        message=lambda value, route: f"route {route} has route_type {value!r}, which is not an integer",
    )
    issues += issues_for_rows(
        routes, integer & ~known, code=IssueCode.UNKNOWN_ROUTE_TYPE, severity=Severity.WARNING, file="routes.txt",
        field="route_type", entity_column="route_id",
        message=lambda value, route: f"route {route} has route_type {value}, neither a basic nor an extended GTFS "
        "type; it is treated as 'other'",
    )
    return issues
