"""Departures, the use case behind ``GET /v1/stops/{id}/departures``: the next departures from a
stop or station, realtime applied, cancelled trips listed as cancelled at their scheduled time
(with their route's colour, like every departure), each with its platform when the feed has one.
"""

from __future__ import annotations

import numpy as np

from .alert_index import alert_json
from .compile import Network
from .core import candidate_days
from .core.timetable import NO_PICKUP
from .errors import UnknownStop
from .mapping import NO_OVERLAY, Mapper, route_mode
from .snapshot import Snapshot

__all__ = ["list_departures"]


def list_departures(snapshot: Snapshot, stop_id: str, t0: int, limit: int, realtime: bool,
                    langs: tuple[str, ...] = ()) -> dict:
    """The `Departures` answer: the next departures from a stop or station after POSIX ``t0``, each
    with the alerts touching it (texts in the first of ``langs`` available)."""
    use_rt = realtime and snapshot.has_realtime()
    network = snapshot.network(use_rt)
    s = network.find_stop(stop_id)
    if s is None:
        raise UnknownStop(f"no stop or station {stop_id}")
    tt = network.timetable
    horizon = 6 * 3600
    days = candidate_days(tt, t0 - 3600, t0 + horizon)
    stops = network.list_station_stops(s)
    mapper = Mapper(network, snapshot.overlay if use_rt else NO_OVERLAY, use_rt,
                    alerts=snapshot.alerts if use_rt else None, langs=langs)
    found: list[tuple[int, int, int, int, int, int]] = []  # (time, trip, day, pos, stop, sched)
    for stop in stops.tolist():
        for x in range(int(tt.stop_pattern_offsets[stop]), int(tt.stop_pattern_offsets[stop + 1])):
            p, pos = int(tt.stop_pattern_pattern[x]), int(tt.stop_pattern_pos[x])
            n_s = int(tt.pattern_stop_offsets[p + 1] - tt.pattern_stop_offsets[p])
            if pos == n_s - 1:
                continue
            t_first, t_last = int(tt.pattern_trip_offsets[p]), int(tt.pattern_trip_offsets[p + 1])
            rows = int(tt.pattern_stop_time_offsets[p]) + np.arange(t_last - t_first) * n_s + pos
            for d in days.tolist():
                base = int(tt.day_base_s[d, tt.pattern_tz[p]])
                dep = base + tt.stop_time_departure[rows].astype(np.int64)
                runs = tt.service_days[tt.trip_service[t_first:t_last], d] == 1
                ok = np.flatnonzero(runs & (dep >= t0) & (dep <= t0 + horizon)
                                    & ((tt.stop_time_flags[rows] & NO_PICKUP) == 0))
                found += [(int(dep[i]), t_first + int(i), d, pos, stop, 0) for i in ok]
    # cancelled trips still show, as cancelled, at their scheduled time
    cancelled = _cancelled_departures(snapshot, stops, t0, horizon) if use_rt else []
    found.sort()
    out = []
    for dep, trip, d, pos, stop, _ in found[: limit * 2]:
        sa, sd, ra, rd, flags = mapper._times(trip, d, pos)
        live = mapper.has_realtime(trip)
        out.append({
            "stop": mapper.stop_json(stop),
            "platform": mapper.platform(stop),
            "trip_id": str(network.trip_ids[trip]),
            "service_date": network.date_of_day(d).isoformat(),
            "route": _route_json(network, int(network.trip_routes[trip])),
            "headsign": str(network.trip_headsigns[trip] or ""),
            "scheduled_departure": mapper.iso(sd, stop),
            "realtime_departure": mapper.iso(rd, stop) if live else None,
            "delay_s": (rd - sd) if live else None,
            "status": mapper.status(live, rd - sd),
            "realtime": live,
            "alerts": mapper.alerts_json(trip, stop, stop, dep, dep),
            "_t": dep,
        })
    for dep, trip, d, pos, stop in cancelled:
        out.append({
            "stop": mapper.stop_json(stop), "platform": mapper.platform(stop),
            "trip_id": str(snapshot.static.trip_ids[trip]),
            "service_date": network.date_of_day(d).isoformat(),
            "route": _route_json(network, int(snapshot.static.trip_routes[trip])),  # same routes in both
            "headsign": str(snapshot.static.trip_headsigns[trip] or ""),
            "scheduled_departure": mapper.iso(dep, stop), "realtime_departure": None,
            "delay_s": None, "status": "cancelled", "realtime": True,
            "alerts": [alert_json(a, langs) for a in snapshot.alerts.for_leg(snapshot.static, trip, stop, stop, dep, dep)],
            "_t": dep,
        })
    out.sort(key=lambda x: x["_t"])
    for item in out:
        del item["_t"]
    return {
        "stop": mapper.stop_json(s),
        "realtime": use_rt,
        "departures": out[:limit],
    }


def _route_json(network: Network, route: int) -> dict:
    color = network.route_colors[route]
    return {"id": str(network.route_ids[route]), "short_name": str(network.route_short_names[route]),
            "mode": route_mode(int(network.route_types[route])), "color": f"#{color}" if color else None}


def _cancelled_departures(
    snapshot: Snapshot, stops: np.ndarray, t0: int, horizon_s: int,
) -> list[tuple[int, int, int, int, int]]:
    """(scheduled departure, static trip, day, position, stop) of the cancelled trips leaving
    these stops within the horizon."""
    static_tt = snapshot.static.timetable
    out = []
    for trip, d in snapshot.overlay.canceled:
        p = int(static_tt.trip_pattern[trip])
        n_s = int(static_tt.pattern_stop_offsets[p + 1] - static_tt.pattern_stop_offsets[p])
        pat_stops = static_tt.pattern_stops[static_tt.pattern_stop_offsets[p]: static_tt.pattern_stop_offsets[p + 1]]
        for pos in np.flatnonzero(np.isin(pat_stops, stops)).tolist():
            row = static_tt.trip_rows(trip)[0] + pos
            dep = int(static_tt.day_base_s[d, static_tt.pattern_tz[p]]) + int(static_tt.stop_time_departure[row])
            if t0 <= dep <= t0 + horizon_s and pos < n_s - 1:
                out.append((dep, trip, d, pos, int(pat_stops[pos])))
    return out
