"""FEATURE UNDER TEST: a window answers only journeys leaving (arrive-by: arriving) inside it.

A station with two platforms: R1 leaves A1 at 08:00 and 08:30, R2 leaves A2 at 08:40 and is
faster. The run of a window's last departure (08:30) finds R2, which leaves after the window;
R3 arrives at 08:32 but the run of that arrival finds R1's 08:20 arrival, before the window.
"""

from tests.journey_planner._data import build_network, local_ts, render, run

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
STN,Station,45.00,4.00,1,
A1,A1,45.00,4.00,0,STN
A2,A2,45.0001,4.0001,0,STN
B,B,45.10,4.00,0,
trips.txt
route_id,service_id,trip_id
R1,S,T1
R1,S,T2
R2,S,T3
R3,S,T4
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A1,1
T1,08:20:00,08:20:00,B,2
T2,08:30:00,08:30:00,A1,1
T2,08:50:00,08:50:00,B,2
T3,08:40:00,08:40:00,A2,1
T3,08:45:00,08:45:00,B,2
T4,07:50:00,07:50:00,A1,1
T4,08:32:00,08:32:00,B,2
"""


def test_depart_at_window_drops_departures_after_its_end(tmp_path):
    net = build_network(tmp_path, FEED)
    result = run(net, "STN", "B", "2024-03-04 07:55", window_s=40 * 60, max_journeys=10)
    assert render(net, result) == "R1 A1 08:00 -> B 08:20 (0:20, 0 transfers)"
    start = local_ts("2024-03-04 07:55")
    assert all(start <= j.departure_s <= start + 40 * 60 for j in result.journeys)


def test_arrive_by_window_drops_arrivals_before_its_start(tmp_path):
    net = build_network(tmp_path, FEED)
    result = run(net, "STN", "B", "2024-03-04 08:50", arrive_by=True, window_s=20 * 60, max_journeys=10)
    assert render(net, result) == "R2 A2 08:40 -> B 08:45 (0:05, 0 transfers)"
    end = local_ts("2024-03-04 08:50")
    assert all(end - 20 * 60 <= j.arrival_s <= end for j in result.journeys)


def test_window_keeps_every_departure_inside_it(tmp_path):
    net = build_network(tmp_path, FEED)
    assert render(net, run(net, "STN", "B", "2024-03-04 07:55", window_s=50 * 60, max_journeys=10)) == (
        "R1 A1 08:00 -> B 08:20 (0:20, 0 transfers)\n"
        "R2 A2 08:40 -> B 08:45 (0:05, 0 transfers)"
    )
