"""The region republished as GTFS-realtime: alerts and trip updates -> a protobuf FeedMessage.

Ids are the region's namespaced ids (``<network>:<id>``: stops, routes, trips and alert ids), the
ids every other OùRA API speaks, so a consumer can join them with our static exports. Messages are
FULL_DATASET, version 2.0; the header timestamp is the time of the last change of what they carry
(not the time of the request), so equal content gives equal bytes and a stable ETag.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping

from google.protobuf import json_format
from google.transit import gtfs_realtime_pb2 as pb

from feeds.realtime.model import Alert, ResolvedTripUpdate

__all__ = ["encode_alerts", "encode_trip_updates", "message_json", "etag_of"]


def _header(message: pb.FeedMessage, timestamp: int) -> None:
    message.header.gtfs_realtime_version = "2.0"
    message.header.incrementality = pb.FeedHeader.FULL_DATASET
    message.header.timestamp = max(int(timestamp), 0)


def _translated(target: pb.TranslatedString, texts: Mapping[str, str]) -> None:
    for language in sorted(texts):
        translation = target.translation.add()
        translation.text = texts[language]
        if language:
            translation.language = language


def _enum(enum_type, name: str, default: str) -> int:  # noqa: ANN001 - a protobuf enum wrapper
    try:
        return enum_type.Value(name)
    except ValueError:
        return enum_type.Value(default)


def _alert(entity: pb.FeedEntity, alert: Alert) -> None:
    entity.id = alert.entity_id
    target = entity.alert
    for period in alert.active_periods:
        rng = target.active_period.add()
        if period.start is not None:
            rng.start = max(period.start, 0)
        if period.end is not None:
            rng.end = max(period.end, 0)
    for selector in alert.informed_entities:
        informed = target.informed_entity.add()
        if selector.agency_id is not None:
            informed.agency_id = selector.agency_id
        if selector.route_id is not None:
            informed.route_id = selector.route_id
        if selector.route_type is not None:
            informed.route_type = selector.route_type
        if selector.direction_id is not None:
            informed.direction_id = selector.direction_id
        if selector.stop_id is not None:
            informed.stop_id = selector.stop_id
        if selector.trip is not None and selector.trip.trip_id is not None:
            informed.trip.trip_id = selector.trip.trip_id
    target.cause = _enum(pb.Alert.Cause, alert.cause, "UNKNOWN_CAUSE")
    target.effect = _enum(pb.Alert.Effect, alert.effect, "UNKNOWN_EFFECT")
    target.severity_level = _enum(pb.Alert.SeverityLevel, alert.severity_level, "UNKNOWN_SEVERITY")
    _translated(target.header_text, alert.header_text)
    if alert.description_text:
        _translated(target.description_text, alert.description_text)
    if alert.url:
        _translated(target.url, alert.url)


def encode_alerts(alerts: Iterable[Alert], timestamp: int) -> pb.FeedMessage:
    """Alerts whose ``entity_id`` and informed ids are namespaced already."""
    message = pb.FeedMessage()
    _header(message, timestamp)
    for alert in sorted(alerts, key=lambda a: a.entity_id):
        _alert(message.entity.add(), alert)
    return message


def _start_time(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _trip_update(entity: pb.FeedEntity, update: ResolvedTripUpdate) -> None:
    entity.id = f"{update.trip_id}:{update.service_date}" + (
        f":{update.start_time_s}" if update.start_time_s is not None and not update.added else "")
    trip = entity.trip_update.trip
    trip.trip_id = update.trip_id
    trip.start_date = update.service_date
    if update.route_id is not None:
        trip.route_id = update.route_id
    if update.start_time_s is not None and update.start_time_s >= 0:
        trip.start_time = _start_time(update.start_time_s)
    if update.timestamp is not None:
        entity.trip_update.timestamp = max(update.timestamp, 0)
    if update.canceled:
        trip.schedule_relationship = pb.TripDescriptor.CANCELED
        return
    trip.schedule_relationship = pb.TripDescriptor.ADDED if update.added else pb.TripDescriptor.SCHEDULED
    for sequence, (stop_id, arrival, departure) in enumerate(update.added_stops, start=1):
        stu = entity.trip_update.stop_time_update.add()
        stu.stop_sequence = sequence
        stu.stop_id = stop_id
        stu.arrival.time = arrival
        stu.departure.time = departure


def encode_trip_updates(updates: Iterable[ResolvedTripUpdate], timestamp: int) -> pb.FeedMessage:
    """Cancelled runs and added trips (ids namespaced), one entity each."""
    message = pb.FeedMessage()
    _header(message, timestamp)
    for update in sorted(updates, key=lambda u: (u.trip_id, u.service_date, u.start_time_s or 0)):
        _trip_update(message.entity.add(), update)
    return message


def message_json(message: pb.FeedMessage) -> dict:
    """The message as JSON (json_format, field names as in the .proto)."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def etag_of(payload: bytes) -> str:
    return '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


def posix(at: dt.datetime | None) -> int:
    return 0 if at is None else int(at.timestamp())
