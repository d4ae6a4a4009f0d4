"""Ticket coverage: do the contracts already on a medium pay for a journey, and what would the rest cost?

A watched journey that breaks gets alternatives (journey_planner's watches); for each the
traveller wants to know whether the card or wallet in their pocket covers it and, if not, how
much more they would pay. `decide_coverage` is the rule, pure (no I/O, testable as a unit);
`check_coverage` reads the medium and its contracts and applies it (the planner reaches it
through `TicketingService.check_coverage`, handed in by the assembly: the two packages never
import each other).

The rule follows the validators' (`ticketing.validation.decide`), leg by leg in journey order,
as if the traveller tapped in at each boarding:

- a deny-listed medium (lost, stolen, replaced) covers nothing: a validator refuses it;
- a contract covers a leg when it is active, on the leg's network, started before the leg's
  departure, not expired then (a pass never used yet starts at its first leg in this journey),
  has a trip left, and its areas (if any) include the leg's boarding and alighting stops (a
  zone ticket does not take the traveller out of its zones, although only the boarding is
  checked at the gate);
- a boarding within a contract's transfer window after its last counted boarding (before the
  journey or earlier in it) on another route is covered by it without counting a trip;
- among usable contracts, unlimited passes first, then the one expiring first (the validators'
  choice), and each counted boarding uses up one trip for the legs after it.

``extra_price_minor`` is what the uncovered legs cost on their own: the fare engine's cheapest
products for those legs only (`ticketing.fares.price_itinerary`), at the best rider category the
medium may travel at (its holder's entitlements valid at the check's time, or the default).
0 when everything is covered; None when a leg no fare rule prices is uncovered (no honest total).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg

from oura.concurrency import run_blocking
from ticketing.fares import FareLeg, price_itinerary
from ticketing.media import get_medium_view
from ticketing.products import Catalogue, get_validity_end
from ticketing.repository import ContractRow, MediumRow

__all__ = ["Coverage", "check_coverage", "decide_coverage"]


@dataclass(frozen=True)
class Coverage:
    """Whether a medium's contracts pay for a journey's fare legs."""

    covered: bool  # every leg is covered
    contracts: tuple[str, ...]  # fare product ids of the medium's contracts that cover a leg, in leg order
    uncovered_legs: tuple[int, ...]  # indices into the legs given
    extra_price_minor: int | None  # the cheapest products for the uncovered legs; None: cannot be priced
    currency: str | None

    def to_json(self) -> dict[str, Any]:
        extra = None if self.extra_price_minor is None else {"total_minor": self.extra_price_minor, "currency": self.currency}
        return {"covered": self.covered, "contracts": list(self.contracts), "uncovered_legs": list(self.uncovered_legs),
                "extra_price": extra}


@dataclass(frozen=True)
class _Usage:
    """A contract as the journey uses it: the fields a boarding changes."""

    contract: ContractRow
    remaining_trips: int | None
    first_used_at: datetime | None
    last_counted_at: datetime | None
    last_route_id: str | None


def _expiry(usage: _Usage, timezone: str, boarding: datetime) -> datetime | None:
    """When the contract stops being valid; a pass never used starts at this boarding."""
    contract = usage.contract
    if contract.valid_until is not None:
        return contract.valid_until
    if contract.duration_s is not None:
        return get_validity_end(usage.first_used_at or boarding, contract.duration_s, timezone)
    return None


def _areas_ok(contract: ContractRow, catalogue: Catalogue, leg: FareLeg) -> bool:
    if not contract.area_ids:
        return True
    allowed = frozenset(contract.area_ids)
    for stop_id, area_id in ((leg.from_stop_id, leg.from_area_id), (leg.to_stop_id, leg.to_area_id)):
        areas = set(catalogue.stop_areas.get(stop_id or "", ()))
        if area_id:
            areas.add(area_id)
        if areas and not areas & allowed:
            return False
    return True


def _transfer_contract(usages: Sequence[_Usage], leg: FareLeg, timezone: str) -> _Usage | None:
    """A contract whose transfer window, opened by its last counted boarding, covers this one."""
    for usage in usages:
        if usage.last_counted_at is None or usage.last_route_id == leg.route_id:
            continue
        since_s = abs((leg.departure - usage.last_counted_at).total_seconds())
        expiry = _expiry(usage, timezone, leg.departure)
        if since_s <= usage.contract.transfer_window_s and (expiry is None or leg.departure < expiry):
            return usage
    return None


def _usable(usages: Sequence[_Usage], catalogue: Catalogue, leg: FareLeg) -> list[_Usage]:
    at = leg.departure
    usable = []
    for usage in usages:
        expiry = _expiry(usage, catalogue.timezone, at)
        if (usage.contract.valid_from <= at and (expiry is None or at < expiry)
                and (usage.remaining_trips is None or usage.remaining_trips > 0)
                and _areas_ok(usage.contract, catalogue, leg)):
            usable.append(usage)
    return usable


def _cover_legs(catalogue: Catalogue, contracts: Sequence[ContractRow], legs: Sequence[FareLeg]
                ) -> tuple[list[str], list[int]]:
    """Walk the legs in order: the products used (in order, once each) and the uncovered legs."""
    usages = {c.contract_id: _Usage(c, c.remaining_trips, c.first_used_at, c.last_counted_at, c.last_route_id)
              for c in contracts if c.status == "active"}
    used: list[str] = []
    uncovered: list[int] = []
    for index, leg in enumerate(legs):
        network_id = leg.network_id or catalogue.find_network_of_route(leg.route_id)
        if network_id is None or leg.departure.tzinfo is None:  # no network, or no instant to judge at
            uncovered.append(index)
            continue
        on_network = [u for u in usages.values() if network_id in u.contract.network_ids]
        chosen = _transfer_contract(on_network, leg, catalogue.timezone)
        if chosen is None:
            candidates = _usable(on_network, catalogue, leg)
            if not candidates:
                uncovered.append(index)
                continue
            far = datetime.max.replace(tzinfo=leg.departure.tzinfo)
            chosen = min(candidates, key=lambda u: (u.remaining_trips is not None,
                                                     _expiry(u, catalogue.timezone, leg.departure) or far,
                                                     u.contract.contract_id))
            usages[chosen.contract.contract_id] = replace(
                chosen,
                remaining_trips=None if chosen.remaining_trips is None else chosen.remaining_trips - 1,
                first_used_at=chosen.first_used_at or leg.departure,
                last_counted_at=leg.departure,
                last_route_id=leg.route_id,
            )
        if chosen.contract.fare_product_id not in used:
            used.append(chosen.contract.fare_product_id)
    return used, uncovered


def _extra_price(catalogue: Catalogue, legs: Sequence[FareLeg], rider_categories: Sequence[str | None]
                 ) -> tuple[int | None, str | None]:
    """The cheapest complete quote for ``legs`` over the rider categories the medium may use."""
    if not legs:
        return 0, catalogue.currency
    best: tuple[int, str] | None = None
    for category in rider_categories:
        quote = price_itinerary(catalogue, legs, category)
        if quote.is_complete and (best is None or quote.total_minor < best[0]):
            best = (quote.total_minor, quote.currency)
    return best if best is not None else (None, None)


def decide_coverage(
    catalogue: Catalogue,
    medium: MediumRow,
    contracts: Sequence[ContractRow],
    legs: Sequence[FareLeg],
    *,
    rider_category_ids: Sequence[str] = (),
) -> Coverage:
    """Which legs the medium's contracts cover, and the price of the others (see the module doc).

    ``rider_category_ids``: the categories the holder is entitled to at the check's time (the
    default category is always tried too)."""
    denied = medium.status != "active" or medium.replaced_by is not None
    used, uncovered = ([], list(range(len(legs)))) if denied else _cover_legs(catalogue, contracts, legs)
    categories = [None, *dict.fromkeys(c for c in rider_category_ids if c != catalogue.default_rider_category_id)]
    extra, currency = _extra_price(catalogue, [legs[i] for i in uncovered], categories)
    return Coverage(covered=not uncovered, contracts=tuple(used), uncovered_legs=tuple(uncovered),
                    extra_price_minor=extra, currency=currency)


async def check_coverage(pool: asyncpg.Pool, catalogue: Catalogue, serial: str, legs: Sequence[FareLeg],
                         at: datetime) -> Coverage:
    """Read the medium ``serial`` (UnknownMedium if there is none) and decide its coverage of
    ``legs``; entitlements are those valid at ``at``. The decision (which may run the fare
    engine's solver) runs in the executor."""
    view = await get_medium_view(pool, serial, at)
    categories = tuple(e.rider_category_id for e in view.entitlements)
    return await run_blocking(decide_coverage, catalogue, view.medium, view.contracts, list(legs),
                              rider_category_ids=categories)
