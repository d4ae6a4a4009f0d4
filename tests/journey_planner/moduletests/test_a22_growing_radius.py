"""FEATURE UNDER TEST: access stops of a coordinate in a growing radius (journey_planner.places.resolve_access).

Radii 400 m, 800 m, 1.6 km, then the maximum (2 km by default): the search stops at the first
radius holding min_access_stops stops, or at the maximum with at least one; walking is the
straight line times the detour factor at the walking speed. Beyond the maximum it is a
`NoStopWithinReach` naming the nearest stop and its distance.
"""

import pytest

from journey_planner.core import PlanRequest, plan
from journey_planner.errors import NoStopWithinReach
from journey_planner.places import StopSpatialIndex, WalkingRules, resolve_access
from oura.config import load_config
from tests.journey_planner._data import build_network, local_ts, place, render

# Along the meridian 4.0: 0.001 degree of latitude is 111.2 m. P is at 45.0000.
FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
N1,Near 1,45.0020,4.0000
N2,Near 2,45.0025,4.0000
N3,Near 3,45.0030,4.0000
M1,Mid 1,45.0060,4.0000
FAR,Far,45.0135,4.0000
Z,Z,45.1000,4.0000
trips.txt
route_id,service_id,trip_id
R1,S,T1
R2,S,T2
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,FAR,1
T1,08:30:00,08:30:00,Z,2
T2,08:00:00,08:00:00,N1,1
T2,08:01:00,08:01:00,N2,2
T2,08:02:00,08:02:00,N3,3
T2,08:05:00,08:05:00,M1,4
T2,08:20:00,08:20:00,Z,5
"""


def names(net, p) -> list[str]:
    return [str(net.stop_ids[s]).split(":", 1)[1] for s in p.stops]


def test_the_radii_double_up_to_the_maximum():
    assert WalkingRules().radii() == [400, 800, 1600, 2000]
    assert WalkingRules(max_access_radius_m=500).radii() == [400, 500]
    assert WalkingRules(max_access_radius_m=300).radii() == [300]


def test_the_search_stops_at_the_first_radius_with_enough_stops(tmp_path):
    net = build_network(tmp_path, FEED)
    index = StopSpatialIndex.of(net)
    # three stops within 400 m: with min 3 that radius is enough, with min 4 it grows to 800 m (M1,
    # 667 m), with min 5 to 1.6 km (FAR, 1501 m), with the default 10 to the 2 km maximum
    three = resolve_access(net, 45.0, 4.0, WalkingRules(min_access_stops=3), index)
    assert names(net, three) == ["N1", "N2", "N3"]
    four = resolve_access(net, 45.0, 4.0, WalkingRules(min_access_stops=4), index)
    assert names(net, four) == ["N1", "N2", "N3", "M1"]
    grown = resolve_access(net, 45.0, 4.0, WalkingRules(), index)
    assert names(net, grown) == ["N1", "N2", "N3", "M1", "FAR"]
    # honest walking: 222.4 m straight, 289.1 m walked at 1.2 m/s
    assert grown.walk_m[0] == pytest.approx(222.4 * 1.3, abs=0.5)
    assert grown.walk_s[0] == 241


def test_a_lone_stop_far_away_is_reached_at_the_maximum(tmp_path):
    net = build_network(tmp_path, FEED)
    index = StopSpatialIndex.of(net)
    # 45.0302 is 1857 m north of FAR and 2.69 km of M1: only the 2 km radius holds a stop
    p = resolve_access(net, 45.0302, 4.0, WalkingRules(), index)
    assert names(net, p) == ["FAR"]
    assert p.walk_s[0] == 2012  # 1857 m x 1.3 at 1.2 m/s: 33 min 32 s, not the 26 min of the straight line
    request = PlanRequest(p, place(net, "Z"), local_ts("2024-03-04 07:26:28"))
    assert render(net, plan(net.timetable, request)) == (
        "walk place -> FAR 33m | R1 FAR 08:00 -> Z 08:30 (1:03, 0 transfers)"
    )


def test_beyond_the_maximum_the_error_names_the_nearest_stop(tmp_path):
    net = build_network(tmp_path, FEED)
    index = StopSpatialIndex.of(net)
    with pytest.raises(NoStopWithinReach) as caught:
        resolve_access(net, 44.9750, 4.0, WalkingRules(), index, "from")  # 3.0 km south of N1
    problem = caught.value.to_problem()
    assert problem["code"] == "no_stop_nearby" and problem["status"] == 400
    assert problem["nearest_stop"]["id"] == "t:N1"
    assert problem["nearest_stop_m"] == pytest.approx(3002.3, abs=0.5)
    assert problem["max_access_radius_m"] == 2000
    assert problem["invalid_params"][0]["name"] == "from"
    # a larger maximum reaches it
    assert names(net, resolve_access(net, 44.9750, 4.0, WalkingRules(max_access_radius_m=3200), index))[0] == "N1"


def test_the_planner_section_sets_the_walking_rules(tmp_path):
    toml = tmp_path / "oura.toml"
    toml.write_text("[planner]\nmax_access_radius_m = 1500\nwalk_detour_factor = 1.4\nwalk_speed_mps = 1.0\n")
    planner = load_config({}, file=toml).planner
    assert (planner.max_access_radius_m, planner.walk_detour_factor, planner.walk_speed_mps) == (1500, 1.4, 1.0)
    assert load_config({}).planner.max_access_radius_m == 2000
