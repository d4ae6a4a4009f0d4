"""Media over HTTP: issuing, declaring, reconstituting once even under concurrent requests."""

from __future__ import annotations

import asyncio


async def test_wallet_with_holder_and_anonymous_card(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    wallet = await (await h.client.post("/v1/media", json={"kind": "wallet", "holder": {"display_name": "B. Rider", "email": "b@example.org"}}, headers=desk)).json()
    assert wallet["serial"].startswith("W") and wallet["fare_media_id"] == "oura-wallet" and not wallet["anonymous"]
    card = await (await h.client.post("/v1/media", json={}, headers=desk)).json()
    assert card["kind"] == "smartcard" and card["anonymous"]
    bad = await h.client.post("/v1/media", json={"kind": "tattoo"}, headers=desk)
    assert bad.status == 400
    fetched = await (await h.client.get(f"/v1/media/{card['serial']}", headers=desk)).json()
    assert fetched["contracts"] == [] and fetched["status"] == "active"
    assert (await h.client.get("/v1/media/C000", headers=desk)).status == 404


async def test_active_card_cannot_be_reconstituted_and_declaring_twice_is_harmless(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    serial = (await (await h.client.post("/v1/media", json={}, headers=desk)).json())["serial"]
    refused = await h.client.post(f"/v1/media/{serial}/reconstitute", headers=desk)
    assert refused.status == 409 and (await refused.json())["code"] == "medium_not_declared"
    first = await (await h.client.post(f"/v1/media/{serial}/declare", json={"reason": "stolen"}, headers=desk)).json()
    second = await (await h.client.post(f"/v1/media/{serial}/declare", json={"reason": "stolen"}, headers=desk)).json()
    assert first["denylist_version"] == second["denylist_version"] and await h.count("ticketing_denylist") == 1


async def test_concurrent_reconstitutions_make_one_new_card(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    issued = await (await h.client.post("/v1/media", json={}, headers=desk)).json()
    serial, proof = issued["serial"], {"card_secret": issued["card_secret"]}
    await h.client.post(f"/v1/media/{serial}/declare", json={"reason": "lost"}, headers=desk)
    responses = await asyncio.gather(*(h.client.post(f"/v1/media/{serial}/reconstitute", json=proof, headers=desk)
                                       for _ in range(4)))
    assert sorted(r.status for r in responses) == [201, 409, 409, 409]
    assert await h.count("ticketing_media") == 2


async def test_the_routes_are_in_the_openapi_document(make_harness):
    h = await make_harness()
    document = await (await h.client.get("/openapi.json")).json()
    for path in ("/v1/products", "/v1/fares/quote", "/v1/orders", "/v1/validations", "/v1/denylist", "/v1/clearing",
                 "/v1/media/{serial}/reconstitute"):
        assert path in document["paths"], path
    assert any(p["name"] == "Idempotency-Key" for p in document["paths"]["/v1/orders"]["post"]["parameters"])


async def test_a_validator_polling_the_denylist_never_misses_a_declaration(make_harness, monkeypatch):
    """Regression: deny-list versions come from an identity column, so a declaration that got
    version N but commits after version N+1 was already served would be skipped for ever by a
    validator asking for entries after N+1 (a stolen card accepted on that validator)."""
    import ticketing.media as media_module

    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    device = await h.key("device", "sytral")
    first = (await (await h.client.post("/v1/media", json={}, headers=desk)).json())["serial"]
    second = (await (await h.client.post("/v1/media", json={}, headers=desk)).json())["serial"]

    stalled, release = asyncio.Event(), asyncio.Event()
    stalled_pid: list[int] = []
    real_audit = media_module.audit

    async def slow_audit(conn, action, **kwargs):  # the first declaration stalls inside its transaction
        if kwargs.get("subject") == f"medium:{first}":
            stalled_pid.append(conn.get_server_pid())
            stalled.set()
            await release.wait()
        await real_audit(conn, action, **kwargs)

    monkeypatch.setattr(media_module, "audit", slow_audit)
    slow = asyncio.create_task(h.client.post(f"/v1/media/{first}/declare", json={"reason": "stolen"}, headers=desk))
    await stalled.wait()
    fast = asyncio.create_task(h.client.post(f"/v1/media/{second}/declare", json={"reason": "lost"}, headers=desk))
    # The second declaration either commits (nothing orders them) or waits on a lock the stalled one
    # holds: wait for one of the two, not for a delay a slow machine could outlast.
    async with asyncio.timeout(30):
        while not fast.done() and not await h.service.pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND $1 = ANY(pg_blocking_pids(pid))",
            stalled_pid[0],
        ):
            await asyncio.sleep(0.01)

    seen: set[str] = set()
    poll = await (await h.client.get("/v1/denylist", params={"since": 0}, headers=device)).json()
    seen |= {e["serial"] for e in poll["entries"]}
    release.set()
    assert (await slow).status == 200 and (await fast).status == 200
    poll = await (await h.client.get("/v1/denylist", params={"since": poll["version"]}, headers=device)).json()
    seen |= {e["serial"] for e in poll["entries"]}
    assert seen == {first, second}
