"""FEATURE UNDER TEST: transfers.txt rows naming routes or trips (type 3 forbidden, type 2 minimum
time, types 0/1 as overrides) apply to the change they name only, the most specific row winning,
in depart-at and arrive-by searches alike.

Changing at B from R1 (T1, arrives 08:10) the options are R2 (T2 08:15, T2b 08:45) and R4
(08:20); R5 reaches B earlier (08:05) from an earlier departure; R3 runs A -> C directly.
"""

from tests.journey_planner._data import build_network, render, run

BASE = """
routes.txt
route_id,route_short_name,route_type
R1,R1,3
R2,R2,3
R3,R3,3
R4,R4,3
R5,R5,3
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,4.00
B,B,45.10,4.00
C,C,45.20,4.00
trips.txt
route_id,service_id,trip_id
R1,S,T1
R2,S,T2
R2,S,T2b
R3,S,T3
R4,S,T4
R5,S,T5
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:10:00,B,2
T2,08:15:00,08:15:00,B,1
T2,08:25:00,08:25:00,C,2
T2b,08:45:00,08:45:00,B,1
T2b,08:55:00,08:55:00,C,2
T3,08:05:00,08:05:00,A,1
T3,09:30:00,09:30:00,C,2
T4,08:20:00,08:20:00,B,1
T4,08:40:00,08:40:00,C,2
T5,07:50:00,07:50:00,A,1
T5,08:05:00,08:05:00,B,2
transfers.txt
from_stop_id,to_stop_id,from_route_id,to_route_id,from_trip_id,to_trip_id,transfer_type,min_transfer_time
"""


def first(net, *args, **kw) -> str:
    return render(net, run(net, *args, **kw)).splitlines()[0]


def test_without_rules_the_first_connection_is_taken(tmp_path):
    net = build_network(tmp_path, BASE)
    assert first(net, "A", "C", "2024-03-04 07:55") == "R1 A 08:00 -> B 08:10 | R2 B 08:15 -> C 08:25 (0:25, 1 transfer)"


def test_route_rule_type_3_forbids_only_that_route_pair(tmp_path):
    net = build_network(tmp_path, BASE + "B,B,R1,R2,,,3,\n")
    assert net.report.transfer_rules == 1
    assert first(net, "A", "C", "2024-03-04 07:55") == "R1 A 08:00 -> B 08:10 | R4 B 08:20 -> C 08:40 (0:40, 1 transfer)"


def test_trip_rule_type_2_sets_that_change_time(tmp_path):
    ok = build_network(tmp_path / "ok", BASE + "B,B,,,T1,T2,2,300\n")
    assert first(ok, "A", "C", "2024-03-04 07:55", transfer_slack_s=600) == (
        "R1 A 08:00 -> B 08:10 | R2 B 08:15 -> C 08:25 (0:25, 1 transfer)"
    )  # the row's 300 s replaces the default 600 s for T1 -> T2 ...
    late = build_network(tmp_path / "late", BASE + "B,B,,,T1,T2,2,360\n")
    assert first(late, "A", "C", "2024-03-04 07:55", transfer_slack_s=0) == (
        "R1 A 08:00 -> B 08:10 | R4 B 08:20 -> C 08:40 (0:40, 1 transfer)"
    )  # ... and 360 s misses T2, while T4 keeps the default 0 s


def test_the_most_specific_row_wins(tmp_path):
    rows = "B,B,R1,,,,3,\nB,B,,,T1,T2b,1,\n"  # no change from R1 at all, except T1 -> T2b (timed)
    net = build_network(tmp_path, BASE + rows)
    assert first(net, "A", "C", "2024-03-04 07:55") == "R1 A 08:00 -> B 08:10 | R2 B 08:45 -> C 08:55 (0:55, 1 transfer)"


def test_arrive_by_honours_the_rule_in_reverse(tmp_path):
    plain = build_network(tmp_path / "plain", BASE)
    assert first(plain, "A", "C", "2024-03-04 08:30", arrive_by=True) == (
        "R1 A 08:00 -> B 08:10 | R2 B 08:15 -> C 08:25 (0:25, 1 transfer)"
    )
    net = build_network(tmp_path / "rule", BASE + "B,B,R1,R2,,,3,\n")
    assert first(net, "A", "C", "2024-03-04 08:30", arrive_by=True) == (
        "R5 A 07:50 -> B 08:05 | R2 B 08:15 -> C 08:25 (0:35, 1 transfer)"
    )


def test_rows_naming_unknown_trips_are_counted_not_applied(tmp_path):
    net = build_network(tmp_path, BASE + "B,B,,,T1,NOPE,3,\n")
    assert (net.report.transfer_rules, net.report.transfers_ignored) == (0, 1)
    assert first(net, "A", "C", "2024-03-04 07:55").startswith("R1 A 08:00 -> B 08:10 | R2 B 08:15")


def test_a_realtime_copy_keeps_its_trip_rules(tmp_path):
    from feeds.realtime.model import ResolvedStopTimeUpdate, ResolvedTripUpdate
    from journey_planner.core import PlanRequest, plan
    from journey_planner.realtime import apply_trip_updates
    from tests.journey_planner._data import local_ts, place

    static = build_network(tmp_path, BASE + "B,B,,,T1,T2,3,\n")
    t = local_ts("2024-03-04 08:16")  # T2 one minute late
    stus = (ResolvedStopTimeUpdate(0, "t:B", t, t, 60, 60), ResolvedStopTimeUpdate(1, "t:C", t + 600, t + 600, 60, 60))
    rt, overlay = apply_trip_updates(static, [ResolvedTripUpdate("t", "t:T2", "20240304", False, False, stus)])
    assert overlay.errors == ()
    req = PlanRequest(place(rt, "A"), place(rt, "C"), local_ts("2024-03-04 07:55"))
    assert render(rt, plan(rt.timetable, req)).splitlines()[0] == (
        "R1 A 08:00 -> B 08:10 | R4 B 08:20 -> C 08:40 (0:40, 1 transfer)"
    )
