"""Fixtures of the assembled service: a small generated region served by the whole app."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient

from oura.app import create_app
from oura.clock import FixedClock

REGION_START = datetime(2025, 3, 5, 7, 0, tzinfo=UTC)  # the generated region's first service morning


@pytest.fixture(scope="session")
def small_region(tmp_path_factory):
    """A generated demo region at scale 0.1 (zipped feeds): its registry's path."""
    from oura.demo.generate import generate_region

    out = tmp_path_factory.mktemp("small-region")
    generate_region(out, seed=5, scale=0.1, start_date=REGION_START.date(), fmt="zip")
    return out / "registry.toml"


async def wait_ready(client: TestClient, timeout_s: float = 180.0) -> dict:
    """The app's /readyz answer once it says ready, or the last one after ``timeout_s``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        body = await (await client.get("/readyz")).json()
        if body["status"] == "ready" or asyncio.get_running_loop().time() > deadline:
            return body
        await asyncio.sleep(0.5)


async def serve_ready_region(registry, app_config, make_client) -> TestClient:  # noqa: ANN001
    """The whole app over ``registry`` (ingested at start, no realtime), once it reports ready;
    fails the test when it never does (a region never ready answers 503 everywhere, so a check
    that only looks for 500s would hold vacuously)."""
    config = replace(app_config, feeds=replace(app_config.feeds, registry=registry, ingest_on_start=True, realtime=False))
    client = await make_client(create_app(config, clock=FixedClock(REGION_START)))
    for _ in range(360):
        if (await (await client.get("/readyz")).json())["status"] == "ready":
            return client
        await asyncio.sleep(0.5)
    pytest.fail("the generated region never got ready")
