"""FEATURE UNDER TEST: frequencies.txt trips are expanded from their template's run times."""

from tests.journey_planner._data import build_network, render, run

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,4.00
B,B,45.10,4.00
trips.txt
route_id,service_id,trip_id
R1,S,F1
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
F1,06:00:00,06:00:00,A,1
F1,06:10:00,06:10:00,B,2
frequencies.txt
trip_id,start_time,end_time,headway_secs, exact_times
F1,06:00:00,08:00:00,900,0
"""


def test_next_instance_of_a_frequency_trip(tmp_path):
    net = build_network(tmp_path, FEED)
    assert render(net, run(net, "A", "B", "2024-03-04 07:01")) == "R1 A 07:15 -> B 07:25 (0:10, 0 transfers)"
    assert net.report.frequency_trips == 8


def test_no_instance_at_or_after_end_time(tmp_path):
    net = build_network(tmp_path, FEED)
    result = run(net, "A", "B", "2024-03-04 07:46", search_horizon_s=3 * 3600)
    assert result.journeys == ()
