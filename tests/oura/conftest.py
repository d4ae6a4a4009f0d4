"""Fixtures of the assembled service: a small generated region served by the whole app."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class LiveRegion:
    registry: Path
    control_url: str  # the demo publisher's POST /control/events (an operator's cancellations, delays)


@asynccontextmanager
async def live_region(folder: Path, clock: FixedClock, poll_networks: str = r"[\w-]+") -> AsyncIterator[LiveRegion]:
    """A generated region (scale 0.1, seed 5, from the clock's day) with its realtime publisher
    running, the networks matching ``poll_networks`` polled every second (20 s in the demo), so
    what a test measures is the service, not the polling interval."""
    from oura.demo.generate import generate_region
    from oura.demo.realtime import create_realtime_app

    port = free_port()
    generate_region(folder, seed=5, scale=0.1, start_date=clock.now().date(), fmt="zip",
                    realtime_base_url=f"http://127.0.0.1:{port}")
    registry = folder / "registry.toml"
    text, count = re.subn(rf'(id = "{poll_networks}"\n(?:.*\n)*?\s*poll_s = )\d+', r"\g<1>1",
                          registry.read_text(encoding="utf-8"))
    assert count, f"no network of the demo registry matching {poll_networks!r} has a realtime poll_s"
    registry.write_text(text, encoding="utf-8")
    publisher = TestServer(create_realtime_app(registry, seed=5, clock=clock.now), host="127.0.0.1", port=port)
    await publisher.start_server()
    try:
        yield LiveRegion(registry, f"http://127.0.0.1:{port}/control/events")
    finally:
        await publisher.close()
