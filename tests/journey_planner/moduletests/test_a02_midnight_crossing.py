"""FEATURE UNDER TEST: times past 24:00 belong to the previous service day and are found from the next morning."""

from tests.journey_planner._data import build_network, local_ts, render, run

FEED = """
calendar.txt
service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
MON,1,0,0,0,0,0,0,20240101,20241231
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,4.00
B,B,45.10,4.00
C,C,45.20,4.00
trips.txt
route_id,service_id,trip_id
R1,MON,T1
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,23:50:00,23:50:00,A,1
T1,24:10:00,24:10:00,B,2
T1,24:20:00,24:20:00,C,3
"""


def test_monday_trip_boarded_after_midnight_on_tuesday(tmp_path):
    net = build_network(tmp_path, FEED)
    result = run(net, "B", "C", "2024-03-05 00:05")  # a Tuesday
    assert render(net, result) == "R1 B 00:10 -> C 00:20 (0:10, 0 transfers)"
    assert result.journeys[0].departure_s == local_ts("2024-03-05 00:10")


def test_trip_crossing_midnight_from_monday_evening(tmp_path):
    net = build_network(tmp_path, FEED)
    result = run(net, "A", "C", "2024-03-04 23:00")
    assert render(net, result) == "R1 A 23:50 -> C 00:20 (0:30, 0 transfers)"
    assert result.journeys[0].arrival_s == local_ts("2024-03-05 00:20")


def test_no_tuesday_service_past_midnight(tmp_path):
    net = build_network(tmp_path, FEED)
    # Tuesday's own 24:10 does not exist (service runs Mondays only); next is the following Monday
    result = run(net, "B", "C", "2024-03-06 00:05")
    assert result.journeys == () or result.journeys[0].departure_s >= local_ts("2024-03-12 00:10")
