"""Across networks: walking transfers between stops of all feeds, and interchange hubs.

Thirty feeds describe the same places independently: a TER station, the tram stop in front of it
and the coach bays around the corner are three unrelated stop ids in three feeds. This module
links them.

- Walking transfers: `find_stop_links` (grid spatial index) gives stop pairs within walking range;
  duration = distance / walking speed, plus `level_change_s` per level of difference when both
  stops declare a level (levels.txt). Then each feed's transfers.txt is applied to its own stops:
  type 3 removes the pair (forbidden), type 2 sets the duration to min_transfer_time (the
  publisher knows the real path; the pair is added even beyond walking range), types 0/1 add the
  pair if missing. A transfers.txt row on a
  station applies to each of its platforms.
- Hubs: the "same place" graph has one node per station (a stop's parent station, or the stop
  itself when it has none); edges join stations with platforms closer than `same_place_m`, or
  linked by a non-forbidden transfers.txt row. Hubs are the connected components (networkx) with
  at least two nodes; a hub spanning several feeds is an interchange between networks.

Ids are namespaced (`tcl:123`). Pure and synchronous (numpy/pandas/networkx).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from feeds.gtfs.reader import GtfsTables
from feeds.stop_links import find_stop_links
from feeds.namespace import namespace_column

__all__ = ["Hub", "HubMember", "StopTable", "TransferTable", "collect_stops", "list_hubs", "list_walking_transfers",
           "select_hubs"]

HUB_INPUT_FILES = ("stops", "transfers", "levels")
DEFAULT_WALK_SPEED_MPS = 1.2  # a realistic pace with luggage and crowds (about 4.3 km/h)
DEFAULT_MAX_WALK_M = 400.0
DEFAULT_LEVEL_CHANGE_S = 30  # stairs or escalator per level
DEFAULT_SAME_PLACE_M = 100.0


@dataclass(frozen=True)
class StopTable:
    """All stops of all feeds, as parallel arrays (index = stop index)."""

    stop_id: np.ndarray  # -> namespaced stop id (object)
    feed_id: np.ndarray  # -> feed id (object)
    name: np.ndarray  # -> stop_name (object)
    lat: np.ndarray  # -> float64 (NaN when absent)
    lon: np.ndarray  # -> float64
    station_id: np.ndarray  # -> namespaced parent station, or the stop id itself (object)
    location_type: np.ndarray  # -> int8 (0 stop/platform, 1 station, 2 entrance, 3 node, 4 boarding area)
    level_index: np.ndarray  # -> float64 (NaN when unknown)

    def __len__(self) -> int:
        return len(self.stop_id)


@dataclass(frozen=True)
class TransferTable:
    """Directed walking transfers between boarding stops (index = transfer index)."""

    from_stop_id: np.ndarray  # -> namespaced stop id
    to_stop_id: np.ndarray  # -> namespaced stop id
    distance_m: np.ndarray  # -> float64 great-circle distance
    duration_s: np.ndarray  # -> int32 walking time including level changes and min_transfer_time

    def __len__(self) -> int:
        return len(self.from_stop_id)


@dataclass(frozen=True)
class HubMember:
    """One station of a hub (or a stop without a parent station)."""

    stop_id: str  # namespaced
    feed_id: str
    name: str
    distance_m: float  # from the hub centre to the station (mean of its rows); NaN without coordinates


@dataclass(frozen=True)
class Hub:
    hub_id: str  # "hub:" + the smallest station id of the hub (stable across runs)
    name: str
    station_ids: tuple[str, ...]
    feed_ids: tuple[str, ...]
    lat: float
    lon: float
    members: tuple[HubMember, ...] = ()  # one per station id, same order

    @property
    def interchange(self) -> bool:
        """True when the hub joins stations of more than one feed."""
        return len(self.feed_ids) > 1


def collect_stops(feeds: Mapping[str, GtfsTables]) -> StopTable:
    parts = []
    for feed_id, tables in sorted(feeds.items()):
        stops = tables.find("stops")
        if stops is None or len(stops) == 0 or "stop_id" not in stops.columns:
            continue
        frame = pd.DataFrame(index=stops.index)
        frame["stop_id"] = namespace_column(feed_id, stops["stop_id"])
        frame["feed_id"] = feed_id
        frame["name"] = stops["stop_name"] if "stop_name" in stops.columns else ""
        frame["lat"] = pd.to_numeric(stops.get("stop_lat"), errors="coerce") if "stop_lat" in stops else np.nan
        frame["lon"] = pd.to_numeric(stops.get("stop_lon"), errors="coerce") if "stop_lon" in stops else np.nan
        parent = stops["parent_station"] if "parent_station" in stops.columns else pd.Series("", index=stops.index)
        kind = pd.to_numeric(stops["location_type"], errors="coerce") if "location_type" in stops.columns else 0
        frame["location_type"] = pd.Series(kind, index=stops.index).fillna(0).astype(np.int8)
        own = frame["stop_id"]
        frame["station_id"] = np.where((parent.astype(object) != "") & (frame["location_type"] != 1),
                                       namespace_column(feed_id, parent), own)
        frame["level_index"] = np.nan
        levels = tables.find("levels")
        if levels is not None and "level_id" in stops.columns and {"level_id", "level_index"} <= set(levels.columns):
            index_by_level = pd.Series(pd.to_numeric(levels["level_index"], errors="coerce").to_numpy(),
                                       index=levels["level_id"].to_numpy())
            index_by_level = index_by_level[~index_by_level.index.duplicated()]
            frame["level_index"] = stops["level_id"].map(index_by_level).astype(float).to_numpy()
        parts.append(frame)
    if not parts:
        empty = np.array([], dtype=object)
        return StopTable(empty, empty, empty, np.array([]), np.array([]), empty, np.array([], dtype=np.int8),
                         np.array([]))
    table = pd.concat(parts, ignore_index=True)
    return StopTable(
        stop_id=table["stop_id"].to_numpy(dtype=object), feed_id=table["feed_id"].to_numpy(dtype=object),
        name=table["name"].to_numpy(dtype=object), lat=table["lat"].to_numpy(dtype=np.float64),
        lon=table["lon"].to_numpy(dtype=np.float64), station_id=table["station_id"].to_numpy(dtype=object),
        location_type=table["location_type"].to_numpy(dtype=np.int8),
        level_index=table["level_index"].to_numpy(dtype=np.float64),
    )


def list_walking_transfers(
    feeds: Mapping[str, GtfsTables],
    *,
    max_walk_m: float = DEFAULT_MAX_WALK_M,
    walk_speed_mps: float = DEFAULT_WALK_SPEED_MPS,
    level_change_s: int = DEFAULT_LEVEL_CHANGE_S,
    stops: StopTable | None = None,
) -> TransferTable:
    """Walking transfers between boarding stops (location_type 0) of every feed, transfers.txt applied."""
    stops = stops if stops is not None else collect_stops(feeds)
    boarding = np.flatnonzero(stops.location_type == 0)
    links = find_stop_links(stops.stop_id[boarding], stops.lat[boarding], stops.lon[boarding],
                            max_distance_m=max_walk_m, walk_speed_mps=walk_speed_mps)
    a, b = boarding[links.from_idx], boarding[links.to_idx]
    levels = np.abs(stops.level_index[a] - stops.level_index[b])
    penalty = np.where(np.isfinite(levels), levels * level_change_s, 0).astype(np.int32)
    walked = pd.DataFrame({
        "from_stop_id": stops.stop_id[a], "to_stop_id": stops.stop_id[b],
        "distance_m": links.distance_m, "duration_s": links.duration_s.astype(np.int64) + penalty,
    })
    walked = _apply_transfer_rules(walked, feeds, stops, walk_speed_mps)
    walked = walked.sort_values(["from_stop_id", "duration_s", "to_stop_id"], kind="stable")
    return TransferTable(
        from_stop_id=walked["from_stop_id"].to_numpy(dtype=object),
        to_stop_id=walked["to_stop_id"].to_numpy(dtype=object),
        distance_m=walked["distance_m"].to_numpy(dtype=np.float64),
        duration_s=walked["duration_s"].to_numpy(dtype=np.int64).astype(np.int32),
    )


def _feed_transfer_rows(feeds: Mapping[str, GtfsTables], stops: StopTable) -> pd.DataFrame:
    """Stop-to-stop transfers.txt rows of every feed, stations expanded to their platforms."""
    children = pd.DataFrame({"station": stops.station_id, "stop": stops.stop_id})
    children = children[stops.location_type == 0]
    rows = []
    for feed_id, tables in feeds.items():
        transfers = tables.find("transfers")
        if transfers is None or not {"from_stop_id", "to_stop_id"} <= set(transfers.columns) or len(transfers) == 0:
            continue
        frame = pd.DataFrame({
            "from": namespace_column(feed_id, transfers["from_stop_id"]),
            "to": namespace_column(feed_id, transfers["to_stop_id"]),
            "type": pd.to_numeric(transfers.get("transfer_type", pd.Series("0", index=transfers.index)),
                                  errors="coerce").fillna(0).astype(int),
            "min_s": pd.to_numeric(transfers.get("min_transfer_time", pd.Series("", index=transfers.index)),
                                   errors="coerce"),
        })
        # trip- or route-specific rows are the planner's business, not the walking graph's
        specific = np.zeros(len(transfers), dtype=bool)
        for column in ("from_trip_id", "to_trip_id", "from_route_id", "to_route_id"):
            if column in transfers.columns:
                specific |= transfers[column].astype(object).to_numpy() != ""
        frame = frame[~specific & (frame["from"] != "") & (frame["to"] != "")]
        for end in ("from", "to"):
            expanded = frame.merge(children, how="left", left_on=end, right_on="station")
            expanded[end] = expanded["stop"].where(expanded["stop"].notna(), expanded[end])
            frame = expanded.drop(columns=["station", "stop"])
        rows.append(frame)
    if not rows:
        return pd.DataFrame(columns=["from", "to", "type", "min_s"])
    return pd.concat(rows, ignore_index=True).drop_duplicates(["from", "to"], keep="last")


def _apply_transfer_rules(walked: pd.DataFrame, feeds: Mapping[str, GtfsTables], stops: StopTable,
                          walk_speed_mps: float) -> pd.DataFrame:
    rules = _feed_transfer_rows(feeds, stops)
    if len(rules) == 0:
        return walked
    forbidden = rules[rules["type"] == 3]
    if len(forbidden):
        pairs = pd.MultiIndex.from_arrays([forbidden["from"], forbidden["to"]])
        walked = walked[~pd.MultiIndex.from_arrays([walked["from_stop_id"], walked["to_stop_id"]]).isin(pairs)]
    allowed = rules[rules["type"].isin([0, 1, 2]) & (rules["from"] != rules["to"])]
    if len(allowed) == 0:
        return walked
    position = {stop: i for i, stop in enumerate(stops.stop_id)}
    from_i = allowed["from"].map(position)
    to_i = allowed["to"].map(position)
    known = from_i.notna() & to_i.notna()
    allowed, from_i, to_i = allowed[known], from_i[known].astype(int).to_numpy(), to_i[known].astype(int).to_numpy()
    distance = _haversine_m(stops.lat[from_i], stops.lon[from_i], stops.lat[to_i], stops.lon[to_i])
    distance = np.where(np.isfinite(distance), distance, 0.0)
    declared = pd.DataFrame({
        "from_stop_id": allowed["from"].to_numpy(), "to_stop_id": allowed["to"].to_numpy(),
        "distance_m": distance, "declared_s": allowed["min_s"].to_numpy(),
    })
    merged = walked.merge(declared, how="outer", on=["from_stop_id", "to_stop_id"], suffixes=("", "_declared"))
    merged["distance_m"] = merged["distance_m"].fillna(merged["distance_m_declared"])
    walk_s = np.ceil(merged["distance_m"] / walk_speed_mps)
    merged["duration_s"] = merged["duration_s"].fillna(walk_s)
    # the publisher's min_transfer_time knows the real path (passages, gates): it replaces the estimate
    merged["duration_s"] = merged["declared_s"].where(merged["declared_s"].notna(), merged["duration_s"])
    merged["duration_s"] = merged["duration_s"].astype(np.int64)
    return merged[["from_stop_id", "to_stop_id", "distance_m", "duration_s"]]


def _haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def list_hubs(
    feeds: Mapping[str, GtfsTables],
    *,
    same_place_m: float = DEFAULT_SAME_PLACE_M,
    stops: StopTable | None = None,
) -> list[Hub]:
    """Interchange hubs: connected components of the "same place" graph, largest first."""
    stops = stops if stops is not None else collect_stops(feeds)
    graph = nx.Graph()
    placed = np.flatnonzero(np.isfinite(stops.lat) & np.isfinite(stops.lon))
    links = find_stop_links(stops.stop_id[placed], stops.lat[placed], stops.lon[placed],
                            max_distance_m=same_place_m)
    station_a = stops.station_id[placed[links.from_idx]]
    station_b = stops.station_id[placed[links.to_idx]]
    different = station_a != station_b
    graph.add_edges_from(zip(station_a[different], station_b[different], strict=True))
    rules = _feed_transfer_rows(feeds, stops)
    if len(rules):
        station_of = dict(zip(stops.stop_id, stops.station_id, strict=True))
        for source, target, kind in zip(rules["from"], rules["to"], rules["type"], strict=True):
            if kind == 3 or source not in station_of or target not in station_of:
                continue
            if station_of[source] != station_of[target]:
                graph.add_edge(station_of[source], station_of[target])

    feed_of = dict(zip(stops.stop_id, stops.feed_id, strict=True))
    frame = pd.DataFrame({"station": stops.station_id, "name": stops.name, "lat": stops.lat, "lon": stops.lon,
                          "is_station": stops.stop_id == stops.station_id})
    names = frame[frame["is_station"]].drop_duplicates("station").set_index("station")["name"].to_dict()
    position = frame.groupby("station")[["lat", "lon"]].mean()
    size = frame.groupby("station").size().to_dict()
    hubs: list[Hub] = []
    for component in nx.connected_components(graph):
        station_ids = tuple(sorted(component))
        if len(station_ids) < 2:
            continue  # a lone station is a place, not an interchange
        feed_ids = tuple(sorted({feed_of.get(s, s.partition(":")[0]) for s in station_ids}))
        # the name of the biggest station (most platforms) names the hub
        name_votes = Counter({names[s]: size.get(s, 0) for s in station_ids if names.get(s)})
        name = name_votes.most_common(1)[0][0] if name_votes else station_ids[0]
        placed_stations = position.reindex(list(station_ids))
        coords = placed_stations.mean()
        distances = _haversine_m(coords["lat"], coords["lon"], placed_stations["lat"].to_numpy(),
                                 placed_stations["lon"].to_numpy())
        members = tuple(HubMember(stop_id=s, feed_id=feed_of.get(s, s.partition(":")[0]), name=str(names.get(s, "")),
                                  distance_m=float(d)) for s, d in zip(station_ids, distances, strict=True))
        hubs.append(Hub(hub_id=f"hub:{station_ids[0]}", name=str(name), station_ids=station_ids, feed_ids=feed_ids,
                        lat=float(coords["lat"]), lon=float(coords["lon"]), members=members))
    hubs.sort(key=lambda hub: (-len(hub.feed_ids), -len(hub.station_ids), hub.hub_id))
    return hubs


def select_hubs(
    hubs: Sequence[Hub],
    *,
    interchanges_only: bool = True,
    feed_id: str | None = None,
    near: tuple[float, float] | None = None,
    radius_m: float = 1000.0,
) -> list[tuple[Hub, float | None]]:
    """The hubs matching the filters, each with its distance in metres to ``near`` (None without it).

    The order is stable so pages and caches agree: nearest first (then hub id) around ``near``,
    otherwise the order of `list_hubs` (most networks, most stations, hub id).
    """
    chosen = [hub for hub in hubs
              if (hub.interchange or not interchanges_only) and (feed_id is None or feed_id in hub.feed_ids)]
    if near is None:
        return [(hub, None) for hub in chosen]
    lat = np.array([hub.lat for hub in chosen], dtype=np.float64)
    lon = np.array([hub.lon for hub in chosen], dtype=np.float64)
    distances = _haversine_m(near[0], near[1], lat, lon)
    close = [(hub, float(d)) for hub, d in zip(chosen, distances, strict=True) if d <= radius_m]
    return sorted(close, key=lambda pair: (pair[1], pair[0].hub_id))
