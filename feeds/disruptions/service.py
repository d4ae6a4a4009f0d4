"""The disruptions use cases: declare, change, end, list; and keep the planner in step.

Every change is scoped (the network's authority, `oura.auth.require_authority`: admins act for
any), checked against the served static feed, stored with its audit row, and then the whole
current set (active and upcoming) is converted again (`feeds.disruptions.convert`) and handed to
the sink the assembly gives (the planner's ``set_operator_disruptions``) before the request is
answered, so the next journey request already sees it. A background loop converts again when a
network's static version changes (a new feed may lose a stop, or add runs) and once a day (runs of
open-ended periods are listed a few days ahead). feeds never imports the planner: the sink is a
callable.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from feeds.authorities import Network, Registry
from feeds.disruptions.convert import IndexFinder, RealtimeSet, check_disruption, convert_all
from feeds.disruptions.model import Disruption, DisruptionDraft, parse_draft, parse_patch, spec_ids
from feeds.disruptions.repository import Actor, AuditEntry, DisruptionRepository
from feeds.errors import DisruptionEnded, DisruptionKeyReused, StaticFeedNotReady, UnknownDisruption, \
    UnknownDisruptionReference
from feeds.realtime.model import Alert, ResolvedTripUpdate
from oura.auth import Principal, require_authority
from oura.clock import Clock
from oura.concurrency import run_blocking

__all__ = ["DisruptionService", "DisruptionSink"]

log = logging.getLogger(__name__)

DisruptionSink = Callable[[Sequence[Alert], Sequence[ResolvedTripUpdate], dt.datetime], Awaitable[None]]
SINK_TIMEOUT_S = 30.0  # a sink that never answers (no timetable yet) must not hold requests forever


def _request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _actor(principal: Principal) -> Actor:
    return Actor(principal.key_id, principal.authority_id)


class DisruptionService:
    """Operator disruptions of the registry's networks; ``sink`` receives each converted set."""

    def __init__(self, repository: DisruptionRepository, registry: Registry | None, find_index: IndexFinder | None,
                 clock: Clock, sink: DisruptionSink | None = None) -> None:
        self.repository = repository
        self.registry = registry
        self.find_index: IndexFinder = find_index or (lambda _feed: None)
        self.clock = clock
        self.sink = sink
        self.current = RealtimeSet()
        self.changed_at = dt.datetime.fromtimestamp(0, dt.UTC)  # when ``current`` was last converted
        self._signature: tuple | None = None
        self._lock = asyncio.Lock()

    # --- scoping and checks ------------------------------------------------------------------

    def _network(self, network_id: str, field: str) -> Network:
        network = self.registry.find_network(network_id) if self.registry is not None else None
        if network is None:
            raise UnknownDisruptionReference(field, f"no network {network_id!r} in the registry")
        return network

    async def _check(self, principal: Principal, draft_kind: Any, network_id: str, spec: Mapping[str, Any],
                     period: Any) -> Network:
        first_field = spec_ids(draft_kind, spec)[0][0]
        network = self._network(network_id, first_field)
        require_authority(principal, network.authority_id)  # 403 other_authority before any id check
        index = self.find_index(network_id)
        if index is None:
            raise StaticFeedNotReady(f"the static feed of {network_id} is not indexed yet; retry in a moment")
        await run_blocking(lambda: check_disruption(draft_kind, spec, period, index, now=self.clock.now()))
        return network

    async def _owned(self, principal: Principal, disruption_id: int) -> Disruption:
        disruption = await self.repository.get(disruption_id)
        if disruption is None:
            raise UnknownDisruption(f"no disruption {disruption_id}")
        require_authority(principal, disruption.authority_id)
        return disruption

    # --- use cases -----------------------------------------------------------------------------

    async def create(self, principal: Principal, body: Any, idempotency_key: str | None = None) -> tuple[Disruption, bool]:
        """Declare a disruption; (it, True), or (the first one, False) on a retry with the same key."""
        draft: DisruptionDraft = parse_draft(body)
        network = await self._check(principal, draft.kind, draft.network_id, draft.spec, draft.period)
        idempotency = None if idempotency_key is None else (idempotency_key, _request_hash(body))
        try:
            disruption, created = await self.repository.create(draft, network.authority_id, _actor(principal),
                                                               self.clock.now(), idempotency)
        except KeyError:
            raise DisruptionKeyReused() from None
        if created:
            await self.apply()
        return disruption, created

    async def update(self, principal: Principal, disruption_id: int, body: Any) -> Disruption:
        """Change the period or the texts of a disruption that has not ended."""
        patch = parse_patch(body)
        before = await self._owned(principal, disruption_id)
        if before.ended_at is not None:
            raise DisruptionEnded(f"disruption {disruption_id} ended at {before.ended_at.isoformat()}")
        changed = before.with_patch(patch, self.clock.now())
        await self._check(principal, changed.kind, changed.network_id, changed.spec, changed.period)
        after = await self.repository.update(changed, before, _actor(principal), self.clock.now())
        await self.apply()
        return after

    async def end(self, principal: Principal, disruption_id: int) -> Disruption:
        """End it now (kept and audited); ending an ended disruption changes nothing."""
        before = await self._owned(principal, disruption_id)
        after = await self.repository.end(before, _actor(principal), self.clock.now())
        if after is None:
            return before
        await self.apply()
        return after

    async def get(self, principal: Principal, disruption_id: int) -> Disruption:
        return await self._owned(principal, disruption_id)

    async def list(self, principal: Principal, *, include_ended: bool = False) -> list[Disruption]:
        return await self.repository.list(principal.authority_id, include_ended=include_ended)

    async def list_audit(self, principal: Principal, disruption_id: int) -> list[AuditEntry]:
        await self._owned(principal, disruption_id)
        return await self.repository.list_audit(disruption_id)

    # --- conversion and hand-over ------------------------------------------------------------

    def _network_ids(self) -> Iterable[str]:
        return [] if self.registry is None else [n.id for n in self.registry.list_networks()]

    def signature(self) -> tuple:
        """What a conversion depends on besides the stored rows: each feed's indexed version and the day."""
        versions = []
        for network_id in self._network_ids():
            index = self.find_index(network_id)
            versions.append((network_id, None if index is None else (id(index), index.version)))
        return tuple(versions), self.clock.now().date()

    async def apply(self) -> RealtimeSet:
        """Convert the current disruptions and hand them to the sink (one conversion at a time)."""
        async with self._lock:
            signature = self.signature()
            now = self.clock.now()
            disruptions = await self.repository.list_current(now)
            converted = await run_blocking(lambda: convert_all(disruptions, self.find_index, now=now))
            previous = self.current
            self.current, self.changed_at, self._signature = converted, now, signature
            # nothing to hand and nothing handed before (a start without disruptions): no snapshot
            nothing = not converted.alerts and not converted.updates
            if self.sink is not None and not (nothing and (previous is None or (not previous.alerts and not previous.updates))):
                try:  # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the task's cancellation
                    async with asyncio.timeout(SINK_TIMEOUT_S):
                        await self.sink(converted.alerts, converted.updates, now)
                except TimeoutError:
                    log.warning("disruptions: the planner did not apply them within %.0f s", SINK_TIMEOUT_S)
            return converted

    async def follow(self, interval_s: float = 1.0) -> None:
        """Convert again whenever a feed's indexed version or the day changes (runs forever)."""
        while True:
            try:
                if self.signature() != self._signature:
                    await self.apply()
            except Exception:  # the database may be away for a moment; the next turn retries
                log.exception("disruptions: converting the current set failed")
            await asyncio.sleep(interval_s)
