"""HTTP: /v1/journeys, /v1/stops, /v1/stops/{id}/departures on an inline feed, through the real app."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from feeds.realtime.model import ResolvedStopTimeUpdate, ResolvedTripUpdate
from oura.clock import FixedClock
from tests.journey_planner._data import build_network, local_ts

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,wheelchair_boarding
PD,Lyon Part-Dieu,45.7606,4.8590,1,,1
PD1,Lyon Part-Dieu quai 1,45.7606,4.8590,0,PD,1
BEL,Bellecour,45.7578,4.8320,0,,1
PER,Perrache,45.7490,4.8260,0,,1
trips.txt
route_id,service_id,trip_id,trip_headsign,shape_id,wheelchair_accessible
R1,S,T1,Perrache,SH1,1
R1,S,T2,Perrache,SH1,1
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,PD1,1
T1,08:10:00,08:11:00,BEL,2
T1,08:20:00,08:20:00,PER,3
T2,08:30:00,08:30:00,PD1,1
T2,08:40:00,08:41:00,BEL,2
T2,08:50:00,08:50:00,PER,3
shapes.txt
shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence
SH1,45.7606,4.8590,1
SH1,45.7590,4.8450,2
SH1,45.7578,4.8320,3
SH1,45.7530,4.8290,4
SH1,45.7490,4.8260,5
"""


@pytest.fixture
async def planner_client(serve_network, tmp_path):
    clock = FixedClock(datetime(2024, 3, 4, 7, 50, tzinfo=ZoneInfo("Europe/Paris")))
    return await serve_network(build_network(tmp_path, FEED), clock)


async def test_journey_between_station_and_stop(planner_client):
    resp = await planner_client.get("/v1/journeys", params={"from": "t:PD", "to": "t:PER",
                                                            "datetime": "2024-03-04T07:55:00+01:00"})
    assert resp.status == 200
    body = await resp.json()
    assert body["realtime"] is False  # no realtime published yet
    j = body["journeys"][0]
    assert (j["departure"], j["arrival"], j["transfers"]) == ("2024-03-04T08:00:00+01:00", "2024-03-04T08:20:00+01:00", 0)
    leg = j["legs"][0]
    assert leg["route"]["short_name"] == "R1" and leg["route"]["mode"] == "bus"
    assert leg["headsign"] == "Perrache" and leg["status"] == "scheduled"
    assert [s["name"] for s in leg["stops"]] == ["Lyon Part-Dieu quai 1", "Bellecour", "Perrache"]
    assert leg["geometry"]["type"] == "LineString" and len(leg["geometry"]["coordinates"]) == 5  # from shapes.txt
    assert j["fare"] is None


async def test_realtime_applied_by_default_and_planned_on_request(planner_client):
    t = local_ts("2024-03-04 08:00") + 600
    stus = tuple(ResolvedStopTimeUpdate(i, s, t + i * 600, t + i * 600, 600, 600)
                 for i, s in enumerate(["t:PD1", "t:BEL", "t:PER"]))
    await planner_client.service.on_trip_updates(
        "t", [ResolvedTripUpdate("t", "t:T1", "20240304", False, False, stus)],
        datetime(2024, 3, 4, 7, 50, tzinfo=ZoneInfo("Europe/Paris")),
    )
    params = {"from": "t:PD", "to": "t:PER", "datetime": "2024-03-04T07:55:00+01:00"}
    body = await (await planner_client.get("/v1/journeys", params=params)).json()
    assert body["realtime"] is True
    leg = body["journeys"][0]["legs"][0]
    assert leg["status"] == "delayed" and leg["delay_s"] == 600
    assert leg["departure"] == "2024-03-04T08:10:00+01:00"
    assert leg["scheduled_departure"] == "2024-03-04T08:00:00+01:00"
    planned = await (await planner_client.get("/v1/journeys", params=params | {"realtime": "false"})).json()
    assert planned["realtime"] is False
    assert planned["journeys"][0]["legs"][0]["departure"] == "2024-03-04T08:00:00+01:00"


async def test_coordinate_origin_walks_to_the_stop(planner_client):
    params = {"from": "45.7580,4.8330", "to": "t:PER", "datetime": "2024-03-04T08:00:00+01:00"}
    body = await (await planner_client.get("/v1/journeys", params=params)).json()
    legs = body["journeys"][0]["legs"]
    assert legs[0]["type"] == "walk" and legs[0]["to"]["id"] == "t:BEL"
    assert body["journeys"][0]["walking_distance_m"] > 50


@pytest.mark.parametrize(
    "params,code",
    [
        ({"from": "t:NOPE", "to": "t:PER"}, "unknown_place"),
        ({"from": "t:PD", "to": "t:NOPE"}, "unknown_place"),
        ({"from": "0.0,0.0", "to": "t:PER"}, "no_stop_nearby"),  # no stop within walking reach
        ({"from": "91.0,4.8", "to": "t:PER"}, "unknown_place"),  # latitude out of range
        ({"from": "t:PD", "to": "t:PER", "datetime": "yesterday"}, "invalid_parameter"),
        ({"from": "t:PD", "to": "t:PER", "datetime": "2024-13-45T08:00:00"}, "invalid_parameter"),
        ({"from": "t:PD", "to": "t:PER", "datetime": "2031-01-01T08:00:00+01:00"}, "outside_timetable"),
        ({"from": "t:PER", "to": "t:PER"}, "same_place"),
        ({"from": "t:PD", "to": "t:PD1"}, "same_place"),  # a station and its only platform
        ({"from": "t:PD", "to": "t:PER", "window": "999999"}, "window_too_large"),
        ({"from": "t:PD", "to": "t:PER", "window": "-60"}, "invalid_parameter"),
        ({"from": "t:PD", "to": "t:PER", "num": "0"}, "invalid_parameter"),
        ({"from": "t:PD", "to": "t:PER", "max_transfers": "many"}, "invalid_parameter"),
        ({"from": "t:PD", "to": "t:PER", "arrive_by": "perhaps"}, "invalid_parameter"),
        ({"to": "t:PER"}, "missing_parameter"),
        ({"from": "t:PD"}, "missing_parameter"),
    ],
)
async def test_bad_parameters_are_problem_json(planner_client, params, code):
    resp = await planner_client.get("/v1/journeys", params=params)
    assert 400 <= resp.status < 500
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["code"] == code


async def test_stop_search_folds_accents_and_case(planner_client):
    body = await (await planner_client.get("/v1/stops", params={"q": "part dieu"})).json()
    assert [s["id"] for s in body["stops"]] == ["t:PD"]
    body = await (await planner_client.get("/v1/stops", params={"q": "BELLÉCOUR"})).json()
    assert [s["name"] for s in body["stops"]] == ["Bellecour"]
    near = await (await planner_client.get("/v1/stops", params={"near": "45.7490,4.8261"})).json()
    assert near["stops"][0]["id"] == "t:PER"


async def test_departures_with_realtime_status(planner_client):
    await planner_client.service.on_trip_updates(
        "t", [ResolvedTripUpdate("t", "t:T1", "20240304", True, False, ())],
        datetime(2024, 3, 4, 7, 50, tzinfo=ZoneInfo("Europe/Paris")),
    )
    body = await (await planner_client.get("/v1/stops/t:PD/departures")).json()
    rows = [(d["trip_id"], d["status"], d["scheduled_departure"]) for d in body["departures"]]
    assert rows == [("t:T1", "cancelled", "2024-03-04T08:00:00+01:00"), ("t:T2", "scheduled", "2024-03-04T08:30:00+01:00")]
    resp = await planner_client.get("/v1/stops/t:NOPE/departures")
    assert resp.status == 404 and (await resp.json())["code"] == "unknown_stop"


@pytest.mark.parametrize(
    "path,params,status,code",
    [
        ("/v1/stops/t:NOPE/departures", {}, 404, "unknown_stop"),
        ("/v1/stops/NOPE/departures", {}, 404, "unknown_stop"),  # not namespaced
        ("/v1/stops/t:PD/departures", {"datetime": "soon"}, 400, "invalid_parameter"),
        ("/v1/stops/t:PD/departures", {"limit": "0"}, 400, "invalid_parameter"),
    ],
)
async def test_bad_departure_requests_are_problem_json(planner_client, path, params, status, code):
    resp = await planner_client.get(path, params=params)
    assert resp.status == status
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["code"] == code
