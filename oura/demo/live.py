"""Live GTFS-realtime for the demo: a pure function of (static feed, seed, time).

`oura.demo.feed_arrays.load_network_timetable` reads a static feed once into flat arrays; `build_trip_updates`,
`build_vehicle_positions` and `build_alerts` turn it into protobuf `FeedMessage`s for a given
instant. Nothing here reads the clock or keeps state between calls, so the same (seed, time)
always yields the same bytes: tests pin the time, the server passes its clock's time.

What happens in the simulated network (all decided by hashing seed, network, day and trip):
- every running trip carries a delay that builds up during the trip and recovers before its
  end, so a vehicle's delay grows and shrinks as the clock moves;
- about 2 % of trips are cancelled and 3 % skip one stop;
- one stop per network and day is closed from 06:00 to 22:00 (a NO_SERVICE alert, and trips
  passing there skip it);
- in most three-hour slots one route suffers a line-wide disruption (an alert, and 5 to 15
  minutes of extra delay on its trips);
- every hour one trip is ADDED as a copy of a scheduled one, 7 minutes later;
- vehicles move along their shapes between stops, using the delayed times.

Events injected through the live server's control endpoint (`oura.demo.live_events`: cancel a
run, delay it, close a stop) are a third input: ``build_feed(..., events=...)`` applies them on
top of the simulation, so the payloads stay a function of (seed, time, events).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from google.transit import gtfs_realtime_pb2 as rt

from feeds.gtfs.service_days import service_day_origin_s
from oura.demo.live_events import InjectedEvent, add_event_alerts
from oura.demo.feed_arrays import NetworkTimetable

__all__ = [
    "build_trip_updates",
    "build_vehicle_positions",
    "build_alerts",
    "build_feed",
]

_LOOKAHEAD_S = 1800  # trip updates cover trips starting within the next 30 min
_CANCEL_SHARE = 0.02
_SKIP_SHARE = 0.03
_CLOSED_STOP_HOURS = (6, 22)
_DISRUPTION_SLOT_H = 3


def _uniforms(seed: int, *key: object, count: int = 4) -> list[float]:
    """``count`` uniform numbers in [0, 1) fixed by (seed, key): the same on every machine."""
    digest = hashlib.blake2b("|".join(map(str, (seed, *key))).encode(), digest_size=4 * count).digest()
    return [int.from_bytes(digest[4 * i:4 * i + 4], "big") / 2**32 for i in range(count)]


# -- the state of the network at an instant ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ServiceDay:
    day: date
    origin_utc: datetime  # the service day's "noon minus 12 h", GTFS time 0

    def posix(self, seconds: int | float) -> int:
        return int(self.origin_utc.timestamp() + seconds)


def _service_days(now: datetime, timezone: str) -> list[_ServiceDay]:
    local_day = now.astimezone(ZoneInfo(timezone)).date()
    return [_service_day(day, timezone) for day in (local_day - timedelta(days=1), local_day)]


def _service_day(day: date, timezone: str) -> _ServiceDay:
    return _ServiceDay(day, datetime.fromtimestamp(service_day_origin_s(ZoneInfo(timezone), day), UTC))


@dataclass(frozen=True, slots=True)
class _Disruption:
    route_id: str
    start_utc: datetime
    end_utc: datetime
    extra_delay_s: int


def _list_disruptions(tt: NetworkTimetable, seed: int, now: datetime) -> list[_Disruption]:
    """The line-wide disruptions of the slots around ``now`` (the current and the next one)."""
    zone = ZoneInfo(tt.timezone)
    local = now.astimezone(zone)
    routes = sorted(set(tt.route_ids.tolist()))
    if not routes:
        return []
    out = []
    slot_start = local.replace(minute=0, second=0, microsecond=0, hour=local.hour - local.hour % _DISRUPTION_SLOT_H)
    for k in (-1, 0, 1):
        start = slot_start + timedelta(hours=k * _DISRUPTION_SLOT_H)
        happens, pick, extra, _ = _uniforms(seed, tt.network_id, "disruption", start.isoformat())
        if happens < 0.3:
            continue
        begin = start + timedelta(minutes=30)
        out.append(_Disruption(routes[int(pick * len(routes))], begin.astimezone(UTC),
                               (begin + timedelta(minutes=120)).astimezone(UTC), int(300 + 600 * extra)))
    return out


def _closed_stop(tt: NetworkTimetable, seed: int, day: date) -> tuple[int, datetime, datetime] | None:
    if not len(tt.served_stops):
        return None
    (pick, *_) = _uniforms(seed, tt.network_id, "closed-stop", day.isoformat())
    zone = ZoneInfo(tt.timezone)
    start = datetime(day.year, day.month, day.day, _CLOSED_STOP_HOURS[0], tzinfo=zone)
    end = datetime(day.year, day.month, day.day, _CLOSED_STOP_HOURS[1], tzinfo=zone)
    return int(tt.served_stops[int(pick * len(tt.served_stops))]), start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class _TripState:
    """One trip of one service day as it runs at the instant considered."""

    trip: int  # trip index (-1 for the added trip)
    day: _ServiceDay
    trip_id: str
    route_id: str
    direction_id: int
    vehicle_id: str
    stops: np.ndarray  # stop indexes
    sequence: np.ndarray
    arrival_s: np.ndarray  # scheduled
    departure_s: np.ndarray
    dist_km: np.ndarray
    shape_id: str
    delay_s: np.ndarray  # predicted delay at each stop
    current_delay_s: int
    cancelled: bool
    skipped: frozenset[int]  # positions in the trip
    added: bool = False


def _delay_profile(seed: int, tt: NetworkTimetable, trip_id: str, day: date, arrival_s: np.ndarray,
                   now_s: float, extra_s: int) -> tuple[np.ndarray, int]:
    """Predicted delay at each stop and the delay now: builds up, then recovers before the end.

    The slope of the delay over scheduled time stays below 0.6 s/s, so predicted times keep
    increasing from stop to stop.
    """
    u_peak, u_start, _, _ = _uniforms(seed, tt.network_id, "delay", trip_id, day.isoformat())
    duration = max(60.0, float(arrival_s[-1] - arrival_s[0]))
    peak = min(900.0 * u_peak**3, 0.15 * duration)
    initial = min(120.0 * u_start, 0.3 * duration)

    def at(t: np.ndarray | float) -> np.ndarray | float:
        p = np.clip((np.asarray(t, dtype=np.float64) - arrival_s[0]) / duration, 0.0, 1.0)
        return initial * (1.0 - p) + peak * np.sin(np.pi * p) + extra_s

    return np.round(at(arrival_s)).astype(np.int64), int(round(float(at(now_s))))


def _trip_state(tt: NetworkTimetable, seed: int, trip: int, day: _ServiceDay, now_s: float,
                disruptions: list[_Disruption], closed: tuple[int, datetime, datetime] | None) -> _TripState:
    a, b = int(tt.st_start[trip]), int(tt.st_end[trip])
    trip_id = str(tt.trip_ids[trip])
    arrival = tt.st_arrival_s[a:b]
    route_id = str(tt.route_ids[trip])
    start_utc = datetime.fromtimestamp(day.posix(arrival[0]), UTC)
    extra = 0
    for disruption in disruptions:
        if disruption.route_id == route_id and disruption.start_utc <= start_utc < disruption.end_utc:
            extra = max(extra, disruption.extra_delay_s)
    delay, current = _delay_profile(seed, tt, trip_id, day.day, arrival, now_s, extra)
    u_cancel, u_skip, u_where, _ = _uniforms(seed, tt.network_id, "fate", trip_id, day.day.isoformat())
    n = b - a
    skipped = set()
    if u_skip < _SKIP_SHARE and n > 2:
        skipped.add(1 + int(u_where * (n - 2)))
    stops = tt.st_stop[a:b]
    if closed is not None:
        stop, begin, end = closed
        for position in np.flatnonzero(stops == stop).tolist():
            at = datetime.fromtimestamp(day.posix(arrival[position]), UTC)
            if begin <= at < end:
                skipped.add(position)
    return _TripState(
        trip=trip, day=day, trip_id=trip_id, route_id=route_id, direction_id=int(tt.direction_ids[trip]),
        vehicle_id=str(tt.vehicle_ids[trip]), stops=stops, sequence=tt.st_sequence[a:b], arrival_s=arrival,
        departure_s=tt.st_departure_s[a:b], dist_km=tt.st_dist_km[a:b], shape_id=str(tt.shape_ids[trip]),
        delay_s=delay, current_delay_s=current, cancelled=u_cancel < _CANCEL_SHARE, skipped=frozenset(skipped),
    )


def _added_trip(tt: NetworkTimetable, seed: int, day: _ServiceDay, hour: int) -> _TripState | None:
    """The extra trip of ``hour``: a copy, 7 minutes later, of a trip scheduled to start then."""
    services = tt.services_by_date.get(day.day, frozenset())
    if not services:
        return None
    first = tt.first_departure_s
    candidates = np.flatnonzero((first >= hour * 3600) & (first < (hour + 1) * 3600)
                                & np.isin(tt.service_ids, list(services)))
    if not len(candidates):
        return None
    (pick, *_) = _uniforms(seed, tt.network_id, "added", day.day.isoformat(), hour)
    template = int(candidates[int(pick * len(candidates))])
    a, b = int(tt.st_start[template]), int(tt.st_end[template])
    shift = 7 * 60
    trip_id = f"added-{day.day:%Y%m%d}-{hour:02d}"
    return _TripState(
        trip=-1, day=day, trip_id=trip_id, route_id=str(tt.route_ids[template]),
        direction_id=int(tt.direction_ids[template]), vehicle_id=f"{trip_id}-v", stops=tt.st_stop[a:b],
        sequence=tt.st_sequence[a:b], arrival_s=tt.st_arrival_s[a:b] + shift,
        departure_s=tt.st_departure_s[a:b] + shift, dist_km=tt.st_dist_km[a:b],
        shape_id=str(tt.shape_ids[template]), delay_s=np.zeros(b - a, dtype=np.int64), current_delay_s=0,
        cancelled=False, skipped=frozenset(), added=True,
    )


def _list_trip_states(tt: NetworkTimetable, seed: int, now: datetime,
                      events: Sequence[InjectedEvent] = ()) -> list[_TripState]:
    """Trips running now or starting within the look-ahead, on the service days that reach now,
    and the runs an injected event names; with the injected events applied."""
    disruptions = _list_disruptions(tt, seed, now)
    events = [e for e in events if e.network_id == tt.network_id and e.is_active(now)]
    states: list[_TripState] = []
    first, last = tt.first_departure_s, tt.last_arrival_s
    for day in _service_days(now, tt.timezone):
        services = tt.services_by_date.get(day.day)
        if not services:
            continue
        now_s = (now - day.origin_utc).total_seconds()
        closed = _closed_stop(tt, seed, day.day)
        window = (first <= now_s + _LOOKAHEAD_S) & (last + 900 >= now_s) & np.isin(tt.service_ids, list(services))
        for trip in np.flatnonzero(window).tolist():
            states.append(_trip_state(tt, seed, trip, day, now_s, disruptions, closed))
        local_hour = int(now_s // 3600)
        for hour in (local_hour - 1, local_hour):
            if 5 <= hour <= 23:
                added = _added_trip(tt, seed, day, hour)
                if added is not None and added.arrival_s[0] <= now_s + _LOOKAHEAD_S and added.arrival_s[-1] >= now_s:
                    states.append(added)
    if not events:
        return states
    states += _event_runs(tt, seed, now, events, disruptions, {(s.trip_id, s.day.day) for s in states})
    closed_stops = {e.id: np.flatnonzero(tt.stop_ids == e.stop_id) for e in events if e.kind == "close_stop"}
    return [_apply_events(state, events, closed_stops) for state in states]


def _event_runs(tt: NetworkTimetable, seed: int, now: datetime, events: Sequence[InjectedEvent],
                disruptions: list[_Disruption], listed: set[tuple[str, date]]) -> list[_TripState]:
    """The runs a cancel or delay event names that the look-ahead window leaves out (a
    cancellation is announced ahead), as long as they run that day and have not ended."""
    out = []
    for event in events:
        if event.kind not in ("cancel", "delay"):
            continue
        trips = np.flatnonzero(tt.trip_ids == event.trip_id)
        if not len(trips):
            continue
        trip = int(trips[0])
        days = [_service_day(event.service_date, tt.timezone)] if event.service_date else _service_days(now, tt.timezone)
        for day in days:
            now_s = (now - day.origin_utc).total_seconds()
            if ((event.trip_id, day.day) in listed or tt.service_ids[trip] not in tt.services_by_date.get(day.day, ())
                    or tt.last_arrival_s[trip] + 900 < now_s):
                continue
            listed.add((event.trip_id, day.day))
            out.append(_trip_state(tt, seed, trip, day, now_s, disruptions, _closed_stop(tt, seed, day.day)))
    return out


def _apply_events(state: _TripState, events: Sequence[InjectedEvent], closed_stops: dict[str, np.ndarray]) -> _TripState:
    """One run with the injected events on it: canceled, delayed from the event's creation on, or
    skipping a closed stop it reaches between the closure's creation and its end."""
    if state.added:
        return state
    for event in events:
        if event.kind == "cancel" and event.names_run(state.trip_id, state.day.day):
            state = replace(state, cancelled=True)
        elif event.kind == "delay" and event.names_run(state.trip_id, state.day.day):
            from_s = (event.created_at - state.day.origin_utc).total_seconds()
            ahead = state.departure_s + state.delay_s >= from_s
            state = replace(state, delay_s=state.delay_s + np.where(ahead, event.delay_s, 0),
                            current_delay_s=state.current_delay_s + event.delay_s)
        elif event.kind == "close_stop":
            start_s = (event.created_at - state.day.origin_utc).total_seconds()
            end_s = math.inf if event.until is None else (event.until - state.day.origin_utc).total_seconds()
            at_stop = np.isin(state.stops, closed_stops[event.id])
            hit = np.flatnonzero(at_stop & (state.arrival_s + state.delay_s >= start_s) & (state.arrival_s < end_s))
            if len(hit):
                state = replace(state, skipped=state.skipped | frozenset(int(p) for p in hit))
    return state


# -- protobuf -----------------------------------------------------------------------------------


def _header(message: rt.FeedMessage, now: datetime) -> None:
    message.header.gtfs_realtime_version = "2.0"
    message.header.incrementality = rt.FeedHeader.FULL_DATASET
    message.header.timestamp = int(now.timestamp())


def _start_time(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def build_trip_updates(tt: NetworkTimetable, *, seed: int, now: datetime,
                       events: Sequence[InjectedEvent] = ()) -> rt.FeedMessage:
    message = rt.FeedMessage()
    _header(message, now)
    for state in _list_trip_states(tt, seed, now, events):
        now_s = (now - state.day.origin_utc).total_seconds()
        positions: list[int] = []
        if state.added:
            positions = list(range(len(state.stops)))
        elif not state.cancelled:
            ahead = np.flatnonzero(state.departure_s + state.delay_s >= now_s)
            if not len(ahead):
                continue  # already arrived: nothing left to predict
            chosen = {int(ahead[0]), len(state.stops) - 1}
            chosen.update(int(p) for p in ahead[::4])
            # While the delay recovers, give every stop its own prediction: a consumer carries the
            # last given delay over the stops without one, which would overtake a lower later one.
            recovering = np.flatnonzero(np.diff(state.delay_s) < 0) + 1
            chosen.update(int(p) for p in recovering if p - 1 >= ahead[0])
            chosen.update(int(p) - 1 for p in recovering if p - 1 >= ahead[0])
            chosen.update(p for p in state.skipped if p >= ahead[0])
            positions = sorted(chosen)
        entity = message.entity.add()
        entity.id = f"tu-{state.trip_id}-{state.day.day:%Y%m%d}"
        update = entity.trip_update
        descriptor = update.trip
        descriptor.trip_id = state.trip_id
        descriptor.route_id = state.route_id
        descriptor.direction_id = state.direction_id
        descriptor.start_date = f"{state.day.day:%Y%m%d}"
        descriptor.start_time = _start_time(int(state.departure_s[0]))
        update.timestamp = int(now.timestamp())
        if state.cancelled and not state.added:
            descriptor.schedule_relationship = rt.TripDescriptor.CANCELED
            continue
        update.vehicle.id = state.vehicle_id
        if state.added:
            descriptor.schedule_relationship = rt.TripDescriptor.ADDED
        else:
            # the vehicle's delay now is the one predicted at its next stop (what the stops
            # without a prediction of their own inherit)
            update.delay = int(state.delay_s[positions[0]]) if positions else state.current_delay_s
        for position in positions:
            stu = update.stop_time_update.add()
            stu.stop_sequence = int(state.sequence[position])
            stu.stop_id = str(tt.stop_ids[state.stops[position]])
            if position in state.skipped:
                stu.schedule_relationship = rt.TripUpdate.StopTimeUpdate.SKIPPED
                continue
            delay = int(state.delay_s[position])
            if position > 0:
                stu.arrival.delay = delay
                stu.arrival.time = state.day.posix(state.arrival_s[position] + delay)
            if position < len(state.stops) - 1:
                stu.departure.delay = delay
                stu.departure.time = state.day.posix(state.departure_s[position] + delay)
    return message


def _position_on_trip(tt: NetworkTimetable, state: _TripState, now_s: float) -> tuple[float, float, float, int, bool] | None:
    """(lat, lon, bearing, position of the next or current stop, stopped there) or None if not running."""
    t = now_s - state.current_delay_s
    arrival, departure = state.arrival_s, state.departure_s
    if t < departure[0] - 120 or t > arrival[-1]:
        return None
    k = int(np.searchsorted(departure, t, side="right"))  # next stop to arrive at
    if k == 0:
        return _stop_point(tt, state, 0) + (0, True)
    if k < len(arrival) and t >= arrival[k]:
        return _stop_point(tt, state, k) + (k, True)
    if k >= len(arrival):
        return _stop_point(tt, state, len(arrival) - 1) + (len(arrival) - 1, True)
    span = max(1.0, float(arrival[k] - departure[k - 1]))
    fraction = (t - departure[k - 1]) / span
    shape = tt.shapes.get(state.shape_id)
    d0, d1 = state.dist_km[k - 1], state.dist_km[k]
    if shape is not None and not (math.isnan(d0) or math.isnan(d1)) and not np.isnan(shape[2]).any():
        lat, lon, dist = shape
        d = d0 + fraction * (d1 - d0)
        i = int(np.clip(np.searchsorted(dist, d), 1, len(dist) - 1))
        span_d = max(1e-9, dist[i] - dist[i - 1])
        f = float(np.clip((d - dist[i - 1]) / span_d, 0.0, 1.0))
        plat = lat[i - 1] + f * (lat[i] - lat[i - 1])
        plon = lon[i - 1] + f * (lon[i] - lon[i - 1])
        bearing = _bearing(lat[i - 1], lon[i - 1], lat[i], lon[i])
        return float(plat), float(plon), bearing, k, False
    a, b = state.stops[k - 1], state.stops[k]
    plat = tt.stop_lat[a] + fraction * (tt.stop_lat[b] - tt.stop_lat[a])
    plon = tt.stop_lon[a] + fraction * (tt.stop_lon[b] - tt.stop_lon[a])
    return float(plat), float(plon), _bearing(tt.stop_lat[a], tt.stop_lon[a], tt.stop_lat[b], tt.stop_lon[b]), k, False


def _stop_point(tt: NetworkTimetable, state: _TripState, position: int) -> tuple[float, float, float]:
    stop = state.stops[position]
    nxt = state.stops[min(position + 1, len(state.stops) - 1)]
    return (float(tt.stop_lat[stop]), float(tt.stop_lon[stop]),
            _bearing(tt.stop_lat[stop], tt.stop_lon[stop], tt.stop_lat[nxt], tt.stop_lon[nxt]))


def _bearing(lat1, lon1, lat2, lon2) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlon = math.radians(lon2 - lon1)
    y = math.sin(dlon) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlon)
    return round((math.degrees(math.atan2(y, x)) + 360.0) % 360.0, 1)


def build_vehicle_positions(tt: NetworkTimetable, *, seed: int, now: datetime,
                            events: Sequence[InjectedEvent] = ()) -> rt.FeedMessage:
    message = rt.FeedMessage()
    _header(message, now)
    seen: set[str] = set()
    for state in _list_trip_states(tt, seed, now, events):
        if state.cancelled and not state.added:
            continue
        now_s = (now - state.day.origin_utc).total_seconds()
        where = _position_on_trip(tt, state, now_s)
        if where is None or state.vehicle_id in seen:
            continue
        seen.add(state.vehicle_id)
        lat, lon, bearing, position, stopped = where
        entity = message.entity.add()
        entity.id = f"vp-{state.vehicle_id}"
        vehicle = entity.vehicle
        vehicle.trip.trip_id = state.trip_id
        vehicle.trip.route_id = state.route_id
        vehicle.trip.direction_id = state.direction_id
        vehicle.trip.start_date = f"{state.day.day:%Y%m%d}"
        vehicle.trip.start_time = _start_time(int(state.departure_s[0]))
        if state.added:
            vehicle.trip.schedule_relationship = rt.TripDescriptor.ADDED
        vehicle.vehicle.id = state.vehicle_id
        vehicle.vehicle.label = f"{tt.route_names.get(state.route_id, state.route_id)} {state.vehicle_id.rsplit('-', 1)[-1]}"
        vehicle.position.latitude = lat
        vehicle.position.longitude = lon
        vehicle.position.bearing = bearing
        vehicle.current_stop_sequence = int(state.sequence[position])
        vehicle.stop_id = str(tt.stop_ids[state.stops[position]])
        vehicle.current_status = (rt.VehiclePosition.STOPPED_AT if stopped
                                  else rt.VehiclePosition.IN_TRANSIT_TO)
        vehicle.timestamp = int(now.timestamp())
    return message


def _text(translated: rt.TranslatedString, fr: str, en: str) -> None:
    for language, value in (("fr", fr), ("en", en)):
        item = translated.translation.add()
        item.text = value
        item.language = language


def build_alerts(tt: NetworkTimetable, *, seed: int, now: datetime,
                 events: Sequence[InjectedEvent] = ()) -> rt.FeedMessage:
    message = rt.FeedMessage()
    _header(message, now)
    mine = [e for e in events if e.network_id == tt.network_id and e.kind == "close_stop"]
    if mine:
        names = dict(zip(tt.stop_ids.tolist(), tt.stop_names.tolist()))
        add_event_alerts(message, mine, {e.stop_id: str(names.get(e.stop_id, e.stop_id)) for e in mine}, now)
    local_day = now.astimezone(ZoneInfo(tt.timezone)).date()
    closed = _closed_stop(tt, seed, local_day)
    if closed is not None and now < closed[2]:
        stop, begin, end = closed
        name = str(tt.stop_names[stop])
        entity = message.entity.add()
        entity.id = f"closed-stop-{local_day:%Y%m%d}"
        alert = entity.alert
        period = alert.active_period.add()
        period.start, period.end = int(begin.timestamp()), int(end.timestamp())
        alert.informed_entity.add().stop_id = str(tt.stop_ids[stop])
        alert.cause = rt.Alert.CONSTRUCTION
        alert.effect = rt.Alert.NO_SERVICE
        _text(alert.header_text, f"Arrêt {name} fermé", f"Stop {name} closed")
        _text(alert.description_text,
              f"En raison de travaux, l'arrêt {name} n'est pas desservi de {_CLOSED_STOP_HOURS[0]} h à "
              f"{_CLOSED_STOP_HOURS[1]} h.",
              f"Because of works, stop {name} is not served from {_CLOSED_STOP_HOURS[0]}:00 to "
              f"{_CLOSED_STOP_HOURS[1]}:00.")
    for disruption in _list_disruptions(tt, seed, now):
        if disruption.end_utc <= now:
            continue
        route_name = tt.route_names.get(disruption.route_id, disruption.route_id)
        entity = message.entity.add()
        entity.id = f"disruption-{disruption.route_id}-{int(disruption.start_utc.timestamp())}"
        alert = entity.alert
        period = alert.active_period.add()
        period.start, period.end = int(disruption.start_utc.timestamp()), int(disruption.end_utc.timestamp())
        informed = alert.informed_entity.add()
        informed.route_id = disruption.route_id
        alert.cause = rt.Alert.TECHNICAL_PROBLEM
        alert.effect = rt.Alert.SIGNIFICANT_DELAYS
        minutes = disruption.extra_delay_s // 60
        _text(alert.header_text, f"Ligne {route_name} : perturbations",
              f"Line {route_name}: disruption")
        _text(alert.description_text,
              f"Suite à un incident technique, prévoir jusqu'à {minutes} minutes de retard sur la ligne {route_name}.",
              f"After a technical incident, expect delays of up to {minutes} minutes on line {route_name}.")
    return message


_BUILDERS = {
    "trip-updates": build_trip_updates,
    "vehicle-positions": build_vehicle_positions,
    "alerts": build_alerts,
}


def build_feed(tt: NetworkTimetable, kind: str, *, seed: int, now: datetime,
               events: Sequence[InjectedEvent] = (), published_at: datetime | None = None) -> bytes:
    """Serialized FeedMessage of ``kind`` ("trip-updates", "vehicle-positions", "alerts"), with the
    injected ``events`` (of any network: those of ``tt``'s that are active at ``now`` apply).

    ``published_at`` (later than ``now``) is the header timestamp instead of ``now``: the server
    dates a payload changed by an injection after the one it replaces, as a publisher does (a
    consumer takes a payload with the same header timestamp for the same data)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    message = _BUILDERS[kind](tt, seed=seed, now=now.astimezone(UTC), events=tuple(events))
    if published_at is not None and published_at > now:
        message.header.timestamp = int(published_at.timestamp())
    return message.SerializeToString()
