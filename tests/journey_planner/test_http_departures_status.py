"""HTTP: platforms on departures and legs, cancelled departures in their route's colour, and a
leg leaving late but arriving on time shown as delayed (issue 12), through the real app."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from feeds.realtime.model import ResolvedStopTimeUpdate, ResolvedTripUpdate
from journey_planner.compile import FeedSource, load_network
from oura.clock import FixedClock
from tests.journey_planner._data import local_ts, write_feed
from tests.openapi_check import checker_for

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,platform_code
PD,Lyon Part-Dieu,45.7606,4.8590,1,,
PD1,Lyon Part-Dieu,45.7606,4.8590,0,PD,1
PD2,Lyon Part-Dieu,45.7607,4.8591,0,PD,2
BEL,Bellecour,45.7578,4.8320,0,,
PER,Perrache,45.7490,4.8260,0,,A
routes.txt
route_id,route_short_name,route_type,route_color,route_text_color
T1,T1,0,A0006E,FFFFFF
trips.txt
route_id,service_id,trip_id,trip_headsign
T1,S,T1a,Perrache
T1,S,T1b,Perrache
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1a,08:00:00,08:00:00,PD1,1
T1a,08:10:00,08:15:00,BEL,2
T1a,08:25:00,08:25:00,PER,3
T1b,08:30:00,08:30:00,PD2,1
T1b,08:40:00,08:45:00,BEL,2
T1b,08:55:00,08:55:00,PER,3
"""
NOW = datetime(2024, 3, 4, 7, 50, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
async def client(serve_network, tmp_path):
    folder = write_feed(tmp_path / "t", FEED)
    network = load_network([FeedSource("t", folder)], cache_dir=tmp_path / "cache")
    return await serve_network(network, FixedClock(NOW))


def test_platform_codes_survive_the_compile_cache(tmp_path):
    folder = write_feed(tmp_path / "t", FEED)
    compiled = load_network([FeedSource("t", folder)], cache_dir=tmp_path / "cache")
    cached = load_network([FeedSource("t", folder)], cache_dir=tmp_path / "cache")
    assert cached.report.from_cache and not compiled.report.from_cache
    codes = dict(zip(cached.stop_ids.tolist(), cached.stop_platform_codes.tolist()))
    assert codes == {"t:PD": "", "t:PD1": "1", "t:PD2": "2", "t:BEL": "", "t:PER": "A"}


async def test_departures_show_platforms_and_cancelled_ones_keep_their_colour(client):
    await client.service.on_trip_updates("t", [ResolvedTripUpdate("t", "t:T1a", "20240304", True, False, ())], NOW)
    body = await (await client.get("/v1/stops/t:PD/departures")).json()
    rows = [(d["trip_id"], d["status"], d["platform"], d["route"]["color"]) for d in body["departures"]]
    assert rows == [("t:T1a", "cancelled", "1", "#A0006E"), ("t:T1b", "scheduled", "2", "#A0006E")]
    bel = await (await client.get("/v1/stops/t:BEL/departures")).json()
    assert [(d["trip_id"], d["platform"]) for d in bel["departures"]] == [("t:T1a", None), ("t:T1b", None)]


async def test_a_leg_leaving_five_minutes_late_is_delayed_though_it_arrives_on_time(client):
    # T1a leaves Part-Dieu 5 min late and makes it up at Bellecour (its 5 min dwell): on time at Perrache
    times = [("t:PD1", "08:05", "08:05", 300), ("t:BEL", "08:15", "08:15", 0), ("t:PER", "08:25", "08:25", 0)]
    stus = tuple(ResolvedStopTimeUpdate(i, s, local_ts(f"2024-03-04 {a}"), local_ts(f"2024-03-04 {d}"), delay, delay)
                 for i, (s, a, d, delay) in enumerate(times))
    await client.service.on_trip_updates("t", [ResolvedTripUpdate("t", "t:T1a", "20240304", False, False, stus)], NOW)
    params = {"from": "t:PD", "to": "t:PER", "datetime": "2024-03-04T07:55:00+01:00"}
    body = await (await client.get("/v1/journeys", params=params)).json()
    leg = body["journeys"][0]["legs"][0]
    assert (leg["trip_id"], leg["status"], leg["departure_delay_s"], leg["arrival_delay_s"]) == ("t:T1a", "delayed", 300, 0)
    assert (leg["from"]["platform"], leg["to"]["platform"]) == ("1", "A")
    assert leg["from"]["departure"] == "2024-03-04T08:05:00+01:00"
    assert leg["to"]["arrival"] == "2024-03-04T08:25:00+01:00"
    planned = await (await client.get("/v1/journeys", params=params | {"realtime": "false"})).json()
    leg = planned["journeys"][0]["legs"][0]
    assert (leg["status"], leg["departure_delay_s"], leg["arrival_delay_s"]) == ("scheduled", None, None)


async def test_the_documented_schemas_fit_real_answers_and_refuse_wrong_ones(client):
    """Journeys, stops and departures answers are checked against their OpenAPI schemas (closed
    objects): the real answers pass, a platform of the wrong type or an undocumented field fails."""
    document = await (await client.get("/openapi.json")).json()
    checker = checker_for(document)
    headers = {"Content-Type": "application/json"}
    answers = {
        "/v1/journeys": {"from": "t:PD", "to": "t:PER", "datetime": "2024-03-04T07:55:00+01:00"},
        "/v1/stops": {"q": "part dieu"},
        "/v1/stops/t:PD/departures": {},
    }
    for path, params in answers.items():
        body = await (await client.get(path, params=params)).read()
        assert checker.check("GET", path, 200, headers, body) == [], path
    departures = json.loads(await (await client.get("/v1/stops/t:PD/departures")).read())
    departures["departures"][0]["platform"] = 1
    assert checker.check("GET", "/v1/stops/t:PD/departures", 200, headers, json.dumps(departures).encode())
    journeys = json.loads(await (await client.get("/v1/journeys", params=answers["/v1/journeys"])).read())
    journeys["journeys"][0]["legs"][0]["to"]["track"] = "A"
    assert checker.check("GET", "/v1/journeys", 200, headers, json.dumps(journeys).encode())
