"""Links between stops that are the same place or a short walk apart, across feeds.

`find_stop_links` is the spatial primitive under both the planner's walking transfers and the
interchange hubs built on top of it: it must link stops of *different* feeds (a rail platform and
an urban bus stop 50 m away) as readily as two platforms of one station. It is pure (numpy only)
and uses a uniform grid as spatial index, so the work grows with the number of nearby pairs, not
with the square of the number of stops; the grid is walked in blocks of sources so memory stays
bounded by one block plus the pairs kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["StopLinks", "find_stop_links", "EARTH_RADIUS_M"]

EARTH_RADIUS_M = 6_371_008.8
BLOCK_PAIRS = 1 << 22  # candidate pairs per block of sources (a few tens of MiB of arrays)


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
    nearest: int | None = None,
    lines: tuple[np.ndarray, np.ndarray] | None = None,
    block_pairs: int = BLOCK_PAIRS,
) -> StopLinks:
    """Ordered pairs of distinct stops within ``max_distance_m`` of each other.

    ``parent_station`` (same length, "" for none) additionally links stops that share a parent
    station whatever their distance: a station's platforms are one place for a traveller even
    when the feed puts them far apart. Stops with non-finite coordinates are never linked by
    distance. Ids are used only to size the problem and validate lengths; results are indices.

    ``nearest`` (k) keeps, of the pairs within ``max_distance_m``, only those where one stop is
    among the k nearest of the other (ties broken by index), in both directions, plus every
    pair of one parent station: in a dense city centre the number of pairs within a radius
    grows with the square of stop density, the k nearest with the number of stops. ``None``
    keeps every pair. ``lines`` (with ``nearest``; offsets [n + 1] and line ids: stop -> the
    lines calling there) also keeps, for each stop and each line calling within the distance,
    the pair to that line's nearest stop (ties by index), in both directions: the nearest stops
    may all be of one line, and a stop of another line further away is where a change is (the
    rule OpenTripPlanner's transfer generator applies per pattern).

    Memory is bounded: the sources, sorted by grid cell, are taken in blocks of at most about
    ``block_pairs`` candidate pairs (the stops of the 3x3 cells around each source); a block's
    candidates are filtered by distance (and rank) before the next block is built, so peak memory
    is one block plus the pairs kept. The grid gives each pair once, so nothing is de-duplicated
    but the kept pairs of ``nearest`` (a pair kept from both ends).
    """
    lat = np.asarray(lats, dtype=np.float64)
    lon = np.asarray(lons, dtype=np.float64)
    n = len(stop_ids)
    if lat.shape != (n,) or lon.shape != (n,):
        raise ValueError("stop_ids, lats and lons must have the same length")
    if walk_speed_mps <= 0:
        raise ValueError("walk_speed_mps must be positive")
    if nearest is not None and nearest < 1:
        raise ValueError("nearest must be at least 1 (or None for every pair)")
    parent_code = _parent_codes(parent_station, n)
    kept_from: list[np.ndarray] = []
    kept_to: list[np.ndarray] = []
    kept_dist: list[np.ndarray] = []

    valid = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90))
    if valid.size > 1 and max_distance_m > 0:
        if lines is not None:
            line_offsets, line_ids = (np.asarray(x, dtype=np.int64) for x in lines)
            if line_offsets.shape != (n + 1,):
                raise ValueError("lines offsets must have one more entry than stop_ids")
            lines = (line_offsets, line_ids)
            # the block's pairs are expanded by the lines of their far end: keep blocks as large
            block_pairs = max(1, block_pairs * n // max(n, int(line_ids.size)))
        for a, b, d in _grid_blocks(lat, lon, valid, max_distance_m, parent_code, nearest, lines, block_pairs):
            kept_from.append(a)
            kept_to.append(b)
            kept_dist.append(d)
    if nearest is not None and kept_from:
        # a pair kept from one end only is kept in both directions
        a = np.concatenate(kept_from + kept_to)
        b = np.concatenate(kept_to + kept_from)
        d = np.concatenate(kept_dist + kept_dist)
        _, first = np.unique(a.astype(np.int64) * n + b, return_index=True)
        kept_from, kept_to, kept_dist = [a[first]], [b[first]], [d[first]]

    if parent_code is not None:
        # pairs of one station the grid did not give: beyond the distance, or without coordinates
        a, b = _same_parent_pairs(parent_code)
        dist = _haversine_m(lat[a], lon[a], lat[b], lon[b])
        by_grid = np.isfinite(dist) & (dist <= max_distance_m) if max_distance_m > 0 else np.zeros(a.size, bool)
        a, b, dist = a[~by_grid], b[~by_grid], dist[~by_grid]
        kept_from.append(a)
        kept_to.append(b)
        kept_dist.append(np.where(np.isfinite(dist), dist, 0.0))

    if not kept_from:
        empty_i = np.zeros(0, dtype=np.int32)
        return StopLinks(empty_i, empty_i.copy(), np.zeros(0), empty_i.copy())
    a = np.concatenate(kept_from).astype(np.int32)
    b = np.concatenate(kept_to).astype(np.int32)
    dist = np.concatenate(kept_dist)
    order = np.lexsort((b, dist, a))
    a, b, dist = a[order], b[order], dist[order]
    duration = np.ceil(dist / walk_speed_mps).astype(np.int32)
    return StopLinks(a, b, dist, duration)


def _parent_codes(parent_station: Sequence[str] | np.ndarray | None, n: int) -> np.ndarray | None:
    """Stop -> parent station code (-1 for none), or None without parents."""
    if parent_station is None:
        return None
    parents = np.asarray(parent_station, dtype=object)
    if parents.shape != (n,):
        raise ValueError("parent_station must have the same length as stop_ids")
    codes = np.full(n, -1, dtype=np.int64)
    has_parent = np.flatnonzero(parents != "")
    if has_parent.size:
        _, inverse = np.unique(parents[has_parent].astype(str), return_inverse=True)
        codes[has_parent] = inverse
    return codes


def _same_parent_pairs(parent_code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ordered pair of distinct stops with one parent station (sum of squared group sizes)."""
    members = np.flatnonzero(parent_code >= 0)
    if members.size < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    members = members[np.argsort(parent_code[members], kind="stable")]
    _, start, size = np.unique(parent_code[members], return_index=True, return_counts=True)
    group_of = np.repeat(np.arange(start.size), size)  # position in members -> group
    counts = size[group_of]
    src = np.repeat(members, counts)
    within = np.arange(src.size) - np.repeat(np.cumsum(counts) - counts, counts)
    dst = members[np.repeat(start[group_of], counts) + within]
    keep = src != dst
    return src[keep], dst[keep]


def _grid_blocks(
    lat: np.ndarray, lon: np.ndarray, valid: np.ndarray, max_distance_m: float,
    parent_code: np.ndarray | None, nearest: int | None, lines: tuple[np.ndarray, np.ndarray] | None,
    block_pairs: int,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(from, to, distance) of the kept pairs, one block of sources at a time."""
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
    order = np.argsort(key, kind="stable")  # sorted position -> local stop
    sorted_key = key[order]
    cell_keys, cell_start, cell_count = np.unique(sorted_key, return_index=True, return_counts=True)
    offsets = [dx * width + dy for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    # candidates of each source (sorted position): the stops of its 3x3 cells
    neighbour_cell = np.empty((len(offsets), order.size), dtype=np.int64)
    for j, offset in enumerate(offsets):
        target = sorted_key + offset
        pos = np.minimum(np.searchsorted(cell_keys, target), cell_keys.size - 1)
        neighbour_cell[j] = np.where(cell_keys[pos] == target, pos, -1)
    candidates = np.where(neighbour_cell >= 0, cell_count[neighbour_cell], 0).sum(axis=0)
    bounds = np.searchsorted(np.cumsum(candidates), np.arange(1, 1 + int(candidates.sum()) // block_pairs + 1) * block_pairs)
    bounds = np.unique(np.concatenate([[0], bounds, [order.size]]))
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        src_parts, dst_parts = [], []
        for j in range(len(offsets)):
            cells = neighbour_cell[j, lo:hi]
            src_sorted = np.flatnonzero(cells >= 0)
            if src_sorted.size == 0:
                continue
            counts = cell_count[cells[src_sorted]]
            starts = cell_start[cells[src_sorted]]
            src = np.repeat(src_sorted + lo, counts)
            # offsets 0..count-1 within each cell, without a Python loop
            within = np.arange(src.size) - np.repeat(np.cumsum(counts) - counts, counts)
            src_parts.append(order[src])
            dst_parts.append(order[np.repeat(starts, counts) + within])
        if not src_parts:
            continue
        src = valid[np.concatenate(src_parts)]
        dst = valid[np.concatenate(dst_parts)]
        dist = _haversine_m(lat[src], lon[src], lat[dst], lon[dst])
        keep = (dist <= max_distance_m) & (src != dst)
        src, dst, dist = src[keep], dst[keep], dist[keep]
        if nearest is not None and src.size:
            by_source = np.lexsort((dst, dist, src))
            src, dst, dist = src[by_source], dst[by_source], dist[by_source]
            first = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
            rank = np.arange(src.size) - np.repeat(first, np.diff(np.r_[first, src.size]))
            keep = rank < nearest
            if lines is not None:
                keep |= _nearest_of_lines(src, dst, dist, *lines)
            if parent_code is not None:
                keep |= (parent_code[src] == parent_code[dst]) & (parent_code[src] >= 0)
            src, dst, dist = src[keep], dst[keep], dist[keep]
        yield src, dst, dist


def _nearest_of_lines(
    src: np.ndarray, dst: np.ndarray, dist: np.ndarray, line_offsets: np.ndarray, line_ids: np.ndarray,
) -> np.ndarray:
    """Pair -> True when its far end is, of some line calling there, the stop nearest to its
    source (pairs sorted by source, then distance, then far end)."""
    count = line_offsets[dst + 1] - line_offsets[dst]
    pair = np.repeat(np.arange(src.size), count)
    within = np.arange(pair.size) - np.repeat(np.cumsum(count) - count, count)
    line = line_ids[np.repeat(line_offsets[dst], count) + within]
    keep = np.zeros(src.size, dtype=bool)
    if not line.size:
        return keep
    # pairs are in (source, distance, far end) order already: by (source, line, pair) each
    # line's nearest comes first
    order = np.lexsort((pair, line, src[pair]))
    line, first_of = line[order], src[pair][order]
    first = np.r_[True, (line[1:] != line[:-1]) | (first_of[1:] != first_of[:-1])]
    keep[pair[order][first]] = True
    return keep
