"""GTFS-realtime for OùRA: decode payloads, match them to static feeds, poll, store alerts.

Public API (see README.md): `decode_feed_message` / `RtDecodeError` (decode.py),
`StaticTripIndex`, `resolve_trip_updates`, `resolve_vehicle_positions` (match.py), and the
plain values of model.py that the planner consumes.
"""

from feeds.realtime.decode import RtDecodeError, decode_feed_message
from feeds.realtime.match import StaticTripIndex, resolve_trip_updates, resolve_vehicle_positions

__all__ = [
    "RtDecodeError",
    "StaticTripIndex",
    "decode_feed_message",
    "resolve_trip_updates",
    "resolve_vehicle_positions",
]
