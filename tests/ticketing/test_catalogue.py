"""Catalogue building from real Fares v2 files and from hand-written regional files."""

from __future__ import annotations

import pytest

from tests.ticketing.conftest import write_feed
from ticketing.catalogue import CatalogueIssueCode, build_catalogue, load_regional_fares
from ticketing.products import FareMediaType, format_minor, to_minor_units


def test_money_is_exact_minor_units():
    assert to_minor_units("2.10", "EUR") == 210
    assert to_minor_units("0.6", "USD") == 60
    assert to_minor_units("150", "JPY") == 150
    assert to_minor_units("1.005", "EUR") is None  # would need rounding: refused
    assert to_minor_units("abc", "EUR") is None
    assert format_minor(210, "EUR") == "2.10"
    assert format_minor(-5, "EUR") == "-0.05"


@pytest.mark.realdata
def test_transcollines_products_areas_and_timeframes(transcollines):
    catalogue, issues = build_catalogue({"transcollines": transcollines})
    assert issues == ()
    assert catalogue.currency == "CAD"
    prices = {p.fare_product_id: p.price_minor for p in catalogue.products}
    assert prices == {"transcollines:PS-500": 500, "transcollines:PS-2000": 2000, "transcollines:PS-0": 0}
    # Routes carry network REG in routes.txt; the network is namespaced (REG != feed id).
    assert catalogue.find_network_of_route("transcollines:910") == "transcollines:REG"
    assert catalogue.stop_areas["transcollines:F101-60"] == frozenset({"transcollines:PNT"})
    rule_set = catalogue.find_rule_set("transcollines")
    assert rule_set is not None and rule_set.timezone == "America/Montreal"
    (timeframe,) = rule_set.timeframes
    # Every day from 5 January to 23 August 2026: 27 + 28 + 31 + 30 + 31 + 30 + 31 + 23 days.
    assert len(timeframe.service_dates) == 231
    assert min(timeframe.service_dates).isoformat() == "2026-01-05"
    assert max(timeframe.service_dates).isoformat() == "2026-08-23"
    # PS-2000 only prices Pontiac <-> Gatineau: its validity is those two areas.
    ps2000 = catalogue.find_offer("transcollines:PS-2000", None, None)
    assert ps2000.validity.area_ids == frozenset({"transcollines:PNT", "transcollines:GAT"})


@pytest.mark.realdata
def test_ctran_media_rider_categories_and_offers(ctran):
    catalogue, issues = build_catalogue({"ctran": ctran})
    assert issues == ()
    assert catalogue.default_rider_category_id == "ADULT"
    assert catalogue.fare_media["2"].fare_media_type is FareMediaType.TRANSIT_CARD
    assert len(catalogue.list_offers("ctran:ADULT_LOCAL_SINGLE_RIDE")) == 5
    youth = catalogue.list_products(network_id="ctran:LOCAL", rider_category_id="YOUTH")
    assert {p.fare_media_id for p in youth} == {"0", "2", "3", "4"}  # no paper ticket for youth
    assert catalogue.find_offer("ctran:YOUTH_LOCAL_SINGLE_RIDE", "YOUTH", "1") is None
    adult = catalogue.find_offer("ctran:ADULT_LOCAL_SINGLE_RIDE", "ADULT", "2")
    assert adult.price_minor == 125 and adult.currency == "USD"
    # The transfer rule's 9000 s window becomes the single ride's free-transfer window.
    assert adult.validity.transfer_window_s == 9000 and adult.validity.trips == 1


def test_regional_combined_products_shares_and_issues(tmp_path):
    folder = write_feed(
        tmp_path / "regional",
        {
            "networks": "network_id,network_name\nter,TER\ntcl,TCL",
            "fare_products": """
                fare_product_id,fare_product_name,rider_category_id,fare_media_id,amount,currency,duration_s,trips
                rail-tcl-day,TER+TCL day,,oura-card,12.00,EUR,86400,
                rail-tcl-10,TER+TCL 10 trips,,oura-card,50.00,EUR,,10
                bad,Bad,,,1.234,EUR,,
            """,
            "fare_leg_rules": """
                leg_group_id,network_id,fare_product_id
                combined,ter,rail-tcl-day
                combined,tcl,rail-tcl-day
                combined10,ter,rail-tcl-10
                combined10,tcl,rail-tcl-10
            """,
            "fare_product_networks": """
                fare_product_id,network_id,share_permille
                rail-tcl-day,ter,700
                rail-tcl-day,tcl,300
            """,
        },
    )
    catalogue, issues = build_catalogue({}, regional=load_regional_fares(folder))
    day = catalogue.find_offer("rail-tcl-day", "adult", "oura-card")
    assert day.is_combined and day.network_ids == ("tcl", "ter")
    assert dict(day.shares_permille) == {"ter": 700, "tcl": 300}
    assert day.validity.duration_s == 86400 and day.validity.trips is None
    ten = catalogue.find_offer("rail-tcl-10", None, None)
    assert ten.validity.trips == 10 and dict(ten.shares_permille) == {"tcl": 500, "ter": 500}
    codes = sorted(i.code for i in issues)
    assert codes == [CatalogueIssueCode.BAD_AMOUNT, CatalogueIssueCode.DEFAULT_SHARES]
    assert catalogue.find_offer("bad", None, None) is None
    assert catalogue.find_offer("rail-tcl-day", None, "paper") is None
