"""Apportionment of a sale between networks and the seller's commission (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ticketing.clearing import apportion_line, apportion_refund, negate, parse_period, split_by_shares

OWNERS = {"ter": "region", "tcl": "sytral", "tag": "grenoble"}


def test_combined_product_sold_by_a_third_authority():
    rows = apportion_line(line_no=1, amount_minor=6000, shares_permille=[("ter", 800), ("tcl", 200)],
                          network_authority=OWNERS, selling_authority_id="grenoble", commission_permille=50)
    assert [(r.kind, r.beneficiary_authority_id, r.amount_minor) for r in rows] == [
        ("revenue", "region", 4560), ("commission", "grenoble", 240), ("revenue", "sytral", 1140), ("commission", "grenoble", 60)]


def test_own_product_has_no_commission():
    rows = apportion_line(line_no=1, amount_minor=170, shares_permille=[("tag", 1000)],
                          network_authority=OWNERS, selling_authority_id="grenoble", commission_permille=50)
    assert [(r.kind, r.beneficiary_authority_id, r.amount_minor) for r in rows] == [("revenue", "grenoble", 170)]


def test_rounding_remainder_goes_to_the_largest_share():
    # 1001 split 1/3 each (333 permille + 334): 333.333 -> 333, 333, 334 + remainders.
    assert split_by_shares(1001, [("a", 333), ("b", 333), ("c", 334)]) == [("a", 333), ("b", 333), ("c", 335)]


@given(
    amount=st.integers(min_value=0, max_value=10_000_000),
    first=st.integers(min_value=0, max_value=1000),
    rate=st.integers(min_value=0, max_value=1000),
    seller=st.sampled_from(["region", "sytral", "grenoble", "other"]),
)
def test_ledger_rows_always_sum_to_the_amount(amount, first, rate, seller):
    rows = apportion_line(line_no=1, amount_minor=amount, shares_permille=[("ter", first), ("tcl", 1000 - first)],
                          network_authority=OWNERS, selling_authority_id=seller, commission_permille=rate)
    assert sum(r.amount_minor for r in rows) == amount
    assert all(r.amount_minor >= 0 for r in rows)
    assert sum(r.amount_minor for r in rows + negate(rows)) == 0


def test_periods():
    start, end = parse_period("2026-02", "UTC")
    assert (start.isoformat(), end.isoformat()) == ("2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00")
    start, end = parse_period("2026-12-31", "UTC")
    assert end.isoformat() == "2027-01-01T00:00:00+00:00"


def test_periods_are_taken_in_the_regions_zone():
    """A month or a day of clearing is the region's local calendar month or day, not UTC's."""
    start, end = parse_period("2026-03", "Europe/Paris")
    assert (start.isoformat(), end.isoformat()) == ("2026-02-28T23:00:00+00:00", "2026-03-31T22:00:00+00:00")
    start, end = parse_period("2026-10-25", "Europe/Paris")  # the 25-hour day
    assert (end - start).total_seconds() == 25 * 3600
    start, end = parse_period("2026-03-29/2026-03-30", "Europe/Paris")  # the 23-hour day
    assert (end - start).total_seconds() == 23 * 3600


async def test_clearing_month_follows_the_regions_calendar(make_harness):
    from datetime import datetime

    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    admin = await h.key("admin", None)
    order = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 210,
             "items": [{"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "paper"}]}
    for key, moment in (("march", "2026-03-31T23:30:00+02:00"), ("april", "2026-04-01T00:30:00+02:00")):
        h.clock.set(datetime.fromisoformat(moment))  # 21:30Z and 22:30Z: both in March in UTC
        assert (await h.client.post("/v1/orders", json=order, headers={**desk, "Idempotency-Key": key})).status == 201

    async def taken(period: str) -> int:
        report = await (await h.client.get("/v1/clearing", params={"period": period}, headers=admin)).json()
        assert report["is_balanced"]
        return sum(report["money_taken_minor"].values())

    assert await taken("2026-03") == 210
    assert await taken("2026-04") == 210
    assert await taken("2026-04-01") == 210


@given(
    unit=st.integers(min_value=0, max_value=100_000),
    parts=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=6),
    first=st.integers(min_value=0, max_value=1000),
    rate=st.integers(min_value=0, max_value=1000),
    seller=st.sampled_from(["region", "sytral", "grenoble"]),
)
def test_a_line_refunded_in_parts_ends_at_the_exact_negation_of_its_sale(unit, parts, first, rate, seller):
    shares = [("ter", first), ("tcl", 1000 - first)]
    common = {"line_no": 1, "shares_permille": shares, "network_authority": OWNERS, "selling_authority_id": seller,
              "commission_permille": rate}
    sale = apportion_line(amount_minor=unit * sum(parts), **common)
    net: dict[tuple, int] = {}
    for r in sale:
        net[(r.kind, r.beneficiary_authority_id, r.network_id)] = r.amount_minor
    refunded = 0
    for units in parts:
        rows = apportion_refund(amount_minor=unit * units, refunded_before_minor=refunded, **common)
        assert sum(r.amount_minor for r in rows) == -unit * units  # each refund: minus its amount
        if refunded == 0:
            assert rows == [r for r in negate(apportion_line(amount_minor=unit * units, **common)) if r.amount_minor]
        refunded += unit * units
        for r in rows:
            key = (r.kind, r.beneficiary_authority_id, r.network_id)
            net[key] = net.get(key, 0) + r.amount_minor
    assert set(net.values()) <= {0}  # every authority's part and commission exactly undone


async def test_an_authoritys_report_is_balanced_on_its_own_figures(make_harness):
    """Regression: an authority's report showed its own totals but the region's verdict, so it
    could say balanced with a ledger total different from its money taken, and a booking missing
    from another authority's sales made every authority's report say unbalanced."""
    h = await make_harness()
    sytral_desk, grenoble_desk = await h.key("sales_point", "sytral"), await h.key("sales_point", "grenoble")
    paper = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 210,
             "items": [{"fare_product_id": "tcl:single", "fare_media_id": "paper"}]}
    assert (await h.client.post("/v1/orders", json=paper, headers={**sytral_desk, "Idempotency-Key": "s"})).status == 201
    card = (await (await h.client.post("/v1/media", json={}, headers=grenoble_desk)).json())["serial"]
    combined = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 6000,
                "items": [{"fare_product_id": "ter-tcl-10", "fare_media_id": "oura-card", "medium": card}]}
    sold = await h.client.post("/v1/orders", json=combined, headers={**grenoble_desk, "Idempotency-Key": "g"})
    assert sold.status == 201

    async def report(authority_id: str | None) -> dict:
        key = await h.key("admin", None) if authority_id is None else await h.key("authority", authority_id)
        return await (await h.client.get("/v1/clearing", params={"period": "2026-03"}, headers=key)).json()

    sytral, grenoble = await report("sytral"), await report("grenoble")
    assert sytral["ledger_total_minor"] == sytral["money_taken_minor"] == {"EUR": 210} and sytral["is_balanced"]
    assert grenoble["ledger_total_minor"] == grenoble["money_taken_minor"] == {"EUR": 6000} and grenoble["is_balanced"]

    # Money grenoble took that its ledger never booked (a payment recorded without its rows).
    order_id = (await sold.json())["order_id"]
    await h.service.pool.execute(
        "INSERT INTO ticketing_payments (order_id, kind, provider, provider_reference, amount_minor, currency, created_at)"
        " VALUES ($1, 'charge', 'test', 'unbooked', 100, 'EUR', $2)", order_id, h.clock.now())
    sytral, grenoble, region = await report("sytral"), await report("grenoble"), await report(None)
    assert grenoble["money_taken_minor"] == {"EUR": 6100} != grenoble["ledger_total_minor"] and not grenoble["is_balanced"]
    assert sytral["is_balanced"]  # sytral's own sales are all booked
    assert not region["is_balanced"] and region["money_taken_minor"] == {"EUR": 6310}
    for one in (sytral, grenoble, region):
        assert one["is_balanced"] == (one["ledger_total_minor"] == one["money_taken_minor"])
