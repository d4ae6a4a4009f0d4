"""Alert-to-routing delay on the generated demo region (issue 13: "a new alert or its end is
applied within one snapshot, <= 2 s after it is received").

    .venv/bin/python bench/alerts.py [--region DIR] [--alerts 50] [--updates 1000]

Generates the region (seed 1, scale 1, service from 2025-03-03) unless --region names one, serves
it through a `PlannerService` with the production coalescing (`oura.wiring.REALTIME_COALESCE_S`)
and a background of ``--updates`` trip updates, then, one after the other, closes a random served
stop with a NO_SERVICE alert (``on_alerts``: the feed's alert set grows by one each time) and
measures the time from the call to the publication of the snapshot that applies it; that every
such snapshot routes around the stop is checked (no departure boards there). Then the same through
``set_operator_disruptions`` (returns once published), and lifting the alerts one by one. Prints
p50 / p99 / max, and the cost of `apply_realtime` with and without one stop closure.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feeds.realtime.model import Alert, EntitySelector, ResolvedStopTimeUpdate, ResolvedTripUpdate  # noqa: E402
from journey_planner.compile import FeedSource, load_network  # noqa: E402
from journey_planner.core.timetable import NO_PICKUP  # noqa: E402
from journey_planner.realtime import apply_realtime  # noqa: E402
from journey_planner.service import PlannerService  # noqa: E402
from oura.clock import FixedClock  # noqa: E402
from oura.wiring import REALTIME_COALESCE_S  # noqa: E402

DAY = date(2025, 3, 4)
TZ = ZoneInfo("Europe/Paris")
NOW = datetime(2025, 3, 4, 8, 0, tzinfo=TZ)


def delays(network, rng: np.random.Generator, count: int) -> list[ResolvedTripUpdate]:
    """``count`` trips running that day, each delayed -1..15 min at every stop (5 % cancelled)."""
    tt = network.timetable
    day = network.find_day(DAY)
    active = np.flatnonzero(tt.service_days[tt.trip_service, day] == 1)
    updates = []
    for t in rng.choice(active, min(count, active.size), replace=False).tolist():
        p = int(tt.trip_pattern[t])
        n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
        row0 = int(tt.pattern_stop_time_offsets[p]) + (t - int(tt.pattern_trip_offsets[p])) * n_s
        b = int(tt.day_base_s[day, tt.pattern_tz[p]])
        d = int(rng.integers(-60, 900))
        stus = tuple(ResolvedStopTimeUpdate(i, "", b + int(tt.stop_time_arrival[row0 + i]) + d,
                                            b + int(tt.stop_time_departure[row0 + i]) + d, d, d) for i in range(n_s))
        updates.append(ResolvedTripUpdate("demo", str(network.trip_ids[t]), DAY.strftime("%Y%m%d"),
                                          bool(rng.random() < 0.05), False, stus))
    return updates


def served_stops(network) -> np.ndarray:
    """Stops some pattern boards at (not a last stop)."""
    tt = network.timetable
    boards = []
    for p in range(tt.pattern_count):
        boards.append(tt.pattern_stops[tt.pattern_stop_offsets[p]: tt.pattern_stop_offsets[p + 1] - 1])
    return np.unique(np.concatenate(boards))


def boards_at(snapshot, stop: int, t0: int, t1: int) -> int:
    """How many runs the realtime timetable lets one board at ``stop`` between t0 and t1."""
    net = snapshot.network(True)
    tt = net.timetable
    day = net.find_day(DAY)
    count = 0
    for k in range(int(tt.stop_pattern_offsets[stop]), int(tt.stop_pattern_offsets[stop + 1])):
        p, pos = int(tt.stop_pattern_pattern[k]), int(tt.stop_pattern_pos[k])
        n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
        first, end = int(tt.pattern_trip_offsets[p]), int(tt.pattern_trip_offsets[p + 1])
        rows = int(tt.pattern_stop_time_offsets[p]) + np.arange(end - first) * n_s + pos
        dep = int(tt.day_base_s[day, tt.pattern_tz[p]]) + tt.stop_time_departure[rows].astype(np.int64)
        runs = tt.service_days[tt.trip_service[first:end], day] == 1
        count += int(np.sum(runs & (dep >= t0) & (dep < t1) & ((tt.stop_time_flags[rows] & NO_PICKUP) == 0)))
    return count


def closure(network, stop: int, n: int) -> tuple[str, Alert]:
    feed, original = str(network.stop_ids[stop]).split(":", 1)
    return feed, Alert(f"bench-{n}", informed_entities=(EntitySelector(stop_id=original),), effect="NO_SERVICE")


async def measure(network, stops: list[int], updates: list[ResolvedTripUpdate]) -> dict[str, list[float]]:
    clock = FixedClock(NOW.astimezone(UTC))
    service = PlannerService(None, clock, coalesce_s=REALTIME_COALESCE_S)
    await service.on_trip_updates("demo", updates, clock.now())
    await service.publish(network)
    published_at: dict[int, float] = {}
    service.add_snapshot_listener(lambda _prev, snap: published_at.setdefault(snap.version, time.perf_counter()))
    now_s = int(clock.now().timestamp())
    t0, t1 = now_s, now_s + 4 * 3600
    by_feed: dict[str, list[Alert]] = {}
    figures: dict[str, list[float]] = {"on_alerts": [], "operator": [], "lift": []}
    bad = 0
    for n, stop in enumerate(stops):
        feed, alert = closure(network, stop, n)
        by_feed.setdefault(feed, []).append(alert)
        version = service.get_snapshot().version
        start = time.perf_counter()
        await service.on_alerts(feed, list(by_feed[feed]), clock.now())
        while True:
            snap = service.get_snapshot()
            if snap.version > version and any(a.entity_id == f"{feed}:bench-{n}" for a in snap.alerts.alerts):
                break
            await asyncio.sleep(0.005)
        figures["on_alerts"].append(published_at[snap.version] - start)
        bad += boards_at(snap, stop, t0, t1) > 0
    for feed, alerts in by_feed.items():  # lift them: each feed publishes an empty set
        version = service.get_snapshot().version
        start = time.perf_counter()
        await service.on_alerts(feed, [], clock.now())
        while service.get_snapshot().version <= version:
            await asyncio.sleep(0.005)
        figures["lift"].append(published_at[service.get_snapshot().version] - start)
    operator: list[Alert] = []
    for n, stop in enumerate(stops):
        feed, alert = closure(network, stop, n)
        operator.append(Alert(f"disruptions:{n}", informed_entities=(
            EntitySelector(stop_id=str(network.stop_ids[stop])),), effect="NO_SERVICE"))
        start = time.perf_counter()
        snap = await service.set_operator_disruptions(list(operator), [], clock.now())
        figures["operator"].append(time.perf_counter() - start)
        bad += boards_at(snap, stop, t0, t1) > 0
    figures["still_boarding"] = [float(bad)]
    return figures


def apply_cost(network, stops: list[int], updates: list[ResolvedTripUpdate]) -> tuple[float, float]:
    """Median seconds of apply_realtime: the updates alone, and with one namespaced stop closure."""
    alert = Alert("x", informed_entities=(EntitySelector(stop_id=str(network.stop_ids[stops[0]])),),
                  effect="NO_SERVICE")
    now_s = int(NOW.timestamp())
    alone, closed = [], []
    for _ in range(5):
        s = time.perf_counter()
        apply_realtime(network, updates, now_s=now_s)
        alone.append(time.perf_counter() - s)
        s = time.perf_counter()
        apply_realtime(network, updates, [alert], now_s=now_s)
        closed.append(time.perf_counter() - s)
    return statistics.median(alone), statistics.median(closed)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--region", type=Path)
    parser.add_argument("--alerts", type=int, default=50)
    parser.add_argument("--updates", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        region = args.region
        if region is None:
            from oura.demo.generate import generate_region

            region = Path(tmp) / "region"
            generate_region(region, seed=1, scale=1.0, start_date=date(2025, 3, 3), fmt="zip")
        sources = [FeedSource(p.stem, p) for p in sorted((region / "gtfs").iterdir()) if p.suffix == ".zip" or p.is_dir()]
        network = load_network(sources, cache_dir=Path(tmp) / "cache")
    rng = np.random.default_rng(7)
    updates = delays(network, rng, args.updates)
    stops = [int(s) for s in rng.choice(served_stops(network), args.alerts, replace=False)]
    tt = network.timetable
    print(f"demo region: {tt.stop_count:,} stops, {tt.pattern_count:,} patterns, {tt.trip_count:,} trips; "
          f"{len(updates)} trip updates in the background; coalescing {REALTIME_COALESCE_S} s")
    alone, closed = apply_cost(network, stops, updates)
    print(f"apply_realtime median: {alone * 1000:.0f} ms with the updates, {closed * 1000:.0f} ms with one stop "
          f"closure too (+{(closed - alone) * 1000:.1f} ms)")
    figures = asyncio.run(measure(network, stops, updates))
    for name in ("on_alerts", "lift", "operator"):
        v = figures[name]
        print(f"{name:>10}: n={len(v)} p50 {pct(v, 50) * 1000:.0f} ms  p99 {pct(v, 99) * 1000:.0f} ms  "
              f"max {max(v) * 1000:.0f} ms")
    print(f"snapshots still boarding at a closed stop: {int(figures['still_boarding'][0])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
