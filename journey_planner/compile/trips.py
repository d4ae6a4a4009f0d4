"""Trips of one feed: stop_times sorted and checked, frequencies.txt expanded, missing times
interpolated.

- frequencies.txt trips are expanded into one trip per start (exact_times 0 or 1 alike: the
  published headway is what a traveller plans with); stop_times give the template's run times.
- Missing intermediate times are interpolated by distance between the known times around them
  (as GTFS intends, and as OTP and MOTIS do): by the trip's shape_dist_traveled when all its
  rows have one and it never decreases, else by straight lines between the stops (a platform
  without coordinates takes its station's); by stop position only when the run has no length.
  Trips without a first or last time (GTFS-Flex windows) are left out, and so are trips whose
  times go backwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from feeds.gtfs.model import EARTH_RADIUS_M, GtfsTables, parse_gtfs_times

from ..core.timetable import NO_DROP_OFF, NO_PICKUP
from .columns import column, int_cells

__all__ = ["FeedTrips", "feed_trips", "haversine_m", "stop_coordinates"]

NOT_ALLOWED = 1  # pickup_type / drop_off_type: no pickup / no drop off


@dataclass
class FeedTrips:
    """Trips of one feed after expansion, as row ranges into the feed's sorted stop_times."""

    row_start: np.ndarray
    row_count: np.ndarray
    shift: np.ndarray  # seconds added to the template times (frequencies)
    trip_row: np.ndarray  # row in trips.txt
    arr: np.ndarray  # sorted stop_times arrays
    dep: np.ndarray
    flags: np.ndarray
    stop: np.ndarray  # global StopIdx
    dropped: int
    frequency_trips: int


@dataclass
class _StopTimes:
    """One feed's usable stop_times rows, sorted by trip then stop_sequence."""

    trip: np.ndarray  # row -> row in trips.txt
    stop: np.ndarray  # row -> stop of the feed
    arr: np.ndarray
    dep: np.ndarray
    flags: np.ndarray
    shape_dist: np.ndarray
    trips_with_unknown_stops: np.ndarray  # trips.txt rows naming a stop that is not kept


def stop_coordinates(stops: pd.DataFrame, stop_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of one feed's stops; a stop without them takes its parent station's
    (feeds list some platforms only under their station)."""
    lat = pd.to_numeric(pd.Series(column(stops, "stop_lat")), errors="coerce").to_numpy(float, copy=True)
    lon = pd.to_numeric(pd.Series(column(stops, "stop_lon")), errors="coerce").to_numpy(float, copy=True)
    parent_ids = column(stops, "parent_station")
    parent = pd.Index(stop_ids).get_indexer(parent_ids)
    parent[parent_ids == ""] = -1
    for values in (lat, lon):
        missing = ~np.isfinite(values) & (parent >= 0)
        values[missing] = values[parent[missing]]
    return lat, lon


def _read_stop_times(stop_times: pd.DataFrame, trip_index: pd.Index, stop_lookup: pd.Index) -> _StopTimes:
    trip = trip_index.get_indexer(column(stop_times, "trip_id"))
    stop = stop_lookup.get_indexer(column(stop_times, "stop_id"))
    sequence = int_cells(column(stop_times, "stop_sequence"), -1)
    arr = parse_gtfs_times(column(stop_times, "arrival_time")).astype(np.int64)
    dep = parse_gtfs_times(column(stop_times, "departure_time")).astype(np.int64)
    pickup = int_cells(column(stop_times, "pickup_type"), 0)
    drop_off = int_cells(column(stop_times, "drop_off_type"), 0)
    keep = (trip >= 0) & (stop >= 0)
    unknown_stops = np.unique(trip[(trip >= 0) & (stop < 0)])
    order = np.lexsort((sequence[keep], trip[keep]))
    rows = np.flatnonzero(keep)[order]
    flags = ((pickup[rows] == NOT_ALLOWED) * int(NO_PICKUP)
             | (drop_off[rows] == NOT_ALLOWED) * int(NO_DROP_OFF)).astype(np.uint8)
    arr, dep = arr[rows], dep[rows]
    arr_filled = np.where(arr < 0, dep, arr)
    dep_filled = np.where(dep < 0, arr_filled, dep)
    return _StopTimes(
        trip[rows], stop[rows], arr_filled, dep_filled, flags,
        column(stop_times, "shape_dist_traveled")[rows], unknown_stops,
    )


def _invalid_trips(
    rows: _StopTimes, starts: np.ndarray, counts: np.ndarray, trip_of_row: np.ndarray
) -> np.ndarray:
    """Per trip: no usable time somewhere, fewer than two stops, an unknown stop, or times that
    go backwards (negative hop times make a trip unusable and would break sorting)."""
    invalid = np.zeros(starts.size, dtype=bool)
    np.logical_or.at(invalid, trip_of_row, rows.arr < 0)
    invalid |= counts < 2
    if rows.trips_with_unknown_stops.size:
        invalid |= np.isin(rows.trip[starts], rows.trips_with_unknown_stops)
    if rows.trip.size > 1:
        same = trip_of_row[1:] == trip_of_row[:-1]
        backwards = same & ((rows.arr[1:] < rows.dep[:-1]) | (rows.dep[:-1] < rows.arr[:-1]))
        np.logical_or.at(invalid, trip_of_row[1:][backwards], True)
    return invalid


def _empty_feed_trips(n_trips: int) -> FeedTrips:
    empty = np.zeros(0, dtype=np.int64)
    return FeedTrips(empty, empty, empty, empty, empty.astype(np.int32), empty.astype(np.int32),
                     empty.astype(np.uint8), empty.astype(np.int32), n_trips, 0)


def feed_trips(
    tables: GtfsTables,
    trip_ids: np.ndarray,
    stop_lookup: pd.Index,
    stop_offset: int,
    stop_lat: np.ndarray,
    stop_lon: np.ndarray,
) -> FeedTrips:
    """The usable trips of one feed (frequencies expanded) over its sorted stop_times."""
    stop_times = tables.find("stop_times")
    n_trips = len(trip_ids)
    if stop_times is None or len(stop_times) == 0 or n_trips == 0:
        return _empty_feed_trips(n_trips)
    trip_index = pd.Index(trip_ids)
    rows = _read_stop_times(stop_times, trip_index, stop_lookup)
    n_rows = rows.trip.size
    if n_rows:
        starts = np.flatnonzero(np.r_[True, rows.trip[1:] != rows.trip[:-1]])
        counts = np.diff(np.r_[starts, n_rows])
    else:
        starts = counts = np.zeros(0, dtype=np.int64)
    trip_of_row = np.repeat(np.arange(starts.size), counts)
    if not (rows.arr >= 0).all():
        interpolate_missing_times(rows.arr, rows.dep, trip_of_row, rows.stop, stop_lat, stop_lon, rows.shape_dist)
    valid = ~_invalid_trips(rows, starts, counts, trip_of_row)
    trips = FeedTrips(
        row_start=starts[valid], row_count=counts[valid],
        shift=np.zeros(int(valid.sum()), dtype=np.int64), trip_row=rows.trip[starts][valid],
        arr=rows.arr, dep=rows.dep, flags=rows.flags, stop=rows.stop,
        dropped=n_trips - int(valid.sum()), frequency_trips=0,
    )
    trips = _expand_frequencies(trips, tables, trip_index)
    return FeedTrips(
        trips.row_start.astype(np.int64), trips.row_count.astype(np.int64), trips.shift,
        trips.trip_row.astype(np.int64), rows.arr.astype(np.int32), rows.dep.astype(np.int32),
        rows.flags, (rows.stop + stop_offset).astype(np.int32), trips.dropped, trips.frequency_trips,
    )


def _expand_frequencies(trips: FeedTrips, tables: GtfsTables, trip_index: pd.Index) -> FeedTrips:
    """Each frequencies.txt template replaced by one trip per start, shifted from its times."""
    frequencies = tables.find("frequencies")
    if frequencies is None or not len(frequencies):
        return trips
    template_of = trip_index.get_indexer(column(frequencies, "trip_id"))
    window_start = parse_gtfs_times(column(frequencies, "start_time")).astype(np.int64)
    window_end = parse_gtfs_times(column(frequencies, "end_time")).astype(np.int64)
    headway_s = int_cells(column(frequencies, "headway_secs"), 0)
    position = {int(t): i for i, t in enumerate(trips.trip_row.tolist())}
    templates = set()
    new_start, new_count, new_shift, new_row = [], [], [], []
    for template, start_s, end_s, step_s in zip(
        template_of.tolist(), window_start.tolist(), window_end.tolist(), headway_s.tolist()
    ):
        if template < 0 or template not in position or step_s <= 0 or start_s < 0 or end_s <= start_s:
            continue
        i = position[template]
        templates.add(i)
        first_departure = int(trips.dep[trips.row_start[i]])
        instances = np.arange(start_s, end_s, step_s, dtype=np.int64)
        new_start.append(np.full(instances.size, trips.row_start[i]))
        new_count.append(np.full(instances.size, trips.row_count[i]))
        new_shift.append(instances - first_departure)
        new_row.append(np.full(instances.size, trips.trip_row[i]))
    if not templates:
        return trips
    kept = np.ones(trips.row_start.size, dtype=bool)
    kept[list(templates)] = False
    return FeedTrips(
        row_start=np.concatenate([trips.row_start[kept], *new_start]),
        row_count=np.concatenate([trips.row_count[kept], *new_count]),
        shift=np.concatenate([trips.shift[kept], *new_shift]),
        trip_row=np.concatenate([trips.trip_row[kept], *new_row]),
        arr=trips.arr, dep=trips.dep, flags=trips.flags, stop=trips.stop,
        dropped=trips.dropped, frequency_trips=int(sum(x.size for x in new_start)),
    )


def interpolate_missing_times(
    arr: np.ndarray,
    dep: np.ndarray,
    trip_of_row: np.ndarray,
    stop: np.ndarray,
    stop_lat: np.ndarray,
    stop_lon: np.ndarray,
    shape_dist: np.ndarray,
) -> None:
    """Fill, in place, the rows without a time (-1) that lie between two known times of their trip.

    GTFS leaves times between timepoints to be interpolated, and a stop twice as far along the run
    gets twice the time (what OTP and MOTIS do): the share of the run's distance reached at a row,
    by `_distance_along`, times the run's duration (departure of the known row before -> arrival
    of the known row after), rounded to the second. A run whose distance is 0 or unknown (stops at
    one place, or without coordinates) is split evenly by stop position. Shares never decrease
    along a run, so neither do the times. Rows are sorted by trip then stop_sequence.
    """
    n = arr.size
    known = arr >= 0
    position = np.arange(n)
    prev_known = np.maximum.accumulate(np.where(known, position, -1))
    next_known = np.minimum.accumulate(np.where(known, position, n)[::-1])[::-1]
    in_gap = ~known & (prev_known >= 0) & (next_known < n)
    in_gap[in_gap] &= (trip_of_row[prev_known[in_gap]] == trip_of_row[in_gap]) & (
        trip_of_row[next_known[in_gap]] == trip_of_row[in_gap]
    )
    gap_rows = np.flatnonzero(in_gap)
    if gap_rows.size == 0:
        return
    before, after = prev_known[gap_rows], next_known[gap_rows]
    # distances only for the trips with gaps: whole trips, so each one's first row starts at 0
    has_gap = np.zeros(int(trip_of_row[-1]) + 1, dtype=bool)
    has_gap[trip_of_row[gap_rows]] = True
    rows = np.flatnonzero(has_gap[trip_of_row])
    along = np.zeros(n)
    unmeasured = np.zeros(n, dtype=np.int64)
    along[rows], unmeasured[rows] = _distance_along(
        trip_of_row[rows], stop[rows], stop_lat, stop_lon, shape_dist[rows]
    )
    run = along[after] - along[before]
    measured = (run > 0) & (unmeasured[after] == unmeasured[before])
    by_distance = (along[gap_rows] - along[before]) / np.where(measured, run, 1.0)
    share = np.where(measured, by_distance, (gap_rows - before) / (after - before))
    times = np.round(dep[before] + (arr[after] - dep[before]) * share).astype(np.int64)
    arr[gap_rows] = times
    dep[gap_rows] = times


def _distance_along(
    trip: np.ndarray, stop: np.ndarray, stop_lat: np.ndarray, stop_lon: np.ndarray, shape_dist: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance travelled at each row of whole trips (sorted), and how many hops so far had none.

    A trip measures with its ``shape_dist_traveled`` when every row has one, never decreasing and
    growing overall (units do not matter: only shares of a run are used); otherwise with the
    straight line between consecutive stops. A hop between stops without coordinates has no
    length: the count of such hops tells the caller which runs cannot be measured. Values run on
    across trips; only differences within a trip mean something. Trips repeat the same values and
    stop pairs, so each distinct one is parsed or measured once (millions of rows).
    """
    first = np.r_[True, trip[1:] != trip[:-1]]
    codes, texts = pd.factorize(shape_dist)
    parsed = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").to_numpy(float)
    given = np.append(parsed, np.nan)[codes]
    step = np.r_[0.0, np.diff(given)]
    step[first] = 0.0
    trip_starts = np.flatnonzero(first)
    unusable = np.logical_or.reduceat(~np.isfinite(given) | (step < 0), trip_starts)
    growth = np.add.reduceat(np.nan_to_num(step), trip_starts)
    use_given = np.repeat(~unusable & (growth > 0), np.diff(np.r_[trip_starts, trip.size]))
    hop = step.copy()
    straight = ~use_given & ~first
    pair = np.r_[stop[:1], stop[:-1]][straight].astype(np.int64) * stop_lat.size + stop[straight]
    pair_code, distinct = pd.factorize(pair)
    origin, destination = np.divmod(distinct, stop_lat.size)
    hop[straight] = haversine_m(
        stop_lat[origin], stop_lon[origin], stop_lat[destination], stop_lon[destination]
    )[pair_code]
    missing = ~np.isfinite(hop)
    return np.cumsum(np.where(missing, 0.0, hop)), np.cumsum(missing)


def haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle metres between points, element-wise (NaN where a coordinate is missing)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, a)))
