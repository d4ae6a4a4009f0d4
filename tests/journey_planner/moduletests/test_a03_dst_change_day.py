"""FEATURE UNDER TEST: GTFS times count from noon minus 12 h, so they stay right on DST change days."""

from tests.journey_planner._data import build_network, local_ts, render, run

FEED = """
calendar_dates.txt
service_id,date,exception_type
SPRING,20240331,1
AUTUMN,20241027,1
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,4.00
B,B,45.10,4.00
trips.txt
route_id,service_id,trip_id
R1,SPRING,EARLY
R1,SPRING,MORNING
R1,AUTUMN,FALL
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
EARLY,01:30:00,01:30:00,A,1
EARLY,01:50:00,01:50:00,B,2
MORNING,05:00:00,05:00:00,A,1
MORNING,05:30:00,05:30:00,B,2
FALL,05:00:00,05:00:00,A,1
FALL,05:30:00,05:30:00,B,2
"""


def test_spring_forward_morning_trip_runs_at_wall_clock_time(tmp_path):
    net = build_network(tmp_path, FEED)
    result = run(net, "A", "B", "2024-03-31 04:00")
    assert render(net, result) == "R1 A 05:00 -> B 05:30 (0:30, 0 transfers)"
    assert result.journeys[0].departure_s == local_ts("2024-03-31 05:00")  # 03:00 UTC


def test_spring_forward_early_trip_is_counted_from_noon_minus_12h(tmp_path):
    # noon minus 12 h on 2024-03-31 is 23:00 CET the evening before, so 01:30 is 00:30 wall clock
    net = build_network(tmp_path, FEED)
    result = run(net, "A", "B", "2024-03-31 00:00")
    assert render(net, result) == "R1 A 00:30 -> B 00:50 (0:20, 0 transfers)"


def test_fall_back_morning_trip(tmp_path):
    net = build_network(tmp_path, FEED)
    result = run(net, "A", "B", "2024-10-27 04:00")
    assert render(net, result) == "R1 A 05:00 -> B 05:30 (0:30, 0 transfers)"
    assert result.journeys[0].departure_s == local_ts("2024-10-27 05:00")  # 04:00 UTC
