"""Cost of `journey_planner.explain` (issue 12, "say why") on Kaunas 2018 or the demo region.

Random stop pairs (Kaunas: the same as bench/planner_kaunas.py), departures in 07:00-19:00 of a
weekday: plan alone, then explain, for ordinary queries (nothing to explain), max_transfers=0 (many
empty answers: re-plans), wheelchair (one unconstrained plan per request), and 400 days later
(outside the timetable's dates).

    .venv/bin/python bench/explain_cost.py [--queries 100] [--demo [--region DIR]]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner_kaunas import FEED, make_queries  # noqa: E402  (bench/ is on sys.path)
from journey_planner.compile import FeedSource, load_network  # noqa: E402
from journey_planner.core import Place, PlanRequest, plan  # noqa: E402
from journey_planner.explain import explain  # noqa: E402


def run(network, queries, label: str, **kw) -> None:
    tt = network.timetable
    plan_ms, explain_ms, codes = [], [], Counter()
    for a, b, t in queries:
        req = PlanRequest(Place.of_stops([a]), Place.of_stops([b]), t, **kw)
        started = time.perf_counter()
        result = plan(tt, req)
        mid = time.perf_counter()
        ex = explain(network, req, result, None)
        end = time.perf_counter()
        plan_ms.append((mid - started) * 1000)
        explain_ms.append((end - mid) * 1000)
        codes.update(r["code"] for r in ex.reasons)
        codes.update(c["code"] for cs in ex.constraints for c in cs)
    p = np.percentile
    print(f"{label:<28} plan median {statistics.median(plan_ms):6.2f} ms | explain median "
          f"{statistics.median(explain_ms):6.2f} ms, p95 {p(explain_ms, 95):6.2f} ms, max {max(explain_ms):6.2f} ms"
          f" | {dict(codes)}")


def demo_network(region: Path | None, tmp: Path):
    if region is None:
        from oura.demo.generate import generate_region

        region = tmp / "region"
        generate_region(region, seed=1, scale=1.0, start_date=date(2025, 3, 3), fmt="zip")
    sources = [FeedSource(p.stem, p) for p in sorted((region / "gtfs").iterdir()) if p.suffix == ".zip" or p.is_dir()]
    return load_network(sources, cache_dir=tmp / "cache")


def demo_queries(network, n: int) -> list[tuple[int, int, int]]:
    tt = network.timetable
    day = network.find_day(date(2025, 3, 4))
    active = np.flatnonzero(tt.service_days[tt.trip_service, day] == 1)
    patterns = np.unique(tt.trip_pattern[active])
    stops = np.unique(np.concatenate([tt.pattern_stops[tt.pattern_stop_offsets[p]: tt.pattern_stop_offsets[p + 1]]
                                      for p in patterns]))
    rng = np.random.default_rng(42)
    t7 = int(datetime(2025, 3, 4, 7, 0, tzinfo=ZoneInfo("Europe/Paris")).timestamp())
    return [(int(a), int(b), t7 + 60 * int(rng.integers(0, 12 * 60)))
            for a, b in (rng.choice(stops, 2, replace=False) for _ in range(n))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--demo", action="store_true", help="the generated demo region instead of Kaunas")
    parser.add_argument("--region", type=Path, help="an already generated demo region")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.demo:
            network = demo_network(args.region, Path(tmp))
            queries = demo_queries(network, args.queries)
        else:
            network = load_network([FeedSource("kaunas", FEED)], cache_dir=Path(tmp))
            queries = make_queries(network, args.queries)
    tt = network.timetable
    print(f"stops accessible {int(tt.stop_accessible.sum())}/{tt.stop_count}, "
          f"trips accessible {int(tt.trip_accessible.sum())}/{tt.trip_count}")
    plan(tt, PlanRequest(Place.of_stops([queries[0][0]]), Place.of_stops([queries[0][1]]), queries[0][2]))
    run(network, queries, "ordinary")
    run(network, queries, "max_transfers=0", max_transfers=0)
    run(network, queries, "wheelchair", wheelchair=True)
    run(network, [(a, b, t + 400 * 86400) for a, b, t in queries], "outside dates (+400 days)")


if __name__ == "__main__":
    main()
