"""Devices over HTTP (issue 15): a vending machine of authority A (sytral) sells offline 100 tickets
of networks A (tcl) and B (ter, authority region), reconnects and uploads them twice, then twice
at once: exactly 100 orders, and the ledger sums to the sales with B's share booked to B. The
device list shows the machine, its heartbeat and its deny-list lag; authorities see their own
devices only; a device speaks for itself only."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.ticketing.conftest import make_harness, region_catalogue  # noqa: F401 - fixtures

TCL_PAPER = {"fare_product_id": "tcl:single", "fare_media_id": "paper"}  # 2.10, network tcl (sytral)
TER_AB = {"fare_product_id": "ter:ab"}  # 8.00, network ter (region)
PRICES = {"tcl:single": 210, "ter:ab": 800}
COMMISSION_PERMILLE = 50  # the schema's default rate for every selling authority


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(harness, admin, authority_id="sytral", kind="vending_machine", label="Part-Dieu VM 1", **extra):
    response = await harness.client.post("/v1/devices", headers=admin,
                                         json={"authority_id": authority_id, "kind": kind, "label": label, **extra})
    assert response.status == 201, await response.text()
    body = await response.json()
    return body["device"], bearer(body["api_key"])


def offline_sale(sequence: int, sold_at, lines: list[dict], method: str = "cash") -> dict:
    amount = sum(PRICES.get(line["fare_product_id"], 100) * line.get("quantity", 1) for line in lines)
    return {"sequence": sequence, "sold_at": sold_at.isoformat(), "lines": lines,
            "payment": {"method": method, "amount_minor": amount}}


def hundred_sales(start) -> list[dict]:
    """Sales 1..100, a minute apart: odd ones a TCL paper ticket, even ones a TER ticket, every
    tenth both (2 lines), paid by cash or card."""
    sales = []
    for n in range(1, 101):
        lines = [dict(TCL_PAPER)] if n % 2 else [dict(TER_AB)]
        if n % 10 == 0:
            lines = [dict(TCL_PAPER), dict(TER_AB)]
        sales.append(offline_sale(n, start + timedelta(minutes=n), lines, "card" if n % 3 == 0 else "cash"))
    return sales


async def test_a_vending_machine_sells_offline_uploads_three_times_and_the_ledger_is_exact(make_harness):
    harness = await make_harness()
    admin = await harness.key("admin", None)
    device, machine = await register(harness, admin, offline_credit_limit_minor=100_000)
    device_id = device["device_id"]
    assert device["kind"] == "vending_machine" and device["offline_credit_limit_minor"] == 100_000
    assert device["authority_id"] == "sytral" and device["last_heartbeat_at"] is None

    response = await harness.client.post(f"/v1/devices/{device_id}/heartbeat", headers=machine, json={"last_sequence": 0})
    assert response.status == 200
    went_offline = harness.clock.now()
    assert (await response.json())["last_heartbeat_at"] is not None

    sales = hundred_sales(went_offline)  # sold over 100 minutes without a contact
    harness.clock.advance(timedelta(hours=2))
    path = f"/v1/devices/{device_id}/offline-sales"
    first = await harness.client.post(path, headers=machine, json={"sales": sales})
    assert first.status == 200, await first.text()
    first = await first.json()
    assert first["received"] == 100 and first["sold"] == 100, [s["refusal"] for s in first["sales"][:2]]
    assert first["received"] == 100 and first["sold"] == 100 and first["refused"] == 0 and first["replayed"] == 0
    order_ids = [s["order_id"] for s in first["sales"]]
    assert len(set(order_ids)) == 100 and [s["sequence"] for s in first["sales"]] == list(range(1, 101))

    second = await (await harness.client.post(path, headers=machine, json={"sales": sales})).json()
    assert second["replayed"] == 100 and second["sold"] == 100
    assert [s["order_id"] for s in second["sales"]] == order_ids

    together = await asyncio.gather(*(harness.client.post(path, headers=machine, json={"sales": sales}) for _ in range(2)))
    for response in together:
        assert response.status == 200
        assert [s["order_id"] for s in (await response.json())["sales"]] == order_ids

    pool = harness.service.pool
    orders = await pool.fetch("SELECT order_id, status, channel, selling_authority_id, total_minor, created_at "
                              "FROM ticketing_orders WHERE sales_point_key_id = $1", device["key_id"])
    assert len(orders) == 100 and await harness.count("ticketing_orders") == 100
    assert {(o["status"], o["channel"], o["selling_authority_id"]) for o in orders} == {("paid", "vending_machine", "sytral")}
    by_id = {o["order_id"]: o for o in orders}
    for sale, order_id in zip(sales, order_ids, strict=True):  # each order is dated when it was sold, at its price
        assert by_id[order_id]["created_at"].isoformat() == sale["sold_at"]
        assert by_id[order_id]["total_minor"] == sale["payment"]["amount_minor"]

    total = sum(s["payment"]["amount_minor"] for s in sales)
    ter_lines = sum(1 for s in sales for line in s["lines"] if line["fare_product_id"] == "ter:ab")
    tcl_lines = sum(1 for s in sales for line in s["lines"] if line["fare_product_id"] == "tcl:single")
    assert (ter_lines, tcl_lines) == (50, 60)
    report = await (await harness.client.get("/v1/clearing?period=2026-03-02", headers=admin)).json()
    assert report["ledger_total_minor"] == {"EUR": total} and report["money_taken_minor"] == {"EUR": total}
    assert report["is_balanced"] is True
    region_share = ter_lines * (800 - 800 * COMMISSION_PERMILLE // 1000)
    assert report["balances"] == [{"debtor_authority_id": "sytral", "creditor_authority_id": "region",
                                   "amount_minor": region_share, "currency": "EUR"}]
    totals = {t["authority_id"]: t for t in report["authorities"]}
    assert totals["region"]["revenue_minor"] == region_share
    assert totals["sytral"]["collected_minor"] == total
    assert totals["sytral"]["revenue_minor"] + totals["sytral"]["commission_minor"] == total - region_share

    listed = await (await harness.client.get("/v1/devices", headers=admin)).json()
    (status,) = listed["devices"]
    assert status["device_id"] == device_id and status["last_heartbeat_at"] == went_offline.isoformat()
    assert status["last_contact_at"] == harness.clock.now().isoformat()
    assert status["offline_sales"] == {"sold": 100, "refused": 0, "in_progress": 0, "highest_sequence": 100,
                                       "reported_last_sequence": 0, "awaiting_upload": 0, "missing": 0, "gaps": []}


async def test_the_device_list_shows_deny_list_lag_and_silence(make_harness):
    harness = await make_harness()
    admin = await harness.key("admin", None)
    device, machine = await register(harness, admin)
    validator, validator_key = await register(harness, admin, kind="validator", label="T1 door 3",
                                              offline_credit_limit_minor=999)
    assert validator["offline_credit_limit_minor"] is None  # a validator has no offline credit
    assert device["offline_credit_limit_minor"] == 50_000  # the default
    assert device["stale_denylist"] is False and device["denylist"]["current_version"] == 0

    desk = await harness.key("sales_point", "sytral")
    card = (await (await harness.client.post("/v1/media", json={"kind": "smartcard"}, headers=desk)).json())["serial"]
    declared = await harness.client.post(f"/v1/media/{card}/declare", json={"reason": "lost"}, headers=desk)
    version = (await declared.json())["denylist_version"]
    assert version >= 1

    status = await (await harness.client.get(f"/v1/devices/{validator['device_id']}", headers=admin)).json()
    assert status["stale_denylist"] is True
    assert status["denylist"] == {"acknowledged_version": 0, "acknowledged_at": None, "current_version": version,
                                  "versions_behind": version}

    ack = f"/v1/devices/{validator['device_id']}/denylist-ack"
    ahead = await harness.client.post(ack, headers=validator_key, json={"version": version + 1})
    assert ahead.status == 409 and (await ahead.json())["code"] == "denylist_version_ahead"
    acked = await (await harness.client.post(ack, headers=validator_key, json={"version": version})).json()
    assert acked["stale_denylist"] is False and acked["denylist"]["acknowledged_version"] == version
    back = await (await harness.client.post(ack, headers=validator_key, json={"version": 0})).json()
    assert back["denylist"]["acknowledged_version"] == version  # going back is ignored: the highest is kept

    harness.clock.advance(timedelta(minutes=16))
    await harness.client.post(f"/v1/devices/{device['device_id']}/heartbeat", headers=machine)
    listed = {d["device_id"]: d for d in (await (await harness.client.get("/v1/devices", headers=admin)).json())["devices"]}
    assert listed[device["device_id"]]["silent"] is False and listed[device["device_id"]]["stale_denylist"] is True
    assert listed[validator["device_id"]]["silent"] is True  # acknowledged 16 minutes ago, nothing since
    only_validators = await (await harness.client.get("/v1/devices?kind=validator", headers=admin)).json()
    assert [d["device_id"] for d in only_validators["devices"]] == [validator["device_id"]]


async def test_authorities_see_their_own_devices_and_devices_speak_for_themselves(make_harness):
    harness = await make_harness()
    admin = await harness.key("admin", None)
    mine, machine = await register(harness, admin, authority_id="sytral")
    theirs, their_validator = await register(harness, admin, authority_id="region", kind="validator", label="TER gate")
    sytral = await harness.key("authority", "sytral")

    listed = await (await harness.client.get("/v1/devices", headers=sytral)).json()
    assert [d["device_id"] for d in listed["devices"]] == [mine["device_id"]]
    other = await harness.client.get(f"/v1/devices/{theirs['device_id']}", headers=sytral)
    assert other.status == 404 and (await other.json())["code"] == "unknown_device"
    named = await harness.client.get("/v1/devices?authority=region", headers=sytral)
    assert named.status == 403 and (await named.json())["code"] == "other_authority"
    assert (await harness.client.get(f"/v1/devices/{mine['device_id']}", headers=sytral)).status == 200

    for path, body in (("heartbeat", {}), ("denylist-ack", {"version": 0}),
                       ("offline-sales", {"sales": [offline_sale(1, harness.clock.now(), [TCL_PAPER])]})):
        response = await harness.client.post(f"/v1/devices/{mine['device_id']}/{path}", headers=their_validator, json=body)
        assert response.status == 403, path
        assert (await response.json())["code"] == "other_device"
    assert (await harness.client.get(f"/v1/devices/{mine['device_id']}", headers=their_validator)).status == 403
    assert (await harness.client.get(f"/v1/devices/{mine['device_id']}", headers=machine)).status == 200
    assert await harness.count("nfc_offline_sales") == 0

    refused = await harness.client.post("/v1/devices", headers=sytral,
                                        json={"authority_id": "sytral", "kind": "validator", "label": "x"})
    assert refused.status == 403  # only an admin registers
    unknown = await harness.client.post("/v1/devices", headers=admin,
                                        json={"authority_id": "atlantis", "kind": "validator", "label": "x"})
    assert unknown.status == 404 and (await unknown.json())["code"] == "unknown_device_authority"


async def test_a_revoked_device_is_refused_and_its_key_revoked(make_harness):
    harness = await make_harness()
    admin = await harness.key("admin", None)
    device, machine = await register(harness, admin)
    revoked = await (await harness.client.post(f"/v1/devices/{device['device_id']}/revoke", headers=admin)).json()
    assert revoked["revoked_at"] == harness.clock.now().isoformat() and revoked["silent"] is False
    again = await (await harness.client.post(f"/v1/devices/{device['device_id']}/revoke", headers=admin)).json()
    assert again["revoked_at"] == revoked["revoked_at"]
    response = await harness.client.post(f"/v1/devices/{device['device_id']}/heartbeat", headers=machine)
    assert response.status in (401, 403)  # the key cache may still know the key for a few seconds: the device is refused
    key_row = await harness.service.pool.fetchrow("SELECT revoked_at FROM api_keys WHERE key_id = $1", device["key_id"])
    assert key_row["revoked_at"] is not None
    assert (await harness.client.post("/v1/devices/999999/revoke", headers=admin)).status == 404


async def test_malformed_device_requests_are_400_problems(make_harness):
    harness = await make_harness()
    admin = await harness.key("admin", None)
    device, machine = await register(harness, admin)
    now = harness.clock.now()
    registrations = [[], {"authority_id": "sytral", "kind": "kiosk", "label": "x"},
                     {"authority_id": "sytral", "kind": "validator", "label": ""},
                     {"authority_id": 7, "kind": "validator", "label": "x"},
                     {"authority_id": "sytral", "kind": "vending_machine", "label": "x", "offline_credit_limit_minor": -1}]
    for body in registrations:
        response = await harness.client.post("/v1/devices", headers=admin, json=body)
        assert response.status == 400, body
        assert (await response.json())["code"] == "invalid_device_request"
    path = f"/v1/devices/{device['device_id']}/offline-sales"
    good = offline_sale(1, now, [TCL_PAPER])
    uploads = [{}, {"sales": []}, {"sales": [1]}, {"sales": [{**good, "sequence": 0}]},
               {"sales": [{**good, "sequence": True}]}, {"sales": [{**good, "sold_at": "yesterday"}]},
               {"sales": [{**good, "sold_at": "2026-03-02T06:00:00"}]},
               {"sales": [{**good, "payment": {"method": "iou", "amount_minor": 210}}]},
               {"sales": [{**good, "payment": {"method": "cash", "amount_minor": 2.1}}]},
               {"sales": [{**good, "lines": []}]}, {"sales": [{**good, "lines": [{"quantity": 1}]}]},
               {"sales": [{**good, "lines": [{**TCL_PAPER, "quantity": 0}]}]}]
    for body in uploads:
        response = await harness.client.post(path, headers=machine, json=body)
        assert response.status == 400, body
        assert (await response.json())["code"] == "invalid_offline_sales"
    assert await harness.count("nfc_offline_sales") == 0
    for body in ([], {"version": -1}, {"version": "3"}):
        response = await harness.client.post(f"/v1/devices/{device['device_id']}/denylist-ack", headers=machine, json=body)
        assert response.status == 400 and (await response.json())["code"] == "invalid_device_request"
    response = await harness.client.post(f"/v1/devices/{device['device_id']}/heartbeat", headers=machine,
                                         json={"last_sequence": "x"})
    assert response.status == 400
    assert (await harness.client.get("/v1/devices/abc", headers=admin)).status == 404
