"""FEATURE UNDER TEST: trips overtaking each other (static express, or a delay) keep the search exact."""

from feeds.realtime.model import ResolvedStopTimeUpdate, ResolvedTripUpdate
from journey_planner.core import plan
from journey_planner.realtime import apply_trip_updates
from tests.journey_planner._data import build_network, local_ts, place, render, run
from journey_planner.core import PlanRequest

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,4.00
B,B,45.10,4.00
C,C,45.20,4.00
trips.txt
route_id,service_id,trip_id
R1,S,T1
R1,S,T2
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:10:00,B,2
T1,08:20:00,08:20:00,C,3
T2,08:15:00,08:15:00,A,1
T2,08:25:00,08:25:00,B,2
T2,08:35:00,08:35:00,C,3
"""


def delay(trip: str, minutes: int, day: str = "2024-03-04") -> ResolvedTripUpdate:
    stops = []
    for i, (stop, hhmm) in enumerate([("A", "08:00"), ("B", "08:10"), ("C", "08:20")]):
        t = local_ts(f"{day} {hhmm}") + minutes * 60
        stops.append(ResolvedStopTimeUpdate(i, f"t:{stop}", t, t, minutes * 60, minutes * 60))
    return ResolvedTripUpdate("t", f"t:{trip}", day.replace("-", ""), False, False, tuple(stops))


def run_rt(net, frm, to, at):
    return plan(net.timetable, PlanRequest(place(net, frm), place(net, to), local_ts(at)))


def test_delayed_trip_overtaken_by_the_next_one(tmp_path):
    static = build_network(tmp_path, FEED)
    rt, overlay = apply_trip_updates(static, [delay("T1", 30)])
    assert overlay.errors == ()
    # T1 now leaves A at 08:30, after T2 (08:15): T2 is the earliest arrival from 08:00
    assert render(rt, run_rt(rt, "A", "C", "2024-03-04 07:55")) == "R1 A 08:15 -> C 08:35 (0:20, 0 transfers)"
    # after 08:15 only the delayed T1 remains
    assert render(rt, run_rt(rt, "A", "C", "2024-03-04 08:16")) == "R1 A 08:30 -> C 08:50 (0:20, 0 transfers)"
    # the static network is untouched
    assert render(static, run(static, "A", "C", "2024-03-04 07:55")) == "R1 A 08:00 -> C 08:20 (0:20, 0 transfers)"


def test_delay_applies_to_its_service_day_only(tmp_path):
    static = build_network(tmp_path, FEED)
    rt, _ = apply_trip_updates(static, [delay("T1", 30)])
    assert render(rt, run_rt(rt, "A", "C", "2024-03-05 07:55")) == "R1 A 08:00 -> C 08:20 (0:20, 0 transfers)"


def test_static_express_trip_overtaking_is_split_into_fifo_patterns(tmp_path):
    feed = FEED.replace("T2,08:35:00,08:35:00,C,3", "T2,08:18:00,08:18:00,C,3").replace(
        "T2,08:25:00,08:25:00,B,2", "T2,08:16:00,08:16:00,B,2"
    )
    net = build_network(tmp_path, feed)
    assert net.report.patterns_split == 1
    assert render(net, run(net, "A", "C", "2024-03-04 07:55")) == "R1 A 08:15 -> C 08:18 (0:03, 0 transfers)"
