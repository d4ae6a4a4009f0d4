"""VehiclePositions tied to their static trip when possible, else to their route.

Every vehicle with a position is kept (a map is useful even when matching fails); what could not
be matched is reported as an error as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from feeds.realtime.match.trip_index import StaticTripIndex
from feeds.realtime.match.trip_matching import TripMatch, match_trip
from feeds.realtime.model import (
    FeedMessage,
    ResolvedVehiclePosition,
    RtError,
    RtErrorType,
    VehiclePosition,
)

__all__ = ["resolve_vehicle_positions"]


@dataclass(frozen=True, slots=True)
class _Placement:
    """What a vehicle was matched to: ``matched_by`` is "trip", "route" or None."""

    matched_by: str | None = None
    trip_id: str | None = None
    route_id: str | None = None
    direction_id: int | None = None
    service_date: str | None = None


def resolve_vehicle_positions(
    message: FeedMessage, index: StaticTripIndex
) -> tuple[list[ResolvedVehiclePosition], list[RtError]]:
    """Tie each vehicle to its static trip when possible, else to its route (module docstring)."""
    resolved: list[ResolvedVehiclePosition] = []
    errors: list[RtError] = []
    for vehicle in message.vehicle_positions:
        placement = _place_vehicle(vehicle, message.header_timestamp, index, errors)
        resolved.append(
            ResolvedVehiclePosition(
                feed_id=index.feed_id,
                entity_id=vehicle.entity_id,
                vehicle_id=vehicle.vehicle_id,
                latitude=vehicle.latitude,
                longitude=vehicle.longitude,
                matched_by=placement.matched_by,
                trip_id=placement.trip_id,
                route_id=placement.route_id,
                direction_id=placement.direction_id,
                service_date=placement.service_date,
                stop_id=_vehicle_stop(vehicle, index, errors),
                current_stop_sequence=vehicle.current_stop_sequence,
                current_status=vehicle.current_status,
                occupancy_status=vehicle.occupancy_status,
                bearing=vehicle.bearing,
                speed_mps=vehicle.speed_mps,
                timestamp=vehicle.timestamp,
            )
        )
    return resolved, errors


def _place_vehicle(
    vehicle: VehiclePosition, header_s: int | None, index: StaticTripIndex, errors: list[RtError]
) -> _Placement:
    descriptor = vehicle.trip
    direction_id = descriptor.direction_id if descriptor is not None else None
    if descriptor is not None and (descriptor.trip_id or descriptor.start_time):
        reference = vehicle.timestamp if vehicle.timestamp is not None else header_s
        match = match_trip(descriptor, index, reference, vehicle.entity_id)
        if isinstance(match, TripMatch):
            return _Placement(
                matched_by="trip",
                trip_id=index.ns(index.trip_ids[match.trip]),
                route_id=index.ns(index.trip_route_ids[match.trip]),
                direction_id=index.trip_direction_ids[match.trip],
                service_date=match.service_date,
            )
        errors.append(match)  # counted even when the route still places the vehicle
    if descriptor is None:
        errors.append(
            RtError(
                type=RtErrorType.MISSING_TRIP_DESCRIPTOR,
                entity_id=vehicle.entity_id,
                detail="vehicle without trip or route",
            )
        )
        return _Placement()
    if not descriptor.route_id:
        return _Placement(direction_id=direction_id)
    if descriptor.route_id in index.route_ids:
        return _Placement(matched_by="route", route_id=index.ns(descriptor.route_id), direction_id=direction_id)
    errors.append(
        RtError(
            type=RtErrorType.UNKNOWN_ROUTE,
            entity_id=vehicle.entity_id,
            detail=f"unknown route_id {descriptor.route_id!r}",
        )
    )
    return _Placement(direction_id=direction_id)


def _vehicle_stop(vehicle: VehiclePosition, index: StaticTripIndex, errors: list[RtError]) -> str | None:
    if vehicle.stop_id is None:
        return None
    if vehicle.stop_id in index.stop_ids:
        return index.ns(vehicle.stop_id)
    errors.append(
        RtError(
            type=RtErrorType.UNKNOWN_STOP,
            entity_id=vehicle.entity_id,
            stop_id=vehicle.stop_id,
            detail="vehicle stop_id not in static feed",
        )
    )
    return None
