"""HTTP: GET /v1/itineraries/{id} on the demo's Chambéry network: plan, take the id, publish
realtime (a delay breaking the change, a cancellation) and read the itinerary again."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from feeds.realtime.model import Alert, EntitySelector, ResolvedStopTimeUpdate, ResolvedTripUpdate
from journey_planner.itineraries import ItineraryRef, LegRef, decode_itinerary_id, encode_itinerary_id
from oura.clock import FixedClock
from tests.openapi_check import checker_for

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2025, 3, 5, 7, 0, tzinfo=PARIS)
# bus 14 to Centre (q6), a 2 min walk to q3, bus 3 from there: about 7 min to change
PLAN = {"from": "synchro:14-00a", "to": "synchro:3-00a", "datetime": "2025-03-05T08:00:00+01:00"}


@pytest.fixture
async def client(chambery, serve_network):
    return await serve_network(chambery, FixedClock(NOW))


async def planned(client) -> dict:
    """The first journey of PLAN with two rides."""
    body = await (await client.get("/v1/journeys", params=PLAN)).json()
    journey = next(j for j in body["journeys"] if sum(leg["type"] == "transit" for leg in j["legs"]) == 2)
    return journey


def updated(network, trip_id: str, delay_s: int = 0, *, canceled: bool = False) -> ResolvedTripUpdate:
    """``trip_id`` on 2025-03-05, ``delay_s`` late at every stop (or cancelled)."""
    tt = network.timetable
    day = network.find_day(date(2025, 3, 5))
    (trip,) = [t for t in network.list_trips(trip_id) if tt.service_days[tt.trip_service[t], day]]
    p = int(tt.trip_pattern[trip])
    s0, s1 = int(tt.pattern_stop_offsets[p]), int(tt.pattern_stop_offsets[p + 1])
    row0 = int(tt.pattern_stop_time_offsets[p]) + (trip - int(tt.pattern_trip_offsets[p])) * (s1 - s0)
    base = int(tt.day_base_s[day, tt.pattern_tz[p]])
    stus = tuple(
        ResolvedStopTimeUpdate(i, str(network.stop_ids[tt.pattern_stops[s0 + i]]),
                               base + int(tt.stop_time_arrival[row0 + i]) + delay_s,
                               base + int(tt.stop_time_departure[row0 + i]) + delay_s, delay_s, delay_s)
        for i in range(s1 - s0)
    )
    return ResolvedTripUpdate("synchro", trip_id, "20250305", canceled, False, () if canceled else stus)


async def refresh(client, itinerary_id: str, **params) -> dict:
    resp = await client.get(f"/v1/itineraries/{itinerary_id}", params=params)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_planned_itinerary_reads_back_as_its_journey(client):
    journey = await planned(client)
    rides = [leg for leg in journey["legs"] if leg["type"] == "transit"]
    body = await refresh(client, journey["id"])
    assert body["ok"] and body["problems"] == [] and body["id"] == journey["id"]
    assert [leg["leg"] for leg in body["legs"]] == rides  # exactly the legs of /v1/journeys
    assert [leg["status"] for leg in body["legs"]] == ["scheduled", "scheduled"]
    assert body["departure"] == rides[0]["departure"] and body["arrival"] == rides[1]["arrival"]
    assert body["legs"][0]["service_date"] == "2025-03-05"


async def test_a_delay_breaking_the_change_then_a_cancellation(client):
    journey = await planned(client)
    first, second = [leg for leg in journey["legs"] if leg["type"] == "transit"]
    network = client.service.get_snapshot().static
    await client.service.on_trip_updates("synchro", [updated(network, first["trip_id"], 180)], NOW)
    body = await refresh(client, journey["id"])
    assert body["ok"] and body["realtime"]  # 3 min late: the change still holds
    assert (body["legs"][0]["status"], body["legs"][0]["arrival_delay_s"]) == ("delayed", 180)
    assert body["legs"][0]["leg"]["arrival_delay_s"] == 180
    await client.service.on_trip_updates("synchro", [updated(network, first["trip_id"], 600)], NOW)
    body = await refresh(client, journey["id"])
    assert not body["ok"]
    assert [(p["code"], p["leg_index"]) for p in body["problems"]] == [("connection_missed", 1)]
    planned_view = await refresh(client, journey["id"], realtime="false")
    assert planned_view["ok"] and not planned_view["realtime"]
    assert [leg["status"] for leg in planned_view["legs"]] == ["scheduled", "scheduled"]
    await client.service.on_trip_updates("synchro", [updated(network, second["trip_id"], canceled=True)], NOW)
    body = await refresh(client, journey["id"])
    assert [(p["code"], p["leg_index"]) for p in body["problems"]] == [("trip_canceled", 1)]
    assert body["legs"][1]["status"] == body["legs"][1]["leg"]["status"] == "cancelled"
    assert body["legs"][1]["departure"] == second["departure"]  # shown at its scheduled time


async def test_a_stop_closed_by_a_feed_alert_breaks_the_leg_boarding_there_and_shows_the_alert(client):
    journey = await planned(client)
    second = [leg for leg in journey["legs"] if leg["type"] == "transit"][1]
    # the feed's alert, with the publisher's ids (the service namespaces them)
    stop_id = second["from"]["id"].removeprefix("synchro:")
    closure = Alert("closure", informed_entities=(EntitySelector(stop_id=stop_id),), effect="NO_SERVICE",
                    header_text={"": "Fermé", "en": "Stop closed"})
    await client.service.on_alerts("synchro", [closure], NOW)
    body = await refresh(client, journey["id"], lang="en")
    assert [(p["code"], p["leg_index"]) for p in body["problems"]] == [("boarding_stop_closed", 1)]
    assert body["legs"][0]["status"] == "scheduled" and body["legs"][1]["status"] == "skipped"
    assert [(a["id"], a["header"]) for a in body["legs"][1]["leg"]["alerts"]] == [("synchro:closure", "Stop closed")]
    await client.service.on_alerts("synchro", [], NOW)  # lifted
    assert (await refresh(client, journey["id"]))["ok"]


async def test_a_trip_gone_from_the_timetable_is_a_problem_not_a_404(client):
    journey = await planned(client)
    ref = decode_itinerary_id(journey["id"])
    first = LegRef("synchro:NO-SUCH-TRIP", "20250305", ref.legs[0].board_stop_id, ref.legs[0].alight_stop_id)
    gone = ItineraryRef((first, ref.legs[1]), ref.origin, ref.destination)
    body = await refresh(client, encode_itinerary_id(gone))
    assert not body["ok"]
    assert [(p["code"], p["leg_index"]) for p in body["problems"]] == [("trip_not_found", 0)]
    assert body["legs"][0]["leg"] is None and body["legs"][0]["departure"] is None


@pytest.mark.parametrize("bad", ["nope", "i1.AAAA", "i1." + "x" * 30])
async def test_damaged_ids_are_400_problems(client, bad):
    resp = await client.get(f"/v1/itineraries/{bad}")
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["code"] == "invalid_itinerary_id"


async def test_answers_fit_the_documented_schema(client):
    journey = await planned(client)
    network = client.service.get_snapshot().static
    second = [leg for leg in journey["legs"] if leg["type"] == "transit"][1]
    await client.service.on_trip_updates("synchro", [updated(network, second["trip_id"], canceled=True)], NOW)
    checker = checker_for(await (await client.get("/openapi.json")).json())
    headers = {"Content-Type": "application/json"}
    path = f"/v1/itineraries/{journey['id']}"
    body = await (await client.get(path)).read()
    assert checker.check("GET", path, 200, headers, body) == []
    broken = json.loads(body)
    broken["problems"][0]["code"] = "feeling_lucky"
    assert checker.check("GET", path, 200, headers, json.dumps(broken).encode())
