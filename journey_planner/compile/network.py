"""The compiled network: the `Timetable` plus the lookup tables that give its indices names, and
the options and report of a compile.

Ids are namespaced ``<feed>:<original id>`` so several feeds merge without collisions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from feeds.gtfs.model import GtfsTables

from ..core.timetable import Timetable

__all__ = ["CompileOptions", "CompileReport", "FeedSource", "Network"]


@dataclass(frozen=True)
class CompileOptions:
    link_distance_m: float = 400.0  # the walks on either side of a far station link (chains via station links)
    max_walk_s: int = 420  # stops this many seconds of straight walk apart are linked
    walk_speed_mps: float = 1.2
    footpath_nearest: int = 16  # each stop's walks: its k nearest and each line's nearest within max_walk_s (0: every pair)


@dataclass(frozen=True)
class FeedSource:
    """One feed to compile: its namespace, where its GTFS lives, and how to read it.

    ``adapt`` (optional) rewrites the tables after reading: the feeds package's per-authority
    adapters, passed in by the assembly. ``adapter_name`` names it in the cache key, so a change
    of adapter recompiles. ``timezone``, the registry's zone, overrides the feed's agency_timezone.
    """

    feed_id: str
    path: Path
    adapt: Callable[[GtfsTables], GtfsTables] | None = None
    adapter_name: str = ""
    timezone: str = ""  # the registry's zone for the feed's network; "" reads agency_timezone


@dataclass(frozen=True)
class CompileReport:
    trips_dropped: int = 0  # no usable first/last time (flex) or unknown references
    frequency_trips: int = 0  # trips generated from frequencies.txt
    patterns_split: int = 0  # extra patterns created to keep FIFO order
    transfers_ignored: int = 0  # transfers.txt rows with unknown stops/routes/trips or types
    transfer_rules: int = 0  # rules kept from transfers.txt rows naming routes or trips (per platform pair)
    from_cache: bool = False
    seconds: float = 0.0


@dataclass(frozen=True, eq=False)
class Network:
    """The compiled timetable and the lookup tables that give its indices names.

    Index-aligned arrays: ``stop_*`` by StopIdx, ``route_*`` by RouteIdx, ``trip_*`` by TripIdx of
    `timetable` (frequency instances share the trip id of their template).
    """

    timetable: Timetable
    feed_ids: tuple[str, ...]
    feed_paths: tuple[str, ...]
    feed_hashes: tuple[str, ...]
    timezones: tuple[str, ...]  # tz index (pattern_tz, day_base_s column) -> IANA name
    feed_tz: tuple[int, ...]  # feed -> tz index
    stop_ids: np.ndarray  # StopIdx -> namespaced stop_id (str)
    stop_names: np.ndarray  # StopIdx -> stop_name
    stop_feed: np.ndarray  # StopIdx -> feed index (int16)
    stop_is_station: np.ndarray  # StopIdx -> 1 for location_type 1 (uint8)
    stop_platform_codes: np.ndarray  # StopIdx -> stops.txt platform_code ("A", "3"...) or ""
    route_ids: np.ndarray  # RouteIdx -> namespaced route_id
    route_short_names: np.ndarray
    route_long_names: np.ndarray
    route_types: np.ndarray  # RouteIdx -> route_type (int32, extended types kept)
    route_colors: np.ndarray  # RouteIdx -> "RRGGBB" or ""
    route_text_colors: np.ndarray
    trip_ids: np.ndarray  # TripIdx -> namespaced trip_id
    trip_routes: np.ndarray  # TripIdx -> RouteIdx (int32)
    trip_headsigns: np.ndarray
    trip_shape_ids: np.ndarray  # TripIdx -> namespaced shape_id or ""
    shape_ids: np.ndarray  # shape -> namespaced shape_id
    shape_point_offsets: np.ndarray  # shape -> first point in shape_lat/shape_lon, CSR (int64 [n+1])
    shape_lat: np.ndarray  # point -> latitude, in shape_pt_sequence order (float64)
    shape_lon: np.ndarray  # point -> longitude (float64)
    report: CompileReport = field(default_factory=CompileReport)
    _stop_index: dict[str, int] = field(default_factory=dict, repr=False)
    _trip_index: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _shape_index: dict[str, int] = field(default_factory=dict, repr=False)

    # --- lookups ---------------------------------------------------------------------------
    def find_stop(self, stop_id: str) -> int | None:
        if not self._stop_index:
            self._stop_index.update({s: i for i, s in enumerate(self.stop_ids.tolist())})
        return self._stop_index.get(stop_id)

    def list_trips(self, trip_id: str) -> list[int]:
        """Every TripIdx carrying that namespaced trip id (several for frequency trips)."""
        if not self._trip_index:
            index: dict[str, list[int]] = {}
            for i, t in enumerate(self.trip_ids.tolist()):
                index.setdefault(t, []).append(i)
            self._trip_index.update(index)
        return self._trip_index.get(trip_id, [])

    def find_shape(self, shape_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The (lat, lon) points of a namespaced shape_id, or None when the network has no such shape."""
        if not shape_id:
            return None
        if not self._shape_index and self.shape_ids.size:
            self._shape_index.update({s: i for i, s in enumerate(self.shape_ids.tolist())})
        shape = self._shape_index.get(shape_id)
        if shape is None:
            return None
        first, end = int(self.shape_point_offsets[shape]), int(self.shape_point_offsets[shape + 1])
        return self.shape_lat[first:end], self.shape_lon[first:end]

    def build_indexes(self) -> None:
        """Fill the id -> index dictionaries the lookups above build on first use (before a
        snapshot is published, so no request pays for them)."""
        self.find_stop("")
        self.list_trips("")
        if self.shape_ids.size:
            self.find_shape(str(self.shape_ids[0]))

    def list_station_stops(self, station: int) -> np.ndarray:
        """The boarding stops of a station (the stop itself when it is not a station)."""
        if not self.stop_is_station[station]:
            return np.array([station], dtype=np.int32)
        return np.flatnonzero(self.timetable.stop_parent == station).astype(np.int32)

    def date_of_day(self, day: int) -> date:
        return date.fromordinal(self.timetable.first_day_ordinal + int(day))

    def find_day(self, service_date: date) -> int | None:
        d = service_date.toordinal() - self.timetable.first_day_ordinal
        return d if 0 <= d < self.timetable.day_count else None

    def with_timetable(self, timetable: Timetable, **changes: object) -> Network:
        """A copy sharing the lookups, with another timetable (realtime snapshots)."""
        values = {f: getattr(self, f) for f in self.__dataclass_fields__ if not f.startswith("_")}
        values.update(timetable=timetable, **changes)
        if "stop_ids" not in changes:  # same stops, same shapes: the same id indexes (not the trips')
            values["_stop_index"] = self._stop_index
        if "shape_ids" not in changes:
            values["_shape_index"] = self._shape_index
        return Network(**values)
