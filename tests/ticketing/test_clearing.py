"""Apportionment of a sale between networks and the seller's commission (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ticketing.clearing import apportion_line, negate, parse_period, split_by_shares

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
    start, end = parse_period("2026-02")
    assert (start.isoformat(), end.isoformat()) == ("2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00")
    start, end = parse_period("2026-12-31")
    assert end.isoformat() == "2027-01-01T00:00:00+00:00"
