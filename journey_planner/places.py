"""Turn what a traveller typed (a stop id, a station id, ``lat,lon``) into a core `Place`.

Coordinates get walking access to every stop within a radius (nearest first, at most
``max_stops``), found with a latitude-sorted index so a lookup reads only a thin band of stops.
Name search lives in `stop_search`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .compile import Network
from .core import Place
from .errors import EmptyStation, InvalidCoordinate, NoStopNearby, PlaceError

__all__ = [
    "PlaceError",
    "StopSpatialIndex",
    "resolve_place",
    "parse_coordinate",
    "distances_m",
]

EARTH_RADIUS_M = 6_371_008.8


def parse_coordinate(text: str) -> tuple[float, float] | None:
    """``"45.76,4.86"`` -> (lat, lon); None when the text is not a coordinate pair."""
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*", text)
    if not m:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidCoordinate(f"{text}: latitude/longitude out of range")
    return lat, lon


@dataclass(frozen=True, eq=False)
class StopSpatialIndex:
    """Boarding stops sorted by latitude: a radius query scans one latitude band."""

    order: np.ndarray  # sorted position -> StopIdx
    lat_sorted: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    @staticmethod
    def of(network: Network) -> StopSpatialIndex:
        tt = network.timetable
        served = np.zeros(tt.stop_count, dtype=bool)
        served[tt.pattern_stops] = True
        ok = np.flatnonzero(served & np.isfinite(tt.stop_lat) & np.isfinite(tt.stop_lon))
        order = ok[np.argsort(tt.stop_lat[ok], kind="stable")]
        return StopSpatialIndex(order.astype(np.int32), tt.stop_lat[order], tt.stop_lat, tt.stop_lon)

    def list_within(self, lat: float, lon: float, radius_m: float, max_stops: int) -> tuple[np.ndarray, np.ndarray]:
        """(StopIdx, distance_m) of stops within the radius, nearest first."""
        dlat = np.degrees(radius_m / EARTH_RADIUS_M)
        lo = np.searchsorted(self.lat_sorted, lat - dlat, "left")
        hi = np.searchsorted(self.lat_sorted, lat + dlat, "right")
        cand = self.order[lo:hi]
        if cand.size == 0:
            return cand, np.zeros(0)
        p1, p2 = np.radians(lat), np.radians(self.lat[cand])
        a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(self.lon[cand] - lon) / 2) ** 2
        dist = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
        keep = dist <= radius_m
        cand, dist = cand[keep], dist[keep]
        order = np.argsort(dist, kind="stable")[:max_stops]
        return cand[order], dist[order]


def resolve_place(
    network: Network,
    text: str,
    *,
    spatial: StopSpatialIndex | None = None,
    radius_m: float = 800.0,
    max_stops: int = 30,
    walk_speed_mps: float = 1.2,
) -> Place:
    """A stop id, a station id (all its platforms) or ``lat,lon`` (stops within ``radius_m``)."""
    coordinate = parse_coordinate(text)
    if coordinate is not None:
        index = spatial or StopSpatialIndex.of(network)
        stops, dist = index.list_within(coordinate[0], coordinate[1], radius_m, max_stops)
        if stops.size == 0:
            raise NoStopNearby(f"no stop within {radius_m:.0f} m of {text}")
        walk = np.ceil(dist / walk_speed_mps).astype(np.int32)
        return Place(stops.astype(np.int32), walk, dist.astype(np.float64))
    s = network.find_stop(text.strip())
    if s is None:
        raise PlaceError(f"unknown stop or station: {text}")
    stops = network.list_station_stops(s)
    if stops.size == 0:
        raise EmptyStation(f"station {text} has no platforms")
    return Place.of_stops(stops)


def distances_m(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Great-circle distances (m) from (lat0, lon0) to each point."""
    p1, p2 = np.radians(lat0), np.radians(lat)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon - lon0) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
