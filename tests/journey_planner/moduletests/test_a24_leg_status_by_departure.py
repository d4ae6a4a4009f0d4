"""FEATURE UNDER TEST: a leg's status and delays come from both of its ends.

A leg carries ``departure_delay_s`` (boarding stop) and ``arrival_delay_s`` (alighting stop);
its status is "delayed" when either end is at least 60 s late, else "early" when either is at
least 60 s early, else "on_time" ("scheduled" without realtime). A T1 leaving 5 min late that
makes the time up on the way is delayed, not on time. The calls of the leg carry the platform.
"""

import pytest

from feeds.realtime.model import ResolvedStopTimeUpdate, ResolvedTripUpdate
from journey_planner.core import PlanRequest, TransitLeg, plan
from journey_planner.mapping import NO_OVERLAY, Mapper
from journey_planner.realtime import apply_trip_updates
from tests.journey_planner._data import build_network, local_ts, place

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon,platform_code
A,A,45.00,4.00,2
B,B,45.10,4.00,
C,C,45.20,4.00,B
trips.txt
route_id,service_id,trip_id
R1,S,T1
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:15:00,B,2
T1,08:25:00,08:25:00,C,3
"""
SCHEDULED = [(local_ts(f"2024-03-04 {a}"), local_ts(f"2024-03-04 {d}"))  # (arrival, departure) at A, B, C
             for a, d in [("08:00", "08:00"), ("08:10", "08:15"), ("08:25", "08:25")]]


def update(*delays_s: int) -> ResolvedTripUpdate:
    """T1 on 2024-03-04 with these delays at A, B and C (arrival and departure alike)."""
    stus = tuple(ResolvedStopTimeUpdate(i, f"t:{s}", arr + d, dep + d, d, d)
                 for i, (s, (arr, dep), d) in enumerate(zip("ABC", SCHEDULED, delays_s, strict=True)))
    return ResolvedTripUpdate("t", "t:T1", "20240304", False, False, stus)


def rendered_leg(tmp_path, updates: list[ResolvedTripUpdate]) -> str:
    static = build_network(tmp_path, FEED)
    network, overlay = apply_trip_updates(static, updates) if updates else (static, NO_OVERLAY)
    request = PlanRequest(place(network, "A"), place(network, "C"), local_ts("2024-03-04 07:50"))
    (journey,) = plan(network.timetable, request).journeys
    (leg,) = [leg for leg in journey.legs if isinstance(leg, TransitLeg)]
    j = Mapper(network, overlay, bool(updates)).transit_leg_json(leg)
    calls = " ".join(f"{c['id'][2:]}[{c['platform'] or '-'}]:{c['status']}" for c in j["stops"])
    return (f"{j['from']['departure'][11:16]} -> {j['to']['arrival'][11:16]} {j['status']} "
            f"dep {j['departure_delay_s']} arr {j['arrival_delay_s']} delay {j['delay_s']} | {calls}")


@pytest.mark.parametrize(
    "delays_s,expected",
    [
        ((300, 0, 0), "08:05 -> 08:25 delayed dep 300 arr 0 delay 0 | A[2]:delayed B[-]:on_time C[B]:on_time"),
        ((0, 0, 300), "08:00 -> 08:30 delayed dep 0 arr 300 delay 300 | A[2]:on_time B[-]:on_time C[B]:delayed"),
        ((-120, -120, 0), "07:58 -> 08:25 early dep -120 arr 0 delay 0 | A[2]:early B[-]:early C[B]:on_time"),
        ((30, 0, -30), "08:00 -> 08:24 on_time dep 30 arr -30 delay -30 | A[2]:on_time B[-]:on_time C[B]:on_time"),
        ((-120, 0, 120), "07:58 -> 08:27 delayed dep -120 arr 120 delay 120 | A[2]:early B[-]:on_time C[B]:delayed"),
        ((59, 0, -59), "08:00 -> 08:24 on_time dep 59 arr -59 delay -59 | A[2]:on_time B[-]:on_time C[B]:on_time"),
        ((60, 0, 0), "08:01 -> 08:25 delayed dep 60 arr 0 delay 0 | A[2]:delayed B[-]:on_time C[B]:on_time"),
    ],
)
def test_status_reflects_departure_and_arrival(tmp_path, delays_s, expected):
    assert rendered_leg(tmp_path, [update(*delays_s)]) == expected


def test_without_realtime_the_leg_is_scheduled_with_no_delays(tmp_path):
    expected = "08:00 -> 08:25 scheduled dep None arr None delay None | A[2]:scheduled B[-]:scheduled C[B]:scheduled"
    assert rendered_leg(tmp_path, []) == expected
