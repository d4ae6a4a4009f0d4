"""Small planar geometry for generating lines: a local km frame, wiggly paths, stop placement.

Pure numpy. Positions are generated in a local equirectangular frame (km east, km north of an
origin), which is accurate to well under 1 % across one town or département; distances written
to feeds are recomputed from the final WGS84 coordinates with the haversine formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Frame", "wiggle_path", "place_stops_on_path", "haversine_km", "cumulative_km"]

_KM_PER_DEG_LAT = 110.574
_EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Frame:
    """Local tangent frame centred on (lat0, lon0): degrees <-> km east/north."""

    lat0: float
    lon0: float

    @property
    def km_per_deg_lon(self) -> float:
        return 111.320 * math.cos(math.radians(self.lat0))

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        return ((lon - self.lon0) * self.km_per_deg_lon, (lat - self.lat0) * _KM_PER_DEG_LAT)

    def to_latlon(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        return self.lat0 + xy[:, 1] / _KM_PER_DEG_LAT, self.lon0 + xy[:, 0] / self.km_per_deg_lon


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance, element-wise, in km."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def cumulative_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Distance travelled along a polyline at each of its vertices (first is 0)."""
    if len(lat) < 2:
        return np.zeros(len(lat))
    steps = haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])
    return np.concatenate(([0.0], np.cumsum(steps)))


def wiggle_path(
    anchors: np.ndarray, *, step_km: float, amplitude_km: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A street-like polyline through ``anchors`` (k x 2, km) and the vertex index of each anchor.

    Between two anchors the path gets a vertex every ``step_km`` pushed sideways by up to
    ``amplitude_km``, tapered to zero at the anchors so the path really passes through them.
    """
    anchors = np.asarray(anchors, dtype=np.float64)
    vertices = [anchors[0]]
    anchor_idx = [0]
    for a, b in zip(anchors[:-1], anchors[1:]):
        delta = b - a
        length = float(np.hypot(*delta))
        count = max(1, int(length / step_km))
        if length > 0 and count > 1:
            normal = np.array([-delta[1], delta[0]]) / length
            t = np.arange(1, count) / count
            taper = np.sin(np.pi * t)
            side = rng.uniform(-amplitude_km, amplitude_km, size=count - 1) * taper
            inner = a + np.outer(t, delta) + np.outer(side, normal)
            vertices.extend(inner)
        vertices.append(b)
        anchor_idx.append(len(vertices) - 1)
    return np.asarray(vertices), np.asarray(anchor_idx)


def place_stops_on_path(
    vertices: np.ndarray,
    anchor_idx: np.ndarray,
    *,
    spacing_km: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stops along the path: every anchor plus evenly spread, jittered stops in between.

    Returns (xy of stops, index in the stop list of each anchor, merged shape vertices, planar
    distance along the path of each stop, of each shape vertex). The shape vertices contain every
    stop position in path order, so a stop lies exactly on its shape.
    """
    seg = np.hypot(*np.diff(vertices, axis=0).T)
    s = np.concatenate(([0.0], np.cumsum(seg)))
    stop_s: list[float] = []
    anchor_stop: list[int] = []
    for i in range(len(anchor_idx) - 1):
        s0, s1 = s[anchor_idx[i]], s[anchor_idx[i + 1]]
        anchor_stop.append(len(stop_s))
        stop_s.append(s0)
        between = max(0, int(round((s1 - s0) / spacing_km)) - 1)
        if between:
            k = np.arange(1, between + 1) + rng.uniform(-0.3, 0.3, size=between)
            stop_s.extend((s0 + (s1 - s0) * k / (between + 1)).tolist())
    anchor_stop.append(len(stop_s))
    stop_s.append(s[anchor_idx[-1]])
    stop_s_arr = np.asarray(stop_s)
    stop_xy = np.column_stack([np.interp(stop_s_arr, s, vertices[:, 0]), np.interp(stop_s_arr, s, vertices[:, 1])])
    merged_s = np.concatenate([s, stop_s_arr])
    merged_xy = np.concatenate([vertices, stop_xy])
    order = np.argsort(merged_s, kind="stable")
    merged_s, merged_xy = merged_s[order], merged_xy[order]
    keep = np.concatenate(([True], np.diff(merged_s) > 1e-6))
    return stop_xy, np.asarray(anchor_stop), merged_xy[keep], stop_s_arr, merged_s[keep]
