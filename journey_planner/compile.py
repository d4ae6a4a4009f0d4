"""GTFS feeds -> one `Timetable` of flat arrays plus the id/name lookup tables (`Network`).

Decisions (the judgement calls, so that reviewers need not rediscover them):

- Ids are namespaced ``<feed>:<original id>`` so several feeds merge without collisions.
- Stops are the boarding points (location_type 0 or empty) and stations (1); entrances, generic
  nodes and boarding areas are not places the router needs.
- A pattern groups the trips of one route and one service with the same stop sequence, sorted by
  departure: a pattern then runs on a day or not as a whole, so a query skips the patterns idle
  on its days instead of stepping over their trips one by one. When
  trips of a pattern overtake each other (a later departure arriving earlier at some stop), the
  pattern is split greedily into FIFO sub-patterns, so the earliest-trip search stays a binary
  search and exact.
- frequencies.txt trips are expanded into one trip per start (exact_times 0 or 1 alike: the
  published headway is what a traveller plans with); stop_times give the template's run times.
- Missing intermediate times are interpolated by distance between the known times around them
  (as GTFS intends, and as OTP and MOTIS do): by the trip's shape_dist_traveled when all its
  rows have one and it never decreases, else by straight lines between the stops (a platform
  without coordinates takes its station's); by stop position only when the run has no length.
  Trips without a first or last time (GTFS-Flex windows) are left out.
- Services: calendar.txt weekdays within [start_date, end_date], then calendar_dates.txt adds
  (1) or removes (2) days. Days are global across feeds (DayIdx 0 = earliest service day).
- Walking transfers: `feeds.merge.find_stop_links` links stops within ``max_walk_s`` of straight
  walk, plus all platforms of one station whatever their distance; chains through such long
  station links are closed with networkx (up to the longest station link + max_walk_s), so
  one footpath is always enough. transfers.txt stop-to-stop rows win: type 3 removes the footpath (or forbids
  changing at that stop), type 2 sets min_transfer_time, type 1 makes the change 0 s.
- transfers.txt rows naming routes or trips (from/to_route_id, from/to_trip_id) become transfer
  rules checked when boarding (`Timetable.transfer_rule_*`): type 3 forbids that change, type 2
  sets its minimum time, types 1 and 4 (in-seat, approximated as a 0 s change that still counts
  as one) make it 0 s, types 0 and 5 keep the stop's change time but still override a less
  specific row. A rule reads the arrival label of the stop: when the earliest arrival there came
  with a forbidden trip, a later allowed arrival is not considered (the OTP trade-off). Rules
  between two stops apply to walking transfers that exist. Rows with unknown stops, routes or
  trips are counted in `CompileReport.transfers_ignored`.
- Cache: the compiled arrays go to one ``.npz`` per set of feeds, keyed by the feeds' content
  hashes and the compile options, so a restart loads without parsing GTFS.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import networkx as nx
import numpy as np
import pandas as pd

from feeds.gtfs.reader import GtfsTables, parse_gtfs_times, read_gtfs
from feeds.merge import find_stop_links

from .core.timetable import (
    NO_DROP_OFF,
    NO_PICKUP,
    SLACK_DEFAULT,
    SLACK_FORBIDDEN,
    Timetable,
    build_rule_index,
    build_stop_patterns,
)

__all__ = [
    "CompileOptions",
    "CompileReport",
    "FeedSource",
    "Network",
    "compile_network",
    "load_network",
    "feed_content_hash",
]

COMPILE_VERSION = "jp-compile-8"
GTFS_FILES = (
    "agency", "stops", "routes", "trips", "stop_times", "calendar", "calendar_dates",
    "frequencies", "transfers", "feed_info",
)


@dataclass(frozen=True)
class CompileOptions:
    link_distance_m: float = 400.0  # short links of the networkx graph (chains via station links)
    max_walk_s: int = 420  # stops this many seconds of straight walk apart are linked
    walk_speed_mps: float = 1.2


@dataclass(frozen=True)
class FeedSource:
    """One feed to compile: its namespace, where its GTFS lives, and how to read it.

    ``adapt`` (optional) rewrites the tables after reading: the feeds package's per-authority
    adapters, passed in by the assembly. ``adapter_name`` names it in the cache key, so a change
    of adapter recompiles.
    """

    feed_id: str
    path: Path
    adapt: Callable[[GtfsTables], GtfsTables] | None = None
    adapter_name: str = ""


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
    report: CompileReport = field(default_factory=CompileReport)
    _stop_index: dict[str, int] = field(default_factory=dict, repr=False)
    _trip_index: dict[str, list[int]] = field(default_factory=dict, repr=False)

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
        return Network(**values)


# --------------------------------------------------------------------------------------------
# hashing and cache


def feed_content_hash(path: Path) -> str:
    """sha256 of the feed's bytes (the zip, or the folder's files by name)."""
    digest = hashlib.sha256()
    if path.is_dir():
        for member in sorted(path.iterdir()):
            if member.is_file() and member.suffix == ".txt":
                digest.update(member.name.encode())
                digest.update(member.read_bytes())
    else:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:24]


def _cache_key(hashes: Sequence[str], feed_ids: Sequence[str], options: CompileOptions) -> str:
    text = json.dumps([COMPILE_VERSION, list(feed_ids), list(hashes), options.__dict__], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_STRING_FIELDS = (
    "stop_ids", "stop_names", "route_ids", "route_short_names", "route_long_names", "route_colors",
    "route_text_colors", "trip_ids", "trip_headsigns", "trip_shape_ids",
)
_INT_FIELDS = ("stop_feed", "stop_is_station", "route_types", "trip_routes")


def _save_cache(network: Network, path: Path) -> None:
    arrays: dict[str, np.ndarray] = {f"tt__{k}": v for k, v in network.timetable.arrays().items()}
    for name in _STRING_FIELDS:
        arrays[f"net__{name}"] = np.asarray(getattr(network, name), dtype=str)
    for name in _INT_FIELDS:
        arrays[f"net__{name}"] = getattr(network, name)
    meta = {
        "feed_ids": network.feed_ids, "feed_paths": network.feed_paths,
        "feed_hashes": network.feed_hashes, "timezones": network.timezones,
        "feed_tz": network.feed_tz, "first_day_ordinal": network.timetable.first_day_ordinal,
        "max_stop_time_s": network.timetable.max_stop_time_s,
        "report": {k: v for k, v in network.report.__dict__.items()},
    }
    arrays["meta"] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _load_cache(path: Path) -> Network:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        tt_fields = {k[4:]: data[k] for k in data.files if k.startswith("tt__")}
        net = {k[5:]: data[k] for k in data.files if k.startswith("net__")}
    timetable = Timetable(
        first_day_ordinal=int(meta["first_day_ordinal"]),
        max_stop_time_s=int(meta["max_stop_time_s"]),
        **tt_fields,
    )
    report = CompileReport(**{**meta["report"], "from_cache": True})
    return Network(
        timetable=timetable,
        feed_ids=tuple(meta["feed_ids"]),
        feed_paths=tuple(meta["feed_paths"]),
        feed_hashes=tuple(meta["feed_hashes"]),
        timezones=tuple(meta["timezones"]),
        feed_tz=tuple(meta["feed_tz"]),
        report=report,
        **{k: (v.astype(object) if k in _STRING_FIELDS else v) for k, v in net.items()},
    )


def load_network(
    sources: Sequence[FeedSource],
    *,
    cache_dir: Path | None = None,
    options: CompileOptions = CompileOptions(),
) -> Network:
    """The compiled network of these feeds, from the cache when it holds the same feed versions."""
    started = time.perf_counter()
    hashes = [feed_content_hash(Path(s.path)) for s in sources]
    cache_path = None
    if cache_dir is not None:
        key = _cache_key(hashes, [f"{s.feed_id}|{s.adapter_name}" if s.adapter_name else s.feed_id
                                  for s in sources], options)
        cache_path = Path(cache_dir) / f"timetable-{key}.npz"
        if cache_path.exists():
            try:
                return _load_cache(cache_path)
            except (OSError, ValueError, KeyError, TypeError):
                pass  # unreadable or from an older layout: compile again
    feeds = []
    for s in sources:
        tables = read_gtfs(s.path, only=GTFS_FILES)
        feeds.append((s.feed_id, s.adapt(tables) if s.adapt is not None else tables))
    network = compile_network(feeds, options=options, hashes=hashes, paths=[str(s.path) for s in sources])
    network = network.with_timetable(
        network.timetable,
        report=CompileReport(**{**network.report.__dict__, "seconds": time.perf_counter() - started}),
    )
    if cache_path is not None:
        _save_cache(network, cache_path)
    return network


# --------------------------------------------------------------------------------------------
# compile


def _col(table: pd.DataFrame | None, name: str, n: int | None = None, default: str = "") -> np.ndarray:
    if table is None:
        return np.full(n or 0, default, dtype=object)
    if name in table.columns:
        return table[name].to_numpy(dtype=object)
    return np.full(len(table), default, dtype=object)


def _ints(values: np.ndarray, default: int) -> np.ndarray:
    """Integer cells (surrounding spaces allowed); empty or malformed -> default."""
    out = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    return out.fillna(default).to_numpy(dtype=np.int64)


def _feed_timezone(tables: GtfsTables) -> str:
    agency = tables.find("agency")
    tz = _col(agency, "agency_timezone")
    for value in tz.tolist():
        if value and value.strip():
            try:
                ZoneInfo(value.strip())
                return value.strip()
            except (KeyError, ValueError):
                break
    return "UTC"


def _date_ordinals(values: np.ndarray) -> np.ndarray:
    parsed = pd.to_datetime(pd.Series(values, dtype=object).astype(str).str.strip(), format="%Y%m%d", errors="coerce")
    ordinals = np.full(len(values), -1, dtype=np.int64)
    ok = parsed.notna().to_numpy()
    if ok.any():
        days = (parsed[ok].to_numpy().astype("datetime64[D]").astype(np.int64))
        ordinals[ok] = days + date(1970, 1, 1).toordinal()
    return ordinals


@dataclass
class _FeedServices:
    ids: list[str]
    start: int  # ordinal of the first day with service
    end: int
    days: np.ndarray  # (service, day from start) uint8


def _services(tables: GtfsTables) -> _FeedServices:
    calendar = tables.find("calendar")
    dates = tables.find("calendar_dates")
    ids: dict[str, int] = {}
    spans: list[tuple[int, int]] = []
    if calendar is not None and len(calendar):
        cal_ids = _col(calendar, "service_id")
        starts = _date_ordinals(_col(calendar, "start_date"))
        ends = _date_ordinals(_col(calendar, "end_date"))
        for sid in cal_ids.tolist():
            ids.setdefault(sid, len(ids))
        spans += [(int(a), int(b)) for a, b in zip(starts, ends) if a > 0 and b >= a]
    if dates is not None and len(dates):
        d_ids = _col(dates, "service_id")
        d_ord = _date_ordinals(_col(dates, "date"))
        for sid in d_ids.tolist():
            ids.setdefault(sid, len(ids))
        valid = d_ord[d_ord > 0]
        if valid.size:
            spans.append((int(valid.min()), int(valid.max())))
    if not spans:
        return _FeedServices(list(ids), 0, -1, np.zeros((len(ids), 0), dtype=np.uint8))
    start = min(a for a, _ in spans)
    end = max(b for _, b in spans)
    n_days = end - start + 1
    days = np.zeros((len(ids), n_days), dtype=np.uint8)
    if calendar is not None and len(calendar):
        weekday_cols = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        flags = np.stack([_ints(_col(calendar, c), 0) == 1 for c in weekday_cols], axis=1)
        day_ordinals = np.arange(start, end + 1)
        weekday = (day_ordinals - 1) % 7  # date.fromordinal(1) is a Monday
        for row, sid in enumerate(_col(calendar, "service_id").tolist()):
            a, b = starts[row], ends[row]
            if a <= 0 or b < a:
                continue
            in_span = (day_ordinals >= a) & (day_ordinals <= b)
            days[ids[sid]] |= (in_span & flags[row, weekday]).astype(np.uint8)
    if dates is not None and len(dates):
        rows = [ids[s] for s in _col(dates, "service_id").tolist()]
        offs = d_ord - start
        kind = _ints(_col(dates, "exception_type"), 0)
        ok = d_ord > 0
        r = np.asarray(rows, dtype=np.int64)
        add = ok & (kind == 1)
        rem = ok & (kind == 2)
        days[r[add], offs[add]] = 1
        days[r[rem], offs[rem]] = 0
    return _FeedServices(list(ids), start, end, days)


def _day_bases(first_ordinal: int, n_days: int, timezones: Sequence[str]) -> np.ndarray:
    """(day, tz) -> POSIX seconds of local noon minus 12 h: the zero of GTFS times that day."""
    out = np.zeros((n_days, len(timezones)), dtype=np.int64)
    for z, name in enumerate(timezones):
        tz = ZoneInfo(name)
        for d in range(n_days):
            day = date.fromordinal(first_ordinal + d)
            noon = datetime(day.year, day.month, day.day, 12, tzinfo=tz)
            out[d, z] = int(noon.timestamp()) - 43200
    return out


@dataclass
class _FeedTrips:
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


def _stop_coordinates(stops: pd.DataFrame, stop_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of one feed's stops; a stop without them takes its parent station's
    (feeds list some platforms only under their station)."""
    lat = pd.to_numeric(pd.Series(_col(stops, "stop_lat")), errors="coerce").to_numpy(float, copy=True)
    lon = pd.to_numeric(pd.Series(_col(stops, "stop_lon")), errors="coerce").to_numpy(float, copy=True)
    parent_ids = _col(stops, "parent_station")
    parent = pd.Index(stop_ids).get_indexer(parent_ids)
    parent[parent_ids == ""] = -1
    for values in (lat, lon):
        missing = ~np.isfinite(values) & (parent >= 0)
        values[missing] = values[parent[missing]]
    return lat, lon


def _feed_trips(
    tables: GtfsTables,
    trip_ids: np.ndarray,
    stop_lookup: pd.Index,
    stop_offset: int,
    stop_lat: np.ndarray,
    stop_lon: np.ndarray,
) -> _FeedTrips:
    st = tables.find("stop_times")
    n_trips = len(trip_ids)
    empty = np.zeros(0, dtype=np.int64)
    if st is None or len(st) == 0 or n_trips == 0:
        return _FeedTrips(empty, empty, empty, empty, empty.astype(np.int32), empty.astype(np.int32),
                          empty.astype(np.uint8), empty.astype(np.int32), n_trips, 0)
    trip_index = pd.Index(trip_ids)
    t_code = trip_index.get_indexer(_col(st, "trip_id"))
    s_code = stop_lookup.get_indexer(_col(st, "stop_id"))
    seq = _ints(_col(st, "stop_sequence"), -1)
    arr = parse_gtfs_times(_col(st, "arrival_time")).astype(np.int64)
    dep = parse_gtfs_times(_col(st, "departure_time")).astype(np.int64)
    pickup = _ints(_col(st, "pickup_type"), 0)
    drop = _ints(_col(st, "drop_off_type"), 0)
    keep = (t_code >= 0) & (s_code >= 0)
    bad_trips = np.unique(t_code[(t_code >= 0) & (s_code < 0)])
    order = np.lexsort((seq[keep], t_code[keep]))
    idx = np.flatnonzero(keep)[order]
    t_code, s_code, arr, dep = t_code[idx], s_code[idx], arr[idx], dep[idx]
    flags = ((pickup[idx] == 1) * int(NO_PICKUP) | (drop[idx] == 1) * int(NO_DROP_OFF)).astype(np.uint8)
    arr = np.where(arr < 0, dep, arr)
    dep = np.where(dep < 0, arr, dep)
    n = t_code.size
    starts = np.flatnonzero(np.r_[True, t_code[1:] != t_code[:-1]]) if n else empty
    counts = np.diff(np.r_[starts, n]) if n else empty
    trip_of_row = np.repeat(np.arange(starts.size), counts)
    if not (arr >= 0).all():
        shape_dist = _col(st, "shape_dist_traveled")[idx]
        _interpolate_missing_times(arr, dep, trip_of_row, s_code, stop_lat, stop_lon, shape_dist)
    invalid_row = arr < 0
    trip_invalid = np.zeros(starts.size, dtype=bool)
    np.logical_or.at(trip_invalid, trip_of_row, invalid_row)
    trip_invalid |= counts < 2
    if bad_trips.size:
        trip_invalid |= np.isin(t_code[starts], bad_trips)
    # negative hop times make a trip unusable (and would break sorting); drop them
    if n > 1:
        same = trip_of_row[1:] == trip_of_row[:-1]
        back = same & ((arr[1:] < dep[:-1]) | (dep[:-1] < arr[:-1]))
        np.logical_or.at(trip_invalid, trip_of_row[1:][back], True)
    valid = ~trip_invalid
    row_start = starts[valid]
    row_count = counts[valid]
    trip_row = t_code[starts][valid]
    shift = np.zeros(row_start.size, dtype=np.int64)
    dropped = n_trips - int(valid.sum())
    # frequencies: replace each template by its instances
    freq = tables.find("frequencies")
    freq_trips = 0
    if freq is not None and len(freq):
        f_trip = trip_index.get_indexer(_col(freq, "trip_id"))
        f_start = parse_gtfs_times(_col(freq, "start_time")).astype(np.int64)
        f_end = parse_gtfs_times(_col(freq, "end_time")).astype(np.int64)
        f_head = _ints(_col(freq, "headway_secs"), 0)
        where = {int(t): i for i, t in enumerate(trip_row.tolist())}
        templates = set()
        new_start, new_count, new_shift, new_row = [], [], [], []
        for ft, fs, fe, fh in zip(f_trip.tolist(), f_start.tolist(), f_end.tolist(), f_head.tolist()):
            if ft < 0 or ft not in where or fh <= 0 or fs < 0 or fe <= fs:
                continue
            i = where[ft]
            templates.add(i)
            first_dep = int(dep[row_start[i]])
            instances = np.arange(fs, fe, fh, dtype=np.int64)
            new_start.append(np.full(instances.size, row_start[i]))
            new_count.append(np.full(instances.size, row_count[i]))
            new_shift.append(instances - first_dep)
            new_row.append(np.full(instances.size, trip_row[i]))
        if templates:
            mask = np.ones(row_start.size, dtype=bool)
            mask[list(templates)] = False
            row_start = np.concatenate([row_start[mask], *new_start])
            row_count = np.concatenate([row_count[mask], *new_count])
            shift = np.concatenate([shift[mask], *new_shift])
            trip_row = np.concatenate([trip_row[mask], *new_row])
            freq_trips = int(sum(x.size for x in new_start))
    return _FeedTrips(
        row_start.astype(np.int64), row_count.astype(np.int64), shift, trip_row.astype(np.int64),
        arr.astype(np.int32), dep.astype(np.int32), flags, (s_code + stop_offset).astype(np.int32),
        dropped, freq_trips,
    )


def _interpolate_missing_times(
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
    pos = np.arange(n)
    prev_known = np.maximum.accumulate(np.where(known, pos, -1))
    next_known = np.minimum.accumulate(np.where(known, pos, n)[::-1])[::-1]
    ok_gap = ~known & (prev_known >= 0) & (next_known < n)
    ok_gap[ok_gap] &= (trip_of_row[prev_known[ok_gap]] == trip_of_row[ok_gap]) & (
        trip_of_row[next_known[ok_gap]] == trip_of_row[ok_gap]
    )
    g = np.flatnonzero(ok_gap)
    if g.size == 0:
        return
    a, b = prev_known[g], next_known[g]
    # distances only for the trips with gaps: whole trips, so each one's first row starts at 0
    has_gap = np.zeros(int(trip_of_row[-1]) + 1, dtype=bool)
    has_gap[trip_of_row[g]] = True
    rows = np.flatnonzero(has_gap[trip_of_row])
    along = np.zeros(n)
    unmeasured = np.zeros(n, dtype=np.int64)
    along[rows], unmeasured[rows] = _distance_along(
        trip_of_row[rows], stop[rows], stop_lat, stop_lon, shape_dist[rows]
    )
    run = along[b] - along[a]
    measured = (run > 0) & (unmeasured[b] == unmeasured[a])
    by_distance = (along[g] - along[a]) / np.where(measured, run, 1.0)
    frac = np.where(measured, by_distance, (g - a) / (b - a))
    interp = np.round(dep[a] + (arr[b] - dep[a]) * frac).astype(np.int64)
    arr[g] = interp
    dep[g] = interp


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
    given = np.append(pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").to_numpy(float), np.nan)[codes]
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
    frm, to = np.divmod(distinct, stop_lat.size)
    hop[straight] = _haversine_m(stop_lat[frm], stop_lon[frm], stop_lat[to], stop_lon[to])[pair_code]
    missing = ~np.isfinite(hop)
    return np.cumsum(np.where(missing, 0.0, hop)), np.cumsum(missing)


def _fifo_split(arr: np.ndarray, dep: np.ndarray) -> np.ndarray:
    """Sub-pattern of each trip (rows sorted by departure) so that no sub-pattern overtakes."""
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


def compile_network(
    feeds: Sequence[tuple[str, GtfsTables]],
    *,
    options: CompileOptions = CompileOptions(),
    hashes: Sequence[str] | None = None,
    paths: Sequence[str] | None = None,
) -> Network:
    """Merge and compile several feeds (each with its namespace) into one network."""
    started = time.perf_counter()
    timezones: list[str] = []
    feed_tz: list[int] = []
    stop_ids, stop_names, stop_lat, stop_lon, stop_feed = [], [], [], [], []
    stop_parent_ids, stop_station, stop_wc = [], [], []
    route_cols: dict[str, list[np.ndarray]] = {k: [] for k in ("id", "short", "long", "type", "color", "text")}
    services: list[_FeedServices] = []
    feed_trip_tables = []
    stop_offset = 0
    route_offset = 0
    for f, (feed_id, tables) in enumerate(feeds):
        tz = _feed_timezone(tables)
        if tz not in timezones:
            timezones.append(tz)
        feed_tz.append(timezones.index(tz))
        stops = tables.find("stops")
        if stops is None:
            stops = pd.DataFrame(columns=["stop_id"])
        loc = _ints(_col(stops, "location_type"), 0)
        stops = stops[(loc == 0) | (loc == 1)]
        loc = _ints(_col(stops, "location_type"), 0)
        sid = _col(stops, "stop_id")
        ns = lambda values: np.array([f"{feed_id}:{v}" if v else "" for v in values], dtype=object)  # noqa: E731
        stop_ids.append(ns(sid))
        stop_names.append(_col(stops, "stop_name"))
        lat_f, lon_f = _stop_coordinates(stops, sid)
        stop_lat.append(lat_f)
        stop_lon.append(lon_f)
        stop_feed.append(np.full(len(sid), f, dtype=np.int16))
        stop_parent_ids.append(ns(_col(stops, "parent_station")))
        stop_station.append((loc == 1).astype(np.uint8))
        stop_wc.append(_ints(_col(stops, "wheelchair_boarding"), 0))
        routes = tables.find("routes")
        rid = _col(routes, "route_id")
        route_cols["id"].append(ns(rid))
        route_cols["short"].append(_col(routes, "route_short_name"))
        route_cols["long"].append(_col(routes, "route_long_name"))
        route_cols["type"].append(_ints(_col(routes, "route_type"), 3))
        route_cols["color"].append(_col(routes, "route_color"))
        route_cols["text"].append(_col(routes, "route_text_color"))
        services.append(_services(tables))
        stop_lookup = pd.Index(sid)
        trips = tables.find("trips")
        trip_ids = _col(trips, "trip_id")
        ft = _feed_trips(tables, trip_ids, stop_lookup, stop_offset, lat_f, lon_f)
        feed_trip_tables.append((feed_id, f, tables, trips, ft, route_offset, pd.Index(rid)))
        stop_offset += len(sid)
        route_offset += len(rid)

    # ---- stops ----
    all_stop_ids = np.concatenate(stop_ids) if stop_ids else np.zeros(0, dtype=object)
    n_stops = all_stop_ids.size
    lat = np.concatenate(stop_lat) if stop_lat else np.zeros(0)
    lon = np.concatenate(stop_lon) if stop_lon else np.zeros(0)
    parent_ids = np.concatenate(stop_parent_ids) if stop_parent_ids else np.zeros(0, dtype=object)
    stop_index = pd.Index(all_stop_ids)
    parent = stop_index.get_indexer(parent_ids).astype(np.int32)
    parent[parent_ids == ""] = -1
    wc = np.concatenate(stop_wc) if stop_wc else np.zeros(0, dtype=np.int64)
    inherit = (wc == 0) & (parent >= 0)
    wc = wc.copy()
    wc[inherit] = wc[parent[inherit]]
    is_station = np.concatenate(stop_station) if stop_station else np.zeros(0, dtype=np.uint8)

    # ---- services on a global day axis ----
    spans = [(s.start, s.end) for s in services if s.end >= s.start]
    if spans:
        first = min(a for a, _ in spans)
        last = max(b for _, b in spans)
    else:
        first = last = date(2000, 1, 1).toordinal()
    n_days = last - first + 1
    service_blocks = []
    service_offset = []
    total = 0
    for s in services:
        block = np.zeros((len(s.ids), n_days), dtype=np.uint8)
        if s.end >= s.start:
            block[:, s.start - first: s.end - first + 1] = s.days
        service_blocks.append(block)
        service_offset.append(total)
        total += len(s.ids)
    service_days = np.concatenate(service_blocks) if service_blocks else np.zeros((0, n_days), np.uint8)

    # ---- trips and patterns ----
    all_trip_service, all_trip_route, all_trip_wc, all_trip_ids, all_headsigns, all_shapes = [], [], [], [], [], []
    seg_start, seg_count, seg_shift, seg_feed = [], [], [], []
    feed_st: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    dropped = 0
    freq_trips = 0
    for feed_id, f, tables, trips, ft, r_off, route_lookup in feed_trip_tables:
        dropped += ft.dropped
        freq_trips += ft.frequency_trips
        s_lookup = {sid: i for i, sid in enumerate(services[f].ids)}
        svc = np.array([s_lookup.get(v, -1) for v in _col(trips, "service_id").tolist()], dtype=np.int64)
        rte = route_lookup.get_indexer(_col(trips, "route_id"))
        rows = ft.trip_row
        ok = (svc[rows] >= 0) & (rte[rows] >= 0)
        dropped += int((~ok).sum())
        rows = rows[ok]
        all_trip_service.append(svc[rows] + service_offset[f])
        all_trip_route.append(rte[rows] + r_off)
        all_trip_wc.append((_ints(_col(trips, "wheelchair_accessible"), 0)[rows] == 1).astype(np.uint8))
        tid = _col(trips, "trip_id")[rows]
        all_trip_ids.append(np.array([f"{feed_id}:{v}" for v in tid], dtype=object))
        all_headsigns.append(_col(trips, "trip_headsign")[rows])
        shp = _col(trips, "shape_id")[rows]
        all_shapes.append(np.array([f"{feed_id}:{v}" if v else "" for v in shp], dtype=object))
        seg_start.append(ft.row_start[ok])
        seg_count.append(ft.row_count[ok])
        seg_shift.append(ft.shift[ok])
        seg_feed.append(np.full(int(ok.sum()), f, dtype=np.int64))
        feed_st.append((ft.arr, ft.dep, ft.flags, ft.stop))
    # one global stop_times store: concatenate the feeds' sorted rows
    st_offsets = np.cumsum([0] + [a.size for a, _, _, _ in feed_st])
    g_arr = np.concatenate([a for a, _, _, _ in feed_st]) if feed_st else np.zeros(0, np.int32)
    g_dep = np.concatenate([d for _, d, _, _ in feed_st]) if feed_st else np.zeros(0, np.int32)
    g_flags = np.concatenate([x for _, _, x, _ in feed_st]) if feed_st else np.zeros(0, np.uint8)
    g_stop = np.concatenate([s for _, _, _, s in feed_st]) if feed_st else np.zeros(0, np.int32)
    cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)  # noqa: E731
    t_start = cat(seg_start, np.int64) + st_offsets[cat(seg_feed, np.int64)] if seg_start else np.zeros(0, np.int64)
    t_count = cat(seg_count, np.int64)
    t_shift = cat(seg_shift, np.int64)
    t_service = cat(all_trip_service, np.int32)
    t_route = cat(all_trip_route, np.int32)
    t_wc = cat(all_trip_wc, np.uint8)
    t_ids = np.concatenate(all_trip_ids) if all_trip_ids else np.zeros(0, dtype=object)
    t_heads = np.concatenate(all_headsigns) if all_headsigns else np.zeros(0, dtype=object)
    t_shapes = np.concatenate(all_shapes) if all_shapes else np.zeros(0, dtype=object)
    n_trips = t_start.size
    # pattern key: route + stop sequence
    key_of: dict[bytes, int] = {}
    t_key = np.zeros(n_trips, dtype=np.int64)
    for i in range(n_trips):
        a = int(t_start[i])
        k = t_route[i].tobytes() + t_service[i].tobytes() + g_stop[a: a + int(t_count[i])].tobytes()
        t_key[i] = key_of.setdefault(k, len(key_of))
    first_dep = g_dep[t_start].astype(np.int64) + t_shift if n_trips else np.zeros(0, np.int64)
    last_arr = g_arr[t_start + t_count - 1].astype(np.int64) + t_shift if n_trips else np.zeros(0, np.int64)
    order = np.lexsort((last_arr, first_dep, t_key))
    # FIFO split per key
    t_group = np.zeros(n_trips, dtype=np.int64)
    key_sorted = t_key[order]
    bounds = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1], True]) if n_trips else np.zeros(1, np.int64)
    split_extra = 0
    for b0, b1 in zip(bounds[:-1], bounds[1:]):
        members = order[b0:b1]
        if members.size < 2:
            continue
        n_s = int(t_count[members[0]])
        rows = t_start[members][:, None] + np.arange(n_s)[None, :]
        sh = t_shift[members][:, None]
        group = _fifo_split(g_arr[rows] + sh, g_dep[rows] + sh)
        t_group[members] = group
        split_extra += int(group.max())
    # final pattern id = (key, group) in order
    pk = t_key * (int(t_group.max()) + 1 if n_trips else 1) + t_group
    order = np.lexsort((last_arr, first_dep, pk))
    pk_sorted = pk[order]
    new_pattern = np.r_[True, pk_sorted[1:] != pk_sorted[:-1]] if n_trips else np.zeros(0, bool)
    pattern_of_sorted = np.cumsum(new_pattern) - 1
    n_patterns = int(pattern_of_sorted[-1] + 1) if n_trips else 0
    trip_pattern = pattern_of_sorted.astype(np.int32)
    # trips renumbered in `order`
    t_start, t_count, t_shift = t_start[order], t_count[order], t_shift[order]
    t_service, t_route, t_wc = t_service[order], t_route[order], t_wc[order]
    t_ids, t_heads, t_shapes = t_ids[order], t_heads[order], t_shapes[order]
    pattern_first_trip = np.flatnonzero(new_pattern)
    pattern_trip_offsets = np.r_[pattern_first_trip, n_trips].astype(np.int64)
    pattern_n_stops = t_count[pattern_first_trip]
    pattern_stop_offsets = np.r_[0, np.cumsum(pattern_n_stops)].astype(np.int64)
    rep = t_start[pattern_first_trip]
    pattern_stops = g_stop[np.repeat(rep, pattern_n_stops) + (np.arange(int(pattern_n_stops.sum())) - np.repeat(pattern_stop_offsets[:-1], pattern_n_stops))]
    # stop_time rows: trips in order, each trip's rows contiguous
    total_rows = int(t_count.sum())
    row_trip = np.repeat(np.arange(n_trips), t_count)
    row_src = np.repeat(t_start, t_count) + (np.arange(total_rows) - np.repeat(np.r_[0, np.cumsum(t_count)][:-1], t_count))
    shift_rows = np.repeat(t_shift, t_count)
    stop_time_arrival = (g_arr[row_src] + shift_rows).astype(np.int32)
    stop_time_departure = (g_dep[row_src] + shift_rows).astype(np.int32)
    stop_time_flags = g_flags[row_src].astype(np.uint8)
    del row_trip
    trips_per_pattern = np.diff(pattern_trip_offsets)
    pattern_stop_time_offsets = np.r_[0, np.cumsum(trips_per_pattern * pattern_n_stops)].astype(np.int64)
    pattern_route = t_route[pattern_first_trip].astype(np.int32)
    route_feed_tz = []
    for f, (feed_id, tables) in enumerate(feeds):
        route_feed_tz.append(np.full(len(route_cols["id"][f]), feed_tz[f], dtype=np.int32))
    route_tz = np.concatenate(route_feed_tz) if route_feed_tz else np.zeros(0, np.int32)
    pattern_tz = route_tz[pattern_route] if n_patterns else np.zeros(0, np.int32)

    # ---- footpaths and change times ----
    slack = np.full(n_stops, SLACK_DEFAULT, dtype=np.int32)
    fp_from, fp_to, fp_dur, ignored = _footpaths(
        feeds, all_stop_ids, stop_index, lat, lon, parent, is_station, slack, options
    )
    rules, trip_rule_key, rules_ignored = _transfer_rules(
        feeds, stop_index, parent, is_station, pd.Index(np.concatenate(route_cols["id"]) if route_cols["id"] else []),
        t_ids, trip_pattern, pattern_stop_offsets, pattern_stops,
    )
    ignored += rules_ignored
    order_fp = np.lexsort((fp_to, fp_from))
    fp_from, fp_to, fp_dur = fp_from[order_fp], fp_to[order_fp], fp_dur[order_fp]
    footpath_offsets = np.zeros(n_stops + 1, dtype=np.int64)
    np.cumsum(np.bincount(fp_from, minlength=n_stops), out=footpath_offsets[1:])
    sp_off, sp_pat, sp_pos = build_stop_patterns(n_stops, pattern_stop_offsets, pattern_stops.astype(np.int32))

    timetable = Timetable(
        stop_lat=lat, stop_lon=lon, stop_parent=parent,
        stop_accessible=(wc == 1).astype(np.uint8), stop_transfer_slack_s=slack,
        pattern_stop_offsets=pattern_stop_offsets, pattern_stops=pattern_stops.astype(np.int32),
        pattern_trip_offsets=pattern_trip_offsets,
        pattern_stop_time_offsets=pattern_stop_time_offsets, pattern_route=pattern_route,
        pattern_tz=pattern_tz.astype(np.int32),
        stop_time_arrival=stop_time_arrival, stop_time_departure=stop_time_departure,
        stop_time_flags=stop_time_flags,
        trip_pattern=trip_pattern, trip_service=t_service, trip_accessible=t_wc,
        service_days=service_days, first_day_ordinal=first,
        day_base_s=_day_bases(first, n_days, timezones or ["UTC"]),
        stop_pattern_offsets=sp_off, stop_pattern_pattern=sp_pat, stop_pattern_pos=sp_pos,
        footpath_offsets=footpath_offsets, footpath_to=fp_to.astype(np.int32),
        footpath_duration_s=fp_dur.astype(np.int32),
        max_stop_time_s=int(max(stop_time_arrival.max(initial=0), stop_time_departure.max(initial=0))),
        trip_rule_key=trip_rule_key,
        **rules,
    )
    report = CompileReport(
        trips_dropped=dropped, frequency_trips=freq_trips, patterns_split=split_extra,
        transfers_ignored=ignored, transfer_rules=int(rules["transfer_rule_from_stop"].size),
        seconds=time.perf_counter() - started,
    )
    cat_obj = lambda xs: np.concatenate(xs) if xs else np.zeros(0, dtype=object)  # noqa: E731
    return Network(
        timetable=timetable,
        feed_ids=tuple(fid for fid, _ in feeds),
        feed_paths=tuple(paths or [t.source for _, t in feeds]),
        feed_hashes=tuple(hashes or ["" for _ in feeds]),
        timezones=tuple(timezones or ["UTC"]),
        feed_tz=tuple(feed_tz),
        stop_ids=all_stop_ids,
        stop_names=cat_obj(stop_names),
        stop_feed=np.concatenate(stop_feed) if stop_feed else np.zeros(0, np.int16),
        stop_is_station=is_station,
        route_ids=cat_obj(route_cols["id"]),
        route_short_names=cat_obj(route_cols["short"]),
        route_long_names=cat_obj(route_cols["long"]),
        route_types=np.concatenate(route_cols["type"]).astype(np.int32) if route_cols["type"] else np.zeros(0, np.int32),
        route_colors=cat_obj(route_cols["color"]),
        route_text_colors=cat_obj(route_cols["text"]),
        trip_ids=t_ids,
        trip_routes=t_route,
        trip_headsigns=t_heads,
        trip_shape_ids=t_shapes,
        report=report,
    )


def _footpaths(
    feeds: Sequence[tuple[str, GtfsTables]],
    stop_ids: np.ndarray,
    stop_index: pd.Index,
    lat: np.ndarray,
    lon: np.ndarray,
    parent: np.ndarray,
    is_station: np.ndarray,
    slack: np.ndarray,
    options: CompileOptions,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Closed walking links between boarding stops, with transfers.txt applied; fills ``slack``."""
    boarding = np.flatnonzero(is_station == 0)
    parents = np.array(
        [str(parent[i]) if parent[i] >= 0 else "" for i in boarding.tolist()], dtype=object
    )
    # Straight-line walks up to max_walk_s, plus every pair of platforms of one station.
    radius_m = options.max_walk_s * options.walk_speed_mps
    links = find_stop_links(
        stop_ids[boarding], lat[boarding], lon[boarding],
        max_distance_m=radius_m, walk_speed_mps=options.walk_speed_mps, parent_station=parents,
    )
    a = boarding[links.from_idx]
    b = boarding[links.to_idx]
    d = links.duration_s.astype(np.int64)
    pairs: dict[tuple[int, int], int] = {}
    direct = d <= options.max_walk_s
    pairs.update(zip(zip(a[direct].tolist(), b[direct].tolist()), d[direct].tolist()))
    # A station's platforms may be further apart than a walk we would take between two streets;
    # chains through such links are found with networkx, on the graph of short links plus those
    # long station links, from the stops within walking reach of a long link only (straight
    # lines obey the triangle inequality, so nothing else can gain from a chain).
    far = ~direct
    if far.any():
        short = links.distance_m <= options.link_distance_m
        graph = nx.DiGraph()
        graph.add_weighted_edges_from(zip(a[short | far].tolist(), b[short | far].tolist(), d[short | far].tolist()))
        ends = set(a[far].tolist()) | set(b[far].tolist())
        sources = ends | {x for x, y in zip(a[direct].tolist(), b[direct].tolist()) if y in ends}
        for source in sources:
            lengths = nx.single_source_dijkstra_path_length(graph, source, cutoff=options.max_walk_s + int(d[far].max()))
            for target, dist in lengths.items():
                if target != source:
                    key = (source, int(target))
                    if dist < pairs.get(key, 1 << 40):
                        pairs[key] = int(dist)
    ignored = 0
    for _, tables in feeds:
        transfers = tables.find("transfers")
        if transfers is None or len(transfers) == 0:
            continue
        feed_id = _
        frm = stop_index.get_indexer(np.array([f"{feed_id}:{v}" for v in _col(transfers, "from_stop_id")], dtype=object))
        to = stop_index.get_indexer(np.array([f"{feed_id}:{v}" for v in _col(transfers, "to_stop_id")], dtype=object))
        kind = _ints(_col(transfers, "transfer_type"), 0)
        mtt = _ints(_col(transfers, "min_transfer_time"), -1)
        scoped = np.zeros(len(transfers), dtype=bool)
        for column in ("from_trip_id", "to_trip_id", "from_route_id", "to_route_id"):
            scoped |= _col(transfers, column) != ""
        for i in range(len(transfers)):
            if scoped[i]:
                continue  # a rule, see _transfer_rules
            if frm[i] < 0 or to[i] < 0 or kind[i] > 3:
                ignored += 1
                continue
            for x in _platforms(int(frm[i]), parent, is_station):
                for y in _platforms(int(to[i]), parent, is_station):
                    if x == y:
                        if kind[i] == 3:
                            slack[x] = SLACK_FORBIDDEN
                        elif kind[i] == 1:
                            slack[x] = 0
                        elif kind[i] == 2 and mtt[i] >= 0:
                            slack[x] = int(mtt[i])
                        continue
                    if kind[i] == 3:
                        pairs.pop((x, y), None)
                    elif kind[i] == 2 and mtt[i] >= 0:
                        pairs[(x, y)] = int(mtt[i])
                    elif kind[i] == 1:
                        pairs[(x, y)] = int(mtt[i]) if mtt[i] >= 0 else pairs.get((x, y), 0)
                    elif (x, y) not in pairs:
                        dist = _distance_m(lat[x], lon[x], lat[y], lon[y])
                        pairs[(x, y)] = int(np.ceil(dist / options.walk_speed_mps)) if np.isfinite(dist) else 0
    if not pairs:
        e = np.zeros(0, dtype=np.int64)
        return e, e.copy(), e.copy(), ignored
    keys = np.array(list(pairs.keys()), dtype=np.int64)
    return keys[:, 0], keys[:, 1], np.array(list(pairs.values()), dtype=np.int64), ignored


def _transfer_rules(
    feeds: Sequence[tuple[str, GtfsTables]],
    stop_index: pd.Index,
    parent: np.ndarray,
    is_station: np.ndarray,
    route_index: pd.Index,
    trip_ids: np.ndarray,
    trip_pattern: np.ndarray,
    pattern_stop_offsets: np.ndarray,
    pattern_stops: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """transfers.txt rows naming routes or trips -> (transfer_rule_* arrays, trip_rule_key, ignored)."""
    trip_index: dict[str, int] = {}
    for i, t in enumerate(trip_ids.tolist()):
        trip_index.setdefault(t, i)  # first TripIdx of that id (frequency runs share it)
    keys: dict[str, int] = {}
    rows: list[tuple[int, int, int, int, int, int, int]] = []  # board, from, f_route, f_key, t_route, t_key, slack
    ignored = 0
    slack_of = {0: SLACK_DEFAULT, 1: 0, 2: None, 3: SLACK_FORBIDDEN, 4: 0, 5: SLACK_DEFAULT}
    for feed_id, tables in feeds:
        transfers = tables.find("transfers")
        if transfers is None or len(transfers) == 0:
            continue
        cols = {c: [v.strip() for v in _col(transfers, c).tolist()] for c in (
            "from_stop_id", "to_stop_id", "from_route_id", "to_route_id", "from_trip_id", "to_trip_id")}
        kind = _ints(_col(transfers, "transfer_type"), 0)
        mtt = _ints(_col(transfers, "min_transfer_time"), -1)
        ns = lambda v: f"{feed_id}:{v}"  # noqa: E731
        look = lambda index, c: index.get_indexer([ns(v) for v in cols[c]])  # noqa: E731
        f_routes, t_routes = look(route_index, "from_route_id"), look(route_index, "to_route_id")
        f_stops, t_stops = look(stop_index, "from_stop_id"), look(stop_index, "to_stop_id")
        for i in range(len(transfers)):
            fr, tr, ft, tt_ = (cols[c][i] for c in ("from_route_id", "to_route_id", "from_trip_id", "to_trip_id"))
            if not (fr or tr or ft or tt_):
                continue  # stop-level row, applied by _footpaths
            slack = slack_of.get(int(kind[i]), -99)
            if slack is None:
                slack = int(mtt[i]) if mtt[i] >= 0 else -99
            f_route = int(f_routes[i]) if fr else -1
            t_route = int(t_routes[i]) if tr else -1
            f_trip = trip_index.get(ns(ft), -2) if ft else -1
            t_trip = trip_index.get(ns(tt_), -2) if tt_ else -1
            frm = int(f_stops[i]) if cols["from_stop_id"][i] else -1
            to = int(t_stops[i]) if cols["to_stop_id"][i] else -1
            # in-seat rows may omit stops: the last stop of the trip left, the first of the next one
            if frm < 0 and not cols["from_stop_id"][i] and f_trip >= 0:
                frm = int(pattern_stops[pattern_stop_offsets[trip_pattern[f_trip] + 1] - 1])
            if to < 0 and not cols["to_stop_id"][i] and t_trip >= 0:
                to = int(pattern_stops[pattern_stop_offsets[trip_pattern[t_trip]]])
            if (slack == -99 or frm < 0 or to < 0 or (fr and f_route < 0) or (tr and t_route < 0)
                    or f_trip == -2 or t_trip == -2):
                ignored += 1
                continue
            f_key = keys.setdefault(ns(ft), len(keys)) if ft else -1
            t_key = keys.setdefault(ns(tt_), len(keys)) if tt_ else -1
            for x in _platforms(int(frm), parent, is_station):
                for y in _platforms(int(to), parent, is_station):
                    rows.append((y, x, f_route, f_key, t_route, t_key, slack))
    trip_rule_key = np.full(trip_ids.size, -1, dtype=np.int32)
    if keys:
        named = pd.Index(list(keys)).get_indexer(trip_ids)
        trip_rule_key[named >= 0] = named[named >= 0]
    table = np.array(rows, dtype=np.int64).reshape(-1, 7)
    rules = build_rule_index(parent.size, *(table[:, c] for c in range(7)))
    return rules, trip_rule_key, ignored


def _platforms(stop: int, parent: np.ndarray, is_station: np.ndarray) -> list[int]:
    if is_station[stop]:
        return np.flatnonzero(parent == stop).tolist()
    return [stop]


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(_haversine_m(lat1, lon1, lat2, lon2))


def _haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle metres between points, element-wise (NaN where a coordinate is missing)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.minimum(1.0, a)))


def date_range(first_ordinal: int, n_days: int) -> list[date]:
    return [date.fromordinal(first_ordinal + d) for d in range(n_days)]




