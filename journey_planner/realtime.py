"""Apply resolved GTFS-RT trip updates to a copy of the static timetable (the single writer's job).

The static network is never touched. Each application starts again from the static timetable
with the full current set of updates (GTFS-RT trip-update feeds are full datasets), which makes
it idempotent and keeps stale delays from lingering:

- a cancelled trip stops running on that service day: it moves to a copy of its service with
  that day removed;
- a delayed trip (or one with skipped stops) is removed that day the same way, and a realtime
  copy of it runs that day only, with the updated times; skipped stops allow neither boarding
  nor alighting;
- realtime copies are grouped by the pattern of their trip and split into FIFO sub-patterns, so a
  delayed bus overtaken by the next one does not break the earliest-trip binary search;
- an added trip becomes a one-trip pattern on its day;
- an update for a frequency-based trip (one trip_id, one compiled trip per run) applies to the
  run its ``start_time_s`` names.

Problems are returned as `RtError` values (unknown trip, no service that day, ...), never raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from feeds.realtime.model import Alert, ResolvedTripUpdate, RtError, RtErrorType

from .alert_overlay import apply_closures, closed_network, closures_for_alerts
from .compile import Network, fifo_split
from .core.timetable import build_stop_patterns
from .realtime_trips import RealtimeTrip, change_for_update, parse_service_date

__all__ = ["RealtimeOverlay", "apply_realtime", "apply_trip_updates"]


@dataclass(frozen=True)
class RealtimeOverlay:
    """What the realtime timetable changed, for mapping statuses back to travellers."""

    canceled: frozenset[tuple[int, int]] = frozenset()  # (static TripIdx, DayIdx), also runs closed by an alert
    replaced: dict[tuple[int, int], int] = field(default_factory=dict)  # (static trip, day) -> rt trip
    added_trips: tuple[int, ...] = ()  # TripIdx of added trips in the realtime timetable
    applied: int = 0
    errors: tuple[RtError, ...] = ()
    # (static trip, day) -> ids ("feed:id") of the alerts that changed that run (closed stops, cut, cancelled)
    alert_ids: dict[tuple[int, int], tuple[str, ...]] = field(default_factory=dict)
    # (static trip, day) -> every realtime TripIdx running it, in travel order (two or more when an
    # alert cut it at a route section; `replaced` names the first)
    parts: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict)
    # realtime TripIdx of a later part -> position of its first stop in its static trip (absent: 0)
    part_offsets: dict[int, int] = field(default_factory=dict)


def apply_trip_updates(static: Network, updates: Iterable[ResolvedTripUpdate]) -> tuple[Network, RealtimeOverlay]:
    """A new network whose timetable has ``updates`` applied (``static`` is left unchanged)."""
    return apply_realtime(static, updates)


def apply_realtime(static: Network, updates: Iterable[ResolvedTripUpdate], alerts: Iterable[Alert] = (), *,
                   now_s: int | None = None) -> tuple[Network, RealtimeOverlay]:
    """A new network with ``updates`` and the NO_SERVICE ``alerts`` applied (``static`` unchanged).

    ``alerts`` are namespaced (`feeds.realtime.model.namespace_alert`, ids ``feed:id``); they close
    stops, cut route sections and cancel runs during their active periods, on the days within
    `alert_overlay.ALERT_HORIZON_*` of ``now_s`` (every day when ``now_s`` is None). A run both
    updated and hit by an alert is the updated copy with the alert's closures on top.
    """
    errors: list[RtError] = []
    removed_days: dict[int, set[int]] = {}
    canceled: set[tuple[int, int]] = set()
    changed: dict[tuple[int, int], RealtimeTrip] = {}  # (static trip, day) -> its updated copy
    added_trips: list[RealtimeTrip] = []
    applied = 0
    for day, change in _changes(static, updates, errors):
        applied += 1
        if change.source is not None:
            removed_days.setdefault(change.source, set()).add(day)
            if change.canceled:
                canceled.add((change.source, day))
                changed.pop((change.source, day), None)
            elif change.trip is not None:
                changed[(change.source, day)] = change.trip
        elif change.trip is not None:
            added_trips.append(change.trip)
    edits = closures_for_alerts(static, alerts, now_s, changed)
    base, closed_bits = closed_network(static, edits)  # always-active stop closures: on the trips' own flags
    new_trips, alert_ids = apply_closures(base, edits, closed_bits, changed, canceled, removed_days)
    network, replaced, added, parts = _rebuild(base, removed_days, [*new_trips, *added_trips])
    overlay = RealtimeOverlay(
        canceled=frozenset(canceled), replaced=replaced, added_trips=tuple(added),
        applied=applied, errors=tuple(errors), alert_ids=alert_ids, parts=parts,
        part_offsets=_part_offsets(static, network, parts),
    )
    return network, overlay


def _part_offsets(static: Network, network: Network, parts: dict[tuple[int, int], tuple[int, ...]]) -> dict[int, int]:
    """Realtime TripIdx of each cut part not starting at its static trip's first stop -> the
    position it starts at (the mapping reads scheduled times at position + offset). Parts are in
    travel order, so each is searched after the previous one (a loop line visits stops twice)."""
    tt, rt = static.timetable, network.timetable
    offsets = {}
    for (source, _), trips in parts.items():
        p = int(tt.trip_pattern[source])
        stops = tt.pattern_stops[tt.pattern_stop_offsets[p]: tt.pattern_stop_offsets[p + 1]]
        start = 0
        for t in trips:
            q = int(rt.trip_pattern[t])
            part = rt.pattern_stops[rt.pattern_stop_offsets[q]: rt.pattern_stop_offsets[q + 1]]
            for k in range(start, stops.size - part.size + 1):
                if np.array_equal(stops[k: k + part.size], part):
                    if k:
                        offsets[t] = k
                    start = k + part.size - 1
                    break
    return offsets


def _changes(static: Network, updates: Iterable[ResolvedTripUpdate], errors: list[RtError]):
    """(day, change) of each usable update; the last update wins per run (trip, service date,
    plus the start time for frequency trips); an added trip never replaces a static trip's update
    (it is keyed apart, and refused by `change_for_update` when it reuses a static id)."""
    latest: dict[tuple[str, str, int | None, bool], ResolvedTripUpdate] = {}
    for u in updates:
        runs = 0 if u.added else len(static.list_trips(u.trip_id))
        latest[(u.trip_id, u.service_date, u.start_time_s if runs > 1 else None, u.added)] = u
    for (trip_id, service_date, _, _), u in latest.items():
        d = parse_service_date(service_date)
        day = static.find_day(d) if d is not None else None
        if day is None:
            errors.append(RtError(RtErrorType.NO_SERVICE_ON_DATE, trip_id=trip_id, detail=service_date))
            continue
        change = change_for_update(static, u, day, errors)
        if change is not None:
            yield day, change


def _service_rows(
    tt, removed_days: dict[int, set[int]], new_trips: Sequence[RealtimeTrip],
) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """(service_days with extra rows, trip_service, day -> row running that day only).

    A static trip that stops running some days moves to a copy of its service without them
    (one copy per service and set of days); realtime trips run on a one-day row.
    """
    service_days = tt.service_days
    trip_service = tt.trip_service.copy()
    extra_rows: list[np.ndarray] = []
    row_of: dict[tuple[int, frozenset[int]], int] = {}
    for t, days in removed_days.items():
        service = int(trip_service[t])
        key = (service, frozenset(days))
        if key not in row_of:
            row = service_days[service].copy()
            row[list(days)] = 0
            row_of[key] = service_days.shape[0] + len(extra_rows)
            extra_rows.append(row)
        trip_service[t] = row_of[key]
    day_rows: dict[int, int] = {}
    for trip in new_trips:
        if trip.day not in day_rows:
            row = np.zeros(service_days.shape[1], dtype=np.uint8)
            row[trip.day] = 1
            day_rows[trip.day] = service_days.shape[0] + len(extra_rows)
            extra_rows.append(row)
    if extra_rows:
        service_days = np.concatenate([service_days, np.stack(extra_rows)])
    return service_days, trip_service, day_rows


def _departure_then_arrival(trip: RealtimeTrip) -> tuple[int, int]:
    return int(trip.dep[0]), int(trip.arr[-1])


def _realtime_patterns(new_trips: Sequence[RealtimeTrip]) -> list[list[RealtimeTrip]]:
    """Realtime trips grouped by (route, day, stops), sorted by departure, split FIFO."""
    groups: dict[bytes, list[RealtimeTrip]] = {}
    for trip in new_trips:
        key = np.int64(trip.route).tobytes() + np.int64(trip.day).tobytes() + trip.stops.tobytes()
        groups.setdefault(key, []).append(trip)
    patterns = []
    for members in groups.values():
        members = sorted(members, key=_departure_then_arrival)
        sub = fifo_split(np.stack([m.arr for m in members]), np.stack([m.dep for m in members]))
        for group in range(int(sub.max()) + 1):
            patterns.append([members[j] for j in np.flatnonzero(sub == group)])
    return patterns


def _rebuild(static: Network, removed_days: dict[int, set[int]], new_trips: Sequence[RealtimeTrip]):
    """The realtime network: static trips moved off their removed days, realtime trips appended
    as new patterns (static arrays are copied, never written)."""
    tt = static.timetable
    service_days, trip_service, day_rows = _service_rows(tt, removed_days, new_trips)
    n_trips0 = tt.trip_count
    if not new_trips:
        timetable = tt.replace(trip_service=trip_service, service_days=service_days,
                               trip_source=np.arange(n_trips0, dtype=np.int64))
        return static.with_timetable(timetable), {}, [], {}
    patterns = _realtime_patterns(new_trips)
    trips = [trip for pattern in patterns for trip in pattern]
    sources = np.array([trip.source for trip in trips], dtype=np.int64)
    replaced: dict[tuple[int, int], int] = {}
    parts: dict[tuple[int, int], list[tuple[int, int]]] = {}  # run -> (first stop time, rt TripIdx)
    added: list[int] = []
    for i, trip in enumerate(trips):
        if trip.source >= 0:
            parts.setdefault((trip.source, trip.day), []).append((int(trip.dep[0]), n_trips0 + i))
        else:
            added.append(n_trips0 + i)
    ordered = {run: tuple(t for _, t in sorted(found)) for run, found in parts.items()}
    replaced = {run: found[0] for run, found in ordered.items()}
    split = {run: found for run, found in ordered.items() if len(found) > 1}
    lens = np.array([pattern[0].stops.size for pattern in patterns], dtype=np.int64)
    ntr = np.array([len(pattern) for pattern in patterns], dtype=np.int64)
    pattern_stop_offsets = np.r_[tt.pattern_stop_offsets, tt.pattern_stop_offsets[-1] + np.cumsum(lens)]
    pattern_stops = np.concatenate([tt.pattern_stops, *(pattern[0].stops for pattern in patterns)]).astype(np.int32)
    pattern_trip_offsets = np.r_[tt.pattern_trip_offsets, tt.pattern_trip_offsets[-1] + np.cumsum(ntr)]
    pattern_stop_time_offsets = np.r_[
        tt.pattern_stop_time_offsets, tt.pattern_stop_time_offsets[-1] + np.cumsum(lens * ntr)
    ]
    n_p0 = tt.pattern_count
    trip_pattern = np.r_[tt.trip_pattern, np.repeat(np.arange(n_p0, n_p0 + len(patterns)), ntr)].astype(np.int32)
    sp_off, sp_pat, sp_pos = build_stop_patterns(tt.stop_count, pattern_stop_offsets, pattern_stops)
    timetable = tt.replace(
        pattern_stop_offsets=pattern_stop_offsets.astype(np.int64),
        pattern_stops=pattern_stops,
        pattern_trip_offsets=pattern_trip_offsets.astype(np.int64),
        pattern_stop_time_offsets=pattern_stop_time_offsets.astype(np.int64),
        pattern_route=np.r_[tt.pattern_route, [pattern[0].route for pattern in patterns]].astype(np.int32),
        pattern_tz=np.r_[tt.pattern_tz, [pattern[0].tz for pattern in patterns]].astype(np.int32),
        stop_time_arrival=np.concatenate([tt.stop_time_arrival, *(trip.arr for trip in trips)]).astype(np.int32),
        stop_time_departure=np.concatenate([tt.stop_time_departure, *(trip.dep for trip in trips)]).astype(np.int32),
        stop_time_flags=np.concatenate([tt.stop_time_flags, *(trip.flags for trip in trips)]).astype(np.uint8),
        trip_pattern=trip_pattern,
        trip_service=np.r_[trip_service, [day_rows[trip.day] for trip in trips]].astype(np.int32),
        trip_accessible=np.r_[tt.trip_accessible, [tt.trip_accessible[s] if s >= 0 else 0 for s in sources.tolist()]
                              ].astype(np.uint8),
        service_days=service_days,
        stop_pattern_offsets=sp_off, stop_pattern_pattern=sp_pat, stop_pattern_pos=sp_pos,
        trip_source=np.r_[np.arange(n_trips0), sources].astype(np.int64),
        trip_rule_key=_extend_rule_keys(tt, sources),
        max_stop_time_s=int(max(tt.max_stop_time_s, max(int(trip.arr.max()) for trip in trips))),
    )
    return _realtime_network(static, timetable, trips), replaced, added, split


def _realtime_network(static: Network, timetable, trips: Sequence[RealtimeTrip]) -> Network:
    """The static network's lookups extended with the realtime trips (same TripIdx order)."""
    def copied(values: np.ndarray, default: object) -> list:
        return [values[trip.source] if trip.source >= 0 else default for trip in trips]

    return static.with_timetable(
        timetable,
        trip_ids=np.r_[static.trip_ids, np.array([trip.trip_id for trip in trips], dtype=object)],
        trip_routes=np.r_[static.trip_routes, [trip.route for trip in trips]].astype(np.int32),
        trip_headsigns=np.r_[static.trip_headsigns, np.array(copied(static.trip_headsigns, ""), dtype=object)],
        trip_shape_ids=np.r_[static.trip_shape_ids, np.array(copied(static.trip_shape_ids, ""), dtype=object)],
    )


def _extend_rule_keys(tt, sources: np.ndarray) -> np.ndarray | None:
    """Realtime copies keep their static trip's transfer-rule key; added trips have none."""
    if tt.trip_rule_key is None:
        return None
    extra = np.where(sources >= 0, tt.trip_rule_key[np.maximum(sources, 0)], -1)
    return np.r_[tt.trip_rule_key, extra].astype(np.int32)
