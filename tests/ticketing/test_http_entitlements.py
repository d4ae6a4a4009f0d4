"""Reduced fares need an entitlement: a rider category other than the default is sold onto a
medium only while it holds a valid entitlement, recorded by a sales point of the card's authority
after checking the proof (stored as a minimal claim). Anonymous media and paper tickets travel at
the default category only. And only registry authorities sell."""

from __future__ import annotations

from datetime import timedelta


def youth_order(card: str | None, media: str = "oura-card") -> dict:
    item = {"fare_product_id": "tcl:single_youth", "rider_category_id": "youth", "fare_media_id": media, "quantity": 1}
    if card is not None:
        item["medium"] = card
    return {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 100, "items": [item]}


def entitlement(h, days: int = 365, **changes) -> dict:  # noqa: ANN001
    body = {"rider_category_id": "youth", "valid_until": (h.clock.now() + timedelta(days=days)).isoformat(),
            "proof_checked": True}
    body.update(changes)
    return body


async def _registered_card(h, desk: dict) -> str:  # noqa: ANN001
    issued = await (await h.client.post("/v1/media", json={"holder": {"display_name": "Y. Rider"}}, headers=desk)).json()
    return issued["serial"]


async def test_a_youth_fare_needs_an_entitlement_on_the_card(make_harness):
    """Regression: any rider category was sold onto any card, no proof asked."""
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    card = await _registered_card(h, desk)

    refused = await h.client.post("/v1/orders", json=youth_order(card), headers={**desk, "Idempotency-Key": "y1"})
    assert refused.status == 403 and (await refused.json())["code"] == "entitlement_required"
    assert await h.count("ticketing_orders") == 0 and h.provider.charged_minor == 0

    recorded = await h.client.post(f"/v1/media/{card}/entitlements", json=entitlement(h), headers=desk)
    assert recorded.status == 201
    claim = await recorded.json()
    assert (claim["rider_category_id"], claim["verified_by_authority_id"]) == ("youth", "sytral")
    stored = await h.service.pool.fetchrow("SELECT * FROM ticketing_entitlements")
    assert set(dict(stored)) == {"entitlement_id", "medium_id", "rider_category_id", "verified_by_authority_id",
                                 "verified_by_key_id", "valid_until", "created_at"}  # a claim, no document

    sold = await h.client.post("/v1/orders", json=youth_order(card), headers={**desk, "Idempotency-Key": "y2"})
    assert sold.status == 201
    view = await (await h.client.get(f"/v1/media/{card}", headers=desk)).json()
    assert [c["rider_category_id"] for c in view["contracts"]] == ["youth"]
    assert [e["rider_category_id"] for e in view["entitlements"]] == ["youth"]


async def test_an_expired_entitlement_no_longer_sells(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    card = await _registered_card(h, desk)
    assert (await h.client.post(f"/v1/media/{card}/entitlements", json=entitlement(h, days=1), headers=desk)).status == 201
    h.clock.set(h.clock.now() + timedelta(days=2))
    refused = await h.client.post("/v1/orders", json=youth_order(card), headers={**desk, "Idempotency-Key": "late"})
    assert refused.status == 403 and (await refused.json())["code"] == "entitlement_required"


async def test_anonymous_cards_and_paper_tickets_hold_the_default_category_only(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    anonymous = (await (await h.client.post("/v1/media", json={}, headers=desk)).json())["serial"]
    refused = await h.client.post(f"/v1/media/{anonymous}/entitlements", json=entitlement(h), headers=desk)
    assert refused.status == 409 and (await refused.json())["code"] == "anonymous_medium"
    on_card = await h.client.post("/v1/orders", json=youth_order(anonymous), headers={**desk, "Idempotency-Key": "a"})
    assert on_card.status == 403 and (await on_card.json())["code"] == "entitlement_required"
    on_paper = await h.client.post("/v1/orders", json=youth_order(None, "paper"), headers={**desk, "Idempotency-Key": "p"})
    assert on_paper.status == 403 and (await on_paper.json())["code"] == "entitlement_required"
    adult = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 190,
             "items": [{"fare_product_id": "tcl:single", "fare_media_id": "oura-card", "medium": anonymous}]}
    assert (await h.client.post("/v1/orders", json=adult, headers={**desk, "Idempotency-Key": "d"})).status == 201
    assert await h.count("ticketing_entitlements") == 0


async def test_only_the_cards_authority_records_an_entitlement_and_the_body_is_checked(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    elsewhere = await h.key("sales_point", "grenoble")
    card = await _registered_card(h, desk)
    other = await h.client.post(f"/v1/media/{card}/entitlements", json=entitlement(h), headers=elsewhere)
    assert other.status == 403 and (await other.json())["code"] == "not_card_issuer"
    for bad in (entitlement(h, proof_checked=False), entitlement(h, rider_category_id="adult"),
                entitlement(h, rider_category_id="pirate"), entitlement(h, days=-1), entitlement(h, days=20 * 365),
                entitlement(h, valid_until="2027-01-01T00:00:00")):
        answer = await h.client.post(f"/v1/media/{card}/entitlements", json=bad, headers=desk)
        assert answer.status == 400 and (await answer.json())["code"] == "invalid_entitlement", bad
    assert (await h.client.post("/v1/media/C000/entitlements", json=entitlement(h), headers=desk)).status == 404
    assert await h.count("ticketing_entitlements") == 0


async def test_a_reconstituted_card_keeps_its_entitlements(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    issued = await (await h.client.post("/v1/media", json={"holder": {"display_name": "Y. Rider"}}, headers=desk)).json()
    card = issued["serial"]
    assert (await h.client.post(f"/v1/media/{card}/entitlements", json=entitlement(h), headers=desk)).status == 201
    await h.client.post(f"/v1/media/{card}/declare", json={"reason": "lost"}, headers=desk)
    new = await h.client.post(f"/v1/media/{card}/reconstitute",
                              json={"holder_account": issued["holder"]["account_number"]}, headers=desk)
    assert new.status == 201
    new_card = (await new.json())["serial"]
    assert [e["rider_category_id"] for e in (await new.json())["entitlements"]] == ["youth"]
    assert (await h.client.post("/v1/orders", json=youth_order(new_card), headers={**desk, "Idempotency-Key": "n"})).status == 201


async def test_a_key_of_an_authority_outside_the_registry_cannot_sell(make_harness):
    """Regression: a key made for a made-up authority sold tickets that then appeared in clearing."""
    h = await make_harness()
    rogue = await h.key("sales_point", "made-up")
    order = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 210,
             "items": [{"fare_product_id": "tcl:single", "fare_media_id": "paper"}]}
    refused = await h.client.post("/v1/orders", json=order, headers={**rogue, "Idempotency-Key": "r"})
    assert refused.status == 403 and (await refused.json())["code"] == "unregistered_authority"
    assert await h.count("ticketing_orders") == 0 and await h.count("ticketing_ledger") == 0
