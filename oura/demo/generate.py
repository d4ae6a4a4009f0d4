"""Write the demo region to disk: one GTFS feed per network, the registry, the regional fares.

The generator is deterministic: the same (seed, scale, start date) gives byte-identical feeds.
Each feed draws from its own numpy Generator seeded with (seed, feed position), so feeds are
independent and can be written in parallel processes.

Memory stays flat with scale: a feed's stops, shapes and route plans are held (they grow with the
number of lines), but trips are generated route by route and their stop_times streamed straight
to the file; a zip is assembled from the written folder at the end.
"""

from __future__ import annotations

import csv
import functools
import json
import shutil
import time
import zipfile
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np

from oura.demo.fares import list_feed_fare_tables, list_regional_fare_tables
from oura.demo.intercity import list_feed_builders
from oura.demo.network import FeedPlan
from oura.demo.registry import write_registry
from oura.demo.service_calendar import SCHOOL_DAY, WEEKDAY, ServiceCalendar, build_calendar, get_service_start
from oura.demo.timetable import list_route_trips

__all__ = ["FeedSummary", "RegionSummary", "generate_region", "write_feed", "DEFAULT_REALTIME_BASE_URL"]

DEFAULT_REALTIME_BASE_URL = "http://127.0.0.1:8090"
_MAX_TIME_S = 48 * 3600


@dataclass(frozen=True, slots=True)
class FeedSummary:
    """Counts of one written feed; ``stop_times_weekday`` counts a school weekday's service."""

    network_id: str
    path: str  # relative to the output folder
    stops: int
    routes: int
    trips: int
    stop_times: int
    stop_times_weekday: int
    shape_points: int
    transfers: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class RegionSummary:
    out_dir: str
    registry: str
    seed: int
    scale: float
    service_start: date
    service_end: date
    typical_weekday: date | None
    feeds: tuple[FeedSummary, ...]
    elapsed_s: float

    @property
    def stops(self) -> int:
        return sum(f.stops for f in self.feeds)

    @property
    def trips(self) -> int:
        return sum(f.trips for f in self.feeds)

    @property
    def stop_times(self) -> int:
        return sum(f.stop_times for f in self.feeds)

    @property
    def stop_times_weekday(self) -> int:
        return sum(f.stop_times_weekday for f in self.feeds)

    def get_feed(self, network_id: str) -> FeedSummary:
        for feed in self.feeds:
            if feed.network_id == network_id:
                return feed
        raise KeyError(network_id)

    def to_json(self) -> dict:
        data = asdict(self)
        data.update(service_start=self.service_start.isoformat(), service_end=self.service_end.isoformat(),
                    typical_weekday=self.typical_weekday.isoformat() if self.typical_weekday else None,
                    stops=self.stops, trips=self.trips, stop_times=self.stop_times,
                    stop_times_weekday=self.stop_times_weekday)
        return data


@functools.cache
def _time_strings() -> list[str]:
    """GTFS time text of every second up to 48:00:00 (a constant table, built once per process)."""
    clock = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]
    return [f"{h:02d}:{ms}" for h in range(_MAX_TIME_S // 3600) for ms in clock]


def _write_csv(folder: Path, name: str, header: Iterable[str], rows: Iterable[Iterable]) -> None:
    with open(folder / name, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _gtfs_date(day: date) -> str:
    return day.strftime("%Y%m%d")


def _write_static_tables(folder: Path, plan: FeedPlan, calendar: ServiceCalendar, services: set[str],
                         feed_version: str) -> None:
    agency_id = plan.network_id
    _write_csv(folder, "agency.txt",
               ("agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"),
               [(agency_id, plan.agency_name, plan.agency_url, plan.timezone, "fr")])
    _write_csv(folder, "stops.txt",
               ("stop_id", "stop_name", "stop_lat", "stop_lon", "location_type", "parent_station",
                "wheelchair_boarding", "platform_code"),
               ((s.stop_id, s.stop_name, f"{s.lat:.6f}", f"{s.lon:.6f}", s.location_type, s.parent_station,
                 s.wheelchair_boarding, s.platform_code) for s in plan.stops))
    _write_csv(folder, "routes.txt",
               ("route_id", "agency_id", "route_short_name", "route_long_name", "route_type", "route_color",
                "route_text_color"),
               ((r.route_id, agency_id, r.short_name, r.long_name, r.route_type, r.color, r.text_color)
                for r in plan.routes))
    _write_csv(folder, "calendar.txt",
               ("service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                "start_date", "end_date"),
               ((sid, *days, _gtfs_date(a), _gtfs_date(b)) for sid, days, a, b in calendar.calendar_rows
                if sid in services))
    _write_csv(folder, "calendar_dates.txt", ("service_id", "date", "exception_type"),
               ((sid, _gtfs_date(d), e) for sid, d, e in calendar.calendar_dates_rows if sid in services))
    with open(folder / "shapes.txt", "w", encoding="utf-8", newline="") as handle:
        handle.write("shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence,shape_dist_traveled\n")
        for shape in plan.shapes:
            handle.write("".join(
                f"{shape.shape_id},{la:.6f},{lo:.6f},{k},{d:.3f}\n"
                for k, (la, lo, d) in enumerate(zip(shape.lat.tolist(), shape.lon.tolist(), shape.dist_km.tolist()))
            ))
    if plan.transfers:
        _write_csv(folder, "transfers.txt", ("from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time"),
                   ((t.from_stop_id, t.to_stop_id, t.transfer_type, t.min_transfer_time_s) for t in plan.transfers))
    _write_csv(folder, "feed_info.txt",
               ("feed_publisher_name", "feed_publisher_url", "feed_lang", "feed_start_date", "feed_end_date",
                "feed_version", "feed_contact_email"),
               [("OùRA demo generator", "https://oura.example/demo", "fr", _gtfs_date(calendar.start),
                 _gtfs_date(calendar.end), feed_version, "demo@oura.example")])
    for table in list_feed_fare_tables(plan):
        _write_csv(folder, table.name, table.header, table.rows)


def write_feed(
    index: int,
    out_dir: Path,
    *,
    seed: int,
    scale: float,
    service_start: date,
    days: int,
    fmt: str,
) -> FeedSummary:
    """Build and write the feed at position ``index`` of `list_feed_builders` (one process's work)."""
    network_id, builder = list_feed_builders(scale)[index]
    plan: FeedPlan = builder(np.random.default_rng([seed, index, 0]))
    trip_rng = np.random.default_rng([seed, index, 1])
    calendar = build_calendar(service_start, days)
    gtfs_dir = out_dir / "gtfs"
    gtfs_dir.mkdir(parents=True, exist_ok=True)
    folder = gtfs_dir / (network_id if fmt == "dir" else f".{network_id}.tmp")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    times = _time_strings()
    trips_count = stop_times_count = weekday_count = 0
    services: set[str] = set()
    suffix_cache: dict[str, list[str]] = {}
    with open(folder / "trips.txt", "w", encoding="utf-8", newline="") as trips_out, \
            open(folder / "stop_times.txt", "w", encoding="utf-8", newline="", buffering=1 << 20) as st_out:
        trips_out.write("route_id,service_id,trip_id,trip_headsign,direction_id,block_id,shape_id,"
                        "wheelchair_accessible\n")
        st_out.write("trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled\n")
        for route in plan.routes:
            trip_rows = []
            for trip in list_route_trips(route, trip_rng):
                pattern = trip.pattern
                suffixes = suffix_cache.get(pattern.key)
                if suffixes is None:
                    suffixes = [f",{sid},{k + 1},{d:.3f}\n"
                                for k, (sid, d) in enumerate(zip(pattern.stop_ids, pattern.stop_dist_km.tolist()))]
                    suffix_cache[pattern.key] = suffixes
                tid = trip.trip_id
                st_out.write("".join([
                    f"{tid},{times[a]},{times[d]}{s}"
                    for a, d, s in zip(trip.arrival_s.tolist(), trip.departure_s.tolist(), suffixes)
                ]))
                headsign = pattern.headsign.replace('"', "'")
                trip_rows.append(f'{route.route_id},{trip.service_id},{tid},"{headsign}",{pattern.direction_id},'
                                 f"{trip.block_id},{pattern.shape_id},{trip.wheelchair_accessible}\n")
                n = len(suffixes)
                trips_count += 1
                stop_times_count += n
                if trip.service_id in (WEEKDAY, SCHOOL_DAY):
                    weekday_count += n
                services.add(trip.service_id)
            trips_out.write("".join(trip_rows))
    feed_version = f"demo-{service_start:%Y%m%d}-seed{seed}-scale{scale:g}"
    _write_static_tables(folder, plan, calendar, services, feed_version)
    if fmt == "dir":
        relative = f"gtfs/{network_id}"
        size = sum(p.stat().st_size for p in folder.iterdir())
    else:
        target = gtfs_dir / f"{network_id}.zip"
        stamp = (service_start.year, service_start.month, service_start.day, 0, 0, 0)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as archive:
            for member in sorted(folder.iterdir()):
                # a fixed timestamp keeps archives byte-identical for the same inputs
                info = zipfile.ZipInfo(member.name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(member, "rb") as source, archive.open(info, "w") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
        shutil.rmtree(folder)
        relative = f"gtfs/{network_id}.zip"
        size = target.stat().st_size
    return FeedSummary(
        network_id=network_id,
        path=relative,
        stops=len(plan.stops),
        routes=len(plan.routes),
        trips=trips_count,
        stop_times=stop_times_count,
        stop_times_weekday=weekday_count,
        shape_points=sum(len(s.lat) for s in plan.shapes),
        transfers=len(plan.transfers),
        size_bytes=size,
    )


def _write_feed_job(args: tuple) -> FeedSummary:
    index, out_dir, kwargs = args
    return write_feed(index, out_dir, **kwargs)


def generate_region(
    out_dir: str | Path,
    *,
    seed: int = 1,
    scale: float = 1.0,
    start_date: date,
    fmt: str = "zip",
    days: int = 90,
    realtime_base_url: str | None = DEFAULT_REALTIME_BASE_URL,
    workers: int = 1,
) -> RegionSummary:
    """Generate the demo region into ``out_dir``.

    ``start_date`` is "today" for the caller: the service window starts on the Monday of its week
    and lasts ``days`` days. ``fmt`` is "zip" (one archive per network) or "dir" (one folder each).
    ``workers`` > 1 writes feeds in that many processes (the biggest feeds first).
    """
    if fmt not in ("zip", "dir"):
        raise ValueError(f"fmt must be 'zip' or 'dir', not {fmt!r}")
    if scale <= 0:
        raise ValueError("scale must be positive")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    service_start = get_service_start(start_date)
    builders = list_feed_builders(scale)
    kwargs = dict(seed=seed, scale=scale, service_start=service_start, days=days, fmt=fmt)
    jobs = [(i, out, kwargs) for i in range(len(builders))]
    if workers > 1:
        # biggest first (urban networks are listed last, Lyon first among them) for a better balance
        order = sorted(range(len(jobs)), key=lambda i: (i < 10, i))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = dict(zip(order, pool.map(_write_feed_job, [jobs[i] for i in order])))
        summaries = [results[i] for i in range(len(jobs))]
    else:
        summaries = [_write_feed_job(job) for job in jobs]
    fares_dir = out / "fares" / "regional"
    fares_dir.mkdir(parents=True, exist_ok=True)
    for table in list_regional_fare_tables():
        _write_csv(fares_dir, table.name, table.header, table.rows)
    registry = write_registry(
        out / "registry.toml",
        static_paths={s.network_id: s.path for s in summaries},
        realtime_base_url=realtime_base_url,
        regional_fares="fares/regional",
    )
    calendar = build_calendar(service_start, days)
    summary = RegionSummary(
        out_dir=str(out),
        registry=str(registry),
        seed=seed,
        scale=scale,
        service_start=calendar.start,
        service_end=calendar.end,
        typical_weekday=calendar.find_typical_school_day(),
        feeds=tuple(summaries),
        elapsed_s=round(time.perf_counter() - started, 2),
    )
    (out / "summary.json").write_text(json.dumps(summary.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")
    return summary
