"""Commission rates over HTTP: listing, setting and removing them (audited), the ledger of the next
sale, the rate a resumed order keeps, and bad input that must leave nothing written.

Amounts are worked out by hand: tcl's paper single is 210, so two are 420; a combined
``ter-tcl-day`` is 1500, split ter 700 ‰ (1050) / tcl 300 ‰ (450). A commission is
``part * permille // 1000`` of each part owned by another authority than the seller.
"""

from __future__ import annotations

import pytest


def paper_singles(token: str = "tok_approve") -> dict:
    """Two tcl paper singles (owner: sytral), 2 × 210 = 420."""
    return {"channel": "desk", "payment": {"token": token}, "expected_total_minor": 420,
            "items": [{"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "paper", "quantity": 2}]}


def ledger(order: dict) -> list[tuple]:
    return [(r["kind"], r["beneficiary_authority_id"], r["network_id"], r["amount_minor"]) for r in order["ledger"]]


async def rate_audit(h) -> list[tuple]:
    rows = await h.service.pool.fetch(
        "SELECT action, authority_id, subject, data FROM audit_log WHERE action LIKE 'ticketing.commission_rate.%' ORDER BY audit_id")
    return [(r["action"], r["authority_id"], r["subject"], r["data"]) for r in rows]


async def stored_rates(h) -> list[tuple]:
    rows = await h.service.pool.fetch("SELECT selling_authority_id, commission_permille FROM ticketing_commission_rates ORDER BY 1")
    return [tuple(r) for r in rows]


async def test_a_new_rate_applies_to_the_next_cross_network_sale(make_harness):
    h = await make_harness()
    admin = await h.key("admin", None)
    desk = await h.key("sales_point", "grenoble")
    before = await (await h.client.post("/v1/orders", json=paper_singles(), headers={**desk, "Idempotency-Key": "k1"})).json()
    # default 50 ‰: 420 * 50 // 1000 = 21 kept by grenoble, 399 owed to sytral
    assert ledger(before) == [("revenue", "sytral", "tcl", 399), ("commission", "grenoble", "tcl", 21)]

    response = await h.client.put("/v1/commission-rates/grenoble", json={"commission_permille": 120}, headers=admin)
    assert response.status == 200
    assert await response.json() == {"selling_authority_id": "grenoble", "commission_permille": 120}

    after = await (await h.client.post("/v1/orders", json=paper_singles(), headers={**desk, "Idempotency-Key": "k2"})).json()
    # 120 ‰: 420 * 120 // 1000 = 50 (50.4 rounded down), 370 owed to sytral
    assert ledger(after) == [("revenue", "sytral", "tcl", 370), ("commission", "grenoble", "tcl", 50)]
    reread = await (await h.client.get(f"/v1/orders/{before['order_id']}", headers=admin)).json()
    assert ledger(reread) == ledger(before)  # the ledger is never rewritten
    assert await rate_audit(h) == [("ticketing.commission_rate.set", "grenoble", "commission_rate:grenoble",
                                    {"old_permille": None, "new_permille": 120})]


async def test_a_combined_product_pays_commission_on_the_other_networks_part_only(make_harness):
    h = await make_harness()
    admin = await h.key("admin", None)
    desk = await h.key("sales_point", "sytral")
    assert (await h.client.put("/v1/commission-rates/sytral", json={"commission_permille": 80}, headers=admin)).status == 200
    card = await (await h.client.post("/v1/media", json={"kind": "smartcard"}, headers=desk)).json()
    order = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": 1500,
             "items": [{"fare_product_id": "ter-tcl-day", "fare_media_id": "oura-card", "medium": card["serial"]}]}
    response = await h.client.post("/v1/orders", json=order, headers={**desk, "Idempotency-Key": "day"})
    assert response.status == 201
    # ter's 1050 belongs to region: 1050 * 80 // 1000 = 84 kept by sytral, 966 owed; tcl's 450 is sytral's own.
    assert ledger(await response.json()) == [
        ("revenue", "sytral", "tcl", 450), ("revenue", "region", "ter", 966), ("commission", "sytral", "ter", 84)]


async def test_the_default_applies_to_authorities_without_their_own_rate(make_harness):
    h = await make_harness()
    admin = await h.key("admin", None)
    assert (await h.client.put("/v1/commission-rates/grenoble", json={"commission_permille": 100}, headers=admin)).status == 200
    response = await h.client.put("/v1/commission-rates/*", json={"commission_permille": 0}, headers=admin)
    assert await response.json() == {"selling_authority_id": "*", "commission_permille": 0}
    stas = await h.key("sales_point", "saint-etienne")
    grenoble = await h.key("sales_point", "grenoble")
    by_stas = await (await h.client.post("/v1/orders", json=paper_singles(), headers={**stas, "Idempotency-Key": "s"})).json()
    by_grenoble = await (await h.client.post("/v1/orders", json=paper_singles(), headers={**grenoble, "Idempotency-Key": "g"})).json()
    assert ledger(by_stas) == [("revenue", "sytral", "tcl", 420)]  # 0 ‰: no commission row
    assert ledger(by_grenoble) == [("revenue", "sytral", "tcl", 378), ("commission", "grenoble", "tcl", 42)]
    assert (await rate_audit(h))[-1] == ("ticketing.commission_rate.set", None, "commission_rate:*",
                                         {"old_permille": 50, "new_permille": 0})


async def _admin_sets_rates(h, rates: tuple[tuple[str, int], ...]) -> dict:
    """An admin sets each selling authority's rate (each answer 200); returns the admin's headers."""
    admin = await h.key("admin", None)
    for authority, permille in rates:
        response = await h.client.put(f"/v1/commission-rates/{authority}", json={"commission_permille": permille}, headers=admin)
        assert response.status == 200
    return admin


async def test_an_authority_sees_the_default_and_its_own_rate_only(make_harness):
    h = await make_harness()
    admin = await _admin_sets_rates(h, (("region", 30), ("grenoble", 120)))

    async def listed(headers: dict) -> list[tuple]:
        response = await h.client.get("/v1/commission-rates", headers=headers)
        assert response.status == 200
        return [(r["selling_authority_id"], r["commission_permille"]) for r in (await response.json())["rates"]]

    assert await listed(admin) == [("*", 50), ("grenoble", 120), ("region", 30)]
    assert await listed(await h.key("authority", "grenoble")) == [("*", 50), ("grenoble", 120)]
    assert await listed(await h.key("authority", "sytral")) == [("*", 50)]
    assert (await h.client.get("/v1/commission-rates", headers=await h.key("sales_point", "grenoble"))).status == 403
    assert (await h.client.get("/v1/commission-rates")).status == 401


async def test_deleting_a_rate_falls_back_to_the_default_and_is_audited(make_harness):
    h = await make_harness()
    admin = await h.key("admin", None)
    desk = await h.key("sales_point", "grenoble")
    for permille in (200, 150):
        assert (await h.client.put("/v1/commission-rates/grenoble", json={"commission_permille": permille}, headers=admin)).status == 200
    response = await h.client.delete("/v1/commission-rates/grenoble", headers=admin)
    assert response.status == 200
    assert await response.json() == {"selling_authority_id": "*", "commission_permille": 50}
    assert await stored_rates(h) == [("*", 50)]
    order = await (await h.client.post("/v1/orders", json=paper_singles(), headers={**desk, "Idempotency-Key": "k"})).json()
    assert ledger(order) == [("revenue", "sytral", "tcl", 399), ("commission", "grenoble", "tcl", 21)]
    assert [(action, data) for action, _, _, data in await rate_audit(h)] == [
        ("ticketing.commission_rate.set", {"old_permille": None, "new_permille": 200}),
        ("ticketing.commission_rate.set", {"old_permille": 200, "new_permille": 150}),
        ("ticketing.commission_rate.deleted", {"old_permille": 150, "new_permille": None, "default_permille": 50}),
    ]

    again = await h.client.delete("/v1/commission-rates/grenoble", headers=admin)
    assert again.status == 404 and (await again.json())["code"] == "unknown_commission_rate"
    default = await h.client.delete("/v1/commission-rates/*", headers=admin)
    assert default.status == 409 and default.content_type == "application/problem+json"
    assert (await default.json())["code"] == "default_commission_rate"
    assert await stored_rates(h) == [("*", 50)] and len(await rate_audit(h)) == 3


async def test_a_resumed_order_keeps_the_rate_it_was_claimed_with(make_harness):
    h = await make_harness()
    admin = await h.key("admin", None)
    desk = await h.key("sales_point", "grenoble")
    headers = {**desk, "Idempotency-Key": "k-timeout"}
    assert (await h.client.post("/v1/orders", json=paper_singles("tok_timeout"), headers=headers)).status == 503
    assert (await h.client.put("/v1/commission-rates/grenoble", json={"commission_permille": 200}, headers=admin)).status == 200

    resumed = await h.client.post("/v1/orders", json=paper_singles("tok_timeout"), headers=headers)
    assert resumed.status == 200
    # claimed at 50 ‰: 21 kept, 399 owed (at 200 ‰ it would have been 84 and 336)
    assert ledger(await resumed.json()) == [("revenue", "sytral", "tcl", 399), ("commission", "grenoble", "tcl", 21)]
    fresh = await h.client.post("/v1/orders", json=paper_singles(), headers={**desk, "Idempotency-Key": "k-new"})
    assert ledger(await fresh.json()) == [("revenue", "sytral", "tcl", 336), ("commission", "grenoble", "tcl", 84)]


@pytest.mark.parametrize(
    ("authority", "body", "status", "code"),
    [
        ("grenoble", b"", 400, "invalid_json"),
        ("grenoble", b"{}", 400, "invalid_commission_rate"),
        ("grenoble", b"[]", 400, "invalid_commission_rate"),
        ("grenoble", b'{"commission_permille": null}', 400, "invalid_commission_rate"),
        ("grenoble", b'{"commission_permille": 50.0}', 400, "invalid_commission_rate"),
        ("grenoble", b'{"commission_permille": 12.5}', 400, "invalid_commission_rate"),
        ("grenoble", b'{"commission_permille": "50"}', 400, "invalid_commission_rate"),
        ("grenoble", b'{"commission_permille": true}', 400, "invalid_commission_rate"),
        ("grenoble", b'{"commission_permille": -1}', 400, "invalid_commission_rate"),
        ("grenoble", b'{"commission_permille": 1001}', 400, "invalid_commission_rate"),
        ("*", b'{"commission_permille": 1001}', 400, "invalid_commission_rate"),
        ("nobody", b'{"commission_permille": 50}', 404, "unknown_authority"),
        ("tcl", b'{"commission_permille": 50}', 404, "unknown_authority"),  # a network, not its authority
    ],
)
async def test_bad_rates_get_a_problem_and_write_nothing(make_harness, authority, body, status, code):
    h = await make_harness()
    admin = await h.key("admin", None)
    response = await h.client.put(f"/v1/commission-rates/{authority}", data=body,
                                  headers={**admin, "Content-Type": "application/json"})
    assert response.status == status and response.content_type == "application/problem+json"
    assert (await response.json())["code"] == code
    assert await stored_rates(h) == [("*", 50)] and await rate_audit(h) == []


async def test_only_an_admin_key_changes_rates(make_harness):
    h = await make_harness()
    body = {"commission_permille": 0}
    for role in ("authority", "sales_point", "device"):
        headers = await h.key(role, "grenoble")
        assert (await h.client.put("/v1/commission-rates/grenoble", json=body, headers=headers)).status == 403
        assert (await h.client.put("/v1/commission-rates/*", json=body, headers=headers)).status == 403
        assert (await h.client.delete("/v1/commission-rates/grenoble", headers=headers)).status == 403
    assert (await h.client.put("/v1/commission-rates/grenoble", json=body)).status == 401
    assert await stored_rates(h) == [("*", 50)] and await rate_audit(h) == []


async def test_the_bounds_are_accepted(make_harness):
    h = await make_harness()
    await _admin_sets_rates(h, (("grenoble", 0), ("region", 1000)))
    assert await stored_rates(h) == [("*", 50), ("grenoble", 0), ("region", 1000)]
