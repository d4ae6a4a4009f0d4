"""``oura plan``: the planner straight on GTFS folders or zips (a stable interface: tests and
benchmarks drive it).

    oura plan --gtfs NAME=PATH [--gtfs NAME=PATH ...] [--realtime PATH.pb ...]
              [--transfer-slack SECONDS] --from ID --to ID --at ISO8601 [--arrive-by]
    oura plan --gtfs NAME=PATH --queries FILE.csv      (columns from,to,at[,arrive_by])

One JSON object per query on stdout, in input order:
``{"from", "to", "at", "elapsed_ms", "journeys": [{"departure", "arrival", "transfers", "legs":
[{"mode", "from", "to", "departure", "arrival", "trip_id", "route_id"}]}]}``. Ids are
namespaced ``NAME:original_id``; times are ISO 8601 with the feed's offset; ``elapsed_ms`` is
the routing time of that query alone (place resolution and JSON excluded).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from feeds.realtime.model import ResolvedTripUpdate

from .compile import FeedSource, Network, load_network
from .core import Place, PlanRequest, TransitLeg, plan
from .places import PlaceError, StopSpatialIndex, resolve_place
from .realtime import apply_trip_updates

__all__ = ["register", "main", "run_plan_command"]

DEFAULT_CACHE_DIR = Path("var/cache/journey_planner")


# GTFS-RT files -> the network's resolved trip updates. Decoding and matching are feeds' work: the
# assembly (oura.cli) hands the resolver in; without one, --realtime is refused.
RealtimeResolver = Callable[[Network, Sequence[str]], Sequence[ResolvedTripUpdate]]


def register(
    subparsers: argparse._SubParsersAction,  # noqa: SLF001
    resolve_realtime: RealtimeResolver | None = None,
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "plan",
        help="plan journeys on GTFS folders or zips (no database needed)",
        description="Plan journeys on GTFS feeds; prints one JSON object per query.",
        epilog=(
            "example:\n  oura plan --gtfs kaunas=../shared/data/kaunas-2018/kaunas.zip "
            "--from kaunas:1 --to kaunas:2 --at 2018-06-07T08:00:00+03:00"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=partial(_run_plan, resolve_realtime=resolve_realtime))
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gtfs", action="append", required=True, metavar="NAME=PATH",
                        help="a feed to load, namespaced NAME (repeatable)")
    parser.add_argument("--realtime", action="append", default=[], metavar="PATH.pb",
                        help="a GTFS-RT TripUpdates file to apply (repeatable)")
    parser.add_argument("--transfer-slack", type=int, default=120, metavar="SECONDS",
                        help="minimum change time at one stop (transfers.txt wins), default 120")
    parser.add_argument("--from", dest="origin", help="stop or station id (NAME:id) or lat,lon")
    parser.add_argument("--to", dest="destination", help="stop or station id (NAME:id) or lat,lon")
    parser.add_argument("--at", help="ISO 8601 time; without offset, the origin feed's zone")
    parser.add_argument("--arrive-by", action="store_true", help="--at is the latest arrival")
    parser.add_argument("--queries", type=Path, help="CSV with from,to,at[,arrive_by] columns")
    parser.add_argument("--max-transfers", type=int, default=6)
    parser.add_argument("--window", type=int, default=0, metavar="SECONDS",
                        help="range query: good departures within this many seconds")
    parser.add_argument("--num", type=int, default=5, help="at most this many journeys")
    parser.add_argument("--wheelchair", action="store_true")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR,
                        help=f"compiled timetable cache (default {DEFAULT_CACHE_DIR})")
    parser.add_argument("--no-cache", action="store_true", help="compile without reading/writing the cache")


def _parse_sources(values: Sequence[str]) -> list[FeedSource]:
    out = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"--gtfs expects NAME=PATH, got {value!r}")
        out.append(FeedSource(name, Path(path)))
    return out


def _run_plan(args: argparse.Namespace, *_: object, resolve_realtime: RealtimeResolver | None = None) -> int:
    return run_plan_command(args, resolve_realtime=resolve_realtime)


def apply_realtime_files(
    network: Network, paths: Sequence[str], resolve_realtime: RealtimeResolver | None,
) -> tuple[Network, int]:
    """Apply GTFS-RT TripUpdates files (resolved by ``resolve_realtime``); returns the network and
    the number of updates applied."""
    if resolve_realtime is None:
        raise SystemExit("--realtime needs GTFS-RT decoding and matching: use `oura plan`")
    realtime, overlay = apply_trip_updates(network, list(resolve_realtime(network, paths)))
    return realtime, overlay.applied


def _parse_at(text: str, network: Network, origin_stop: int) -> int:
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        feed = int(network.stop_feed[origin_stop]) if origin_stop >= 0 else 0
        moment = moment.replace(tzinfo=ZoneInfo(network.timezones[network.feed_tz[feed]]))
    return int(moment.timestamp())


def _iso(ts: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, zone).isoformat()


def journey_json(network: Network, journey, zone_of_stop) -> dict:
    legs = []
    for leg in journey.legs:
        zone = zone_of_stop(leg.from_stop if leg.from_stop >= 0 else leg.to_stop)
        if isinstance(leg, TransitLeg):
            legs.append({
                "mode": "transit",
                "from": str(network.stop_ids[leg.from_stop]),
                "to": str(network.stop_ids[leg.to_stop]),
                "departure": _iso(leg.departure_s, zone),
                "arrival": _iso(leg.arrival_s, zone),
                "trip_id": str(network.trip_ids[leg.trip]),
                "route_id": str(network.route_ids[network.trip_routes[leg.trip]]),
            })
        else:
            legs.append({
                "mode": "walk",
                "from": str(network.stop_ids[leg.from_stop]) if leg.from_stop >= 0 else None,
                "to": str(network.stop_ids[leg.to_stop]) if leg.to_stop >= 0 else None,
                "departure": _iso(leg.departure_s, zone),
                "arrival": _iso(leg.arrival_s, zone),
                "trip_id": None,
                "route_id": None,
            })
    first = journey.legs[0] if journey.legs else None
    zone = zone_of_stop(first.from_stop if first is not None and first.from_stop >= 0 else -1)
    return {
        "departure": _iso(journey.departure_s, zone),
        "arrival": _iso(journey.arrival_s, zone),
        "transfers": journey.transfers,
        "legs": legs,
    }


def warm_up(network: Network) -> None:
    """Load the compiled kernels (numba's on-disk cache) before any query is timed."""
    tt = network.timetable
    if tt.pattern_count == 0:
        return
    s = int(tt.pattern_stops[0])
    t = int(tt.day_base_s[0, 0]) + 8 * 3600
    for arrive_by in (False, True):
        plan(tt, PlanRequest(Place.of_stops([s]), Place.of_stops([s]), t, arrive_by=arrive_by, window_s=60))


def run_plan_command(args: argparse.Namespace, out=None, resolve_realtime: RealtimeResolver | None = None) -> int:
    out = out or sys.stdout
    sources = _parse_sources(args.gtfs)
    network = load_network(sources, cache_dir=None if args.no_cache else args.cache_dir)
    if args.realtime:
        network, _ = apply_realtime_files(network, args.realtime, resolve_realtime)
    zones = [ZoneInfo(z) for z in network.timezones]

    def zone_of_stop(stop: int) -> ZoneInfo:
        feed = int(network.stop_feed[stop]) if stop >= 0 else 0
        return zones[network.feed_tz[feed]]

    if args.queries:
        with args.queries.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    else:
        if not (args.origin and args.destination and args.at):
            raise SystemExit("give --from, --to and --at, or --queries FILE.csv")
        rows = [{"from": args.origin, "to": args.destination, "at": args.at,
                 "arrive_by": "1" if args.arrive_by else ""}]
    spatial = StopSpatialIndex.of(network)
    tt = network.timetable
    warm_up(network)
    failures = 0
    for row in rows:
        record: dict = {"from": row["from"], "to": row["to"], "at": row["at"]}
        try:
            origin = resolve_place(network, row["from"], spatial=spatial)
            destination = resolve_place(network, row["to"], spatial=spatial)
            at = _parse_at(row["at"], network, int(origin.stops[0]))
        except (PlaceError, ValueError) as error:
            record.update(error=str(error), elapsed_ms=0.0, journeys=[])
            failures += 1
            print(json.dumps(record), file=out, flush=True)
            continue
        arrive_by = str(row.get("arrive_by", "") or "").strip().lower() in ("1", "true", "yes")
        request = PlanRequest(
            origin, destination, at, arrive_by=arrive_by, max_transfers=args.max_transfers,
            transfer_slack_s=args.transfer_slack, wheelchair=args.wheelchair,
            window_s=args.window, max_journeys=args.num,
        )
        started = time.perf_counter()
        result = plan(tt, request)
        elapsed = (time.perf_counter() - started) * 1000
        record["elapsed_ms"] = round(elapsed, 3)
        record["journeys"] = [journey_json(network, j, zone_of_stop) for j in result.journeys]
        print(json.dumps(record, ensure_ascii=False), file=out, flush=True)
    return 1 if failures and not args.queries else 0


def main(argv: Sequence[str] | None = None, resolve_realtime: RealtimeResolver | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m journey_planner")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub, resolve_realtime)
    args = parser.parse_args(argv)
    return args.func(args)
