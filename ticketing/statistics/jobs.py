"""The statistics background job: every ``every_s``, release the closed periods, then purge the
identifying data past its retention (days about to be purged are released first, so OD chaining
always sees their serials).

One round (`run_once`) is: ``release_due`` with ``force_before = now - retention + 2 * every_s``
(a day whose oldest events will have lost their serial before the next-but-one round is released
now, even within its grace), then ``purge_identifiers``. The order matters, but the 48 h bound
wins over the statistics: a release that fails is logged and the purge runs all the same (that
day is then released later from what is left, without its OD flows), and the next round tries the
release again. A purge that fails is logged by the loop and tried again at the next round.

The loop (`statistics_context`, a ``cleanup_ctx`` generator like ticketing's reconciliation task)
reads the time from the app's injected clock. Its first round comes ``every_s`` after start-up
(as the reconciliation does), and sweeps every validation; later rounds scan only from the
previous cutoff less `SINCE_MARGIN_S` (older rows are purged, and late uploads are stored purged),
with a full sweep again every `FULL_SWEEP_S`, so a row missed by a bounded sweep (an upload
written by a process without the retention setting) keeps its serial a day at most.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from aiohttp import web
from prometheus_client import Counter

from oura.clock import Clock
from oura.concurrency import cancel_and_wait
from oura.keys import CLOCK, METRICS, POOL
from ticketing.statistics import release
from ticketing.statistics.model import StatisticsSettings
from ticketing.statistics.purge import PurgeResult, purge_identifiers

__all__ = ["JobRound", "run_once", "statistics_context", "FULL_SWEEP_S", "SINCE_MARGIN_S"]

log = logging.getLogger(__name__)
FULL_SWEEP_S = 86400.0  # a round looks at every validation at least this often
SINCE_MARGIN_S = 3600.0  # a bounded sweep starts this long before the previous cutoff (transactions in flight)

Domains = Mapping[str, Mapping[str, Sequence[str]]]


@dataclass(frozen=True)
class JobRound:
    released: release.ReleaseRun | None  # None: the release failed (logged)
    purged: PurgeResult


async def run_once(pool: asyncpg.Pool, now: datetime, settings: StatisticsSettings, network_authority: Mapping[str, str],
                   timezone: str, domains: Domains | None = None, *, since: datetime | None = None) -> JobRound:
    """One round: release what is due, then purge. A release failure is logged and the purge
    runs anyway; a purge failure raises (the caller's next round tries again)."""
    force_before = now - timedelta(seconds=settings.retention_s) + timedelta(seconds=2 * settings.every_s)
    released: release.ReleaseRun | None
    try:
        # looked up at call time (module attribute), so a test can make the release fail
        released = await release.release_due(pool, now=now, settings=settings, network_authority=network_authority,
                                              timezone=timezone, domains=domains, force_before=force_before)
    except Exception:  # the statistics wait; the retention bound does not
        log.exception("releasing the closed statistics periods failed; purging anyway")
        released = None
    purged = await purge_identifiers(pool, now=now, retention_s=settings.retention_s, since=since)
    return JobRound(released, purged)


def statistics_context(settings: StatisticsSettings, network_authority: Mapping[str, str], timezone: str,
                       domains: Domains | None = None) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx generator (register it after the database and ticketing ones) running a
    round every ``settings.every_s`` (0: never) on ``app[POOL]`` with ``app[CLOCK]``'s time,
    stopped on shutdown. Rows purged are counted in ``oura_statistics_purged_total``."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        counter = None
        if METRICS in app and settings.every_s > 0:
            try:
                counter = Counter("oura_statistics_purged", "Identifying data removed past its retention, by kind of row",
                                  ["what"], registry=app[METRICS].registry)
            except ValueError:  # a second statistics job on the same app: the first one counts
                log.warning("the statistics purge counter is registered already; this job's purges are not counted")
        task = None
        if settings.every_s > 0:
            task = asyncio.create_task(_run_forever(app[POOL], app[CLOCK], settings, dict(network_authority),
                                                    timezone, domains, counter))
        try:
            yield
        finally:
            await cancel_and_wait(task)
            if counter is not None:
                app[METRICS].registry.unregister(counter)

    return context


async def _run_forever(pool: asyncpg.Pool, clock: Clock, settings: StatisticsSettings, network_authority: Mapping[str, str],
                       timezone: str, domains: Domains | None, counter: Counter | None) -> None:
    since: datetime | None = None
    last_full: datetime | None = None
    while True:
        await asyncio.sleep(settings.every_s)
        now = clock.now()
        full = since is None or last_full is None or (now - last_full).total_seconds() >= FULL_SWEEP_S
        try:
            done = await run_once(pool, now, settings, network_authority, timezone, domains,
                                  since=None if full else since)
        except Exception:  # a database outage must not stop the next rounds
            log.exception("purging identifying data failed; the next round tries again")
            continue
        if done.purged.cutoff is not None:
            since = done.purged.cutoff - timedelta(seconds=SINCE_MARGIN_S)
        if full:
            last_full = now
        if counter is not None:
            counter.labels("validations").inc(done.purged.validations)
            counter.labels("watches").inc(done.purged.watches)
