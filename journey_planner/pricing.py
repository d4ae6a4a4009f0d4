"""Prices journeys with ticketing's fare engine: core legs -> `ticketing.fares.FareLeg`.

The planner's one use of ticketing (ARCHITECTURE.md's import table: `ticketing.fares` only). The
assembly hands `PlannerService.set_pricing` a `JourneyPricing` over the catalogue holder, so
legs go from the core's indices to `FareLeg`s here, without a round trip through the API JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from oura.errors import InvalidParameter
from ticketing.fares import FareLeg, price_itinerary

from .compile import Network
from .core import Journey, TransitLeg

__all__ = ["CatalogueSource", "FareCatalogue", "JourneyPricing", "fare_legs"]


class FareCatalogue(Protocol):
    """What pricing reads of ticketing's catalogue besides what the fare engine does."""

    products: Sequence[Any]  # nothing to price with while empty
    rider_categories: Mapping[str, Any]  # rider_category_id -> category


class CatalogueSource(Protocol):
    """Where the current catalogue is read, once per priced journey (ticketing's holder)."""

    @property
    def current(self) -> FareCatalogue: ...


def _local_time(network: Network, stop: int, posix_s: int) -> datetime:
    """The instant in the stop's feed zone, as a fixed UTC offset (what an ISO time carries)."""
    zone = ZoneInfo(network.timezones[network.feed_tz[int(network.stop_feed[stop])]])
    local = datetime.fromtimestamp(posix_s, zone)
    return local.replace(tzinfo=timezone(local.utcoffset()))


def fare_legs(network: Network, journey: Journey) -> list[FareLeg]:
    """The journey's transit legs as the fare engine's input (namespaced ids, aware times)."""
    return [
        FareLeg(
            route_id=str(network.route_ids[int(network.trip_routes[leg.trip])]),
            departure=_local_time(network, leg.from_stop, leg.departure_s),
            arrival=_local_time(network, leg.to_stop, leg.arrival_s),
            from_stop_id=str(network.stop_ids[leg.from_stop]),
            to_stop_id=str(network.stop_ids[leg.to_stop]),
        )
        for leg in journey.legs
        if isinstance(leg, TransitLeg)
    ]


@dataclass(frozen=True)
class JourneyPricing:
    """Prices each journey with the catalogue current at that moment."""

    catalogues: CatalogueSource

    def price(self, network: Network, journey: Journey, rider_category: str | None) -> dict | None:
        """The fare JSON of the journey, or None when it is walking only or no fares are loaded.

        Raises `InvalidParameter` for a rider category the catalogue does not know.
        """
        catalogue = self.catalogues.current
        known = catalogue.rider_categories
        if rider_category is not None and known and rider_category not in known:
            names = ", ".join(sorted(known))
            raise InvalidParameter("rider_category", f"unknown rider category {rider_category!r} (known: {names})")
        legs = fare_legs(network, journey)
        if not legs or not catalogue.products:
            return None
        return price_itinerary(catalogue, legs, rider_category).to_json()
