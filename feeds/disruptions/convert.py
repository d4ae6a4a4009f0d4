"""Disruptions -> what the planner applies: namespaced `Alert`s and `ResolvedTripUpdate`s.

Pure and sync (the static feed comes in as a `StaticTripIndex`, the one reading of service days
and day origins realtime matching uses too), so the same code validates a request (ids of the
served feed, a section along the route, runs in the period) and converts the stored set after
each change or new feed version:

- ``close_stop``: an alert NO_SERVICE on the stop;
- ``cut_route``: an alert NO_SERVICE whose informed entities carry the route and each stop of the
  section, from ``from_stop_id`` to ``to_stop_id`` inclusive along the route's trips (either
  direction); the planner cuts the route's trips there (common interface 2);
- ``cancel_trips``: a CANCELED update per run (a service date the trip runs on, first departure in
  the period), and an alert NO_SERVICE on the trips, active during those runs;
- ``replacement_bus``: an ADDED update per service date (absolute times, the route it stands in
  for), and an alert on that route and the added trips.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from feeds.disruptions.model import Disruption, Kind, Period, spec_ids
from feeds.errors import InvalidDisruption, UnknownDisruptionReference
from feeds.realtime.match import StaticTripIndex
from feeds.realtime.model import Alert, EntitySelector, ResolvedTripUpdate, TimeRange, TripDescriptor

__all__ = ["RealtimeSet", "check_disruption", "convert_disruption", "convert_all", "route_section",
           "HORIZON_DAYS"]

log = logging.getLogger(__name__)

HORIZON_DAYS = 8  # runs of open-ended periods are listed this far ahead (re-converted daily)
MAX_DAYS = 400
_HMS = re.compile(r"^(\d{1,2}):([0-5]\d):([0-5]\d)$")
IndexFinder = Callable[[str], StaticTripIndex | None]


@dataclass(frozen=True, slots=True)
class RealtimeSet:
    """What the current disruptions ask of the planner, and those that could not be converted."""

    alerts: tuple[Alert, ...] = ()
    updates: tuple[ResolvedTripUpdate, ...] = ()
    skipped: tuple[tuple[int, str], ...] = ()  # (disruption id, why)


def _original(namespaced: str) -> str:
    return namespaced.split(":", 1)[1]


def _posix(at: dt.datetime | None) -> int | None:
    return None if at is None else int(at.timestamp())


def check_disruption(kind: Kind, spec: Mapping[str, Any], period: Period, index: StaticTripIndex,
                     *, now: dt.datetime) -> None:
    """Raise UnknownDisruptionReference / InvalidDisruption (with the field) unless the disruption
    makes sense on this feed: every id exists, the section exists, there are runs in the period."""
    for name, value in spec_ids(kind, spec):
        original = _original(value)
        known = (index.find_trip(original) is not None if name == "trip_ids"
                 else original in index.route_ids if name == "route_id"
                 else original in index.stop_ids)
        if not known:
            raise UnknownDisruptionReference(name, f"{value!r} is not in the served feed of {index.feed_id}")
    if kind is Kind.CUT_ROUTE and not route_section(index, spec["route_id"], spec["from_stop_id"], spec["to_stop_id"]):
        raise InvalidDisruption("to_stop_id", f"no trip of {spec['route_id']} calls at {spec['from_stop_id']} "
                                              f"and then at {spec['to_stop_id']} (or the other way)")
    if kind is Kind.CANCEL_TRIPS and not _cancelled_runs(index, spec, period, now):
        raise InvalidDisruption("trip_ids", "none of these trips runs in the period (or on the service dates)")
    if kind is Kind.REPLACEMENT_BUS:
        runs = _replacement_runs(index, spec)
        if not any(_overlaps(period, stops[0][2], stops[-1][1]) for _, stops in runs):
            raise InvalidDisruption("stop_times", "the replacement bus does not run in the period")


def route_section(index: StaticTripIndex, route_id: str, from_stop_id: str, to_stop_id: str) -> list[str]:
    """The namespaced stops from ``from_stop_id`` to ``to_stop_id`` inclusive along the route's
    trips (both directions, every pattern: their union, in first-seen order); [] when none has both."""
    route, first, last = _original(route_id), _original(from_stop_id), _original(to_stop_id)
    seen: dict[str, None] = {}
    patterns: set[tuple[str, ...]] = set()
    for trip, trip_route in enumerate(index.trip_route_ids):
        if trip_route != route:
            continue
        stops = tuple(index.list_trip_stop_times(trip)[0])
        if stops in patterns:
            continue
        patterns.add(stops)
        if first not in stops or last not in stops:
            continue
        i, j = stops.index(first), stops.index(last)
        for stop in stops[min(i, j):max(i, j) + 1]:
            seen.setdefault(stop, None)
    return [index.ns(stop) for stop in seen]


def _overlaps(period: Period, start_s: int, end_s: int) -> bool:
    return start_s < (_posix(period.end) or 2**62) and end_s >= _posix(period.start)


def _candidate_dates(index: StaticTripIndex, period: Period, now: dt.datetime) -> list[str]:
    first = period.start.astimezone(index.timezone).date() - dt.timedelta(days=1)
    horizon = now + dt.timedelta(days=HORIZON_DAYS)
    end = period.end if period.end is not None and period.end < horizon else horizon
    last = min(end.astimezone(index.timezone).date(), first + dt.timedelta(days=MAX_DAYS))
    return [(first + dt.timedelta(days=n)).strftime("%Y%m%d") for n in range((last - first).days + 1)]


def _run_starts(index: StaticTripIndex, trip: int) -> list[int]:
    """Scheduled first departures (s since the day origin) of every run of a trip."""
    windows = index.frequencies.get(trip)
    if windows:
        return [s for w in windows for s in range(w.start_s, w.end_s, max(w.headway_s, 1))]
    first = index.find_first_departure_s(trip)
    return [] if first is None else [first]


def _cancelled_runs(index: StaticTripIndex, spec: Mapping[str, Any], period: Period,
                    now: dt.datetime) -> list[tuple[str, str, int, int, int]]:
    """(namespaced trip, date, start_time_s, departure POSIX, arrival POSIX) of each cancelled run."""
    dates = spec.get("service_dates") or _candidate_dates(index, period, now)
    runs = []
    for trip_id in spec["trip_ids"]:
        trip = index.find_trip(_original(trip_id))
        if trip is None:
            continue
        first, last = index.find_first_departure_s(trip), index.find_last_arrival_s(trip)
        duration = 0 if first is None or last is None else max(last - first, 0)
        service = index.trip_service_ids[trip]
        for date in dates:
            if not index.is_service_active(service, date):
                continue
            origin = index.get_service_day_start(date)
            for start in _run_starts(index, trip):
                departure = origin + start
                if period.contains(dt.datetime.fromtimestamp(departure, dt.UTC)):  # first departure in the period
                    runs.append((trip_id, date, start, departure, departure + duration))
    return runs


def _seconds(text: str) -> int:
    h, m, s = (int(x) for x in _HMS.match(text).groups())
    return h * 3600 + m * 60 + s


def _replacement_runs(index: StaticTripIndex, spec: Mapping[str, Any]) -> list[tuple[str, tuple[tuple[str, int, int], ...]]]:
    """(service date, ((stop, arrival, departure) POSIX, ...)) of each run; InvalidDisruption when
    times go backwards."""
    rows = spec["stop_times"]
    if spec.get("service_dates"):
        runs = []
        for date in spec["service_dates"]:
            origin = index.get_service_day_start(date)
            runs.append((date, tuple((r["stop_id"], origin + _seconds(r["arrival"]), origin + _seconds(r["departure"]))
                                     for r in rows)))
    else:
        stops = tuple((r["stop_id"], int(dt.datetime.fromisoformat(r["arrival"]).timestamp()),
                       int(dt.datetime.fromisoformat(r["departure"]).timestamp())) for r in rows)
        date = dt.datetime.fromtimestamp(stops[0][2], index.timezone).strftime("%Y%m%d")
        runs = [(date, stops)]
    previous = None
    for i, (_, arrival, departure) in enumerate(runs[0][1]):
        if departure < arrival or (previous is not None and arrival < previous):
            raise InvalidDisruption(f"stop_times[{i}]", "times go backwards")
        previous = departure
    return runs


def _alert(disruption: Disruption, entities: Iterable[EntitySelector],
           periods: Sequence[TimeRange] | None = None) -> Alert:
    period = TimeRange(_posix(disruption.period.start), _posix(disruption.period.end))
    return Alert(
        entity_id=disruption.alert_id, active_periods=tuple(periods) if periods else (period,),
        informed_entities=tuple(entities), cause=disruption.cause, effect=disruption.effect,
        severity_level="SEVERE" if disruption.effect == "NO_SERVICE" else "WARNING",
        header_text=dict(disruption.header_text), description_text=dict(disruption.description_text),
        url=dict(disruption.url),
    )


def _merged(intervals: Iterable[tuple[int, int]]) -> list[TimeRange]:
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [TimeRange(start, end) for start, end in merged]


def convert_disruption(disruption: Disruption, index: StaticTripIndex, *,
                       now: dt.datetime) -> tuple[list[Alert], list[ResolvedTripUpdate]]:
    """One disruption's alerts and trip updates on this feed (ids namespaced)."""
    spec, feed, stamp = disruption.spec, disruption.network_id, _posix(disruption.updated_at)
    if disruption.kind is Kind.CLOSE_STOP:
        return [_alert(disruption, [EntitySelector(stop_id=spec["stop_id"])])], []
    if disruption.kind is Kind.CUT_ROUTE:
        section = route_section(index, spec["route_id"], spec["from_stop_id"], spec["to_stop_id"])
        return [_alert(disruption, [EntitySelector(route_id=spec["route_id"], stop_id=s) for s in section])], []
    if disruption.kind is Kind.CANCEL_TRIPS:
        runs = _cancelled_runs(index, spec, disruption.period, now)
        updates = [
            ResolvedTripUpdate(feed_id=feed, trip_id=trip_id, service_date=date, canceled=True, added=False,
                               stop_time_updates=(), route_id=index.ns(index.trip_route_ids[index.find_trip(_original(trip_id))]),
                               timestamp=stamp, start_time_s=start)
            for trip_id, date, start, _, _ in runs
        ]
        trips = sorted({run[0] for run in runs})
        entities = [EntitySelector(trip=TripDescriptor(trip_id=t)) for t in trips]
        return ([_alert(disruption, entities, _merged((run[3], run[4]) for run in runs))] if runs else []), updates
    updates = []
    for date, stops in _replacement_runs(index, spec):
        if not _overlaps(disruption.period, stops[0][2], stops[-1][1]):
            continue
        origin = index.get_service_day_start(date)
        updates.append(ResolvedTripUpdate(
            feed_id=feed, trip_id=f"{feed}:oura-disruption-{disruption.id}-{date}", service_date=date, canceled=False,
            added=True, stop_time_updates=(), route_id=spec["route_id"], added_stops=stops, timestamp=stamp,
            start_time_s=stops[0][2] - origin))
    entities = [EntitySelector(route_id=spec["route_id"])] + [
        EntitySelector(trip=TripDescriptor(trip_id=u.trip_id)) for u in updates]
    return [_alert(disruption, entities)], updates


def convert_all(disruptions: Iterable[Disruption], find_index: IndexFinder, *, now: dt.datetime) -> RealtimeSet:
    """The current disruptions' alerts and updates; one that cannot be converted (its feed not
    indexed, or a new version lost a stop it names) is skipped and listed, never raised."""
    alerts: list[Alert] = []
    updates: list[ResolvedTripUpdate] = []
    skipped: list[tuple[int, str]] = []
    for disruption in disruptions:
        if not disruption.is_current(now):
            continue
        index = find_index(disruption.network_id)
        if index is None:
            skipped.append((disruption.id, f"the static feed of {disruption.network_id} is not indexed"))
            continue
        try:
            if disruption.kind is not Kind.CANCEL_TRIPS:  # cancelled runs may all be past: not an error
                check_disruption(disruption.kind, disruption.spec, disruption.period, index, now=now)
            more_alerts, more_updates = convert_disruption(disruption, index, now=now)
        except InvalidDisruption as error:
            log.warning("disruption %s no longer applies: %s", disruption.id, error.detail)
            skipped.append((disruption.id, error.detail))
            continue
        alerts += more_alerts
        updates += more_updates
    return RealtimeSet(tuple(alerts), tuple(updates), tuple(skipped))
