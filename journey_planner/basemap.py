"""An offline basemap drawn from the timetable itself (``GET /v1/basemap``), pure.

No tile server is needed to show an itinerary on a map: the region's own data gives the layers a
traveller orients by, as one GeoJSON FeatureCollection (each feature's ``layer`` property says
which):

- ``outline``: the convex hull of every stop, the area the networks serve;
- ``rail``: the railway lines (route types 2 and 100-117), one line per distinct stop sequence;
- ``line``: the busiest other lines (most trips per pattern), in their GTFS colours;
- ``town``: the stations (or stops without a station) served by the most patterns, with a
  ``rank`` (1 = busiest) so a map can label the biggest first.

Shapes are used where the feed has them (the trip's shape), else the stop sequence; every line is
simplified (Douglas-Peucker, ``tolerance_deg``) and coordinates rounded to ``digits`` decimals, so
the whole map stays small enough for a page's first load (see bench in docs/benchmarks.md).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from .compile import Network

__all__ = ["BasemapLimits", "build_basemap"]

RAIL_TYPES = frozenset({2, *range(100, 118)})


@dataclass(frozen=True, slots=True)
class BasemapLimits:
    lines: int = 120  # non-rail lines kept (the busiest patterns)
    towns: int = 250
    tolerance_deg: float = 0.0015  # ~150 m: what a regional map shows
    digits: int = 4  # ~10 m


def _hull(points: np.ndarray) -> list[tuple[float, float]]:
    """Andrew's monotone chain over (lon, lat) points: the hull, closed, counter-clockwise."""
    unique = sorted({(float(x), float(y)) for x, y in points})
    if len(unique) < 3:
        return unique + unique[:1]

    def half(sequence: list[tuple[float, float]]) -> list[tuple[float, float]]:
        chain: list[tuple[float, float]] = []
        for p in sequence:
            while len(chain) >= 2 and _cross(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(unique), half(unique[::-1])
    ring = lower[:-1] + upper[:-1]
    return ring + ring[:1]


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _simplify(line: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker on an (n, 2) array, iterative (long shapes do not recurse deeply)."""
    n = len(line)
    if n <= 2:
        return line
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        a, b = line[first], line[last]
        segment = b - a
        inner = line[first + 1:last] - a
        length = float(np.hypot(*segment))
        if length == 0.0:
            distances = np.hypot(inner[:, 0], inner[:, 1])
        else:
            distances = np.abs(segment[0] * inner[:, 1] - segment[1] * inner[:, 0]) / length
        worst = int(np.argmax(distances))
        if distances[worst] > tolerance:
            middle = first + 1 + worst
            keep[middle] = True
            stack += [(first, middle), (middle, last)]
    return line[keep]


def _coordinates(line: np.ndarray, limits: BasemapLimits) -> list[list[float]]:
    simplified = np.round(_simplify(line, limits.tolerance_deg), limits.digits)
    out: list[list[float]] = []
    for lon, lat in simplified.tolist():
        if not out or out[-1] != [lon, lat]:
            out.append([lon, lat])
    return out


class _Patterns:
    """Per pattern: its route, its trips, its stops and the geometry of one of its trips."""

    def __init__(self, network: Network) -> None:
        tt = network.timetable
        self.network = network
        self.route = tt.pattern_route
        self.trips = np.bincount(tt.trip_pattern, minlength=tt.pattern_count)
        self.first_trip = np.full(tt.pattern_count, -1, dtype=np.int64)
        order = np.arange(tt.trip_pattern.size)[::-1]  # the last write wins: the first trip of each pattern
        self.first_trip[tt.trip_pattern[order]] = order

    def stops(self, pattern: int) -> np.ndarray:
        tt = self.network.timetable
        return tt.pattern_stops[tt.pattern_stop_offsets[pattern]:tt.pattern_stop_offsets[pattern + 1]]

    def line(self, pattern: int) -> np.ndarray:
        network, tt = self.network, self.network.timetable
        trip = int(self.first_trip[pattern])
        shape = network.find_shape(str(network.trip_shape_ids[trip])) if trip >= 0 else None
        if shape is not None and shape[0].size >= 2:
            lat, lon = shape
            return np.column_stack([lon, lat])
        stops = self.stops(pattern)
        return np.column_stack([tt.stop_lon[stops], tt.stop_lat[stops]])


def _feature(layer: str, geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"layer": layer, **properties}}


def _hex(colour: str) -> str | None:
    return f"#{colour}" if len(colour) == 6 else None


def build_basemap(network: Network, limits: BasemapLimits = BasemapLimits()) -> dict[str, Any]:
    """The network's basemap as a GeoJSON FeatureCollection (see the module's doc)."""
    tt = network.timetable
    features: list[dict[str, Any]] = []
    if tt.stop_count:
        ring = _hull(np.column_stack([tt.stop_lon, tt.stop_lat]).round(limits.digits))
        features.append(_feature("outline", {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}))
    patterns = _Patterns(network)
    rail_seen: set[bytes] = set()
    others: list[tuple[int, int]] = []
    for pattern in range(tt.pattern_count):
        route = int(patterns.route[pattern])
        if int(network.route_types[route]) in RAIL_TYPES:
            stops = patterns.stops(pattern)
            key = np.sort(stops).tobytes()  # both directions of a line are one line
            if key in rail_seen:
                continue
            rail_seen.add(key)
            features.append(_feature("rail", {"type": "LineString",
                                              "coordinates": _coordinates(patterns.line(pattern), limits)},
                                     route=str(network.route_short_names[route] or network.route_long_names[route]),
                                     color=_hex(str(network.route_colors[route]))))
        else:
            others.append((-int(patterns.trips[pattern]), pattern))
    kept_routes: set[int] = set()
    for _minus_trips, pattern in sorted(others):
        route = int(patterns.route[pattern])
        if route in kept_routes:
            continue  # one pattern per line (its busiest)
        kept_routes.add(route)
        features.append(_feature("line", {"type": "LineString",
                                          "coordinates": _coordinates(patterns.line(pattern), limits)},
                                 route=str(network.route_short_names[route] or network.route_long_names[route]),
                                 color=_hex(str(network.route_colors[route]))))
        if len(kept_routes) >= limits.lines:
            break
    features += _towns(network, patterns, limits)
    return {"type": "FeatureCollection", "features": features}


def _towns(network: Network, patterns: _Patterns, limits: BasemapLimits) -> list[dict[str, Any]]:
    tt = network.timetable
    served: Counter[int] = Counter()
    for pattern in range(tt.pattern_count):
        for stop in set(patterns.stops(pattern).tolist()):
            parent = int(tt.stop_parent[stop])
            served[parent if parent >= 0 else stop] += 1
    towns = []
    names: set[str] = set()
    for stop, _count in served.most_common():
        name = str(network.stop_names[stop])
        if name in names:
            continue  # two stops of one name (both sides of a road) are one place on a regional map
        names.add(name)
        towns.append(_feature("town", {"type": "Point", "coordinates": [round(float(tt.stop_lon[stop]), limits.digits),
                                                                         round(float(tt.stop_lat[stop]), limits.digits)]},
                              name=name, rank=len(towns) + 1))
        if len(towns) >= limits.towns:
            break
    return towns
