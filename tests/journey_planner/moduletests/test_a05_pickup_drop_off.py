"""FEATURE UNDER TEST: pickup_type=1 forbids boarding and drop_off_type=1 forbids alighting at a stop."""

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
trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type
T1,08:00:00,08:00:00,A,1,1,0
T1,08:10:00,08:10:00,B,2,0,1
T1,08:20:00,08:20:00,C,3,0,0
T2,09:00:00,09:00:00,A,1,0,0
T2,09:10:00,09:10:00,B,2,0,0
T2,09:20:00,09:20:00,C,3,0,0
"""


def test_no_boarding_where_pickup_type_is_1(tmp_path):
    net = build_network(tmp_path, FEED)
    assert render(net, run(net, "A", "C", "2024-03-04 07:50")) == "R1 A 09:00 -> C 09:20 (0:20, 0 transfers)"


def test_no_alighting_where_drop_off_type_is_1(tmp_path):
    net = build_network(tmp_path, FEED)
    # T1 can be boarded at B but not left there; from A only T2 reaches B
    assert render(net, run(net, "A", "B", "2024-03-04 07:50")) == "R1 A 09:00 -> B 09:10 (0:10, 0 transfers)"
    assert render(net, run(net, "B", "C", "2024-03-04 08:00")) == "R1 B 08:10 -> C 08:20 (0:10, 0 transfers)"
