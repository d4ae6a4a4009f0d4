"""GTFS tables of several feeds -> one `Network`: the steps of a compile, in order.

Stops are the boarding points (location_type 0 or empty) and stations (1); entrances, generic
nodes and boarding areas are not places the router needs. A stop without a wheelchair_boarding
value inherits its station's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feeds.gtfs.model import GtfsTables

from ..core.timetable import SLACK_DEFAULT, Timetable, build_stop_patterns
from .calendars import ServiceCalendar, ServiceDays, day_bases, feed_services, feed_timezone, merge_services
from .columns import column, int_cells, namespaced, optional_namespaced
from .footpaths import Footpaths, StopGeometry, StopLines, footpaths
from .network import CompileOptions, CompileReport, Network
from .patterns import PatternLayout, StopTimeStore, TripRuns, build_patterns
from .shapes import feed_shapes, merge_shapes
from .transfer_rules import TransferRules, TripStops, transfer_rules
from .trips import FeedTrips, feed_trips, stop_coordinates

__all__ = ["compile_network"]

STOP_OR_PLATFORM = 0  # stops.txt location_type
STATION = 1
ACCESSIBLE = 1  # wheelchair_boarding / wheelchair_accessible
UNKNOWN_ACCESSIBILITY = 0
DEFAULT_ROUTE_TYPE = 3  # bus
DEFAULT_TIMEZONE = "UTC"


def _concat(parts: Sequence[np.ndarray], dtype: object) -> np.ndarray:
    """The arrays end to end, as ``dtype``; an empty array of that type when there are none."""
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _concat_objects(parts: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=object)


@dataclass(frozen=True)
class _FeedStops:
    raw_ids: np.ndarray  # the feed's own stop_id
    ids: np.ndarray  # namespaced
    names: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    parent_ids: np.ndarray  # namespaced parent_station or ""
    is_station: np.ndarray
    wheelchair: np.ndarray
    platform_codes: np.ndarray  # stops.txt platform_code or ""


@dataclass(frozen=True)
class _FeedRoutes:
    raw_ids: np.ndarray
    ids: np.ndarray
    short_names: np.ndarray
    long_names: np.ndarray
    types: np.ndarray
    colors: np.ndarray
    text_colors: np.ndarray


@dataclass(frozen=True)
class _FeedParts:
    feed_id: str
    tables: GtfsTables
    tz: int  # index into the network's time zones
    stops: _FeedStops
    routes: _FeedRoutes
    services: ServiceDays
    trips: FeedTrips
    route_offset: int  # RouteIdx of the feed's first route


def _feed_stops(feed_id: str, tables: GtfsTables) -> _FeedStops:
    stops = tables.find("stops")
    if stops is None:
        stops = pd.DataFrame(columns=["stop_id"])
    location_type = int_cells(column(stops, "location_type"), STOP_OR_PLATFORM)
    stops = stops[(location_type == STOP_OR_PLATFORM) | (location_type == STATION)]
    location_type = int_cells(column(stops, "location_type"), STOP_OR_PLATFORM)
    raw_ids = column(stops, "stop_id")
    lat, lon = stop_coordinates(stops, raw_ids)
    return _FeedStops(
        raw_ids=raw_ids, ids=optional_namespaced(feed_id, raw_ids), names=column(stops, "stop_name"),
        lat=lat, lon=lon, parent_ids=optional_namespaced(feed_id, column(stops, "parent_station")),
        is_station=(location_type == STATION).astype(np.uint8),
        wheelchair=int_cells(column(stops, "wheelchair_boarding"), UNKNOWN_ACCESSIBILITY),
        platform_codes=column(stops, "platform_code"),
    )


def _feed_routes(feed_id: str, tables: GtfsTables) -> _FeedRoutes:
    routes = tables.find("routes")
    raw_ids = column(routes, "route_id")
    return _FeedRoutes(
        raw_ids=raw_ids, ids=optional_namespaced(feed_id, raw_ids),
        short_names=column(routes, "route_short_name"), long_names=column(routes, "route_long_name"),
        types=int_cells(column(routes, "route_type"), DEFAULT_ROUTE_TYPE),
        colors=column(routes, "route_color"), text_colors=column(routes, "route_text_color"),
    )


def _read_feeds(
    feeds: Sequence[tuple[str, GtfsTables]], registry_zones: Sequence[str],
) -> tuple[list[_FeedParts], list[str]]:
    """Each feed's stops, routes, services and trips, and the time zones they use."""
    timezones: list[str] = []
    parts: list[_FeedParts] = []
    stop_offset = 0
    route_offset = 0
    for (feed_id, tables), registry_zone in zip(feeds, registry_zones):
        tz = feed_timezone(tables, registry_zone)
        if tz not in timezones:
            timezones.append(tz)
        stops = _feed_stops(feed_id, tables)
        routes = _feed_routes(feed_id, tables)
        trip_ids = column(tables.find("trips"), "trip_id")
        trips = feed_trips(tables, trip_ids, pd.Index(stops.raw_ids), stop_offset, stops.lat, stops.lon)
        parts.append(_FeedParts(feed_id, tables, timezones.index(tz), stops, routes,
                                feed_services(tables), trips, route_offset))
        stop_offset += len(stops.raw_ids)
        route_offset += len(routes.raw_ids)
    return parts, timezones


@dataclass(frozen=True)
class _Stops:
    geometry: StopGeometry
    names: np.ndarray
    feed: np.ndarray  # StopIdx -> feed index (int16)
    accessible: np.ndarray  # StopIdx -> 1 when wheelchair boarding is possible
    platform_codes: np.ndarray  # StopIdx -> platform_code or ""


def _merge_stops(parts: Sequence[_FeedParts]) -> _Stops:
    ids = _concat_objects([p.stops.ids for p in parts])
    parent_ids = _concat_objects([p.stops.parent_ids for p in parts])
    index = pd.Index(ids)
    parent = index.get_indexer(parent_ids).astype(np.int32)
    parent[parent_ids == ""] = -1
    wheelchair = _concat([p.stops.wheelchair for p in parts], np.int64).copy()
    inherit = (wheelchair == UNKNOWN_ACCESSIBILITY) & (parent >= 0)
    wheelchair[inherit] = wheelchair[parent[inherit]]
    geometry = StopGeometry(
        stop_ids=ids, index=index,
        lat=_concat([p.stops.lat for p in parts], float), lon=_concat([p.stops.lon for p in parts], float),
        parent=parent, is_station=_concat([p.stops.is_station for p in parts], np.uint8),
    )
    return _Stops(
        geometry=geometry, names=_concat_objects([p.stops.names for p in parts]),
        feed=_concat([np.full(len(p.stops.raw_ids), f, dtype=np.int16) for f, p in enumerate(parts)], np.int16),
        accessible=(wheelchair == ACCESSIBLE).astype(np.uint8),
        platform_codes=_concat_objects([p.stops.platform_codes for p in parts]),
    )


@dataclass(frozen=True)
class _Trips:
    runs: TripRuns
    store: StopTimeStore
    accessible: np.ndarray
    ids: np.ndarray
    headsigns: np.ndarray
    shape_ids: np.ndarray
    dropped: int
    frequency_trips: int


def _merge_trips(parts: Sequence[_FeedParts], calendar: ServiceCalendar) -> _Trips:
    """The feeds' trips whose service and route exist, over one global stop_times store."""
    columns: dict[str, list[np.ndarray]] = {k: [] for k in (
        "start", "count", "shift", "route", "service", "accessible", "ids", "headsigns", "shapes")}
    dropped = 0
    row_offset = 0
    for f, part in enumerate(parts):
        trips_table = part.tables.find("trips")
        feed = part.trips
        dropped += feed.dropped
        service_row = part.services.service_index
        service = np.array([service_row.get(str(v).strip(), -1) for v in column(trips_table, "service_id").tolist()],
                           dtype=np.int64)
        route = pd.Index(part.routes.raw_ids).get_indexer(column(trips_table, "route_id"))
        rows = feed.trip_row
        known = (service[rows] >= 0) & (route[rows] >= 0)
        dropped += int((~known).sum())
        rows = rows[known]
        columns["start"].append(feed.row_start[known] + row_offset)
        columns["count"].append(feed.row_count[known])
        columns["shift"].append(feed.shift[known])
        columns["route"].append(route[rows] + part.route_offset)
        columns["service"].append(service[rows] + calendar.service_offsets[f])
        columns["accessible"].append(
            (int_cells(column(trips_table, "wheelchair_accessible"), UNKNOWN_ACCESSIBILITY)[rows] == ACCESSIBLE
             ).astype(np.uint8))
        columns["ids"].append(namespaced(part.feed_id, column(trips_table, "trip_id")[rows]))
        columns["headsigns"].append(column(trips_table, "trip_headsign")[rows])
        columns["shapes"].append(optional_namespaced(part.feed_id, column(trips_table, "shape_id")[rows]))
        row_offset += feed.arr.size
    runs = TripRuns(
        row_start=_concat(columns["start"], np.int64), row_count=_concat(columns["count"], np.int64),
        shift_s=_concat(columns["shift"], np.int64), route=_concat(columns["route"], np.int32),
        service=_concat(columns["service"], np.int32),
    )
    store = StopTimeStore(
        arrival=_concat([p.trips.arr for p in parts], np.int32),
        departure=_concat([p.trips.dep for p in parts], np.int32),
        flags=_concat([p.trips.flags for p in parts], np.uint8),
        stop=_concat([p.trips.stop for p in parts], np.int32),
    )
    return _Trips(
        runs, store, _concat(columns["accessible"], np.uint8), _concat_objects(columns["ids"]),
        _concat_objects(columns["headsigns"]), _concat_objects(columns["shapes"]),
        dropped, sum(p.trips.frequency_trips for p in parts),
    )


def _footpath_csr(paths: Footpaths, n_stops: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Footpaths sorted by (from, to) -> (offsets by from stop, to stops, durations)."""
    order = np.lexsort((paths.to_stop, paths.from_stop))
    from_stop, to_stop, duration_s = paths.from_stop[order], paths.to_stop[order], paths.duration_s[order]
    offsets = np.zeros(n_stops + 1, dtype=np.int64)
    np.cumsum(np.bincount(from_stop, minlength=n_stops), out=offsets[1:])
    return offsets, to_stop.astype(np.int32), duration_s.astype(np.int32)


def _timetable(
    stops: _Stops, calendar: ServiceCalendar, trips: _Trips, layout: PatternLayout, pattern_tz: np.ndarray,
    timezones: Sequence[str], slack: np.ndarray, paths: Footpaths, rules: TransferRules,
) -> Timetable:
    geometry = stops.geometry
    n_stops = geometry.stop_ids.size
    footpath_offsets, footpath_to, footpath_duration_s = _footpath_csr(paths, n_stops)
    stop_pattern_offsets, stop_pattern_pattern, stop_pattern_pos = build_stop_patterns(
        n_stops, layout.pattern_stop_offsets, layout.pattern_stops)
    order = layout.trip_order
    return Timetable(
        stop_lat=geometry.lat, stop_lon=geometry.lon, stop_parent=geometry.parent,
        stop_accessible=stops.accessible, stop_transfer_slack_s=slack,
        pattern_stop_offsets=layout.pattern_stop_offsets, pattern_stops=layout.pattern_stops,
        pattern_trip_offsets=layout.pattern_trip_offsets,
        pattern_stop_time_offsets=layout.pattern_stop_time_offsets, pattern_route=layout.pattern_route,
        pattern_tz=pattern_tz.astype(np.int32),
        stop_time_arrival=layout.stop_time_arrival, stop_time_departure=layout.stop_time_departure,
        stop_time_flags=layout.stop_time_flags,
        trip_pattern=layout.trip_pattern, trip_service=trips.runs.service[order],
        trip_accessible=trips.accessible[order],
        service_days=calendar.service_days, first_day_ordinal=calendar.first_ordinal,
        day_base_s=day_bases(calendar.first_ordinal, calendar.day_count, timezones or [DEFAULT_TIMEZONE]),
        stop_pattern_offsets=stop_pattern_offsets, stop_pattern_pattern=stop_pattern_pattern,
        stop_pattern_pos=stop_pattern_pos,
        footpath_offsets=footpath_offsets, footpath_to=footpath_to, footpath_duration_s=footpath_duration_s,
        max_stop_time_s=int(max(layout.stop_time_arrival.max(initial=0), layout.stop_time_departure.max(initial=0))),
        trip_rule_key=rules.trip_rule_key,
        **rules.arrays,
    )


def compile_network(
    feeds: Sequence[tuple[str, GtfsTables]],
    *,
    options: CompileOptions = CompileOptions(),
    hashes: Sequence[str] | None = None,
    paths: Sequence[str] | None = None,
    registry_zones: Sequence[str] | None = None,
) -> Network:
    """Merge and compile several feeds (each with its namespace) into one network.

    ``registry_zones`` (one per feed, "" for none) overrides the feeds' agency_timezone: the
    registry owns zones (`feeds.gtfs.service_days.resolve_timezone`). A feed with neither a
    registry zone nor a valid agency_timezone raises `FeedTimezoneError`.
    """
    started = time.perf_counter()
    parts, timezones = _read_feeds(feeds, registry_zones or [""] * len(feeds))
    stops = _merge_stops(parts)
    calendar = merge_services([p.services for p in parts])
    trips = _merge_trips(parts, calendar)
    layout = build_patterns(trips.runs, trips.store)
    order = layout.trip_order
    trip_ids = trips.ids[order]
    route_tz = _concat([np.full(len(p.routes.raw_ids), p.tz, dtype=np.int32) for p in parts], np.int32)
    pattern_tz = route_tz[layout.pattern_route] if layout.pattern_count else np.zeros(0, np.int32)
    slack = np.full(stops.geometry.stop_ids.size, SLACK_DEFAULT, dtype=np.int32)
    lines = StopLines.of_patterns(stops.geometry.stop_ids.size, layout.pattern_stop_offsets, layout.pattern_stops)
    walks = footpaths(feeds, stops.geometry, slack, options, lines)
    route_ids = _concat_objects([p.routes.ids for p in parts])
    rules = transfer_rules(
        feeds, stops.geometry, pd.Index(route_ids),
        TripStops(trip_ids, layout.trip_pattern, layout.pattern_stop_offsets, layout.pattern_stops),
    )
    shapes = merge_shapes([feed_shapes(feed_id, tables) for feed_id, tables in feeds])
    timetable = _timetable(stops, calendar, trips, layout, pattern_tz, timezones, slack, walks, rules)
    report = CompileReport(
        trips_dropped=trips.dropped, frequency_trips=trips.frequency_trips, patterns_split=layout.patterns_split,
        transfers_ignored=walks.ignored + rules.ignored,
        transfer_rules=int(rules.arrays["transfer_rule_from_stop"].size),
        seconds=time.perf_counter() - started,
    )
    return Network(
        timetable=timetable,
        feed_ids=tuple(feed_id for feed_id, _ in feeds),
        feed_paths=tuple(paths or [tables.source for _, tables in feeds]),
        feed_hashes=tuple(hashes or ["" for _ in feeds]),
        timezones=tuple(timezones or [DEFAULT_TIMEZONE]),
        feed_tz=tuple(p.tz for p in parts),
        stop_ids=stops.geometry.stop_ids,
        stop_names=stops.names,
        stop_feed=stops.feed,
        stop_is_station=stops.geometry.is_station,
        stop_platform_codes=stops.platform_codes,
        route_ids=route_ids,
        route_short_names=_concat_objects([p.routes.short_names for p in parts]),
        route_long_names=_concat_objects([p.routes.long_names for p in parts]),
        route_types=_concat([p.routes.types for p in parts], np.int32),
        route_colors=_concat_objects([p.routes.colors for p in parts]),
        route_text_colors=_concat_objects([p.routes.text_colors for p in parts]),
        trip_ids=trip_ids,
        trip_routes=trips.runs.route[order],
        trip_headsigns=trips.headsigns[order],
        trip_shape_ids=trips.shape_ids[order],
        shape_ids=shapes.ids,
        shape_point_offsets=shapes.point_offsets,
        shape_lat=shapes.lat,
        shape_lon=shapes.lon,
        report=report,
    )
