"""``oura fares quote``: price a journey's legs straight on GTFS Fares v2 feeds (no database). A
stable interface, like ``oura plan``: tests and scripts drive it.

    oura fares quote --gtfs NAME=PATH [--gtfs NAME=PATH ...] [--regional DIR] --legs FILE.json
                     [--rider-category ID] [--fare-media ID]

Feeds are folders or zips, namespaced ``NAME`` as ``oura plan`` does (ids ``NAME:original_id``);
``--regional`` is a regional combined products folder (its ids are region-wide). FILE.json is a
list of legs, or an object with a ``legs`` list; a leg is ``{"route_id", "departure", "arrival",
"from_stop_id", "to_stop_id"}`` (optional ``network_id``, ``from_area_id``, ``to_area_id``) with
namespaced ids and ISO 8601 times (a time without offset is read in the zone of the route's feed).

Prints one JSON object, `ticketing.fares.FareQuote.to_json`: ``total_minor``, ``currency``,
``rider_category_id``, ``fare_media_id``, ``is_complete``, ``method``, ``products`` (each with
its ``leg_indices``), ``legs`` (the products covering each leg, and why) and ``issues``. Exit
status 0 when a quote is printed (an incomplete one too: its issues say why), 2 when the input
is unusable. Data problems of the feeds go to stderr, one line each.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from feeds.gtfs.model import GtfsReadError, GtfsTables, read_gtfs
from feeds.gtfs.service_days import FeedTimezoneError, resolve_timezone
from oura.commands import add_command
from ticketing.catalogue import FARE_FILES, build_catalogue, load_regional_fares
from ticketing.fares import FareLeg, quote
from ticketing.products import DEFAULT_TIMEZONE, Catalogue

__all__ = ["QuoteInputError", "register", "main", "parse_legs", "run_quote_command"]

_LEG_TEXT_FIELDS = ("network_id", "from_stop_id", "to_stop_id", "from_area_id", "to_area_id")


class QuoteInputError(Exception):
    """Arguments, feeds or legs file unusable: the message says which field (exit status 2)."""


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # noqa: SLF001
    fares = add_command(subparsers, "fares", "Fares v2 tools on GTFS folders or zips (no database needed)",
                        "oura fares quote --gtfs ter=var/demo/gtfs/ter --legs legs.json",
                        description="Fares v2 tools on GTFS folders or zips.")
    sub = fares.add_subparsers(dest="fares_command", metavar="ACTION", required=True)
    parser = add_command(
        sub, "quote", "price a journey's legs; prints the quote as JSON",
        "oura fares quote --gtfs ter=var/demo/gtfs/ter --regional var/demo/fares/regional "
        "--legs legs.json --rider-category adult\n"
        'legs.json: [{"route_id": "ter:L7", "departure": "2026-03-03T08:00:00+01:00", '
        '"arrival": "2026-03-03T09:20:00+01:00", "from_stop_id": "ter:lyon-part-dieu-q1", '
        '"to_stop_id": "ter:aix-les-bains-q1"}]',
        description="Price a journey's legs with the feeds' Fares v2 rules; prints the quote as one JSON object.",
    )
    add_arguments(parser)
    parser.set_defaults(func=lambda args, *_: run_quote_command(args))
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gtfs", action="append", required=True, metavar="NAME=PATH",
                        help="a feed to load, namespaced NAME (repeatable)")
    parser.add_argument("--regional", type=Path, metavar="DIR", help="regional combined products folder")
    parser.add_argument("--legs", type=Path, required=True, metavar="FILE.json", help="the journey's legs, in order")
    parser.add_argument("--rider-category", metavar="ID", help="rider category (default: the feeds' default one)")
    parser.add_argument("--fare-media", metavar="ID", help="fare media (default: any, the cheapest wins)")


def _parse_sources(values: Sequence[str]) -> list[tuple[str, Path]]:
    out = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise QuoteInputError(f"--gtfs expects NAME=PATH, got {value!r}")
        out.append((name, Path(path)))
    names = [name for name, _ in out]
    if len(set(names)) != len(names):
        raise QuoteInputError("--gtfs names must be distinct")
    return out


def _agency_timezone(tables: GtfsTables) -> str | None:
    """The feed's own zone by the one GTFS rule (feeds.gtfs.service_days), None when it has none."""
    try:
        return resolve_timezone(tables)
    except FeedTimezoneError:
        return None


def load_quote_catalogue(sources: Sequence[tuple[str, Path]], regional: Path | None) -> tuple[Catalogue, tuple]:
    """The catalogue of the given feeds (fare files only) and regional folder, and its issues.
    The region's zone (calendar passes) is the first feed's agency timezone."""
    try:
        feeds = {name: read_gtfs(path, only=FARE_FILES) for name, path in sources}
        regional_tables = load_regional_fares(regional) if regional is not None else None
    except GtfsReadError as error:
        raise QuoteInputError(f"cannot read a feed: {error}") from None
    region_timezone = next((z for z in (_agency_timezone(feeds[name]) for name, _ in sources) if z), DEFAULT_TIMEZONE)
    return build_catalogue(feeds, regional=regional_tables, region_timezone=region_timezone)


def _feed_zone(catalogue: Catalogue, route_id: str, network_id: str | None) -> ZoneInfo:
    network = network_id or catalogue.find_network_of_route(route_id)
    rule_set = catalogue.find_rule_set(catalogue.network_feed.get(network or "", ""))
    return ZoneInfo(rule_set.timezone if rule_set is not None else catalogue.timezone)


def _parse_time(value: Any, where: str, catalogue: Catalogue, route_id: str, network_id: str | None) -> datetime:
    if not isinstance(value, str):
        raise QuoteInputError(f"{where}: an ISO 8601 time is required")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise QuoteInputError(f"{where}: {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_feed_zone(catalogue, route_id, network_id))
    return moment


def parse_legs(document: Any, catalogue: Catalogue) -> list[FareLeg]:
    """The legs of a legs file (a list, or ``{"legs": [...]}``); `QuoteInputError` naming the bad field."""
    raw_legs = document.get("legs") if isinstance(document, dict) else document
    if not isinstance(raw_legs, list) or not raw_legs:
        raise QuoteInputError("the legs file must hold a non-empty list of legs (or {\"legs\": [...]})")
    legs = []
    for i, raw in enumerate(raw_legs):
        if not isinstance(raw, dict) or not isinstance(raw.get("route_id"), str) or not raw["route_id"]:
            raise QuoteInputError(f"legs[{i}].route_id is required")
        optional = {}
        for name in _LEG_TEXT_FIELDS:
            value = raw.get(name)
            if value is not None and not isinstance(value, str):
                raise QuoteInputError(f"legs[{i}].{name} must be a string")
            optional[name] = value or None
        route_id = raw["route_id"]
        departure = _parse_time(raw.get("departure"), f"legs[{i}].departure", catalogue, route_id, optional["network_id"])
        arrival = _parse_time(raw.get("arrival"), f"legs[{i}].arrival", catalogue, route_id, optional["network_id"])
        if arrival < departure:
            raise QuoteInputError(f"legs[{i}].arrival is before its departure")
        legs.append(FareLeg(route_id=route_id, departure=departure, arrival=arrival, **optional))
    return legs


def run_quote_command(args: argparse.Namespace, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _quote(args, out, err)
    except QuoteInputError as error:
        print(f"error: {error}", file=err)
        return 2


def _quote(args: argparse.Namespace, out, err) -> int:
    try:
        document = json.loads(args.legs.read_text(encoding="utf-8"))
    except OSError as error:
        raise QuoteInputError(f"cannot read {args.legs}: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise QuoteInputError(f"{args.legs} is not JSON: {error}") from None
    catalogue, issues = load_quote_catalogue(_parse_sources(args.gtfs), args.regional)
    for issue in issues:
        where = f"{issue.file}:{issue.row}" if issue.row is not None else issue.file
        print(f"catalogue: {issue.code} {issue.feed_id} {where} {issue.value} {issue.message}".rstrip(), file=err)
    if args.rider_category and catalogue.rider_categories and args.rider_category not in catalogue.rider_categories:
        known = ", ".join(sorted(catalogue.rider_categories))
        raise QuoteInputError(f"unknown rider category {args.rider_category!r} (known: {known})")
    if args.fare_media and catalogue.fare_media and args.fare_media not in catalogue.fare_media:
        known = ", ".join(sorted(catalogue.fare_media))
        raise QuoteInputError(f"unknown fare media {args.fare_media!r} (known: {known})")
    legs = parse_legs(document, catalogue)
    result = quote(catalogue, legs, args.rider_category, args.fare_media)
    print(json.dumps(result.to_json(), ensure_ascii=False), file=out, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``oura fares ARGS`` without the rest of ``oura`` (``main(["quote", ...])``)."""
    parser = argparse.ArgumentParser(prog="oura")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(["fares", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
