"""The catalogue and the fare engine on the generated demo region (oura.demo, fares contract).

Prices worked out by hand from the demo's fare rules (oura/demo/fares.py):
- TCL is a "large" urban network: single 2.10 on the card (2.30 on paper), free transfers for an
  hour; day pass 6.50.
- TER prices by distance band; Lyon Part-Dieu - Riom is band 7 (150-200 km): single
  1.60 + 0.115 x (150 + 200) / 2 = 21.725, rounded to the ten cents: 21.70. TER day pass 36.00.
- The regional "oura-day" pass covers every network for 24 h: 39.00 adult, 19.50 youth.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ticketing.fares import CoverKind, FareLeg, price_itinerary, quote
from ticketing.products import get_calendar_days
from ticketing.service import network_authorities

PARIS = ZoneInfo("Europe/Paris")
DAY = datetime(2026, 3, 3, 0, 0, tzinfo=PARIS)


def leg(route, start_h, minutes, frm=None, to=None):
    start = DAY + timedelta(hours=start_h)
    return FareLeg(route_id=route, departure=start, arrival=start + timedelta(minutes=minutes), from_stop_id=frm, to_stop_id=to)


def test_demo_catalogue_loads_every_network_and_the_combined_products(demo_catalogue):
    (catalogue, issues), registry = demo_catalogue
    assert issues == ()
    owners = network_authorities(registry)
    assert set(catalogue.network_feed) == set(owners)  # each feed declares its registry network id
    monthly = catalogue.find_offer("rail-tcl-monthly", "adult", "oura-card")
    assert monthly.price_minor == 13855 and monthly.is_combined
    assert sum(s for _, s in monthly.shares_permille) == 1000 and set(monthly.network_ids) == {"ter", "tcl"}
    assert monthly.validity.duration_s == 30 * 86400 and monthly.validity.trips is None
    # Its 30 days are calendar days of the region's zone (the registry's), unlike a 24-hour pass.
    assert catalogue.timezone == registry.timezone
    assert get_calendar_days(monthly.validity.duration_s) == 30
    assert get_calendar_days(catalogue.find_offer("oura-day", "adult", "oura-card").validity.duration_s) is None
    assert catalogue.find_offer("tcl:10-trips", "adult", "oura-card").validity.trips == 10
    assert catalogue.find_offer("tcl:single", "adult", "oura-card").validity.transfer_window_s == 3600
    assert all(owner in {a.id for a in registry.authorities} for owner in owners.values())


def test_demo_urban_transfer_and_paper(demo_catalogue):
    (catalogue, _), _ = demo_catalogue
    legs = [leg("tcl:A", 8, 15), leg("tcl:B", 8.5, 15)]
    assert quote(catalogue, legs).total_minor == 210
    assert quote(catalogue, legs[:1], "youth", "paper").total_minor == 230


def test_demo_rail_single_by_distance_band(demo_catalogue):
    (catalogue, _), _ = demo_catalogue
    result = quote(catalogue, [leg("ter:L1", 8, 120, "ter:lyon-part-dieu-q1", "ter:riom-q2")], "adult", "oura-card")
    assert result.total_minor == 2170
    assert [p.fare_product_id for p in result.products] == ["ter:single-b07"]


def test_demo_day_with_rail_and_urban_legs_takes_the_regional_day_pass(demo_catalogue):
    # Singles: 2.10 + 21.70 + 21.70 + 2.10 = 47.60; TER day pass 36.00 + 2 x 2.10 = 40.20;
    # the regional oura-day pass covers the four legs: 39.00.
    (catalogue, _), _ = demo_catalogue
    legs = [
        leg("tcl:A", 8, 20),
        leg("ter:L1", 8 + 40 / 60, 120, "ter:lyon-part-dieu", "ter:riom"),
        leg("ter:L1", 17, 120, "ter:riom", "ter:lyon-part-dieu"),
        leg("tcl:A", 19 + 20 / 60, 20),
    ]
    result = price_itinerary(catalogue, legs, "adult")
    assert (result.total_minor, result.method) == (3900, "cp-sat")
    (product,) = result.products
    assert product.fare_product_id == "oura-day" and product.kind is CoverKind.PASS and product.leg_indices == (0, 1, 2, 3)
    assert price_itinerary(catalogue, legs, "youth").total_minor == 1950


def test_load_catalogue_from_the_registry_matches_the_feed_by_feed_build(demo_region, demo_catalogue):
    from feeds.authorities import load_registry
    from ticketing.catalogue import load_catalogue

    (expected, _), _ = demo_catalogue
    catalogue, issues = load_catalogue(load_registry(demo_region / "registry.toml"))
    assert issues == ()
    assert catalogue.products == expected.products and catalogue.network_feed == expected.network_feed
