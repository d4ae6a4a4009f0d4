"""GTFS-realtime export: what the region republishes parses back with gtfs-realtime-bindings."""

from __future__ import annotations

from google.transit import gtfs_realtime_pb2 as pb

from feeds.disruptions.convert import convert_disruption
from feeds.disruptions.export import encode_alerts, encode_trip_updates, etag_of, message_json
from tests.feeds.disruptions.conftest import NOW, period
from tests.feeds.disruptions.test_convert import _draft, _stored


def _round_trip(message: pb.FeedMessage) -> pb.FeedMessage:
    parsed = pb.FeedMessage()
    parsed.ParseFromString(message.SerializeToString())
    return parsed


def test_alerts_round_trip_with_their_entities_texts_and_periods(indexes):
    draft = _draft(kind="cut_route", route_id="net:R1", from_stop_id="net:B", to_stop_id="net:C",
                   cause="STRIKE", description={"fr": "Grève", "en": "Strike"}, url="https://example.org/x")
    alerts, _ = convert_disruption(_stored(draft), indexes["net"], now=NOW)
    parsed = _round_trip(encode_alerts(alerts, 1_741_150_800))
    assert parsed.header.gtfs_realtime_version == "2.0"
    assert parsed.header.incrementality == pb.FeedHeader.FULL_DATASET
    assert parsed.header.timestamp == 1_741_150_800
    (entity,) = parsed.entity
    assert entity.id == "net:oura-disruption-7"
    alert = entity.alert
    assert alert.effect == pb.Alert.NO_SERVICE and alert.cause == pb.Alert.STRIKE
    assert [(e.route_id, e.stop_id) for e in alert.informed_entity] == [("net:R1", "net:B"), ("net:R1", "net:C")]
    assert {(t.language, t.text) for t in alert.description_text.translation} == {("fr", "Grève"), ("en", "Strike")}
    assert alert.url.translation[0].text == "https://example.org/x" and not alert.url.translation[0].language
    assert alert.active_period[0].start == int(NOW.timestamp())


def test_trip_updates_round_trip_cancelled_and_added(indexes):
    cancel = _stored(_draft(kind="cancel_trips", trip_ids=["net:T1"], period=period(0, 10)), 1)
    bus = _stored(_draft(kind="replacement_bus", route_id="net:R1", service_dates=["20250305"],
                         stop_times=[{"stop_id": "net:B", "departure": "08:05:00"},
                                     {"stop_id": "net:D", "arrival": "08:35:00"}]), 2)
    updates = convert_disruption(cancel, indexes["net"], now=NOW)[1] + convert_disruption(bus, indexes["net"], now=NOW)[1]
    parsed = _round_trip(encode_trip_updates(updates, 100))
    by_trip = {e.trip_update.trip.trip_id: e.trip_update for e in parsed.entity}
    cancelled = by_trip["net:T1"]
    assert cancelled.trip.schedule_relationship == pb.TripDescriptor.CANCELED
    assert (cancelled.trip.start_date, cancelled.trip.start_time) == ("20250305", "08:00:00")
    added = by_trip["net:oura-disruption-2-20250305"]
    assert added.trip.schedule_relationship == pb.TripDescriptor.ADDED and added.trip.route_id == "net:R1"
    assert [(s.stop_id, s.arrival.time, s.departure.time) for s in added.stop_time_update] == [
        (stop, arrival, departure) for stop, arrival, departure in updates[-1].added_stops]
    as_json = message_json(parsed)
    assert as_json["header"]["gtfs_realtime_version"] == "2.0"
    assert {e["trip_update"]["trip"]["trip_id"] for e in as_json["entity"]} == set(by_trip)


def test_equal_content_gives_equal_bytes_and_etag(indexes):
    alerts, _ = convert_disruption(_stored(_draft(kind="close_stop", stop_id="net:A")), indexes["net"], now=NOW)
    one, two = encode_alerts(alerts, 5).SerializeToString(), encode_alerts(list(reversed(alerts)), 5).SerializeToString()
    assert one == two and etag_of(one) == etag_of(two)
    assert etag_of(encode_alerts(alerts, 6).SerializeToString()) != etag_of(one)
