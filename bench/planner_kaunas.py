"""Planner speed on Kaunas 2018: OùRA vs pynigiri (C++ nigiri, MOTIS) vs pyraptor (pure Python).

Same 100 random stop pairs, departures uniform in 07:00-19:00 on 2018-06-07, one run. Writes the
"Journey planner" section of docs/benchmarks.md (other sections are kept).

    .venv/bin/python bench/planner_kaunas.py [--queries 100] [--pyraptor-queries 100] [--no-write]

Benchmark-only packages: ``pip install -e '.[bench]'`` (pynigiri, pyraptor; pyraptor pins
pandas<2, so it is installed with --no-deps and fed its own model objects by this script).
"""

from __future__ import annotations

import argparse
import gc
import os
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
from journey_planner.core import Place, PlanRequest, plan, reverse_timetable  # noqa: E402
from journey_planner.realtime import apply_trip_updates  # noqa: E402

FEED = ROOT.parent / "shared" / "data" / "kaunas-2018" / "kaunas.zip"
DAY = date(2018, 6, 7)
TZ = ZoneInfo("Europe/Vilnius")
SLACK_S = 120


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def make_queries(network, n: int, seed: int = 42) -> list[tuple[int, int, int]]:
    tt = network.timetable
    day = network.find_day(DAY)
    active_trips = np.flatnonzero(tt.service_days[tt.trip_service, day] == 1)
    active_patterns = np.unique(tt.trip_pattern[active_trips])
    stops = np.unique(np.concatenate([
        tt.pattern_stops[tt.pattern_stop_offsets[p]: tt.pattern_stop_offsets[p + 1]] for p in active_patterns
    ]))
    rng = np.random.default_rng(seed)
    t7 = int(datetime(2018, 6, 7, 7, 0, tzinfo=TZ).timestamp())
    out = []
    for _ in range(n):
        a, b = rng.choice(stops, 2, replace=False)
        out.append((int(a), int(b), t7 + 60 * int(rng.integers(0, 12 * 60))))  # whole minutes (nigiri)
    return out


def bench_ours(network, queries, window_s: int = 0) -> tuple[list[float], list[int | None]]:
    tt = network.timetable
    rev = reverse_timetable(tt)  # built once at publication, as snapshots do
    times, arrivals = [], []
    # warm-up: loads the numba kernels from their on-disk cache
    plan(tt, PlanRequest(Place.of_stops([queries[0][0]]), Place.of_stops([queries[0][1]]), queries[0][2]), rev)
    for a, b, t in queries:
        req = PlanRequest(Place.of_stops([a]), Place.of_stops([b]), t, transfer_slack_s=SLACK_S,
                          window_s=window_s, max_journeys=50 if window_s else 5)
        gc.disable()
        started = time.perf_counter()
        result = plan(tt, req, rev)
        times.append((time.perf_counter() - started) * 1000)
        gc.enable()
        arrivals.append(min((j.arrival_s for j in result.journeys), default=None))
    return times, arrivals


def bench_nigiri(network, queries) -> dict:
    try:
        import pynigiri as ng
    except ImportError as error:  # pragma: no cover - reported in the doc
        return {"error": f"pynigiri not importable: {error}"}
    started = time.perf_counter()
    config = ng.LoaderConfig()
    config.link_stop_distance = 400  # same linking radius as OùRA's compile
    config.default_tz = "Europe/Vilnius"
    tt = ng.load_timetable([ng.TimetableSource("kaunas", str(FEED), config)], "2018-06-06", "2018-06-09")
    load_s = time.perf_counter() - started
    times, arrivals, missing = [], [], 0
    for a, b, t in queries:
        la = tt.find_location(str(network.stop_ids[a]).split(":", 1)[1])
        lb = tt.find_location(str(network.stop_ids[b]).split(":", 1)[1])
        if la is None or lb is None:
            missing += 1
            times.append(float("nan"))
            arrivals.append(None)
            continue
        q = ng.Query()
        q.start_time = t // 60
        q.start = [ng.Offset(la, 0, 0)]
        q.destination = [ng.Offset(lb, 0, 0)]
        q.max_transfers = 6
        gc.disable()
        s = time.perf_counter()
        journeys = ng.route(tt, q)
        times.append((time.perf_counter() - s) * 1000)
        gc.enable()
        arrivals.append(min((j.arrival_time() * 60 for j in journeys), default=None))
    return {"times": times, "arrivals": arrivals, "load_s": load_s, "missing": missing}


def bench_pyraptor(network, queries, limit: int) -> dict:
    try:
        import pandas as pd
        from pyraptor.gtfs.timetable import GtfsTimetable, gtfs_to_pyraptor_timetable
        from pyraptor.model.raptor import RaptorAlgorithm, best_stop_at_target_station
    except Exception as error:  # pragma: no cover - reported in the doc
        return {"error": f"pyraptor not importable: {error!r}"}
    import logging

    from loguru import logger

    logger.remove()
    logging.disable(logging.WARNING)
    from feeds.gtfs.reader import parse_gtfs_times, read_gtfs

    started = time.perf_counter()
    tables = read_gtfs(FEED, only=["trips", "stop_times", "stops", "calendar", "calendar_dates"])
    tt = network.timetable
    day = network.find_day(DAY)
    trip_ids = {str(t).split(":", 1)[1] for t in network.trip_ids[tt.service_days[tt.trip_service, day] == 1]}
    trips = tables.get("trips")
    trips = trips[trips["trip_id"].isin(trip_ids)].assign(trip_short_name=0, trip_long_name="")
    st = tables.get("stop_times")
    st = st[st["trip_id"].isin(trip_ids)].copy()
    st["arrival_time"] = parse_gtfs_times(st["arrival_time"])
    st["departure_time"] = parse_gtfs_times(st["departure_time"])
    st["stop_sequence"] = st["stop_sequence"].astype(int)
    stops = tables.get("stops")
    # one pyraptor "station" per stop: pyraptor has no footpaths other than within a station
    stops = pd.DataFrame({"stop_id": stops["stop_id"], "stop_name": stops["stop_id"],
                          "parent_station": stops["stop_id"], "platform_code": "1"})
    gt = GtfsTimetable()
    gt.trips, gt.stop_times, gt.stops = trips, st, stops
    timetable = gtfs_to_pyraptor_timetable(gt)
    build_s = time.perf_counter() - started
    times, arrivals = [], []
    midnight = int(datetime(2018, 6, 7, 12, tzinfo=TZ).timestamp()) - 43200
    for a, b, t in queries[:limit]:
        sa = str(network.stop_ids[a]).split(":", 1)[1]
        sb = str(network.stop_ids[b]).split(":", 1)[1]
        s = time.perf_counter()
        raptor = RaptorAlgorithm(timetable)
        bags = raptor.run(timetable.stations.get(sa).stops, t - midnight, 7)
        dest = best_stop_at_target_station(timetable.stations.get_stops(sb), bags[7])
        times.append((time.perf_counter() - s) * 1000)
        label = bags[7].get(dest) if dest != 0 else None
        arrivals.append(midnight + label.earliest_arrival_time if label is not None else None)
    return {"times": times, "arrivals": arrivals, "load_s": build_s}


def bench_realtime(network, n_updates: int = 1000, seed: int = 7) -> tuple[float, int]:
    tt = network.timetable
    day = network.find_day(DAY)
    base = int(tt.day_base_s[day, 0])
    rng = np.random.default_rng(seed)
    active = np.flatnonzero(tt.service_days[tt.trip_service, day] == 1)
    chosen = rng.choice(active, n_updates, replace=False)
    updates = []
    for t in chosen.tolist():
        p = int(tt.trip_pattern[t])
        n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
        row0 = int(tt.pattern_stop_time_offsets[p]) + (t - int(tt.pattern_trip_offsets[p])) * n_s
        delay = int(rng.integers(-60, 900))
        first = int(rng.integers(0, n_s))
        stus = tuple(
            ResolvedStopTimeUpdate(i, str(network.stop_ids[tt.pattern_stops[tt.pattern_stop_offsets[p] + i]]),
                                   base + int(tt.stop_time_arrival[row0 + i]) + delay,
                                   base + int(tt.stop_time_departure[row0 + i]) + delay, delay, delay)
            for i in range(first, n_s)
        )
        updates.append(ResolvedTripUpdate("kaunas", str(network.trip_ids[t]), DAY.strftime("%Y%m%d"),
                                          bool(rng.random() < 0.05), False, stus))
    best = float("inf")
    for _ in range(3):
        s = time.perf_counter()
        _, overlay = apply_trip_updates(network, updates)
        best = min(best, time.perf_counter() - s)
    return best, overlay.applied


def _previous_row(prefix: str) -> str | None:
    """That table row of the current Kaunas section of docs/benchmarks.md, if any."""
    doc = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
    if not doc.exists():
        return None
    text = doc.read_text(encoding="utf-8")
    section = text.split("## Journey planner — Kaunas", 1)[-1].split("\n## ", 1)[0]
    return next((line for line in section.splitlines() if line.startswith(prefix)), None)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--pyraptor-queries", type=int, default=100)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rss0 = rss_mb()
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        network = load_network([FeedSource("kaunas", FEED)], cache_dir=Path(cache))
        load_gtfs_s = time.perf_counter() - started
        started = time.perf_counter()
        network = load_network([FeedSource("kaunas", FEED)], cache_dir=Path(cache))
        load_cache_s = time.perf_counter() - started
    rss_loaded = rss_mb()
    queries = make_queries(network, args.queries)
    ours, our_arr = bench_ours(network, queries)
    ours_range, _ = bench_ours(network, queries, window_s=2 * 3600)
    rt_s, rt_applied = bench_realtime(network)
    nig = bench_nigiri(network, queries)
    # pyraptor's timetable build takes minutes: --pyraptor-queries 0 skips it and keeps its last row
    pyr = bench_pyraptor(network, queries, args.pyraptor_queries) if args.pyraptor_queries > 0 else {"kept": True}
    tt = network.timetable
    rows = [
        ("OùRA (numba RAPTOR), Pareto (arrival, transfers)", ours, load_gtfs_s, None),
    ]
    lines = []
    lines.append(f"Command: `.venv/bin/python bench/planner_kaunas.py --queries {args.queries} "
                 f"--pyraptor-queries {args.pyraptor_queries}` (one run, same queries for all planners"
                 + ("; `--pyraptor-queries 0` keeps pyraptor's row from the previous run" if "kept" in pyr else "")
                 + ").")
    lines.append("")
    lines.append(f"Feed: kaunas-2018 ({tt.stop_count} stops, {tt.pattern_count} patterns, {tt.trip_count} trips, "
                 f"{tt.stop_time_arrival.size:,} stop_times, {tt.footpath_to.size} footpaths); "
                 f"{len(queries)} random stop pairs, departures uniform 07:00-19:00 on 2018-06-07; "
                 f"max 6 transfers, 120 s minimum change time.")
    lines.append("")
    lines.append("| planner | queries | median ms | p95 ms | load |")
    lines.append("|---|---|---|---|---|")
    lines.append(f"| OùRA depart-at, Pareto (arrival, transfers), latest departure each | {len(ours)} | {statistics.median(ours):.2f} | "
                 f"{pct(ours, 95):.2f} | GTFS {load_gtfs_s:.2f} s, cache {load_cache_s:.3f} s |")
    lines.append(f"| OùRA 2-hour range query | {len(ours_range)} | {statistics.median(ours_range):.2f} | "
                 f"{pct(ours_range, 95):.2f} | (same) |")
    agree = "n/a"
    if "error" in nig:
        lines.append(f"| pynigiri 0.1.5 | - | - | - | {nig['error']} |")
    else:
        t = [x for x in nig["times"] if x == x]
        lines.append(f"| pynigiri 0.1.5 (nigiri C++ RAPTOR) | {len(t)} | {statistics.median(t):.2f} | "
                     f"{pct(t, 95):.2f} | GTFS {nig['load_s']:.2f} s (4 days) |")
        both = [(o, n) for o, n in zip(our_arr, nig["arrivals"]) if o is not None and n is not None]
        same = sum(1 for o, n in both if abs(o - n) < 60)
        ours_earlier = sum(1 for o, n in both if o <= n - 60)
        agree = f"{same}/{len(both)} (OùRA earlier in {ours_earlier}, later in {len(both) - same - ours_earlier})"
    if "kept" in pyr:
        previous = _previous_row("| pyraptor")
        if previous:
            lines.append(previous.rstrip(" |") + ", not re-run in this run |"
                         if "not re-run" not in previous else previous)
    elif "error" in pyr:
        lines.append(f"| pyraptor 1.3.10 | - | - | - | {pyr['error']} |")
    else:
        lines.append(f"| pyraptor 1.3.10 (pure Python RAPTOR) | {len(pyr['times'])} | "
                     f"{statistics.median(pyr['times']):.2f} | {pct(pyr['times'], 95):.2f} | "
                     f"timetable build {pyr['load_s']:.2f} s (one day) |")
    lines.append("")
    lines.append(f"- Earliest arrivals equal to pynigiri's (within its 1-minute resolution): {agree} queries "
                 "answered by both (the planners generate footpaths differently, so some differ).")
    lines.append(f"- Applying 1,000 resolved trip updates (delays on random trips that day, 5% cancelled) "
                 f"to a new snapshot: {rt_s * 1000:.0f} ms ({rt_applied} applied).")
    lines.append(f"- Resident memory after loading: {rss_loaded:.0f} MiB (process start {rss0:.0f} MiB, "
                 f"timetable arrays {tt.nbytes() / 2**20:.1f} MiB).")
    lines.append("- Load from GTFS includes hashing the zip, reading and compiling it (footpath closure "
                 "with networkx) and writing the cache; load from cache reads one `.npz`.")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("Journey planner — Kaunas", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
