"""FEATURE UNDER TEST: a walking transfer next to the walk to (or from) a coordinate is one walk leg.

The ride ends at B, too far from the destination point for a direct walk (833 m > 800 m radius),
but a walking transfer reaches C (333 m), which is 500 m from the point. The traveller sees one
walk B -> C -> point with the summed time, the summed distance and one geometry.
"""

from journey_planner.core import PlanRequest, WalkLeg, plan
from journey_planner.mapping import Mapper
from journey_planner.places import resolve_place
from journey_planner.realtime import RealtimeOverlay
from tests.journey_planner._data import build_network, local_ts, place, render

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.0500,4.0000
B,B,45.1000,4.0000
C,C,45.1030,4.0000
Z,Z,46.0000,4.0000
trips.txt
route_id,service_id,trip_id
R1,S,T1
R2,S,T2
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:10:00,B,2
T2,05:00:00,05:00:00,C,1
T2,06:00:00,06:00:00,Z,2
"""
POINT = "45.1075,4.0000"


def test_transfer_walk_and_egress_walk_are_one_leg(tmp_path):
    net = build_network(tmp_path, FEED)
    request = PlanRequest(place(net, "A"), resolve_place(net, POINT), local_ts("2024-03-04 07:55"))
    result = plan(net.timetable, request)
    assert render(net, result) == "R1 A 08:00 -> B 08:10 | walk B -> C -> place 11m (0:21, 0 transfers)"
    walk = result.journeys[0].legs[-1]
    body = Mapper(net, RealtimeOverlay(), False).walk_leg_json(walk, None, {"lat": 45.1075, "lon": 4.0})
    assert len(body["geometry"]["coordinates"]) == 3
    assert 820 < body["distance_m"] < 845  # 333 m + 500 m, not the 833 m straight line by chance only
    assert body["duration_s"] == walk.arrival_s - walk.departure_s


def test_access_walk_and_transfer_walk_are_one_leg_arrive_by(tmp_path):
    # the same line the other way, from B to A, reached from the point through C
    net = build_network(tmp_path, FEED.replace("T1,08:00:00,08:00:00,A,1\nT1,08:10:00,08:10:00,B,2",
                                                      "T1,08:00:00,08:00:00,B,1\nT1,08:10:00,08:10:00,A,2"))
    request = PlanRequest(resolve_place(net, POINT), place(net, "A"), local_ts("2024-03-04 08:15"), arrive_by=True)
    result = plan(net.timetable, request)
    legs = result.journeys[0].legs
    assert render(net, result) == (
        "walk place -> C -> B 11m | R1 B 08:00 -> A 08:10 (0:21, 0 transfers)"
    )
    assert isinstance(legs[0], WalkLeg) and legs[0].arrival_s == legs[1].departure_s
