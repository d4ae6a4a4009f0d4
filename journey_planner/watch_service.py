"""Watched journeys, the async part: PostgreSQL store, re-checks after each snapshot, SSE fan-out,
webhooks and expiry (the pure logic is `journey_planner.watches`).

- A watch is a row of ``watches`` and its events rows of ``watch_events`` (SQL in
  watch_queries.sql); the live ones are loaded back into the `WatchIndex` at start-up.
- The planner calls `WatchService.on_snapshot` after each publication (a snapshot listener: it only
  notes the pair and wakes the re-check task). The task diffs the oldest unprocessed snapshot with
  the latest, re-checks only the watches whose runs or stops changed (in the executor), plans the
  alternatives of the broken ones (executor, one job for all), asks ticketing's coverage for each
  alternative of a watch with a medium serial, then records and sends the events.
- An event goes to the database first (its id: the watch's next), then to the SSE subscribers'
  queues, then to the webhook in a background task (5 s timeout, two retries), which never holds
  up the next re-check.
- Expiry: a watch expires at its journey's planned arrival plus a margin; the expiry task sends
  its ``expired`` event and drops it from the index; expired rows are deleted a day later.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import asyncpg

from oura.clock import Clock
from oura.concurrency import cancel_and_wait, run_blocking
from oura.db.queries import QueryFile

from .core import Journey, Place, TransitLeg, WalkLeg
from .journeys import resolve_journey_place
from .places import WalkingRules
from .itineraries import decode_itinerary_id, encode_itinerary_id, itinerary_ref
from .mapping import Mapper
from .pricing import fare_legs
from .refresh import itinerary_check_json
from .service import PlannerService
from .snapshot import Snapshot
from .errors import InvalidItineraryId, ItineraryOver, TimetableNotReady, UnknownWatch
from .watches import (
    BROKEN, EXPIRED, RESTORED, Transition, Watch, WatchIndex, destination_text, diff_snapshots, first_leg_times,
    locate, plan_alternatives, reason_of, recheck, run_check,
)

__all__ = ["TicketCoverage", "WatchEvent", "WatchService", "WatchStats"]

log = logging.getLogger(__name__)

EXPIRY_MARGIN = dt.timedelta(hours=1)  # a watch lives until its journey's planned arrival + this
KEEP_EXPIRED = dt.timedelta(days=1)  # expired rows are deleted after this
EXPIRY_EVERY_S = 30.0  # how often the expiry task looks
WEBHOOK_TIMEOUT_S = 5.0
WEBHOOK_RETRY_DELAYS_S = (1.0, 4.0)  # two retries
REPLAY_LIMIT = 1000  # at most this many stored events replayed to one SSE client


class TicketCoverage(Protocol):
    """Ticketing's coverage check (`TicketingService.check_coverage`, handed in by the assembly):
    whether the contracts on the medium ``serial`` cover ``legs`` (`ticketing.fares.FareLeg`) at
    ``at``; the answer has ``to_json()``."""

    async def __call__(self, serial: str, legs: Sequence[Any], at: dt.datetime) -> Any: ...


@dataclass(frozen=True)
class WatchEvent:
    """One event of a watch, as sent (SSE: ``id``, ``event``, ``data``)."""

    watch_id: str
    event_id: int
    kind: str
    data: str  # JSON text

    def to_sse(self) -> bytes:
        return f"id: {self.event_id}\nevent: {self.kind}\ndata: {self.data}\n\n".encode()


@dataclass
class WatchStats:
    """What the re-checks did (for logs, tests and the bench)."""

    snapshots: int = 0
    checked: int = 0
    broken: int = 0
    restored: int = 0
    expired: int = 0
    webhook_failures: int = 0


_q = QueryFile(Path(__file__).with_name("watch_queries.sql"))


@dataclass
class WatchService:
    planner: PlannerService
    pool: asyncpg.Pool
    clock: Clock
    http: aiohttp.ClientSession | None = None
    coverage: TicketCoverage | None = None
    walking: WalkingRules = WalkingRules()  # how alternatives reach a coordinate destination ([planner])
    index: WatchIndex = field(default_factory=WatchIndex)
    stats: WatchStats = field(default_factory=WatchStats)
    expiry_every_s: float = EXPIRY_EVERY_S
    _subscribers: dict[str, set[asyncio.Queue]] = field(default_factory=dict)
    _pending: tuple[Snapshot | None, Snapshot] | None = None  # (oldest previous, latest published)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _background: set[asyncio.Task] = field(default_factory=set)
    _stopped: bool = False
    _emit_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def set_coverage(self, coverage: TicketCoverage | None) -> None:
        """Check alternatives against the tickets held on the watch's medium with this."""
        self.coverage = coverage

    # --- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the live watches, follow the planner's snapshots, start the re-check and expiry tasks."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_q("list_live_watches"))
        for row in rows:
            watch = _watch_of(row)
            if watch is not None:
                self.index.add(watch)
        self._idle.set()
        self.planner.add_snapshot_listener(self.on_snapshot)
        self._tasks = [asyncio.create_task(self._recheck_loop()), asyncio.create_task(self._expiry_loop())]
        log.info("watches loaded", extra={"watches": len(self.index)})

    async def stop(self) -> None:
        """Stop the tasks (the planner keeps calling `on_snapshot`, which then does nothing)."""
        self._stopped = True
        for task in [*self._tasks, *self._background]:
            await cancel_and_wait(task)
        self._tasks, self._background = [], set()

    # --- the API's use cases -----------------------------------------------------------------
    async def create(self, itinerary_id: str, medium_serial: str | None, webhook_url: str | None) -> dict:
        """A new watch of ``itinerary_id`` (raises InvalidItineraryId, ItineraryOver)."""
        ref = decode_itinerary_id(itinerary_id)
        snapshot = self._snapshot()
        check = await run_blocking(run_check, snapshot, ref)
        now = self.clock.now()
        _, arrival_s = first_leg_times(check.legs)
        if arrival_s is None:
            arrival_s = int(now.timestamp())
        expires_at = dt.datetime.fromtimestamp(arrival_s, dt.UTC) + EXPIRY_MARGIN
        if expires_at <= now:
            raise ItineraryOver()
        watch = Watch(secrets.token_urlsafe(24), itinerary_id, ref, expires_at, now, medium_serial, webhook_url)
        if not check.ok:
            watch.status, watch.reason = BROKEN, reason_of(check)
        async with self.pool.acquire() as conn:
            await conn.execute(_q("insert_watch"), watch.id, itinerary_id, medium_serial, webhook_url, now,
                               expires_at, watch.status, list(watch.reason))
        self.index.add(watch)
        return self._watch_json(watch, snapshot, check)

    async def describe(self, watch_id: str) -> dict:
        """The watch and its itinerary's current check (expired ones too, while kept)."""
        watch = self.index.find(watch_id)
        if watch is None:
            async with self.pool.acquire() as conn:
                row = await conn.fetchrow(_q("find_watch"), watch_id)
            watch = _watch_of(row) if row is not None else None
            if watch is None:
                raise UnknownWatch()
        snapshot = self._snapshot()
        check = await run_blocking(run_check, snapshot, watch.ref)
        return self._watch_json(watch, snapshot, check)

    async def delete(self, watch_id: str) -> None:
        async with self.pool.acquire() as conn:
            deleted = await conn.execute(_q("delete_watch"), watch_id)
        self.index.remove(watch_id)
        if deleted.endswith(" 0"):
            raise UnknownWatch()
        for queue in self._subscribers.pop(watch_id, set()):
            queue.put_nowait(None)  # the stream ends

    async def subscribe(self, watch_id: str, after_event_id: int) -> tuple[list[WatchEvent], asyncio.Queue, bool]:
        """(the stored events after ``after_event_id``, a queue of the next ones, whether the watch
        is over: expired, nothing more will come). Unsubscribe with `unsubscribe`."""
        queue: asyncio.Queue = asyncio.Queue()
        self._subscribers.setdefault(watch_id, set()).add(queue)  # before reading: no event falls between
        try:
            async with self.pool.acquire() as conn:
                row = await conn.fetchrow(_q("find_watch"), watch_id)
                if row is None:
                    raise UnknownWatch()
                events = await conn.fetch(_q("list_events_after"), watch_id, after_event_id, REPLAY_LIMIT)
        except BaseException:
            self.unsubscribe(watch_id, queue)
            raise
        replay = [WatchEvent(watch_id, r["event_id"], r["kind"], r["data"]) for r in events]
        return replay, queue, row["status"] == EXPIRED

    def unsubscribe(self, watch_id: str, queue: asyncio.Queue) -> None:
        queues = self._subscribers.get(watch_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[watch_id]

    def _snapshot(self) -> Snapshot:
        if self.planner.holder is None:
            raise TimetableNotReady()
        return self.planner.get_snapshot()

    def _watch_json(self, watch: Watch, snapshot: Snapshot, check) -> dict:
        return {
            "id": watch.id, "itinerary_id": watch.itinerary_id, "status": watch.status,
            "created_at": watch.created_at.isoformat(), "expires_at": watch.expires_at.isoformat(),
            "medium_serial": watch.medium_serial is not None, "webhook": watch.webhook_url is not None,
            "last_event_id": watch.last_event_id, "events_url": f"/v1/watches/{watch.id}/events",
            "check": itinerary_check_json(snapshot, watch.ref, check),
        }

    # --- re-checks after each snapshot ---------------------------------------------------------
    def on_snapshot(self, previous: Snapshot | None, published: Snapshot) -> None:
        """The planner's snapshot listener (on the event loop, quick): note and wake the task."""
        if self._stopped:
            return
        oldest = self._pending[0] if self._pending is not None else previous
        self._pending = (oldest, published)
        self._idle.clear()
        self._wake.set()

    async def wait_idle(self) -> None:
        """Until every snapshot published so far has been handled (tests, bench)."""
        await self._idle.wait()

    async def _recheck_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, None
            if pending is not None:
                try:
                    await self.handle_snapshots(*pending)
                except Exception:  # the watches keep their state; the next snapshot re-checks
                    log.exception("re-checking watches failed")
            if self._pending is None:
                self._idle.set()

    async def handle_snapshots(self, previous: Snapshot | None, published: Snapshot) -> list[Transition]:
        """Re-check the watches ``published`` changed, and send the events of those that broke or
        were restored; returns the transitions. The first publication of this process (previous
        None, after a restart) restores nothing: its realtime data may simply not have arrived yet,
        and a traveller told "restored" then "broken" again is worse off than one told nothing."""
        changes = diff_snapshots(previous, published)
        affected = self.index.list_affected(changes)
        self.stats.snapshots += 1
        if not affected:
            return []
        transitions, checked = await run_blocking(recheck, published, affected)
        if previous is None:
            transitions = [t for t in transitions if t.kind != RESTORED]
        self.stats.checked += checked
        now = self.clock.now()
        broken = [t for t in transitions if t.kind == BROKEN]
        planned = await run_blocking(self.build_alternatives, published, broken, int(now.timestamp()))
        for transition in transitions:
            watch = transition.watch
            if self.index.find(watch.id) is not watch:
                continue  # deleted or expired meanwhile
            data: dict[str, Any] = {
                "watch_id": watch.id, "itinerary_id": watch.itinerary_id, "at": now.isoformat(),
                "snapshot_version": published.version,
                "problems": [{"code": p.code, "leg_index": p.leg_index, "detail": p.detail}
                             for p in transition.check.problems],
                "position": None, "alternatives": [],
            }
            if transition.kind == BROKEN:
                position, alternatives = planned[watch.id]
                data["position"] = position
                data["alternatives"] = await self._with_coverage(watch, published.network(True), alternatives, now)
                self.stats.broken += 1
            else:
                self.stats.restored += 1
            await self._emit(watch, transition.kind, reason_of(transition.check), data)
        return transitions

    def build_alternatives(self, snapshot: Snapshot, broken: Sequence[Transition],
                           now_s: int) -> dict[str, tuple[dict, list[tuple[Journey, dict]]]]:
        """watch id -> (the traveller's position JSON, [(journey, its itinerary JSON)]) for each
        broken watch (sync: one executor job). Watches in the same place with the same destination
        share one search."""
        network = snapshot.network(True)
        lookups = self.planner.lookups_for(network)

        def resolve(text: str) -> Place:
            return resolve_journey_place(self.planner, network, "to", text, lookups, self.walking)
        mapper = Mapper(network, snapshot.overlay, True, self.planner.pricing)
        searches: dict[tuple, list[tuple[Journey, dict]]] = {}
        out = {}
        for transition in broken:
            watch = transition.watch
            position = locate(network, watch.ref, transition.check, now_s)
            key = (position.kind, position.stops, position.offsets_s, destination_text(watch.ref))
            if key not in searches:
                _, journeys = plan_alternatives(snapshot, watch.ref, position, now_s, resolve)
                searches[key] = [_alternative_json(network, mapper, j, watch.ref.destination) for j in journeys]
            out[watch.id] = (position.to_json(network), searches[key])
        return out

    async def _with_coverage(self, watch: Watch, network, alternatives: list[tuple[Journey, dict]],
                             now: dt.datetime) -> list[dict]:
        """Each alternative with whether the medium's tickets cover it (null without a serial);
        ``network`` is the one the alternatives were planned on (their indices are its own)."""
        out = []
        for journey, itinerary in alternatives:
            coverage = None
            if watch.medium_serial and self.coverage is not None:
                try:
                    answer = await self.coverage(watch.medium_serial, fare_legs(network, journey), now)
                    coverage = answer.to_json()
                except Exception as error:  # noqa: BLE001  (an alternative without coverage is still one)
                    log.warning("ticket coverage failed: %s", error)
            out.append({"itinerary": itinerary, "coverage": coverage})
        return out

    # --- events ---------------------------------------------------------------------------------
    async def _emit(self, watch: Watch, kind: str, reason: tuple[str, ...], data: dict) -> WatchEvent:
        """Record the event (its id: the watch's next) and the watch's state, then send it."""
        async with self._emit_lock:  # the re-check and expiry tasks: one event id each
            event_id = watch.last_event_id + 1
            status = {BROKEN: BROKEN, RESTORED: "ok", EXPIRED: EXPIRED}[kind]
            data = {"event": kind, "event_id": event_id, **data}
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            async with self.pool.acquire() as conn:
                await conn.execute(_q("record_event"), watch.id, event_id, status, list(reason), kind, data,
                                   self.clock.now())
            watch.last_event_id, watch.status, watch.reason = event_id, status, reason if kind == BROKEN else ()
        event = WatchEvent(watch.id, event_id, kind, text)
        for queue in list(self._subscribers.get(watch.id, ())):
            queue.put_nowait(event)
        if watch.webhook_url:
            task = asyncio.create_task(self._post_webhook(watch.webhook_url, text))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return event

    async def _post_webhook(self, url: str, text: str) -> None:
        """POST the event's JSON to the watch's webhook (5 s timeout, two retries)."""
        if self.http is None:
            return
        timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)
        for delay in (0.0, *WEBHOOK_RETRY_DELAYS_S):
            await asyncio.sleep(delay)
            try:
                async with self.http.post(url, data=text, timeout=timeout,
                                          headers={"Content-Type": "application/json"}) as response:
                    if response.status < 400:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
        self.stats.webhook_failures += 1
        log.warning("webhook gave up after retries", extra={"url": url})

    # --- expiry ---------------------------------------------------------------------------------
    async def expire_due(self) -> int:
        """Send the expired event of every watch past its expiry; delete old expired rows."""
        now = self.clock.now()
        expired = self.index.pop_expired(now)
        for watch in expired:
            data = {"watch_id": watch.id, "itinerary_id": watch.itinerary_id, "at": now.isoformat(),
                    "problems": [], "position": None, "alternatives": []}
            await self._emit(watch, EXPIRED, (), data)
            for queue in self._subscribers.pop(watch.id, set()):
                queue.put_nowait(None)
        self.stats.expired += len(expired)
        async with self.pool.acquire() as conn:
            await conn.execute(_q("delete_expired_before"), now - KEEP_EXPIRED)
        return len(expired)

    async def _expiry_loop(self) -> None:
        while True:
            try:
                await self.expire_due()
            except Exception:  # retried at the next tick
                log.exception("expiring watches failed")
            await asyncio.sleep(self.expiry_every_s)


def _alternative_json(network, mapper: Mapper, journey: Journey, destination: str | None) -> tuple[Journey, dict]:
    """An alternative as /v1/journeys renders an itinerary (its id too). The time to reach a next
    stop on board is no walk: the core's access leg from the multi-stop origin is dropped."""
    legs = journey.legs
    if legs and isinstance(legs[0], WalkLeg) and legs[0].from_stop < 0:
        legs = legs[1:]
    rides = [leg for leg in legs if isinstance(leg, TransitLeg)]
    start = legs[0].departure_s if legs else journey.departure_s
    trimmed = Journey(tuple(legs), start, journey.arrival_s)
    ref = itinerary_ref(network, trimmed, None, destination)
    itinerary = {"id": encode_itinerary_id(ref)} | mapper.journey_json(trimmed)
    itinerary["constraints"] = []
    if not rides:
        itinerary["fare"] = None
    return trimmed, itinerary


def _watch_of(row) -> Watch | None:
    """A stored watch (None when its itinerary id no longer decodes: skipped, logged)."""
    try:
        ref = decode_itinerary_id(row["itinerary_id"])
    except InvalidItineraryId:
        log.warning("a stored watch has an unreadable itinerary id", extra={"watch_id": row["watch_id"]})
        return None
    return Watch(row["watch_id"], row["itinerary_id"], ref, row["expires_at"], row["created_at"],
                 row["medium_serial"], row["webhook_url"], row["status"], tuple(row["reason"]),
                 row["last_event_id"])
