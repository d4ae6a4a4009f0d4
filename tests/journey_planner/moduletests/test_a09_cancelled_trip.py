"""FEATURE UNDER TEST: a cancelled trip does not run that day; the next trip is used."""

from feeds.realtime.model import ResolvedTripUpdate
from journey_planner.core import PlanRequest, plan
from journey_planner.realtime import apply_trip_updates
from tests.journey_planner._data import build_network, local_ts, place, render
from tests.journey_planner.moduletests.test_a08_overtaking import FEED


def test_cancelled_trip_is_not_boarded(tmp_path):
    static = build_network(tmp_path, FEED)
    cancel = ResolvedTripUpdate("t", "t:T1", "20240304", True, False, ())
    rt, overlay = apply_trip_updates(static, [cancel])
    t1 = static.list_trips("t:T1")[0]
    assert overlay.canceled == {(t1, static.find_day(__import__("datetime").date(2024, 3, 4)))}
    req = PlanRequest(place(rt, "A"), place(rt, "C"), local_ts("2024-03-04 07:55"))
    assert render(rt, plan(rt.timetable, req)) == "R1 A 08:15 -> C 08:35 (0:20, 0 transfers)"


def test_unknown_trip_is_reported_not_raised(tmp_path):
    static = build_network(tmp_path, FEED)
    _, overlay = apply_trip_updates(static, [ResolvedTripUpdate("t", "t:NOPE", "20240304", True, False, ())])
    assert [e.type.value for e in overlay.errors] == ["unknown_trip"]
