"""Carpool in journeys over HTTP on the demo region, with its carpool operator (issue 16).

A village with no bus (Lamastre, Ardèche: no stop of the generated region within walking reach)
gets a car to a railway station and the train on to Lyon, priced apart from the fare; the leg's
offer books once with the same key; an operator that hangs or answers 500 leaves the journey to
transit, reported, within the operator's timeout (the elapsed time is printed, not asserted).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from journey_planner.carpool.client import OperatorConfig
from journey_planner.carpool.startup import CARPOOL_OPERATORS
from oura.app import create_app
from oura.clock import FixedClock
from oura.demo.carpool_operator import DEMO_CARPOOL_OPERATOR, create_carpool_operator_app
from oura.demo.generate import generate_region
from tests.oura.conftest import wait_ready

pytestmark = [pytest.mark.http, pytest.mark.slow]

LAMASTRE = "44.9870,4.5800"  # a village of the Ardèche coach network, no stop in the generated region
AUBENAS = "44.6200,4.3900"  # a town with one coach stop
LYON = "ter:lyon-part-dieu"
MORNING = "2025-03-05T06:30:00+01:00"  # a Wednesday: the demo operator's drivers leave 06:30-09:00
ALL_MODES = "transit,walk,carpool"


def _km(a: dict, b: dict) -> float:
    from math import asin, cos, radians, sin, sqrt

    dlat, dlon = radians(b["lat"] - a["lat"]), radians(b["lon"] - a["lon"])
    h = sin(dlat / 2) ** 2 + cos(radians(a["lat"])) * cos(radians(b["lat"])) * sin(dlon / 2) ** 2
    return 2 * 6371.0 * asin(sqrt(h))


def _at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


@pytest.fixture
async def region_app(tmp_path: Path, app_config, make_client):
    out = tmp_path / "region"
    generate_region(out, seed=5, scale=0.1, start_date=datetime(2025, 3, 5).date(), fmt="zip")
    operator = TestServer(create_carpool_operator_app(seed=1))
    await operator.start_server()
    url = str(operator.make_url("")).rstrip("/")
    config = replace(app_config, feeds=replace(app_config.feeds, registry=out / "registry.toml",
                                               ingest_on_start=True, realtime=False))
    app = create_app(config, clock=FixedClock(datetime(2025, 3, 5, 5, 0, tzinfo=UTC)))
    app[CARPOOL_OPERATORS] = (OperatorConfig(id=DEMO_CARPOOL_OPERATOR, base_url=url, timeout_s=0.3, cache_ttl_s=0),)
    try:
        client = await make_client(app)
        ready = await wait_ready(client, 240.0)
        assert ready["status"] == "ready", ready
        yield client, operator
    finally:
        await operator.close()


async def _journeys(client, origin: str, at: str = MORNING, modes: str | None = ALL_MODES, status: int = 200) -> dict:
    params = {"from": origin, "to": LYON, "datetime": at, "num": "5"}
    if modes is not None:
        params["modes"] = modes
    response = await client.get("/v1/journeys", params=params)
    body = await response.json()
    assert response.status == status, body
    return body


async def test_a_village_without_a_bus_gets_a_car_to_the_train(region_app):
    client, _ = region_app
    # Without carpool, the village is out of reach: no stop within walking distance.
    refused = await _journeys(client, LAMASTRE, modes=None, status=400)
    assert refused["code"] == "no_stop_nearby"

    body = await _journeys(client, LAMASTRE)
    assert body["query"]["modes"] == ["carpool", "transit", "walk"]
    assert body["carpool"]["searched"] and body["carpool"]["operator_errors"] == []
    assert body["journeys"], body
    village = {"lat": 44.9870, "lon": 4.5800}
    for journey in body["journeys"]:
        legs = journey["legs"]
        car = legs[0]
        assert car["type"] == car["mode"] == "carpool" and car["operator"] == DEMO_CARPOOL_OPERATOR
        assert _km(village, car["from"]) <= 1.0, "the pickup is in the village"
        rides = [leg for leg in legs if leg["type"] == "transit"]
        assert rides and rides[0]["mode"] == "rail", [leg["type"] for leg in legs]
        station = rides[0]["from"]
        assert _km(car["to"], station) <= 1.0, "the car drops at the station the train leaves from"
        assert _at(rides[0]["departure"]) >= _at(car["arrival"]) + 300, "time to get from the car to the train"
        assert rides[-1]["to"]["id"].startswith(LYON)
        assert journey["departure"] == car["departure"] and journey["arrival"] == rides[-1]["arrival"]
        assert _at(journey["departure"]) >= _at(MORNING)
        assert car["seats"] >= 1 and car["booking"]["driver_journey_id"]
        # Priced apart: the fare is the train's alone, the total adds the driver's share.
        fare = journey["fare"]
        assert fare is not None and len(fare["legs"]) == len(rides)
        assert car["price"]["type"] == "PAYING" and car["price"]["amount_minor"] > 0
        assert journey["total_price"]["total_minor"] == fare["total_minor"] + car["price"]["amount_minor"]
        assert journey["transfers"] == len(rides)  # the car is a vehicle: car + n trains = n changes

    # The offer books once with the same key.
    car = body["journeys"][0]["legs"][0]
    booking = {"operator": car["booking"]["operator"], "driver_journey_id": car["booking"]["driver_journey_id"],
               "passenger": {"alias": "Léa", "last_name": "Martin", "phone": "+33601020304"}}
    first = await client.post("/v1/carpool/bookings", json=booking, headers={"Idempotency-Key": "lamastre-1"})
    again = await client.post("/v1/carpool/bookings", json=booking, headers={"Idempotency-Key": "lamastre-1"})
    assert first.status == 201, await first.text()
    assert again.status == 200 and (await again.json())["id"] == (await first.json())["id"]


async def test_carpool_only_when_asked_and_the_answer_keeps_transit(region_app):
    client, _ = region_app
    plain = await _journeys(client, AUBENAS, modes=None)
    assert "carpool" not in plain and plain["query"]["modes"] == ["transit", "walk"]
    assert all(leg["type"] != "carpool" for j in plain["journeys"] for leg in j["legs"])
    asked = await _journeys(client, AUBENAS)
    transit = [j for j in asked["journeys"] if all(leg["type"] != "carpool" for leg in j["legs"])]
    chained = [j for j in asked["journeys"] if any(leg["type"] == "carpool" for leg in j["legs"])]
    assert chained, "Aubenas has a driver to Montélimar that morning"
    # A chained itinerary is shown only when no transit journey leaves later and arrives earlier.
    for c in chained:
        assert not any(_at(t["departure"]) >= _at(c["departure"]) and _at(t["arrival"]) <= _at(c["arrival"])
                       for t in plain["journeys"])
    assert {j["id"] for j in transit} <= {j["id"] for j in plain["journeys"]}
    bad = await client.get("/v1/journeys", params={"from": AUBENAS, "to": LYON, "modes": "transit,car"})
    assert bad.status == 400 and (await bad.json())["code"] == "invalid_modes"


@pytest.mark.parametrize("mode, failure", [("hang", "timeout"), ("fail_500", "server_error")])
async def test_a_failing_operator_leaves_the_journey_to_transit(region_app, mode, failure):
    client, operator = region_app
    async with client.session.post(operator.make_url("/control/mode"), json={"mode": mode}) as r:
        assert r.status == 200
    started = time.perf_counter()
    body = await _journeys(client, AUBENAS, at="2025-03-05T06:00:00+01:00")
    elapsed_ms = (time.perf_counter() - started) * 1000
    print(f"\noperator {mode}: journey answered in {elapsed_ms:.0f} ms (operator timeout 300 ms)")
    failures = {e["failure"] for e in body["carpool"]["operator_errors"]}
    assert failure in failures, body["carpool"]
    assert body["journeys"] and all(leg["type"] != "carpool" for j in body["journeys"] for leg in j["legs"])
    assert any(leg["type"] == "transit" for leg in body["journeys"][0]["legs"])
