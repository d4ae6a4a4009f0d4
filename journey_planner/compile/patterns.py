"""Patterns: the trips of one route and one service with the same stop sequence, sorted by
departure, split into FIFO sub-patterns where trips overtake each other.

A pattern then runs on a day or not as a whole, so a query skips the patterns idle on its days
instead of stepping over their trips one by one. When trips of a pattern overtake each other (a
later departure arriving earlier at some stop), the pattern is split greedily into FIFO
sub-patterns, so the earliest-trip search stays a binary search and exact. `fifo_split` is also
what realtime uses when delays make trips overtake.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PatternLayout", "StopTimeStore", "TripRuns", "build_patterns", "fifo_split"]


def fifo_split(arr: np.ndarray, dep: np.ndarray) -> np.ndarray:
    """Sub-pattern of each trip (rows sorted by departure) so that no sub-pattern overtakes.

    ``arr`` and ``dep`` are (trip, stop) arrays of one pattern. Greedy: each trip joins the first
    sub-pattern whose last trip it never overtakes.
    """
    n = arr.shape[0]
    if n < 2 or (np.all(np.diff(arr, axis=0) >= 0) and np.all(np.diff(dep, axis=0) >= 0)):
        return np.zeros(n, dtype=np.int64)
    group = np.zeros(n, dtype=np.int64)
    last: list[int] = []
    for i in range(n):
        for g, j in enumerate(last):
            if np.all(arr[i] >= arr[j]) and np.all(dep[i] >= dep[j]):
                group[i] = g
                last[g] = i
                break
        else:
            group[i] = len(last)
            last.append(i)
    return group


@dataclass(frozen=True)
class StopTimeStore:
    """All feeds' sorted stop_times rows, concatenated (row ranges of `TripRuns` point here)."""

    arrival: np.ndarray
    departure: np.ndarray
    flags: np.ndarray
    stop: np.ndarray


@dataclass(frozen=True)
class TripRuns:
    """Trips as row ranges of a `StopTimeStore`, with the route and service each one runs."""

    row_start: np.ndarray  # trip -> first row (int64)
    row_count: np.ndarray  # trip -> number of stops (int64)
    shift_s: np.ndarray  # trip -> seconds added to the rows' times (frequencies; int64)
    route: np.ndarray  # trip -> RouteIdx (int32)
    service: np.ndarray  # trip -> service row (int32)


@dataclass(frozen=True)
class PatternLayout:
    """The pattern arrays of the timetable and the trip order they imply."""

    trip_order: np.ndarray  # new TripIdx -> trip of the input `TripRuns`
    trip_pattern: np.ndarray  # TripIdx -> PatternIdx (int32)
    pattern_trip_offsets: np.ndarray
    pattern_stop_offsets: np.ndarray
    pattern_stops: np.ndarray
    pattern_stop_time_offsets: np.ndarray
    pattern_route: np.ndarray
    stop_time_arrival: np.ndarray
    stop_time_departure: np.ndarray
    stop_time_flags: np.ndarray
    patterns_split: int  # extra patterns created to keep FIFO order

    @property
    def pattern_count(self) -> int:
        return int(self.pattern_trip_offsets.size - 1)


def _sequence_keys(trips: TripRuns, store: StopTimeStore) -> np.ndarray:
    """Trip -> key shared by the trips of one route and service with the same stop sequence."""
    key_of: dict[bytes, int] = {}
    keys = np.zeros(trips.row_start.size, dtype=np.int64)
    for i in range(trips.row_start.size):
        first = int(trips.row_start[i])
        stops = store.stop[first: first + int(trips.row_count[i])]
        key = trips.route[i].tobytes() + trips.service[i].tobytes() + stops.tobytes()
        keys[i] = key_of.setdefault(key, len(key_of))
    return keys


def _fifo_groups(
    trips: TripRuns, store: StopTimeStore, keys: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, int]:
    """Trip -> FIFO sub-pattern within its key, and how many extra patterns that makes."""
    n_trips = keys.size
    groups = np.zeros(n_trips, dtype=np.int64)
    keys_sorted = keys[order]
    if n_trips:
        bounds = np.flatnonzero(np.r_[True, keys_sorted[1:] != keys_sorted[:-1], True])
    else:
        bounds = np.zeros(1, np.int64)
    extra = 0
    for begin, end in zip(bounds[:-1], bounds[1:]):
        members = order[begin:end]
        if members.size < 2:
            continue
        n_stops = int(trips.row_count[members[0]])
        rows = trips.row_start[members][:, None] + np.arange(n_stops)[None, :]
        shift = trips.shift_s[members][:, None]
        group = fifo_split(store.arrival[rows] + shift, store.departure[rows] + shift)
        groups[members] = group
        extra += int(group.max())
    return groups, extra


def _ragged_positions(counts: np.ndarray) -> np.ndarray:
    """For each element of consecutive runs of these lengths, its position inside its run."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.r_[0, np.cumsum(counts)][:-1], counts)


def build_patterns(trips: TripRuns, store: StopTimeStore) -> PatternLayout:
    """Group trips into FIFO patterns, order them by pattern then departure, lay out stop_times."""
    n_trips = trips.row_start.size
    keys = _sequence_keys(trips, store)
    if n_trips:
        first_departure = store.departure[trips.row_start].astype(np.int64) + trips.shift_s
        last_arrival = store.arrival[trips.row_start + trips.row_count - 1].astype(np.int64) + trips.shift_s
    else:
        first_departure = last_arrival = np.zeros(0, np.int64)
    order = np.lexsort((last_arrival, first_departure, keys))
    groups, split_extra = _fifo_groups(trips, store, keys, order)
    pattern_key = keys * (int(groups.max()) + 1 if n_trips else 1) + groups
    order = np.lexsort((last_arrival, first_departure, pattern_key))
    key_sorted = pattern_key[order]
    new_pattern = np.r_[True, key_sorted[1:] != key_sorted[:-1]] if n_trips else np.zeros(0, bool)
    trip_pattern = (np.cumsum(new_pattern) - 1).astype(np.int32)
    row_start, row_count, shift_s = trips.row_start[order], trips.row_count[order], trips.shift_s[order]
    pattern_first_trip = np.flatnonzero(new_pattern)
    pattern_trip_offsets = np.r_[pattern_first_trip, n_trips].astype(np.int64)
    pattern_n_stops = row_count[pattern_first_trip]
    pattern_stop_offsets = np.r_[0, np.cumsum(pattern_n_stops)].astype(np.int64)
    first_rows = row_start[pattern_first_trip]
    pattern_stops = store.stop[np.repeat(first_rows, pattern_n_stops) + _ragged_positions(pattern_n_stops)]
    # stop_time rows: trips in order, each trip's rows contiguous
    source_rows = np.repeat(row_start, row_count) + _ragged_positions(row_count)
    shift_rows = np.repeat(shift_s, row_count)
    trips_per_pattern = np.diff(pattern_trip_offsets)
    return PatternLayout(
        trip_order=order,
        trip_pattern=trip_pattern,
        pattern_trip_offsets=pattern_trip_offsets,
        pattern_stop_offsets=pattern_stop_offsets,
        pattern_stops=pattern_stops.astype(np.int32),
        pattern_stop_time_offsets=np.r_[0, np.cumsum(trips_per_pattern * pattern_n_stops)].astype(np.int64),
        pattern_route=trips.route[order][pattern_first_trip].astype(np.int32),
        stop_time_arrival=(store.arrival[source_rows] + shift_rows).astype(np.int32),
        stop_time_departure=(store.departure[source_rows] + shift_rows).astype(np.int32),
        stop_time_flags=store.flags[source_rows].astype(np.uint8),
        patterns_split=split_extra,
    )
