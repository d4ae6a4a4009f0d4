"""FEATURE UNDER TEST: itinerary refresh against runs that NO_SERVICE alerts changed (a closed
stop, a route section cutting the trip, a closed route), applied with `apply_realtime`. The line
and its alerts are those of the b1 tests: R1 T1 A 08:00 - B - C - D - E 08:40."""

from feeds.realtime.model import EntitySelector
from journey_planner.core import PlanRequest, plan
from journey_planner.itineraries import ItineraryRef, LegRef, decode_itinerary_id, encode_itinerary_id, itinerary_ref
from journey_planner.realtime import apply_realtime
from journey_planner.refresh import ALIGHTING_STOP_CLOSED, BOARDING_STOP_CLOSED, TRIP_CANCELED, check_itinerary
from journey_planner.snapshot import Snapshot
from tests.journey_planner._data import build_network, local_ts, place
from tests.journey_planner.moduletests.test_b1_alerts_routing import FEED, no_service


def codes(snapshot: Snapshot, board: str, alight: str) -> list[tuple[str, int]]:
    ref = ItineraryRef((LegRef("t:T1", "20240304", f"t:{board}", f"t:{alight}"),))
    return [(p.code, p.leg_index) for p in check_itinerary(snapshot, ref).problems]


def with_alerts(static, *alerts) -> Snapshot:
    net, overlay = apply_realtime(static, [], alerts, now_s=local_ts("2024-03-04 07:00"))
    return Snapshot.prepared(static, net, overlay)


def test_a_closed_stop_breaks_the_legs_ending_or_starting_there_only(tmp_path):
    static = build_network(tmp_path, FEED)
    snap = with_alerts(static, no_service(EntitySelector(stop_id="t:B")))
    assert codes(snap, "A", "B") == [(ALIGHTING_STOP_CLOSED, 0)]
    assert codes(snap, "B", "C") == [(BOARDING_STOP_CLOSED, 0)]
    assert codes(snap, "A", "C") == []  # ridden through
    ref = ItineraryRef((LegRef("t:T1", "20240304", "t:A", "t:C"),))
    leg = check_itinerary(snap, ref).legs[0]
    assert [str(snap.realtime.stop_ids[s]) for s in leg.stops_after] == ["t:C", "t:D", "t:E"]


def test_a_route_section_cut_nobody_rides_across(tmp_path):
    static = build_network(tmp_path, FEED)
    snap = with_alerts(static, no_service(*(EntitySelector(route_id="t:R1", stop_id=f"t:{s}") for s in "BCD")))
    assert codes(snap, "A", "B") == [] and codes(snap, "D", "E") == []
    assert codes(snap, "A", "E") == [(ALIGHTING_STOP_CLOSED, 0)]
    assert codes(snap, "A", "D") == [(ALIGHTING_STOP_CLOSED, 0)]
    assert codes(snap, "B", "E") == [(BOARDING_STOP_CLOSED, 0)]
    assert codes(snap, "C", "E") == [(BOARDING_STOP_CLOSED, 0)]
    ref = ItineraryRef((LegRef("t:T1", "20240304", "t:A", "t:E"),))
    leg = check_itinerary(snap, ref).legs[0]
    assert [str(snap.realtime.stop_ids[s]) for s in leg.stops_after] == ["t:B"]  # where one can still get off


def test_a_closed_route_cancels_the_leg(tmp_path):
    static = build_network(tmp_path, FEED)
    snap = with_alerts(static, no_service(EntitySelector(route_id="t:R1")))
    assert codes(snap, "A", "E") == [(TRIP_CANCELED, 0)]
    assert check_itinerary(snap, ItineraryRef((LegRef("t:T1", "20240304", "t:A", "t:E"),)), realtime=False).ok


def test_a_journey_planned_on_the_later_part_of_a_cut_run_reads_back(tmp_path):
    static = build_network(tmp_path, FEED)
    snap = with_alerts(static, no_service(*(EntitySelector(route_id="t:R1", stop_id=f"t:{s}") for s in "BCD")))
    result = plan(snap.realtime.timetable, PlanRequest(place(static, "D"), place(static, "E"),
                                                       local_ts("2024-03-04 08:25")))
    ref = decode_itinerary_id(encode_itinerary_id(itinerary_ref(snap.realtime, result.journeys[0])))
    assert ref.legs[0].trip_id == "t:T1" and ref.legs[0].board_time_s == 8 * 3600 + 30 * 60  # D's time, not A's
    check = check_itinerary(snap, ref)
    assert check.ok and check.legs[0].departure_s == local_ts("2024-03-04 08:30")
