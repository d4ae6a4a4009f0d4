"""FEATURE UNDER TEST: a feed with no trip the planner can use still compiles, and answers nothing.

The only trip, F1 (an on-demand run as GTFS-Flex feeds publish it), has no times at its first and
last stops, so it is dropped. Compiling such a feed used to crash (an empty trip list broke the
stop_time row indexing), which stopped every other network of a region from being published.
"""

from tests.journey_planner._data import build_network, render, run

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,4.00
B,B,45.01,4.00
trips.txt
route_id,service_id,trip_id
R1,S,F1
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
F1,,,A,1
F1,,,B,2
"""


def test_a_feed_without_usable_trips_compiles_and_plans_nothing(tmp_path):
    net = build_network(tmp_path, FEED)
    assert (len(net.trip_ids), net.report.trips_dropped) == (0, 1)
    assert render(net, run(net, "A", "B", "2024-03-04 07:50")) == ""
