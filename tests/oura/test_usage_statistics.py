"""Simulated usage end to end: `oura demo simulate-usage` against a real database, and `oura serve`'s
background simulation, through to released statistics read over HTTP (issue 14's "make run shows
statistics")."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import pytest

from feeds.authorities import load_registry
from oura.app import create_app
from oura.auth import create_key
from oura.keys import POOL
from oura.usage import usage_context
from tests.oura.conftest import wait_ready

pytestmark = [pytest.mark.db, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
END = date(2025, 3, 7)  # a Friday of the generated region's calendar window (commuters ride on weekdays only)
KINDS = {"validations", "od", "sales"}


def test_simulate_usage_command_writes_sales_validations_and_releases(small_region, db_dsn, tmp_path):
    env = {**os.environ, "DATABASE_URL": db_dsn, "OURA_REGISTRY": str(small_region), "OURA_DATA_DIR": str(tmp_path),
           "OURA_LOG_LEVEL": "WARNING"}
    run = subprocess.run([sys.executable, "-m", "oura", "demo", "simulate-usage", "--days", "2", "--riders", "80",
                          "--seed", "4", "--end-date", END.isoformat()],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "validations:" in run.stdout and "releases stored" in run.stdout, run.stdout

    async def check() -> None:
        conn = await asyncpg.connect(db_dsn)
        try:
            orders = await conn.fetchval("SELECT count(*) FROM ticketing_orders WHERE status = 'paid'")
            validations = await conn.fetchval("SELECT count(*) FROM ticketing_validations")
            with_serial = await conn.fetchval("SELECT count(*) FROM ticketing_validations WHERE medium_serial IS NOT NULL")
            released = {(r["period_start"], r["kind"]) for r in await conn.fetch(
                "SELECT period_start, kind FROM stat_releases WHERE period_kind = 'day'")}
        finally:
            await conn.close()
        assert orders > 0 and validations > 0
        # the simulated days are long past the 48 h retention: released first, then purged
        assert with_serial == 0
        for day in (END - timedelta(days=1), END):
            assert {kind for d, kind in released if d == day} == KINDS, released

    asyncio.run(check())


async def test_serve_simulates_usage_once_and_an_authority_reads_its_statistics(small_region, app_config, make_client,
                                                                                caplog):
    registry = load_registry(small_region)
    owner = registry.find_network("tcl").authority_id
    config = replace(app_config, feeds=replace(app_config.feeds, registry=small_region, ingest_on_start=True,
                                               realtime=False))
    # a fixed weekday: "yesterday" on a Saturday or Sunday has too few riders for a released total
    simulate = usage_context(small_region, days=1, riders=120, seed=2, end_date=END)
    client = await make_client(create_app(config, extra_contexts=[simulate]))
    assert (await wait_ready(client))["status"] == "ready"
    pool = client.app[POOL]
    for _ in range(600):
        if await pool.fetchval("SELECT count(DISTINCT kind) FROM stat_releases WHERE period_kind = 'day'") == len(KINDS):
            break
        await asyncio.sleep(0.5)
    day = await pool.fetchval("SELECT max(period_start) FROM stat_releases WHERE period_kind = 'day'")
    assert day == END, "no statistics released by the background simulation"

    _, authority = await create_key(pool, "authority", owner)
    answer = await client.get("/v1/statistics/validations", params={"period": day.isoformat(), "group_by": "network",
                                                                    "network": "tcl"},
                              headers={"Authorization": f"Bearer {authority}"})
    assert answer.status == 200, await answer.text()
    body = await answer.json()
    assert [row["network"] for row in body["rows"]] == ["tcl"], body  # the network's total: its own cell only
    assert body["rows"][0]["count"] and body["rows"][0]["count"] >= 10, body
    releases = await client.get("/v1/statistics/releases", headers={"Authorization": f"Bearer {authority}"})
    assert releases.status == 200
    assert day.isoformat() in await releases.text()

    # a second start on the same database finds validations and simulates nothing
    orders = await pool.fetchval("SELECT count(*) FROM ticketing_orders")
    caplog.clear()
    with caplog.at_level("INFO", logger="oura.usage"):
        again = await make_client(create_app(config, extra_contexts=[usage_context(small_region, days=1, riders=120,
                                                                                   seed=3)]))
        assert (await wait_ready(again))["status"] == "ready"
        for _ in range(240):
            if "validations already recorded" in caplog.text:
                break
            await asyncio.sleep(0.25)
    assert "validations already recorded" in caplog.text
    assert await pool.fetchval("SELECT count(*) FROM ticketing_orders") == orders
