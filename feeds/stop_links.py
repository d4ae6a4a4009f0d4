"""Links between stops that are the same place or a short walk apart, across feeds.

`find_stop_links` is the spatial primitive under both the planner's walking transfers and the
interchange hubs built on top of it: it must link stops of *different* feeds (a rail platform and
an urban bus stop 50 m away) as readily as two platforms of one station. It is pure (numpy only)
and uses a uniform grid as spatial index, so the work grows with the number of nearby pairs, not
with the square of the number of stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["StopLinks", "find_stop_links", "EARTH_RADIUS_M"]

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class StopLinks:
    """Directed links between stops, by index into the input arrays (both directions present).

    from_idx, to_idx: int32 [L] -> stop index; distance_m: float64 [L] great-circle distance;
    duration_s: int32 [L] walking time at the requested speed, rounded up.
    Links are sorted by (from_idx, distance_m).
    """

    from_idx: np.ndarray
    to_idx: np.ndarray
    distance_m: np.ndarray
    duration_s: np.ndarray

    def __len__(self) -> int:
        return int(self.from_idx.size)


def _haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def find_stop_links(
    stop_ids: Sequence[str] | np.ndarray,
    lats: Sequence[float] | np.ndarray,
    lons: Sequence[float] | np.ndarray,
    *,
    max_distance_m: float = 400.0,
    walk_speed_mps: float = 1.2,
    parent_station: Sequence[str] | np.ndarray | None = None,
) -> StopLinks:
    """Every ordered pair of distinct stops within ``max_distance_m`` of each other.

    ``parent_station`` (same length, "" for none) additionally links stops that share a parent
    station whatever their distance: a station's platforms are one place for a traveller even
    when the feed puts them far apart. Stops with non-finite coordinates are never linked by
    distance. Ids are used only to size the problem and validate lengths; results are indices.
    """
    lat = np.asarray(lats, dtype=np.float64)
    lon = np.asarray(lons, dtype=np.float64)
    n = len(stop_ids)
    if lat.shape != (n,) or lon.shape != (n,):
        raise ValueError("stop_ids, lats and lons must have the same length")
    if walk_speed_mps <= 0:
        raise ValueError("walk_speed_mps must be positive")
    pairs_from: list[np.ndarray] = []
    pairs_to: list[np.ndarray] = []

    valid = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90))
    if valid.size > 1 and max_distance_m > 0:
        # Grid of square cells of side max_distance_m (in local metres): a pair within range is
        # always in the same or an adjacent cell.
        y = np.radians(lat[valid]) * EARTH_RADIUS_M
        # cos(lat) shrinks eastward distances; using the smallest cos of the set keeps cells
        # at least max_distance_m wide everywhere.
        cos_min = max(float(np.cos(np.radians(np.max(np.abs(lat[valid]))))), 1e-6)
        x = np.radians(lon[valid]) * EARTH_RADIUS_M * cos_min
        cx = np.floor(x / max_distance_m).astype(np.int64)
        cy = np.floor(y / max_distance_m).astype(np.int64)
        cx -= cx.min() - 1
        cy -= cy.min() - 1
        width = int(cy.max()) + 3
        key = cx * width + cy
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        cell_keys, cell_start, cell_count = np.unique(sorted_key, return_index=True, return_counts=True)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                target = key + dx * width + dy
                pos = np.searchsorted(cell_keys, target)
                pos_clipped = np.minimum(pos, cell_keys.size - 1)
                hit = cell_keys[pos_clipped] == target
                src_local = np.flatnonzero(hit)
                if src_local.size == 0:
                    continue
                counts = cell_count[pos_clipped[src_local]]
                starts = cell_start[pos_clipped[src_local]]
                src = np.repeat(src_local, counts)
                # offsets 0..count-1 within each cell, without a Python loop
                run_starts = np.repeat(np.cumsum(counts) - counts, counts)
                within = np.arange(src.size) - run_starts
                dst = order[np.repeat(starts, counts) + within]
                keep = src != dst
                pairs_from.append(valid[src[keep]])
                pairs_to.append(valid[dst[keep]])

    if parent_station is not None:
        parents = np.asarray(parent_station, dtype=object)
        if parents.shape != (n,):
            raise ValueError("parent_station must have the same length as stop_ids")
        has_parent = np.flatnonzero(parents != "")
        if has_parent.size:
            groups: dict[str, list[int]] = {}
            for i in has_parent.tolist():
                groups.setdefault(parents[i], []).append(i)
            for members in groups.values():
                if len(members) < 2:
                    continue
                m = np.asarray(members, dtype=np.int64)
                a = np.repeat(m, m.size)
                b = np.tile(m, m.size)
                keep = a != b
                pairs_from.append(a[keep])
                pairs_to.append(b[keep])

    if not pairs_from:
        empty_i = np.zeros(0, dtype=np.int32)
        return StopLinks(empty_i, empty_i.copy(), np.zeros(0), empty_i.copy())
    a = np.concatenate(pairs_from)
    b = np.concatenate(pairs_to)
    # de-duplicate (a pair can come both from the grid and from a shared parent)
    code = np.unique(a.astype(np.int64) * n + b)
    a, b = code // n, code % n
    dist = _haversine_m(lat[a], lon[a], lat[b], lon[b])
    dist = np.where(np.isfinite(dist), dist, 0.0)
    same_parent = np.zeros(a.size, dtype=bool)
    if parent_station is not None:
        parents = np.asarray(parent_station, dtype=object)
        same_parent = (parents[a] == parents[b]) & (parents[a] != "")
    keep = (dist <= max_distance_m) | same_parent
    a, b, dist = a[keep], b[keep], dist[keep]
    order = np.lexsort((dist, a))
    a, b, dist = a[order], b[order], dist[order]
    duration = np.ceil(dist / walk_speed_mps).astype(np.int32)
    return StopLinks(a.astype(np.int32), b.astype(np.int32), dist, duration)
