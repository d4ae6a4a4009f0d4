"""Hostile or careless input to ticketing, over HTTP: deep JSON, events dated out of range,
unbounded integers, and messages that say what is wrong (wrong type, minor units, not yet valid)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from tests.ticketing.conftest import validation_event
from ticketing.validation import MAX_EVENT_AGE_S, MAX_EVENT_FUTURE_S

DEEP = b"[" * 1000 + b"]" * 1000
ORDER = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 6000,
         "items": [{"fare_product_id": "ter-tcl-10", "fare_media_id": "oura-card", "medium": "C-none"}]}


def _tracebacks(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("path, role", [("/v1/fares/quote", None), ("/v1/validations", "device"),
                                         ("/v1/orders", "sales_point")])
async def test_json_nested_a_thousand_deep_is_a_400_without_a_traceback(make_harness, caplog, path, role):
    h = await make_harness()
    headers = {"Content-Type": "application/json", "Idempotency-Key": "deep-1"}
    if role:
        headers.update(await h.key(role, "sytral"))
    caplog.set_level(logging.DEBUG)
    response = await h.client.post(path, data=DEEP, headers=headers)
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    assert (await response.json())["code"] == "json_too_deep"
    assert _tracebacks(caplog) == []


async def _remaining(h) -> int:
    return await h.service.pool.fetchval("SELECT remaining_trips FROM ticketing_contracts")


@pytest.mark.parametrize("offset", [timedelta(days=365 * 73), timedelta(seconds=MAX_EVENT_FUTURE_S + 60),
                                    -timedelta(seconds=MAX_EVENT_AGE_S + 3600)])
async def test_an_event_dated_out_of_range_is_refused_and_consumes_nothing(make_harness, offset):
    h = await make_harness()
    card = await h.card_with_carnet()
    h.clock.advance(timedelta(seconds=MAX_EVENT_AGE_S + 7200))  # the contract predates the past bound too
    validator = await h.key("device", "sytral")
    body = {"events": [validation_event("far", card, h.clock.now() + offset)]}
    for _ in range(2):  # the retry replays the refusal
        response = await h.client.post("/v1/validations", json=body, headers=validator)
        assert response.status == 200
        (decision,) = (await response.json())["decisions"]
        assert (decision["accepted"], decision["reason"], decision["contract_id"]) == (False, "event_time_out_of_range", None)
    assert await _remaining(h) == 10
    first_used = await h.service.pool.fetchval("SELECT first_used_at FROM ticketing_contracts")
    assert first_used is None


async def test_events_within_the_bounds_are_decided(make_harness):
    h = await make_harness()
    card = await h.card_with_carnet()
    bought = h.clock.now()
    validator = await h.key("device", "sytral")
    soon = await h.client.post("/v1/validations", json={"events": [
        validation_event("skewed", card, bought + timedelta(seconds=MAX_EVENT_FUTURE_S - 60))]}, headers=validator)
    assert [d["reason"] for d in (await soon.json())["decisions"]] == ["valid"]
    # an offline validator uploading a boarding weeks later (within the bound) still counts it
    h.clock.advance(timedelta(seconds=MAX_EVENT_AGE_S - 3600))
    late = await h.client.post("/v1/validations", json={"events": [
        validation_event("uploaded-late", card, bought + timedelta(hours=2), "tcl:T1")]}, headers=validator)
    assert [d["reason"] for d in (await late.json())["decisions"]] == ["valid"]
    assert await _remaining(h) == 8


async def test_a_boarding_before_the_contract_starts_is_not_yet_valid(make_harness):
    h = await make_harness()
    card = await h.card_with_carnet()
    validator = await h.key("device", "sytral")
    response = await h.client.post("/v1/validations", json={"events": [
        validation_event("before-purchase", card, h.clock.now() - timedelta(hours=1))]}, headers=validator)
    (decision,) = (await response.json())["decisions"]
    assert (decision["accepted"], decision["reason"]) == (False, "not_yet_valid")
    assert decision["contract_id"] is not None and decision["remaining_trips"] == 10
    assert await _remaining(h) == 10


async def test_a_time_with_no_utc_instant_is_a_malformed_event(make_harness):
    h = await make_harness()
    validator = await h.key("device", "sytral")
    response = await h.client.post("/v1/validations", json={"events": [
        {**validation_event("e", "C1", h.clock.now()), "time": "0001-01-01T00:00:00+01:00"}]}, headers=validator)
    assert response.status == 422
    assert "out of range" in (await response.json())["invalid_events"][0]["reason"]


@pytest.mark.parametrize("value", ["99999999999", "9" * 30])
async def test_reconciliation_threshold_beyond_its_bound_is_a_400(make_harness, value):
    h = await make_harness()
    response = await h.client.post("/v1/reconciliations", params={"older_than_s": value}, headers=await h.key("admin", None))
    assert response.status == 400
    problem = await response.json()
    assert problem["invalid_params"][0]["name"] == "older_than_s"
    assert "at most" in problem["invalid_params"][0]["reason"]


async def test_ids_beyond_bigint_name_nothing(make_harness, caplog):
    h = await make_harness()
    machine = await h.key("sales_point", "sytral")
    caplog.set_level(logging.WARNING)
    response = await h.client.get(f"/v1/orders/{2**63}", headers=machine)
    assert response.status == 404 and (await response.json())["code"] == "unknown_order"
    assert not [r for r in caplog.records if "database refused" in r.getMessage()]


async def _order_problem(h, body) -> dict:
    machine = await h.key("sales_point", "sytral")
    response = await h.client.post("/v1/orders", json=body, headers={**machine, "Idempotency-Key": "k1"})
    assert 400 <= response.status < 500
    return await response.json()


@pytest.mark.parametrize("change, says", [
    ({"expected_total_minor": "6000"}, "expected_total_minor must be an integer"),
    ({"expected_total_minor": 60.0}, "expected_total_minor must be an integer"),
    ({"payment": {"token": 42}}, "payment.token must be a non-empty string"),
    ({"items": [{"fare_product_id": 7}]}, "item 1: fare_product_id must be a string"),
    ({"items": [{"fare_product_id": "ter-tcl-10", "rider_category_id": ["adult"]}]}, "rider_category_id must be a string"),
])
async def test_a_wrong_type_says_so_not_that_it_is_required(make_harness, change, says):
    problem = await _order_problem(await make_harness(), {**ORDER, **change})
    assert says in problem["detail"]
    assert "is required" not in problem["detail"]


async def test_a_missing_field_is_still_required(make_harness):
    body = {k: v for k, v in ORDER.items() if k != "expected_total_minor"}
    problem = await _order_problem(await make_harness(), body)
    assert "expected_total_minor" in problem["detail"] and "is required" in problem["detail"]
    assert "minor units" in problem["detail"]


async def test_price_mismatches_label_amounts_in_minor_units(make_harness):
    h = await make_harness()
    total = await _order_problem(h, {**ORDER, "expected_total_minor": 5000})
    assert total["code"] == "price_mismatch"
    assert "6000 (minor units of EUR)" in total["detail"] and "5000" in total["detail"]
    unit = await _order_problem(h, {**ORDER, "items": [{**ORDER["items"][0], "unit_price_minor": 60}]})
    assert unit["code"] == "price_mismatch" and "unit_price_minor is 6000 (minor units of EUR)" in unit["detail"]
    typed = await _order_problem(h, {**ORDER, "items": [{**ORDER["items"][0], "unit_price_minor": "6000"}]})
    assert "unit_price_minor must be an integer" in typed["detail"]


async def test_a_quote_leg_with_a_wrong_type_says_so(make_harness):
    h = await make_harness()
    leg = {"departure": "2026-03-02T08:00:00+01:00", "arrival": "2026-03-02T08:20:00+01:00"}
    wrong = await h.client.post("/v1/fares/quote", json={"legs": [{**leg, "route_id": 12}]})
    assert (await wrong.json())["invalid_params"] == [{"name": "legs[0].route_id", "reason": "must be a string"}]
    missing = await h.client.post("/v1/fares/quote", json={"legs": [leg]})
    assert (await missing.json())["invalid_params"] == [{"name": "legs[0].route_id", "reason": "is required"}]
