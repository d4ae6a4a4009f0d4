"""GTFS-realtime conformance, decoding and matching side (issue 13): malformed payloads, trip_id
conflicts and duplicate entities, REPLACEMENT, DUPLICATED, assigned stops and pickup/drop-off
changes. Payloads are built with gtfs_realtime_pb2 on the inline ``demo`` feed of conftest.py
(T1: A 08:00, B 08:10/08:12, C 08:20, D 08:30; every day of 2024 but May 1st).
"""

from __future__ import annotations

import pytest
from google.transit import gtfs_realtime_pb2 as pb

from feeds.realtime.decode import RtDecodeError, decode_feed_message
from feeds.realtime.match import StaticTripIndex, resolve_trip_updates
from feeds.realtime.model import RtErrorType
from tests.feeds.realtime.test_match import paris

DAY = "20240402"


def message(timestamp: int | None = None) -> pb.FeedMessage:
    feed = pb.FeedMessage()
    feed.header.gtfs_realtime_version = "2.0"
    if timestamp is not None:
        feed.header.timestamp = timestamp
    return feed


def add_update(feed: pb.FeedMessage, entity_id: str, trip_id: str, relationship: str = "SCHEDULED",
               start_date: str | None = DAY) -> pb.TripUpdate:
    update = feed.entity.add(id=entity_id).trip_update
    update.trip.trip_id = trip_id
    if start_date:
        update.trip.start_date = start_date
    update.trip.schedule_relationship = pb.TripDescriptor.ScheduleRelationship.Value(relationship)
    return update


def resolve(feed: pb.FeedMessage, index: StaticTripIndex):
    return resolve_trip_updates(decode_feed_message(feed.SerializeToString(), feed_id="demo"), index)


@pytest.mark.parametrize(("payload", "says"), [
    (b"", "empty payload"),
    (b"<html><body>502 Bad Gateway</body></html>", "HTML/XML document"),
    ("truncated", "truncated or corrupt"),
])
def test_b2_01_unusable_payload_is_one_clear_decode_error(payload, says) -> None:
    if payload == "truncated":
        feed = message(paris(DAY, 8))
        add_update(feed, "e1", "T1").stop_time_update.add(stop_sequence=2).arrival.delay = 60
        payload = feed.SerializeToString()[:-7]
    with pytest.raises(RtDecodeError) as caught:
        decode_feed_message(payload, feed_id="demo")
    assert says in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.to_rt_error().type == RtErrorType.MALFORMED_PAYLOAD


def test_b2_02_new_trip_reusing_a_static_trip_id_is_refused(demo_index: StaticTripIndex) -> None:
    feed = message(paris(DAY, 8))
    add_update(feed, "genuine", "T1").stop_time_update.add(stop_sequence=2).arrival.delay = 300
    for relationship in ("NEW", "ADDED"):
        added = add_update(feed, f"fake-{relationship}", "T1", relationship)
        added.trip.route_id = "R1"
        for stop, minute in (("A", 10), ("D", 40)):
            stu = added.stop_time_update.add(stop_id=stop)
            stu.arrival.time = stu.departure.time = paris(DAY, 9, minute)
    resolved, errors = resolve(feed, demo_index)
    assert [(u.entity_id, u.added) for u in resolved] == [("genuine", False)]
    assert resolved[0].stop_time_updates[0].arrival_delay_s == 300
    assert [(e.type, e.entity_id) for e in errors] == [
        (RtErrorType.TRIP_ID_CONFLICT, "fake-NEW"), (RtErrorType.TRIP_ID_CONFLICT, "fake-ADDED")]


def test_b2_02_second_entity_for_the_same_run_is_counted_not_applied(demo_index: StaticTripIndex) -> None:
    feed = message(paris(DAY, 8))
    add_update(feed, "first", "T1").stop_time_update.add(stop_sequence=2).arrival.delay = 120
    add_update(feed, "second", "T1", "CANCELED")
    add_update(feed, "other-day", "T1", start_date="20240403").stop_time_update.add(stop_sequence=2).arrival.delay = 60
    resolved, errors = resolve(feed, demo_index)
    assert [(u.entity_id, u.canceled, u.service_date) for u in resolved] == [
        ("first", False, DAY), ("other-day", False, "20240403")]
    assert [(e.type, e.entity_id) for e in errors] == [(RtErrorType.DUPLICATE_ENTITY, "second")]
    assert "'first'" in errors[0].detail


def test_b2_04_replacement_replaces_the_days_stop_list(demo_index: StaticTripIndex) -> None:
    feed = message(paris(DAY, 7, 50))
    update = add_update(feed, "div", "T1", "REPLACEMENT")
    stu = update.stop_time_update.add(stop_sequence=1)
    stu.departure.delay = 60  # A 08:01
    stu = update.stop_time_update.add(stop_id="C")
    stu.arrival.time = stu.departure.time = paris(DAY, 8, 15)  # B left out: the diversion skips it
    stu = update.stop_time_update.add(stop_sequence=4)
    stu.arrival.delay = 0  # D 08:30
    stu.stop_time_properties.drop_off_type = 0
    [resolved], errors = resolve(feed, demo_index)
    assert errors == []
    assert (resolved.trip_id, resolved.replacement, resolved.added, resolved.service_date) == (
        "demo:T1", True, False, DAY)
    assert resolved.added_stops == (
        ("demo:A", paris(DAY, 8, 1), paris(DAY, 8, 1)),
        ("demo:C", paris(DAY, 8, 15), paris(DAY, 8, 15)),
        ("demo:D", paris(DAY, 8, 30), paris(DAY, 8, 30)),
    )


def test_b2_04_replacement_stop_without_time_is_refused(demo_index: StaticTripIndex) -> None:
    feed = message(paris(DAY, 7, 50))
    update = add_update(feed, "div", "T1", "REPLACEMENT")
    update.stop_time_update.add(stop_id="A").departure.delay = 0
    update.stop_time_update.add(stop_id="X")  # not in the static feed
    resolved, errors = resolve(feed, demo_index)
    assert resolved == [] and [e.type for e in errors] == [RtErrorType.UNKNOWN_STOP]


def test_b2_04_duplicated_trip_is_a_shifted_copy_alongside_the_original(demo_index: StaticTripIndex) -> None:
    feed = message(paris(DAY, 9))
    update = add_update(feed, "dup", "T1", "DUPLICATED", start_date=None)
    update.trip_properties.trip_id = "T1-extra"
    update.trip_properties.start_date = DAY
    update.trip_properties.start_time = "10:00:00"
    update.stop_time_update.add(stop_sequence=3).arrival.delay = 180  # C 10:23, D 10:33
    [resolved], errors = resolve(feed, demo_index)
    assert errors == []
    assert (resolved.trip_id, resolved.added, resolved.duplicated_from, resolved.route_id) == (
        "demo:T1-extra", True, "demo:T1", "demo:R1")
    assert resolved.added_stops == (
        ("demo:A", paris(DAY, 10), paris(DAY, 10)),
        ("demo:B", paris(DAY, 10, 10), paris(DAY, 10, 12)),
        ("demo:C", paris(DAY, 10, 23), paris(DAY, 10, 23)),
        ("demo:D", paris(DAY, 10, 33), paris(DAY, 10, 33)),
    )


def test_b2_04_duplicated_trip_needs_a_new_trip_id(demo_index: StaticTripIndex) -> None:
    feed = message(paris(DAY, 9))
    add_update(feed, "no-props", "T1", "DUPLICATED")
    add_update(feed, "same-id", "T1", "DUPLICATED").trip_properties.trip_id = "T2"
    resolved, errors = resolve(feed, demo_index)
    assert resolved == []
    assert [(e.type, e.entity_id) for e in errors] == [
        (RtErrorType.MISSING_TRIP_DESCRIPTOR, "no-props"), (RtErrorType.TRIP_ID_CONFLICT, "same-id")]


def test_b2_04_assigned_stop_and_pickup_drop_off_changes_are_read(demo_index: StaticTripIndex) -> None:
    feed = message(paris(DAY, 8))
    update = add_update(feed, "e1", "T1")
    stu = update.stop_time_update.add(stop_sequence=2)
    stu.arrival.delay = 60
    stu.stop_time_properties.assigned_stop_id = "D"
    stu = update.stop_time_update.add(stop_sequence=3)  # properties only, no time: delay propagates
    stu.stop_time_properties.pickup_type = pb.TripUpdate.StopTimeUpdate.StopTimeProperties.NONE
    stu = update.stop_time_update.add(stop_sequence=4)
    stu.stop_time_properties.assigned_stop_id = "NOWHERE"
    [resolved], errors = resolve(feed, demo_index)
    assert [(e.type, e.stop_id) for e in errors] == [(RtErrorType.UNKNOWN_STOP, "NOWHERE")]
    rows = [(s.stop_index, s.stop_id, s.assigned_stop_id, s.pickup_type, s.drop_off_type, s.arrival_delay_s)
            for s in resolved.stop_time_updates]
    assert rows == [
        (1, "demo:B", "demo:D", None, None, 60),
        (2, "demo:C", None, 1, None, 60),
        (3, "demo:D", None, None, None, 60),
    ]


def test_b2_01_invalid_utf8_in_an_id_is_counted_not_a_crash(demo_index: StaticTripIndex) -> None:
    """A corrupted byte inside a string field parses (the parser hands back bytes): the entity is
    matched as an unknown trip and counted, matching does not raise (found by mutating Caltrain's
    payload: a TypeError in start_time parsing, a traceback in the poller's log)."""
    feed = message(paris(DAY, 8))
    update = add_update(feed, "e1", "T1")
    update.trip.start_time = "08:00:00"
    update.stop_time_update.add(stop_sequence=2).arrival.delay = 60
    payload = feed.SerializeToString()
    for good in (b"T1", b"08:00:00"):
        corrupted = payload.replace(good, good[:-1] + b"\xff", 1)
        decoded = decode_feed_message(corrupted, feed_id="demo")
        resolved, errors = resolve_trip_updates(decoded, demo_index)
        if good == b"T1":
            assert resolved == [] and [e.type for e in errors] == [RtErrorType.UNKNOWN_TRIP]
            assert decoded.trip_updates[0].trip.trip_id == "T\ufffd"
        else:  # a damaged start_time is ignored for a trip matched by trip_id
            assert [u.trip_id for u in resolved] == ["demo:T1"] and errors == []
