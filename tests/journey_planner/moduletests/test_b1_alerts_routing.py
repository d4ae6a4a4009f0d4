"""FEATURE UNDER TEST: NO_SERVICE service alerts route (issue 13, "Alerts that route").

One test per entity kind (stop, station, route, route section, trip, agency, route_type), the
active periods (inside / outside, an alert starting later, a period across the DST change, the
horizon around now), an alert and a trip update on the same run, and other effects that only
inform. The line: R1 A-B-C-D-E at 08:00 (T1) and 09:00 (T2), a slow R3 A->E, a tram R2 from the
station STN's platform P1 to E.
"""

from datetime import date

from feeds.realtime.model import Alert, EntitySelector, TimeRange, TripDescriptor
from journey_planner.alert_overlay import ALERT_HORIZON_AFTER_S
from journey_planner.compile import CompileOptions, compile_network
from journey_planner.core import Place, PlanRequest, TransitLeg, plan
from journey_planner.core.timetable import NO_DROP_OFF, NO_PICKUP
from journey_planner.realtime import apply_realtime
from feeds.gtfs.reader import read_gtfs
from tests.journey_planner._data import build_network, local_ts, place, render, write_feed
from tests.journey_planner.moduletests.test_a08_overtaking import delay

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
A,A,45.00,4.00,0,
B,B,45.10,4.00,0,
C,C,45.20,4.00,0,
D,D,45.30,4.00,0,
E,E,45.40,4.00,0,
STN,Station,45.50,4.10,1,
P1,P1,45.50,4.10,0,STN
routes.txt
route_id,route_short_name,route_type
R1,R1,3
R2,R2,0
R3,R3,3
trips.txt
route_id,service_id,trip_id
R1,S,T1
R1,S,T2
R2,S,T3
R3,S,T4
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:10:00,B,2
T1,08:20:00,08:20:00,C,3
T1,08:30:00,08:30:00,D,4
T1,08:40:00,08:40:00,E,5
T2,09:00:00,09:00:00,A,1
T2,09:10:00,09:10:00,B,2
T2,09:20:00,09:20:00,C,3
T2,09:30:00,09:30:00,D,4
T2,09:40:00,09:40:00,E,5
T3,08:00:00,08:00:00,P1,1
T3,08:30:00,08:30:00,E,2
T4,08:05:00,08:05:00,A,1
T4,10:05:00,10:05:00,E,2
"""

DAY = "2024-03-04"


def no_service(*selectors: EntitySelector, periods: tuple[TimeRange, ...] = (), effect: str = "NO_SERVICE") -> Alert:
    return Alert("t:al1", active_periods=periods, informed_entities=selectors, effect=effect,
                 header_text={"": "closed"})


def between(a: str, b: str, day: str = DAY) -> TimeRange:
    return TimeRange(local_ts(f"{day} {a}"), local_ts(f"{day} {b}"))


def best(net, frm: str, to: str, at: str) -> str:
    return render(net, plan(net.timetable, PlanRequest(place(net, frm), place(net, to), local_ts(at)))).split("\n")[0]


def test_a_closed_stop_is_neither_boarded_nor_left_but_ridden_through(tmp_path):
    static = build_network(tmp_path, FEED)
    net, overlay = apply_realtime(static, [], [no_service(EntitySelector(stop_id="t:B"))])
    assert best(net, "B", "C", f"{DAY} 07:55") == ""
    assert "R1 A 08:00 -> B" not in best(net, "A", "B", f"{DAY} 07:55")
    assert best(net, "A", "C", f"{DAY} 07:55") == "R1 A 08:00 -> C 08:20 (0:20, 0 transfers)"
    t1 = static.list_trips("t:T1")[0]
    day = static.find_day(date(2024, 3, 4))
    assert overlay.alert_ids[(t1, day)] == ("t:al1",)
    assert (t1, day) not in overlay.canceled
    # always active: the closure is on the trip's own stop-time flags (no realtime copy per run)
    tt = net.timetable
    row = int(tt.pattern_stop_time_offsets[tt.trip_pattern[t1]]) + 1  # T1 is first in its pattern; B is position 1
    assert tt.stop_time_flags[row] == NO_PICKUP | NO_DROP_OFF and static.timetable.stop_time_flags[row] == 0


def test_a_closed_stop_with_a_period_closes_a_realtime_copy_of_the_run(tmp_path):
    static = build_network(tmp_path, FEED)
    alert = no_service(EntitySelector(stop_id="t:B"), periods=(between("07:00", "08:30"),))
    net, overlay = apply_realtime(static, [], [alert])
    t1, day = static.list_trips("t:T1")[0], static.find_day(date(2024, 3, 4))
    copy = overlay.replaced[(t1, day)]
    tt = net.timetable
    row = int(tt.pattern_stop_time_offsets[tt.trip_pattern[copy]]) + 1
    assert tt.stop_time_flags[row] == NO_PICKUP | NO_DROP_OFF
    assert best(net, "B", "C", f"{DAY} 07:55") == "R1 B 09:10 -> C 09:20 (0:10, 0 transfers)"


def test_a_closed_station_closes_its_platforms(tmp_path):
    static = build_network(tmp_path, FEED)
    assert best(static, "P1", "E", f"{DAY} 07:55") == "R2 P1 08:00 -> E 08:30 (0:30, 0 transfers)"
    net, _ = apply_realtime(static, [], [no_service(EntitySelector(stop_id="t:STN"))])
    assert best(net, "P1", "E", f"{DAY} 07:55") == ""


def test_a_closed_route_runs_no_trip_and_its_runs_are_cancelled(tmp_path):
    static = build_network(tmp_path, FEED)
    net, overlay = apply_realtime(static, [], [no_service(EntitySelector(route_id="t:R1"))], now_s=local_ts(f"{DAY} 07:00"))
    assert best(net, "A", "E", f"{DAY} 07:55") == "R3 A 08:05 -> E 10:05 (2:00, 0 transfers)"
    t1, t2 = static.list_trips("t:T1")[0], static.list_trips("t:T2")[0]
    day = next(d for (t, d) in overlay.canceled if t == t1)
    assert {(t1, day), (t2, day)} <= overlay.canceled
    assert overlay.alert_ids[(t2, day)] == ("t:al1",)


def test_a_route_section_cuts_the_trip_nobody_rides_across(tmp_path):
    static = build_network(tmp_path, FEED)
    section = no_service(*(EntitySelector(route_id="t:R1", stop_id=f"t:{s}") for s in "BCD"))
    net, overlay = apply_realtime(static, [], [section])
    # across the section: impossible on R1 (only the slow R3 remains)
    assert best(net, "A", "E", f"{DAY} 07:55") == "R3 A 08:05 -> E 10:05 (2:00, 0 transfers)"
    # riding to the section's start, and from its end, still works
    assert best(net, "A", "B", f"{DAY} 07:55") == "R1 A 08:00 -> B 08:10 (0:10, 0 transfers)"
    assert best(net, "D", "E", f"{DAY} 07:55") == "R1 D 08:30 -> E 08:40 (0:10, 0 transfers)"
    # no boarding at the section's start, no alighting at its end, nothing strictly inside
    assert best(net, "B", "E", f"{DAY} 07:55") == ""
    assert best(net, "A", "D", f"{DAY} 07:55") == ""
    assert best(net, "A", "C", f"{DAY} 07:55") == ""
    t1 = static.list_trips("t:T1")[0]
    parts = next(v for (t, _), v in overlay.parts.items() if t == t1)
    assert len(parts) == 2 and [str(net.trip_ids[p]) for p in parts] == ["t:T1", "t:T1"]


def test_a_closed_trip_is_cancelled_on_its_start_date_only(tmp_path):
    static = build_network(tmp_path, FEED)
    alert = no_service(EntitySelector(trip=TripDescriptor(trip_id="t:T1", start_date="20240305")))
    net, overlay = apply_realtime(static, [], [alert])
    assert best(net, "A", "C", f"{DAY} 07:55") == "R1 A 08:00 -> C 08:20 (0:20, 0 transfers)"
    assert best(net, "A", "C", "2024-03-05 07:55") == "R1 A 09:00 -> C 09:20 (0:20, 0 transfers)"
    assert len(overlay.canceled) == 1


def test_a_closed_trip_with_a_start_time_names_that_run(tmp_path):
    static = build_network(tmp_path, FEED)
    other = no_service(EntitySelector(trip=TripDescriptor(trip_id="t:T1", start_time="09:00:00")))
    net, overlay = apply_realtime(static, [], [other])
    assert overlay.canceled == frozenset()
    exact = no_service(EntitySelector(trip=TripDescriptor(trip_id="t:T1", start_time="08:00:00")))
    net, overlay = apply_realtime(static, [], [exact], now_s=local_ts(f"{DAY} 07:00"))
    assert best(net, "A", "C", f"{DAY} 07:55") == "R1 A 09:00 -> C 09:20 (0:20, 0 transfers)"


def test_an_agency_closes_the_routes_of_its_feed_only(tmp_path):
    tables = [(feed, read_gtfs(write_feed(tmp_path / feed, FEED))) for feed in ("t", "u")]
    static = compile_network(tables, options=CompileOptions())
    net, _ = apply_realtime(static, [], [no_service(EntitySelector(agency_id="u:a"))])

    def first(feed: str) -> str:
        a, c = static.find_stop(f"{feed}:A"), static.find_stop(f"{feed}:C")
        result = plan(net.timetable, PlanRequest(Place.of_stops([a]), Place.of_stops([c]), local_ts(f"{DAY} 07:55")))
        rides = [leg for j in result.journeys[:1] for leg in j.legs if isinstance(leg, TransitLeg)]
        return " ".join(str(net.trip_ids[leg.trip]) for leg in rides)

    assert first("t") == "t:T1"
    assert "u:T1" not in first("u") and "u:T2" not in first("u")


def test_a_route_type_closes_those_routes_only(tmp_path):
    static = build_network(tmp_path, FEED)
    net, _ = apply_realtime(static, [], [no_service(EntitySelector(route_type=0))])
    assert best(net, "P1", "E", f"{DAY} 07:55") == ""
    assert best(net, "A", "C", f"{DAY} 07:55") == "R1 A 08:00 -> C 08:20 (0:20, 0 transfers)"


def test_entity_fields_combine_as_and(tmp_path):
    static = build_network(tmp_path, FEED)
    # stop B on route R2: R2 does not call at B, so R1 still serves B
    net, overlay = apply_realtime(static, [], [no_service(EntitySelector(stop_id="t:A", route_type=0))])
    assert best(net, "A", "C", f"{DAY} 07:55") == "R1 A 08:00 -> C 08:20 (0:20, 0 transfers)"
    assert overlay.alert_ids == {}


def test_inside_and_outside_the_period(tmp_path):
    static = build_network(tmp_path, FEED)
    alert = no_service(EntitySelector(stop_id="t:B"), periods=(between("07:00", "08:30"),))
    net, _ = apply_realtime(static, [], [alert])
    assert best(net, "B", "C", f"{DAY} 07:55") == "R1 B 09:10 -> C 09:20 (0:10, 0 transfers)"
    assert best(net, "A", "B", f"{DAY} 07:55") == "R1 A 09:00 -> B 09:10 (0:10, 0 transfers)"
    # the next day is outside the period
    assert best(net, "B", "C", "2024-03-05 07:55") == "R1 B 08:10 -> C 08:20 (0:10, 0 transfers)"


def test_an_alert_starting_later_applies_only_from_then(tmp_path):
    static = build_network(tmp_path, FEED)
    alert = no_service(EntitySelector(route_id="t:R1"), periods=(TimeRange(local_ts(f"{DAY} 08:15"), None),))
    net, overlay = apply_realtime(static, [], [alert])
    # T1 leaves A and B before 08:15: those can be boarded and left; later stop-times cannot
    assert best(net, "A", "B", f"{DAY} 07:55") == "R1 A 08:00 -> B 08:10 (0:10, 0 transfers)"
    assert best(net, "C", "E", f"{DAY} 07:55") == ""
    assert "R1" not in best(net, "A", "C", f"{DAY} 07:55")
    t1, day = static.list_trips("t:T1")[0], static.find_day(date(2024, 3, 4))
    assert (t1, day) not in overlay.canceled and (t1, day) in overlay.replaced


DST_FEED = FEED.replace("stop_times.txt", """calendar.txt
service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
S,1,1,1,1,1,1,1,20250301,20250430
stop_times.txt""")


def test_a_period_in_posix_seconds_hits_the_right_local_departures_across_dst(tmp_path):
    static = build_network(tmp_path, DST_FEED)
    # 2025-03-30 06:05-06:15 UTC is 08:05-08:15 CEST (after the change): T1 at B (08:10) that day;
    # the day before, 06:05-06:15 UTC is 07:05-07:15 CET: no departure
    utc = TimeRange(local_ts("2025-03-30 06:05", "UTC"), local_ts("2025-03-30 06:15", "UTC"))
    day_before = TimeRange(local_ts("2025-03-29 06:05", "UTC"), local_ts("2025-03-29 06:15", "UTC"))
    net, _ = apply_realtime(static, [], [no_service(EntitySelector(stop_id="t:B"), periods=(utc, day_before))])
    assert best(net, "B", "C", "2025-03-30 07:55") == "R1 B 09:10 -> C 09:20 (0:10, 0 transfers)"
    assert best(net, "B", "C", "2025-03-29 07:55") == "R1 B 08:10 -> C 08:20 (0:10, 0 transfers)"
    # and 07:05-07:15 UTC on the 29th is 08:05-08:15 CET: T1 at B that day
    cet = TimeRange(local_ts("2025-03-29 07:05", "UTC"), local_ts("2025-03-29 07:15", "UTC"))
    net, _ = apply_realtime(static, [], [no_service(EntitySelector(stop_id="t:B"), periods=(cet,))])
    assert best(net, "B", "C", "2025-03-29 07:55") == "R1 B 09:10 -> C 09:20 (0:10, 0 transfers)"


def test_runs_beyond_the_horizon_are_left_to_the_static_timetable(tmp_path):
    """(An alert active throughout the timetable closes the static trips' own stop-times: every
    day, at no extra cost; a bounded period edits the runs within the horizon only.)"""
    static = build_network(tmp_path, FEED)
    now = local_ts(f"{DAY} 07:00")
    weeks = no_service(EntitySelector(stop_id="t:B"), periods=(TimeRange(now - 3600, now + 20 * 86400),))
    net, overlay = apply_realtime(static, [], [weeks], now_s=now)
    assert best(net, "B", "C", f"{DAY} 07:55") == ""
    days = {d for _, d in overlay.alert_ids}
    assert len(days) <= 1 + ALERT_HORIZON_AFTER_S // 86400 + 1
    assert best(net, "B", "C", "2024-03-10 07:55") == "R1 B 08:10 -> C 08:20 (0:10, 0 transfers)"


def test_an_alert_and_a_trip_update_on_the_same_run(tmp_path):
    static = build_network(tmp_path, FEED.replace("T1,08:30:00,08:30:00,D,4\nT1,08:40:00,08:40:00,E,5\n", "")
                           .replace("T2,09:30:00,09:30:00,D,4\nT2,09:40:00,09:40:00,E,5\n", ""))
    net, overlay = apply_realtime(static, [delay("T1", 5)], [no_service(EntitySelector(stop_id="t:B"))])
    # T1 is the delayed copy (08:05 at A, 08:25 at C) and B stays closed on it
    assert best(net, "A", "C", f"{DAY} 07:55") == "R1 A 08:05 -> C 08:25 (0:20, 0 transfers)"
    assert best(net, "B", "C", f"{DAY} 07:55") == ""
    assert overlay.applied == 1 and len(overlay.alert_ids) >= 2


def test_other_effects_inform_but_do_not_forbid(tmp_path):
    static = build_network(tmp_path, FEED)
    for effect in ("REDUCED_SERVICE", "SIGNIFICANT_DELAYS", "DETOUR", "STOP_MOVED", "UNKNOWN_EFFECT"):
        net, overlay = apply_realtime(static, [], [no_service(EntitySelector(stop_id="t:B"), effect=effect)])
        assert best(net, "B", "C", f"{DAY} 07:55") == "R1 B 08:10 -> C 08:20 (0:10, 0 transfers)"
        assert overlay.alert_ids == {} and overlay.canceled == frozenset()


def test_a_delayed_run_is_judged_on_its_realtime_times(tmp_path):
    # B closes at 08:12; T1 is scheduled at B at 08:10 (before) but runs 5 min late (08:15, after):
    # the bus reaching B once the closure began does not stop there.
    static = build_network(tmp_path, FEED)
    alert = no_service(EntitySelector(stop_id="t:B"), periods=(between("08:12", "08:50"),))
    net, _ = apply_realtime(static, [delay("T1", 5)], [alert])
    assert best(net, "B", "C", f"{DAY} 07:55") == "R1 B 09:10 -> C 09:20 (0:10, 0 transfers)"
    # on time, T1 leaves B before the closure
    net, _ = apply_realtime(static, [], [alert])
    assert best(net, "B", "C", f"{DAY} 07:55") == "R1 B 08:10 -> C 08:20 (0:10, 0 transfers)"
