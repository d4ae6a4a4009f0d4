"""TripUpdates resolved against a static trip index: matched, propagated, or reported.

Scheduled trips go through trip matching then stop-time propagation; ADDED/NEW trips carry their
whole stop list with absolute times; REPLACEMENT and DUPLICATED trips are resolved in
`feeds.realtime.match.replaced_trips`. Two rules keep one entity from overwriting another's:

- a NEW/ADDED trip (or a DUPLICATED trip's new trip_id) whose trip_id is a static trip of the feed
  is refused (``trip_id_conflict``): taken as is, it would replace that trip's genuine update;
- a second entity for a run already resolved from the same payload (same trip, service day and
  start) is refused (``duplicate_entity``); the first one is kept, as publishers list the
  authoritative entity first and "last wins" would depend on entity order anyway.
"""

from __future__ import annotations

from dataclasses import replace

from feeds.realtime.match.propagation import propagate_stop_times
from feeds.realtime.match.replaced_trips import resolve_duplicated, resolve_replacement, stop_flags
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

_RunKey = tuple[str, str, int | None]


def resolve_trip_updates(
    message: FeedMessage, index: StaticTripIndex
) -> tuple[list[ResolvedTripUpdate], list[RtError]]:
    """Match every TripUpdate of ``message`` to ``index``; return the usable ones and the errors.

    Only matching errors are returned; decoding errors stay in ``message.errors``.
    """
    resolved: list[ResolvedTripUpdate] = []
    errors: list[RtError] = []
    first_entity: dict[_RunKey, str] = {}
    for update in message.trip_updates:
        result = _resolve_one(update, message.header_timestamp, index, errors)
        if result is None:
            continue
        key = (result.trip_id, result.service_date, None if result.added else result.start_time_s)
        kept = first_entity.get(key)
        if kept is not None:
            errors.append(RtError(
                type=RtErrorType.DUPLICATE_ENTITY, entity_id=update.entity_id, trip_id=update.trip.trip_id,
                detail=f"run {result.trip_id} on {result.service_date} already updated by entity "
                       f"{kept!r} of this payload (the first one is kept)",
            ))
            continue
        first_entity[key] = update.entity_id
        resolved.append(replace(result, entity_id=update.entity_id))
    return resolved, errors


def _resolve_one(
    update: TripUpdate, header_s: int | None, index: StaticTripIndex, errors: list[RtError]
) -> ResolvedTripUpdate | None:
    relationship = update.trip.schedule_relationship
    timestamp = update.timestamp if update.timestamp is not None else header_s
    if relationship in (TripScheduleRelationship.ADDED, TripScheduleRelationship.NEW):
        return _resolve_added(update, index, errors, timestamp)
    reference_s = header_s if header_s is not None else timestamp
    if reference_s is None:
        reference_s = _first_absolute_time(update)
    if relationship == TripScheduleRelationship.DUPLICATED:
        return resolve_duplicated(update, index, reference_s, timestamp, errors)
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
    if relationship == TripScheduleRelationship.REPLACEMENT:
        stops = resolve_replacement(update, index, match, errors)
        if stops is None:
            return None
        return ResolvedTripUpdate(canceled=False, stop_time_updates=(), replacement=True,
                                  added_stops=stops[0], added_stop_flags=stops[1], **common)
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

    if descriptor.trip_id and index.find_trip(descriptor.trip_id) is not None:
        error(RtErrorType.TRIP_ID_CONFLICT, None,
              f"{descriptor.schedule_relationship.value} trip reuses the static trip_id {descriptor.trip_id!r}")
        return None
    if not descriptor.route_id:
        error(RtErrorType.MISSING_TRIP_DESCRIPTOR, None, "added trip without route_id")
        return None
    if descriptor.route_id not in index.route_ids:
        error(RtErrorType.UNKNOWN_ROUTE, None, f"added trip on unknown route {descriptor.route_id!r}")
        return None
    stops: list[tuple[str, int, int]] = []
    flags: list[tuple[int, int]] = []
    for stu in update.stop_time_updates:
        if stu.schedule_relationship == StopScheduleRelationship.SKIPPED:
            continue
        stop_id = stu.assigned_stop_id or stu.stop_id
        if stop_id is None or stop_id not in index.stop_ids:
            error(RtErrorType.UNKNOWN_STOP, stop_id, "added trip stop not in static feed")
            continue
        arrival = stu.arrival.time if stu.arrival is not None else None
        departure = stu.departure.time if stu.departure is not None else None
        if arrival is None and departure is None:
            error(RtErrorType.INVALID_STOP_SEQUENCE, stop_id, "added trip stop without a time")
            continue
        arrival = arrival if arrival is not None else departure
        departure = departure if departure is not None else arrival
        stops.append((index.ns(stop_id), arrival, departure))  # type: ignore[arg-type]
        flags.append(stop_flags(stu))
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
        added_stop_flags=tuple(flags) if any(f != (0, 0) for f in flags) else (),
    )
