"""Periodic ingestion inside the app: the feeds context starts one task per network, the first
round makes the app ready, subscribers hear about accepted versions, and shutdown stops it."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from feeds.authorities import load_registry
from feeds.http import routes
from feeds.startup import SCHEDULER, feeds_context
from feeds.scheduler import FeedScheduler
from feeds.store import FeedStore
from oura.clock import FixedClock
from oura.app import create_app
from oura.keys import READINESS
from tests.feeds.conftest import real_feed_path
from tests.registry_toml import TestNetwork, write_registry

pytestmark = pytest.mark.realdata


def _write_registry(tmp_path: Path) -> Path:
    return write_registry(
        tmp_path / "registry.toml",
        TestNetwork("usf", "bullrunner", real_feed_path("bullrunner"), network_name="Bull Runner",
                    extra="static_poll_s = 3600"),
        TestNetwork("gone", "gone", tmp_path / "missing.zip", authority_name="Gone", network_name="Gone"),
    )


async def test_app_ingests_on_start_and_becomes_ready(app_config, make_client, tmp_path: Path) -> None:
    registry = _write_registry(tmp_path)
    config = replace(app_config, feeds=replace(app_config.feeds, registry=registry, ingest_on_start=True))
    app = create_app(config, extra_routes=[routes], extra_contexts=[feeds_context])
    client = await make_client(app)
    scheduler = app[SCHEDULER]
    await asyncio.wait_for(scheduler.first_round.wait(), timeout=60)
    async with asyncio.timeout(10):  # the readiness task runs after the round: wait for it, bounded
        while not app[READINESS].is_ready("feeds"):
            await asyncio.sleep(0.01)
    assert app[READINESS].components["feeds"][0] is True
    body = await (await client.get("/v1/feeds")).json()
    health = {feed["network_id"]: feed["health"] for feed in body["feeds"]}
    assert health["gone"] == "missing" and health["bullrunner"] in ("ok", "stale")


async def test_subscribers_hear_accepted_versions_only(db_pool, tmp_path: Path) -> None:
    registry = load_registry(_write_registry(tmp_path))
    heard: list[tuple[str, str]] = []

    async def listener(outcome) -> None:
        heard.append((outcome.network_id, outcome.outcome.value))

    async def broken_listener(outcome) -> None:
        raise RuntimeError("a subscriber bug must not stop ingestion")

    scheduler = FeedScheduler(db_pool, registry, store=FeedStore(tmp_path / "feeds"), session=None,
                              clock=FixedClock(dt.datetime(2017, 9, 13, tzinfo=dt.UTC)))
    scheduler.subscribe(broken_listener)
    scheduler.subscribe(listener)
    scheduler.start()
    try:
        await asyncio.wait_for(scheduler.first_round.wait(), timeout=60)
    finally:
        await scheduler.stop()
    assert heard == [("bullrunner", "accepted")]
    again = await scheduler.ingest_once(registry.find_network("bullrunner"))
    assert again.outcome.value == "unchanged" and len(heard) == 1
