"""FEATURE UNDER TEST: one route, board the first trip departing at or after the query time."""

from tests.journey_planner._data import build_network, render, run

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,4.00
B,B,45.10,4.00
C,C,45.20,4.00
trips.txt
route_id,service_id,trip_id
R1,S,T1
R1,S,T2
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:11:00,B,2
T1,08:20:00,08:20:00,C,3
T2,09:00:00,09:00:00,A,1
T2,09:10:00,09:11:00,B,2
T2,09:20:00,09:20:00,C,3
"""


def test_first_trip_after_query_time(tmp_path):
    net = build_network(tmp_path, FEED)
    assert render(net, run(net, "A", "C", "2024-03-04 08:05")) == "R1 A 09:00 -> C 09:20 (0:20, 0 transfers)"


def test_boards_at_intermediate_stop(tmp_path):
    net = build_network(tmp_path, FEED)
    assert render(net, run(net, "B", "C", "2024-03-04 08:00")) == "R1 B 08:11 -> C 08:20 (0:09, 0 transfers)"


def test_no_journey_backwards_along_route(tmp_path):
    net = build_network(tmp_path, FEED)
    assert render(net, run(net, "C", "A", "2024-03-04 07:00")) == ""
