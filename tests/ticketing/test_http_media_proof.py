"""Reconstitution and declaration need the holder's proof: a registered card's account number, an
anonymous card's printed secret (stored hashed); a paper ticket is never reconstituted; a sales
point declares the cards its authority issued, another's only with the holder present."""

from __future__ import annotations

from ticketing.media import hash_card_secret


async def _issue(h, desk: dict, holder: dict | None = None) -> dict:  # noqa: ANN001
    body = {"holder": holder} if holder else {}
    return await (await h.client.post("/v1/media", json=body, headers=desk)).json()


async def test_an_anonymous_card_is_reconstituted_only_with_its_printed_secret(make_harness):
    """Regression: anyone knowing a card's serial could move its contracts onto a card of their own."""
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    issued = await _issue(h, desk)
    serial, secret = issued["serial"], issued["card_secret"]
    stored = await h.service.pool.fetchval("SELECT secret_hash FROM ticketing_media WHERE serial = $1", serial)
    assert bytes(stored) == hash_card_secret(secret) and secret.encode() not in bytes(stored)  # a hash, not the secret
    assert "card_secret" not in await (await h.client.get(f"/v1/media/{serial}", headers=desk)).json()  # shown once
    await h.client.post(f"/v1/media/{serial}/declare", json={"reason": "lost"}, headers=desk)

    for proof in (None, {}, {"card_secret": "AAAA-BBBB"}, {"holder_account": "A0"}):
        refused = await h.client.post(f"/v1/media/{serial}/reconstitute", json=proof, headers=desk)
        assert refused.status == 403 and (await refused.json())["code"] == "reconstitution_proof_required", proof
    assert await h.count("ticketing_media") == 1

    typed = " ".join(secret.lower().split("-"))  # typed at a desk: case, spaces and dashes do not matter
    moved = await h.client.post(f"/v1/media/{serial}/reconstitute", json={"card_secret": typed}, headers=desk)
    assert moved.status == 201
    new = await moved.json()
    assert new["anonymous"] and new["card_secret"] and new["card_secret"] != secret  # a new card, a new secret


async def test_a_registered_card_is_reconstituted_for_its_holders_account_only(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    issued = await _issue(h, desk, {"display_name": "R. Rider"})
    other = await _issue(h, desk, {"display_name": "Someone Else"})
    serial, account = issued["serial"], issued["holder"]["account_number"]
    assert "card_secret" not in issued and account != other["holder"]["account_number"]
    await h.client.post(f"/v1/media/{serial}/declare", json={"reason": "stolen"}, headers=desk)
    for proof in ({}, {"holder_account": other["holder"]["account_number"]}, {"card_secret": "x"}):
        refused = await h.client.post(f"/v1/media/{serial}/reconstitute", json=proof, headers=desk)
        assert refused.status == 403 and (await refused.json())["code"] == "reconstitution_proof_required", proof
    moved = await h.client.post(f"/v1/media/{serial}/reconstitute", json={"holder_account": account.lower()}, headers=desk)
    assert moved.status == 201 and not (await moved.json())["anonymous"]


async def test_a_paper_ticket_is_never_reconstituted(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    order = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 210,
             "items": [{"fare_product_id": "tcl:single", "fare_media_id": "paper"}]}
    sold = await (await h.client.post("/v1/orders", json=order, headers={**desk, "Idempotency-Key": "p"})).json()
    (paper,) = sold["lines"][0]["media"]
    assert (await h.client.post(f"/v1/media/{paper}/declare", json={"reason": "lost"}, headers=desk)).status == 200
    refused = await h.client.post(f"/v1/media/{paper}/reconstitute", json={"card_secret": "anything"}, headers=desk)
    assert refused.status == 409 and (await refused.json())["code"] == "paper_not_reconstitutable"
    assert await h.count("ticketing_contracts") == 1


async def test_another_authority_declares_a_card_only_with_its_holder_present(make_harness):
    """Regression: any sales point of the region could deny-list any card whose serial it read."""
    h = await make_harness()
    issuer = await h.key("sales_point", "sytral")
    elsewhere = await h.key("sales_point", "grenoble")
    admin = await h.key("admin", None)
    registered = await _issue(h, issuer, {"display_name": "R. Rider"})
    anonymous = await _issue(h, issuer)
    mine = await _issue(h, elsewhere)

    for card in (registered, anonymous):
        refused = await h.client.post(f"/v1/media/{card['serial']}/declare", json={"reason": "lost"}, headers=elsewhere)
        assert refused.status == 403 and (await refused.json())["code"] == "not_card_issuer"
    assert await h.count("ticketing_denylist") == 0

    with_account = {"reason": "lost", "holder_account": registered["holder"]["account_number"]}
    assert (await h.client.post(f"/v1/media/{registered['serial']}/declare", json=with_account, headers=elsewhere)).status == 200
    with_secret = {"reason": "stolen", "card_secret": anonymous["card_secret"]}
    assert (await h.client.post(f"/v1/media/{anonymous['serial']}/declare", json=with_secret, headers=elsewhere)).status == 200
    assert (await h.client.post(f"/v1/media/{mine['serial']}/declare", json={"reason": "lost"}, headers=elsewhere)).status == 200
    fourth = await _issue(h, issuer)
    assert (await h.client.post(f"/v1/media/{fourth['serial']}/declare", json={"reason": "lost"}, headers=admin)).status == 200
    assert await h.count("ticketing_denylist") == 4
