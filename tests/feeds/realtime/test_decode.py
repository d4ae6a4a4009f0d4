"""Decoding real and inline GTFS-realtime payloads; malformed payloads are rejected clearly."""

from __future__ import annotations

import pytest
from google.transit import gtfs_realtime_pb2 as pb

from feeds.realtime.decode import RtDecodeError, decode_feed_message
from feeds.realtime.model import (
    FeedKind,
    RtErrorType,
    StopScheduleRelationship,
    TripScheduleRelationship,
)
from tests.conftest import require_shared_data
from tests.feeds.realtime.conftest import rt_message

pytestmark = pytest.mark.realdata


def test_caltrain_trip_updates_counts_and_absolute_times() -> None:
    payload = require_shared_data("caltrain-2023-rt", "ct-trip-updates.pb").read_bytes()
    message = decode_feed_message(payload, feed_id="ct")
    assert message.kind == FeedKind.TRIP_UPDATES
    assert message.header_timestamp == 1699405534  # 2023-11-08 01:05:34 UTC per SOURCE.md
    assert message.incrementality == "FULL_DATASET"
    assert len(message.trip_updates) == 19
    updates = [stu for tu in message.trip_updates for stu in tu.stop_time_updates]
    assert len(updates) == 220
    events = [e for stu in updates for e in (stu.arrival, stu.departure) if e is not None]
    assert events and all(e.time is not None and e.delay_s is None for e in events)
    for tu in message.trip_updates:
        assert tu.trip.trip_id and tu.trip.route_id and tu.trip.start_date and tu.trip.start_time
        assert tu.trip.direction_id in (0, 1)
    assert message.errors == ()


def test_caltrain_vehicle_positions() -> None:
    payload = require_shared_data("caltrain-2023-rt", "ct-vehicle-positions.pb").read_bytes()
    message = decode_feed_message(payload)
    assert message.kind == FeedKind.VEHICLE_POSITIONS
    assert len(message.vehicle_positions) == 14
    assert all(v.trip is not None and v.trip.trip_id for v in message.vehicle_positions)


def test_bullrunner_vehicle_positions_have_route_only() -> None:
    payload = require_shared_data("bullrunner-usf", "bullrunner-vehicle-positions.pb").read_bytes()
    message = decode_feed_message(payload)
    assert message.header_timestamp == 1505314375
    assert len(message.vehicle_positions) == 10
    for vehicle in message.vehicle_positions:
        assert vehicle.trip is not None and vehicle.trip.route_id and vehicle.trip.trip_id is None
        assert vehicle.latitude is not None and vehicle.bearing is not None
        assert vehicle.occupancy_status is not None


@pytest.mark.parametrize("name", ["hart-trip-updates.pb", "hart-vehicle-positions.pb"])
def test_hart_header_only_payloads_are_valid_and_empty(name: str) -> None:
    payload = require_shared_data("hart-tampa-2021", name).read_bytes()
    message = decode_feed_message(payload)
    assert message.header_timestamp == 1615106995  # 2021-03-07 08:49:55 UTC
    assert message.kind is None
    assert (message.trip_updates, message.alerts, message.vehicle_positions) == ((), (), ())
    assert message.errors == ()


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.9])
def test_truncated_protobuf_is_rejected(fraction: float) -> None:
    payload = require_shared_data("caltrain-2023-rt", "ct-trip-updates.pb").read_bytes()
    with pytest.raises(RtDecodeError) as raised:
        decode_feed_message(payload[: int(len(payload) * fraction)], feed_id="ct")
    assert raised.value.error_type == RtErrorType.MALFORMED_PAYLOAD
    assert "truncated or corrupt" in str(raised.value)
    assert str(raised.value).startswith("ct: ")


@pytest.mark.parametrize(
    "payload, expected",
    [
        (b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", "HTML"),
        (b"\n\n  <html><head><title>Maintenance</title></head></html>", "HTML"),
        (b'{"error": "rate limited"}', "JSON"),
        (b"", "empty payload"),
    ],
)
def test_text_and_empty_payloads_are_rejected(payload: bytes, expected: str) -> None:
    with pytest.raises(RtDecodeError) as raised:
        decode_feed_message(payload)
    assert expected in str(raised.value)
    assert raised.value.to_rt_error().type == RtErrorType.MALFORMED_PAYLOAD


def test_protobuf_without_header_is_rejected() -> None:
    with pytest.raises(RtDecodeError):
        decode_feed_message(b"\x12\x03\x0a\x01x")  # one entity with id "x", no header


def test_alert_fields_are_decoded() -> None:
    message = rt_message(
        [
            {
                "id": "works-1",
                "alert": {
                    "activePeriod": [{"start": "1711900000", "end": "1711990000"}, {"start": "1712000000"}],
                    "informedEntity": [
                        {"routeId": "R1"},
                        {"stopId": "B", "agencyId": "demo"},
                        {"trip": {"tripId": "T1"}},
                    ],
                    "cause": "CONSTRUCTION",
                    "effect": "DETOUR",
                    "severityLevel": "WARNING",
                    "headerText": {"translation": [{"text": "Travaux", "language": "fr"}, {"text": "Works", "language": "en"}]},
                    "descriptionText": {"translation": [{"text": "Arrêt B déplacé"}]},
                },
            }
        ],
        timestamp=1711900000,
    )
    assert message.kind == FeedKind.ALERTS
    (alert,) = message.alerts
    assert alert.cause == "CONSTRUCTION" and alert.effect == "DETOUR"
    assert alert.severity_level == "WARNING"
    assert alert.header_text == {"fr": "Travaux", "en": "Works"}
    assert alert.description_text == {"": "Arrêt B déplacé"}
    assert [(p.start, p.end) for p in alert.active_periods] == [(1711900000, 1711990000), (1712000000, None)]
    assert alert.informed_entities[0].route_id == "R1"
    assert alert.informed_entities[1].stop_id == "B" and alert.informed_entities[1].agency_id == "demo"
    assert alert.informed_entities[2].trip is not None
    assert alert.informed_entities[2].trip.trip_id == "T1"


def test_trip_update_fields_and_entity_errors() -> None:
    message = rt_message(
        [
            {
                "id": "1",
                "tripUpdate": {
                    "trip": {"tripId": "T1", "scheduleRelationship": "CANCELED"},
                    "delay": 60,
                    "stopTimeUpdate": [
                        {"stopSequence": 2, "scheduleRelationship": "SKIPPED"},
                        {"stopId": "C", "arrival": {"delay": -30, "uncertainty": 10}},
                    ],
                },
            },
            {"id": "2", "tripUpdate": {"trip": {"startDate": "20240331"}}},
        ],
        timestamp=1711900000,
    )
    (update,) = message.trip_updates
    assert update.trip.schedule_relationship == TripScheduleRelationship.CANCELED
    assert update.delay_s == 60
    skipped, at_c = update.stop_time_updates
    assert skipped.schedule_relationship == StopScheduleRelationship.SKIPPED
    assert skipped.stop_sequence == 2 and skipped.stop_id is None
    assert at_c.arrival is not None and at_c.arrival.delay_s == -30 and at_c.arrival.time is None
    assert at_c.arrival.uncertainty_s == 10 and at_c.departure is None
    assert [(e.type, e.entity_id) for e in message.errors] == [
        (RtErrorType.MISSING_TRIP_DESCRIPTOR, "2")
    ]


def test_valid_payload_starting_with_text_like_bytes_is_not_misread() -> None:
    # A FeedMessage starts with 0x0A (a newline) then the header length: 0x3C is "<", so the
    # bytes read "\n<..." and must still decode as protobuf, not be taken for HTML.
    message = pb.FeedMessage()
    message.header.timestamp = 1711900000
    version = "2.0"
    message.header.gtfs_realtime_version = version
    while len(message.header.SerializeToString()) < 0x3C:
        version += "x"
        message.header.gtfs_realtime_version = version
    payload = message.SerializeToString()
    assert payload[:2] == b"\n<"
    assert decode_feed_message(payload).header_timestamp == 1711900000
