"""TripUpdates resolved against a static trip index: matched, propagated, or reported.

Scheduled trips go through trip matching then stop-time propagation; ADDED/NEW trips carry their
whole stop list with absolute times; DUPLICATED ones are reported (``unsupported_relationship``).
"""

from __future__ import annotations

from feeds.realtime.match.propagation import propagate_stop_times
from feeds.realtime.match.trip_index import StaticTripIndex, local_date
from feeds.realtime.match.trip_matching import match_trip, valid_date
from feeds.realtime.model import (
    FeedMessage,
    ResolvedTripUpdate,
    RtError,
    RtErrorType,
    StopScheduleRelationship,
    TripScheduleRelationship,
    TripUpdate,
)

__all__ = ["resolve_trip_updates"]


def resolve_trip_updates(
    message: FeedMessage, index: StaticTripIndex
) -> tuple[list[ResolvedTripUpdate], list[RtError]]:
    """Match every TripUpdate of ``message`` to ``index``; return the usable ones and the errors.

    Only matching errors are returned; decoding errors stay in ``message.errors``.
    """
    resolved: list[ResolvedTripUpdate] = []
    errors: list[RtError] = []
    for update in message.trip_updates:
        result = _resolve_one(update, message.header_timestamp, index, errors)
        if result is not None:
            resolved.append(result)
    return resolved, errors
def _resolve_one(
    update: TripUpdate, header_s: int | None, index: StaticTripIndex, errors: list[RtError]
) -> ResolvedTripUpdate | None:
    relationship = update.trip.schedule_relationship
    timestamp = update.timestamp if update.timestamp is not None else header_s
    if relationship in (TripScheduleRelationship.ADDED, TripScheduleRelationship.NEW):
        return _resolve_added(update, index, errors, timestamp)
    if relationship == TripScheduleRelationship.DUPLICATED:
        errors.append(
            RtError(
                type=RtErrorType.UNSUPPORTED_RELATIONSHIP,
                entity_id=update.entity_id,
                trip_id=update.trip.trip_id,
                detail="DUPLICATED trips are not applied",
            )
        )
        return None
    reference_s = header_s if header_s is not None else timestamp
    if reference_s is None:
        reference_s = _first_absolute_time(update)
    match = match_trip(update.trip, index, reference_s, update.entity_id)
    if isinstance(match, RtError):
        errors.append(match)
        return None
    trip_id = index.trip_ids[match.trip]
    first = index.find_first_departure_s(match.trip)
    common = dict(
        feed_id=index.feed_id,
        trip_id=index.ns(trip_id),
        service_date=match.service_date,
        added=False,
        route_id=index.ns(index.trip_route_ids[match.trip]),
        timestamp=timestamp,
        start_time_s=None if first is None else first + match.offset_s,
    )
    if relationship in (TripScheduleRelationship.CANCELED, TripScheduleRelationship.DELETED):
        return ResolvedTripUpdate(canceled=True, stop_time_updates=(), **common)
    stop_time_updates = propagate_stop_times(update, index, match, trip_id, errors)
    if stop_time_updates is None:
        return None
    return ResolvedTripUpdate(canceled=False, stop_time_updates=stop_time_updates, **common)


def _first_absolute_time(update: TripUpdate) -> int | None:
    for stu in update.stop_time_updates:
        for event in (stu.arrival, stu.departure):
            if event is not None and event.time is not None:
                return event.time
    return None


def _resolve_added(
    update: TripUpdate, index: StaticTripIndex, errors: list[RtError], timestamp: int | None
) -> ResolvedTripUpdate | None:
    """A trip absent from the static feed: its whole stop list must come with absolute times."""
    descriptor = update.trip

    def error(kind: RtErrorType, stop_id: str | None, detail: str) -> None:
        errors.append(
            RtError(
                type=kind,
                entity_id=update.entity_id,
                trip_id=descriptor.trip_id,
                stop_id=stop_id,
                detail=detail,
            )
        )

    if not descriptor.route_id:
        error(RtErrorType.MISSING_TRIP_DESCRIPTOR, None, "added trip without route_id")
        return None
    if descriptor.route_id not in index.route_ids:
        error(RtErrorType.UNKNOWN_ROUTE, None, f"added trip on unknown route {descriptor.route_id!r}")
        return None
    stops: list[tuple[str, int, int]] = []
    for stu in update.stop_time_updates:
        if stu.schedule_relationship == StopScheduleRelationship.SKIPPED:
            continue
        if stu.stop_id is None or stu.stop_id not in index.stop_ids:
            error(RtErrorType.UNKNOWN_STOP, stu.stop_id, "added trip stop not in static feed")
            continue
        arrival = stu.arrival.time if stu.arrival is not None else None
        departure = stu.departure.time if stu.departure is not None else None
        if arrival is None and departure is None:
            error(RtErrorType.INVALID_STOP_SEQUENCE, stu.stop_id, "added trip stop without a time")
            continue
        arrival = arrival if arrival is not None else departure
        departure = departure if departure is not None else arrival
        stops.append((index.ns(stu.stop_id), arrival, departure))  # type: ignore[arg-type]
    if len(stops) < 2:
        error(RtErrorType.INVALID_STOP_SEQUENCE, None, "added trip needs two stops with times")
        return None
    previous = None
    for stop_id, arrival, departure in stops:
        if departure < arrival or (previous is not None and arrival < previous):
            error(RtErrorType.NEGATIVE_HOP_TIME, stop_id, "added trip times go backwards")
            return None
        previous = departure
    if descriptor.start_date and valid_date(descriptor.start_date):
        service_date = descriptor.start_date
    else:
        service_date = local_date(index.timezone, stops[0][2]).strftime("%Y%m%d")
    base = index.get_service_day_start(service_date)
    return ResolvedTripUpdate(
        feed_id=index.feed_id,
        trip_id=index.ns(descriptor.trip_id or update.entity_id),
        service_date=service_date,
        canceled=False,
        added=True,
        stop_time_updates=(),
        route_id=index.ns(descriptor.route_id),
        added_stops=tuple(stops),
        timestamp=timestamp,
        start_time_s=stops[0][2] - base,
    )
