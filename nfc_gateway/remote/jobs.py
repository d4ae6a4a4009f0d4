"""The load jobs' background job: every ``every_s``, create the jobs of new paid card and wallet
contracts, then refund the loads past their deadline (`nfc_gateway.remote.loads`).

One round (`run_once`) scans the contracts with an id above a cursor, created within the load
deadline (a contract older than that was sold before the gateway ran, or has a job already); the
first round of a process starts from nothing (ids from 0, the deadline's window: a restart costs
one scan of a week of sales, and creates nothing twice). Later rounds start from the highest id
seen two rounds before: a sale whose transaction committed after a later one (ids are taken at
insert time, not at commit) is still seen. Then `loads.refund_expired` with ticketing's payment
provider. A failed round is logged and the next one tries again.

The loop (`loads_context`, a ``cleanup_ctx`` generator registered after ticketing's) reads the
time from the app's injected clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from aiohttp import web

from oura.concurrency import cancel_and_wait
from oura.config import NfcConfig
from oura.keys import CLOCK, POOL
from nfc_gateway.remote import loads
from ticketing.payments import PaymentProvider
from ticketing.startup import TICKETING

__all__ = ["Cursor", "JobRound", "run_once", "loads_context"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cursor:
    """Where the scan of new sales starts: ``after`` is the highest contract id seen two rounds
    ago (the next scan starts there), ``seen`` the highest seen by the last round."""

    after: int = 0
    seen: int = 0


@dataclass(frozen=True)
class JobRound:
    created: int  # new load jobs
    refunded: int  # loads refunded past their deadline
    cursor: Cursor


async def run_once(pool: asyncpg.Pool, provider: PaymentProvider, now: datetime, settings: NfcConfig,
                   cursor: Cursor = Cursor()) -> JobRound:
    """One round: jobs for the new sales after ``cursor``, then the refunds that are due."""
    created, last = await loads.create_jobs_for_new_sales(
        pool, now, after_contract_id=cursor.after, created_since=now - timedelta(seconds=settings.load_deadline_s),
        load_deadline_s=settings.load_deadline_s)
    refunded = await loads.refund_expired(pool, now, provider=provider)
    return JobRound(created, refunded, Cursor(after=cursor.seen, seen=max(last, cursor.seen)))


def loads_context(settings: NfcConfig) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx generator (after the database and ticketing ones) running a round every
    ``settings.every_s`` (0: never) on ``app[POOL]`` with ``app[CLOCK]``'s time and ticketing's
    payment provider, stopped on shutdown."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        task = None
        if settings.every_s > 0 and TICKETING in app:
            task = asyncio.create_task(_run_forever(app, settings))
        try:
            yield
        finally:
            await cancel_and_wait(task)

    return context


async def _run_forever(app: web.Application, settings: NfcConfig) -> None:
    cursor = Cursor()
    while True:
        await asyncio.sleep(settings.every_s)
        try:  # the service is looked up each round: a later context may have replaced it (tests do)
            done = await run_once(app[POOL], app[TICKETING].provider, app[CLOCK].now(), settings, cursor)
        except Exception:  # a database or provider outage must not stop the next rounds
            log.exception("the load jobs' round failed; the next round tries again")
            continue
        cursor = done.cursor
        if done.created or done.refunded:
            log.info("load jobs: %d created, %d refunded past their deadline", done.created, done.refunded)
