"""FEATURE UNDER TEST: GTFS-realtime conformance on the planner side (issue 13): a REPLACEMENT runs
its own stop list that day, a DUPLICATED trip runs alongside the original at its new start, an
assigned stop (platform change) is called at instead of the scheduled one, pickup/drop-off
changes forbid boarding/alighting, and an added trip never takes a static trip's place.

Each case goes the whole way: a GTFS-RT payload built with gtfs_realtime_pb2, decoded and matched
by feeds.realtime against the inline feed, applied by the planner, then routed.
"""

from __future__ import annotations

from datetime import date

from google.transit import gtfs_realtime_pb2 as pb

from feeds.gtfs.reader import read_gtfs
from feeds.realtime.decode import decode_feed_message
from feeds.realtime.match import StaticTripIndex, resolve_trip_updates
from feeds.realtime.model import ResolvedTripUpdate, RtErrorType
from journey_planner.core import PlanRequest, plan
from journey_planner.realtime import apply_trip_updates
from journey_planner.realtime_trips import change_for_update
from tests.journey_planner._data import build_network, local_ts, place, render

FEED = """
stops.txt
stop_id,stop_name,stop_lat,stop_lon
A,A,45.00,4.00
B,B,45.10,4.00
B2,B2,45.30,4.10
C,C,45.20,4.00
D,D,45.15,4.20
trips.txt
route_id,service_id,trip_id
R1,S,T1
R1,S,T2
stop_times.txt
trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,08:10:00,08:10:00,B,2
T1,08:20:00,08:20:00,C,3
T2,08:30:00,08:30:00,A,1
T2,08:40:00,08:40:00,B,2
T2,08:50:00,08:50:00,C,3
"""
DAY = "20240304"
STOP_PROPERTIES = pb.TripUpdate.StopTimeUpdate.StopTimeProperties


def message() -> pb.FeedMessage:
    feed = pb.FeedMessage()
    feed.header.gtfs_realtime_version = "2.0"
    feed.header.timestamp = local_ts("2024-03-04 07:50")
    return feed


def add_update(feed: pb.FeedMessage, trip_id: str, relationship: str = "SCHEDULED") -> pb.TripUpdate:
    update = feed.entity.add(id=f"e{len(feed.entity)}").trip_update
    update.trip.trip_id = trip_id
    update.trip.start_date = DAY
    update.trip.schedule_relationship = pb.TripDescriptor.ScheduleRelationship.Value(relationship)
    return update


def realtime(tmp_path, feed: pb.FeedMessage):
    """(static, realtime network, overlay) with ``feed`` decoded, matched and applied."""
    static = build_network(tmp_path, FEED)
    index = StaticTripIndex.from_gtfs("t", read_gtfs(tmp_path / "t"))
    updates, errors = resolve_trip_updates(decode_feed_message(feed.SerializeToString(), feed_id="t"), index)
    assert errors == []
    rt, overlay = apply_trip_updates(static, updates)
    assert overlay.errors == ()
    return static, rt, overlay


def route(net, frm: str, to: str, at: str) -> str:
    request = PlanRequest(place(net, frm), place(net, to), local_ts(f"2024-03-04 {at}"))
    return render(net, plan(net.timetable, request))


def test_replacement_runs_its_own_stop_list_that_day(tmp_path):
    feed = message()
    update = add_update(feed, "T1", "REPLACEMENT")
    update.stop_time_update.add(stop_sequence=1).departure.delay = 0
    for stop, hhmm in (("D", "08:12"), ("C", "08:25")):
        stu = update.stop_time_update.add(stop_id=stop)
        stu.arrival.time = stu.departure.time = local_ts(f"2024-03-04 {hhmm}")
    static, rt, overlay = realtime(tmp_path, feed)
    assert route(rt, "A", "D", "07:55") == "R1 A 08:00 -> D 08:12 (0:12, 0 transfers)"
    assert route(rt, "A", "C", "07:55") == "R1 A 08:00 -> C 08:25 (0:25, 0 transfers)"
    # T1 no longer calls at B that day: the next trip serves it
    assert route(rt, "A", "B", "07:55") == "R1 A 08:30 -> B 08:40 (0:10, 0 transfers)"
    t1 = static.list_trips("t:T1")[0]
    assert len(overlay.replaced) == 1 and next(iter(overlay.replaced))[0] == t1
    assert route(static, "A", "D", "07:55") == ""  # the static timetable is untouched


def test_duplicated_trip_runs_alongside_the_original(tmp_path):
    feed = message()
    update = add_update(feed, "T1", "DUPLICATED")
    update.trip_properties.trip_id = "T1-bis"
    update.trip_properties.start_date = DAY
    update.trip_properties.start_time = "09:00:00"
    _, rt, overlay = realtime(tmp_path, feed)
    assert route(rt, "A", "C", "07:55") == "R1 A 08:00 -> C 08:20 (0:20, 0 transfers)"
    assert route(rt, "A", "C", "08:55") == "R1 A 09:00 -> C 09:20 (0:20, 0 transfers)"
    [added] = overlay.added_trips
    assert str(rt.trip_ids[added]) == "t:T1-bis"


def test_assigned_stop_is_called_at_instead(tmp_path):
    feed = message()
    stu = add_update(feed, "T1").stop_time_update.add(stop_sequence=2)
    stu.arrival.delay = 60
    stu.stop_time_properties.assigned_stop_id = "B2"
    _, rt, _ = realtime(tmp_path, feed)
    assert route(rt, "A", "B2", "07:55") == "R1 A 08:00 -> B2 08:11 (0:11, 0 transfers)"
    assert route(rt, "A", "B", "07:55") == "R1 A 08:30 -> B 08:40 (0:10, 0 transfers)"


def test_pickup_and_drop_off_changes_forbid_boarding_and_alighting(tmp_path):
    feed = message()
    update = add_update(feed, "T1")
    update.stop_time_update.add(stop_sequence=1).stop_time_properties.pickup_type = STOP_PROPERTIES.NONE
    update.stop_time_update.add(stop_sequence=3).stop_time_properties.drop_off_type = STOP_PROPERTIES.NONE
    _, rt, _ = realtime(tmp_path, feed)
    assert route(rt, "A", "B", "07:55") == "R1 A 08:30 -> B 08:40 (0:10, 0 transfers)"
    assert route(rt, "B", "C", "08:05") == "R1 B 08:40 -> C 08:50 (0:10, 0 transfers)"
    assert route(rt, "B", "D", "08:05") == ""


def test_added_trip_with_a_static_trip_id_never_replaces_the_static_trip(tmp_path):
    feed = message()
    add_update(feed, "T1").stop_time_update.add(stop_sequence=2).arrival.delay = 300
    impostor = add_update(feed, "T1", "NEW")
    impostor.trip.route_id = "R1"
    for stop, hhmm in (("A", "09:10"), ("C", "09:20")):
        stu = impostor.stop_time_update.add(stop_id=stop)
        stu.arrival.time = stu.departure.time = local_ts(f"2024-03-04 {hhmm}")
    static = build_network(tmp_path, FEED)
    index = StaticTripIndex.from_gtfs("t", read_gtfs(tmp_path / "t"))
    updates, errors = resolve_trip_updates(decode_feed_message(feed.SerializeToString(), feed_id="t"), index)
    assert [e.type for e in errors] == [RtErrorType.TRIP_ID_CONFLICT]
    rt, overlay = apply_trip_updates(static, updates)
    assert overlay.added_trips == () and overlay.errors == ()
    assert route(rt, "A", "B", "07:55") == "R1 A 08:00 -> B 08:15 (0:15, 0 transfers)"
    assert "A 09:10" not in route(rt, "A", "C", "09:00")  # the impostor does not run (next: tomorrow 08:00)


def test_planner_refuses_an_added_trip_named_like_a_static_trip(tmp_path):
    static = build_network(tmp_path, FEED)
    t = local_ts("2024-03-04 09:10")
    impostor = ResolvedTripUpdate("t", "t:T1", DAY, False, True, (), route_id="t:R1",
                                  added_stops=(("t:A", t, t), ("t:C", t + 600, t + 600)))
    errors: list = []
    assert change_for_update(static, impostor, static.find_day(date(2024, 3, 4)), errors) is None
    assert [e.type for e in errors] == [RtErrorType.TRIP_ID_CONFLICT]


def test_an_added_trip_named_like_a_static_trip_does_not_replace_its_genuine_update(tmp_path):
    # Both reach the planner (an input not filtered by feeds' matching, e.g. another source):
    # the genuine cancellation of T1 applies, the impostor is refused, whatever their order.
    static = build_network(tmp_path, FEED)
    t = local_ts("2024-03-04 09:10")
    genuine = ResolvedTripUpdate("t", "t:T1", DAY, True, False, ())
    impostor = ResolvedTripUpdate("t", "t:T1", DAY, False, True, (), route_id="t:R1",
                                  added_stops=(("t:A", t, t), ("t:C", t + 600, t + 600)))
    for updates in ([genuine, impostor], [impostor, genuine]):
        _, overlay = apply_trip_updates(static, updates)
        t1 = static.list_trips("t:T1")[0]
        assert (t1, static.find_day(date(2024, 3, 4))) in overlay.canceled
        assert overlay.added_trips == ()
        assert [e.type for e in overlay.errors] == [RtErrorType.TRIP_ID_CONFLICT]
