"""The offline basemap drawn from the timetable (journey_planner.basemap, GET /v1/basemap)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np

from journey_planner.basemap import BasemapLimits, _hull, _simplify, build_basemap
from oura.clock import FixedClock
from tests.journey_planner._data import build_network

# A railway with a shape (two trips: both directions, one line), a bus line, three towns.
FEED = """
routes.txt
route_id,route_short_name,route_type,route_color
TER,TER,2,0055A4
B1,B1,3,
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,Alpha Gare,45.00,4.00
B,Beta Gare,45.10,4.30
C,Gamma Centre,45.30,4.10
C2,Gamma Centre,45.3001,4.1001
trips.txt
route_id,service_id,trip_id,shape_id
TER,S,t1,sh1
TER,S,t2,
B1,S,b1,
B1,S,b2,
shapes.txt
shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence
sh1,45.00,4.00,1
sh1,45.05,4.1500001,2
sh1,45.0500001,4.15,3
sh1,45.10,4.30,4
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
t1,08:00:00,08:00:00,A,1
t1,08:30:00,08:30:00,B,2
t2,09:00:00,09:00:00,B,1
t2,09:30:00,09:30:00,A,2
b1,08:00:00,08:00:00,B,1
b1,08:20:00,08:20:00,C,2
b2,09:00:00,09:00:00,C2,1
b2,09:20:00,09:20:00,A,2
"""


def _layers(collection: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for feature in collection["features"]:
        out.setdefault(feature["properties"]["layer"], []).append(feature)
    return out


def test_layers_rail_from_its_shape_once_per_line_lines_in_colour_and_towns_by_name(tmp_path):
    layers = _layers(build_basemap(build_network(tmp_path, FEED)))
    (rail,) = layers["rail"]  # both directions of the TER are one line
    assert rail["properties"] == {"layer": "rail", "route": "TER", "color": "#0055A4"}
    assert rail["geometry"]["coordinates"][0] == [4.0, 45.0] and rail["geometry"]["coordinates"][-1] == [4.3, 45.1]
    assert len(rail["geometry"]["coordinates"]) == 2  # the shape's near-straight middle is simplified away
    assert [f["properties"]["route"] for f in layers["line"]] == ["B1"]
    towns = [(f["properties"]["name"], f["properties"]["rank"]) for f in layers["town"]]
    assert sorted(name for name, _ in towns) == ["Alpha Gare", "Beta Gare", "Gamma Centre"]  # two stops, one town
    assert [rank for _, rank in towns] == [1, 2, 3]


def test_the_outline_holds_every_stop(tmp_path):
    network = build_network(tmp_path, FEED)
    (outline,) = _layers(build_basemap(network))["outline"]
    ring = np.array(outline["geometry"]["coordinates"][0])
    assert (ring[0] == ring[-1]).all()
    edges = np.diff(ring, axis=0)
    for lon, lat in zip(network.timetable.stop_lon, network.timetable.stop_lat):  # left of every edge (CCW)
        cross = edges[:, 0] * (lat - ring[:-1, 1]) - edges[:, 1] * (lon - ring[:-1, 0])
        assert (cross >= -1e-9).all()


def test_hull_and_simplify_on_known_points():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5], [0.2, 0.8]], dtype=float)
    assert _hull(square) == [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
    zigzag = np.array([[0, 0], [1, 0.01], [2, 0], [3, 1], [4, 0]], dtype=float)
    assert _simplify(zigzag, 0.1).tolist() == [[0, 0], [2, 0], [3, 1], [4, 0]]


def test_limits_cap_lines_and_towns(chambery):
    layers = _layers(build_basemap(chambery, BasemapLimits(lines=3, towns=5)))
    assert len(layers["line"]) == 3 and len(layers["town"]) == 5
    assert len({f["properties"]["route"] for f in layers["line"]}) == 3
    assert "rail" not in layers  # a bus network


async def test_served_with_an_etag_and_compressed(chambery, serve_network):
    client = await serve_network(chambery, FixedClock(datetime(2025, 3, 5, 7, tzinfo=UTC)))
    answer = await client.get("/v1/basemap", headers={"Accept-Encoding": "gzip"})
    assert answer.status == 200 and answer.content_type == "application/geo+json"
    assert answer.headers["Content-Encoding"] == "gzip"
    body = json.loads(await answer.read())
    assert body["type"] == "FeatureCollection" and body["features"]
    again = await client.get("/v1/basemap", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status == 304
