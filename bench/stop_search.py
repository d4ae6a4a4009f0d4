"""Stop search cost on the demo region: building `StopSearchIndex` once, and one search
(`journey_planner.stop_search.search_stops`: match, rank, hubs, render 20 items) per query.

Queries are what a traveller types: whole names, typos, abbreviations, names being typed letter
by letter (one to eight letters), run-together words. No HTTP: the handler adds only parsing.

    .venv/bin/python bench/stop_search.py [--region var/demo] [--repeat 20]

Without --region it generates the full demo region (scale 1) in a temporary folder (about 20 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the packages before bench/ (bench/ticketing.py is a script)

from feeds.adapters import read_network_feed  # noqa: E402
from feeds.hubs import HUB_INPUT_FILES, list_hubs  # noqa: E402
from journey_planner.compile import FeedSource, load_network  # noqa: E402
from journey_planner.hubs import HubIndex, HubPlace  # noqa: E402
from journey_planner.service import PlannerService  # noqa: E402
from journey_planner.stop_search import StopSearchIndex, search_stops  # noqa: E402
from oura.clock import FixedClock  # noqa: E402

QUERIES = ["grenobel", "st etienne", "part dieu", "bellecour", "gare grenoble", "le plateau", "chambery",
           "saintetienne", "av jean jaures", "pl de la mairie", "lyon perrache", "annecy gare routiere",
           "clermont ferrand", "valance", "chateaucruex", "mairie"]
TYPING = ["c", "ch", "cha", "cham", "chamb", "chambe", "chamber", "chambery"]


def measure(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", type=Path, help="a generated region folder (gtfs/<network> folders or zips)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    region = args.region
    if region is None:
        from oura.demo.generate import generate_region

        region = Path(tempfile.mkdtemp(prefix="stop-search-bench-"))
        generate_region(region, seed=5, scale=1.0, start_date=date(2025, 3, 5), fmt="dir")
    feeds = sorted((region / "gtfs").iterdir())
    name = {p: p.name.removesuffix(".zip") for p in feeds}
    network = load_network([FeedSource(name[p], p, timezone="Europe/Paris") for p in feeds])
    tables = {name[p]: read_network_feed(p, None, only=list(HUB_INPUT_FILES)) for p in feeds}
    hubs = [HubPlace(h.hub_id, h.name, h.station_ids) for h in list_hubs(tables)]
    print(f"region: {network.timetable.stop_count} stops, {network.timetable.trip_count} trips, {len(hubs)} hubs")

    build = measure(lambda: StopSearchIndex.of(network), 5)
    hub_build = measure(lambda: HubIndex.of(network, hubs), 5)
    index = StopSearchIndex.of(network)
    print(f"StopSearchIndex.of: median {statistics.median(build):.1f} ms ({len(index.vocabulary)} words, "
          f"{len(index.name_texts)} names); HubIndex.of: median {statistics.median(hub_build):.1f} ms")

    service = PlannerService.of_network(network, FixedClock(datetime(2025, 3, 5, 7, tzinfo=UTC)))
    service.set_hubs(hubs)
    snapshot = service.get_snapshot()
    search_stops(service, snapshot, "warm up", None, 20)
    for label, queries in (("queries", QUERIES), ("typing", TYPING)):
        times = []
        for q in queries:
            times += measure(lambda q=q: search_stops(service, snapshot, q, None, 20), args.repeat)
        times.sort()
        print(f"{label:8} ({len(queries)} x {args.repeat}): median {statistics.median(times):.2f} ms, "
              f"p95 {times[int(len(times) * 0.95)]:.2f} ms, max {times[-1]:.2f} ms")
    for q in ("grenobel", "st etienne", "chateaucruex"):
        top = search_stops(service, snapshot, q, None, 4)
        print(f"  {q!r}: " + " | ".join(s["label"] for s in top))


if __name__ == "__main__":
    main()
