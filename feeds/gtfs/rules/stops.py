"""Stop coordinates: in range, not (0, 0), and near the rest of the network.

"Near the network" is judged against the feed itself: distances from the median position of all
stops, with a threshold of max(100 km, 3 x the 95th percentile distance). A stop beyond it is
almost always a swapped latitude/longitude or a typo, but it could be a real long-distance
terminus, so it is a warning.
"""

from __future__ import annotations

import numpy as np

from feeds.gtfs.issues import Issue, IssueCode, Severity, issues_for_rows
from feeds.gtfs.reader import GtfsTables
from feeds.gtfs.rules._common import blank, to_numbers

EARTH_RADIUS_M = 6_371_000.0
MIN_FAR_THRESHOLD_M = 100_000.0


def haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: float, lon2: float) -> np.ndarray:
    lat1r, lat2r = np.radians(lat1), np.radians(lat2)
    dlat = lat2r - lat1r
    dlon = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(lat1r) * np.cos(lat2r) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def check_stop_locations(tables: GtfsTables) -> list[Issue]:
    stops = tables.find("stops")
    if stops is None or len(stops) == 0 or not {"stop_lat", "stop_lon"} <= set(stops.columns):
        return []
    issues: list[Issue] = []
    lat = to_numbers(stops["stop_lat"])
    lon = to_numbers(stops["stop_lon"])
    filled = ~blank(stops["stop_lat"]) | ~blank(stops["stop_lon"])
    out_of_range = filled & ~((np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    issues += issues_for_rows(
        stops, out_of_range, code=IssueCode.INVALID_COORDINATES, severity=Severity.FATAL, file="stops.txt",
        field="stop_lat", entity_column="stop_id",
        message=lambda _v, stop: f"stop {stop} has coordinates that are not a latitude in [-90, 90] and a "
        "longitude in [-180, 180]",
    )
    valid = filled & ~out_of_range
    zero = valid & (lat == 0) & (lon == 0)
    issues += issues_for_rows(
        stops, zero, code=IssueCode.ZERO_COORDINATES, severity=Severity.WARNING, file="stops.txt",
        field="stop_lat", entity_column="stop_id",
        message=lambda _v, stop: f"stop {stop} is at (0, 0), in the Gulf of Guinea: its position is missing",
    )
    placed = valid & ~zero
    if placed.sum() >= 3:
        centre_lat, centre_lon = float(np.median(lat[placed])), float(np.median(lon[placed]))
        distance = haversine_m(lat, lon, centre_lat, centre_lon)
        threshold = max(MIN_FAR_THRESHOLD_M, 3 * float(np.percentile(distance[placed], 95)))
        far = placed & (distance > threshold)
        issues += issues_for_rows(
            stops, far, code=IssueCode.STOP_FAR_FROM_NETWORK, severity=Severity.WARNING, file="stops.txt",
            field="stop_lat", entity_column="stop_id",
            message=lambda _v, stop: f"stop {stop} is more than {threshold / 1000:.0f} km from the rest of the network",
        )
    return issues
