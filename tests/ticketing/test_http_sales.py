"""Sales over HTTP: every payment path, refunds, and bad input that must leave nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest


def single_order(token: str = "tok_approve", **changes) -> dict:
    item = {"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "paper", "quantity": 2}
    item.update(changes.pop("item", {}))
    return {"channel": "desk", "payment": {"token": token}, "expected_total_minor": 420, "items": [item], **changes}


async def test_paper_tickets_from_own_network_book_no_commission(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    response = await h.client.post("/v1/orders", json=single_order(), headers={**desk, "Idempotency-Key": "k1"})
    assert response.status == 201
    order = await response.json()
    (line,) = order["lines"]
    assert (line["unit_price_minor"], line["amount_minor"], line["quantity"]) == (210, 420, 2)
    assert len(line["media"]) == 2 and all(s.startswith("P") for s in line["media"])  # two paper tickets
    assert [(r["kind"], r["beneficiary_authority_id"], r["amount_minor"]) for r in order["ledger"]] == [("revenue", "sytral", 420)]


async def test_declined_payment_is_final_and_replayed(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    headers = {**desk, "Idempotency-Key": "k-decline"}
    first = await h.client.post("/v1/orders", json=single_order("tok_decline"), headers=headers)
    again = await h.client.post("/v1/orders", json=single_order("tok_decline"), headers=headers)
    assert first.status == again.status == 402
    assert (await first.json())["order_id"] == (await again.json())["order_id"]
    assert h.provider.charged_minor == 0
    assert await h.count("ticketing_contracts") == 0 and await h.count("ticketing_ledger") == 0


async def test_timeout_before_charging_then_retry_charges_once(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    headers = {**desk, "Idempotency-Key": "k-timeout"}
    first = await h.client.post("/v1/orders", json=single_order("tok_timeout"), headers=headers)
    assert first.status == 503 and h.provider.charged_minor == 0
    assert await h.count("ticketing_contracts") == 0
    second = await h.client.post("/v1/orders", json=single_order("tok_timeout"), headers=headers)
    assert second.status == 200 and (await second.json())["status"] == "paid"
    assert h.provider.charged_minor == 420 and await h.count("ticketing_payments") == 1


async def test_same_key_other_body_is_refused(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    headers = {**desk, "Idempotency-Key": "k-reuse"}
    assert (await h.client.post("/v1/orders", json=single_order(), headers=headers)).status == 201
    other = await h.client.post("/v1/orders", json=single_order(item={"quantity": 1}, expected_total_minor=210), headers=headers)
    assert other.status == 409 and (await other.json())["code"] == "idempotency_key_reused"


async def test_concurrent_retries_make_one_order_and_one_charge(make_harness):
    import asyncio

    h = await make_harness()
    h.provider.delay_s = 0.05
    desk = await h.key("sales_point", "sytral")
    headers = {**desk, "Idempotency-Key": "k-burst"}
    responses = await asyncio.gather(*(h.client.post("/v1/orders", json=single_order(), headers=headers) for _ in range(6)))
    bodies = [await r.json() for r in responses]
    assert {b["order_id"] for b in bodies} == {bodies[0]["order_id"]}
    assert sorted(r.status for r in responses).count(201) == 1
    assert h.provider.charged_minor == 420 and await h.count("ticketing_payments") == 1
    assert await h.count("ticketing_contracts") == 2


async def test_refund_unused_order_negates_the_ledger(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "grenoble")
    order = await (await h.client.post("/v1/orders", json=single_order(), headers={**desk, "Idempotency-Key": "k-r"})).json()
    # grenoble sold tcl's tickets: 420 - 21 commission to sytral, 21 kept.
    assert sorted((r["kind"], r["amount_minor"]) for r in order["ledger"]) == [("commission", 21), ("revenue", 399)]
    refunded = await h.client.post(f"/v1/orders/{order['order_id']}/refund", headers=desk)
    assert refunded.status == 200
    body = await refunded.json()
    assert body["status"] == "refunded" and sum(r["amount_minor"] for r in body["ledger"]) == 0
    admin = await h.key("admin", None)
    report = await (await h.client.get("/v1/clearing", params={"period": "2026-03-02"}, headers=admin)).json()
    assert report["balances"] == [] and report["is_balanced"]
    assert (await h.client.post(f"/v1/orders/{order['order_id']}/refund", headers=desk)).status == 200  # idempotent
    assert len(h.provider.refunds) == 1


async def test_used_contract_cannot_be_refunded(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    validator = await h.key("device", "sytral")
    order = await (await h.client.post("/v1/orders", json=single_order(), headers={**desk, "Idempotency-Key": "k-u"})).json()
    ticket = order["lines"][0]["media"][0]
    when = (h.clock.now() + timedelta(minutes=5)).isoformat()
    await h.client.post("/v1/validations", json={"events": [{"event_id": "e1", "medium": ticket, "time": when, "stop_id": "tcl:x", "route_id": "tcl:C3"}]}, headers=validator)
    response = await h.client.post(f"/v1/orders/{order['order_id']}/refund", headers=desk)
    assert response.status == 409 and (await response.json())["code"] == "refund_not_allowed"


@pytest.mark.parametrize(
    ("order", "status", "code"),
    [
        (single_order(item={"fare_product_id": "tcl:nope"}), 404, "unknown_product"),
        (single_order(item={"quantity": -1}), 400, "invalid_quantity"),
        (single_order(item={"quantity": 1.5}), 400, "invalid_quantity"),
        (single_order(expected_total_minor=1), 409, "price_mismatch"),
        (single_order(item={"unit_price_minor": 1}), 409, "price_mismatch"),
        (single_order(channel="tram"), 400, "invalid_channel"),
        (single_order(item={"fare_product_id": "ter-tcl-10", "fare_media_id": "oura-card", "quantity": 1}, expected_total_minor=6000), 400, "medium_required"),
        (single_order(item={"fare_product_id": "ter-tcl-10", "fare_media_id": "oura-card", "quantity": 1, "medium": "C404"}, expected_total_minor=6000), 404, "unknown_medium"),
        ({"items": "all"}, 400, "invalid_channel"),
    ],
)
async def test_bad_orders_get_a_problem_and_write_nothing(make_harness, order, status, code):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    response = await h.client.post("/v1/orders", json=order, headers={**desk, "Idempotency-Key": "bad"})
    assert response.status == status
    assert response.content_type == "application/problem+json"
    assert (await response.json())["code"] == code
    for table in ("ticketing_orders", "ticketing_payments", "ticketing_contracts", "ticketing_ledger", "ticketing_media"):
        assert await h.count(table) == 0
    assert h.provider.attempts == {}


async def test_orders_need_a_sales_point_key_and_an_idempotency_key(make_harness):
    h = await make_harness()
    device = await h.key("device", "sytral")
    assert (await h.client.post("/v1/orders", json=single_order(), headers={**device, "Idempotency-Key": "x"})).status == 403
    assert (await h.client.post("/v1/orders", json=single_order())).status == 401
    desk = await h.key("sales_point", "sytral")
    response = await h.client.post("/v1/orders", json=single_order(), headers=desk)
    assert response.status == 400 and (await response.json())["code"] == "idempotency_key_required"


async def test_products_and_quote_endpoints(make_harness):
    h = await make_harness()
    products = await (await h.client.get("/v1/products", params={"network": "ter", "media": "oura-card"})).json()
    ids = sorted({p["fare_product_id"] for p in products["products"]})
    assert ids == ["ter-tcl-10", "ter-tcl-day", "ter:ab", "ter:ac"]
    day = next(p for p in products["products"] if p["fare_product_id"] == "ter-tcl-day")
    assert day["shares_permille"] == {"ter": 700, "tcl": 300} and day["validity"]["duration_s"] == 86400
    legs = [
        {"route_id": "ter:L1", "from_stop_id": "ter:villefranche", "to_stop_id": "ter:lyon", "departure": "2026-03-02T07:00:00+01:00", "arrival": "2026-03-02T07:30:00+01:00"},
        {"route_id": "tcl:C3", "departure": "2026-03-02T07:40:00+01:00", "arrival": "2026-03-02T08:00:00+01:00"},
    ]
    result = await (await h.client.post("/v1/fares/quote", json={"legs": legs})).json()
    assert result["total_minor"] == 990 and [p["fare_product_id"] for p in result["products"]] == ["ter:ab", "tcl:single"]
    bad = await h.client.post("/v1/fares/quote", json={"legs": [{"route_id": "tcl:C3", "departure": "yesterday"}]})
    assert bad.status == 400 and bad.content_type == "application/problem+json"


async def test_provider_that_never_answers_leaves_a_pending_order_and_no_rights(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    headers = {**desk, "Idempotency-Key": "k-never"}
    for _ in range(3):
        response = await h.client.post("/v1/orders", json=single_order("tok_timeout_always"), headers=headers)
        assert response.status == 503 and (await response.json())["code"] == "payment_pending"
    assert await h.count("ticketing_orders") == 1
    assert await h.count("ticketing_contracts") == 0 and await h.count("ticketing_ledger") == 0
    assert await h.service.pool.fetchval("SELECT status FROM ticketing_orders") == "pending"


async def test_catalogue_swap_is_seen_by_the_next_request(make_harness, region_catalogue):
    from dataclasses import replace

    h = await make_harness()
    cheaper = tuple(replace(p, price_minor=100) if p.fare_product_id == "tcl:single" else p for p in region_catalogue.products)
    previous = h.service.catalogues.swap(replace(region_catalogue, products=cheaper, _by_id={}))
    assert previous is region_catalogue
    products = await (await h.client.get("/v1/products", params={"network": "tcl", "media": "paper"})).json()
    assert {p["price_minor"] for p in products["products"] if p["fare_product_id"] == "tcl:single"} == {100}


async def test_a_revoked_sales_point_key_is_refused_within_the_cache_ttl(make_harness):
    """Keys are remembered for a few seconds (oura.auth.PrincipalCache); a revocation still stops
    a sales point within that bound. The route's cache runs on a fake monotonic clock here."""
    from oura.auth import revoke_key

    h = await make_harness()
    (route,) = [r for r in h.client.app.router.routes() if r.method == "POST" and r.resource.canonical == "/v1/orders"]
    cache = route.handler.principal_cache
    now_s = [0.0]
    cache.clock = lambda: now_s[0]
    headers = await h.key("sales_point", "sytral")
    first = await h.client.post("/v1/orders", json=single_order(), headers={**headers, "Idempotency-Key": "k1"})
    assert first.status == 201
    key_id = headers["Authorization"].split("_")[1]
    assert await revoke_key(h.service.pool, key_id)
    now_s[0] += cache.ttl_s
    refused = await h.client.post("/v1/orders", json=single_order(), headers={**headers, "Idempotency-Key": "k2"})
    assert refused.status == 401 and (await refused.json())["code"] == "invalid_api_key"
    assert await h.count("ticketing_orders") == 1


@pytest.mark.parametrize(
    ("token", "death"),
    [("tok_fail_after_charge", "declare"), ("tok_timeout", "reconstitute")],
)
async def test_resumed_sale_never_loads_a_contract_on_a_dead_medium(make_harness, token, death):
    """A sale left pending (payment outcome unknown) whose card is declared lost, or lost and
    reconstituted, before the client retries: the retry takes the charge (idempotent), refunds
    it, loads nothing and answers 409 ``medium_not_active``; so does every further retry."""
    h = await make_harness()
    desk = await h.key("sales_point", "grenoble")
    issued = await (await h.client.post("/v1/media", json={}, headers=desk)).json()
    card = issued["serial"]
    order = single_order(token, expected_total_minor=6000,
                         item={"fare_product_id": "ter-tcl-10", "fare_media_id": "oura-card", "quantity": 1, "medium": card})
    headers = {**desk, "Idempotency-Key": f"k-dead-{death}"}
    first = await h.client.post("/v1/orders", json=order, headers=headers)
    assert first.status == 503
    order_id = (await first.json())["order_id"]
    await h.client.post(f"/v1/media/{card}/declare", json={"reason": "lost"}, headers=desk)
    if death == "reconstitute":
        proof = {"card_secret": issued["card_secret"]}
        assert (await h.client.post(f"/v1/media/{card}/reconstitute", json=proof, headers=desk)).status == 201

    answers = [await h.client.post("/v1/orders", json=order, headers=headers) for _ in range(3)]
    assert [a.status for a in answers] == [409, 409, 409]
    assert all(a.content_type == "application/problem+json" for a in answers)
    bodies = [{k: v for k, v in (await a.json()).items() if k != "instance"} for a in answers]  # instance: per request
    assert bodies[0]["code"] == "medium_not_active" and bodies[0]["order_id"] == order_id
    assert bodies[1] == bodies[0] == bodies[2]

    assert await h.count("ticketing_contracts") == 0 and await h.count("ticketing_ledger") == 0
    assert h.provider.charged_minor == 6000 and len(h.provider.refunds) == 1
    assert sum(r.amount_minor for r in h.provider.refunds.values()) == 6000
    admin = await h.key("admin", None)
    view = await (await h.client.get(f"/v1/orders/{order_id}", headers=admin)).json()
    assert view["status"] == "failed" and view["refunded_minor"] == 6000
    assert view["failure"]["code"] == "medium_not_active" and view["failure"]["detail"]["medium"] == card
    assert sorted(p["kind"] for p in view["payments"]) == ["charge", "refund"]
    actions = [r["action"] for r in await h.service.pool.fetch(
        "SELECT action FROM audit_log WHERE subject = $1 ORDER BY created_at, action", f"order:{order_id}")]
    assert "ticketing.order.refused_medium_not_active" in actions and "ticketing.order.paid" not in actions
    report = await (await h.client.get("/v1/clearing", params={"period": "2026-03"}, headers=admin)).json()
    assert report["is_balanced"] and report["balances"] == []
    refund = await h.client.post(f"/v1/orders/{order_id}/refund", headers=admin)  # its money is back already
    assert refund.status == 409 and (await refund.json())["code"] == "refund_not_allowed"
    assert len(h.provider.refunds) == 1


async def test_the_sale_answers_the_order_exactly_as_it_reads_back(make_harness):
    """The sale's answer is built by the statement that writes the order (no read after it): it
    must be the order as ``GET /v1/orders/{id}`` reads it, for paper tickets, a card and a combined
    product split between networks, from a seller that earns a commission."""
    h = await make_harness()
    machine = await h.key("sales_point", "grenoble")
    card = (await (await h.client.post("/v1/media", json={"kind": "smartcard"}, headers=machine)).json())["serial"]
    order = {"channel": "vending_machine", "payment": {"token": "tok_approve"}, "expected_total_minor": 420 + 6000 + 380,
             "items": [{"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "paper", "quantity": 2},
                       {"fare_product_id": "ter-tcl-10", "rider_category_id": "adult", "fare_media_id": "oura-card",
                        "medium": card},
                       {"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "oura-card",
                        "medium": card, "quantity": 2}]}
    sold = await h.client.post("/v1/orders", json=order, headers={**machine, "Idempotency-Key": "mixed"})
    assert sold.status == 201, await sold.text()
    answered = await sold.json()
    read_back = await h.client.get(f"/v1/orders/{answered['order_id']}", headers=machine)
    assert await read_back.json() == answered
    paper, combined, on_card = answered["lines"]
    assert len(paper["contract_ids"]) == 2 and len(set(paper["media"])) == 2
    assert combined["media"] == on_card["media"] == [card] and len(on_card["contract_ids"]) == 2
    assert {r["kind"] for r in answered["ledger"]} >= {"revenue", "commission"}
    assert [p["amount_minor"] for p in answered["payments"]] == [6800]
