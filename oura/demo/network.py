"""Procedural networks: stops, routes, stop patterns and shapes of every demo feed.

One `FeedPlan` per network, built from the anchors in `oura.demo.region` and a numpy Generator
seeded per feed (so a feed does not change when another one is added or generated elsewhere).
Timetables are not part of the plan: `oura.demo.timetable` turns a `RoutePlan` into trips on the
fly, which is what lets the writer stream millions of stop_times without holding them.

Design decisions:
- Urban networks are radial: bus lines run from the outskirts through one or two *poles* (the
  railway-station forecourt, the town centre, district centres) to the other side of town. Every
  line touches a pole, poles are parent stations whose quays are shared by the lines, and the
  first line links the station and the centre, so each urban network is connected.
- Bus stops come in pairs (one each side of the street, 12 m apart), metro/tram stations are
  parent stations with one platform per direction, rural coach stops serve both directions.
- The railway station of a town is a parent station with platforms in the rail feed; the urban
  feed has its own forecourt pole 30-80 m away with different ids. Feeds are only linked by
  distance, on purpose: consumers must match stops, as with real feeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from oura.demo.geometry import Frame, cumulative_km, place_stops_on_path, wiggle_path
from oura.demo.names import StopNamer
from oura.demo.region import REGION_TIMEZONE, STATIONS, UrbanArea

__all__ = [
    "StopRow",
    "Pattern",
    "Shape",
    "RoutePlan",
    "Transfer",
    "FeedPlan",
    "build_urban_feed",
    "FeedBuilder",
    "unit_vector",
]

ROUTE_TYPE_TRAM = 0
ROUTE_TYPE_METRO = 1
ROUTE_TYPE_RAIL = 2
ROUTE_TYPE_BUS = 3
ROUTE_TYPE_COACH = 200  # extended GTFS route type "Coach Service"


@dataclass(frozen=True, slots=True)
class StopRow:
    stop_id: str
    stop_name: str
    lat: float
    lon: float
    location_type: int = 0
    parent_station: str = ""
    wheelchair_boarding: int = 0
    platform_code: str = ""


@dataclass(frozen=True, slots=True)
class Shape:
    shape_id: str
    lat: np.ndarray = field(repr=False)
    lon: np.ndarray = field(repr=False)
    dist_km: np.ndarray = field(repr=False)


@dataclass(frozen=True, slots=True)
class Pattern:
    """One stop sequence of a route in one direction (rail may have a semi-fast variant)."""

    key: str
    direction_id: int
    shape_id: str
    stop_ids: tuple[str, ...]
    stop_dist_km: np.ndarray = field(repr=False)  # stop index -> distance along the shape
    headsign: str
    first_terminal: str  # place key of the first stop (vehicles lay over there)
    last_terminal: str


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """A route and what its timetable generator needs to know about it.

    ``timetable`` names the profile in `oura.demo.timetable` (metro, tram, bus, coach, rail,
    regional-coach); ``rank`` is 0 for major lines, 1 for ordinary, 2 for minor ones.
    """

    route_id: str
    short_name: str
    long_name: str
    route_type: int
    color: str
    text_color: str
    timetable: str
    patterns: tuple[Pattern, ...]
    speed_kmh: float
    dwell_s: int
    headway_min: float
    rank: int = 1
    school: bool = False
    wheelchair_share: float = 1.0


@dataclass(frozen=True, slots=True)
class Transfer:
    from_stop_id: str
    to_stop_id: str
    transfer_type: int
    min_transfer_time_s: int


@dataclass(frozen=True, slots=True)
class FeedPlan:
    """Everything static about one network's feed except its trips."""

    network_id: str
    network_name: str
    kind: str  # "urban" | "rail" | "coach" | "regional-coach"
    agency_name: str
    agency_url: str
    timezone: str
    stops: tuple[StopRow, ...]
    routes: tuple[RoutePlan, ...]
    shapes: tuple[Shape, ...]
    transfers: tuple[Transfer, ...] = ()
    rail_stations: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (station id, name, platform ids)
    fare_size: str = "small"  # urban fare level: "large" | "medium" | "small"


class FeedBuilder:
    """Collects stops, shapes and routes of one feed while lines are generated."""

    def __init__(self, frame: Frame, rng: np.random.Generator) -> None:
        self.frame = frame
        self.rng = rng
        self.stops: dict[str, StopRow] = {}
        self.shapes: list[Shape] = []
        self.routes: list[RoutePlan] = []
        self.transfers: list[Transfer] = []

    def add_stop(self, stop_id: str, name: str, xy, **fields) -> str:
        if stop_id not in self.stops:
            lat, lon = self.frame.to_latlon(np.asarray(xy))
            self.stops[stop_id] = StopRow(stop_id, name, round(float(lat[0]), 6), round(float(lon[0]), 6), **fields)
        return stop_id

    def add_shape(self, shape_id: str, xy: np.ndarray) -> Shape:
        lat, lon = self.frame.to_latlon(xy)
        lat, lon = np.round(lat, 6), np.round(lon, 6)
        shape = Shape(shape_id, lat, lon, cumulative_km(lat, lon))
        self.shapes.append(shape)
        return shape

    def wheelchair(self, accessible_share: float) -> int:
        roll = self.rng.random()
        return 1 if roll < accessible_share else (2 if roll < accessible_share + 0.6 * (1 - accessible_share) else 0)

    def two_way_patterns(
        self,
        route_id: str,
        path_xy: np.ndarray,
        stop_s: np.ndarray,
        path_s: np.ndarray,
        forward_ids: list[str],
        backward_ids: list[str],
        names: list[str],
        terminals: tuple[str, str],
    ) -> tuple[Pattern, Pattern]:
        """Both directions of a line: outbound along the path, inbound along it reversed."""
        out_shape = self.add_shape(f"{route_id}-0", path_xy)
        back_shape = self.add_shape(f"{route_id}-1", path_xy[::-1])
        out_dist = np.round(np.interp(stop_s, path_s, out_shape.dist_km), 3)
        total = float(out_shape.dist_km[-1])
        back_dist = np.round(total - out_dist[::-1], 3)
        back_dist = np.maximum(back_dist, 0.0)
        outbound = Pattern(f"{route_id}-0", 0, out_shape.shape_id, tuple(forward_ids), out_dist,
                           names[-1], terminals[0], terminals[1])
        inbound = Pattern(f"{route_id}-1", 1, back_shape.shape_id, tuple(backward_ids[::-1]), back_dist,
                          names[0], terminals[1], terminals[0])
        return outbound, inbound

    def plan(self, **fields) -> FeedPlan:
        return FeedPlan(stops=tuple(self.stops.values()), routes=tuple(self.routes),
                        shapes=tuple(self.shapes), transfers=tuple(self.transfers), **fields)


def unit_vector(angle: float) -> np.ndarray:
    return np.array([math.cos(angle), math.sin(angle)])


def _offset_normal(path_xy: np.ndarray, point: np.ndarray, metres: float) -> np.ndarray:
    """``point`` pushed ``metres`` to the right of the path's local direction."""
    d = np.hypot(*(path_xy - point).T)
    i = int(np.argmin(d))
    a, b = path_xy[max(i - 1, 0)], path_xy[min(i + 1, len(path_xy) - 1)]
    t = b - a
    n = np.hypot(*t)
    if n == 0:
        return point
    return point + np.array([t[1], -t[0]]) / n * (metres / 1000.0)


# -- urban networks ------------------------------------------------------------------------------


@dataclass
class _Pole:
    key: str
    name: str
    xy: np.ndarray
    quays: dict[str, str] = field(default_factory=dict)  # label -> stop id
    bus_quay_count: int = 0


def _urban_size(population: int) -> str:
    return "large" if population >= 300_000 else ("medium" if population >= 100_000 else "small")


def build_urban_feed(area: UrbanArea, *, scale: float, rng: np.random.Generator) -> FeedPlan:
    frame = Frame(area.lat, area.lon)
    b = FeedBuilder(frame, rng)
    namer = StopNamer(rng)
    radius_km = (2.0 + 3.0 * math.sqrt(area.population / 100_000)) * max(scale, 1.0) ** 0.25
    size = _urban_size(area.population)
    # below scale 1 (test-sized regions) trips thin out too, down to a quarter of the frequency
    thinning = 1.0 / max(min(scale, 1.0), 0.25)
    poles: dict[str, _Pole] = {}
    if area.station:
        station = STATIONS[area.station]
        sx, sy = frame.to_xy(station.lat, station.lon)
        forecourt = np.array([sx, sy]) + unit_vector(rng.uniform(0, 2 * math.pi)) * 0.045
        poles["gare"] = _Pole("gare", namer.reserve(f"Gare {station.name}"), forecourt)
    centre_poles = area.poles or ()
    if centre_poles:
        for pole in centre_poles:
            poles[pole.key] = _Pole(pole.key, namer.reserve(pole.name), np.array(frame.to_xy(pole.lat, pole.lon)))
    else:
        centre = np.zeros(2)
        if "gare" not in poles or np.hypot(*poles["gare"].xy) > 0.25:
            poles["centre"] = _Pole("centre", namer.reserve(f"{area.town} Centre"), centre)
    centre_key = next(k for k in poles if k != "gare") if len(poles) > 1 else next(iter(poles))

    def quay(pole: _Pole, label: str, platform_code: str) -> str:
        if not pole.quays:
            b.add_stop(pole.key, pole.name, pole.xy, location_type=1, wheelchair_boarding=1)
        if label not in pole.quays:
            offset = unit_vector(rng.uniform(0, 2 * math.pi)) * rng.uniform(0.008, 0.022)
            stop_id = b.add_stop(f"{pole.key}-{label}", pole.name, pole.xy + offset, parent_station=pole.key,
                                 wheelchair_boarding=1, platform_code=platform_code)
            pole.quays[label] = stop_id
        return pole.quays[label]

    def bus_quay(pole: _Pole) -> str:
        pole.bus_quay_count += 1
        n = min(pole.bus_quay_count, 4 + (len(poles) <= 2) * 2)
        index = (pole.bus_quay_count - 1) % n + 1
        return quay(pole, f"q{index}", str(index))

    # metro and tram lines through their poles
    for trunk in area.trunk_lines:
        keys = ["gare" if k == "@station" else k for k in trunk.poles]
        anchors = np.array([poles[k].xy for k in keys])
        path, anchor_idx = wiggle_path(anchors, step_km=0.4, amplitude_km=0.06, rng=rng)
        spacing = 0.8 if trunk.mode == "metro" else 0.5
        stop_xy, anchor_stop, path_xy, stop_s, path_s = place_stops_on_path(path, anchor_idx, spacing_km=spacing, rng=rng)
        pole_at = dict(zip(anchor_stop.tolist(), keys))
        forward, backward, names = [], [], []
        for i, xy in enumerate(stop_xy):
            if i in pole_at:
                pole = poles[pole_at[i]]
                stop_id = quay(pole, trunk.route_id, trunk.route_id)
                forward.append(stop_id)
                backward.append(stop_id)
                names.append(pole.name)
                continue
            name = namer.take()
            parent = f"{trunk.route_id}-{i:02d}"
            b.add_stop(parent, name, xy, location_type=1, wheelchair_boarding=1)
            forward.append(b.add_stop(f"{parent}-1", name, _offset_normal(path_xy, xy, 5), parent_station=parent,
                                      wheelchair_boarding=1, platform_code="1"))
            backward.append(b.add_stop(f"{parent}-2", name, _offset_normal(path_xy, xy, -5), parent_station=parent,
                                       wheelchair_boarding=1, platform_code="2"))
            names.append(name)
        patterns = b.two_way_patterns(trunk.route_id, path_xy, stop_s, path_s, forward, backward, names,
                                      (keys[0], keys[-1]))
        metro = trunk.mode == "metro"
        b.routes.append(RoutePlan(
            route_id=trunk.route_id,
            short_name=trunk.route_id,
            long_name=f"{names[0]} - {names[-1]}",
            route_type=ROUTE_TYPE_METRO if metro else ROUTE_TYPE_TRAM,
            color=trunk.color,
            text_color="FFFFFF",
            timetable="metro" if metro else "tram",
            patterns=patterns,
            speed_kmh=32.0 if metro else 19.0,
            dwell_s=25,
            headway_min=(3.0 if metro else (5.0 if size == "large" else 6.0)) * thinning,
            rank=0,
        ))

    # bus lines: outskirts -> one or two poles -> outskirts
    line_count = max(1, round((area.population / 16_000 + 5) * scale))
    major_count = max(1, line_count // 5)
    minor_from = line_count - line_count * 3 // 10
    size_factor = {"large": 1.0, "medium": 1.6, "small": 2.2}[size]
    pole_keys = list(poles)
    weights = np.array([3.0 if k in ("gare", centre_key) else 1.0 for k in pole_keys])
    weights /= weights.sum()
    for i in range(line_count):
        theta = i * 2.399963 + rng.uniform(-0.2, 0.2)
        start = unit_vector(theta) * radius_km * rng.uniform(0.55, 1.0)
        end = unit_vector(theta + math.pi + rng.uniform(-0.7, 0.7)) * radius_km * rng.uniform(0.55, 1.0)
        if i == 0 and "gare" in poles and len(poles) > 1:
            chosen = ["gare", centre_key]
        else:
            chosen = [pole_keys[rng.choice(len(pole_keys), p=weights)]]
            if len(pole_keys) > 2 and rng.random() < 0.35:
                other = pole_keys[rng.choice(len(pole_keys), p=weights)]
                if other != chosen[0]:
                    chosen.append(other)
        direction = end - start
        chosen.sort(key=lambda k: float(np.dot(poles[k].xy - start, direction)))
        anchors = np.array([start, *(poles[k].xy for k in chosen), end])
        path, anchor_idx = wiggle_path(anchors, step_km=0.6, amplitude_km=0.18, rng=rng)
        stop_xy, anchor_stop, path_xy, stop_s, path_s = place_stops_on_path(
            path, anchor_idx, spacing_km=0.42 * rng.uniform(0.85, 1.15), rng=rng)
        pole_at = {int(anchor_stop[j + 1]): k for j, k in enumerate(chosen)}
        rank = 0 if i < major_count else (2 if i >= minor_from and line_count > 2 else 1)
        if size == "large" and rank == 0:
            short = f"C{i + 1}"
        else:
            short = str(i + 1 if size != "large" else i + 1 - major_count)
        route_id = short
        forward, backward, names = [], [], []
        for j, xy in enumerate(stop_xy):
            if j in pole_at:
                pole = poles[pole_at[j]]
                stop_id = bus_quay(pole)
                forward.append(stop_id)
                backward.append(stop_id)
                names.append(pole.name)
                continue
            name = namer.take()
            access = b.wheelchair(0.8)
            forward.append(b.add_stop(f"{route_id}-{j:02d}a", name, xy, wheelchair_boarding=access))
            backward.append(b.add_stop(f"{route_id}-{j:02d}b", name, _offset_normal(path_xy, xy, 12),
                                       wheelchair_boarding=access))
            names.append(name)
        patterns = b.two_way_patterns(route_id, path_xy, stop_s, path_s, forward, backward, names,
                                      (f"{route_id}-start", f"{route_id}-end"))
        hue = int(rng.integers(0, 0xFFFFFF))
        b.routes.append(RoutePlan(
            route_id=route_id,
            short_name=short,
            long_name=f"{names[0]} - {names[-1]}",
            route_type=ROUTE_TYPE_BUS,
            color=f"{hue:06X}",
            text_color="FFFFFF" if _is_dark(hue) else "000000",
            timetable="bus",
            patterns=patterns,
            speed_kmh=17.0 if size == "large" else 19.0,
            dwell_s=0,
            headway_min=min(60.0, [7.0, 12.0, 20.0][rank] * size_factor) * thinning,
            rank=rank,
            school=rng.random() < 0.35,
            wheelchair_share=0.9,
        ))
    _pole_transfers(b, poles)
    return b.plan(
        network_id=area.network_id,
        network_name=area.network_name,
        kind="urban",
        agency_name=area.network_name,
        agency_url=f"https://{area.network_id}.oura.example/",
        timezone=REGION_TIMEZONE,
        fare_size=size,
    )


def _pole_transfers(b: FeedBuilder, poles: dict[str, _Pole]) -> None:
    for pole in poles.values():
        quays = list(pole.quays.values())
        for a in quays:
            for c in quays:
                if a != c:
                    b.transfers.append(Transfer(a, c, 2, 120))


def _is_dark(rgb: int) -> bool:
    r, g, bl = (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255
    return 0.299 * r + 0.587 * g + 0.114 * bl < 140
