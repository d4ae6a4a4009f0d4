"""HTTP: GET /v1/stops on the demo region (oura.demo, scale 0.1) as a traveller types, and hub ids
as journey places.

The fast tests serve the planner's routes over the region's compiled network, and publish the
hubs feeds compute from its feeds as feeds do (the assembly hands them to the planner); the slow one serves the whole app (ingestion, then the assembly hands the
hubs to the planner) and plans from a hub id found by search.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from feeds.adapters import read_network_feed
from feeds.hubs import HUB_INPUT_FILES, list_hubs
from feeds.startup import HUBS, HubSet
from journey_planner.compile import FeedSource, load_network
from journey_planner.http import routes
from journey_planner.service import PlannerService
from journey_planner.startup import PLANNER, planner_context
from oura.app import create_app
from oura.clock import FixedClock
from tests.oura.conftest import REGION_START, serve_ready_region

MORNING = "2025-03-05T08:00:00+01:00"  # a weekday of the generated region


@pytest.fixture(scope="module")
def demo_region(tmp_path_factory) -> Path:
    """The generated region's folder (feeds as folders, registry.toml)."""
    from oura.demo.generate import generate_region

    out = tmp_path_factory.mktemp("stop-search-region")
    generate_region(out, seed=5, scale=0.1, start_date=REGION_START.date(), fmt="dir")
    return out


@pytest.fixture(scope="module")
def demo_network_and_hubs(demo_region):
    feeds = sorted(p for p in (demo_region / "gtfs").iterdir() if p.is_dir())
    network = load_network([FeedSource(p.name, p, timezone="Europe/Paris") for p in feeds], cache_dir=None)
    tables = {p.name: read_network_feed(p, None, only=list(HUB_INPUT_FILES)) for p in feeds}
    return network, tuple(list_hubs(tables))


@pytest.fixture
async def demo_client(demo_network_and_hubs, app_config, make_client):
    network, hubs = demo_network_and_hubs
    clock = FixedClock(REGION_START)
    service = PlannerService.of_network(network, clock)
    app = create_app(app_config, clock=clock, extra_routes=[routes], extra_contexts=[planner_context])
    app[PLANNER] = service
    client = await make_client(app)
    # as feeds publish a computed set (the app has no registry: it published an empty one at start)
    app[HUBS].publish(HubSet(versions=(), hubs=hubs))
    for _ in range(200):
        if len(service.hubs) == len(hubs):
            return client
        await asyncio.sleep(0.05)
    pytest.fail("the assembly never handed the hubs to the planner")


async def stops(client, q: str, **params: str) -> list[dict]:
    response = await client.get("/v1/stops", params={"q": q, **params})
    assert response.status == 200, await response.text()
    return (await response.json())["stops"]


async def test_a_typo_finds_grenoble(demo_client):
    found = await stops(demo_client, "grenobel")
    first_stop = next(s for s in found if s["location_type"] != "hub")
    assert first_stop["id"] == "ter:grenoble" and first_stop["name"] == "Grenoble"
    assert {"L1", "L8"} <= {line["short_name"] for line in first_stop["lines"]}  # Lyon and Chambéry trains
    assert first_stop["network"] == "ter" and first_stop["departures_per_day"] > 10


async def test_st_etienne_finds_chateaucreux_first(demo_client):
    found = await stops(demo_client, "st etienne", limit="5")
    hub = found[0]
    assert hub["location_type"] == "hub" and hub["name"] == "Saint-Étienne Châteaucreux"
    assert {"ter", "stas"} <= set(hub["networks"])  # the station and the tram stop in front of it
    assert "ter:saint-etienne" in [m["id"] for m in hub["members"]]
    assert "ter:saint-etienne" in [s["id"] for s in found]


async def test_same_name_stops_of_several_networks_are_told_apart(demo_client):
    found = await stops(demo_client, "grenoble gare routiere")
    routieres = [s for s in found if s["name"] == "Grenoble Gare routière"]
    assert len(routieres) == 2  # a departmental and a regional coach station, 100 m apart
    assert len({s["label"] for s in routieres}) == 2
    assert {s["disambiguation"] for s in routieres} == {s["network"] for s in routieres}


async def test_a_hub_found_by_search_is_a_journey_origin(demo_client, demo_network_and_hubs):
    network, _ = demo_network_and_hubs
    hub = next(s for s in await stops(demo_client, "grenoble") if s["location_type"] == "hub")
    assert {"ter", "m-reso"} <= set(hub["networks"])
    response = await demo_client.get("/v1/journeys", params={"from": hub["id"], "to": "ter:chambery",
                                                             "datetime": MORNING})
    body = await response.json()
    assert response.status == 200, body
    assert body["journeys"], "no journey from the Grenoble hub to Chambéry"
    members = {m["id"] for m in hub["members"]}
    for journey in body["journeys"]:  # every journey leaves from one of the hub's stations
        first = network.find_stop(journey["legs"][0]["from"]["id"])
        parent = int(network.timetable.stop_parent[first])
        assert {str(network.stop_ids[first]), str(network.stop_ids[parent]) if parent >= 0 else ""} & members


async def test_an_unknown_hub_id_is_an_unknown_place(demo_client):
    response = await demo_client.get("/v1/journeys", params={"from": "hub:nowhere", "to": "ter:chambery",
                                                             "datetime": MORNING})
    assert response.status == 400
    assert (await response.json())["code"] == "unknown_place"


@pytest.mark.slow
async def test_the_assembled_app_hands_feeds_hubs_to_the_planner(demo_region, app_config, make_client):
    client = await serve_ready_region(demo_region / "registry.toml", app_config, make_client)
    for _ in range(120):  # the hubs are computed beside the timetable, after the same ingestion round
        hubs = [s for s in await stops(client, "part dieu") if s["location_type"] == "hub"]
        if hubs:
            break
        await asyncio.sleep(0.5)
    else:
        pytest.fail("no hub in stop search: the hubs never reached the planner")
    listed = await (await client.get("/v1/hubs", params={"near": f"{hubs[0]['lat']},{hubs[0]['lon']}",
                                                         "radius_m": "300"})).json()
    assert hubs[0]["id"] in [h["hub_id"] for h in listed["hubs"]]  # the ids GET /v1/hubs gives
    response = await client.get("/v1/journeys", params={"from": hubs[0]["id"], "to": "ter:grenoble",
                                                        "datetime": datetime(2025, 3, 5, 8).isoformat() + "+01:00"})
    body = await response.json()
    assert response.status == 200, body
    assert body["journeys"] and body["journeys"][0]["legs"][-1]["to"]["id"].startswith("ter:grenoble")
