"""`oura feeds list|ingest|report|hubs`: the operator's view of the region's feeds."""

from __future__ import annotations

import argparse
import asyncio
import sys
import textwrap
from pathlib import Path

from feeds.authorities import Registry, RegistryError, load_registry
from oura.commands import add_command as _add

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001
    feeds = _add(subparsers, "feeds", "Static feeds: list, ingest, validation reports, interchange hubs",
                 "oura feeds ingest --only sytral")
    sub = feeds.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)

    listing = _add(sub, "list", "Show each authority's networks with their current feed version, age and health",
                   "oura feeds list --registry var/demo/registry.toml")
    _registry_option(listing)
    listing.set_defaults(func=_cmd_list)

    ingest = _add(sub, "ingest", "Fetch, validate and record the static feeds (all, or one authority's)",
                  "oura feeds ingest --registry var/demo/registry.toml --only sytral")
    _registry_option(ingest)
    ingest.add_argument("--only", metavar="AUTH", help="authority id (or network id) to ingest")
    ingest.add_argument("--force", action="store_true",
                        help="fetch unconditionally and re-validate even if the content is unchanged")
    ingest.set_defaults(func=_cmd_ingest)

    report = _add(sub, "report", "Explain in plain words which feed version serves, and why the versions recorded "
                  "after it were superseded or rejected", "oura feeds report sytral")
    _registry_option(report)
    report.add_argument("authority", metavar="AUTH", help="authority id (or network id)")
    report.add_argument("--issues", type=int, default=20, help="stored issues to list per version (default 20)")
    report.set_defaults(func=_cmd_report)

    hubs = _add(sub, "hubs", "List interchange hubs: stations of the current feeds that are the same place",
                "oura feeds hubs --interchanges-only --limit 20")
    _registry_option(hubs)
    hubs.add_argument("--interchanges-only", action="store_true", help="only hubs joining several networks")
    hubs.add_argument("--limit", type=int, default=50, help="hubs to print (default 50)")
    hubs.set_defaults(func=_cmd_hubs)


def _registry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", type=Path, metavar="FILE",
                        help="authority registry TOML (default: OURA_REGISTRY / [feeds] registry)")


def _load(args: argparse.Namespace, config) -> Registry | None:
    path = args.registry or config.feeds.registry
    if path is None:
        print("error: no authority registry: pass --registry FILE or set OURA_REGISTRY", file=sys.stderr)
        return None
    try:
        return load_registry(path)
    except RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return None


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} d"


async def _with_pool(config, work):
    from oura.db.session import database_dsn
    from oura.db.migrate import apply_migrations
    from oura.db.pool import create_pool

    async with database_dsn(config) as dsn:
        pool = await create_pool(dsn, min_size=1, max_size=4)
        try:
            async with pool.acquire() as conn:
                await apply_migrations(conn)
            return await work(pool)
        finally:
            await pool.close()


def _cmd_list(args: argparse.Namespace, config) -> int:
    from feeds.status import list_network_statuses
    from oura.clock import SystemClock

    registry = _load(args, config)
    if registry is None:
        return 2

    async def work(pool):
        return await list_network_statuses(pool, registry, SystemClock().now())

    statuses = asyncio.run(_with_pool(config, work))
    print(f"{'AUTHORITY':<18} {'NETWORK':<16} {'VERSION':<8} {'SHA256':<12} {'AGE':>8}  {'VALID UNTIL':<11} "
          f"{'HEALTH':<8} REASON")
    for s in statuses:
        current = s.current
        print(f"{s.authority_id:<18} {s.network_id:<16} {current.version_id if current else '-':<8} "
              f"{current.sha256[:12] if current else '-':<12} {_age(s.age_s):>8}  "
              f"{current.validity_end.isoformat() if current and current.validity_end else '-':<11} "
              f"{s.health:<8} {s.reason}")
    return 0


def _cmd_ingest(args: argparse.Namespace, config) -> int:
    import aiohttp

    from feeds.ingest import Outcome, archive_limits, fetch_limits, ingest_networks
    from feeds.progress import TerminalProgress
    from feeds.store import FeedStore
    from oura.clock import SystemClock

    registry = _load(args, config)
    if registry is None:
        return 2
    try:
        networks = registry.select_networks(args.only)
    except KeyError as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2
    store = FeedStore(config.feeds.store_dir)
    progress = TerminalProgress([n.id for n in networks])

    async def work(pool):
        async with aiohttp.ClientSession() as session:
            outcomes = await ingest_networks(
                pool, networks, store=store, session=session, clock=SystemClock(), work_dir=store.work_dir,
                limits=fetch_limits(config.feeds), archive_limits=archive_limits(config.feeds), progress_for=lambda network: progress.callback(network.id),
                force=args.force,
            )
        return outcomes

    outcomes = asyncio.run(_with_pool(config, work))
    for outcome in outcomes:
        progress.finish(outcome.network_id, outcome.outcome.value)
    print()
    for outcome in outcomes:
        print(f"{outcome.network_id:<16} {outcome.outcome.value:<12} {outcome.message}")
    bad = [o for o in outcomes if o.outcome in (Outcome.REJECTED, Outcome.FAILED)]
    if registry.regional_fares is not None and args.only is None:
        from feeds.regional import validate_regional_fares

        regional = validate_regional_fares(registry.regional_fares, registry)
        print(f"\nregional fares ({registry.regional_fares}):\n{regional.summary()}")
        if regional.fatal:
            print("the regional combined products are invalid; fix them before selling them", file=sys.stderr)
            return 1
    if bad:
        print(f"\n{len(bad)} of {len(outcomes)} feeds were not updated; `oura feeds report AUTH` says why.",
              file=sys.stderr)
    return 1 if bad else 0


def _cmd_report(args: argparse.Namespace, config) -> int:
    from feeds import repository
    from feeds.status import list_network_statuses
    from oura.clock import SystemClock

    registry = _load(args, config)
    if registry is None:
        return 2

    async def work(pool):
        from feeds.realtime.repository import AlertRepository

        statuses = await list_network_statuses(pool, registry, SystemClock().now(), args.authority)
        issues = {}
        for status in statuses:
            version = status.current or status.latest
            if version is not None:
                issues[status.network_id] = await repository.list_issues(pool, version.version_id, limit=args.issues)
        shown = {status.network_id for status in statuses}
        realtime = [s for s in await AlertRepository(pool).list_feed_statuses() if s.feed_id in shown]
        return statuses, issues, realtime

    try:
        statuses, issues, realtime = asyncio.run(_with_pool(config, work))
    except KeyError as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2
    for status in statuses:
        print(f"== {status.authority_id} / {status.network_id} ({status.network_name}): {status.health} — "
              f"{status.reason}")
        # the serving version first: a superseded download may have finished after it
        version = status.current or status.latest
        if version is None:
            fetch = status.fetch
            print("No version recorded yet." + (f" Last attempt: {fetch.last_outcome} ({fetch.last_error})"
                                                 if fetch else ""))
            continue
        print(f"{'Serving version' if status.current else 'Nothing serves; latest version'} {version.version_id}, "
              f"fetched {version.fetched_at.isoformat(timespec='seconds')} from {version.source} "
              f"(sha256 {version.sha256[:12]}):")
        print(version.summary)
        for later in status.not_serving:
            print(f"Version {later.version_id}, recorded after it (fetched "
                  f"{later.fetched_at.isoformat(timespec='seconds')}, sha256 {later.sha256[:12]}), was "
                  f"{later.status}; version {version.version_id} still serves:")
            print(textwrap.indent(later.summary, "  "))
        stored = issues.get(status.network_id, [])
        if stored:
            print(f"First {len(stored)} stored issues of version {version.version_id}:")
            for issue in stored:
                where = f"{issue.file or ''}{f' line {issue.row}' if issue.row else ''}"
                print(f"  [{issue.severity}] {issue.code} {where}: {issue.message}")
        print()
    from feeds.realtime.report import format_realtime_report

    print(format_realtime_report(realtime, SystemClock().now()))
    return 0


def _cmd_hubs(args: argparse.Namespace, config) -> int:
    from feeds import repository
    from feeds.gtfs.reader import read_gtfs
    from feeds.hubs import HUB_INPUT_FILES, list_hubs

    registry = _load(args, config)
    if registry is None:
        return 2

    async def work(pool):
        return await repository.list_current_feeds(pool)

    current = asyncio.run(_with_pool(config, work))
    known = {n.id for n in registry.list_networks()}
    feeds = {c.feed_id: read_gtfs(c.content_path, only=HUB_INPUT_FILES) for c in current if c.feed_id in known}
    if not feeds:
        print("no accepted feed yet: run `oura feeds ingest` first", file=sys.stderr)
        return 1
    hubs = list_hubs(feeds)
    shown = [h for h in hubs if h.interchange] if args.interchanges_only else hubs
    print(f"{len(hubs)} hubs over {len(feeds)} feeds, {sum(h.interchange for h in hubs)} joining several networks")
    for hub in shown[: args.limit]:
        print(f"{hub.hub_id:<32} {hub.name[:40]:<40} {hub.lat:9.5f} {hub.lon:10.5f}  "
              f"networks={','.join(hub.feed_ids)}  stations={len(hub.station_ids)}")
    return 0
