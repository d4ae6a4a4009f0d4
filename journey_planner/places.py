"""Turn what a traveller typed (a stop id, a station id, ``lat,lon``) into a core `Place`.

Coordinates get walking access to every stop within a radius (nearest first, at most
``max_stops``), found with a latitude-sorted index so a lookup reads only a thin band of stops.
`resolve_access` (the journeys use case) grows that radius, 400 m, 800 m, 1.6 km ..., up to the
`WalkingRules` maximum, and walks the straight line times a detour factor; beyond the maximum it
raises `NoStopWithinReach` with the nearest stop. Name search lives in `stop_search`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .compile import Network
from .core import Place
from .errors import EmptyStation, InvalidCoordinate, NoStopNearby, NoStopWithinReach, PlaceError

__all__ = [
    "PlaceError",
    "StopSpatialIndex",
    "WalkingRules",
    "resolve_place",
    "resolve_access",
    "place_point",
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
        dist = distances_m(self.lat[cand], self.lon[cand], lat, lon)
        keep = dist <= radius_m
        cand, dist = cand[keep], dist[keep]
        order = np.argsort(dist, kind="stable")[:max_stops]
        return cand[order], dist[order]

    def nearest(self, lat: float, lon: float) -> tuple[int, float] | None:
        """(StopIdx, distance_m) of the nearest served stop anywhere (a full scan: for error answers)."""
        if self.order.size == 0:
            return None
        dist = distances_m(self.lat[self.order], self.lon[self.order], lat, lon)
        i = int(np.argmin(dist))
        return int(self.order[i]), float(dist[i])


@dataclass(frozen=True)
class WalkingRules:
    """How walks to, from and between places are measured until street routing exists.

    Walking distance is the great-circle distance times ``detour_factor`` (streets are not
    straight: 1.3 is the usual urban ratio), walked at ``speed_mps``. Access and egress stops are
    searched in growing radii (``first_radius_m``, doubled each step, capped at
    ``max_access_radius_m``, straight-line) until ``min_access_stops`` are found.
    """

    max_access_radius_m: float = 2000.0
    detour_factor: float = 1.3
    speed_mps: float = 1.2
    first_radius_m: float = 400.0
    min_access_stops: int = 10  # about 5 stop places (both directions): a dense centre stops at 400 m
    max_access_stops: int = 30
    max_walk_only_m: float = 2000.0  # walking distance of the longest walk-only journey proposed
    walk_only_margin_s: int = 300  # a walk-only journey may arrive this much after the best transit one

    METHOD = "crow_fly_detour"

    @staticmethod
    def of_settings(planner: object | None) -> WalkingRules:
        """The rules of the [planner] settings (`oura.config`), the defaults without any."""
        if planner is None:
            return WalkingRules()
        return WalkingRules(max_access_radius_m=planner.max_access_radius_m, detour_factor=planner.walk_detour_factor,
                            speed_mps=planner.walk_speed_mps, max_walk_only_m=planner.max_walk_only_m,
                            walk_only_margin_s=planner.walk_only_margin_s)

    def walk_m(self, straight_m: np.ndarray | float) -> np.ndarray | float:
        return straight_m * self.detour_factor

    def walk_s(self, straight_m: np.ndarray) -> np.ndarray:
        return np.ceil(self.walk_m(np.asarray(straight_m, dtype=np.float64)) / self.speed_mps).astype(np.int32)

    def radii(self) -> list[float]:
        """400, 800, 1600, ..., the maximum (the last one always is the maximum)."""
        out: list[float] = []
        r = min(self.first_radius_m, self.max_access_radius_m)
        while r < self.max_access_radius_m:
            out.append(r)
            r *= 2
        return [*out, self.max_access_radius_m]

    def as_json(self) -> dict:
        return {"method": self.METHOD, "detour_factor": self.detour_factor, "speed_mps": self.speed_mps,
                "max_access_radius_m": self.max_access_radius_m, "max_walk_only_m": self.max_walk_only_m}


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


def resolve_access(
    network: Network, lat: float, lon: float, rules: WalkingRules, spatial: StopSpatialIndex,
    name: str = "place",
) -> Place:
    """The stops around a coordinate in growing radii, with walking times by ``rules``.

    Stops at the first radius holding ``min_access_stops`` stops (or at the maximum with at
    least one); raises `NoStopWithinReach`, naming the nearest stop, when none is within the maximum.
    """
    stops, dist = np.zeros(0, dtype=np.int32), np.zeros(0)
    for radius in rules.radii():
        stops, dist = spatial.list_within(lat, lon, radius, rules.max_access_stops)
        if stops.size >= rules.min_access_stops:
            break
    if stops.size == 0:
        nearest = spatial.nearest(lat, lon)
        raise NoStopWithinReach(name, rules.max_access_radius_m, None if nearest is None else (
            str(network.stop_ids[nearest[0]]), str(network.stop_names[nearest[0]]),
            float(spatial.lat[nearest[0]]), float(spatial.lon[nearest[0]]), nearest[1]))
    return Place(stops.astype(np.int32), rules.walk_s(dist), np.asarray(rules.walk_m(dist), dtype=np.float64))


def place_point(network: Network, place: Place, text: str) -> tuple[float, float] | None:
    """Where a place is: the coordinate typed, a station's own position, else the mean of its stops."""
    coordinate = parse_coordinate(text)
    if coordinate is not None:
        return coordinate
    tt = network.timetable
    s = network.find_stop(text.strip())
    if s is not None and np.isfinite(tt.stop_lat[s]) and np.isfinite(tt.stop_lon[s]):
        return float(tt.stop_lat[s]), float(tt.stop_lon[s])
    lat, lon = tt.stop_lat[place.stops], tt.stop_lon[place.stops]
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not ok.any():
        return None
    return float(lat[ok].mean()), float(lon[ok].mean())


def distances_m(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Great-circle distances (m) from (lat0, lon0) to each point."""
    p1, p2 = np.radians(lat0), np.radians(lat)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon - lon0) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
