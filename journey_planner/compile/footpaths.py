"""Walking transfers and change times at stops.

The walking model keeps what a traveller needs, not every pair within a radius (those grow with
the square of stop density; the k nearest with the number of stops):

- `feeds.gtfs.model.find_stop_links` (feeds.stop_links) links each boarding stop to its
  ``footpath_nearest`` nearest stops within ``max_walk_s`` of straight walk, and to the nearest
  stop of each line (`StopLines`: one stop sequence) calling within that walk (both
  directions: a pair is kept when either end is so for the other), built grid block by grid
  block in bounded memory; ``footpath_nearest`` 0 keeps every pair within the radius;
- every pair of platforms of one station, whatever their distance;
- the walks through a station's far platforms, closed explicitly: a short walk (at most
  ``link_distance_m``, a kept link), the far station link, a short walk, up to max_walk_s + the
  longest far link (`_station_chains`), so one footpath is enough there.

Beyond that a footpath is not closed transitively: two walks in a row between rides are not
taken (a stop within the radius but beyond the nearest is reached through a nearer one only by
a ride). transfers.txt stop-to-stop rows win: type 3 removes the footpath (or forbids changing
at that stop), type 2 sets min_transfer_time, type 1 makes the change 0 s. Everything is numpy
arrays; only the pairs transfers.txt names go through a dict.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feeds.gtfs.model import GtfsTables, find_stop_links

from ..core.timetable import SLACK_FORBIDDEN
from .columns import column, int_cells, namespaced
from .network import CompileOptions
from .trips import haversine_m

__all__ = ["Footpaths", "StopLines", "TRANSFER_SCOPE_COLUMNS", "footpaths", "platforms"]

TRANSFER_RECOMMENDED = 0
TRANSFER_TIMED = 1
TRANSFER_MIN_TIME = 2
TRANSFER_NOT_POSSIBLE = 3
TRANSFER_SCOPE_COLUMNS = ("from_trip_id", "to_trip_id", "from_route_id", "to_route_id")


@dataclass(frozen=True)
class Footpaths:
    """Walking links as parallel arrays (not sorted), and the transfers.txt rows ignored."""

    from_stop: np.ndarray
    to_stop: np.ndarray
    duration_s: np.ndarray
    ignored: int


@dataclass(frozen=True)
class StopGeometry:
    """What footpaths and transfer rules need to know about the network's stops."""

    stop_ids: np.ndarray  # StopIdx -> namespaced stop_id
    index: pd.Index  # namespaced stop_id -> StopIdx
    lat: np.ndarray
    lon: np.ndarray
    parent: np.ndarray  # StopIdx -> station StopIdx or -1
    is_station: np.ndarray  # StopIdx -> 1 for a station


def platforms(stop: int, parent: np.ndarray, is_station: np.ndarray) -> list[int]:
    """The boarding stops a transfers.txt stop stands for: a station's platforms, or the stop."""
    if is_station[stop]:
        return np.flatnonzero(parent == stop).tolist()
    return [stop]


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(haversine_m(lat1, lon1, lat2, lon2))


@dataclass(frozen=True)
class _Walks:
    """Walking links as parallel arrays, one row per (from, to), sorted by from * n + to."""

    from_stop: np.ndarray  # int64
    to_stop: np.ndarray  # int64
    duration_s: np.ndarray  # int64

    @staticmethod
    def shortest(from_stop: np.ndarray, to_stop: np.ndarray, duration_s: np.ndarray, n: int) -> "_Walks":
        """The shortest row of each (from, to)."""
        code = from_stop.astype(np.int64) * n + to_stop
        order = np.lexsort((duration_s, code))
        code = code[order]
        first = order[np.r_[True, code[1:] != code[:-1]]] if code.size else order
        return _Walks(from_stop[first].astype(np.int64), to_stop[first].astype(np.int64),
                      duration_s[first].astype(np.int64))


@dataclass(frozen=True)
class StopLines:
    """Stop -> the lines calling there (a line: one stop sequence, whatever its route or service)."""

    offsets: np.ndarray  # StopIdx -> first row in `lines` (n_stops + 1)
    lines: np.ndarray  # line ids

    @staticmethod
    def of_patterns(n_stops: int, pattern_stop_offsets: np.ndarray, pattern_stops: np.ndarray) -> "StopLines":
        bounds = pattern_stop_offsets.tolist()
        stops = pattern_stops.tolist()
        line_of: dict[tuple[int, ...], int] = {}
        pattern_line = np.array([line_of.setdefault(tuple(stops[lo:hi]), len(line_of))
                                 for lo, hi in zip(bounds[:-1], bounds[1:])], dtype=np.int64)
        line = np.repeat(pattern_line, np.diff(pattern_stop_offsets))
        code = np.unique(pattern_stops.astype(np.int64) * max(len(line_of), 1) + line)
        stop, line = code // max(len(line_of), 1), code % max(len(line_of), 1)
        offsets = np.zeros(n_stops + 1, dtype=np.int64)
        np.cumsum(np.bincount(stop, minlength=n_stops), out=offsets[1:])
        return StopLines(offsets, line)

    def of(self, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The CSR restricted to ``stops`` (in that order)."""
        count = self.offsets[stops + 1] - self.offsets[stops]
        offsets = np.zeros(stops.size + 1, dtype=np.int64)
        np.cumsum(count, out=offsets[1:])
        rows = np.repeat(self.offsets[stops], count) + np.arange(int(count.sum())) - np.repeat(offsets[:-1], count)
        return offsets, self.lines[rows]


def _walking_links(stops: StopGeometry, options: CompileOptions, lines: StopLines | None) -> _Walks:
    """Walking links between boarding stops: each stop's nearest and the nearest stop of each
    line within max_walk_s, every pair of platforms of one station, and the walks through a
    station's far platforms (bounded)."""
    n = stops.stop_ids.size
    boarding = np.flatnonzero(stops.is_station == 0)
    parents = np.where(stops.parent[boarding] >= 0, stops.parent[boarding].astype(str), "").astype(object)
    links = find_stop_links(
        stops.stop_ids[boarding], stops.lat[boarding], stops.lon[boarding],
        max_distance_m=options.max_walk_s * options.walk_speed_mps,
        walk_speed_mps=options.walk_speed_mps, parent_station=parents,
        nearest=options.footpath_nearest or None,
        lines=lines.of(boarding) if lines is not None and options.footpath_nearest else None,
    )
    origin = boarding[links.from_idx].astype(np.int64)
    target = boarding[links.to_idx].astype(np.int64)
    duration = links.duration_s.astype(np.int64)
    direct = duration <= options.max_walk_s
    if not (~direct).any():
        return _Walks.shortest(origin, target, duration, n)
    chain_from, chain_to, chain_s = _station_chains(origin, target, duration, links.distance_m, direct, options)
    return _Walks.shortest(np.concatenate([origin[direct], chain_from]), np.concatenate([target[direct], chain_to]),
                           np.concatenate([duration[direct], chain_s]), n)


def _station_chains(
    origin: np.ndarray, target: np.ndarray, duration: np.ndarray, distance_m: np.ndarray,
    direct: np.ndarray, options: CompileOptions,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A station's platforms may be further apart than a walk we would take between two streets.
    Each such far link P -> Q is closed explicitly with one short walk on either side: A -> P ->
    Q -> B, where A -> P and Q -> B are kept walking links of at most ``link_distance_m`` (or
    none), up to max_walk_s + the longest far link. At most (links per stop + 1)^2 pairs per far
    link, so the closure stays bounded where the pairs within a radius would not."""
    far = np.flatnonzero(~direct)
    short = np.flatnonzero(direct & (distance_m <= options.link_distance_m))
    # kept short links by stop, both ways (the links are symmetric: A -> P exists iff P -> A)
    by_from = short[np.argsort(origin[short], kind="stable")]
    nodes = np.concatenate([origin, target])
    n = int(nodes.max()) + 1
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(origin[by_from], minlength=n), out=offsets[1:])

    def around(stop: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(item, neighbour, walk s): each stop itself (0 s) and its short links' other ends."""
        count = offsets[stop + 1] - offsets[stop]
        rows = np.repeat(offsets[stop], count) + np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        links = by_from[rows]
        return (np.concatenate([item, np.repeat(item, count)]), np.concatenate([stop, target[links]]),
                np.concatenate([np.zeros(stop.size, np.int64), duration[links]]))

    left_item, left_stop, left_s = around(origin[far], np.arange(far.size))  # A with A -> P (= P -> A)
    right_item, right_stop, right_s = around(target[far], np.arange(far.size))  # B with Q -> B
    # every left end of a far link with every right end of the same link
    right_order = np.argsort(right_item, kind="stable")
    right_item, right_stop, right_s = right_item[right_order], right_stop[right_order], right_s[right_order]
    right_start = np.searchsorted(right_item, np.arange(far.size))
    right_count = np.bincount(right_item, minlength=far.size)
    count = right_count[left_item]
    rows = np.repeat(right_start[left_item], count) + np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    a = np.repeat(left_stop, count)
    b = right_stop[rows]
    walk_s = np.repeat(left_s + duration[far][left_item], count) + right_s[rows]
    keep = (a != b) & (walk_s <= options.max_walk_s + int(duration[far].max()))
    return a[keep], b[keep], walk_s[keep]


@dataclass(frozen=True)
class _Transfer:
    """One stop-to-stop transfers.txt row for one pair of boarding stops (x != y)."""

    from_stop: int
    to_stop: int
    kind: int
    min_transfer_s: int


def _stop_transfers(
    slack: np.ndarray, stops: StopGeometry, from_stop: int, to_stop: int, kind: int, min_transfer_s: int,
) -> list[_Transfer]:
    """One transfers.txt row: a change time at one stop (applied to ``slack``), or footpath rows."""
    out = []
    for x in platforms(from_stop, stops.parent, stops.is_station):
        for y in platforms(to_stop, stops.parent, stops.is_station):
            if x != y:
                out.append(_Transfer(x, y, kind, min_transfer_s))
            elif kind == TRANSFER_NOT_POSSIBLE:
                slack[x] = SLACK_FORBIDDEN
            elif kind == TRANSFER_TIMED:
                slack[x] = 0
            elif kind == TRANSFER_MIN_TIME and min_transfer_s >= 0:
                slack[x] = min_transfer_s
    return out


def _apply_transfers(walks: _Walks, transfers: list[_Transfer], stops: StopGeometry, options: CompileOptions) -> _Walks:
    """transfers.txt rows over the walking links, in file order: type 3 removes the footpath, type
    2 sets it to min_transfer_time, type 1 to min_transfer_time (or 0 when new), type 0 adds it
    at walking speed when missing. Only the pairs the rows name are looked at."""
    if not transfers:
        return walks
    n = stops.stop_ids.size
    codes = walks.from_stop * n + walks.to_stop  # sorted (see _Walks.shortest)
    named = np.unique(np.array([t.from_stop * n + t.to_stop for t in transfers], dtype=np.int64))
    pos = np.minimum(np.searchsorted(codes, named), max(codes.size - 1, 0))
    present = codes[pos] == named if codes.size else np.zeros(named.size, bool)
    walk_s = {int(c): int(walks.duration_s[p]) for c, p, hit in zip(named, pos, present) if hit}
    for t in transfers:
        key = t.from_stop * n + t.to_stop
        if t.kind == TRANSFER_NOT_POSSIBLE:
            walk_s.pop(key, None)
        elif t.kind == TRANSFER_MIN_TIME and t.min_transfer_s >= 0:
            walk_s[key] = t.min_transfer_s
        elif t.kind == TRANSFER_TIMED:
            walk_s[key] = t.min_transfer_s if t.min_transfer_s >= 0 else walk_s.get(key, 0)
        elif key not in walk_s:
            dist = _distance_m(stops.lat[t.from_stop], stops.lon[t.from_stop], stops.lat[t.to_stop], stops.lon[t.to_stop])
            walk_s[key] = int(np.ceil(dist / options.walk_speed_mps)) if np.isfinite(dist) else 0
    untouched = ~np.isin(codes, named)
    kept = np.fromiter(walk_s.keys(), dtype=np.int64, count=len(walk_s))
    return _Walks(
        np.concatenate([walks.from_stop[untouched], kept // n]),
        np.concatenate([walks.to_stop[untouched], kept % n]),
        np.concatenate([walks.duration_s[untouched], np.fromiter(walk_s.values(), dtype=np.int64, count=len(walk_s))]),
    )


def _feed_transfers(
    slack: np.ndarray, stops: StopGeometry, feed_id: str, transfers: pd.DataFrame,
) -> tuple[list[_Transfer], int]:
    """The feed's stop-to-stop transfers.txt rows (change times applied to ``slack``), and how many
    were ignored."""
    from_stops = stops.index.get_indexer(namespaced(feed_id, column(transfers, "from_stop_id")))
    to_stops = stops.index.get_indexer(namespaced(feed_id, column(transfers, "to_stop_id")))
    kind = int_cells(column(transfers, "transfer_type"), 0)
    min_transfer_s = int_cells(column(transfers, "min_transfer_time"), -1)
    scoped = np.zeros(len(transfers), dtype=bool)
    for name in TRANSFER_SCOPE_COLUMNS:
        scoped |= column(transfers, name) != ""
    ignored = 0
    out: list[_Transfer] = []
    for i in range(len(transfers)):
        if scoped[i]:
            continue  # a rule, see transfer_rules
        if from_stops[i] < 0 or to_stops[i] < 0 or kind[i] > TRANSFER_NOT_POSSIBLE:
            ignored += 1
            continue
        out += _stop_transfers(slack, stops, int(from_stops[i]), int(to_stops[i]), int(kind[i]), int(min_transfer_s[i]))
    return out, ignored


def footpaths(
    feeds: Sequence[tuple[str, GtfsTables]], stops: StopGeometry, slack: np.ndarray, options: CompileOptions,
    lines: StopLines | None = None,
) -> Footpaths:
    """Walking links between boarding stops, with transfers.txt applied; fills ``slack``."""
    walks = _walking_links(stops, options, lines)
    ignored = 0
    rows: list[_Transfer] = []
    for feed_id, tables in feeds:
        transfers = tables.find("transfers")
        if transfers is not None and len(transfers):
            feed_rows, feed_ignored = _feed_transfers(slack, stops, feed_id, transfers)
            rows += feed_rows
            ignored += feed_ignored
    walks = _apply_transfers(walks, rows, stops, options)
    return Footpaths(walks.from_stop, walks.to_stop, walks.duration_s, ignored)
