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


# O's own line leaves late in the window; N, 111 m away, has an earlier, faster one. R3 leaves O
# at 08:10 and arrives at E at 09:00; its second trip leaves O at 08:50 and arrives there at 09:00
# too (an express: the pattern is split, FIFO).
NEIGHBOURS = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
O,O,45.000,4.00
N,N,45.001,4.00
D,D,45.100,4.00
E,E,45.200,4.00
trips.txt
route_id,service_id,trip_id
R1,S,T1
R2,S,T2
R3,S,T4
R3,S,T5
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:40:00,08:40:00,O,1
T1,09:30:00,09:30:00,D,2
T2,08:05:00,08:05:00,N,1
T2,08:25:00,08:25:00,D,2
T4,08:10:00,08:10:00,O,1
T4,09:00:00,09:00:00,E,2
T5,08:50:00,08:50:00,O,1
T5,09:00:00,09:00:00,E,2
"""


def test_window_finds_the_earliest_journey_through_a_nearby_stop(tmp_path):
    net = build_network(tmp_path, NEIGHBOURS)
    assert render(net, run(net, "O", "D", "2024-03-04 08:00", window_s=60 * 60, max_journeys=10)) == (
        "walk O -> N 1m | R2 N 08:05 -> D 08:25 (0:21, 0 transfers)\n"
        "R1 O 08:40 -> D 09:30 (0:50, 0 transfers)"
    )


def test_a_departure_a_later_one_beats_is_no_answer_even_when_that_one_is_past_the_window(tmp_path):
    """08:10 waits for nothing it could not have by leaving at 08:50: the window shows neither."""
    net = build_network(tmp_path, NEIGHBOURS)
    assert render(net, run(net, "O", "E", "2024-03-04 08:00", window_s=30 * 60, max_journeys=10)) == ""
    assert render(net, run(net, "O", "E", "2024-03-04 08:00", window_s=60 * 60, max_journeys=10)) == (
        "R3 O 08:50 -> E 09:00 (0:10, 0 transfers)"
    )
