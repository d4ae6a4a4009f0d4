"""Fixtures shared by the planner's HTTP tests: the demo region's Chambéry network, and a client
of an app that serves one compiled network."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import pytest

from feeds.gtfs.reader import read_gtfs
from journey_planner.compile import Network, compile_network
from journey_planner.http import routes
from journey_planner.service import PlannerService
from journey_planner.startup import PLANNER, planner_context
from oura.app import create_app
from oura.clock import Clock
from oura.demo.generate import get_service_start, list_feed_builders, write_feed


@pytest.fixture(scope="session")
def chambery(tmp_path_factory) -> Network:
    """The demo region's Chambéry feed (Synchro Bus; seed 5, scale 1, two weeks from Monday
    2025-03-03), compiled."""
    out = tmp_path_factory.mktemp("demo-chambery")
    index = [name for name, _ in list_feed_builders(1.0)].index("synchro")
    summary = write_feed(index, out, seed=5, scale=1.0, service_start=get_service_start(date(2025, 3, 5)),
                         days=14, fmt="dir")
    return compile_network([("synchro", read_gtfs(out / summary.path))])


@pytest.fixture
def serve_network(app_config, make_client) -> Callable[[Network, Clock], Awaitable[object]]:
    """``await serve_network(network, clock)``: a test client of the planner's routes over it
    (``client.service``: its `PlannerService`)."""

    async def serve(network: Network, clock: Clock):
        app = create_app(app_config, clock=clock, extra_routes=[routes], extra_contexts=[planner_context])
        service = PlannerService.of_network(network, clock)
        app[PLANNER] = service
        client = await make_client(app)
        client.service = service
        return client

    return serve
