"""FEATURE UNDER TEST: an itinerary id re-read against a realtime snapshot (journey_planner.refresh).

R1 T1 runs A 08:00 -> B 08:10 -> C 08:20; R2 U1 leaves C at 08:25 for D (08:40), U2 at 08:45.
The planned journey A -> D rides T1 then U1 with 5 min to change at C (minimum 2 min). R3 V1
leaves C2, a short walk from C, at 08:27 for E. Delays, cancellations and skipped stops are
applied with `apply_trip_updates`, as the service's realtime rebuild does.
"""

from datetime import date

import pytest

from feeds.realtime.model import ResolvedStopTimeUpdate, ResolvedTripUpdate
from journey_planner.core import PlanRequest, plan
from journey_planner.errors import InvalidItineraryId
from journey_planner.itineraries import ItineraryRef, LegRef, decode_itinerary_id, encode_itinerary_id, itinerary_ref
from journey_planner.realtime import apply_trip_updates
from journey_planner.refresh import (
    ALIGHTING_STOP_CLOSED, BOARDING_STOP_CLOSED, CONNECTION_MISSED, TRIP_CANCELED, TRIP_NOT_FOUND, check_itinerary,
)
from journey_planner.snapshot import Snapshot
from tests.journey_planner._data import build_network, local_ts, place

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.1,5.0
B,B,45.08,5.0
C,C,45.0,5.0
C2,C2,45.0027,5.0
D,D,44.95,5.0
E,E,44.9,5.0
trips.txt
route_id,service_id,trip_id
R1,S,T1
R2,S,U1
R2,S,U2
R3,S,V1
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:10:00,B,2
T1,08:20:00,08:20:00,C,3
U1,08:25:00,08:25:00,C,1
U1,08:40:00,08:40:00,D,2
U2,08:45:00,08:45:00,C,1
U2,09:00:00,09:00:00,D,2
V1,08:27:00,08:27:00,C2,1
V1,08:40:00,08:40:00,E,2
"""

DAY = "20240304"
STOPS = {"T1": ["A", "B", "C"], "U1": ["C", "D"], "V1": ["C2", "E"]}
TIMES = {"T1": ["08:00", "08:10", "08:20"], "U1": ["08:25", "08:40"], "V1": ["08:27", "08:40"]}


def update(trip: str, delay_s: int = 0, *, skip: str | None = None, canceled: bool = False) -> ResolvedTripUpdate:
    """T1, U1 or V1 on 2024-03-04 running ``delay_s`` late at every stop, ``skip`` skipped."""
    stus = tuple(
        ResolvedStopTimeUpdate(i, f"t:{s}", local_ts(f"2024-03-04 {hm}") + delay_s,
                               local_ts(f"2024-03-04 {hm}") + delay_s, delay_s, delay_s, skipped=s == skip)
        for i, (s, hm) in enumerate(zip(STOPS[trip], TIMES[trip]))
    )
    return ResolvedTripUpdate("t", f"t:{trip}", DAY, canceled, False, () if canceled else stus)


def snapshot(static, *updates) -> Snapshot:
    if not updates:
        return Snapshot.prepared(static)
    rt, overlay = apply_trip_updates(static, updates)
    assert overlay.errors == ()
    return Snapshot.prepared(static, rt, overlay)


def planned(static) -> ItineraryRef:
    """The id of the planned journey A -> D (T1 then U1), read back."""
    result = plan(static.timetable, PlanRequest(place(static, "A"), place(static, "D"), local_ts("2024-03-04 07:55")))
    journey = result.journeys[0]
    return decode_itinerary_id(encode_itinerary_id(itinerary_ref(static, journey)))


@pytest.fixture
def static(tmp_path):
    return build_network(tmp_path, FEED)


def test_planned_itinerary_holds_without_realtime(static):
    ref = planned(static)
    assert [(leg.trip_id, leg.board_stop_id, leg.alight_stop_id) for leg in ref.legs] == [
        ("t:T1", "t:A", "t:C"), ("t:U1", "t:C", "t:D")]
    check = check_itinerary(snapshot(static), ref)
    assert check.ok and check.problems == () and not check.realtime
    assert [leg.status for leg in check.legs] == ["scheduled", "scheduled"]
    assert check.legs[0].departure_s == local_ts("2024-03-04 08:00")
    assert check.legs[1].arrival_s == check.legs[1].scheduled_arrival_s == local_ts("2024-03-04 08:40")
    names = [str(static.stop_ids[s]) for s in check.legs[0].stops_after]
    assert names == ["t:B", "t:C"]
    assert check.legs[0].stops_after_arrival_s == (local_ts("2024-03-04 08:10"), local_ts("2024-03-04 08:20"))


def test_delay_absorbed_by_the_change_time(static):
    check = check_itinerary(snapshot(static, update("T1", 180)), planned(static))
    assert check.ok and check.realtime
    first = check.legs[0]
    assert first.status == "delayed"
    assert first.arrival_s - first.scheduled_arrival_s == 180
    assert check.legs[1].status == "scheduled"


def test_delay_breaking_the_connection(static):
    ref = planned(static)
    check = check_itinerary(snapshot(static, update("T1", 240)), ref)
    assert not check.ok
    assert [(p.code, p.leg_index) for p in check.problems] == [(CONNECTION_MISSED, 1)]
    assert "60 s left" in check.problems[0].detail and "120 s needed" in check.problems[0].detail
    # the same delay leaves enough with a one-minute minimum, and the plan itself still holds
    assert check_itinerary(snapshot(static, update("T1", 240)), ref, min_transfer_s=60).ok
    assert check_itinerary(snapshot(static, update("T1", 240)), ref, realtime=False).ok


def test_connection_over_a_footpath_needs_the_walking_time(static):
    tt = static.timetable
    c, c2 = static.find_stop("t:C"), static.find_stop("t:C2")
    lo, hi = int(tt.footpath_offsets[c]), int(tt.footpath_offsets[c + 1])
    walk_s = int(tt.footpath_duration_s[lo + list(tt.footpath_to[lo:hi]).index(c2)])
    assert 200 < walk_s < 420
    ref = ItineraryRef((LegRef("t:T1", DAY, "t:A", "t:C"), LegRef("t:V1", DAY, "t:C2", "t:E")))
    assert check_itinerary(snapshot(static), ref).ok  # 7 min to walk
    late = 420 - 150  # 150 s left: more than the 120 s minimum, less than the walk
    check = check_itinerary(snapshot(static, update("T1", late)), ref)
    assert [(p.code, p.leg_index) for p in check.problems] == [(CONNECTION_MISSED, 1)]
    assert f"{walk_s} s needed" in check.problems[0].detail


def test_cancelled_trip(static):
    check = check_itinerary(snapshot(static, update("U1", canceled=True)), planned(static))
    assert not check.ok
    assert [(p.code, p.leg_index) for p in check.problems] == [(TRIP_CANCELED, 1)]
    assert check.legs[1].status == "cancelled" and check.legs[1].stops_after == ()
    assert check.legs[1].departure_s == local_ts("2024-03-04 08:25")  # its scheduled time
    assert check.legs[0].status == "scheduled"


def test_skipped_alighting_stop(static):
    check = check_itinerary(snapshot(static, update("T1", skip="C")), planned(static))
    assert [(p.code, p.leg_index) for p in check.problems] == [(ALIGHTING_STOP_CLOSED, 0)]
    assert check.legs[0].status == "skipped"
    assert [str(static.stop_ids[s]) for s in check.legs[0].stops_after] == ["t:B"]


def test_skipped_boarding_stop(static):
    check = check_itinerary(snapshot(static, update("U1", skip="C")), planned(static))
    assert [(p.code, p.leg_index) for p in check.problems] == [(BOARDING_STOP_CLOSED, 1)]
    assert check.legs[1].status == "skipped" and check.legs[1].stops_after == ()


def test_unknown_trip_is_a_problem_not_an_error(static, tmp_path):
    ref = planned(static)
    changed = build_network(tmp_path / "v2", FEED.replace("U1", "U9"))  # the feed renamed the trip
    check = check_itinerary(snapshot(changed), ref)
    assert [(p.code, p.leg_index) for p in check.problems] == [(TRIP_NOT_FOUND, 1)]
    assert check.legs[1].status == "not_found" and check.legs[1].trip == -1
    assert check.legs[0].status == "scheduled"
    outside = ItineraryRef((LegRef("t:T1", "20300101", "t:A", "t:C"),))
    assert [p.code for p in check_itinerary(snapshot(static), outside).problems] == [TRIP_NOT_FOUND]
    wrong_way = ItineraryRef((LegRef("t:T1", DAY, "t:C", "t:A"),))
    assert [p.code for p in check_itinerary(snapshot(static), wrong_way).problems] == [TRIP_NOT_FOUND]


def test_id_round_trip_and_damaged_ids(static):
    ref = planned(static)
    assert ref.legs[0].board_time_s == 8 * 3600 and ref.legs[1].board_time_s == 8 * 3600 + 25 * 60
    text = encode_itinerary_id(ref)
    assert decode_itinerary_id(text) == ref
    old = ItineraryRef((LegRef("t:T1", DAY, "t:A", "t:C"),), "45.1,5.0", None)  # an id without run times
    assert decode_itinerary_id(encode_itinerary_id(old)) == old
    for bad in ["", "i1.", "i1.!!!!", text[:-6], "x" + text, "i1." + "A" * 5000]:
        with pytest.raises(InvalidItineraryId):
            decode_itinerary_id(bad)


FREQUENCY_FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.1,5.0
B,B,45.0,5.0
trips.txt
route_id,service_id,trip_id
R1,S,F1
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
F1,06:00:00,06:00:00,A,1
F1,06:10:00,06:10:00,B,2
frequencies.txt
trip_id,start_time,end_time,headway_secs
F1,06:00:00,08:00:00,900
"""


def test_frequency_trip_run_is_the_planned_one(tmp_path):
    static = build_network(tmp_path, FREQUENCY_FEED)
    result = plan(static.timetable, PlanRequest(place(static, "A"), place(static, "B"), local_ts("2024-03-04 07:01")))
    ref = decode_itinerary_id(encode_itinerary_id(itinerary_ref(static, result.journeys[0])))
    assert ref.legs[0].board_time_s == 7 * 3600 + 900
    check = check_itinerary(snapshot(static), ref)
    assert check.ok and check.legs[0].departure_s == local_ts("2024-03-04 07:15")
    t0 = local_ts("2024-03-04 07:15")
    late = ResolvedTripUpdate("t", "t:F1", DAY, False, False, (
        ResolvedStopTimeUpdate(0, "t:A", t0 + 300, t0 + 300, 300, 300),
        ResolvedStopTimeUpdate(1, "t:B", t0 + 900, t0 + 900, 300, 300)), start_time_s=7 * 3600 + 900)
    other = ResolvedTripUpdate("t", "t:F1", DAY, True, False, (), start_time_s=7 * 3600)
    check = check_itinerary(snapshot(static, late, other), ref)
    assert check.ok and check.legs[0].status == "delayed"
    assert check.legs[0].departure_s == t0 + 300
    assert static.find_day(date(2024, 3, 4)) == check.legs[0].day


TRANSFERS = "transfers.txt\nfrom_stop_id,to_stop_id,from_route_id,to_route_id,transfer_type,min_transfer_time\n"


def test_transfers_txt_sets_the_change_time(tmp_path):
    ref = ItineraryRef((LegRef("t:T1", DAY, "t:A", "t:C"), LegRef("t:U1", DAY, "t:C", "t:D")))
    # the stop's own minimum: 6 min at C, more than the 5 the plan leaves
    at_stop = build_network(tmp_path / "stop", FEED + TRANSFERS + "C,C,,,2,360\n")
    check = check_itinerary(snapshot(at_stop), ref)
    assert [(p.code, p.leg_index) for p in check.problems] == [(CONNECTION_MISSED, 1)]
    assert "300 s left" in check.problems[0].detail and "360 s needed" in check.problems[0].detail
    # a row naming the two routes wins over the default (here: 1 min, so a 3 min delay still holds)
    by_route = build_network(tmp_path / "route", FEED + TRANSFERS + "C,C,R1,R2,2,60\n")
    assert check_itinerary(snapshot(by_route, update("T1", 200)), ref).ok
    assert not check_itinerary(snapshot(static_of(tmp_path)), ref, min_transfer_s=360).ok
    # a forbidden change between those routes
    forbidden = build_network(tmp_path / "forbidden", FEED + TRANSFERS + "C,C,R1,R2,3,\n")
    check = check_itinerary(snapshot(forbidden), ref)
    assert [p.code for p in check.problems] == [CONNECTION_MISSED] and "not allowed" in check.problems[0].detail


def static_of(tmp_path):
    return build_network(tmp_path / "plain", FEED)


def test_a_journey_on_an_added_trip_reads_back_while_the_trip_runs(static):
    t = local_ts("2024-03-04 09:10")
    extra = ResolvedTripUpdate("t", "t:X1", DAY, False, True, (), route_id="t:R2",
                               added_stops=(("t:C", t, t), ("t:D", t + 600, t + 600)))
    snap = snapshot(static, extra)
    result = plan(snap.realtime.timetable, PlanRequest(place(static, "C"), place(static, "D"),
                                                       local_ts("2024-03-04 09:05")))
    ref = decode_itinerary_id(encode_itinerary_id(itinerary_ref(snap.realtime, result.journeys[0])))
    assert ref.legs[0].trip_id == "t:X1" and ref.legs[0].board_time_s is None
    check = check_itinerary(snap, ref)
    assert check.ok and check.legs[0].status == "added" and check.legs[0].departure_s == t
    assert check.legs[0].scheduled_departure_s is None
    # the next feed no longer carries it: gone
    assert [p.code for p in check_itinerary(snapshot(static, update("T1", 60)), ref).problems] == [TRIP_NOT_FOUND]
