"""FEATURE UNDER TEST: no journey waits overnight when a later departure makes the same arrival.

The last bus (R1 23:33) reaches B long before the first train (R2 05:59). The morning buses
reach it too: R1 again at 05:10 (same rides), or R3 + R4 from 05:20 (one change more). A change
more is worth it only when it saves more than max(1 h, the journey's own duration) of waiting.
"""

from tests.journey_planner._data import build_network, render, run

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,4.00
B,B,45.10,4.00
C,C,45.50,4.00
X,X,45.05,4.05
trips.txt
route_id,service_id,trip_id
R1,S,EVENING
R1,S,MORNING
R2,S,TRAIN
R3,S,FEEDER
R4,S,SHUTTLE
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
EVENING,23:33:00,23:33:00,A,1
EVENING,23:45:00,23:45:00,B,2
MORNING,05:10:00,05:10:00,A,1
MORNING,05:22:00,05:22:00,B,2
TRAIN,05:59:00,05:59:00,B,1
TRAIN,07:12:00,07:12:00,C,2
FEEDER,05:20:00,05:20:00,A,1
FEEDER,05:30:00,05:30:00,X,2
SHUTTLE,05:35:00,05:35:00,X,1
SHUTTLE,05:45:00,05:45:00,B,2
"""
ROUTES = "routes.txt\nroute_id,route_short_name,route_type\nR1,R1,3\nR2,R2,2\nR3,R3,3\nR4,R4,3\n"


def test_takes_the_morning_bus_with_the_same_rides(tmp_path):
    net = build_network(tmp_path, FEED + ROUTES)
    assert render(net, run(net, "A", "C", "2024-03-04 23:30")) == (
        "R1 A 05:10 -> B 05:22 | R2 B 05:59 -> C 07:12 (2:02, 1 transfer)"
    )


def test_a_change_more_beats_a_night_at_the_station(tmp_path):
    # without the morning R1, the only one-change journey leaves at 23:33 and waits 6 h 14 at B
    net = build_network(tmp_path, FEED.replace("MORNING,05:10:00,05:10:00,A,1\nMORNING,05:22:00,05:22:00,B,2\n", "")
                        + ROUTES)
    assert render(net, run(net, "A", "C", "2024-03-04 23:30")) == (
        "R3 A 05:20 -> X 05:30 | R4 X 05:35 -> B 05:45 | R2 B 05:59 -> C 07:12 (1:52, 2 transfers)"
    )


def test_a_change_more_is_not_worth_a_short_wait(tmp_path):
    # R1 at 04:40 waits 1 h 07 at B; R3 + R4 leave 40 min later with a change more: 40 min < 1 h 52
    feed = FEED.replace("MORNING,05:10:00,05:10:00,A,1\nMORNING,05:22:00,05:22:00,B,2\n",
                        "MORNING,04:40:00,04:40:00,A,1\nMORNING,04:52:00,04:52:00,B,2\n")
    net = build_network(tmp_path, feed + ROUTES)
    assert render(net, run(net, "A", "C", "2024-03-05 04:00")) == (
        "R1 A 04:40 -> B 04:52 | R2 B 05:59 -> C 07:12 (2:32, 1 transfer)"
    )
