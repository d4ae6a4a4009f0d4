"""The assembled service on a generated region: ingest -> compile -> plan -> price, over HTTP.

This is the path a traveller's request takes in production: the feeds package ingests every
network of the registry, the assembly compiles the current versions into the planner and the fare
catalogue, and `GET /v1/journeys` answers a cross-network trip priced by the ticketing engine.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from oura.app import create_app
from oura.clock import FixedClock
from oura.demo.generate import generate_region

pytestmark = pytest.mark.slow
TODAY = date(2025, 3, 5)


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    out = tmp_path_factory.mktemp("serving-region")
    generate_region(out, seed=5, scale=0.1, start_date=TODAY, fmt="zip")
    return out / "registry.toml"


async def _wait_ready(client, timeout_s: float = 180.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        body = await (await client.get("/readyz")).json()
        if body["status"] == "ready" or asyncio.get_running_loop().time() > deadline:
            return body
        await asyncio.sleep(0.5)


async def _first_stop(client, q: str, prefix: str) -> str:
    stops = (await (await client.get("/v1/stops", params={"q": q})).json())["stops"]
    matching = [s["id"] for s in stops if s["id"].startswith(prefix)]
    assert matching, f"no {prefix} stop for {q!r} in {[s['id'] for s in stops]}"
    return matching[0]


async def test_a_cross_network_journey_is_planned_and_priced(region, app_config, make_client):
    config = replace(
        app_config, feeds=replace(app_config.feeds, registry=region, ingest_on_start=True, realtime=False)
    )
    clock = FixedClock(datetime(2025, 3, 5, 6, 0, tzinfo=UTC))
    client = await make_client(create_app(config, clock=clock))
    ready = await _wait_ready(client)
    assert ready["status"] == "ready", ready
    assert ready["checks"]["timetable"]["ready"] and ready["checks"]["catalogue"]["ready"]

    origin = await _first_stop(client, "bellecour", "tcl:")
    # a Grenoble bus stop 2 km from the station: the train alone does not get there
    near = (await (await client.get("/v1/stops", params={"near": "45.1800,5.7400", "limit": "5"})).json())["stops"]
    destination = next(s["id"] for s in near if s["id"].startswith("m-reso:"))
    response = await client.get("/v1/journeys", params={
        "from": origin, "to": destination, "datetime": "2025-03-05T07:30:00+01:00",
        "num": "5", "rider_category": "youth",
    })
    body = await response.json()
    assert response.status == 200, body
    journeys = body["journeys"]
    assert journeys, "no journey from Lyon to Grenoble"
    for journey in journeys:
        transit = [leg for leg in journey["legs"] if leg["type"] == "transit"]
        networks = {leg["route"]["id"].split(":")[0] for leg in transit}
        assert "ter" in networks, f"Lyon -> Grenoble without the train: {networks}"
        assert journey["legs"][0]["from"]["id"].startswith(origin)  # the station or one of its platforms
        fare = journey["fare"]
        assert fare is not None and fare["rider_category_id"] == "youth"
        assert fare["total_minor"] > 0 and fare["currency"] == "EUR"
        # every transit leg is paid for: by a product of its own or as a transfer on an earlier one
        assert [leg["leg_index"] for leg in fare["legs"]] == list(range(len(transit)))
        assert all(leg["fare_product_ids"] for leg in fare["legs"]), fare["legs"]
        assert fare["total_minor"] == sum(p["price_minor"] for p in fare["products"])
    assert any(
        {leg["route"]["id"].split(":")[0] for leg in j["legs"] if leg["type"] == "transit"} >= {"tcl", "ter", "m-reso"}
        for j in journeys
    ), "the three networks of the trip appear in one itinerary"

    unknown = await client.get("/v1/journeys", params={"from": origin, "to": destination, "rider_category": "pirate"})
    assert unknown.status == 400
    assert (await unknown.json())["invalid_params"][0]["name"] == "rider_category"


async def test_live_realtime_reaches_journeys_through_the_ingested_versions(tmp_path, app_config, make_client):
    """The region's publisher -> pollers -> matching on the *ingested* versions -> the planner's
    single writer -> departures and journeys with realtime status."""
    import socket

    from aiohttp.test_utils import TestServer

    from oura.demo.realtime import create_realtime_app
    from oura.wiring import INDEXES

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "region"
    generate_region(out, seed=5, scale=0.1, start_date=TODAY, fmt="zip", realtime_base_url=f"http://127.0.0.1:{port}")
    clock = FixedClock(datetime(2025, 3, 5, 7, 30, tzinfo=UTC))
    publisher = TestServer(create_realtime_app(out / "registry.toml", seed=5, clock=clock.now), host="127.0.0.1", port=port)
    await publisher.start_server()
    try:
        config = replace(app_config, feeds=replace(app_config.feeds, registry=out / "registry.toml",
                                                    ingest_on_start=True, realtime=True))
        client = await make_client(create_app(config, clock=clock))
        assert (await _wait_ready(client))["status"] == "ready"
        body: dict = {}
        for _ in range(240):  # bounded: polls run every 30 s of the publisher's clock, first one at once
            body = await (await client.get("/v1/stops/tcl:bellecour/departures", params={"limit": "30"})).json()
            if any(d["realtime"] for d in body.get("departures", [])):
                break
            await asyncio.sleep(0.5)
        live = [d for d in body["departures"] if d["realtime"]]
        assert live, "no realtime departure at Bellecour"
        assert client.app[INDEXES].find("tcl") is not None, "matched against the ingested version"
        assert all(d["status"] in {"on_time", "delayed", "early", "skipped", "cancelled"} for d in live)
        journeys = await (await client.get("/v1/journeys", params={
            "from": "tcl:bellecour", "to": "45.1800,5.7400", "datetime": "2025-03-05T08:35:00+01:00"})).json()
        assert journeys["realtime"] is True and journeys["journeys"]
    finally:
        await publisher.close()
