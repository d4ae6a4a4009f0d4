"""HTTP: /v1/journeys says why an answer is empty (``reasons``) and what a wheelchair journey avoided
(``constraints``), through the real app (every response is checked against the OpenAPI document).

The inline feed is test_http.py's Part-Dieu -> Perrache line with its 08:00 run (T1) not
wheelchair accessible, and a bus from Bellecour to Charpennes (R2) that needs a change; the last
tests run on the demo region's Chambéry network (as test_http_door_to_door.py builds it).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from oura.clock import FixedClock
from tests.journey_planner._data import build_network

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,wheelchair_boarding
PD,Lyon Part-Dieu,45.7606,4.8590,1,,1
PD1,Lyon Part-Dieu quai 1,45.7606,4.8590,0,PD,1
BEL,Bellecour,45.7578,4.8320,0,,1
PER,Perrache,45.7490,4.8260,0,,1
CHA,Charpennes,45.8300,4.9500,0,,1
trips.txt
route_id,service_id,trip_id,trip_headsign,wheelchair_accessible
R1,S,T1,Perrache,2
R1,S,T2,Perrache,1
R2,S,T3,Charpennes,1
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,PD1,1
T1,08:10:00,08:11:00,BEL,2
T1,08:20:00,08:20:00,PER,3
T2,08:30:00,08:30:00,PD1,1
T2,08:40:00,08:41:00,BEL,2
T2,08:50:00,08:50:00,PER,3
T3,08:35:00,08:35:00,BEL,1
T3,08:55:00,08:55:00,CHA,2
"""


@pytest.fixture
async def explain_client(serve_network, tmp_path):
    clock = FixedClock(datetime(2024, 3, 4, 7, 50, tzinfo=ZoneInfo("Europe/Paris")))
    return await serve_network(build_network(tmp_path, FEED), clock)


async def journeys(client, **params) -> dict:  # noqa: ANN001
    resp = await client.get("/v1/journeys", params=params)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_wheelchair_journey_says_which_trip_it_avoided(explain_client):
    body = await journeys(explain_client, **{"from": "t:PD", "to": "t:PER", "datetime": "2024-03-04T07:55:00+01:00",
                                             "wheelchair": "true"})
    (j,) = body["journeys"]
    assert j["departure"] == "2024-03-04T08:30:00+01:00" and body["reasons"] == []
    (c,) = j["constraints"]
    assert c["code"] == "inaccessible_avoided"
    assert c["message"] == ("The 08:00 R1 from Lyon Part-Dieu quai 1 is not wheelchair accessible; "
                            "this journey leaves 30 min later and arrives 30 min later.")
    assert [t["trip_id"] for t in c["blocking_trips"]] == ["t:T1"]
    assert (c["departure_delta_s"], c["avoided_departure"]) == (1800, "2024-03-04T08:00:00+01:00")


async def test_unconstrained_journey_has_no_constraints(explain_client):
    body = await journeys(explain_client, **{"from": "t:PD", "to": "t:PER", "datetime": "2024-03-04T07:55:00+01:00"})
    assert [j["departure"] for j in body["journeys"]] == ["2024-03-04T08:00:00+01:00"]
    assert body["journeys"][0]["constraints"] == [] and body["reasons"] == []


async def test_empty_answer_within_max_transfers_says_how_many_are_needed(explain_client):
    body = await journeys(explain_client, **{"from": "t:PD", "to": "t:CHA", "datetime": "2024-03-04T07:55:00+01:00",
                                             "max_transfers": "0"})
    assert body["journeys"] == []
    (r,) = body["reasons"]
    assert (r["code"], r["transfers_needed"]) == ("max_transfers_exceeded", 1)
    assert r["message"] == ("No journey with at most 0 transfers; the fewest needed is 1 "
                            "(leaving 08:00, arriving 08:55).")


async def test_empty_answer_just_after_the_timetable_dates(explain_client):
    # within a day of the last service day: not a 400, an empty answer that says why
    body = await journeys(explain_client, **{"from": "t:PD", "to": "t:PER", "datetime": "2025-01-01T08:00:00+01:00"})
    assert body["journeys"] == []
    (r,) = body["reasons"]
    assert r["code"] == "outside_timetable_dates"
    assert r["service_dates"] == {"first": "2024-01-01", "last": "2024-12-31"}
    assert r["message"] == "The timetables run from 2024-01-01 to 2024-12-31; 2025-01-01 is after them."


# --- the demo region's Chambéry network (Synchro Bus, seed 5, scale 1, two weeks from 2025-03-03) --------------

@pytest.fixture
async def chambery_client(chambery, serve_network):
    return await serve_network(chambery, FixedClock(datetime(2025, 3, 5, 7, 0, tzinfo=ZoneInfo("Europe/Paris"))))


async def test_demo_wheelchair_journey_names_the_stop_it_avoided(chambery_client):
    # without the constraint, the 08:02 bus from Rue Belledonne (a walk from the centre) arrives 08:06
    params = {"from": "synchro:centre", "to": "synchro:gare", "datetime": "2025-03-05T08:00:00+01:00"}
    free = await journeys(chambery_client, **params)
    assert free["journeys"][0]["legs"][1]["from"]["id"] == "synchro:3-09a"
    body = await journeys(chambery_client, **params, wheelchair="true")
    (transit,) = [j for j in body["journeys"] if any(leg["type"] == "transit" for leg in j["legs"])]
    (c,) = transit["constraints"]
    assert c["code"] == "inaccessible_avoided" and c["blocking_stops"] == [{"id": "synchro:3-09a", "name": "Rue Belledonne"}]
    assert c["message"] == ("Rue Belledonne has no wheelchair boarding; this journey leaves 3 min later "
                            "and arrives 2 min later.")
    assert c["avoided_departure"] == free["journeys"][0]["departure"]


async def test_demo_day_after_the_feed_says_its_dates(chambery_client):
    body = await journeys(chambery_client, **{"from": "synchro:centre", "to": "synchro:gare",
                                              "datetime": "2025-03-17T08:00:00+01:00"})
    assert [j for j in body["journeys"] if any(leg["type"] == "transit" for leg in j["legs"])] == []
    (r,) = body["reasons"]
    assert (r["code"], r["service_dates"]) == ("outside_timetable_dates", {"first": "2025-03-03", "last": "2025-03-16"})
