"""Acceptance of operator disruptions (issue 13) on the served demo region, over HTTP.

The network's authority closes the stop where the best journey boards: the next snapshot's
journeys neither board nor alight there; another authority's key gets 403; the closure is in the
public GTFS-realtime alerts (parsed with gtfs-realtime-bindings); ending it restores the journey.
It cancels the best journey's first trip (journeys avoid it; /v1/gtfs-rt/trip-updates carries it)
and adds a replacement bus a minute later (a journey rides it).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from google.transit import gtfs_realtime_pb2 as pb

from feeds.authorities import load_registry
from oura.app import create_app
from oura.auth import create_key
from oura.clock import FixedClock
from oura.keys import POOL
from tests.oura.conftest import wait_ready

pytestmark = pytest.mark.slow
QUERY_AT = "2025-03-05T07:30:00+01:00"


def _stops_used(journey: dict) -> set[str]:
    """Where a journey boards or alights (its transit legs' ends)."""
    return {leg[end]["id"] for leg in journey["legs"] if leg["type"] == "transit" for end in ("from", "to")}


async def _journeys(client, origin: str, destination: str) -> list[dict]:
    response = await client.get("/v1/journeys", params={"from": origin, "to": destination, "datetime": QUERY_AT,
                                                        "num": "5"})
    body = await response.json()
    assert response.status == 200, body
    return body["journeys"]


async def _poll(check, timeout_s: float = 5.0):  # noqa: ANN001, ANN202 - an async predicate
    """The predicate's last value, polled until it holds or the time is up (the next snapshot)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = await check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.2)


async def test_an_authority_closes_a_stop_and_lifts_it(small_region, app_config, make_client):
    registry = load_registry(small_region)
    owner = registry.find_network("tcl").authority_id
    stranger = next(a.id for a in registry if a.id != owner)
    config = replace(app_config, feeds=replace(app_config.feeds, registry=small_region, ingest_on_start=True, realtime=False))
    client = await make_client(create_app(config, clock=FixedClock(datetime(2025, 3, 5, 6, 0, tzinfo=UTC))))
    ready = await wait_ready(client)
    assert ready["status"] == "ready", ready

    stops = (await (await client.get("/v1/stops", params={"q": "bellecour"})).json())["stops"]
    origin = next(s["id"] for s in stops if s["id"].startswith("tcl:"))
    stops = (await (await client.get("/v1/stops", params={"q": "part-dieu"})).json())["stops"]
    destination = next(s["id"] for s in stops if s["id"].startswith("tcl:"))
    before = await _journeys(client, origin, destination)
    assert before, f"no journey from {origin} to {destination}"
    first_leg = next(leg for leg in before[0]["legs"] if leg["type"] == "transit")
    closed = first_leg["from"]["id"]  # where the best journey boards
    assert closed.startswith("tcl:")

    _, owner_token = await create_key(client.app[POOL], "authority", owner)
    _, stranger_token = await create_key(client.app[POOL], "authority", stranger)
    body = {"kind": "close_stop", "stop_id": closed, "cause": "CONSTRUCTION",
            "period": {"start": "2025-03-05T06:00:00+01:00", "end": "2025-03-05T20:00:00+01:00"},
            "header": {"fr": "Arrêt fermé pour travaux", "en": "Stop closed for works"}}
    refused = await client.post("/v1/disruptions", json=body, headers={"Authorization": f"Bearer {stranger_token}"})
    assert refused.status == 403 and (await refused.json())["code"] == "other_authority"
    created = await client.post("/v1/disruptions", json=body, headers={"Authorization": f"Bearer {owner_token}"})
    disruption = await created.json()
    assert created.status == 201, disruption

    async def avoids_it() -> list[dict] | None:
        journeys = await _journeys(client, origin, destination)
        return journeys if journeys and all(closed not in _stops_used(j) for j in journeys) else None

    after = await _poll(avoids_it)
    assert after, f"journeys still board or alight at {closed}: {[sorted(_stops_used(j)) for j in await _journeys(client, origin, destination)]}"

    feed = await client.get("/v1/gtfs-rt/alerts")
    message = pb.FeedMessage()
    message.ParseFromString(await feed.read())
    ours = [e for e in message.entity if e.id == disruption["alert_id"]]
    assert ours and [s.stop_id for s in ours[0].alert.informed_entity] == [closed]
    assert ours[0].alert.effect == pb.Alert.NO_SERVICE

    ended = await client.delete(f"/v1/disruptions/{disruption['id']}", headers={"Authorization": f"Bearer {owner_token}"})
    assert ended.status == 200

    async def uses_it_again() -> bool:
        return closed in _stops_used((await _journeys(client, origin, destination))[0])

    assert await _poll(uses_it_again), "the best journey does not board at the stop again after the closure ended"


async def test_cancelled_trips_and_a_replacement_bus_reach_the_journeys(small_region, app_config, make_client):
    registry = load_registry(small_region)
    owner = registry.find_network("tcl").authority_id
    config = replace(app_config, feeds=replace(app_config.feeds, registry=small_region, ingest_on_start=True, realtime=False))
    client = await make_client(create_app(config, clock=FixedClock(datetime(2025, 3, 5, 6, 0, tzinfo=UTC))))
    assert (await wait_ready(client))["status"] == "ready"
    stops = (await (await client.get("/v1/stops", params={"q": "bellecour"})).json())["stops"]
    origin = next(s["id"] for s in stops if s["id"].startswith("tcl:"))
    stops = (await (await client.get("/v1/stops", params={"q": "part-dieu"})).json())["stops"]
    destination = next(s["id"] for s in stops if s["id"].startswith("tcl:"))
    leg = next(leg for leg in (await _journeys(client, origin, destination))[0]["legs"] if leg["type"] == "transit")
    trip_id, service_date = leg["trip_id"], leg["service_date"].replace("-", "")
    _, token = await create_key(client.app[POOL], "authority", owner)
    auth = {"Authorization": f"Bearer {token}"}
    period = {"start": "2025-03-05T06:00:00+01:00", "end": "2025-03-05T20:00:00+01:00"}

    cancel = await client.post("/v1/disruptions", headers=auth, json={
        "kind": "cancel_trips", "trip_ids": [trip_id], "service_dates": [service_date], "period": period,
        "header": {"fr": "Course supprimée"}})
    assert cancel.status == 201, await cancel.json()

    async def avoids_the_trip() -> bool:
        journeys = await _journeys(client, origin, destination)
        return bool(journeys) and all(l.get("trip_id") != trip_id for j in journeys for l in j["legs"])

    assert await _poll(avoids_the_trip), f"journeys still ride the cancelled trip {trip_id}"
    updates = await (await client.get("/v1/gtfs-rt/trip-updates", params={"format": "json"})).json()
    assert [(e["trip_update"]["trip"]["trip_id"], e["trip_update"]["trip"]["schedule_relationship"])
            for e in updates["entity"]] == [(trip_id, "CANCELED")]

    # a replacement bus on the cancelled trip's route, leaving its boarding stop 1 min after it would have
    bus = await client.post("/v1/disruptions", headers=auth, json={
        "kind": "replacement_bus", "route_id": leg["route"]["id"], "period": period, "header": {"fr": "Bus relais"},
        "stop_times": [{"stop_id": leg["from"]["id"], "departure": _plus(leg["departure"], 60)},
                       {"stop_id": leg["to"]["id"], "arrival": _plus(leg["arrival"], 60)}]})
    created = await bus.json()
    assert bus.status == 201, created

    async def rides_the_bus() -> bool:
        journeys = await _journeys(client, origin, destination)
        return any(l.get("trip_id", "").startswith(f"tcl:oura-disruption-{created['id']}-") for j in journeys
                   for l in j["legs"])

    assert await _poll(rides_the_bus), "no journey rides the replacement bus"


def _plus(iso: str, seconds: int) -> str:
    return (datetime.fromisoformat(iso) + timedelta(seconds=seconds)).isoformat()


async def test_a_cut_route_section_is_not_ridden_across(small_region, app_config, make_client):
    registry = load_registry(small_region)
    owner = registry.find_network("tcl").authority_id
    config = replace(app_config, feeds=replace(app_config.feeds, registry=small_region, ingest_on_start=True, realtime=False))
    client = await make_client(create_app(config, clock=FixedClock(datetime(2025, 3, 5, 6, 0, tzinfo=UTC))))
    assert (await wait_ready(client))["status"] == "ready"
    stops = (await (await client.get("/v1/stops", params={"q": "bellecour"})).json())["stops"]
    origin = next(s["id"] for s in stops if s["id"].startswith("tcl:"))
    stops = (await (await client.get("/v1/stops", params={"q": "part-dieu"})).json())["stops"]
    destination = next(s["id"] for s in stops if s["id"].startswith("tcl:"))
    leg = next(leg for leg in (await _journeys(client, origin, destination))[0]["legs"] if leg["type"] == "transit")
    route, ends = leg["route"]["id"], (leg["from"]["id"], leg["to"]["id"])
    _, token = await create_key(client.app[POOL], "authority", owner)
    created = await client.post("/v1/disruptions", headers={"Authorization": f"Bearer {token}"}, json={
        "kind": "cut_route", "route_id": route, "from_stop_id": ends[0], "to_stop_id": ends[1],
        "period": {"start": "2025-03-05T06:00:00+01:00", "end": "2025-03-05T20:00:00+01:00"},
        "header": {"fr": "Ligne coupée"}})
    assert created.status == 201, await created.json()

    async def not_across() -> bool:
        journeys = await _journeys(client, origin, destination)
        return bool(journeys) and not any(
            l["type"] == "transit" and l["route"]["id"] == route and (l["from"]["id"], l["to"]["id"]) == ends
            for j in journeys for l in j["legs"])

    assert await _poll(not_across), f"a journey still rides {route} from {ends[0]} to {ends[1]}"
