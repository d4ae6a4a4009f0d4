"""Core results -> API itineraries: names, coordinates, ISO times with offsets, statuses, GeoJSON.

Mapping is simple and routing is not (OTP): everything a traveller reads is added here, from
the lookup tables of the `Network` and the realtime overlay of the snapshot the query used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from .alert_index import AlertIndex, alert_json
from .compile import Network
from .core import Journey, TransitLeg, WalkLeg
from .core.timetable import NO_DROP_OFF, NO_PICKUP
from .pricing import JourneyPricing
from .realtime import RealtimeOverlay

__all__ = ["NO_OVERLAY", "Mapper", "route_mode", "DELAY_THRESHOLD_S"]

DELAY_THRESHOLD_S = 60  # an end at least this late is "delayed" (this early: "early"), otherwise "on_time"

_BASIC_MODES = {0: "tram", 1: "metro", 2: "rail", 3: "bus", 4: "ferry", 5: "cable_tram",
                6: "aerial_lift", 7: "funicular", 11: "trolleybus", 12: "monorail"}
_EXTENDED = [(100, 199, "rail"), (200, 299, "coach"), (400, 499, "metro"), (700, 799, "bus"),
             (800, 899, "trolleybus"), (900, 999, "tram"), (1000, 1099, "ferry"), (1100, 1199, "air"),
             (1300, 1399, "aerial_lift"), (1400, 1499, "funicular"), (1500, 1599, "taxi")]


def route_mode(route_type: int) -> str:
    if route_type in _BASIC_MODES:
        return _BASIC_MODES[route_type]
    for lo, hi, mode in _EXTENDED:
        if lo <= route_type <= hi:
            return mode
    return "other"


@dataclass
class Mapper:
    """Renders journeys of one snapshot."""

    network: Network
    overlay: RealtimeOverlay
    realtime: bool
    pricing: JourneyPricing | None = None  # None: itineraries carry no fare
    rider_category: str | None = None  # whose price the itineraries carry (None: the default category)
    alerts: AlertIndex | None = None  # the snapshot's alerts, attached to legs (None: legs carry none)
    langs: tuple[str, ...] = ()  # the traveller's languages, preferred first (alert texts)

    def zone(self, stop: int) -> ZoneInfo:
        feed = int(self.network.stop_feed[stop]) if stop >= 0 else 0
        return ZoneInfo(self.network.timezones[self.network.feed_tz[feed]])

    def iso(self, ts: int | None, stop: int) -> str | None:
        return None if ts is None else datetime.fromtimestamp(ts, self.zone(stop)).isoformat()

    def stop_json(self, s: int) -> dict:
        tt = self.network.timetable
        return {
            "id": str(self.network.stop_ids[s]),
            "name": str(self.network.stop_names[s]),
            "lat": float(tt.stop_lat[s]),
            "lon": float(tt.stop_lon[s]),
            "wheelchair_accessible": bool(tt.stop_accessible[s]),
        }

    def platform(self, s: int) -> str | None:
        """The stop's platform_code (stops.txt), None when the feed gives none."""
        code = self.network.stop_platform_codes[s]
        return str(code) if code else None

    def call_json(self, s: int) -> dict:
        """A stop where a trip calls: the stop and its platform."""
        return self.stop_json(s) | {"platform": self.platform(s)}

    def _times(self, trip: int, day: int, pos: int) -> tuple[int, int, int, int, int]:
        """(scheduled arr, scheduled dep, realtime arr, realtime dep, flags) of trip at pos."""
        tt = self.network.timetable
        base = int(tt.day_base_s[day, tt.pattern_tz[tt.trip_pattern[trip]]])
        row = tt.trip_rows(trip)[0] + pos
        rt_arr = base + int(tt.stop_time_arrival[row])
        rt_dep = base + int(tt.stop_time_departure[row])
        src = self.source_trip(trip)
        if src == trip or src < 0:
            return rt_arr, rt_dep, rt_arr, rt_dep, int(tt.stop_time_flags[row])
        srow = tt.trip_rows(src)[0] + pos + self.overlay.part_offsets.get(trip, 0)  # a cut part starts later
        return (base + int(tt.stop_time_arrival[srow]), base + int(tt.stop_time_departure[srow]),
                rt_arr, rt_dep, int(tt.stop_time_flags[row]))

    def source_trip(self, trip: int) -> int:
        ts = self.network.timetable.trip_source
        return trip if ts is None else int(ts[trip])

    def has_realtime(self, trip: int) -> bool:
        return self.source_trip(trip) != trip

    def transit_leg_json(self, leg: TransitLeg) -> dict:
        net = self.network
        tt = net.timetable
        route = int(net.trip_routes[leg.trip])
        stops = []
        p = leg.pattern
        s0 = int(tt.pattern_stop_offsets[p])
        live = self.has_realtime(leg.trip)
        for pos in range(leg.board_pos, leg.alight_pos + 1):
            s = int(tt.pattern_stops[s0 + pos])
            sa, sd, ra, rd, flags = self._times(leg.trip, leg.day, pos)
            skipped = live and (flags & (NO_PICKUP | NO_DROP_OFF)) == (NO_PICKUP | NO_DROP_OFF)
            stops.append({
                **self.call_json(s),
                "scheduled_arrival": self.iso(sa, s), "scheduled_departure": self.iso(sd, s),
                "realtime_arrival": self.iso(ra, s) if live else None,
                "realtime_departure": self.iso(rd, s) if live else None,
                "status": "skipped" if skipped else self.status(live, ra - sa, rd - sd),
            })
        _, sd, _, _, _ = self._times(leg.trip, leg.day, leg.board_pos)
        aa, _, _, _, _ = self._times(leg.trip, leg.day, leg.alight_pos)
        departure_delay = (leg.departure_s - sd) if live else None
        arrival_delay = (leg.arrival_s - aa) if live else None
        added = self.source_trip(leg.trip) < 0
        color = str(net.route_colors[route] or "")
        return {
            "mode": route_mode(int(net.route_types[route])),
            "type": "transit",
            "from": stops[0] | {"departure": self.iso(leg.departure_s, leg.from_stop)},
            "to": stops[-1] | {"arrival": self.iso(leg.arrival_s, leg.to_stop)},
            "scheduled_departure": None if added else self.iso(sd, leg.from_stop),
            "scheduled_arrival": None if added else self.iso(aa, leg.to_stop),
            "departure": self.iso(leg.departure_s, leg.from_stop),
            "arrival": self.iso(leg.arrival_s, leg.to_stop),
            "realtime": live,
            "delay_s": arrival_delay,
            "departure_delay_s": departure_delay,
            "arrival_delay_s": arrival_delay,
            "status": "added" if added else self.status(live, departure_delay or 0, arrival_delay or 0),
            "trip_id": str(net.trip_ids[leg.trip]),
            "service_date": net.date_of_day(leg.day).isoformat(),
            "route": {
                "id": str(net.route_ids[route]),
                "short_name": str(net.route_short_names[route]),
                "long_name": str(net.route_long_names[route]),
                "color": f"#{color}" if color else None,
                "text_color": f"#{net.route_text_colors[route]}" if net.route_text_colors[route] else None,
                "mode": route_mode(int(net.route_types[route])),
            },
            "headsign": str(net.trip_headsigns[leg.trip] or ""),
            "wheelchair_accessible": bool(tt.trip_accessible[leg.trip]),
            "stops": stops,
            "geometry": self._geometry(leg, stops),
            "alerts": self.alerts_json(leg.trip, leg.from_stop, leg.to_stop, leg.departure_s, leg.arrival_s),
        }

    def alerts_json(self, trip: int, from_stop: int, to_stop: int, t0: int, t1: int) -> list[dict]:
        """The `LegAlert`s of a ride (or a departure: from_stop == to_stop, t0 == t1)."""
        if self.alerts is None:
            return []
        return [alert_json(a, self.langs) for a in self.alerts.for_leg(self.network, trip, from_stop, to_stop, t0, t1)]

    @staticmethod
    def status(live: bool, *delays_s: int) -> str:
        """The status of a leg or a call from the delays of its ends (seconds, + late): without
        realtime "scheduled"; "delayed" when any end is at least `DELAY_THRESHOLD_S` late, else
        "early" when any is at least that early, else "on_time". A leg leaving 5 min late is
        delayed even when it makes the time up by its arrival (and one leaving early is early:
        the traveller may miss it)."""
        if not live:
            return "scheduled"
        if any(d >= DELAY_THRESHOLD_S for d in delays_s):
            return "delayed"
        return "early" if any(d <= -DELAY_THRESHOLD_S for d in delays_s) else "on_time"

    def _geometry(self, leg: TransitLeg, stops: list[dict]) -> dict:
        line = [[st["lon"], st["lat"]] for st in stops]
        shape = self.network.find_shape(str(self.network.trip_shape_ids[leg.trip]))
        if shape is not None and len(shape[0]) >= 2:
            lat, lon = shape
            cos = np.cos(np.radians(float(np.nanmean(lat))))

            def nearest(st: dict, start: int) -> int:
                d = (lat[start:] - st["lat"]) ** 2 + ((lon[start:] - st["lon"]) * cos) ** 2
                return start + int(np.argmin(d))

            a = nearest(stops[0], 0)
            b = nearest(stops[-1], a)
            if b > a:
                line = [[float(x), float(y)] for x, y in zip(lon[a: b + 1], lat[a: b + 1])]
        return {"type": "LineString", "coordinates": line}

    def walk_leg_json(self, leg: WalkLeg, place_from: dict | None, place_to: dict | None) -> dict:
        a = self.stop_json(leg.from_stop) if leg.from_stop >= 0 else place_from
        b = self.stop_json(leg.to_stop) if leg.to_stop >= 0 else place_to
        points = [p for p in [a, *(self.stop_json(s) for s in leg.via_stops), b] if p]
        distance = leg.distance_m
        if distance is None and a and b:
            distance = sum(_distance_m(p["lat"], p["lon"], q["lat"], q["lon"]) for p, q in zip(points, points[1:]))
        ref = leg.from_stop if leg.from_stop >= 0 else leg.to_stop
        return {
            "mode": "walk",
            "type": "walk",
            "from": a,
            "to": b,
            "departure": self.iso(leg.departure_s, ref),
            "arrival": self.iso(leg.arrival_s, ref),
            "duration_s": leg.duration_s,
            "distance_m": round(float(distance or 0.0), 1),
            "geometry": {"type": "LineString",
                         "coordinates": [[p["lon"], p["lat"]] for p in points] if a and b else []},
        }

    def journey_json(self, journey: Journey, place_from: dict | None = None, place_to: dict | None = None) -> dict:
        legs = []
        walk_m = 0.0
        for leg in journey.legs:
            if isinstance(leg, TransitLeg):
                legs.append(self.transit_leg_json(leg))
            else:
                j = self.walk_leg_json(leg, place_from, place_to)
                walk_m += j["distance_m"]
                legs.append(j)
        ref = next((leg.from_stop for leg in journey.legs if leg.from_stop >= 0), 0)
        itinerary = {
            "departure": self.iso(journey.departure_s, ref),
            "arrival": self.iso(journey.arrival_s, ref),
            "duration_s": journey.duration_s,
            "transfers": journey.transfers,
            "walking_distance_m": round(walk_m, 1),
            "realtime": any(leg.get("realtime") for leg in legs),
            "legs": legs,
            "fare": None,
        }
        if self.pricing is not None:
            itinerary["fare"] = self.pricing.price(self.network, journey, self.rider_category)
        return itinerary


NO_OVERLAY = RealtimeOverlay()  # the static network's overlay: nothing applied


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return float(2 * 6_371_008.8 * np.arcsin(np.sqrt(min(1.0, a))))
