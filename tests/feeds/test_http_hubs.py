"""REST: GET /v1/hubs on a real app and database, over two tiny inline networks of one city.

FEATURE UNDER TEST: a rail network and a tram network describe the same places (Part-Dieu and
Perrache stations, the tram stops in front of them) with unrelated ids; the hubs join them, are
computed once per set of served versions (503 with Retry-After before the first ingestion round),
are computed again when a new version is accepted, and are filtered by query parameters.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import zipfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from feeds.startup import HUBS, REGISTRY, SCHEDULER
from feeds.ingest import Outcome
from oura.app import create_app
from oura.clock import FixedClock
from tests.registry_toml import TestNetwork, write_registry

COMMON = {
    "calendar.txt": """service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
ALL,1,1,1,1,1,1,1,20260101,20261231
""",
}
RAIL = {
    **COMMON,
    "agency.txt": """agency_id,agency_name,agency_url,agency_timezone
sncf,SNCF,https://example.org,Europe/Paris
""",
    "stops.txt": """stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
PD,Gare Part-Dieu,45.7606,4.8594,1,
P1,Part-Dieu voie 1,45.7606,4.8594,0,PD
P2,Part-Dieu voie 2,45.7608,4.8596,0,PD
PE,Gare Perrache,45.7485,4.8255,1,
Q1,Perrache voie 1,45.7485,4.8255,0,PE
""",
    "routes.txt": """route_id,agency_id,route_short_name,route_type
TER,sncf,TER,2
""",
    "trips.txt": """route_id,service_id,trip_id
TER,ALL,R1
""",
    "stop_times.txt": """trip_id,arrival_time,departure_time,stop_id,stop_sequence
R1,08:00:00,08:00:00,P1,1
R1,08:06:00,08:06:00,Q1,2
""",
}
TRAM = {
    **COMMON,
    "agency.txt": """agency_id,agency_name,agency_url,agency_timezone
tcl,TCL,https://example.org,Europe/Paris
""",
    "stops.txt": """stop_id,stop_name,stop_lat,stop_lon
T1,Part-Dieu Gare,45.7610,4.8600
T2,Perrache,45.7488,4.8260
T4,Bellecour A,45.7578,4.8320
T5,Bellecour B,45.7580,4.8322
T3,Vaulx,45.8000,4.9000
""",
    "routes.txt": """route_id,agency_id,route_short_name,route_type
T,tcl,T1,0
""",
    "trips.txt": """route_id,service_id,trip_id
T,ALL,M1
""",
    "stop_times.txt": """trip_id,arrival_time,departure_time,stop_id,stop_sequence
M1,08:00:00,08:00:00,T3,1
M1,08:10:00,08:10:00,T1,2
M1,08:15:00,08:15:00,T4,3
M1,08:17:00,08:17:00,T5,4
M1,08:20:00,08:20:00,T2,5
""",
}
PART_DIEU = (45.7606, 4.8594)
CLOCK_START = dt.datetime(2026, 3, 2, 7, tzinfo=dt.UTC)


def _write_folder(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _registry(tmp_path: Path, *, rail: str, tram: str) -> Path:
    return write_registry(
        tmp_path / "registry.toml",
        TestNetwork("region", "rail", rail, authority_name="Région", network_name="TER", kind="region"),
        TestNetwork("sytral", "tram", tram, network_name="TCL"),
        region="Lyon (test)", timezone="Europe/Paris",
    )


async def _app_client(app_config, make_client, registry: Path) -> TestClient:
    config = replace(app_config, feeds=replace(app_config.feeds, registry=registry, ingest_on_start=True,
                                               realtime=False))
    return await make_client(create_app(config, clock=FixedClock(CLOCK_START)))


async def _until_computed(client: TestClient, **params: str) -> dict:
    """Poll /v1/hubs until the first computation is published (ingestion runs in the background)."""
    for _ in range(400):
        response = await client.get("/v1/hubs", params=params)
        if response.status != 503:
            assert response.status == 200, await response.text()
            return await response.json()
        await asyncio.sleep(0.1)
    raise AssertionError("the hubs were never computed")


@pytest_asyncio.fixture
async def gated_server() -> AsyncIterator[tuple[str, asyncio.Event, dict[str, bytes]]]:
    """A feed server that holds every answer until the test opens the gate: the first ingestion
    round stays unfinished for as long as the test needs."""
    gate = asyncio.Event()
    served: dict[str, bytes] = {}

    async def handle(request: web.Request) -> web.Response:
        await gate.wait()
        return web.Response(body=served[request.path], content_type="application/zip")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), gate, served
    finally:
        gate.set()
        await server.close()


@pytest.fixture
def folder_registry(tmp_path: Path) -> Path:
    return _registry(tmp_path, rail=str(_write_folder(tmp_path / "rail", RAIL)),
                     tram=str(_write_folder(tmp_path / "tram", TRAM)))


async def test_hubs_are_503_until_the_first_round_then_computed_once_per_version_set(
        app_config, make_client, tmp_path: Path, gated_server) -> None:
    base_url, gate, served = gated_server
    served["/rail.zip"] = _zip(RAIL)
    registry = _registry(tmp_path, rail=f"{base_url}/rail.zip", tram=str(_write_folder(tmp_path / "tram", TRAM)))
    client = await _app_client(app_config, make_client, registry)

    response = await client.get("/v1/hubs")
    assert response.status == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "10"
    assert (await response.json())["code"] == "hubs_not_ready"

    gate.set()
    body = await _until_computed(client)
    assert [hub["hub_id"] for hub in body["hubs"]] == ["hub:rail:PD", "hub:rail:PE"]
    first = client.app[HUBS].current
    await client.get("/v1/hubs", params={"near": "45.75,4.83"})
    assert client.app[HUBS].current is first  # requests read the computed set; they never recompute

    # a new rail version with a station at Bellecour: the tram's Bellecour stops become an interchange
    served["/rail.zip"] = _zip({**RAIL, "stops.txt": RAIL["stops.txt"] + "BC,Bellecour,45.7579,4.8321,0,\n"})
    rail = next(n for n in client.app[REGISTRY].list_networks() if n.id == "rail")
    outcome = await client.app[SCHEDULER].ingest_once(rail)
    assert outcome.outcome is Outcome.ACCEPTED
    for _ in range(400):  # bounded: the recomputation runs in the background
        if client.app[HUBS].current is not first:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the hubs were not recomputed after the new rail version")
    body = await (await client.get("/v1/hubs")).json()
    assert [hub["hub_id"] for hub in body["hubs"]] == ["hub:rail:BC", "hub:rail:PD", "hub:rail:PE"]
    assert [s["stop_id"] for s in body["hubs"][0]["stops"]] == ["rail:BC", "tram:T4", "tram:T5"]


async def test_hub_shape_filters_and_order(app_config, make_client, folder_registry) -> None:
    client = await _app_client(app_config, make_client, folder_registry)
    body = await _until_computed(client)
    assert body["total"] == 2
    part_dieu = body["hubs"][0]
    assert part_dieu["hub_id"] == "hub:rail:PD" and part_dieu["name"] == "Gare Part-Dieu"
    assert part_dieu["networks"] == ["rail", "tram"] and part_dieu["interchange"] is True
    lon, lat = part_dieu["geometry"]["coordinates"]
    assert part_dieu["geometry"]["type"] == "Point" and 4.859 < lon < 4.861 and 45.760 < lat < 45.762
    assert [(s["stop_id"], s["network_id"], s["name"]) for s in part_dieu["stops"]] == [
        ("rail:PD", "rail", "Gare Part-Dieu"), ("tram:T1", "tram", "Part-Dieu Gare")]
    # the centre lies between the station and the tram stop (about 60 m apart)
    assert all(10 < s["distance_m"] < 50 for s in part_dieu["stops"])

    every = await (await client.get("/v1/hubs", params={"interchanges_only": "false"})).json()
    assert [h["hub_id"] for h in every["hubs"]] == ["hub:rail:PD", "hub:rail:PE", "hub:tram:T4"]
    assert every["hubs"][2]["networks"] == ["tram"] and every["hubs"][2]["interchange"] is False

    rail_only = await (await client.get("/v1/hubs", params={"interchanges_only": "0", "network": "rail"})).json()
    assert [h["hub_id"] for h in rail_only["hubs"]] == ["hub:rail:PD", "hub:rail:PE"]

    near = f"{PART_DIEU[0]},{PART_DIEU[1]}"
    close = await (await client.get("/v1/hubs", params={"near": near, "radius_m": "500"})).json()
    assert [h["hub_id"] for h in close["hubs"]] == ["hub:rail:PD"] and close["hubs"][0]["distance_m"] < 50
    around = await (await client.get("/v1/hubs", params={"near": near, "radius_m": "50000",
                                                         "interchanges_only": "false"})).json()
    assert [h["hub_id"] for h in around["hubs"]] == ["hub:rail:PD", "hub:tram:T4", "hub:rail:PE"]  # nearest first
    distances = [h["distance_m"] for h in around["hubs"]]
    assert distances == sorted(distances) and 2000 < distances[1] < 2300

    limited = await (await client.get("/v1/hubs", params={"limit": "1"})).json()
    assert limited["total"] == 2 and [h["hub_id"] for h in limited["hubs"]] == ["hub:rail:PD"]

    response = await client.get("/v1/hubs", params={"network": "metro"})
    assert response.status == 404 and (await response.json())["code"] == "unknown_network"


@pytest.mark.parametrize("params", [
    {"interchanges_only": "maybe"}, {"limit": "0"}, {"limit": "501"}, {"limit": "x"},
    {"near": "91,4.8"}, {"near": "lyon"}, {"near": "45.76,4.86", "radius_m": "50001"},
    {"near": "45.76,4.86", "radius_m": "0"}, {"near": "45.76,4.86", "radius_m": "nan"}, {"radius_m": "100"},
])
async def test_bad_parameters_are_400_problems(client, params) -> None:
    response = await client.get("/v1/hubs", params=params)
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert problem["invalid_params"][0]["name"] in params


async def test_without_a_registry_there_are_no_hubs(client) -> None:
    response = await client.get("/v1/hubs")
    assert response.status == 200
    assert await response.json() == {"total": 0, "hubs": []}
