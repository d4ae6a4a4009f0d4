"""The fare engine on real Fares v2 feeds and on a hand-written two-network region.

Every expected price is worked out by hand in the test from the rows of the files it reads.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.ticketing.conftest import build_region
from ticketing.catalogue import build_catalogue
from ticketing.fares import CoverKind, FareIssueCode, FareLeg, price_itinerary, quote

MONTREAL = ZoneInfo("America/Montreal")
PACIFIC = ZoneInfo("US/Pacific")
PARIS = ZoneInfo("Europe/Paris")


def at(zone: ZoneInfo, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def leg(route: str, start: datetime, minutes: int, **kw) -> FareLeg:
    return FareLeg(route_id=route, departure=start, arrival=start + timedelta(minutes=minutes), **kw)


# -- transcollines: areas and timeframes ---------------------------------------------------------


@pytest.fixture(scope="module")
def tc_catalogue(transcollines):
    return build_catalogue({"transcollines": transcollines})[0]


@pytest.mark.realdata
def test_transcollines_pontiac_to_gatineau_is_20_cad(tc_catalogue):
    # fare_leg_rules: REG-PNT-GAT, from PNT to GAT in timeframe GT-2026 -> PS-2000 = 20.00 CAD.
    start = at(MONTREAL, "2026-03-10T07:15:00")
    result = quote(tc_catalogue, [leg("transcollines:910", start, 60, from_stop_id="transcollines:F101-60", to_stop_id="transcollines:F401-10")])
    assert (result.total_minor, result.currency, result.method) == (2000, "CAD", "direct")
    assert [p.fare_product_id for p in result.products] == ["transcollines:PS-2000"]
    assert result.legs[0].leg_group_ids == ("transcollines:REG-PNT-GAT",)
    assert result.is_complete


@pytest.mark.realdata
def test_transcollines_two_legs_without_transfer_rules_pay_twice(tc_catalogue):
    # Collines -> Gatineau (REG-COL-GAT, PS-500 = 5.00) then Gatineau -> Pontiac (REG-GAT-PNT,
    # PS-2000 = 20.00). The feed has no fare_transfer_rules: 5.00 + 20.00 = 25.00 CAD.
    start = at(MONTREAL, "2026-05-04T16:00:00")
    legs = [
        leg("transcollines:921", start, 40, from_stop_id="transcollines:411-56", to_stop_id="transcollines:F401-10"),
        leg("transcollines:910", start + timedelta(minutes=50), 70, from_stop_id="transcollines:F401-14", to_stop_id="transcollines:F101-60"),
    ]
    result = quote(tc_catalogue, legs)
    assert result.total_minor == 500 + 2000
    assert [p.fare_product_id for p in result.products] == ["transcollines:PS-500", "transcollines:PS-2000"]
    assert [lf.fare_product_ids for lf in result.legs] == [("transcollines:PS-500",), ("transcollines:PS-2000",)]


@pytest.mark.realdata
def test_transcollines_outside_the_fare_timeframe_has_no_fare(tc_catalogue):
    # Every rule requires timeframe GT-2026 (service FARES-GT-2026-1, 2026-01-05 .. 2026-08-23).
    start = at(MONTREAL, "2026-09-15T07:15:00")
    result = quote(tc_catalogue, [leg("transcollines:910", start, 60, from_stop_id="transcollines:F101-60", to_stop_id="transcollines:F401-10")])
    assert not result.is_complete and result.total_minor == 0
    assert [i.code for i in result.issues] == [FareIssueCode.NO_FARE_FOR_LEG]


@pytest.mark.realdata
def test_transcollines_within_gatineau_is_not_priced(tc_catalogue):
    # There is no GAT -> GAT rule: an urban trip is the STO's business, not Transcollines'.
    start = at(MONTREAL, "2026-03-10T07:15:00")
    result = quote(tc_catalogue, [leg("transcollines:910", start, 10, from_stop_id="transcollines:F401-14", to_stop_id="transcollines:F401-10")])
    assert result.legs[0].fare_product_ids == () and not result.is_complete


# -- C-TRAN: products per media and rider category, free transfers ---------------------------------

ROSE = "ctran:2bc6804f-9e24-4b91-8947-c73a2363e7b6"
PORT = "ctran:68456f6e-2a04-4fcb-971b-fd57348e2ed7"


@pytest.fixture(scope="module")
def ct_catalogue(ctran):
    return build_catalogue({"ctran": ctran})[0]


@pytest.mark.realdata
def test_ctran_adult_single_ride(ct_catalogue):
    result = quote(ct_catalogue, [leg(ROSE, at(PACIFIC, "2026-02-02T08:00:00"), 25)])
    assert (result.total_minor, result.currency, result.rider_category_id) == (125, "USD", "ADULT")


@pytest.mark.realdata
def test_ctran_transfer_within_9000_s_is_free(ct_catalogue):
    # LOCAL -> LOCAL, transfer_count -1, 9000 s departure-to-departure, type 0 (A + AB), no
    # transfer product: a second leg 2 h after the first costs nothing. 1.25 USD in all.
    start = at(PACIFIC, "2026-02-02T08:00:00")
    legs = [leg(ROSE, start, 25), leg(PORT, start + timedelta(hours=2), 20), leg(ROSE, start + timedelta(minutes=149), 10)]
    result = quote(ct_catalogue, legs)
    assert result.total_minor == 125 and result.method == "cp-sat"
    assert [p.fare_product_id for p in result.products] == ["ctran:ADULT_LOCAL_SINGLE_RIDE"]
    assert all(lf.fare_product_ids == ("ctran:ADULT_LOCAL_SINGLE_RIDE",) for lf in result.legs)
    assert "transfer within 9000 s" in result.legs[1].explanation


@pytest.mark.realdata
def test_ctran_transfer_after_the_window_pays_again(ct_catalogue):
    # Second leg departs 2 h 31 min (9060 s > 9000 s) after the first: 1.25 + 1.25.
    start = at(PACIFIC, "2026-02-02T08:00:00")
    legs = [leg(ROSE, start, 25), leg(PORT, start + timedelta(seconds=9060), 20)]
    assert quote(ct_catalogue, legs).total_minor == 250


@pytest.mark.realdata
def test_ctran_rider_categories_and_media(ct_catalogue):
    one = [leg(ROSE, at(PACIFIC, "2026-02-02T08:00:00"), 25)]
    assert quote(ct_catalogue, one, "HONORED_CITIZEN").total_minor == 60
    youth = quote(ct_catalogue, one, "YOUTH")
    assert youth.total_minor == 0 and youth.is_complete
    # Youth fares exist on cash, cards and apps but not on the paper ticket (media 1).
    paper = quote(ct_catalogue, one, "YOUTH", "1")
    assert not paper.is_complete
    assert quote(ct_catalogue, one, "ADULT", "4").products[0].fare_media_id == "4"


# -- a hand-written region: urban + rail + a combined product (the demo-region contract) -----------


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    """See `tests.ticketing.conftest.write_region` for the fares, worked out below."""
    catalogue, issues = build_region(tmp_path_factory.mktemp("region"))
    assert issues == ()
    return catalogue


def test_region_urban_transfer_within_the_hour(region):
    # C3 then T1 35 min later: one 1.90 ticket on the card (cheaper than 2.10 paper).
    start = at(PARIS, "2026-03-02T08:00:00")
    result = quote(region, [leg("tcl:C3", start, 20), leg("tcl:T1", start + timedelta(minutes=35), 15)])
    assert result.total_minor == 190
    assert [(p.fare_product_id, p.fare_media_id) for p in result.products] == [("tcl:single", "oura-card")]


def test_region_paper_only_pays_paper_price(region):
    start = at(PARIS, "2026-03-02T08:00:00")
    assert quote(region, [leg("tcl:C3", start, 20)], "adult", "paper").total_minor == 210


def test_region_rail_then_urban_singles_beat_the_day_pass(region):
    # Villefranche -> Lyon 8.00 + one urban ticket 1.90 = 9.90 < day pass 15.00.
    start = at(PARIS, "2026-03-02T07:00:00")
    legs = [
        leg("ter:L1", start, 30, from_stop_id="ter:villefranche", to_stop_id="ter:lyon"),
        leg("tcl:C3", start + timedelta(minutes=40), 20),
    ]
    result = quote(region, legs)
    assert (result.total_minor, result.method) == (990, "cp-sat")
    assert [p.fare_product_id for p in result.products] == ["ter:ab", "tcl:single"]


def test_region_day_pass_wins_for_a_return_trip_with_urban_legs(region):
    # Mâcon -> Lyon (12.00), tram (1.90), 3 h later tram (1.90), Lyon -> Mâcon (12.00): 27.80 in
    # singles; the combined day pass covers all four legs for 15.00.
    start = at(PARIS, "2026-03-02T07:00:00")
    legs = [
        leg("ter:L1", start, 50, from_stop_id="ter:macon", to_stop_id="ter:lyon"),
        leg("tcl:T1", start + timedelta(minutes=60), 15),
        leg("tcl:T1", start + timedelta(hours=4), 15),
        leg("ter:L1", start + timedelta(hours=4, minutes=30), 50, from_stop_id="ter:lyon", to_stop_id="ter:macon"),
    ]
    result = quote(region, legs)
    assert result.total_minor == 1500
    (product,) = result.products
    assert product.fare_product_id == "ter-tcl-day" and product.kind is CoverKind.PASS
    assert product.leg_indices == (0, 1, 2, 3)
    assert all(lf.fare_product_ids == ("ter-tcl-day",) for lf in result.legs)
    # A rider category the pass does not exclude but the urban single does: youth pays 1.00 urban.
    youth = quote(region, legs, "youth")
    assert youth.total_minor == 1500  # 12 + 1 + 1 + 12 = 26.00 > 15.00


def test_region_price_itinerary_is_the_any_media_quote(region):
    start = at(PARIS, "2026-03-02T08:00:00")
    legs = [leg("tcl:C3", start, 20)]
    assert price_itinerary(region, legs, "youth").total_minor == 100


def test_naive_datetimes_are_an_issue_not_a_crash(region):
    naive = datetime(2026, 3, 2, 8, 0)
    result = quote(region, [FareLeg("tcl:C3", naive, naive + timedelta(minutes=5))])
    assert FareIssueCode.NAIVE_DATETIME in {i.code for i in result.issues}
    assert not result.is_complete


@pytest.mark.parametrize(
    ("transfer_type", "expected_minor", "expected_products"),
    [
        # A + AB: the first leg's 1.00 plus the 0.30 transfer product.
        (0, 130, ["bus:single", "bus:transfer"]),
        # A + AB + B: 1.00 + 0.30 + 1.00 = 2.30 is dearer than two singles (2.00): singles win.
        (1, 200, ["bus:single", "bus:single"]),
        # AB: the transfer product alone (0.30) pays for both legs.
        (2, 30, ["bus:transfer"]),
    ],
)
def test_fare_transfer_types(tmp_path, transfer_type, expected_minor, expected_products):
    from feeds.gtfs.reader import read_gtfs
    from tests.ticketing.conftest import write_feed

    folder = write_feed(tmp_path / "bus", {
        "agency": "agency_id,agency_name,agency_url,agency_timezone\nbus,Bus,https://bus.example,Europe/Paris",
        "routes": "route_id,agency_id,route_short_name,route_type\n1,bus,1,3\n2,bus,2,3",
        "fare_products": "fare_product_id,fare_product_name,amount,currency\nsingle,Single,1.00,EUR\ntransfer,Transfer,0.30,EUR",
        "fare_leg_rules": "leg_group_id,fare_product_id\ng,single",
        "fare_transfer_rules": (
            "from_leg_group_id,to_leg_group_id,transfer_count,duration_limit,duration_limit_type,fare_transfer_type,fare_product_id\n"
            f"g,g,1,1800,2,{transfer_type},transfer"
        ),
    })
    catalogue, issues = build_catalogue({"bus": read_gtfs(folder)})
    assert issues == ()
    start = at(PARIS, "2026-03-02T08:00:00")
    legs = [leg("bus:1", start, 10), leg("bus:2", start + timedelta(minutes=20), 10)]
    result = quote(catalogue, legs)
    assert result.total_minor == expected_minor
    assert sorted(p.fare_product_id for p in result.products) == expected_products
    # transfer_count 1: a third leg starts a new fare (its arrival-to-departure gap is 10 min).
    three = legs + [leg("bus:1", start + timedelta(minutes=40), 10)]
    assert quote(catalogue, three).total_minor == expected_minor + 100


@pytest.mark.parametrize("with_priority", [False, True])
def test_empty_rule_fields_match_what_is_not_listed_or_by_priority(tmp_path, with_priority):
    # Two networks in one feed. Without rule_priority, the empty network_id rule prices only the
    # network no rule names (express); with rule_priority, the empty rule matches both and the
    # higher priority wins on the named network (local).
    from feeds.gtfs.reader import read_gtfs
    from tests.ticketing.conftest import write_feed

    rules = ("leg_group_id,network_id,fare_product_id,rule_priority\nl,local,local_fare,1\ne,,other_fare,0"
             if with_priority else "leg_group_id,network_id,fare_product_id\nl,local,local_fare\ne,,other_fare")
    folder = write_feed(tmp_path / "two", {
        "agency": "agency_id,agency_name,agency_url,agency_timezone\na,A,https://a.example,Europe/Paris",
        "routes": "route_id,agency_id,route_short_name,route_type,network_id\nL,a,L,3,local\nX,a,X,3,express",
        "fare_products": "fare_product_id,fare_product_name,amount,currency\nlocal_fare,Local,1.50,EUR\nother_fare,Other,4.00,EUR",
        "fare_leg_rules": rules,
    })
    catalogue, _ = build_catalogue({"two": read_gtfs(folder)})
    start = at(PARIS, "2026-03-02T08:00:00")
    local = quote(catalogue, [leg("two:L", start, 10)])
    express = quote(catalogue, [leg("two:X", start, 10)])
    assert [p.fare_product_id for p in local.products] == ["two:local_fare"]
    assert [p.fare_product_id for p in express.products] == ["two:other_fare"]
    assert (local.total_minor, express.total_minor) == (150, 400)
