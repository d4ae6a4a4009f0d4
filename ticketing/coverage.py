"""Ticket coverage: do the contracts already on a medium pay for a journey, and what would the rest cost?

A watched journey that breaks gets alternatives (journey_planner's watches); for each the
traveller wants to know whether the card or wallet in their pocket covers it and, if not, how
much more they would pay. `decide_coverage` is the rule, pure (no I/O, testable as a unit);
`check_coverage` reads the medium and its contracts and applies it (the planner reaches it
through `TicketingService.check_coverage`, handed in by the assembly: the two packages never
import each other).

The rule is the validators' (`ticketing.validation.decide`, called for each leg in journey
order, as if the traveller tapped in at each boarding), plus the alighting stop's areas:

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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from oura.concurrency import run_blocking
from ticketing.fares import FareLeg, price_itinerary
from ticketing.media import get_medium_view
from ticketing.products import Catalogue
from ticketing.repository import ContractRow, MediumRow
from ticketing.validation import ContractState, MediumState, Reason, ValidationEvent, decide

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


def _contract_state(contract: ContractRow) -> ContractState:
    """The contract as the validators judge it."""
    return ContractState(
        contract.contract_id, contract.medium_id, contract.fare_product_id, frozenset(contract.network_ids),
        frozenset(contract.area_ids), contract.valid_from, contract.valid_until, contract.duration_s,
        contract.trips_total, contract.remaining_trips, contract.transfer_window_s, contract.first_used_at,
        contract.last_counted_at, contract.last_route_id,
    )


def _stop_areas(catalogue: Catalogue, stop_id: str | None, area_id: str | None) -> frozenset[str]:
    areas = set(catalogue.stop_areas.get(stop_id or "", ()))
    if area_id:
        areas.add(area_id)
    return frozenset(areas)


def _cover_legs(catalogue: Catalogue, medium: MediumRow, contracts: Sequence[ContractRow],
                legs: Sequence[FareLeg]) -> tuple[list[str], list[int]]:
    """Walk the legs in order, each boarding decided by `ticketing.validation.decide` as a
    validator would (no anti-passback: a journey may ride a route again on purpose): the
    products used (in order, once each) and the uncovered legs."""
    states = {c.contract_id: _contract_state(c) for c in contracts if c.status == "active"}
    holder = MediumState(medium.medium_id, medium.serial, medium.status, medium.replaced_by)
    used: list[str] = []
    uncovered: list[int] = []
    for index, leg in enumerate(legs):
        network_id = leg.network_id or catalogue.find_network_of_route(leg.route_id)
        if network_id is None or leg.departure.tzinfo is None:  # no network, or no instant to judge at
            uncovered.append(index)
            continue
        event = ValidationEvent(f"leg-{index}", medium.serial, leg.departure, leg.from_stop_id or "", leg.route_id,
                                network_id=network_id)
        decision, updated = decide(event, network_id, holder, list(states.values()),
                                   stop_areas=_stop_areas(catalogue, leg.from_stop_id, leg.from_area_id),
                                   anti_passback_s=0, timezone=catalogue.timezone)
        chosen = states.get(decision.contract_id) if decision.accepted else None
        alighting = _stop_areas(catalogue, leg.to_stop_id, leg.to_area_id)
        if chosen is None or (decision.reason is Reason.VALID and chosen.area_ids and alighting
                              and not chosen.area_ids & alighting):
            uncovered.append(index)  # a zone ticket does not take the traveller out of its zones
            continue
        if updated is not None:
            states[updated.contract_id] = updated
        if chosen.fare_product_id not in used:
            used.append(chosen.fare_product_id)
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
    used, uncovered = _cover_legs(catalogue, medium, contracts, legs)
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
