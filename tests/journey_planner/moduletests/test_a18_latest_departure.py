"""FEATURE UNDER TEST: a journey leaves as late as it can for its arrival, with no more rides.

The first bus catches the only R2 at B after a 35-minute wait; the 08:20 bus catches it too.
Arrive-by is the mirror: the latest departure, then the earliest arrival for that departure.
"""

from tests.journey_planner._data import build_network, render, run

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,4.00
B,B,45.10,4.00
C,C,45.20,4.00
D,D,45.05,4.05
trips.txt
route_id,service_id,trip_id
R1,S,T1
R1,S,T2
R2,S,T3
R2,S,T4
R3,S,T5
R3,S,T6
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:10:00,B,2
T2,08:20:00,08:20:00,A,1
T2,08:30:00,08:30:00,B,2
T3,08:45:00,08:45:00,B,1
T3,08:55:00,08:55:00,C,2
T4,09:15:00,09:15:00,B,1
T4,09:25:00,09:25:00,C,2
T5,08:25:00,08:25:00,A,1
T5,08:30:00,08:30:00,D,2
T6,08:33:00,08:33:00,D,1
T6,08:40:00,08:40:00,B,2
"""


def test_leaves_on_the_last_bus_that_catches_the_same_train(tmp_path):
    net = build_network(tmp_path, FEED)
    assert render(net, run(net, "A", "C", "2024-03-04 07:55")) == (
        "R1 A 08:20 -> B 08:30 | R2 B 08:45 -> C 08:55 (0:35, 1 transfer)"
    )


def test_a_later_departure_with_more_rides_does_not_replace_it_for_five_minutes(tmp_path):
    # R3 08:25 -> D, R3 D 08:33 -> B catches the same 08:45: 5 minutes later, one change more
    net = build_network(tmp_path, FEED)
    out = render(net, run(net, "A", "C", "2024-03-04 07:55"))
    assert "R3" not in out


def test_arrive_by_arrives_as_early_as_its_departure_allows(tmp_path):
    # the latest departures (08:25 with two changes, 08:20 with one) both get in by 08:55 on the
    # 08:45 R2: neither waits at B for the 09:15 that arrive-by alone would have chosen
    net = build_network(tmp_path, FEED)
    assert render(net, run(net, "A", "C", "2024-03-04 09:30", arrive_by=True)) == (
        "R3 A 08:25 -> D 08:30 | R3 D 08:33 -> B 08:40 | R2 B 08:45 -> C 08:55 (0:30, 2 transfers)\n"
        "R1 A 08:20 -> B 08:30 | R2 B 08:45 -> C 08:55 (0:35, 1 transfer)"
    )


def test_window_keeps_the_latest_departure_of_each_arrival(tmp_path):
    # 08:00 is dropped (08:20 makes the same arrival); the 08:25 run reaches C at 08:55 with
    # three rides, which does not hide the 08:20 run's two rides to C at 08:55
    net = build_network(tmp_path, FEED)
    assert render(net, run(net, "A", "C", "2024-03-04 07:55", window_s=3600, max_journeys=10)) == (
        "R1 A 08:20 -> B 08:30 | R2 B 08:45 -> C 08:55 (0:35, 1 transfer)\n"
        "R3 A 08:25 -> D 08:30 | R3 D 08:33 -> B 08:40 | R2 B 08:45 -> C 08:55 (0:30, 2 transfers)"
    )
