"""The async facade of the planner: parse nothing, decide little, run the core in the executor.

`PlannerService` holds the `SnapshotHolder`. Every query reads the current snapshot once, then
resolves places, plans (in a thread, through `oura.concurrency.run_blocking`) and maps the result
with that same snapshot. It is also the realtime sink: the feeds poller hands it resolved trip
updates per feed, and one writer (an asyncio lock around an executor job) builds and publishes
the next snapshot from the static network and the latest updates of every feed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from feeds.realtime.model import ResolvedTripUpdate
from oura.clock import Clock
from oura.concurrency import run_blocking

from .compile import Network
from .core import MAX_WINDOW_S, PlanRequest, plan
from .core.timetable import NO_PICKUP
from .errors import OutsideTimetable, SamePlace, TimetableNotReady, UnknownPlace, UnknownStop, WindowTooLarge
from .mapping import Mapper, route_mode
from .places import PlaceError, StopSpatialIndex, fold_text, parse_coordinate, resolve_place, search_stops
from .pricing import JourneyPricing
from .realtime import RealtimeOverlay, apply_trip_updates
from .snapshot import Snapshot, SnapshotHolder

__all__ = ["JourneyQuery", "PlannerService"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JourneyQuery:
    origin: str
    destination: str
    at: dt.datetime | None = None  # None: now
    arrive_by: bool = False
    max_transfers: int = 6
    wheelchair: bool = False
    window_s: int = 0
    num: int = 5
    realtime: bool = True
    transfer_slack_s: int = 120
    rider_category: str | None = None  # price itineraries for this Fares v2 rider_category_id


@dataclass
class _Lookups:
    """Per-network helpers built once (spatial index, folded names)."""

    spatial: StopSpatialIndex
    folded_names: list[str]


@dataclass
class PlannerService:
    holder: SnapshotHolder | None
    clock: Clock
    walk_radius_m: float = 800.0
    max_window_s: int = MAX_WINDOW_S
    pricing: JourneyPricing | None = None  # `set_pricing`: ticketing's fares; None: no fares
    _lookups: dict[int, _Lookups] = field(default_factory=dict)
    # Seconds to gather trip updates of several feeds into one rebuild (0: rebuild on each call).
    # With 30 networks polled every 30 s, rebuilding per feed would spend a core on copies.
    coalesce_s: float = 0.0
    _updates: dict[str, tuple[ResolvedTripUpdate, ...]] = field(default_factory=dict)
    _writer: asyncio.Lock = field(default_factory=asyncio.Lock)
    _rebuild_wanted_at: dt.datetime | None = None
    _rebuild_task: asyncio.Task | None = None

    @staticmethod
    def of_network(network: Network, clock: Clock, **kwargs: object) -> PlannerService:
        return PlannerService(SnapshotHolder(Snapshot(static=network)), clock, **kwargs)

    # --- what the assembly hands in ---------------------------------------------------------
    def set_pricing(self, pricing: JourneyPricing | None) -> None:
        """Price itineraries with this (None: itineraries carry no fare)."""
        self.pricing = pricing

    async def publish(self, network: Network) -> Snapshot:
        """Serve a new static network (the first one, or new feed versions), with the latest trip
        updates re-applied to it; requests keep the previous snapshot until it is published."""
        async with self._writer:
            if self.holder is None:
                self.holder = SnapshotHolder(Snapshot(static=network))
            else:
                self.holder.publish(Snapshot(static=network))
        return await self.rebuild_realtime()

    # --- snapshot --------------------------------------------------------------------------
    def get_snapshot(self) -> Snapshot:
        if self.holder is None:
            raise TimetableNotReady()
        return self.holder.get()

    def _lookups_for(self, network: Network) -> _Lookups:
        key = id(network.stop_ids)  # lookups depend on stops only, shared by realtime networks
        found = self._lookups.get(key)
        if found is None:
            found = _Lookups(StopSpatialIndex.of(network), [fold_text(str(n)) for n in network.stop_names])
            self._lookups[key] = found
        return found

    # --- journeys --------------------------------------------------------------------------
    async def plan_journeys(self, query: JourneyQuery) -> dict:
        snapshot = self.get_snapshot()
        return await run_blocking(self._plan_sync, snapshot, query)

    def _plan_sync(self, snapshot: Snapshot, query: JourneyQuery) -> dict:
        use_rt = query.realtime and snapshot.has_realtime()
        network = snapshot.network(use_rt)
        lookups = self._lookups_for(network)
        if query.window_s > self.max_window_s:
            raise WindowTooLarge(self.max_window_s)
        origin = self._place(network, "from", query.origin, lookups)
        destination = self._place(network, "to", query.destination, lookups)
        if query.origin.strip() == query.destination.strip() or (
            set(origin.stops.tolist()) == set(destination.stops.tolist()) and not np.any(origin.walk_s)
        ):
            raise SamePlace()
        at = query.at or self.clock.now()
        t = int(at.timestamp())
        tt = network.timetable
        first = int(tt.day_base_s[0].min()) if tt.day_count else 0
        last = int(tt.day_base_s[-1].max()) + tt.max_stop_time_s if tt.day_count else 0
        if not first - 86400 <= t <= last + 86400:
            raise OutsideTimetable(f"{at.isoformat()} is outside the service days of the loaded timetables")
        request = PlanRequest(
            origin, destination, t, arrive_by=query.arrive_by, max_transfers=query.max_transfers,
            transfer_slack_s=query.transfer_slack_s, wheelchair=query.wheelchair,
            window_s=query.window_s, max_journeys=query.num,
        )
        reversed_tt = snapshot.reversed_timetable(use_rt) if query.arrive_by else None
        result = plan(tt, request, reversed_tt)
        mapper = Mapper(network, snapshot.overlay if use_rt else _NO_OVERLAY, use_rt,
                        self.pricing, query.rider_category)
        place_from = self._place_json(query.origin)
        place_to = self._place_json(query.destination)
        return {
            "realtime": use_rt,
            "realtime_at": snapshot.realtime_at.isoformat() if use_rt and snapshot.realtime_at else None,
            "snapshot_version": snapshot.version,
            "query": {
                "from": query.origin, "to": query.destination, "datetime": at.isoformat(),
                "arrive_by": query.arrive_by, "max_transfers": query.max_transfers,
                "wheelchair": query.wheelchair, "window_s": query.window_s, "num": query.num,
                "rider_category": query.rider_category,
            },
            "journeys": [mapper.journey_json(j, place_from, place_to) for j in result.journeys],
        }

    def _place(self, network: Network, name: str, text: str, lookups: _Lookups):
        try:
            return resolve_place(network, text, spatial=lookups.spatial, radius_m=self.walk_radius_m)
        except PlaceError as error:
            raise UnknownPlace(name, str(error)) from None

    @staticmethod
    def _place_json(text: str) -> dict | None:
        try:
            c = parse_coordinate(text)
        except PlaceError:
            return None
        return None if c is None else {"id": None, "name": text, "lat": c[0], "lon": c[1]}

    # --- stops -----------------------------------------------------------------------------
    async def search_stops(self, q: str | None, near: tuple[float, float] | None, limit: int = 20) -> list[dict]:
        snapshot = self.get_snapshot()
        return await run_blocking(self._search_sync, snapshot, q, near, limit)

    def _search_sync(self, snapshot: Snapshot, q: str | None, near, limit: int) -> list[dict]:
        network = snapshot.static
        lookups = self._lookups_for(network)
        mapper = Mapper(network, _NO_OVERLAY, False)
        tt = network.timetable
        if q:
            hits = search_stops(network, q, lookups.folded_names, limit=limit * 5 if near else limit)
            if near is not None and hits:
                d = _distances(tt.stop_lat[hits], tt.stop_lon[hits], *near)
                hits = [hits[i] for i in np.argsort(d, kind="stable")]
            hits = hits[:limit]
            dist = None
        elif near is not None:
            stops, dist_m = lookups.spatial.list_within(near[0], near[1], self.walk_radius_m * 2, limit)
            hits, dist = stops.tolist(), dist_m.tolist()
        else:
            return []
        out = []
        for i, s in enumerate(hits):
            item = mapper.stop_json(s) | {
                "location_type": "station" if network.stop_is_station[s] else "stop",
                "parent_station": str(network.stop_ids[tt.stop_parent[s]]) if tt.stop_parent[s] >= 0 else None,
            }
            if dist is not None:
                item["distance_m"] = round(float(dist[i]), 1)
            elif near is not None:
                item["distance_m"] = round(float(_distances(tt.stop_lat[[s]], tt.stop_lon[[s]], *near)[0]), 1)
            out.append(item)
        return out

    # --- departures ------------------------------------------------------------------------
    async def list_departures(self, stop_id: str, at: dt.datetime | None, limit: int = 10,
                              realtime: bool = True) -> dict:
        snapshot = self.get_snapshot()
        return await run_blocking(self._departures_sync, snapshot, stop_id, at, limit, realtime)

    def _departures_sync(self, snapshot: Snapshot, stop_id: str, at, limit: int, realtime: bool) -> dict:
        use_rt = realtime and snapshot.has_realtime()
        network = snapshot.network(use_rt)
        s = network.find_stop(stop_id)
        if s is None:
            raise UnknownStop(f"no stop or station {stop_id}")
        tt = network.timetable
        t0 = int((at or self.clock.now()).timestamp())
        horizon = 6 * 3600
        from .core import candidate_days

        days = candidate_days(tt, t0 - 3600, t0 + horizon)
        stops = network.list_station_stops(s)
        mapper = Mapper(network, snapshot.overlay if use_rt else _NO_OVERLAY, use_rt)
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
            route = int(network.trip_routes[trip])
            out.append({
                "stop": mapper.stop_json(stop),
                "trip_id": str(network.trip_ids[trip]),
                "service_date": network.date_of_day(d).isoformat(),
                "route": {"id": str(network.route_ids[route]), "short_name": str(network.route_short_names[route]),
                          "mode": route_mode(int(network.route_types[route])),
                          "color": f"#{network.route_colors[route]}" if network.route_colors[route] else None},
                "headsign": str(network.trip_headsigns[trip] or ""),
                "scheduled_departure": mapper.iso(sd, stop),
                "realtime_departure": mapper.iso(rd, stop) if live else None,
                "delay_s": (rd - sd) if live else None,
                "status": mapper._status(live, rd - sd),
                "realtime": live,
                "_t": dep,
            })
        for dep, trip, d, pos, stop in cancelled:
            route = int(snapshot.static.trip_routes[trip])
            out.append({
                "stop": mapper.stop_json(stop), "trip_id": str(snapshot.static.trip_ids[trip]),
                "service_date": network.date_of_day(d).isoformat(),
                "route": {"id": str(network.route_ids[route]), "short_name": str(network.route_short_names[route]),
                          "mode": route_mode(int(network.route_types[route])), "color": None},
                "headsign": str(snapshot.static.trip_headsigns[trip] or ""),
                "scheduled_departure": mapper.iso(dep, stop), "realtime_departure": None,
                "delay_s": None, "status": "cancelled", "realtime": True, "_t": dep,
            })
        out.sort(key=lambda x: x["_t"])
        for item in out:
            del item["_t"]
        return {
            "stop": mapper.stop_json(s),
            "realtime": use_rt,
            "departures": out[:limit],
        }

    # --- realtime sink (single writer) ----------------------------------------------------
    async def on_trip_updates(self, feed_id: str, resolved: Sequence[ResolvedTripUpdate],
                              received_at: dt.datetime) -> None:
        self._updates[feed_id] = tuple(resolved)
        if self.holder is None:
            return  # kept: applied when the first timetable is published
        if self.coalesce_s <= 0:
            await self.rebuild_realtime(received_at)
            return
        self._rebuild_wanted_at = received_at
        if self._rebuild_task is None or self._rebuild_task.done():
            self._rebuild_task = asyncio.create_task(self._rebuild_coalesced())

    async def _rebuild_coalesced(self) -> None:
        """Rebuild once per burst of updates; updates arriving during a rebuild get another."""
        while self._rebuild_wanted_at is not None:
            await asyncio.sleep(self.coalesce_s)
            received_at, self._rebuild_wanted_at = self._rebuild_wanted_at, None
            try:
                await self.rebuild_realtime(received_at)
            except Exception:  # keep serving the previous snapshot; the next update retries
                log.exception("realtime rebuild failed")

    async def on_alerts(self, feed_id: str, alerts: Sequence[object], received_at: dt.datetime) -> None:
        return None

    async def on_vehicle_positions(self, feed_id: str, vehicles: Sequence[object], received_at: dt.datetime) -> None:
        return None

    async def rebuild_realtime(self, received_at: dt.datetime | None = None) -> Snapshot:
        """Apply the latest updates of every feed to a copy and publish it (one writer at a time)."""
        async with self._writer:
            current = self.get_snapshot()
            updates = [u for feed in sorted(self._updates) for u in self._updates[feed]]
            network, overlay = await run_blocking(apply_trip_updates, current.static, updates)
            snapshot = Snapshot(static=current.static, realtime=network, overlay=overlay,
                                version=current.version + 1, realtime_at=received_at or self.clock.now())
            self.holder.publish(snapshot)
            if overlay.errors:
                log.info("realtime: %d updates applied, %d not usable", overlay.applied, len(overlay.errors))
            return snapshot


_NO_OVERLAY = RealtimeOverlay()


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
            row = int(static_tt.pattern_stop_time_offsets[p]) + (trip - int(static_tt.pattern_trip_offsets[p])) * n_s + pos
            dep = int(static_tt.day_base_s[d, static_tt.pattern_tz[p]]) + int(static_tt.stop_time_departure[row])
            if t0 <= dep <= t0 + horizon_s and pos < n_s - 1:
                out.append((dep, trip, d, pos, int(pat_stops[pos])))
    return out


def _distances(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    p1, p2 = np.radians(lat0), np.radians(lat)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon - lon0) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
