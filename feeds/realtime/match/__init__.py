"""Resolve decoded GTFS-realtime against one static feed.

`StaticTripIndex` is the part of a static feed that realtime matching needs, built once per static
import and then shared read-only. `resolve_trip_updates` and `resolve_vehicle_positions` turn
publisher references into namespaced ``<feed_id>:<id>`` values, absolute POSIX times and service
days, and return every entity they could not use as an `RtError` value (never an exception), so
that failures are counted per type.

One module per step, each with the decisions it takes in its docstring:

- `trip_index`: the static trip index (`StaticTripIndex`, `Frequency`, `StaticIndexError`);
  service days, day origin and time zone come from `feeds.gtfs.service_days`;
- `trip_matching`: a TripDescriptor to one run of one trip on one service day (`TripMatch`);
- `propagation`: a matched trip's stop_time_updates to every predicted stop;
- `trip_updates`: `resolve_trip_updates` (scheduled, canceled, added trips);
- `vehicle_positions`: `resolve_vehicle_positions`.
"""

from feeds.realtime.match.trip_index import Frequency, StaticIndexError, StaticTripIndex
from feeds.realtime.match.trip_matching import TripMatch
from feeds.realtime.match.trip_updates import resolve_trip_updates
from feeds.realtime.match.vehicle_positions import resolve_vehicle_positions

__all__ = [
    "Frequency",
    "StaticIndexError",
    "StaticTripIndex",
    "TripMatch",
    "resolve_trip_updates",
    "resolve_vehicle_positions",
]
