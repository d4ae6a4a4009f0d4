"""Acceptance scenario of the ticketing core, over HTTP against a real PostgreSQL.

FEATURE UNDER TEST: a vending machine of authority A (grenoble, network tag) sells the combined
rail + urban product of networks B (ter, authority region) and C (tcl, authority sytral) with a
retried request; the card validates on B and C, is refused on D (stas, saint-etienne), is declared
lost and reconstituted; the old card is refused, the new one carries the remaining trips; clearing
credits B's and C's authorities and A's commission.

Money worked out by hand: ter-tcl-10 costs 60.00 EUR = 6000. Clearing key ter 800 / tcl 200:
ter 4800, tcl 1200. Default commission 50 permille: 240 on ter's part, 60 on tcl's part.
So region gets 4560, sytral 1140, grenoble keeps 300; 4560 + 1140 + 300 = 6000.
"""

from __future__ import annotations

from datetime import timedelta

ORDER = {
    "channel": "vending_machine",
    "payment": {"token": "tok_fail_after_charge"},
    "expected_total_minor": 6000,
    "items": [{"fare_product_id": "ter-tcl-10", "rider_category_id": "adult", "fare_media_id": "oura-card", "quantity": 1}],
}


def event(event_id: str, serial: str, when, route: str, stop: str) -> dict:
    return {"event_id": event_id, "medium": serial, "time": when.isoformat(), "stop_id": stop, "route_id": route, "direction_id": 0}


async def test_sell_validate_lose_reconstitute_and_clear(make_harness):
    h = await make_harness()
    client = h.client
    machine = await h.key("sales_point", "grenoble")
    ter_validator = await h.key("device", "region")
    tcl_validator = await h.key("device", "sytral")
    stas_validator = await h.key("device", "saint-etienne")
    admin = await h.key("admin", None)

    # A card, anonymous, issued by the machine.
    response = await client.post("/v1/media", json={"kind": "smartcard"}, headers=machine)
    assert response.status == 201
    card, secret = (await response.json())["serial"], (await response.json())["card_secret"]  # printed on the card

    # The sale: the provider charges then fails; the machine retries with the same key, twice.
    order = {**ORDER, "items": [{**ORDER["items"][0], "medium": card}]}
    headers = {**machine, "Idempotency-Key": "vm-42-0001"}
    first = await client.post("/v1/orders", json=order, headers=headers)
    assert first.status == 503
    assert (await first.json())["code"] == "payment_pending"
    second = await client.post("/v1/orders", json=order, headers=headers)
    assert second.status == 200
    paid = await second.json()
    third = await client.post("/v1/orders", json=order, headers=headers)
    assert (await third.json())["order_id"] == paid["order_id"]
    assert paid["status"] == "paid" and paid["total_minor"] == 6000
    assert len(h.provider.charges) == 1 and h.provider.charged_minor == 6000  # one charge
    assert await h.count("ticketing_orders") == 1 and await h.count("ticketing_payments") == 1
    (line,) = paid["lines"]
    assert line["owning_authority_ids"] == ["sytral", "region"] and line["network_ids"] == ["tcl", "ter"]
    assert paid["selling_authority_id"] == "grenoble" and paid["channel"] == "vending_machine"
    audit = await h.service.pool.fetch("SELECT action FROM audit_log WHERE subject = $1 ORDER BY audit_id", f"order:{paid['order_id']}")
    assert [a["action"] for a in audit] == ["ticketing.order.placed", "ticketing.order.payment_unknown", "ticketing.order.paid"]

    # Validations on B and C count one trip each; on D the card has nothing. The validators upload
    # later (the server refuses events dated ahead of its clock).
    t0 = h.clock.now() + timedelta(hours=1)
    h.clock.advance(timedelta(hours=6))
    on_b = await client.post("/v1/validations", json={"events": [event("b1", card, t0, "ter:L1", "ter:lyon")]}, headers=ter_validator)
    assert on_b.status == 200
    (decision,) = (await on_b.json())["decisions"]
    assert (decision["accepted"], decision["reason"], decision["remaining_trips"]) == (True, "valid", 9)
    contract_id = decision["contract_id"]
    on_c = await client.post("/v1/validations", json={"events": [event("c1", card, t0 + timedelta(hours=2), "tcl:T1", "tcl:bellecour")]}, headers=tcl_validator)
    (decision,) = (await on_c.json())["decisions"]
    assert (decision["accepted"], decision["reason"], decision["remaining_trips"], decision["contract_id"]) == (True, "valid", 8, contract_id)
    # The same event again (the validator retried): same decision, nothing consumed twice.
    again = await client.post("/v1/validations", json={"events": [event("c1", card, t0 + timedelta(hours=2), "tcl:T1", "tcl:bellecour")]}, headers=tcl_validator)
    (decision,) = (await again.json())["decisions"]
    assert decision["replayed"] and decision["remaining_trips"] == 8
    on_d = await client.post("/v1/validations", json={"events": [event("d1", card, t0 + timedelta(hours=3), "stas:M1", "stas:chateaucreux")]}, headers=stas_validator)
    (decision,) = (await on_d.json())["decisions"]
    assert (decision["accepted"], decision["reason"]) == (False, "no_contract_for_network")

    # Lost: the card goes on the deny list, validators learn it incrementally.
    declared = await client.post(f"/v1/media/{card}/declare", json={"reason": "lost"}, headers=machine)
    assert declared.status == 200
    version = (await declared.json())["denylist_version"]
    deny = await (await client.get("/v1/denylist", params={"since": version - 1}, headers=ter_validator)).json()
    assert [e["serial"] for e in deny["entries"]] == [card] and deny["version"] == version

    # Reconstitution, for whoever holds the secret printed on the card: once, with exactly the remaining rights.
    rebuilt = await client.post(f"/v1/media/{card}/reconstitute", json={"card_secret": secret}, headers=machine)
    assert rebuilt.status == 201
    new = await rebuilt.json()
    new_card = new["serial"]
    (moved,) = new["contracts"]
    assert (moved["fare_product_id"], moved["remaining_trips"], moved["trips_total"]) == ("ter-tcl-10", 8, 10)
    assert moved["reconstituted_from"] == contract_id
    twice = await client.post(f"/v1/media/{card}/reconstitute", json={"card_secret": secret}, headers=machine)
    assert twice.status == 409 and (await twice.json())["code"] == "already_reconstituted"
    assert await h.count("ticketing_media") == 2

    t1 = t0 + timedelta(hours=5)
    old = await client.post("/v1/validations", json={"events": [event("b2", card, t1, "ter:L1", "ter:lyon")]}, headers=ter_validator)
    (decision,) = (await old.json())["decisions"]
    assert (decision["accepted"], decision["reason"]) == (False, "deny_listed")
    fresh = await client.post("/v1/validations", json={"events": [event("b3", new_card, t1, "ter:L1", "ter:lyon")]}, headers=ter_validator)
    (decision,) = (await fresh.json())["decisions"]
    assert (decision["accepted"], decision["reason"], decision["remaining_trips"]) == (True, "valid", 7)

    # Clearing: B's and C's authorities credited, A's commission, the ledger sums to the money taken.
    report = await (await client.get("/v1/clearing", params={"period": "2026-03"}, headers=admin)).json()
    balances = {(b["debtor_authority_id"], b["creditor_authority_id"]): b["amount_minor"] for b in report["balances"]}
    assert balances == {("grenoble", "region"): 4560, ("grenoble", "sytral"): 1140}
    totals = {a["authority_id"]: a for a in report["authorities"]}
    assert totals["grenoble"]["commission_minor"] == 300 and totals["grenoble"]["collected_minor"] == 6000
    assert totals["region"]["revenue_minor"] == 4560 and totals["sytral"]["revenue_minor"] == 1140
    assert report["ledger_total_minor"] == {"EUR": 6000} == report["money_taken_minor"] and report["is_balanced"]
    # An authority sees its own pairs only.
    sytral_view = await (await client.get("/v1/clearing", params={"period": "2026-03"}, headers=await h.key("authority", "sytral"))).json()
    assert [(b["debtor_authority_id"], b["creditor_authority_id"]) for b in sytral_view["balances"]] == [("grenoble", "sytral")]
    # ...and none of the region's totals: what its points collected (nothing) checked against what they
    # took (nothing), and its own totals (the revenue grenoble collected for it).
    assert sytral_view["ledger_total_minor"] == {} == sytral_view["money_taken_minor"] and sytral_view["is_balanced"]
    assert [(a["authority_id"], a["revenue_minor"]) for a in sytral_view["authorities"]] == [("sytral", 1140)]
