"""The intercity feeds of the demo region: the regional rail network (TER) and the coach networks
(one per département and the region's own lines). Urban networks are in `oura.demo.network`,
which also holds the plan types and the builder these share."""

from __future__ import annotations

import math
import zlib

import numpy as np

from oura.demo.geometry import Frame, place_stops_on_path, wiggle_path
from oura.demo.names import StopNamer, village_name
from oura.demo.network import (
    ROUTE_TYPE_COACH,
    ROUTE_TYPE_RAIL,
    FeedBuilder,
    FeedPlan,
    Pattern,
    RoutePlan,
    Transfer,
    build_urban_feed,
    unit_vector,
)
from oura.demo.region import (
    COACH_NETWORKS,
    RAIL_LINES,
    RAIL_NETWORK_ID,
    REGION_TIMEZONE,
    REGIONAL_COACH_LINES,
    REGIONAL_COACH_NETWORK_ID,
    STATIONS,
    URBAN_AREAS,
    CoachNetwork,
)

__all__ = ["build_rail_feed", "build_coach_feed", "build_regional_coach_feed", "list_feed_builders"]


# -- rail ----------------------------------------------------------------------------------------


def build_rail_feed(*, scale: float, rng: np.random.Generator) -> FeedPlan:
    frame = Frame(45.5, 5.0)
    b = FeedBuilder(frame, rng)
    lines_through: dict[str, int] = {}
    for line in RAIL_LINES:
        for key in line.stations:
            lines_through[key] = lines_through.get(key, 0) + 1
    platforms: dict[str, list[str]] = {}
    next_platform: dict[str, int] = {}
    stations_out = []
    for key, count in lines_through.items():
        station = STATIONS[key]
        xy = np.array(frame.to_xy(station.lat, station.lon))
        b.add_stop(key, station.name, xy, location_type=1, wheelchair_boarding=1)
        n = min(12, max(2, 2 * count))
        axis = unit_vector(rng.uniform(0, math.pi))
        ids = []
        for k in range(n):
            pos = xy + axis * (k - (n - 1) / 2) * 0.006
            ids.append(b.add_stop(f"{key}-q{k + 1}", station.name, pos, parent_station=key,
                                  wheelchair_boarding=1 if rng.random() < 0.85 else 2, platform_code=str(k + 1)))
        platforms[key] = ids
        next_platform[key] = 0
        stations_out.append((key, station.name, tuple(ids)))
        for a in ids:
            for c in ids:
                if a != c:
                    b.transfers.append(Transfer(a, c, 2, 480 if n >= 8 else 300))

    def platform(key: str) -> str:
        ids = platforms[key]
        i = next_platform[key] % len(ids)
        next_platform[key] += 1
        return ids[i]

    for line in RAIL_LINES:
        anchors = np.array([frame.to_xy(STATIONS[k].lat, STATIONS[k].lon) for k in line.stations])
        path, anchor_idx = wiggle_path(anchors, step_km=3.0, amplitude_km=0.8, rng=rng)
        path_s = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))))
        station_s = path_s[anchor_idx]
        forward = [platform(k) for k in line.stations]
        backward = [platform(k) for k in line.stations]
        names = [STATIONS[k].name for k in line.stations]
        out, back = b.two_way_patterns(line.route_id, path, station_s, path_s, forward, backward, names,
                                       (line.stations[0], line.stations[-1]))
        patterns = [out, back]
        if line.fast_skips:
            for base in (out, back):
                keep = [i for i, sid in enumerate(base.stop_ids) if sid.rsplit("-q", 1)[0] not in line.fast_skips]
                patterns.append(Pattern(
                    f"{base.key}-fast", base.direction_id, base.shape_id,
                    tuple(base.stop_ids[i] for i in keep), base.stop_dist_km[keep], base.headsign,
                    base.first_terminal, base.last_terminal,
                ))
        b.routes.append(RoutePlan(
            route_id=line.route_id,
            short_name=line.route_id,
            long_name=line.name,
            route_type=ROUTE_TYPE_RAIL,
            color="0C2D83",
            text_color="FFFFFF",
            timetable="rail",
            patterns=tuple(patterns),
            speed_kmh=95.0,
            dwell_s=60,
            headway_min=line.peak_headway_min,
            rank=0 if line.offpeak_headway_min <= 60 else 1,
        ))
    return b.plan(
        network_id=RAIL_NETWORK_ID,
        network_name="TER Auvergne-Rhône-Alpes",
        kind="rail",
        agency_name="TER Auvergne-Rhône-Alpes",
        agency_url="https://ter.oura.example/",
        timezone=REGION_TIMEZONE,
        rail_stations=tuple(stations_out),
    )


# -- coaches -------------------------------------------------------------------------------------


def _coach_line(
    b: FeedBuilder,
    route_id: str,
    towns: list[tuple[str, str, np.ndarray]],
    *,
    village_every_km: float,
    namer: StopNamer,
    two_stop_villages: bool,
) -> tuple[Pattern, Pattern, list[str]]:
    """A coach line through ``towns`` (key, stop name, xy), with villages in between."""
    anchors = np.array([xy for _, _, xy in towns])
    path, anchor_idx = wiggle_path(anchors, step_km=2.0, amplitude_km=0.7, rng=b.rng)
    stop_xy, anchor_stop, path_xy, stop_s, path_s = place_stops_on_path(
        path, anchor_idx, spacing_km=village_every_km * b.rng.uniform(0.8, 1.2), rng=b.rng)
    town_at = {int(s): t for s, t in zip(anchor_stop, towns)}
    ids, names = [], []
    sub_s: list[float] = []
    sub_ids: list[str] = []
    for j, xy in enumerate(stop_xy):
        if j in town_at:
            key, name, _ = town_at[j]
            ids.append(b.add_stop(key, name, xy, wheelchair_boarding=1))
            names.append(name)
            sub_s.append(stop_s[j])
            sub_ids.append(ids[-1])
            continue
        village = village_name(b.rng)
        first = f"{route_id}-{j:02d}"
        ids.append(b.add_stop(first, f"{village} - {namer.take()}" if two_stop_villages else village, xy,
                              wheelchair_boarding=b.wheelchair(0.5)))
        names.append(village)
        sub_s.append(stop_s[j])
        sub_ids.append(ids[-1])
        if two_stop_villages and b.rng.random() < 0.7 and j + 1 < len(stop_xy):
            # a second stop in the same village, 300 m further along the road
            s2 = stop_s[j] + 0.3
            if s2 < stop_s[j + 1] - 0.2:
                xy2 = np.array([np.interp(s2, path_s, path_xy[:, 0]), np.interp(s2, path_s, path_xy[:, 1])])
                sub_ids.append(b.add_stop(f"{first}b", f"{village} - {namer.take()}", xy2,
                                          wheelchair_boarding=b.wheelchair(0.5)))
                sub_s.append(s2)
    out, back = b.two_way_patterns(route_id, path_xy, np.asarray(sub_s), path_s, sub_ids, list(sub_ids),
                                   [towns[0][1]] + [""] * (len(sub_ids) - 2) + [towns[-1][1]],
                                   (towns[0][0], towns[-1][0]))
    return out, back, names


def build_coach_feed(network: CoachNetwork, *, scale: float, rng: np.random.Generator) -> FeedPlan:
    hub = network.towns[0]
    frame = Frame(hub.lat, hub.lon)
    b = FeedBuilder(frame, rng)
    namer = StopNamer(rng)
    towns = [(t.key, t.name, np.array(frame.to_xy(t.lat, t.lon))) for t in network.towns]
    specs: list[tuple[list[int], int]] = []  # (town indexes, rank)
    specs.extend(([0, i], 0) for i in range(1, len(towns)))
    others = list(range(1, len(towns)))
    for i in others:
        dists = [(float(np.hypot(*(towns[i][2] - towns[j][2]))), j) for j in others if j != i]
        nearest = min(dists)[1]
        if i < nearest:
            specs.append(([i, nearest], 1))
    target = max(3, round(34 * scale))
    k = 0
    while len(specs) < target:
        base = int(rng.integers(len(towns)))
        angle = rng.uniform(0, 2 * math.pi)
        far = towns[base][2] + unit_vector(angle) * rng.uniform(8.0, 16.0)
        towns.append((f"x{k}", village_name(rng), far))
        specs.append(([base, len(towns) - 1], 2))
        k += 1
    specs = specs[:target]
    for number, (indexes, rank) in enumerate(specs, start=1):
        route_id = f"{network.code}{number:02d}"
        chosen = [towns[i] for i in indexes]
        out, back, names = _coach_line(b, route_id, chosen, village_every_km=1.9, namer=namer,
                                       two_stop_villages=True)
        b.routes.append(RoutePlan(
            route_id=route_id,
            short_name=str(number + 100 * (rank + 1)) if rank else str(number),
            long_name=f"{chosen[0][1]} - {chosen[-1][1]}",
            route_type=ROUTE_TYPE_COACH,
            color="E5005A",
            text_color="FFFFFF",
            timetable="coach",
            patterns=(out, back),
            speed_kmh=42.0,
            dwell_s=20,
            headway_min=0,
            rank=rank,
            school=rng.random() < 0.7,
            wheelchair_share=0.6,
        ))
    return b.plan(
        network_id=network.network_id,
        network_name=network.network_name,
        kind="coach",
        agency_name=network.network_name,
        agency_url=f"https://{network.network_id}.oura.example/",
        timezone=REGION_TIMEZONE,
    )


def build_regional_coach_feed(*, scale: float, rng: np.random.Generator) -> FeedPlan:
    frame = Frame(45.5, 5.0)
    b = FeedBuilder(frame, rng)
    namer = StopNamer(rng)
    urban = {a.key: a for a in URBAN_AREAS}

    def place(key: str) -> tuple[str, str, np.ndarray]:
        if key.startswith("@"):
            area = urban[key[1:]]
            xy = np.array(frame.to_xy(area.lat, area.lon)) + np.array([0.05, 0.06])
            return f"{area.key}-gr", f"{area.town} Gare routière", xy
        station = STATIONS[key]
        xy = np.array(frame.to_xy(station.lat, station.lon)) + unit_vector(zlib.crc32(key.encode()) % 628 / 100) * 0.07
        return f"{key}-gr", f"{station.name} Gare routière", xy

    for line in REGIONAL_COACH_LINES:
        towns = [place(k) for k in line.towns]
        out, back, names = _coach_line(b, line.route_id, towns, village_every_km=4.0, namer=namer,
                                       two_stop_villages=False)
        b.routes.append(RoutePlan(
            route_id=line.route_id,
            short_name=line.route_id,
            long_name=f"{towns[0][1]} - {towns[-1][1]}",
            route_type=ROUTE_TYPE_COACH,
            color="E2001A",
            text_color="FFFFFF",
            timetable="regional-coach",
            patterns=(out, back),
            speed_kmh=60.0,
            dwell_s=30,
            headway_min=120.0,
            rank=0,
            wheelchair_share=1.0,
        ))
    return b.plan(
        network_id=REGIONAL_COACH_NETWORK_ID,
        network_name="Cars Région Auvergne-Rhône-Alpes",
        kind="regional-coach",
        agency_name="Cars Région Auvergne-Rhône-Alpes",
        agency_url="https://cars-region.oura.example/",
        timezone=REGION_TIMEZONE,
    )


def list_feed_builders(scale: float) -> list[tuple[str, object]]:
    """(network id, builder taking the feed's numpy Generator) for every feed, in a stable order.

    The position in this list is part of each feed's seed: append new feeds, never reorder.
    """
    builders: list[tuple[str, object]] = [
        (RAIL_NETWORK_ID, lambda rng: build_rail_feed(scale=scale, rng=rng)),
        (REGIONAL_COACH_NETWORK_ID, lambda rng: build_regional_coach_feed(scale=scale, rng=rng)),
    ]
    for network in COACH_NETWORKS:
        builders.append((network.network_id, lambda rng, n=network: build_coach_feed(n, scale=scale, rng=rng)))
    for area in URBAN_AREAS:
        builders.append((area.network_id, lambda rng, a=area: build_urban_feed(a, scale=scale, rng=rng)))
    return builders
