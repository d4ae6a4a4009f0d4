"""Referential integrity: every id a file points to must exist in the file it names.

A dangling reference in the timetable core (stop_times -> trips/stops, trips -> routes/services,
frequencies -> trips) would make the planner drop or misplace trips, so it is fatal. Dangling
references in descriptive or auxiliary files (shapes, transfers, pathways, Fares v1) are warnings:
the planner ignores the row and everything else stays correct. Fares v2 references are checked in
`fares.py`.
"""

from __future__ import annotations

import numpy as np

from feeds.gtfs.issues import Issue, IssueCode, Severity, issues_for_rows
from feeds.gtfs.reader import GtfsTables
from feeds.gtfs.rules._common import file_name, known_values, not_in

# (child file, child column, ((parent file, parent column), ...), severity)
REFERENCES: tuple[tuple[str, str, tuple[tuple[str, str], ...], Severity], ...] = (
    ("stop_times", "trip_id", (("trips", "trip_id"),), Severity.FATAL),
    ("stop_times", "stop_id", (("stops", "stop_id"),), Severity.FATAL),
    ("trips", "route_id", (("routes", "route_id"),), Severity.FATAL),
    ("trips", "service_id", (("calendar", "service_id"), ("calendar_dates", "service_id")), Severity.FATAL),
    ("frequencies", "trip_id", (("trips", "trip_id"),), Severity.FATAL),
    ("routes", "agency_id", (("agency", "agency_id"),), Severity.FATAL),
    ("trips", "shape_id", (("shapes", "shape_id"),), Severity.WARNING),
    ("stops", "parent_station", (("stops", "stop_id"),), Severity.WARNING),
    ("stops", "level_id", (("levels", "level_id"),), Severity.WARNING),
    ("transfers", "from_stop_id", (("stops", "stop_id"),), Severity.WARNING),
    ("transfers", "to_stop_id", (("stops", "stop_id"),), Severity.WARNING),
    ("transfers", "from_route_id", (("routes", "route_id"),), Severity.WARNING),
    ("transfers", "to_route_id", (("routes", "route_id"),), Severity.WARNING),
    ("transfers", "from_trip_id", (("trips", "trip_id"),), Severity.WARNING),
    ("transfers", "to_trip_id", (("trips", "trip_id"),), Severity.WARNING),
    ("pathways", "from_stop_id", (("stops", "stop_id"),), Severity.WARNING),
    ("pathways", "to_stop_id", (("stops", "stop_id"),), Severity.WARNING),
    ("fare_rules", "fare_id", (("fare_attributes", "fare_id"),), Severity.WARNING),
    ("fare_rules", "route_id", (("routes", "route_id"),), Severity.WARNING),
)


def check_references(tables: GtfsTables) -> list[Issue]:
    issues: list[Issue] = []
    for child, column, parents, severity in REFERENCES:
        issues += check_reference(tables, child, column, parents, severity)
    issues += _trips_without_stop_times(tables)
    return issues


def check_reference(
    tables: GtfsTables,
    child: str,
    column: str,
    parents: tuple[tuple[str, str], ...],
    severity: Severity,
) -> list[Issue]:
    """Issues for the non-empty ``child.column`` values found in none of ``parents``."""
    series = tables.column(child, column)
    if series is None or len(series) == 0:
        return []
    known = known_values(tables, parents)
    missing = not_in(series, known)
    if not missing.any():
        return []
    target = " or ".join(file_name(parent) for parent, _ in parents)
    return issues_for_rows(
        tables.get(child), missing, code=IssueCode.UNKNOWN_REFERENCE, severity=severity,
        file=file_name(child), field=column, entity_column=None,
        message=lambda value, _e: f"{file_name(child)} refers to {column} {value!r}, which {target} does not define",
    )


def _trips_without_stop_times(tables: GtfsTables) -> list[Issue]:
    trips, stop_times = tables.find("trips"), tables.find("stop_times")
    if trips is None or stop_times is None or "trip_id" not in trips.columns or "trip_id" not in stop_times.columns:
        return []
    unused = ~trips["trip_id"].isin(stop_times["trip_id"].unique()).to_numpy()
    return issues_for_rows(
        trips, np.asarray(unused), code=IssueCode.TRIP_WITHOUT_STOP_TIMES, severity=Severity.WARNING,
        file="trips.txt", field="trip_id", entity_column="trip_id",
        message=lambda value, _e: f"trip {value} has no stop_times and will never run",
    )
