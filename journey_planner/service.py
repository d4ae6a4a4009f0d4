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

from feeds.realtime.model import ResolvedTripUpdate
from oura.clock import Clock
from oura.concurrency import run_blocking

from .compile import Network
from .core import MAX_WINDOW_S
from .departures import list_departures
from .errors import TimetableNotReady
from .hubs import HubIndex, HubPlace
from .journeys import JourneyQuery, plan_journeys
from .places import StopSpatialIndex
from .pricing import JourneyPricing
from .realtime import apply_trip_updates
from .stop_search import StopSearchIndex, search_stops
from .snapshot import Snapshot, SnapshotHolder

__all__ = ["JourneyQuery", "Lookups", "PlannerService"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lookups:
    """Per-network indexes built once: coordinates -> stops, names -> stops."""

    spatial: StopSpatialIndex
    search: StopSearchIndex
    hubs: HubIndex


@dataclass
class PlannerService:
    holder: SnapshotHolder | None
    clock: Clock
    walk_radius_m: float = 800.0
    max_window_s: int = MAX_WINDOW_S
    pricing: JourneyPricing | None = None  # `set_pricing`: ticketing's fares; None: no fares
    hubs: tuple[HubPlace, ...] = ()  # `set_hubs`: the interchange hubs of the served versions
    _lookups: dict[int, Lookups] = field(default_factory=dict)
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

    def set_hubs(self, hubs: Sequence[HubPlace]) -> None:
        """Accept these hub ids as journey places (replaces the previous set)."""
        self.hubs = tuple(hubs)
        self._lookups.clear()

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

    def lookups_for(self, network: Network) -> Lookups:
        key = id(network.stop_ids)  # lookups depend on stops only, shared by realtime networks
        found = self._lookups.get(key)
        if found is None:
            found = Lookups(StopSpatialIndex.of(network), StopSearchIndex.of(network), HubIndex.of(network, self.hubs))
            self._lookups[key] = found
        return found

    # --- journeys --------------------------------------------------------------------------
    async def plan_journeys(self, query: JourneyQuery) -> dict:
        snapshot = self.get_snapshot()
        return await run_blocking(plan_journeys, self, snapshot, query)

    # --- stops -----------------------------------------------------------------------------
    async def search_stops(self, q: str | None, near: tuple[float, float] | None, limit: int = 20) -> list[dict]:
        snapshot = self.get_snapshot()
        return await run_blocking(search_stops, self, snapshot, q, near, limit)

    # --- departures ------------------------------------------------------------------------
    async def list_departures(self, stop_id: str, at: dt.datetime | None, limit: int = 10,
                              realtime: bool = True) -> dict:
        snapshot = self.get_snapshot()
        t0 = int((at or self.clock.now()).timestamp())
        return await run_blocking(list_departures, snapshot, stop_id, t0, limit, realtime)

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
