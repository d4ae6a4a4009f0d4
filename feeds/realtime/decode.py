"""GTFS-realtime protobuf payload -> `feeds.realtime.model.FeedMessage`.

Decoding is deliberately strict about the *message* and lenient about *entities*:

- a payload that is not a complete GTFS-realtime FeedMessage (truncated download, an HTML error
  page served with status 200, an empty body, a JSON document) raises `RtDecodeError`, so the
  caller can count it as ``malformed_payload`` and keep serving its previous good state;
- a message with a valid header and no entities is valid and empty (HART publishes exactly that);
- an entity that cannot be used (a TripUpdate without any trip reference, ...) becomes an
  `RtError` in ``FeedMessage.errors`` and decoding continues with the next entity;
- a POSIX time (header, trip update, stop time event, vehicle, alert period) beyond the year 3000
  is not a time in seconds (publishers do write milliseconds) and reads as absent: an alert period
  bound that far means "open", a header that far gives no freshness. Downstream code can then turn
  every time into a datetime without overflowing.

Ids stay as the publisher wrote them; namespacing happens when matching against the static feed
(`feeds.realtime.match`). Sync and CPU-bound: large payloads should be decoded in an executor.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as pb

from feeds.realtime.model import (
    Alert,
    EntitySelector,
    FeedKind,
    FeedMessage,
    RtError,
    RtErrorType,
    StopScheduleRelationship,
    StopTimeEvent,
    StopTimeUpdate,
    TimeRange,
    TripDescriptor,
    TripProperties,
    TripScheduleRelationship,
    TripUpdate,
    VehiclePosition,
)

__all__ = ["RtDecodeError", "decode_feed_message"]


class RtDecodeError(Exception):
    """The payload is not a usable GTFS-realtime FeedMessage (counted as malformed_payload)."""

    error_type = RtErrorType.MALFORMED_PAYLOAD

    def __init__(self, message: str, *, feed_id: str | None = None) -> None:
        super().__init__(f"{feed_id}: {message}" if feed_id else message)
        self.feed_id = feed_id
        self.detail = message

    def to_rt_error(self) -> RtError:
        return RtError(type=RtErrorType.MALFORMED_PAYLOAD, detail=self.detail)


_TRIP_RELATIONSHIP = {
    value.number: TripScheduleRelationship(value.name)
    for value in pb.TripDescriptor.ScheduleRelationship.DESCRIPTOR.values
    if value.name in TripScheduleRelationship.__members__
}
_STOP_RELATIONSHIP = {
    value.number: StopScheduleRelationship(value.name)
    for value in pb.TripUpdate.StopTimeUpdate.ScheduleRelationship.DESCRIPTOR.values
    if value.name in StopScheduleRelationship.__members__
}
_CAUSE = {v.number: v.name for v in pb.Alert.Cause.DESCRIPTOR.values}
_EFFECT = {v.number: v.name for v in pb.Alert.Effect.DESCRIPTOR.values}
_SEVERITY = {v.number: v.name for v in pb.Alert.SeverityLevel.DESCRIPTOR.values}
_VEHICLE_STATUS = {v.number: v.name for v in pb.VehiclePosition.VehicleStopStatus.DESCRIPTOR.values}
_OCCUPANCY = {v.number: v.name for v in pb.VehiclePosition.OccupancyStatus.DESCRIPTOR.values}
_INCREMENTALITY = {v.number: v.name for v in pb.FeedHeader.Incrementality.DESCRIPTOR.values}

# First bytes of payloads that are text, not protobuf: HTML/XML error pages, JSON error bodies.
# Only used to explain a failure: a valid FeedMessage starts with byte 0x0A (the header tag), which
# is also a newline, so sniffing must never run before parsing.
_TEXT_PREFIXES = (b"<", b"{", b"[")


# 3000-01-01T00:00:00Z: later "seconds" are milliseconds or garbage (a datetime stops at 9999).
_MAX_POSIX_S = 32_503_680_000


def _posix_s(holder: object, name: str) -> int | None:
    """The POSIX-seconds field ``name`` of a protobuf message, or None when unset or not a time."""
    if not holder.HasField(name):  # type: ignore[attr-defined]
        return None
    value = getattr(holder, name)
    return value if 0 <= value < _MAX_POSIX_S else None


def _text(value: str | bytes) -> str | None:
    """A protobuf string field as text, None when empty. A string holding invalid UTF-8 comes back
    as bytes from the parser; it is read with replacement characters (an id so damaged matches
    nothing and is counted as such, instead of crashing matching)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value or None


def decode_feed_message(payload: bytes, *, feed_id: str | None = None) -> FeedMessage:
    """Decode one GTFS-realtime payload, or raise `RtDecodeError` saying why it is unusable."""
    if not payload:
        raise RtDecodeError("empty payload (0 bytes), not a FeedMessage", feed_id=feed_id)
    message = pb.FeedMessage()
    try:
        message.ParseFromString(payload)
    except (DecodeError, RuntimeError, ValueError) as error:
        raise RtDecodeError(_diagnose(payload, str(error)), feed_id=feed_id) from error
    if not message.HasField("header") or not message.header.gtfs_realtime_version:
        raise RtDecodeError(
            _diagnose(payload, "no FeedHeader with a gtfs_realtime_version"), feed_id=feed_id
        )
    return _convert(message)


def _diagnose(payload: bytes, parser_message: str) -> str:
    """A human explanation of why ``payload`` is not a FeedMessage."""
    head = payload[:64].lstrip()
    if head.startswith(_TEXT_PREFIXES):
        kind = "an HTML/XML" if head.startswith(b"<") else "a JSON"
        preview = head[:40].decode("utf-8", "replace")
        return f"payload is {kind} document, not a protobuf FeedMessage (starts with {preview!r})"
    return (
        f"not a valid GTFS-realtime FeedMessage ({len(payload)} bytes; truncated or corrupt): "
        f"{parser_message}"
    )


def _convert(message: pb.FeedMessage) -> FeedMessage:
    header = message.header
    trip_updates: list[TripUpdate] = []
    alerts: list[Alert] = []
    vehicles: list[VehiclePosition] = []
    errors: list[RtError] = []
    for entity in message.entity:
        if entity.is_deleted:
            continue  # only meaningful for DIFFERENTIAL feeds, which carry no state here
        if entity.HasField("trip_update"):
            update = _trip_update(_text(entity.id) or "", entity.trip_update, errors)
            if update is not None:
                trip_updates.append(update)
        if entity.HasField("vehicle"):
            vehicles.append(_vehicle_position(_text(entity.id) or "", entity.vehicle))
        if entity.HasField("alert"):
            alerts.append(_alert(_text(entity.id) or "", entity.alert))
    present = [
        kind
        for kind, items in (
            (FeedKind.TRIP_UPDATES, trip_updates),
            (FeedKind.ALERTS, alerts),
            (FeedKind.VEHICLE_POSITIONS, vehicles),
        )
        if items
    ]
    return FeedMessage(
        kind=present[0] if len(present) == 1 else None,
        header_timestamp=_posix_s(header, "timestamp"),
        gtfs_realtime_version=_text(header.gtfs_realtime_version) or "",
        incrementality=_INCREMENTALITY.get(header.incrementality, "FULL_DATASET"),
        trip_updates=tuple(trip_updates),
        alerts=tuple(alerts),
        vehicle_positions=tuple(vehicles),
        errors=tuple(errors),
    )


def _trip_descriptor(trip: pb.TripDescriptor) -> TripDescriptor:
    return TripDescriptor(
        trip_id=_text(trip.trip_id),
        route_id=_text(trip.route_id),
        direction_id=trip.direction_id if trip.HasField("direction_id") else None,
        start_time=_text(trip.start_time),
        start_date=_text(trip.start_date),
        schedule_relationship=_TRIP_RELATIONSHIP.get(
            trip.schedule_relationship, TripScheduleRelationship.SCHEDULED
        ),
    )


def _event(event: pb.TripUpdate.StopTimeEvent) -> StopTimeEvent:
    return StopTimeEvent(
        delay_s=event.delay if event.HasField("delay") else None,
        time=_posix_s(event, "time"),
        uncertainty_s=event.uncertainty if event.HasField("uncertainty") else None,
    )


def _trip_update(entity_id: str, update: pb.TripUpdate, errors: list[RtError]) -> TripUpdate | None:
    trip = update.trip
    if not update.HasField("trip") or not (trip.trip_id or trip.route_id):
        errors.append(
            RtError(
                type=RtErrorType.MISSING_TRIP_DESCRIPTOR,
                entity_id=entity_id,
                detail="TripUpdate without trip_id or route_id",
            )
        )
        return None
    stop_time_updates = tuple(_stop_time_update(stu) for stu in update.stop_time_update)
    return TripUpdate(
        entity_id=entity_id,
        trip=_trip_descriptor(trip),
        stop_time_updates=stop_time_updates,
        vehicle_id=_text(update.vehicle.id) if update.HasField("vehicle") else None,
        timestamp=_posix_s(update, "timestamp"),
        delay_s=update.delay if update.HasField("delay") else None,
        trip_properties=_trip_properties(update.trip_properties) if update.HasField("trip_properties") else None,
    )


def _stop_time_update(stu: pb.TripUpdate.StopTimeUpdate) -> StopTimeUpdate:
    """One StopTimeUpdate, with its StopTimeProperties (assigned stop, pickup/drop-off types:
    the proto's DropOffPickupType numbers are GTFS's pickup_type numbers)."""
    properties = stu.stop_time_properties if stu.HasField("stop_time_properties") else None
    return StopTimeUpdate(
        stop_sequence=stu.stop_sequence if stu.HasField("stop_sequence") else None,
        stop_id=_text(stu.stop_id),
        arrival=_event(stu.arrival) if stu.HasField("arrival") else None,
        departure=_event(stu.departure) if stu.HasField("departure") else None,
        schedule_relationship=_STOP_RELATIONSHIP.get(
            stu.schedule_relationship, StopScheduleRelationship.SCHEDULED
        ),
        assigned_stop_id=_text(properties.assigned_stop_id) if properties is not None else None,
        pickup_type=(
            properties.pickup_type if properties is not None and properties.HasField("pickup_type") else None
        ),
        drop_off_type=(
            properties.drop_off_type if properties is not None and properties.HasField("drop_off_type") else None
        ),
    )


def _trip_properties(properties: pb.TripUpdate.TripProperties) -> TripProperties:
    return TripProperties(
        trip_id=_text(properties.trip_id),
        start_date=_text(properties.start_date),
        start_time=_text(properties.start_time),
        shape_id=_text(properties.shape_id),
        trip_headsign=_text(properties.trip_headsign),
    )


def _translations(text: pb.TranslatedString) -> dict[str, str]:
    return {_text(t.language) or "": _text(t.text) or "" for t in text.translation}


def _alert(entity_id: str, alert: pb.Alert) -> Alert:
    return Alert(
        entity_id=entity_id,
        active_periods=tuple(
            TimeRange(
                start=_posix_s(period, "start"),
                end=_posix_s(period, "end"),
            )
            for period in alert.active_period
        ),
        informed_entities=tuple(
            EntitySelector(
                agency_id=_text(selector.agency_id),
                route_id=_text(selector.route_id),
                route_type=selector.route_type if selector.HasField("route_type") else None,
                stop_id=_text(selector.stop_id),
                trip=_trip_descriptor(selector.trip) if selector.HasField("trip") else None,
                direction_id=selector.direction_id if selector.HasField("direction_id") else None,
            )
            for selector in alert.informed_entity
        ),
        cause=_CAUSE.get(alert.cause, "UNKNOWN_CAUSE"),
        effect=_EFFECT.get(alert.effect, "UNKNOWN_EFFECT"),
        severity_level=_SEVERITY.get(alert.severity_level, "UNKNOWN_SEVERITY"),
        header_text=_translations(alert.header_text),
        description_text=_translations(alert.description_text),
        url=_translations(alert.url),
    )


def _vehicle_position(entity_id: str, vehicle: pb.VehiclePosition) -> VehiclePosition:
    position = vehicle.position if vehicle.HasField("position") else None
    return VehiclePosition(
        entity_id=entity_id,
        trip=_trip_descriptor(vehicle.trip) if vehicle.HasField("trip") else None,
        vehicle_id=_text(vehicle.vehicle.id) if vehicle.HasField("vehicle") else None,
        latitude=position.latitude if position is not None else None,
        longitude=position.longitude if position is not None else None,
        bearing=position.bearing if position is not None and position.HasField("bearing") else None,
        speed_mps=position.speed if position is not None and position.HasField("speed") else None,
        current_stop_sequence=(
            vehicle.current_stop_sequence if vehicle.HasField("current_stop_sequence") else None
        ),
        stop_id=_text(vehicle.stop_id),
        current_status=(
            _VEHICLE_STATUS.get(vehicle.current_status) if vehicle.HasField("current_status") else None
        ),
        occupancy_status=(
            _OCCUPANCY.get(vehicle.occupancy_status) if vehicle.HasField("occupancy_status") else None
        ),
        timestamp=_posix_s(vehicle, "timestamp"),
    )
