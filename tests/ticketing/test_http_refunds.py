"""Refunds over HTTP: some contracts or all, amounts and ledger rows worked out by hand."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

MIXED = {  # sold by grenoble (commission 50 permille on the others' networks): 420 + 6000 + 380
    "channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 6800,
    "items": [{"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "paper", "quantity": 2},
              {"fare_product_id": "ter-tcl-10", "rider_category_id": "adult", "fare_media_id": "oura-card"},
              {"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "oura-card", "quantity": 2}],
}


def _rows(order: dict, since: int = 0) -> list[tuple]:
    """The order's ledger rows from the ``since``-th on, as (line, kind, beneficiary, network, amount)."""
    return [(r["line_no"], r["kind"], r["beneficiary_authority_id"], r["network_id"], r["amount_minor"])
            for r in order["ledger"][since:]]


async def _money_taken(h, order_id: int) -> int:
    return await h.service.pool.fetchval(
        "SELECT coalesce(sum(CASE WHEN kind = 'charge' THEN amount_minor ELSE -amount_minor END), 0)"
        " FROM ticketing_payments WHERE order_id = $1", order_id)


async def test_a_partial_refund_then_the_rest_nets_the_ledger_exactly(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "grenoble")
    card = (await (await h.client.post("/v1/media", json={}, headers=desk)).json())["serial"]
    order = {**MIXED, "items": [MIXED["items"][0], {**MIXED["items"][1], "medium": card}, {**MIXED["items"][2], "medium": card}]}
    sold = await (await h.client.post("/v1/orders", json=order, headers={**desk, "Idempotency-Key": "mixed"})).json()
    order_id = sold["order_id"]
    paper, combined, on_card = (line["contract_ids"] for line in sold["lines"])
    # The sale: 420 on tcl -> sytral 399 + commission 21; 6000 split ter 4800 (region 4560 + 240) and
    # tcl 1200 (sytral 1140 + 60); 380 on tcl -> sytral 361 + commission 19.
    sale_rows = len(sold["ledger"])
    assert sum(r["amount_minor"] for r in sold["ledger"]) == 6800

    # One paper ticket (210) and the combined 10 trips (6000): 6210.
    first = await h.client.post(f"/v1/orders/{order_id}/refund", json={"contract_ids": [paper[0], combined[0]]}, headers=desk)
    assert first.status == 200, await first.text()
    partly = await first.json()
    assert (partly["status"], partly["refunded_minor"]) == ("partially_refunded", 6210)
    assert sorted(_rows(partly, sale_rows)) == sorted([
        (1, "revenue", "sytral", "tcl", -200), (1, "commission", "grenoble", "tcl", -10),  # 210: 10 commission
        (2, "revenue", "region", "ter", -4560), (2, "commission", "grenoble", "ter", -240),
        (2, "revenue", "sytral", "tcl", -1140), (2, "commission", "grenoble", "tcl", -60)])
    assert [(p["kind"], p["amount_minor"]) for p in partly["payments"]] == [("charge", 6800), ("refund", 6210)]
    assert [(k, r.amount_minor) for k, r in h.provider.refunds.items()] == [(f"refund-{order_id}-1", 6210)]
    assert sum(r["amount_minor"] for r in partly["ledger"]) == 590 == await _money_taken(h, order_id)
    contracts = {c["contract_id"]: c["status"] for c in (await (await h.client.get(f"/v1/media/{card}", headers=desk)).json())["contracts"]}
    assert contracts == {combined[0]: "refunded", on_card[0]: "active", on_card[1]: "active"}

    again = await h.client.post(f"/v1/orders/{order_id}/refund", json={"contract_ids": [combined[0], paper[0]]}, headers=desk)
    assert again.status == 200 and await again.json() == partly  # the same refund: the order unchanged
    assert len(h.provider.refunds) == 1

    # No body: every contract not refunded yet, the other paper ticket and the two on the card: 590.
    rest = await (await h.client.post(f"/v1/orders/{order_id}/refund", headers=desk)).json()
    assert (rest["status"], rest["refunded_minor"]) == ("refunded", 6800)
    assert sorted(_rows(rest, len(partly["ledger"]))) == sorted([
        (1, "revenue", "sytral", "tcl", -199), (1, "commission", "grenoble", "tcl", -11),  # 399 - 200, 21 - 10
        (3, "revenue", "sytral", "tcl", -361), (3, "commission", "grenoble", "tcl", -19)])
    assert [(k, r.amount_minor) for k, r in h.provider.refunds.items()] == [
        (f"refund-{order_id}-1", 6210), (f"refund-{order_id}-2", 590)]
    assert await _money_taken(h, order_id) == 0
    net = Counter()
    for r in rest["ledger"]:
        net[(r["line_no"], r["kind"], r["beneficiary_authority_id"], r["network_id"])] += r["amount_minor"]
    assert set(net.values()) == {0}  # every row of the sale exactly undone, not just the total
    admin = await h.key("admin", None)
    report = await (await h.client.get("/v1/clearing", params={"period": "2026-03-02"}, headers=admin)).json()
    assert report["balances"] == [] and report["is_balanced"]

    assert await (await h.client.post(f"/v1/orders/{order_id}/refund", headers=desk)).json() == rest  # idempotent
    assert len(h.provider.refunds) == 2


async def test_only_active_never_used_contracts_of_the_order_are_refunded(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    order = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 630,
             "items": [{"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "paper", "quantity": 3}]}
    sold = await (await h.client.post("/v1/orders", json=order, headers={**desk, "Idempotency-Key": "three"})).json()
    other = await (await h.client.post("/v1/orders", json={**order, "expected_total_minor": 210, "items": [{**order["items"][0], "quantity": 1}]},
                                       headers={**desk, "Idempotency-Key": "one"})).json()
    order_id, (line,) = sold["order_id"], sold["lines"]
    serial = line["media"][0]
    (used,) = [c["contract_id"] for c in (await (await h.client.get(f"/v1/media/{serial}", headers=desk)).json())["contracts"]]
    unused = [c for c in line["contract_ids"] if c != used]
    validator = await h.key("device", "sytral")
    when = (h.clock.now() + timedelta(minutes=5)).isoformat()
    event = {"event_id": "e1", "medium": serial, "time": when, "stop_id": "tcl:x", "route_id": "tcl:C3"}
    assert (await h.client.post("/v1/validations", json={"events": [event]}, headers=validator)).status == 200

    async def refused(body: dict | None, listed: list[int]) -> None:
        response = await h.client.post(f"/v1/orders/{order_id}/refund", json=body, headers=desk)
        problem = await response.json()
        assert (response.status, problem["code"], problem["contract_ids"]) == (409, "refund_not_allowed", listed)

    await refused({"contract_ids": [used]}, [used])
    await refused({"contract_ids": [unused[0], used]}, [used])  # all or nothing
    await refused({"contract_ids": [other["lines"][0]["contract_ids"][0], 10**30]}, [other["lines"][0]["contract_ids"][0], 10**30])
    await refused(None, [used])  # the whole order: one of its contracts was used
    assert h.provider.refunds == {} and (await h.service.get_order(order_id)).status == "paid"

    refunded = await (await h.client.post(f"/v1/orders/{order_id}/refund", json={"contract_ids": [unused[0]]}, headers=desk)).json()
    assert (refunded["status"], refunded["refunded_minor"]) == ("partially_refunded", 210)
    assert _rows(refunded, 1) == [(1, "revenue", "sytral", "tcl", -210)]  # its own network: no commission
    assert sum(r["amount_minor"] for r in refunded["ledger"]) == 420 == await _money_taken(h, order_id)
    await refused({"contract_ids": [unused[0], unused[1]]}, [unused[0]])  # already refunded, in a new request


@pytest.mark.parametrize("body", [[1], "x", {"contract_ids": []}, {"contract_ids": "all"}, {"contract_ids": ["1"]},
                                  {"contract_ids": [True]}, {"contract_ids": [1.5]}])
async def test_a_malformed_refund_body_is_a_400_and_refunds_nothing(make_harness, body):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    order = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 210,
             "items": [{"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "paper"}]}
    sold = await (await h.client.post("/v1/orders", json=order, headers={**desk, "Idempotency-Key": "k"})).json()
    response = await h.client.post(f"/v1/orders/{sold['order_id']}/refund", json=body, headers=desk)
    assert response.status == 400 and (await response.json())["code"] == "invalid_refund"
    assert h.provider.refunds == {} and (await h.service.get_order(sold["order_id"])).status == "paid"
