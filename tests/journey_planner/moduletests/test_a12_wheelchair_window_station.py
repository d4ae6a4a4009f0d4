"""FEATURE UNDER TEST: wheelchair-only search, range (window) queries and station origins."""

from tests.journey_planner._data import build_network, render, run

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,wheelchair_boarding
STN,Station,45.00,4.00,1,,1
A1,A1,45.00,4.00,0,STN,
A2,A2,45.0001,4.0001,0,STN,2
B,B,45.10,4.00,0,,1
trips.txt
route_id,service_id,trip_id,wheelchair_accessible
R1,S,T1,2
R1,S,T2,1
R2,S,T3,1
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A1,1
T1,08:20:00,08:20:00,B,2
T2,09:00:00,09:00:00,A1,1
T2,09:20:00,09:20:00,B,2
T3,08:30:00,08:30:00,A2,1
T3,08:50:00,08:50:00,B,2
"""


def test_wheelchair_uses_accessible_trips_and_stops_only(tmp_path):
    net = build_network(tmp_path, FEED)
    assert render(net, run(net, "STN", "B", "2024-03-04 07:55", wheelchair=True)) == (
        "R1 A1 09:00 -> B 09:20 (0:20, 0 transfers)"
    )


def test_station_origin_uses_all_its_platforms(tmp_path):
    net = build_network(tmp_path, FEED)
    assert render(net, run(net, "STN", "B", "2024-03-04 08:05")) == "R2 A2 08:30 -> B 08:50 (0:20, 0 transfers)"


def test_window_returns_each_good_departure(tmp_path):
    net = build_network(tmp_path, FEED)
    out = render(net, run(net, "STN", "B", "2024-03-04 07:55", window_s=2 * 3600, max_journeys=10))
    assert out == (
        "R1 A1 08:00 -> B 08:20 (0:20, 0 transfers)\n"
        "R2 A2 08:30 -> B 08:50 (0:20, 0 transfers)\n"
        "R1 A1 09:00 -> B 09:20 (0:20, 0 transfers)"
    )
