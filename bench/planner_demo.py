"""Planner figures on the generated demo region (27 feeds merged): compile, load, queries, realtime.

    .venv/bin/python bench/planner_demo.py [--region DIR] [--queries 100] [--no-write]

Generates the region (seed 1, scale 1, service from 2025-03-03) into a temporary folder unless
--region names one. Writes the "Journey planner — demo region" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner_report import write_section  # noqa: E402  (bench/ is on sys.path)
from feeds.realtime.model import ResolvedStopTimeUpdate, ResolvedTripUpdate  # noqa: E402
from journey_planner.compile import FeedSource, load_network  # noqa: E402
from journey_planner.core import Place, PlanRequest, plan  # noqa: E402
from journey_planner.realtime import apply_trip_updates  # noqa: E402
from journey_planner.snapshot import Snapshot  # noqa: E402

DAY = date(2025, 3, 4)
TZ = ZoneInfo("Europe/Paris")


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--region", type=Path)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        region = args.region
        gen_s = None
        if region is None:
            from oura.demo.generate import generate_region

            region = Path(tmp) / "region"
            started = time.perf_counter()
            generate_region(region, seed=1, scale=1.0, start_date=date(2025, 3, 3), fmt="zip")
            gen_s = time.perf_counter() - started
        sources = [FeedSource(p.stem, p) for p in sorted((region / "gtfs").iterdir()) if p.suffix == ".zip" or p.is_dir()]
        cache = Path(tmp) / "cache"
        rss0 = rss_mb()
        started = time.perf_counter()
        network = load_network(sources, cache_dir=cache)
        compile_s = time.perf_counter() - started
        rss_compiled = rss_mb()
        started = time.perf_counter()
        network = load_network(sources, cache_dir=cache)
        load_s = time.perf_counter() - started
    tt = network.timetable
    day = network.find_day(DAY)
    active = np.flatnonzero(tt.service_days[tt.trip_service, day] == 1)
    patterns = np.unique(tt.trip_pattern[active])
    stops = np.unique(np.concatenate([tt.pattern_stops[tt.pattern_stop_offsets[p]: tt.pattern_stop_offsets[p + 1]]
                                      for p in patterns]))
    rng = np.random.default_rng(42)
    t7 = int(datetime(2025, 3, 4, 7, 0, tzinfo=TZ).timestamp())
    queries = [(int(a), int(b), t7 + 60 * int(rng.integers(0, 12 * 60)))
               for a, b in (rng.choice(stops, 2, replace=False) for _ in range(args.queries))]
    plan(tt, PlanRequest(Place.of_stops([queries[0][0]]), Place.of_stops([queries[0][1]]), queries[0][2]))

    def run(window_s: int) -> tuple[list[float], int]:
        times, found = [], 0
        for a, b, t in queries:
            req = PlanRequest(Place.of_stops([a]), Place.of_stops([b]), t, window_s=window_s,
                              max_journeys=50 if window_s else 5)
            gc.disable()
            s = time.perf_counter()
            result = plan(tt, req)
            times.append((time.perf_counter() - s) * 1000)
            gc.enable()
            found += bool(result.journeys)
        return times, found

    single, found_single = run(0)
    ranged, found_range = run(2 * 3600)
    # realtime: 1,000 trips delayed (5% cancelled) that day
    base = tt.day_base_s[day]
    chosen = rng.choice(active, 1000, replace=False)
    updates = []
    for t in chosen.tolist():
        p = int(tt.trip_pattern[t])
        n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
        row0 = int(tt.pattern_stop_time_offsets[p]) + (t - int(tt.pattern_trip_offsets[p])) * n_s
        b = int(base[tt.pattern_tz[p]])
        delay = int(rng.integers(-60, 900))
        stus = tuple(
            ResolvedStopTimeUpdate(i, "", b + int(tt.stop_time_arrival[row0 + i]) + delay,
                                   b + int(tt.stop_time_departure[row0 + i]) + delay, delay, delay)
            for i in range(n_s)
        )
        updates.append(ResolvedTripUpdate("demo", str(network.trip_ids[t]), DAY.strftime("%Y%m%d"),
                                          bool(rng.random() < 0.05), False, stus))
    rt_times = []
    for _ in range(3):
        s = time.perf_counter()
        rt_network, overlay = apply_trip_updates(network, updates)
        rt_times.append(time.perf_counter() - s)
    # what a realtime rebuild adds before publishing: the realtime arrive-by view (the static one is reused)
    static_snapshot = Snapshot.prepared(network)
    view_times = []
    for _ in range(3):
        s = time.perf_counter()
        Snapshot.prepared(network, rt_network, overlay, previous=static_snapshot)
        view_times.append(time.perf_counter() - s)
    pct = lambda v, q: float(np.percentile(v, q))  # noqa: E731
    lines = [
        f"Command: `.venv/bin/python bench/planner_demo.py --queries {args.queries}` (one run).",
        "",
        f"Region: seed 1, scale 1, 27 feeds merged into one timetable: {tt.stop_count:,} stops, "
        f"{tt.pattern_count:,} patterns, {tt.trip_count:,} trips, {tt.stop_time_arrival.size:,} stop_times, "
        f"{tt.footpath_to.size:,} footpaths; {len(queries)} random stop pairs served on {DAY}, departures "
        "uniform 07:00-19:00, max 6 transfers, 120 s minimum change time."
        + (f" Region generated in {gen_s:.1f} s." if gen_s else ""),
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| compile from GTFS (27 zips, incl. hashing and writing the cache) | {compile_s:.1f} s | <= 30 s |",
        f"| load from cache | {load_s:.2f} s | |",
        f"| depart-at Pareto query, median / p95 | {statistics.median(single):.2f} / {pct(single, 95):.2f} ms "
        f"({found_single}/{len(queries)} with a journey) | <= 20 / <= 60 ms |",
        f"| 2-hour range query, median / p95 | {statistics.median(ranged):.1f} / {pct(ranged, 95):.1f} ms "
        f"({found_range}/{len(queries)} with a journey) | median <= 300 ms |",
        f"| apply 1,000 trip updates (new snapshot), best of 3 | {min(rt_times) * 1000:.0f} ms "
        f"({overlay.applied} applied) | <= 1 s |",
        f"| + its arrive-by view, built before the snapshot is published, best of 3 | {min(view_times) * 1000:.0f} ms | |",
        f"| memory: resident after compile / peak of the process | {rss_compiled:.0f} / {peak_mb():.0f} MiB "
        f"(start {rss0:.0f} MiB; timetable arrays {tt.nbytes() / 2**20:.0f} MiB) | <= 2 GiB |",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("Journey planner — demo region", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
