"""Carpool legs in journeys, the pure parts (journey_planner.carpool_legs): modes, which chained
itineraries are kept, and prices kept apart from the transit fare."""

from __future__ import annotations

import pytest

from journey_planner.carpool.model import DriverJourney, JourneyType, Price, PriceType, User
from journey_planner.carpool_legs import DEFAULT_MODES, Chained, _best, _total_price, parse_modes
from journey_planner.core import Journey, TransitLeg, WalkLeg

pytestmark = pytest.mark.unit


def _offer(price: Price | None = Price(PriceType.PAYING, 2.4, "EUR"), pickup: int = 1000) -> DriverJourney:
    return DriverJourney("op.example", User("d1", "op.example", "Marc"), 44.98, 4.58, 45.06, 4.83, 1800, pickup,
                         JourneyType.PLANNED, id="j1", available_seats=2, price=price)


def _ride(dep: int, arr: int) -> Journey:
    return Journey((TransitLeg(0, 0, 0, 0, 1, 0, 1, dep, arr),), dep, arr)


def _chained(dep: int, arr: int) -> Chained:
    """An access itinerary: car from ``dep`` (no walk to the pickup), train arriving at ``arr``."""
    return Chained("access", _offer(pickup=dep), dep, dep + 600, (0, 0.0), (0, 0.0), _ride(dep + 900, arr), 0)


def test_modes_parse_a_comma_list_and_refuse_anything_else():
    assert parse_modes(None) == DEFAULT_MODES == {"transit", "walk"}
    assert parse_modes("carpool,transit") == {"carpool", "transit"}
    assert parse_modes("carpool") == {"carpool"}
    for bad in ("", "car", "transit,,walk", "transit,bus"):
        assert parse_modes(bad) is None, bad


def test_a_chained_itinerary_beaten_by_transit_or_by_another_is_dropped():
    transit = [_ride(1000, 5000)]
    kept = _best([_chained(1200, 4000),  # leaves after the train-only journey and arrives before it: kept
                  _chained(800, 3900),  # leaves earlier and arrives earlier than that one: another trade-off
                  _chained(900, 5000),  # the transit journey leaves later and arrives as early: dropped
                  _chained(1100, 4500)], transit, arrive_by=False)  # (1200, 4000) is better both ways: dropped
    assert [(c.departure_s, c.arrival_s) for c in kept] == [(800, 3900), (1200, 4000)]
    walk_only = [Journey((WalkLeg(-1, -1, 1000, 2000, 1000),), 1000, 2000)]
    assert len(_best([_chained(900, 5200)], walk_only, arrive_by=False)) == 1, "a walk is not transit"


def test_the_total_adds_the_drivers_share_to_the_fare_and_never_hides_an_unknown_price():
    fare = {"total_minor": 1230, "currency": "EUR", "is_complete": True}
    assert _total_price(fare, _offer(), True) == {"total_minor": 1470, "currency": "EUR", "is_complete": True}
    assert _total_price(None, _offer(), False) == {"total_minor": 240, "currency": "EUR", "is_complete": True}
    assert _total_price({**fare, "is_complete": False}, _offer(), True)["is_complete"] is False
    unknown = _total_price(fare, _offer(Price(PriceType.UNKNOWN, None, "EUR")), True)
    assert unknown == {"total_minor": 1230, "currency": "EUR", "is_complete": False}
    assert _total_price(fare, _offer(Price(PriceType.FREE)), True) == {"total_minor": 1230, "currency": "EUR",
                                                                       "is_complete": True}
    assert _total_price(fare, _offer(Price(PriceType.PAYING, 3.0, "CHF")), True) is None
    assert _total_price(None, _offer(None), True) is None
