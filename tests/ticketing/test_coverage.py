"""Ticket coverage of a journey by the contracts on a medium (ticketing.coverage), on the demo catalogue.

Demo prices (oura/demo/fares.py, see test_demo_region.py): TCL single 2.10 on the card, free
transfers for an hour; TCL monthly pass 68.00; Lyon Part-Dieu - Riom by TER 21.70 (band 7).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ticketing.coverage import Coverage, decide_coverage
from ticketing.fares import FareLeg
from ticketing.repository import ContractRow, MediumRow

PARIS = ZoneInfo("Europe/Paris")
DAY = datetime(2026, 3, 3, 0, 0, tzinfo=PARIS)
SOLD = DAY - timedelta(days=1)


def leg(route, start_h, minutes, frm=None, to=None):
    start = DAY + timedelta(hours=start_h)
    return FareLeg(route_id=route, departure=start, arrival=start + timedelta(minutes=minutes), from_stop_id=frm, to_stop_id=to)


TCL = leg("tcl:A", 8, 15)
TCL_LATER = leg("tcl:B", 8.5, 15)
TER = leg("ter:L1", 9, 120, "ter:lyon-part-dieu-q1", "ter:riom-q2")
MEDIUM = MediumRow(1, "C0001", "smartcard", "oura-card", None, "sytral", "active", None, SOLD)


def contract(contract_id=1, product="tcl:monthly-pass", networks=("tcl",), **changes) -> ContractRow:
    base = ContractRow(contract_id=contract_id, medium_id=1, order_id=1, line_no=1, fare_product_id=product,
                       rider_category_id="adult", network_ids=networks, area_ids=(), valid_from=SOLD, valid_until=None,
                       duration_s=30 * 86400, trips_total=None, remaining_trips=None, transfer_window_s=0, status="active",
                       first_used_at=None, last_counted_at=None, last_route_id=None, reconstituted_from=None)
    return replace(base, **changes)


@pytest.fixture(scope="module")
def catalogue(demo_catalogue):
    (catalogue, _), _ = demo_catalogue
    return catalogue


def test_a_tcl_pass_covers_tcl_legs_and_the_ter_leg_is_priced_alone(catalogue):
    result = decide_coverage(catalogue, MEDIUM, [contract()], [TCL, TER, TCL_LATER])
    assert result == Coverage(False, ("tcl:monthly-pass",), (1,), 2170, "EUR")
    assert result.to_json() == {"covered": False, "contracts": ["tcl:monthly-pass"], "uncovered_legs": [1],
                                "extra_price": {"total_minor": 2170, "currency": "EUR"}}
    only_tcl = decide_coverage(catalogue, MEDIUM, [contract()], [TCL, TCL_LATER])
    assert only_tcl.to_json() == {"covered": True, "contracts": ["tcl:monthly-pass"], "uncovered_legs": [],
                                  "extra_price": {"total_minor": 0, "currency": "EUR"}}


def test_no_contract_prices_every_leg_like_the_fare_engine(catalogue):
    # Two TCL legs within the hour: one single, 2.10.
    result = decide_coverage(catalogue, MEDIUM, [], [TCL, TCL_LATER])
    assert (result.covered, result.contracts, result.uncovered_legs, result.extra_price_minor) == (False, (), (0, 1), 210)


def test_expired_not_yet_valid_or_closed_contracts_cover_nothing(catalogue):
    expired = contract(first_used_at=DAY - timedelta(days=40), valid_until=DAY - timedelta(days=10))
    future = contract(valid_from=DAY + timedelta(hours=12))
    closed = contract(status="transferred")
    for held in (expired, future, closed):
        assert decide_coverage(catalogue, MEDIUM, [held], [TCL]).uncovered_legs == (0,), held
    # A pass first used during the journey covers what follows within its duration: a day pass
    # starting at 08:00 covers 08:30 but not the next day's 08:30.
    day_pass = contract(product="tcl:day-pass", duration_s=86400)
    next_day = replace(TCL_LATER, departure=TCL_LATER.departure + timedelta(days=1),
                       arrival=TCL_LATER.arrival + timedelta(days=1))
    assert decide_coverage(catalogue, MEDIUM, [day_pass], [TCL, TCL_LATER, next_day]).uncovered_legs == (2,)


def test_a_carnet_counts_its_trips_and_its_transfer_window(catalogue):
    carnet = contract(product="tcl:10-trips", duration_s=None, trips_total=10, remaining_trips=1, transfer_window_s=3600)
    # One trip left: the first leg counts it, the second rides in the hour's transfer window,
    # the third (3 h later) has no trip left.
    late = leg("tcl:A", 11, 10)
    assert decide_coverage(catalogue, MEDIUM, [carnet], [TCL, TCL_LATER, late]).uncovered_legs == (2,)
    # A boarding counted before the journey opens the window too: no trip left, still covered.
    boarded = replace(carnet, remaining_trips=0, last_counted_at=TCL.departure - timedelta(minutes=20), last_route_id="tcl:C")
    assert decide_coverage(catalogue, MEDIUM, [boarded], [TCL]).covered
    assert not decide_coverage(catalogue, MEDIUM, [boarded], [late]).covered


def test_a_contract_with_areas_covers_legs_between_its_areas_only(catalogue):
    # A TER season ticket Lyon Part-Dieu - Riom (its areas: the two stations).
    season = contract(product="ter:monthly-pass", networks=("ter",), area_ids=("ter:lyon-part-dieu", "ter:riom"))
    assert decide_coverage(catalogue, MEDIUM, [season], [TER]).covered
    beyond = replace(TER, to_stop_id="ter:clermont-q1")
    result = decide_coverage(catalogue, MEDIUM, [season], [beyond])
    assert (result.covered, result.uncovered_legs) == (False, (0,))


def test_a_deny_listed_card_covers_nothing(catalogue):
    stolen = replace(MEDIUM, status="stolen")
    result = decide_coverage(catalogue, stolen, [contract()], [TCL])
    assert (result.covered, result.contracts, result.extra_price_minor) == (False, (), 210)


def test_the_extra_price_uses_the_holders_entitlement_and_is_none_when_unpriceable(catalogue):
    adult = decide_coverage(catalogue, MEDIUM, [], [TER])
    reduced = decide_coverage(catalogue, MEDIUM, [], [TER], rider_category_ids=("reduced",))
    assert reduced.extra_price_minor < adult.extra_price_minor == 2170
    unknown = decide_coverage(catalogue, MEDIUM, [contract()], [TCL, leg("nowhere:X", 9, 10)])
    assert (unknown.uncovered_legs, unknown.extra_price_minor, unknown.to_json()["extra_price"]) == ((1,), None, None)


# -- through the service, on PostgreSQL -----------------------------------------------------------


async def test_check_coverage_reads_the_card_sold_over_http(app_config, make_client, demo_catalogue):
    from oura.app import create_app
    from oura.auth import create_key
    from oura.clock import FixedClock
    from ticketing.errors import UnknownMedium
    from ticketing.http import routes
    from ticketing.service import network_authorities
    from ticketing.startup import TICKETING, make_ticketing_context

    (catalogue, _), registry = demo_catalogue
    owners = network_authorities(registry)
    clock = FixedClock(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    app = create_app(app_config, clock=clock, extra_routes=[routes],
                     extra_contexts=[make_ticketing_context(catalogue, owners)])
    client = await make_client(app)
    _, token = await create_key(app[TICKETING].pool, "sales_point", owners["tcl"], label="desk")
    desk = {"Authorization": f"Bearer {token}"}
    card = await (await client.post("/v1/media", json={"kind": "smartcard", "holder": {"display_name": "A. Rider"}},
                                    headers=desk)).json()
    serial = card["serial"]
    service = app[TICKETING]
    before = await service.check_coverage(serial, [TCL], clock.now())
    assert (before.covered, before.extra_price_minor) == (False, 210)

    order = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 6800,
             "items": [{"fare_product_id": "tcl:monthly-pass", "rider_category_id": "adult", "fare_media_id": "oura-card",
                        "medium": serial}]}
    response = await client.post("/v1/orders", json=order, headers={**desk, "Idempotency-Key": serial})
    assert response.status == 201, await response.text()
    after = await service.check_coverage(serial, [TCL, TER], clock.now())
    assert after.to_json() == {"covered": False, "contracts": ["tcl:monthly-pass"], "uncovered_legs": [1],
                               "extra_price": {"total_minor": 2170, "currency": "EUR"}}
    with pytest.raises(UnknownMedium):
        await service.check_coverage("C0000000000000000", [TCL], clock.now())
