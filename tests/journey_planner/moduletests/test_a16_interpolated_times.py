"""FEATURE UNDER TEST: stop times left empty between timepoints are interpolated by distance.

Every trip runs A-B-C-D with times only at A (08:00 + h) and D (08:30 + h): 1,800 s to share.
Along one meridian the straight-line distances are exact shares of the run: B is 1/10 of the
way, C (a platform without coordinates, placed by its station CS) 9/10, so B = 180 s, C = 1,620 s.
T2's shape_dist_traveled 0, 1, 2.5, 7 (a winding road) gives B 1/7 -> 257.14 s -> 257 s and
C 2.5/7 -> 642.86 s -> 643 s. T3's shape_dist_traveled goes backwards, so the straight line is
used. Z1-Z4 stand at one place: that run has no length and is split by stop position.
"""

from datetime import timedelta

from journey_planner.compile import Network
from tests.journey_planner._data import build_network, render, run

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
A,A,45.00,4.00,0,
B,B,45.01,4.00,0,
CS,C station,45.09,4.00,1,
C,C,,,0,CS
D,D,45.10,4.00,0,
Z1,Z1,45.50,4.50,0,
Z2,Z2,45.50,4.50,0,
Z3,Z3,45.50,4.50,0,
Z4,Z4,45.50,4.50,0,
trips.txt
route_id,service_id,trip_id
R1,S,T1
R1,S,T2
R1,S,T3
R2,S,TZ
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled
T1,08:00:00,08:00:00,A,1,
T1,,,B,2,
T1,,,C,3,
T1,08:30:00,08:30:00,D,4,
T2,09:00:00,09:00:00,A,1,0
T2,,,B,2,1
T2,,,C,3,2.5
T2,09:30:00,09:30:00,D,4,7
T3,10:00:00,10:00:00,A,1,0
T3,,,B,2,5
T3,,,C,3,3
T3,10:30:00,10:30:00,D,4,10
TZ,08:00:00,08:00:00,Z1,1,
TZ,,,Z2,2,
TZ,,,Z3,3,
TZ,08:30:00,08:30:00,Z4,4,
"""


def stop_times(net: Network, trip_id: str) -> str:
    """``A 08:00:00 | B 08:03:00 | ...``: the compiled departures of one trip."""
    tt = net.timetable
    (trip,) = net.list_trips(f"t:{trip_id}")
    p = int(tt.trip_pattern[trip])
    stops = tt.pattern_stops[tt.pattern_stop_offsets[p]: tt.pattern_stop_offsets[p + 1]]
    first = int(tt.pattern_stop_time_offsets[p]) + (trip - int(tt.pattern_trip_offsets[p])) * stops.size
    departures = tt.stop_time_departure[first: first + stops.size]
    return " | ".join(
        f"{str(net.stop_ids[s]).split(':', 1)[1]} {timedelta(seconds=int(t))}" for s, t in zip(stops, departures)
    )


def test_straight_line_distance_when_no_shape_dist_traveled(tmp_path):
    net = build_network(tmp_path, FEED)
    assert stop_times(net, "T1") == "A 8:00:00 | B 8:03:00 | C 8:27:00 | D 8:30:00"
    assert render(net, run(net, "A", "B", "2024-03-04 07:50")) == "R1 A 08:00 -> B 08:03 (0:03, 0 transfers)"


def test_shape_dist_traveled_when_the_trip_has_it(tmp_path):
    net = build_network(tmp_path, FEED)
    assert stop_times(net, "T2") == "A 9:00:00 | B 9:04:17 | C 9:10:43 | D 9:30:00"


def test_straight_line_when_shape_dist_traveled_goes_backwards(tmp_path):
    net = build_network(tmp_path, FEED)
    assert stop_times(net, "T3") == "A 10:00:00 | B 10:03:00 | C 10:27:00 | D 10:30:00"


def test_stop_position_when_the_run_has_no_length(tmp_path):
    net = build_network(tmp_path, FEED)
    assert stop_times(net, "TZ") == "Z1 8:00:00 | Z2 8:10:00 | Z3 8:20:00 | Z4 8:30:00"
