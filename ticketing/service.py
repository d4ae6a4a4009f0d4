"""The ticketing service object: what the HTTP layer (and the NFC gateway) call.

It holds the dependencies of the use cases (pool, clock, payment provider, the network ->
authority map) and the current `Catalogue` behind a `CatalogueHolder`: the catalogue is
immutable and replaced whole by `CatalogueHolder.swap` when feeds are re-ingested, so a request
reads ``holder.current`` once and works on one consistent catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from oura.clock import Clock
from ticketing import clearing, commissions, coverage, media, orders, reconciliation, refunds, selling, validation
from ticketing.fares import FareLeg
from ticketing.payments import PaymentProvider
from ticketing.products import Catalogue
from ticketing.repository import Q
from ticketing.requests import RefundRequest, SaleRequest

__all__ = ["CatalogueHolder", "TicketingService", "network_authorities"]


class CatalogueHolder:
    """One reference to the current catalogue, swapped atomically."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._current = catalogue

    @property
    def current(self) -> Catalogue:
        return self._current

    def swap(self, catalogue: Catalogue) -> Catalogue:
        """Publish a new catalogue; returns the previous one."""
        previous, self._current = self._current, catalogue
        return previous


def network_authorities(registry: Any) -> dict[str, str]:
    """network_id -> authority_id from a `feeds.authorities.Registry` (or anything shaped so)."""
    return {network.id: authority.id for authority in registry.authorities for network in authority.networks}


@dataclass
class TicketingService:
    pool: asyncpg.Pool
    catalogues: CatalogueHolder
    network_authority: Mapping[str, str]
    provider: PaymentProvider
    clock: Clock
    lock_contracts: bool = True  # debug flag: False only in the race-demonstration test
    race_delay_s: float = 0.0  # widens the validation read-modify-write window; tests only
    abandon_after_s: float = reconciliation.DEFAULT_ABANDON_AFTER_S  # a pending order older than this is abandoned
    reconcile_every_s: float = 300.0  # period of the app's reconciliation task; 0 disables it
    retention_s: float | None = None  # identifying data's life: older events are stored without serial (None: kept until the purge)

    @property
    def catalogue(self) -> Catalogue:
        return self.catalogues.current

    def authorities_of(self, network_ids: Iterable[str]) -> set[str]:
        return {self.network_authority[n] for n in network_ids if n in self.network_authority}

    async def sell(self, *, sales_point_key_id: str, selling_authority_id: str, request: SaleRequest):
        return await selling.sell(
            self.pool, self.catalogue, self.network_authority, self.provider,
            sales_point_key_id=sales_point_key_id, selling_authority_id=selling_authority_id,
            request=request, now=self.clock.now(),
        )

    async def refund(self, *, order_id: int, actor_key_id: str, authority_id: str | None,
                     request: RefundRequest = RefundRequest()):
        return await refunds.refund(self.pool, self.provider, order_id=order_id, actor_key_id=actor_key_id,
                                    authority_id=authority_id, now=self.clock.now(), request=request)

    async def reconcile_pending(self, abandon_after_s: float | None = None) -> reconciliation.Reconciliation:
        """Close the orders left pending longer than ``abandon_after_s`` (default: the service's)."""
        return await reconciliation.reconcile_pending(self.pool, self.provider, self.clock.now(),
                                                      self.abandon_after_s if abandon_after_s is None else abandon_after_s)

    async def list_commission_rates(self, *, authority_id: str | None):
        return await commissions.list_commission_rates(self.pool, authority_id=authority_id)

    async def set_commission_rate(self, *, selling_authority_id: str, commission_permille: int, actor_key_id: str):
        return await commissions.set_commission_rate(
            self.pool, self.network_authority.values(), selling_authority_id=selling_authority_id,
            commission_permille=commission_permille, actor_key_id=actor_key_id, now=self.clock.now())

    async def delete_commission_rate(self, *, selling_authority_id: str, actor_key_id: str):
        return await commissions.delete_commission_rate(
            self.pool, self.network_authority.values(), selling_authority_id=selling_authority_id,
            actor_key_id=actor_key_id, now=self.clock.now())

    async def get_order(self, order_id: int):
        return await orders.get_order_view(self.pool, order_id)

    async def issue_medium(self, *, request: media.MediumRequest, authority_id: str, actor_key_id: str | None):
        return await media.issue_medium(self.pool, request=request, authority_id=authority_id, actor_key_id=actor_key_id,
                                        now=self.clock.now())

    async def get_medium(self, serial: str):
        return await media.get_medium_view(self.pool, serial, self.clock.now())

    async def check_coverage(self, serial: str, legs: Sequence[FareLeg], at: datetime) -> coverage.Coverage:
        """Whether the contracts on medium ``serial`` pay for ``legs`` (a journey's fare legs), and the
        extra price of the legs they do not cover (`ticketing.coverage`); UnknownMedium if no such medium."""
        return await coverage.check_coverage(self.pool, self.catalogue, serial, legs, at)

    async def record_entitlement(self, *, serial: str, request: media.EntitlementRequest, authority_id: str,
                                 actor_key_id: str | None):
        return await media.record_entitlement(self.pool, serial=serial, request=request, authority_id=authority_id,
                                              actor_key_id=actor_key_id, now=self.clock.now())

    async def declare_medium(self, *, serial: str, reason: str, actor_key_id: str | None, authority_id: str | None,
                             proof: media.HolderProof = media.HolderProof()):
        return await media.declare_medium(self.pool, serial=serial, reason=reason, actor_key_id=actor_key_id,
                                          authority_id=authority_id, now=self.clock.now(), proof=proof)

    async def reconstitute_medium(self, *, serial: str, actor_key_id: str | None, authority_id: str,
                                  proof: media.HolderProof = media.HolderProof()):
        return await media.reconstitute_medium(self.pool, serial=serial, actor_key_id=actor_key_id,
                                               authority_id=authority_id, now=self.clock.now(), proof=proof)

    async def validate(self, *, device_key_id: str, device_authority_id: str, events):
        return await validation.validate_batch(
            self.pool, self.catalogue, self.network_authority,
            device_key_id=device_key_id, device_authority_id=device_authority_id, events=events,
            now=self.clock.now(), lock_contracts=self.lock_contracts, race_delay_s=self.race_delay_s,
            retention_s=self.retention_s,
        )

    async def list_denylist(self, since: int, limit: int):
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(Q.list_denylist_since, since, limit)
            version = await conn.fetchval(Q.get_denylist_version)
        return version, [dict(r) for r in rows]

    async def clearing_report(self, period: str, authority_id: str | None):
        start, end = clearing.parse_period(period, self.catalogue.timezone)  # the region's months
        async with self.pool.acquire() as conn:
            return await clearing.get_clearing_report(conn, start, end, authority_id=authority_id)
