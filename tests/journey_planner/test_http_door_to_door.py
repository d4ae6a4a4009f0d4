"""HTTP, door to door on the demo region's Chambéry network (Synchro Bus, generated at scale 1):
walk-only journeys, the access radius and its 4xx, next/previous page cursors (issue 12).

The reproduction: from the station (synchro:gare) to the centre (synchro:centre), 700 m apart,
at 22:30 the next bus leaves at 22:53; walking (703 m straight, 914 m at the 1.3 detour factor,
12 min 42 s) arrives at 22:42:42, so it comes first, the bus (arriving 22:55) second.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from oura.clock import FixedClock

PARIS = ZoneInfo("Europe/Paris")
GARE, CENTRE = "synchro:gare", "synchro:centre"
GARE_POINT, CENTRE_POINT = "45.5708,5.9196", "45.5646,5.9178"


@pytest.fixture
async def client(chambery, serve_network):
    return await serve_network(chambery, FixedClock(datetime(2025, 3, 5, 7, 0, tzinfo=PARIS)))


async def journeys(client, **params) -> dict:
    resp = await client.get("/v1/journeys", params=params)
    assert resp.status == 200, await resp.text()
    return await resp.json()


def is_walk_only(itinerary: dict) -> bool:
    return [leg["type"] for leg in itinerary["legs"]] == ["walk"]


async def test_station_to_centre_at_night_walks_instead_of_waiting_for_the_bus(client):
    body = await journeys(client, **{"from": GARE, "to": CENTRE, "datetime": "2025-03-05T22:30:00+01:00"})
    walk, bus = body["journeys"][:2]
    assert is_walk_only(walk) and not is_walk_only(bus)
    assert (walk["departure"], walk["arrival"]) == ("2025-03-05T22:30:00+01:00", "2025-03-05T22:42:42+01:00")
    leg = walk["legs"][0]
    assert (leg["from"]["id"], leg["to"]["id"]) == (GARE, CENTRE)
    assert leg["distance_m"] == walk["walking_distance_m"] and 900 < leg["distance_m"] < 920  # 700 m x 1.3
    assert walk["fare"] is None and walk["transfers"] == 0
    assert bus["arrival"].startswith("2025-03-05T22:55:")
    assert body["walking"] == {"method": "crow_fly_detour", "detour_factor": 1.3, "speed_mps": 1.2,
                               "max_access_radius_m": 2000.0, "max_walk_only_m": 2000.0}


async def test_no_walk_only_when_the_bus_is_much_quicker(client):
    # at 08:00 a bus arrives at 08:04; walking would arrive 08:12:42, more than 5 min later
    body = await journeys(client, **{"from": GARE, "to": CENTRE, "datetime": "2025-03-05T08:00:00+01:00"})
    assert body["journeys"] and not any(is_walk_only(j) for j in body["journeys"])


async def test_coordinates_to_coordinates_walk_with_their_points(client):
    body = await journeys(client, **{"from": GARE_POINT, "to": CENTRE_POINT, "datetime": "2025-03-05T22:30:00+01:00"})
    walk = body["journeys"][0]
    assert is_walk_only(walk)
    leg = walk["legs"][0]
    assert leg["from"] == {"id": None, "name": GARE_POINT, "lat": 45.5708, "lon": 5.9196}
    assert leg["geometry"]["coordinates"] == [[5.9196, 45.5708], [5.9178, 45.5646]]
    # the core's own walk through stops (to a platform, a footpath, from a platform) is not shown besides it
    assert len(body["journeys"]) == 1
    # by day the bus wins, with walks to and from the stops measured by the same rules
    day = await journeys(client, **{"from": GARE_POINT, "to": CENTRE_POINT, "datetime": "2025-03-05T08:00:00+01:00"})
    assert day["journeys"] and not any(is_walk_only(j) for j in day["journeys"])
    legs = day["journeys"][0]["legs"]
    assert (legs[0]["type"], legs[0]["from"]["id"], legs[1]["type"]) == ("walk", None, "transit")
    assert legs[0]["to"]["id"].startswith("synchro:gare")


async def test_beyond_the_access_radius_a_4xx_says_how_far_the_nearest_stop_is(client):
    resp = await client.get("/v1/journeys", params={"from": "45.6500,6.1000", "to": CENTRE})  # the Bauges
    assert resp.status == 400 and resp.content_type == "application/problem+json"
    problem = await resp.json()
    assert problem["code"] == "no_stop_nearby"
    assert problem["nearest_stop"]["id"].startswith("synchro:")
    assert problem["nearest_stop_m"] > problem["max_access_radius_m"] == 2000
    assert f"{problem['nearest_stop_m']:.0f} m" in problem["detail"]


async def test_next_and_previous_pages_do_not_overlap_and_are_stable(client):
    first = await journeys(client, **{"from": GARE, "to": CENTRE, "datetime": "2025-03-05T08:00:00+01:00"})
    departures = [datetime.fromisoformat(j["departure"]) for j in first["journeys"]]
    arrivals = [datetime.fromisoformat(j["arrival"]) for j in first["journeys"]]
    later = await journeys(client, **{"from": GARE, "to": CENTRE, "cursor": first["next"]})
    assert later["journeys"] and all(datetime.fromisoformat(j["departure"]) > max(departures) for j in later["journeys"])
    earlier = await journeys(client, **{"from": GARE, "to": CENTRE, "cursor": first["previous"]})
    assert earlier["query"]["arrive_by"] is True
    assert earlier["journeys"] and all(datetime.fromisoformat(j["arrival"]) < min(arrivals) for j in earlier["journeys"])
    # the cursor replaces datetime, arrive_by and window; the same cursor gives the same answer
    again = await journeys(client, **{"from": GARE, "to": CENTRE, "cursor": first["next"],
                                      "datetime": "2025-03-06T12:00:00+01:00", "arrive_by": "true"})
    assert again == later
    assert later["query"]["cursor"] == first["next"]
    # paging on: the next page of the next page is later still
    further = await journeys(client, **{"from": GARE, "to": CENTRE, "cursor": later["next"]})
    assert min(j["departure"] for j in further["journeys"]) > max(j["departure"] for j in later["journeys"])


async def test_a_window_page_is_followed_by_the_next_window(client):
    first = await journeys(client, **{"from": GARE, "to": CENTRE, "datetime": "2025-03-05T08:00:00+01:00",
                                      "window": "1800"})
    after = await journeys(client, **{"from": GARE, "to": CENTRE, "cursor": first["next"]})
    before = await journeys(client, **{"from": GARE, "to": CENTRE, "cursor": first["previous"]})
    assert (after["query"]["datetime"], after["query"]["window_s"]) == ("2025-03-05T08:30:01+01:00", 1800)
    assert (before["query"]["datetime"], before["query"]["window_s"]) == ("2025-03-05T07:29:59+01:00", 1800)
    assert after["query"]["arrive_by"] is before["query"]["arrive_by"] is False


def _cursor(body: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("cursor", [
    "not a cursor",
    "eyJ2Ijo",  # truncated base64 of JSON
    _cursor({"v": 2, "t": 1741158000, "a": 0, "w": 0, "p": "x"}),  # another version
    _cursor({"v": 1, "t": "08:00", "a": 0, "w": 0, "p": "x"}),
    _cursor([1, 2, 3]),
])
async def test_an_invalid_cursor_is_a_400(client, cursor):
    resp = await client.get("/v1/journeys", params={"from": GARE, "to": CENTRE, "cursor": cursor})
    assert resp.status == 400 and resp.content_type == "application/problem+json"
    assert (await resp.json())["code"] == "invalid_cursor"


async def test_a_cursor_pages_only_the_search_it_came_from(client):
    first = await journeys(client, **{"from": GARE, "to": CENTRE, "datetime": "2025-03-05T08:00:00+01:00"})
    resp = await client.get("/v1/journeys", params={"from": CENTRE, "to": GARE, "cursor": first["next"]})
    assert resp.status == 400 and (await resp.json())["code"] == "invalid_cursor"
