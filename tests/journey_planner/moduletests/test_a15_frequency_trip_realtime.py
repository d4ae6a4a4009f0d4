"""FEATURE UNDER TEST: a realtime update for a frequency-based trip applies to the run that its
start time names (ResolvedTripUpdate.start_time_s), and only to that run.

F1 runs A -> B in 10 minutes every 15 minutes from 06:00 to 08:00; the 07:00 run is 10 minutes
late, so from A at 07:01 it is the first bus (07:10), before the 07:15 run.
"""

from datetime import date

from feeds.realtime.model import ResolvedStopTimeUpdate, ResolvedTripUpdate
from journey_planner.core import PlanRequest, plan
from journey_planner.realtime import apply_trip_updates
from tests.journey_planner._data import build_network, local_ts, place, render
from tests.journey_planner.moduletests.test_a07_frequencies import FEED


def delayed(start_time_s: int | None, delay_s: int = 600) -> ResolvedTripUpdate:
    t0 = local_ts("2024-03-04 00:00") + (start_time_s or 7 * 3600)
    stus = (ResolvedStopTimeUpdate(0, "t:A", t0 + delay_s, t0 + delay_s, delay_s, delay_s),
            ResolvedStopTimeUpdate(1, "t:B", t0 + 600 + delay_s, t0 + 600 + delay_s, delay_s, delay_s))
    return ResolvedTripUpdate("t", "t:F1", "20240304", False, False, stus, route_id="t:R1",
                              start_time_s=start_time_s)


def test_update_applies_to_the_run_of_its_start_time(tmp_path):
    static = build_network(tmp_path, FEED)
    rt, overlay = apply_trip_updates(static, [delayed(7 * 3600)])
    assert overlay.errors == () and overlay.applied == 1
    req = PlanRequest(place(rt, "A"), place(rt, "B"), local_ts("2024-03-04 07:01"), max_journeys=2)
    assert render(rt, plan(rt.timetable, req)) == "R1 A 07:10 -> B 07:20 (0:10, 0 transfers)"
    day = static.find_day(date(2024, 3, 4))
    (src, d), = overlay.replaced
    assert d == day and int(static.timetable.stop_time_departure[_row(static, src)]) == 7 * 3600
    # the other runs keep their times: from 07:11 the next bus is the 07:15 run
    later = PlanRequest(place(rt, "A"), place(rt, "B"), local_ts("2024-03-04 07:11"))
    assert render(rt, plan(rt.timetable, later)) == "R1 A 07:15 -> B 07:25 (0:10, 0 transfers)"


def test_two_runs_updated_in_one_feed_are_both_applied(tmp_path):
    static = build_network(tmp_path, FEED)
    _, overlay = apply_trip_updates(static, [delayed(7 * 3600), delayed(7 * 3600 + 900, 300)])
    assert overlay.errors == () and len(overlay.replaced) == 2


def test_start_time_matching_no_run_is_reported(tmp_path):
    static = build_network(tmp_path, FEED)
    _, overlay = apply_trip_updates(static, [delayed(9 * 3600), delayed(None)])
    assert [e.type.value for e in overlay.errors] == ["ambiguous_trip", "ambiguous_trip"]


def _row(net, trip: int) -> int:
    tt = net.timetable
    p = int(tt.trip_pattern[trip])
    n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
    return int(tt.pattern_stop_time_offsets[p]) + (trip - int(tt.pattern_trip_offsets[p])) * n_s
