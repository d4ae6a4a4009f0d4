"""The static trip index: what realtime matching needs from one static feed.

`StaticTripIndex` is built once per static version (sync, CPU-bound: a few hundred ms for 400k
stop_times) and then shared read-only by every poll. Service days and the day origin come from
`feeds.gtfs.service_days`, the one interpretation of calendars and zones the planner and the
ticketing catalogue use too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from feeds.gtfs.reader import GtfsTables, parse_gtfs_times
from feeds.gtfs.service_days import (
    FeedTimezoneError,
    ServiceDays,
    get_zone,
    parse_gtfs_date,
    read_service_days,
    resolve_timezone,
    service_day_origin_s,
)

__all__ = ["Frequency", "StaticIndexError", "StaticTripIndex"]

_DAY_STARTS_MEMO_SIZE = 4096


class StaticIndexError(Exception):
    """The static feed lacks what realtime matching needs (trips, stop_times, a time zone)."""


@dataclass(frozen=True, slots=True)
class Frequency:
    """One frequencies.txt window of a trip, in seconds since the service day's noon minus 12h."""

    start_s: int
    end_s: int
    headway_s: int
    exact_times: bool


@dataclass(frozen=True, slots=True)
class _StopTimes:
    """Flat stop_times ordered by (trip index, stop_sequence), and each trip's first row."""

    offsets: np.ndarray
    stop_ids: np.ndarray
    sequences: np.ndarray
    arrivals_s: np.ndarray
    departures_s: np.ndarray


@dataclass(frozen=True)
class StaticTripIndex:
    """What realtime matching needs from one static feed. Ids here are the feed's original ids.

    Stop times are stored flat, ordered by (trip, stop_sequence); a trip's rows are
    ``stop_time_offsets[t]:stop_time_offsets[t + 1]``.
    """

    feed_id: str
    timezone: ZoneInfo
    trip_ids: tuple[str, ...]  # trip index -> trip_id
    trip_index: Mapping[str, int] = field(repr=False)  # trip_id -> trip index
    trip_route_ids: tuple[str, ...] = field(repr=False)  # trip index -> route_id
    trip_direction_ids: tuple[int | None, ...] = field(repr=False)  # trip index -> direction_id
    trip_service_ids: tuple[str, ...] = field(repr=False)  # trip index -> service_id
    stop_time_offsets: np.ndarray = field(repr=False)  # trip index -> first stop_time row (n+1)
    stop_time_stop_ids: np.ndarray = field(repr=False)  # stop_time row -> stop_id (object)
    stop_time_sequences: np.ndarray = field(repr=False)  # stop_time row -> stop_sequence (int64)
    stop_time_arrivals_s: np.ndarray = field(repr=False)  # stop_time row -> arrival (-1: none)
    stop_time_departures_s: np.ndarray = field(repr=False)  # stop_time row -> departure (-1: none)
    trips_by_start: Mapping[tuple[str, int | None, int], tuple[int, ...]] = field(repr=False)
    # (route_id, direction_id, first departure s) -> trip indices (frequency trips excluded)
    frequencies: Mapping[int, tuple[Frequency, ...]] = field(repr=False)  # trip index -> windows
    frequency_trips_by_route: Mapping[str, tuple[int, ...]] = field(repr=False)
    stop_ids: frozenset[str] = field(repr=False)
    route_ids: frozenset[str] = field(repr=False)
    service_days: ServiceDays = field(repr=False)  # calendar.txt + calendar_dates.txt
    # the static version indexed (the assembly gives its sha256; "" when it never changes): the
    # poller re-matches a payload it already applied once this changes
    version: str = ""
    # date -> service day origin (POSIX s); a memo filled on use, not part of the index's value
    _day_starts: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    # --- construction -----------------------------------------------------------------------

    @classmethod
    def from_gtfs(
        cls, feed_id: str, tables: GtfsTables, *, timezone: str | None = None, version: str = ""
    ) -> StaticTripIndex:
        """Build the index; ``timezone`` (the registry's zone) overrides agency.txt, as
        `feeds.gtfs.service_days.resolve_timezone` decides; ``version`` labels the static version."""
        try:
            zone = get_zone(resolve_timezone(tables, timezone))
        except FeedTimezoneError as error:
            raise StaticIndexError(f"{feed_id}: {error}") from error
        trips = tables.find("trips")
        stop_times = tables.find("stop_times")
        if trips is None or stop_times is None:
            raise StaticIndexError(f"{feed_id}: trips.txt and stop_times.txt are required")
        trip_ids = tuple(trips["trip_id"].str.strip().tolist()) if len(trips) else ()
        trip_index = {trip_id: i for i, trip_id in enumerate(trip_ids)}
        route_ids = _column(trips, "route_id")
        directions = tuple(
            int(value) if value in ("0", "1") else None for value in _column(trips, "direction_id")
        )
        flat = _flat_stop_times(stop_times, trip_index, len(trip_ids))
        frequencies = _frequencies(tables, trip_index)
        by_start, frequency_by_route = _trips_by_start(flat, route_ids, directions, frequencies)
        return cls(
            feed_id=feed_id,
            timezone=zone,
            trip_ids=trip_ids,
            trip_index=trip_index,
            trip_route_ids=route_ids,
            trip_direction_ids=directions,
            trip_service_ids=_column(trips, "service_id"),
            stop_time_offsets=flat.offsets,
            stop_time_stop_ids=flat.stop_ids,
            stop_time_sequences=flat.sequences,
            stop_time_arrivals_s=flat.arrivals_s,
            stop_time_departures_s=flat.departures_s,
            trips_by_start=by_start,
            frequencies=frequencies,
            frequency_trips_by_route=frequency_by_route,
            stop_ids=frozenset(_column(tables.find("stops"), "stop_id")) | frozenset(flat.stop_ids.tolist()),
            route_ids=frozenset(_column(tables.find("routes"), "route_id")) | frozenset(route_ids),
            service_days=read_service_days(tables),
            version=version,
        )

    # --- queries ----------------------------------------------------------------------------

    def find_trip(self, trip_id: str) -> int | None:
        return self.trip_index.get(trip_id)

    def is_service_active(self, service_id: str, date: str) -> bool:
        """Whether ``service_id`` runs on ``date`` (YYYYMMDD), per `feeds.gtfs.service_days`."""
        day = parse_gtfs_date(date)
        return day is not None and self.service_days.is_active(service_id, day)

    def get_service_day_start(self, date: str) -> int:
        """POSIX seconds of the service day's origin: noon minus 12 h in the feed time zone."""
        start = self._day_starts.get(date)
        if start is None:
            day = parse_gtfs_date(date)
            if day is None:
                raise ValueError(f"invalid service date {date!r}")
            start = service_day_origin_s(self.timezone, day)
            if len(self._day_starts) > _DAY_STARTS_MEMO_SIZE:
                self._day_starts.clear()
            self._day_starts[date] = start
        return start

    def list_trip_stop_times(self, trip: int) -> tuple[list[str], list[int], list[int], list[int]]:
        """(stop_ids, stop_sequences, arrivals_s, departures_s) of a trip, in stop order."""
        begin, end = int(self.stop_time_offsets[trip]), int(self.stop_time_offsets[trip + 1])
        return (
            self.stop_time_stop_ids[begin:end].tolist(),
            self.stop_time_sequences[begin:end].tolist(),
            self.stop_time_arrivals_s[begin:end].tolist(),
            self.stop_time_departures_s[begin:end].tolist(),
        )

    def find_first_departure_s(self, trip: int) -> int | None:
        begin, end = int(self.stop_time_offsets[trip]), int(self.stop_time_offsets[trip + 1])
        if begin == end:
            return None
        value = int(self.stop_time_departures_s[begin])
        return value if value >= 0 else None

    def find_last_arrival_s(self, trip: int) -> int | None:
        begin, end = int(self.stop_time_offsets[trip]), int(self.stop_time_offsets[trip + 1])
        if begin == end:
            return None
        value = int(self.stop_time_arrivals_s[end - 1])
        return value if value >= 0 else None

    def ns(self, original_id: str) -> str:
        """The namespaced id ``<feed_id>:<original id>``."""
        return f"{self.feed_id}:{original_id}"


# --- index construction helpers --------------------------------------------------------------


def _column(table: pd.DataFrame | None, name: str) -> tuple[str, ...]:
    if table is None or name not in table.columns:
        return () if table is None else ("",) * len(table)
    return tuple(table[name].str.strip().tolist())


def _flat_stop_times(stop_times: pd.DataFrame, trip_index: Mapping[str, int], trip_count: int) -> _StopTimes:
    """Stop times of known trips ordered by (trip index, stop_sequence); a missing arrival takes
    the departure and vice versa."""
    trip_of_row = stop_times["trip_id"].str.strip().map(trip_index)
    known = trip_of_row.notna().to_numpy()
    trips = trip_of_row.to_numpy()[known].astype(np.int64)
    sequences = pd.to_numeric(stop_times["stop_sequence"].str.strip(), errors="coerce").to_numpy()[known]
    sequences = np.nan_to_num(sequences, nan=-1).astype(np.int64)
    arrivals = parse_gtfs_times(stop_times["arrival_time"])[known]
    departures = parse_gtfs_times(stop_times["departure_time"])[known]
    arrivals = np.where(arrivals < 0, departures, arrivals)
    departures = np.where(departures < 0, arrivals, departures)
    stops = stop_times["stop_id"].str.strip().to_numpy(dtype=object)[known]
    order = np.lexsort((sequences, trips))
    offsets = np.searchsorted(trips[order], np.arange(trip_count + 1)).astype(np.int64)
    return _StopTimes(
        offsets=offsets,
        stop_ids=stops[order],
        sequences=sequences[order],
        arrivals_s=arrivals[order].astype(np.int32),
        departures_s=departures[order].astype(np.int32),
    )


def _trips_by_start(
    flat: _StopTimes,
    route_ids: tuple[str, ...],
    directions: tuple[int | None, ...],
    frequencies: Mapping[int, tuple[Frequency, ...]],
) -> tuple[dict[tuple[str, int | None, int], tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """(route_id, direction_id, first departure) -> scheduled trips, and route -> frequency trips."""
    by_start: dict[tuple[str, int | None, int], list[int]] = defaultdict(list)
    frequency_by_route: dict[str, list[int]] = defaultdict(list)
    for trip in range(len(route_ids)):
        if trip in frequencies:
            frequency_by_route[route_ids[trip]].append(trip)
            continue
        begin, end = flat.offsets[trip], flat.offsets[trip + 1]
        if begin == end:
            continue
        first = int(flat.departures_s[begin])
        if first >= 0:
            by_start[(route_ids[trip], directions[trip], first)].append(trip)
    return (
        {key: tuple(trips) for key, trips in by_start.items()},
        {route: tuple(trips) for route, trips in frequency_by_route.items()},
    )


def _frequency_start(window: Frequency) -> int:
    return window.start_s


def _frequencies(tables: GtfsTables, trip_index: Mapping[str, int]) -> dict[int, tuple[Frequency, ...]]:
    table = tables.find("frequencies")
    if table is None or not len(table):
        return {}
    starts = parse_gtfs_times(table["start_time"])
    ends = parse_gtfs_times(table["end_time"])
    headways = pd.to_numeric(table["headway_secs"].str.strip(), errors="coerce").fillna(0)
    exact = _column(table, "exact_times")
    windows: dict[int, list[Frequency]] = defaultdict(list)
    for row, trip_id in enumerate(table["trip_id"].str.strip().tolist()):
        trip = trip_index.get(trip_id)
        headway = int(headways.iloc[row])
        if trip is None or starts[row] < 0 or ends[row] < 0 or headway <= 0:
            continue
        windows[trip].append(Frequency(int(starts[row]), int(ends[row]), headway, exact[row] == "1"))
    return {trip: tuple(sorted(ws, key=_frequency_start)) for trip, ws in windows.items()}


def local_date(zone: ZoneInfo, posix_s: int) -> dt.date:
    """The calendar date of an instant in ``zone``."""
    return dt.datetime.fromtimestamp(posix_s, tz=zone).date()
