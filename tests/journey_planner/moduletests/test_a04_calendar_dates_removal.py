"""FEATURE UNDER TEST: calendar_dates.txt exception_type 2 removes a day of a calendar service, 1 adds one."""

from tests.journey_planner._data import build_network, local_ts, render, run

FEED = """
calendar.txt
service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
WD,1,1,1,1,1,0,0,20240101,20241231
calendar_dates.txt
service_id,date,exception_type
WD,20240304,2
WD,20240309,1
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,4.00
B,B,45.10,4.00
trips.txt
route_id,service_id,trip_id
R1,WD,T1
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:20:00,08:20:00,B,2
"""


def test_removed_day_has_no_trip_and_next_day_is_used(tmp_path):
    net = build_network(tmp_path, FEED)
    result = run(net, "A", "B", "2024-03-04 07:00")
    assert render(net, result) == "R1 A 08:00 -> B 08:20 (0:20, 0 transfers)"
    assert result.journeys[0].departure_s == local_ts("2024-03-05 08:00")


def test_added_saturday_runs(tmp_path):
    net = build_network(tmp_path, FEED)
    result = run(net, "A", "B", "2024-03-09 07:00")
    assert result.journeys[0].departure_s == local_ts("2024-03-09 08:00")


def test_plain_sunday_has_nothing_within_the_horizon(tmp_path):
    net = build_network(tmp_path, FEED)
    result = run(net, "A", "B", "2024-03-10 07:00", search_horizon_s=12 * 3600)
    assert result.journeys == ()
