"""The async facade of the planner: parse nothing, decide little, run the core in the executor.

`PlannerService` holds the `SnapshotHolder`. Every query reads the current snapshot once, then
resolves places, plans (in a thread, through `oura.concurrency.run_blocking`) and maps the result
with that same snapshot. It is also the realtime sink: the feeds poller hands it resolved trip
updates per feed, and one writer (an asyncio lock around an executor job) builds and publishes
the next snapshot from the static network and the latest updates of every feed.

No request pays for a cold start: before a snapshot is published, in the same executor job, the
writer builds what queries read (reversed timetables, `Lookups`, the networks' id indexes) and,
for a new static network, answers a few warm-up queries (depart-at, arrive-by, window, from a
point, departures, stop search) so numba loads its compiled kernels and every lazy import and
first-call cost is paid there. Requests keep the previous snapshot meanwhile.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from feeds.realtime.model import Alert, ResolvedTripUpdate, namespace_alert
from oura.clock import Clock
from oura.concurrency import run_blocking
from oura.http.responses import dumps

from .carpool.client import OperatorFailure, OperatorFailureReport, SearchResults
from .carpool_legs import CarpoolAsk, CarpoolSearch, FoundOffers, RailStations
from .compile import Network
from .core import MAX_WINDOW_S
from .departures import list_departures
from .errors import TimetableNotReady
from .hubs import HubIndex, HubPlace
from .journeys import JourneyQuery, carpool_asks_of, plan_journeys, wants_carpool
from .places import StopSpatialIndex
from .pricing import JourneyPricing
from .alert_index import AlertIndex
from .basemap import build_basemap
from .alert_overlay import ALERT_HORIZON_AFTER_S, ALERT_HORIZON_BEFORE_S, alert_periods
from .realtime import apply_realtime
from .stop_search import StopSearchIndex, search_stops
from .snapshot import Snapshot, SnapshotHolder

__all__ = ["JourneyQuery", "Lookups", "PlannerService", "SnapshotListener", "warm_up_queries"]

log = logging.getLogger(__name__)

SnapshotListener = Callable[[Snapshot | None, Snapshot], None]
CARPOOL_DEADLINE_S = 0.45  # a carpool search of a journey query, at most (operators time out at 0.3 s)


def _basemap_bytes(network: Network) -> bytes:
    return dumps(build_basemap(network)).encode()


@dataclass(frozen=True)
class Lookups:
    """Per-network indexes built once: coordinates -> stops, names -> stops."""

    spatial: StopSpatialIndex
    search: StopSearchIndex
    hubs: HubIndex
    rail: RailStations  # where a carpool meets the train


@dataclass
class PlannerService:
    holder: SnapshotHolder | None
    clock: Clock
    walk_radius_m: float = 800.0
    max_window_s: int = MAX_WINDOW_S
    pricing: JourneyPricing | None = None  # `set_pricing`: ticketing's fares; None: no fares
    hubs: tuple[HubPlace, ...] = ()  # `set_hubs`: the interchange hubs of the served versions
    carpool: CarpoolSearch | None = None  # `set_carpool`: carpool offers for modes=carpool; None: none
    # id(network.stop_ids) -> (that network, the hubs its index was built with, its lookups)
    _lookups: dict[int, tuple[Network, tuple[HubPlace, ...], Lookups]] = field(default_factory=dict)
    _lookups_lock: threading.Lock = field(default_factory=threading.Lock)  # builders of _lookups
    # Seconds to gather trip updates of several feeds into one rebuild (0: rebuild on each call).
    # With 30 networks polled every 30 s, rebuilding per feed would spend a core on copies.
    coalesce_s: float = 0.0
    _updates: dict[str, tuple[ResolvedTripUpdate, ...]] = field(default_factory=dict)
    _alerts: dict[str, tuple[Alert, ...]] = field(default_factory=dict)  # feed -> its alerts, namespaced
    # `set_operator_disruptions`: the authorities' disruptions (alerts, trip updates), not a feed
    _operator: tuple[tuple[Alert, ...], tuple[ResolvedTripUpdate, ...]] = ((), ())
    _boundary_timer: asyncio.TimerHandle | None = None  # rebuild when an alert period starts or ends
    _writer: asyncio.Lock = field(default_factory=asyncio.Lock)
    _rebuild_wanted_at: dt.datetime | None = None
    _rebuild_task: asyncio.Task | None = None
    # called (on the event loop) with (previous, published) after each publication: `add_snapshot_listener`
    _listeners: list[SnapshotListener] = field(default_factory=list)
    _basemap: tuple[Network, str, bytes] | None = None  # (static network, its ETag, the GeoJSON as bytes)

    @staticmethod
    def of_network(network: Network, clock: Clock, **kwargs: object) -> PlannerService:
        return PlannerService(SnapshotHolder(Snapshot.prepared(network)), clock, **kwargs)

    # --- what the assembly hands in ---------------------------------------------------------
    def set_pricing(self, pricing: JourneyPricing | None) -> None:
        """Price itineraries with this (None: itineraries carry no fare)."""
        self.pricing = pricing

    def set_carpool(self, carpool: CarpoolSearch | None) -> None:
        """Chain carpool offers from this search into journeys asking for ``modes=carpool``."""
        self.carpool = carpool

    def set_hubs(self, hubs: Sequence[HubPlace]) -> None:
        """Accept these hub ids as journey places (replaces the previous set). The hub index of
        every served network is rebuilt here (sync: the assembly calls it in the executor), so no
        request builds it; requests use the previous hubs until it is done."""
        hubs = tuple(hubs)
        with self._lookups_lock:
            rebuilt = {key: (network, hubs, replace(lookups, hubs=HubIndex.of(network, hubs)))
                       for key, (network, _, lookups) in self._lookups.items()}
            self._lookups.update(rebuilt)
            self.hubs = hubs

    async def publish(self, network: Network) -> Snapshot:
        """Serve a new static network (the first one, or new feed versions), with the latest trip
        updates re-applied to it; requests keep the previous snapshot until it is published, and
        the new one is ready to answer (see the module docstring)."""
        async with self._writer:
            previous = self.holder.get() if self.holder is not None else None
            snapshot = await run_blocking(self._prepare, network, self._latest_updates(), previous, True,
                                          self._latest_alerts())
            if self.holder is None:
                self.holder = SnapshotHolder(snapshot)
            else:
                self.holder.publish(snapshot)
            with self._lookups_lock:  # older networks' lookups go
                self._lookups = {k: v for k, v in self._lookups.items() if v[0] is network}
            published = self.holder.get()
            self._schedule_boundary()
            self._notify(previous, published)
            return published

    def _latest_updates(self) -> list[ResolvedTripUpdate]:
        return [u for feed in sorted(self._updates) for u in self._updates[feed]] + list(self._operator[1])

    def _latest_alerts(self) -> list[Alert]:
        return [a for feed in sorted(self._alerts) for a in self._alerts[feed]] + list(self._operator[0])

    def _prepare(self, static: Network, updates: list[ResolvedTripUpdate], previous: Snapshot | None,
                 warm_up: bool, alerts: Sequence[Alert] = ()) -> Snapshot:
        """The next snapshot, ready to answer (sync: the writer's executor job)."""
        now = self.clock.now()
        now_s = int(now.timestamp())
        realtime, overlay = apply_realtime(static, updates, alerts, now_s=now_s)
        static.build_indexes()  # its realtime copies share the stop and shape indexes (none reads their trips')
        version = previous.version + 1 if previous is not None else 0
        active = AlertIndex.of((a for a in alerts if alert_periods(a, now_s)[0].size), static)
        snapshot = Snapshot.prepared(static, realtime, overlay, version=version, realtime_at=now,
                                     previous=previous, alerts=active)
        self.lookups_for(static)
        if warm_up:
            warm_up_queries(self, snapshot)
        return snapshot

    def add_snapshot_listener(self, listener: SnapshotListener) -> None:
        """Call ``listener(previous, published)`` after every publication (previous is None for
        the first). It runs on the event loop, so it must be quick: schedule work, do not do it.
        A listener that raises is logged and kept."""
        self._listeners.append(listener)

    def _notify(self, previous: Snapshot | None, published: Snapshot) -> None:
        for listener in list(self._listeners):
            try:
                listener(previous, published)
            except Exception:  # noqa: BLE001  (one listener's failure must not stop a publication)
                log.exception("snapshot listener failed")

    # --- snapshot --------------------------------------------------------------------------
    def get_snapshot(self) -> Snapshot:
        if self.holder is None:
            raise TimetableNotReady()
        return self.holder.get()

    def find_lookups(self, network: Network) -> Lookups | None:
        """The lookups already built for ``network`` (with the current hubs), or None."""
        found = self._lookups.get(id(network.stop_ids))
        if found is None or found[0].stop_ids is not network.stop_ids or found[1] is not self.hubs:
            return None
        return found[2]

    def lookups_for(self, network: Network) -> Lookups:
        """The indexes of ``network``'s stops (shared by its realtime versions: same stops), built
        here only for a network not published through `publish` (tests' `of_network`)."""
        found = self.find_lookups(network)
        if found is not None:
            return found
        with self._lookups_lock:
            key, hubs = id(network.stop_ids), self.hubs
            known = self._lookups.get(key)
            if known is not None and known[0].stop_ids is network.stop_ids:
                if known[1] is hubs:
                    return known[2]
                built = replace(known[2], hubs=HubIndex.of(known[0], hubs))
                network = known[0]
            else:
                built = Lookups(StopSpatialIndex.of(network), StopSearchIndex.of(network),
                                HubIndex.of(network, hubs), RailStations.of(network))
            self._lookups[key] = (network, hubs, built)
            return built

    # --- journeys --------------------------------------------------------------------------
    async def plan_journeys(self, query: JourneyQuery) -> dict:
        snapshot = self.get_snapshot()
        if not wants_carpool(query):
            return await run_blocking(plan_journeys, self, snapshot, query)
        found = FoundOffers()
        if self.carpool is not None:
            asks = await run_blocking(carpool_asks_of, self, snapshot, query)
            found = await self._search_carpool(self.carpool, asks)
        return await run_blocking(plan_journeys, self, snapshot, query, found)

    async def _search_carpool(self, carpool: CarpoolSearch, asks: Sequence[CarpoolAsk]) -> FoundOffers:
        """Every ask at once, each bounded by `CARPOOL_DEADLINE_S` (the operators' own timeouts
        are shorter: an ask over it is a bug or a slow database, reported, never waited for)."""
        async def one(ask: CarpoolAsk) -> SearchResults:
            try:
                async with asyncio.timeout(CARPOOL_DEADLINE_S):
                    return await carpool.search(ask.query)
            except TimeoutError:
                return SearchResults((), (OperatorFailureReport("*", OperatorFailure.TIMEOUT,
                                                                f"no answer within {CARPOOL_DEADLINE_S:g} s"),))
            except Exception as error:  # noqa: BLE001  (carpool never breaks a journey answer)
                log.exception("carpool search failed")
                return SearchResults((), (OperatorFailureReport("*", OperatorFailure.BAD_ANSWER, type(error).__name__),))

        answers = await asyncio.gather(*(one(ask) for ask in asks))
        errors = {(e.operator, e.failure, e.detail): e for answer in answers for e in answer.errors}
        return FoundOffers(tuple(asks), tuple(answer.offers for answer in answers), tuple(errors.values()), True)

    # --- stops -----------------------------------------------------------------------------
    async def search_stops(self, q: str | None, near: tuple[float, float] | None, limit: int = 20) -> list[dict]:
        snapshot = self.get_snapshot()
        return await run_blocking(search_stops, self, snapshot, q, near, limit)

    # --- basemap -----------------------------------------------------------------------------
    async def basemap(self) -> tuple[str, bytes]:
        """The static network's offline basemap (`basemap`) as JSON bytes with an ETag, built
        once per published static network."""
        network = self.get_snapshot().static
        cached = self._basemap
        if cached is None or cached[0] is not network:
            body = await run_blocking(_basemap_bytes, network)
            tag = '"basemap-' + hashlib.sha256("/".join(network.feed_hashes).encode()).hexdigest()[:20] + '"'
            cached = self._basemap = (network, tag, body)
        return cached[1], cached[2]

    # --- departures ------------------------------------------------------------------------
    async def list_departures(self, stop_id: str, at: dt.datetime | None, limit: int = 10,
                              realtime: bool = True, langs: tuple[str, ...] = ()) -> dict:
        snapshot = self.get_snapshot()
        t0 = int((at or self.clock.now()).timestamp())
        return await run_blocking(list_departures, snapshot, stop_id, t0, limit, realtime, langs)

    # --- realtime sink (single writer) ----------------------------------------------------
    async def on_trip_updates(self, feed_id: str, resolved: Sequence[ResolvedTripUpdate],
                              received_at: dt.datetime) -> None:
        self._updates[feed_id] = tuple(resolved)
        await self._want_rebuild(received_at)

    async def _want_rebuild(self, received_at: dt.datetime) -> None:
        """Rebuild now (no coalescing) or within `coalesce_s`, with every other change meanwhile."""
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

    async def on_alerts(self, feed_id: str, alerts: Sequence[Alert], received_at: dt.datetime) -> None:
        """The feed's current alerts (publisher's ids; a full dataset replacing the previous one):
        namespaced (ids ``feed:entity_id``) and applied like trip updates, coalesced the same way."""
        self._alerts[feed_id] = tuple(
            replace(namespace_alert(feed_id, a), entity_id=f"{feed_id}:{a.entity_id}") for a in alerts)
        await self._want_rebuild(received_at)

    async def set_operator_disruptions(self, alerts: Sequence[Alert], updates: Sequence[ResolvedTripUpdate],
                                       received_at: dt.datetime) -> Snapshot | None:
        """The authorities' disruptions (alerts already namespaced, updates already resolved),
        replacing the previous set; returns once the snapshot applying them is published (None
        before the first timetable: they are applied with it)."""
        self._operator = (tuple(alerts), tuple(updates))
        if self.holder is None:
            return None
        return await self.rebuild_realtime(received_at)

    def _schedule_boundary(self) -> None:
        """One timer, replaced on each publication: rebuild when the next alert period starts or
        ends (or enters or leaves the horizon), so that change needs no new data."""
        if self._boundary_timer is not None:
            self._boundary_timer.cancel()
            self._boundary_timer = None
        now_s = self.clock.now().timestamp()
        upcoming = [t for a in self._latest_alerts() for p in a.active_periods
                    for t in _boundaries(p.start, p.end) if t > now_s]
        if not upcoming:
            return
        delay = max(0.01, min(upcoming) - now_s)
        self._boundary_timer = asyncio.get_running_loop().call_later(delay, self._boundary_reached)

    def _boundary_reached(self) -> None:
        self._boundary_timer = None
        if self.coalesce_s <= 0:
            self._rebuild_task = asyncio.create_task(self._want_rebuild(self.clock.now()))
        else:
            self._rebuild_wanted_at = self.clock.now()
            if self._rebuild_task is None or self._rebuild_task.done():
                self._rebuild_task = asyncio.create_task(self._rebuild_coalesced())

    async def on_vehicle_positions(self, feed_id: str, vehicles: Sequence[object], received_at: dt.datetime) -> None:
        return None

    async def rebuild_realtime(self, received_at: dt.datetime | None = None) -> Snapshot:
        """Apply the latest updates of every feed to a copy and publish it (one writer at a time)."""
        async with self._writer:
            current = self.get_snapshot()
            snapshot = await run_blocking(self._prepare, current.static, self._latest_updates(), current, False,
                                          self._latest_alerts())
            if received_at is not None:
                snapshot = replace(snapshot, realtime_at=received_at)
            self.holder.publish(snapshot)
            published = self.holder.get()
            if snapshot.overlay.errors:
                log.info("realtime: %d updates applied, %d not usable", snapshot.overlay.applied,
                         len(snapshot.overlay.errors))
            self._schedule_boundary()
            self._notify(current, published)
            return published


def _boundaries(start: int | None, end: int | None) -> list[int]:
    """When a period changes what a rebuild does: its ends, and when they cross the horizon."""
    out = []
    if start is not None:
        out += [start, start - ALERT_HORIZON_AFTER_S]
    if end is not None:
        out += [end, end + ALERT_HORIZON_BEFORE_S]
    return out


WARM_UP_LEAD_S = 300  # warm-up queries leave this long before the chosen trip


def warm_up_queries(service: PlannerService, snapshot: Snapshot) -> int:
    """Answer a few queries on ``snapshot`` before it is published, so the first traveller's
    request does not load numba's kernels or pay any other first call; returns how many
    answered. A failure is logged, never raised: warming up must not stop a publication."""
    network = snapshot.static
    found = _running_trip(network)
    if found is None:
        return 0
    s_from, s_to, dep_s, arr_s = found
    a, b = str(network.stop_ids[s_from]), str(network.stop_ids[s_to])
    tt = network.timetable
    point = f"{float(tt.stop_lat[s_from]) + 0.0005:.6f},{float(tt.stop_lon[s_from]):.6f}"
    before = datetime.fromtimestamp(dep_s - WARM_UP_LEAD_S, UTC)
    after = datetime.fromtimestamp(arr_s + WARM_UP_LEAD_S, UTC)
    calls = [
        lambda: plan_journeys(service, snapshot, JourneyQuery(a, b, before)),
        lambda: plan_journeys(service, snapshot, JourneyQuery(a, b, after, arrive_by=True)),
        lambda: plan_journeys(service, snapshot, JourneyQuery(a, b, before, window_s=min(3600, service.max_window_s))),
        lambda: plan_journeys(service, snapshot, JourneyQuery(point, b, before)),
        lambda: plan_journeys(service, snapshot, JourneyQuery(a, b, after, arrive_by=True, realtime=False)),
        lambda: list_departures(snapshot, a, dep_s - WARM_UP_LEAD_S, 10, True),
        lambda: search_stops(service, snapshot, str(network.stop_names[s_to]), None, 5),
    ]
    answered = 0
    for call in calls:
        try:
            call()
            answered += 1
        except Exception:  # noqa: BLE001  (a warm-up answer is thrown away; its failure only logged)
            log.warning("planner warm-up query failed", exc_info=True)
    return answered


def _running_trip(network: Network) -> tuple[int, int, int, int] | None:
    """(first stop, last stop, departure, arrival in POSIX s) of a trip running on the first
    service day that has any; None for a network without trips."""
    tt = network.timetable
    if tt.trip_count == 0 or tt.day_count == 0:
        return None
    has_trips = np.zeros(tt.service_days.shape[0], dtype=bool)
    has_trips[tt.trip_service] = True
    runs = np.argwhere((tt.service_days == 1) & has_trips[:, np.newaxis])  # (service, day) with trips
    if runs.size == 0:
        return None
    service, day = (int(x) for x in runs[np.argmin(runs[:, 1])])
    trip = int(np.flatnonzero(tt.trip_service == service)[0])
    p = int(tt.trip_pattern[trip])
    first, end = int(tt.pattern_stop_offsets[p]), int(tt.pattern_stop_offsets[p + 1])
    row, row_end = tt.trip_rows(trip)
    base = int(tt.day_base_s[day, tt.pattern_tz[p]])
    return (int(tt.pattern_stops[first]), int(tt.pattern_stops[end - 1]),
            base + int(tt.stop_time_departure[row]), base + int(tt.stop_time_arrival[row_end - 1]))
