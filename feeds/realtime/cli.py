"""`oura realtime report`: what the realtime pollers saw, from the ``rt_feed_status`` table.

The serving process saves each source's status every few seconds; this command reads it, so it
works from another shell while `oura serve` runs. `oura feeds report` can print the same block
with `print_realtime_report(config)`.
"""

from __future__ import annotations

import argparse
import asyncio

from feeds.realtime.report import format_realtime_report
from oura.commands import add_command

__all__ = ["register", "print_realtime_report"]


async def _load(config) -> str:  # type: ignore[no-untyped-def]
    from feeds.realtime.repository import AlertRepository
    from oura.clock import SystemClock
    from oura.concurrency import run_blocking
    from oura.db.embedded import EmbeddedPostgres
    from oura.db.pool import create_pool

    dsn = config.database.url
    embedded = None
    if dsn is None:  # the embedded server, started for the duration of the command
        embedded = EmbeddedPostgres(config.database.embedded_pgdata)
        dsn = await run_blocking(embedded.start)
    try:
        pool = await create_pool(dsn, min_size=1, max_size=2)
        try:
            statuses = await AlertRepository(pool).list_feed_statuses()
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            await run_blocking(embedded.stop)
    return format_realtime_report(statuses, SystemClock().now())


def print_realtime_report(config) -> int:  # type: ignore[no-untyped-def]
    print(asyncio.run(_load(config)))
    return 0


def _cmd_report(args: argparse.Namespace, config) -> int:  # type: ignore[no-untyped-def]
    return print_realtime_report(config)


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    realtime = add_command(sub, "realtime", "Inspect GTFS-realtime polling", "oura realtime report")
    actions = realtime.add_subparsers(dest="realtime_command", metavar="ACTION", required=True)
    report = add_command(actions, "report", "Per source: freshness, stale flag, matched entities and error counts by type",
                         "oura realtime report")
    report.set_defaults(func=_cmd_report)
