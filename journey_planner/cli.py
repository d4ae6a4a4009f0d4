"""``oura plan``: the planner straight on GTFS folders or zips (a stable interface: tests and
benchmarks drive it).

    oura plan --gtfs NAME=PATH [--gtfs NAME=PATH ...] [--realtime [NAME=]PATH.pb ...]
              [--alerts [NAME=]PATH.pb ...] [--now ISO8601] [--realtime-report]
              [--transfer-slack SECONDS] --from ID --to ID --at ISO8601 [--arrive-by]
    oura plan --gtfs NAME=PATH --queries FILE.csv      (columns from,to,at[,arrive_by])

Realtime files are bound to one loaded feed: ``--realtime NAME=PATH`` (the bare ``PATH`` form is
kept for a single loaded feed; with several it is an error asking to name the feed).
``--alerts NAME=PATH`` applies ServiceAlerts (NO_SERVICE closes stops, routes, trips) at the
reference time ``--now`` (default: the first query's --at), which also picks the service day of
updates without start_date. ``--realtime-report`` prints, on stderr, one line per rejected entity
(feed, entity id, trip id, error type, detail) and a summary line per feed; an unreadable,
empty, truncated or HTML realtime file is a one-line error on stderr and exit code 2.

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
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from feeds.realtime.model import Alert, ResolvedTripUpdate, RtError

from .compile import FeedSource, Network, load_network
from .core import Place, PlanRequest, TransitLeg, plan
from .places import PlaceError, StopSpatialIndex, resolve_place
from .realtime import apply_realtime

__all__ = ["register", "main", "run_plan_command"]

DEFAULT_CACHE_DIR = Path("var/cache/journey_planner")


@dataclass(frozen=True)
class RealtimeRequest:
    """The realtime files of one `oura plan` run, each bound to a loaded feed."""

    trip_updates: tuple[tuple[str, str], ...] = ()  # (feed name, path of a TripUpdates .pb)
    alerts: tuple[tuple[str, str], ...] = ()  # (feed name, path of a ServiceAlerts .pb)
    now_s: int | None = None  # reference time (POSIX s)
    now_overrides_header: bool = False  # --now given: it replaces the files' header timestamps


@dataclass(frozen=True)
class RealtimeFileReport:
    """One realtime file as the resolver read it: its entities, how many it resolved, the
    rejected ones with their reasons."""

    feed: str
    kind: str  # "trip_updates" or "alerts"
    path: str
    entities: int
    resolved: int
    rejected: tuple[RtError, ...] = ()


@dataclass(frozen=True)
class RealtimeInput:
    """What the resolver made of the files: updates and namespaced alerts to apply, and a report
    per file."""

    updates: tuple[ResolvedTripUpdate, ...] = ()
    alerts: tuple[Alert, ...] = ()
    files: tuple[RealtimeFileReport, ...] = ()


class RealtimeFileError(Exception):
    """A realtime file that cannot be used at all (unreadable, empty, truncated, HTML): one line."""


# GTFS-RT files -> what to apply. Decoding and matching are feeds' work: the assembly (oura.cli)
# hands the resolver in; without one, --realtime and --alerts are refused. It raises
# RealtimeFileError for a file it cannot use.
RealtimeResolver = Callable[[Network, RealtimeRequest], RealtimeInput]


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
    parser.add_argument("--realtime", action="append", default=[], metavar="[NAME=]PATH.pb",
                        help="a GTFS-RT TripUpdates file to apply to feed NAME (repeatable; "
                             "NAME may be left out when one feed is loaded)")
    parser.add_argument("--alerts", action="append", default=[], metavar="[NAME=]PATH.pb",
                        help="a GTFS-RT ServiceAlerts file of feed NAME to apply (repeatable)")
    parser.add_argument("--now", metavar="ISO8601",
                        help="reference time for realtime: service day of updates without "
                             "start_date, alert periods (default: the first query's --at)")
    parser.add_argument("--realtime-report", action="store_true",
                        help="print applied and rejected realtime entities on stderr")
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


def bind_realtime_files(values: Sequence[str], feed_names: Sequence[str], flag: str) -> tuple[tuple[str, str], ...]:
    """Each ``NAME=PATH`` (or bare ``PATH`` when one feed is loaded) as (feed name, path).

    Realtime ids are the publisher's ids of one feed: applied to every loaded feed, equal trip ids
    of two feeds would cancel the wrong trip, so a file always names its feed.
    """
    bound = []
    for value in values:
        name, sep, path = value.partition("=")
        if sep and name in feed_names and path:
            bound.append((name, path))
        elif sep and name and "/" not in name and not Path(value).exists():
            raise RealtimeFileError(f"{flag} {value}: no loaded feed named {name!r} "
                                    f"(loaded: {', '.join(feed_names)})")
        elif len(feed_names) == 1:
            bound.append((feed_names[0], value))
        else:
            raise RealtimeFileError(f"{flag} {value}: {len(feed_names)} feeds are loaded "
                                    f"({', '.join(feed_names)}): name the feed, {flag} NAME=PATH")
    return tuple(bound)


def apply_realtime_files(
    network: Network, request: RealtimeRequest, resolve_realtime: RealtimeResolver | None,
) -> tuple[Network, RealtimeInput, object]:
    """Apply the realtime files of ``request`` (resolved by ``resolve_realtime``); returns the
    realtime network, what the resolver made of the files and the planner's overlay."""
    if resolve_realtime is None:
        raise SystemExit("--realtime/--alerts need GTFS-RT decoding and matching: use `oura plan`")
    realtime_input = resolve_realtime(network, request)
    realtime, overlay = apply_realtime(network, list(realtime_input.updates), list(realtime_input.alerts),
                                       now_s=request.now_s)
    return realtime, realtime_input, overlay


def format_realtime_report(realtime_input: RealtimeInput, overlay) -> list[str]:
    """One line per rejected entity (feed, entity id, trip id, error type, detail), then a
    summary line per file and one of what the planner applied.

    Rejections are the resolver's (decoding, matching) then the planner's (applying), the latter
    attributed to the feed of the trip's namespace.
    """
    rejected = [(report.feed, error) for report in realtime_input.files for error in report.rejected]
    rejected += [((e.trip_id or "-").partition(":")[0], e) for e in overlay.errors]
    lines = [
        f"realtime rejected: feed={feed} entity={error.entity_id or '-'} trip={error.trip_id or '-'} "
        f"type={error.type.value} detail={error.detail or '-'}"
        for feed, error in rejected
    ]
    lines += [
        f"realtime file: feed={r.feed} kind={r.kind} entities={r.entities} resolved={r.resolved} "
        f"rejected={len(r.rejected)} path={r.path}"
        for r in realtime_input.files
    ]
    lines.append(f"realtime applied: trip_updates={overlay.applied} alerts={len(realtime_input.alerts)} "
                 f"rejected_by_planner={len(overlay.errors)}")
    return lines


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


def _query_rows(args: argparse.Namespace) -> list[dict]:
    if args.queries:
        with args.queries.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    if not (args.origin and args.destination and args.at):
        raise SystemExit("give --from, --to and --at, or --queries FILE.csv")
    return [{"from": args.origin, "to": args.destination, "at": args.at,
             "arrive_by": "1" if args.arrive_by else ""}]


def _reference_s(args: argparse.Namespace, network: Network, rows: Sequence[dict]) -> int | None:
    """--now, else the first query's --at (a naive time in the first feed's zone)."""
    text = getattr(args, "now", None) or (rows[0].get("at") if rows else None)
    if not text:
        return None
    try:
        return _parse_at(text, network, -1)
    except ValueError as error:
        if getattr(args, "now", None):
            raise RealtimeFileError(f"--now {text!r}: not an ISO 8601 time ({error})") from None
        return None


def _with_realtime(args: argparse.Namespace, network: Network, rows: Sequence[dict],
                   resolve_realtime: RealtimeResolver | None, err) -> Network:
    """The network with --realtime and --alerts applied (report on ``err`` if asked)."""
    realtime_values, alert_values = getattr(args, "realtime", []), getattr(args, "alerts", [])
    if not (realtime_values or alert_values):
        return network
    names = [str(name) for name in network.feed_ids]
    request = RealtimeRequest(
        trip_updates=bind_realtime_files(realtime_values, names, "--realtime"),
        alerts=bind_realtime_files(alert_values, names, "--alerts"),
        now_s=_reference_s(args, network, rows),
        now_overrides_header=bool(getattr(args, "now", None)),
    )
    realtime, realtime_input, overlay = apply_realtime_files(network, request, resolve_realtime)
    if getattr(args, "realtime_report", False):
        for line in format_realtime_report(realtime_input, overlay):
            print(line, file=err, flush=True)
    return realtime


def run_plan_command(args: argparse.Namespace, out=None, resolve_realtime: RealtimeResolver | None = None,
                     err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    sources = _parse_sources(args.gtfs)
    network = load_network(sources, cache_dir=None if args.no_cache else args.cache_dir)
    rows = _query_rows(args)
    try:
        network = _with_realtime(args, network, rows, resolve_realtime, err)
    except RealtimeFileError as error:
        print(f"oura plan: error: {error}", file=err, flush=True)
        return 2
    zones = [ZoneInfo(z) for z in network.timezones]

    def zone_of_stop(stop: int) -> ZoneInfo:
        feed = int(network.stop_feed[stop]) if stop >= 0 else 0
        return zones[network.feed_tz[feed]]

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
