"""Walking transfers and change times at stops.

`feeds.gtfs.model.find_stop_links` (feeds.stop_links) links stops within ``max_walk_s`` of straight walk, plus all
platforms of one station whatever their distance; chains through such long station links are
closed with networkx (up to the longest station link + max_walk_s), so one footpath is always
enough. transfers.txt stop-to-stop rows win: type 3 removes the footpath (or forbids changing at
that stop), type 2 sets min_transfer_time, type 1 makes the change 0 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from feeds.gtfs.model import GtfsTables, find_stop_links

from ..core.timetable import SLACK_FORBIDDEN
from .columns import column, int_cells, namespaced
from .network import CompileOptions
from .trips import haversine_m

__all__ = ["Footpaths", "TRANSFER_SCOPE_COLUMNS", "footpaths", "platforms"]

TRANSFER_RECOMMENDED = 0
TRANSFER_TIMED = 1
TRANSFER_MIN_TIME = 2
TRANSFER_NOT_POSSIBLE = 3
TRANSFER_SCOPE_COLUMNS = ("from_trip_id", "to_trip_id", "from_route_id", "to_route_id")
NO_WALK = 1 << 40  # longer than any walk: "no footpath yet" when comparing durations


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


def _walking_links(stops: StopGeometry, options: CompileOptions) -> dict[tuple[int, int], int]:
    """(from, to) -> walking seconds between boarding stops, chains through stations closed."""
    boarding = np.flatnonzero(stops.is_station == 0)
    parents = np.array(
        [str(stops.parent[i]) if stops.parent[i] >= 0 else "" for i in boarding.tolist()], dtype=object
    )
    # Straight-line walks up to max_walk_s, plus every pair of platforms of one station.
    links = find_stop_links(
        stops.stop_ids[boarding], stops.lat[boarding], stops.lon[boarding],
        max_distance_m=options.max_walk_s * options.walk_speed_mps,
        walk_speed_mps=options.walk_speed_mps, parent_station=parents,
    )
    origin = boarding[links.from_idx]
    target = boarding[links.to_idx]
    duration = links.duration_s.astype(np.int64)
    direct = duration <= options.max_walk_s
    pairs: dict[tuple[int, int], int] = {}
    pairs.update(zip(zip(origin[direct].tolist(), target[direct].tolist()), duration[direct].tolist()))
    far = ~direct
    if far.any():
        short = links.distance_m <= options.link_distance_m
        _close_station_chains(pairs, origin, target, duration, direct, short | far, options)
    return pairs


def _close_station_chains(
    pairs: dict[tuple[int, int], int], origin: np.ndarray, target: np.ndarray, duration: np.ndarray,
    direct: np.ndarray, in_graph: np.ndarray, options: CompileOptions,
) -> None:
    """A station's platforms may be further apart than a walk we would take between two streets;
    chains through such links are found with networkx, on the graph of short links plus those
    long station links, from the stops within walking reach of a long link only (straight lines
    obey the triangle inequality, so nothing else can gain from a chain)."""
    far = ~direct
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(zip(origin[in_graph].tolist(), target[in_graph].tolist(), duration[in_graph].tolist()))
    ends = set(origin[far].tolist()) | set(target[far].tolist())
    sources = ends | {x for x, y in zip(origin[direct].tolist(), target[direct].tolist()) if y in ends}
    cutoff_s = options.max_walk_s + int(duration[far].max())
    for source in sources:
        lengths = nx.single_source_dijkstra_path_length(graph, source, cutoff=cutoff_s)
        for reached, walk_s in lengths.items():
            if reached != source:
                key = (source, int(reached))
                if walk_s < pairs.get(key, NO_WALK):
                    pairs[key] = int(walk_s)


def _apply_stop_transfer(
    pairs: dict[tuple[int, int], int], slack: np.ndarray, stops: StopGeometry,
    from_stop: int, to_stop: int, kind: int, min_transfer_s: int, options: CompileOptions,
) -> None:
    """One stop-to-stop transfers.txt row: a change time at one stop, or a footpath's fate."""
    for x in platforms(from_stop, stops.parent, stops.is_station):
        for y in platforms(to_stop, stops.parent, stops.is_station):
            if x == y:
                if kind == TRANSFER_NOT_POSSIBLE:
                    slack[x] = SLACK_FORBIDDEN
                elif kind == TRANSFER_TIMED:
                    slack[x] = 0
                elif kind == TRANSFER_MIN_TIME and min_transfer_s >= 0:
                    slack[x] = min_transfer_s
                continue
            if kind == TRANSFER_NOT_POSSIBLE:
                pairs.pop((x, y), None)
            elif kind == TRANSFER_MIN_TIME and min_transfer_s >= 0:
                pairs[(x, y)] = min_transfer_s
            elif kind == TRANSFER_TIMED:
                pairs[(x, y)] = min_transfer_s if min_transfer_s >= 0 else pairs.get((x, y), 0)
            elif (x, y) not in pairs:
                dist = _distance_m(stops.lat[x], stops.lon[x], stops.lat[y], stops.lon[y])
                pairs[(x, y)] = int(np.ceil(dist / options.walk_speed_mps)) if np.isfinite(dist) else 0


def _apply_feed_transfers(
    pairs: dict[tuple[int, int], int], slack: np.ndarray, stops: StopGeometry,
    feed_id: str, transfers: pd.DataFrame, options: CompileOptions,
) -> int:
    """The feed's stop-to-stop transfers.txt rows applied; returns how many were ignored."""
    from_stops = stops.index.get_indexer(namespaced(feed_id, column(transfers, "from_stop_id")))
    to_stops = stops.index.get_indexer(namespaced(feed_id, column(transfers, "to_stop_id")))
    kind = int_cells(column(transfers, "transfer_type"), 0)
    min_transfer_s = int_cells(column(transfers, "min_transfer_time"), -1)
    scoped = np.zeros(len(transfers), dtype=bool)
    for name in TRANSFER_SCOPE_COLUMNS:
        scoped |= column(transfers, name) != ""
    ignored = 0
    for i in range(len(transfers)):
        if scoped[i]:
            continue  # a rule, see transfer_rules
        if from_stops[i] < 0 or to_stops[i] < 0 or kind[i] > TRANSFER_NOT_POSSIBLE:
            ignored += 1
            continue
        _apply_stop_transfer(pairs, slack, stops, int(from_stops[i]), int(to_stops[i]),
                             int(kind[i]), int(min_transfer_s[i]), options)
    return ignored


def footpaths(
    feeds: Sequence[tuple[str, GtfsTables]], stops: StopGeometry, slack: np.ndarray, options: CompileOptions,
) -> Footpaths:
    """Closed walking links between boarding stops, with transfers.txt applied; fills ``slack``."""
    pairs = _walking_links(stops, options)
    ignored = 0
    for feed_id, tables in feeds:
        transfers = tables.find("transfers")
        if transfers is not None and len(transfers):
            ignored += _apply_feed_transfers(pairs, slack, stops, feed_id, transfers, options)
    if not pairs:
        empty = np.zeros(0, dtype=np.int64)
        return Footpaths(empty, empty.copy(), empty.copy(), ignored)
    keys = np.array(list(pairs.keys()), dtype=np.int64)
    return Footpaths(keys[:, 0], keys[:, 1], np.array(list(pairs.values()), dtype=np.int64), ignored)
