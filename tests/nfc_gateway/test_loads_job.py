"""The load jobs' background job: new card and wallet sales get their jobs, loads past their
deadline are refunded, with the app's injected clock."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from nfc_gateway.remote import jobs
from oura.config import NfcConfig
from tests.nfc_gateway.test_loads import STAS_SINGLE, new_medium, refunds_of, sell
from tests.ticketing.conftest import make_harness, region_catalogue  # noqa: F401 (fixtures)


@pytest.fixture
def app_config(app_config):
    """The app's [nfc] job runs every 50 ms, with a one-hour deadline."""
    return replace(app_config, nfc=NfcConfig(load_deadline_s=3600.0, every_s=0.05))


async def wait_for(condition, what: str) -> None:
    for _ in range(400):  # a bound against a hang, not a timing assertion
        if await condition():
            return
        await asyncio.sleep(0.025)
    pytest.fail(f"the load job never {what}")


async def test_rounds_create_jobs_for_new_sales_and_refund_the_expired(make_harness):
    h = await make_harness()
    pool, now = h.service.pool, h.clock.now()
    settings = NfcConfig(load_deadline_s=3600.0, every_s=0)
    wallet = await new_medium(h, "wallet")
    first = await sell(h, wallet, [STAS_SINGLE], 160)
    done = await jobs.run_once(pool, h.provider, now, settings)
    assert (done.created, done.refunded) == (1, 0)
    second = await sell(h, wallet, [STAS_SINGLE], 160, key="second")
    done = await jobs.run_once(pool, h.provider, now, settings, done.cursor)
    assert done.created == 1 and done.cursor.seen == second["lines"][0]["contract_ids"][0]
    # a contract committed late, with an id below the last one seen, is still found the round after
    assert done.cursor.after == first["lines"][0]["contract_ids"][0]
    done = await jobs.run_once(pool, h.provider, now + timedelta(hours=1), settings, done.cursor)
    assert (done.created, done.refunded) == (0, 2)
    assert await refunds_of(pool, first["order_id"]) == await refunds_of(pool, second["order_id"]) == 1


async def test_the_wired_job_uses_the_app_clock_and_ticketing_provider(make_harness):
    h = await make_harness()
    pool = h.service.pool
    wallet = await new_medium(h, "wallet")
    order = await sell(h, wallet, [STAS_SINGLE], 160)

    async def job_created() -> bool:
        return await pool.fetchval("SELECT count(*) FROM nfc_load_jobs WHERE medium_serial = $1", wallet) == 1

    await wait_for(job_created, "created the sale's load job")
    h.clock.advance(timedelta(hours=2))

    async def refunded() -> bool:
        return await refunds_of(pool, order["order_id"]) == 1

    await wait_for(refunded, "refunded the expired load")
    assert (await h.service.get_order(order["order_id"])).status == "refunded"
