"""FEATURE UNDER TEST: a skipped stop allows neither boarding nor alighting on that trip."""

from feeds.realtime.model import ResolvedStopTimeUpdate, ResolvedTripUpdate
from journey_planner.core import PlanRequest, plan
from journey_planner.realtime import apply_trip_updates
from tests.journey_planner._data import build_network, local_ts, place, render
from tests.journey_planner.moduletests.test_a08_overtaking import FEED


def test_skipped_stop_cannot_be_boarded(tmp_path):
    static = build_network(tmp_path, FEED)
    t = local_ts("2024-03-04 08:10")
    skip = ResolvedTripUpdate(
        "t", "t:T1", "20240304", False, False,
        (ResolvedStopTimeUpdate(1, "t:B", t, t, 0, 0, skipped=True),),
    )
    rt, overlay = apply_trip_updates(static, [skip])
    assert overlay.errors == ()
    req = PlanRequest(place(rt, "B"), place(rt, "C"), local_ts("2024-03-04 08:05"))
    assert render(rt, plan(rt.timetable, req)) == "R1 B 08:25 -> C 08:35 (0:10, 0 transfers)"
    req = PlanRequest(place(rt, "A"), place(rt, "B"), local_ts("2024-03-04 07:55"))
    assert render(rt, plan(rt.timetable, req)) == "R1 A 08:15 -> B 08:25 (0:10, 0 transfers)"
    # the other stops of T1 still work
    req = PlanRequest(place(rt, "A"), place(rt, "C"), local_ts("2024-03-04 07:55"))
    assert render(rt, plan(rt.timetable, req)) == "R1 A 08:00 -> C 08:20 (0:20, 0 transfers)"
