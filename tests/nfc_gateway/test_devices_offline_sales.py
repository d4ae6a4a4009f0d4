"""Offline sales rules (nfc_gateway.devices.offline_sales) over HTTP: the offline credit per offline
window (not bypassed by splitting an upload, fresh after a reconnection, not used while online),
the time limits of the injected clock, sequences reused or missing, refusals passed through from
ticketing, and an upload interrupted between its two steps finished by the next one."""

from __future__ import annotations

from datetime import timedelta

from nfc_gateway.devices import offline_sales
from tests.nfc_gateway.test_devices_http import TCL_PAPER, TER_AB, offline_sale, register
from tests.ticketing.conftest import make_harness, region_catalogue  # noqa: F401 - fixtures
from ticketing.errors import PaymentPending


async def upload(harness, device, key, sales, status=200):
    response = await harness.client.post(f"/v1/devices/{device['device_id']}/offline-sales", headers=key,
                                         json={"sales": sales})
    assert response.status == status, await response.text()
    return await response.json()


def codes(result) -> list[str | None]:
    return [s["refusal"]["code"] if s["refusal"] else None for s in result["sales"]]


async def status_of(harness, device, key):
    return await (await harness.client.get(f"/v1/devices/{device['device_id']}", headers=key)).json()


async def test_the_offline_credit_is_counted_per_window_and_splitting_an_upload_does_not_bypass_it(make_harness):
    harness = await make_harness()
    admin = await harness.key("admin", None)
    device, machine = await register(harness, admin, offline_credit_limit_minor=1050)
    start = harness.clock.now()
    sales = [offline_sale(n, start + timedelta(minutes=n), [TCL_PAPER]) for n in range(1, 5)]  # 4 x 210 = 840
    sales.append(offline_sale(5, start + timedelta(minutes=5), [TER_AB]))  # 800 more: beyond 1050
    sales.append(offline_sale(6, start + timedelta(minutes=6), [TCL_PAPER]))  # 210 more: 1050, still fits
    sales.append(offline_sale(7, start + timedelta(minutes=7), [TCL_PAPER]))  # beyond
    harness.clock.advance(timedelta(hours=1))

    first = await upload(harness, device, machine, sales[:3])
    assert codes(first) == [None, None, None]
    second = await upload(harness, device, machine, sales[3:])  # sold in the same window, uploaded after a contact
    assert codes(second) == [None, "offline_credit_exceeded", None, "offline_credit_exceeded"]
    assert [s["status"] for s in second["sales"]] == ["sold", "refused", "sold", "refused"]
    assert "1050" in second["sales"][1]["refusal"]["detail"]
    assert await harness.count("ticketing_orders") == 5

    again = await upload(harness, device, machine, sales)  # the same answers, all replayed
    assert codes(again) == [None, None, None, None, "offline_credit_exceeded", None, "offline_credit_exceeded"]
    assert again["replayed"] == 7 and await harness.count("ticketing_orders") == 5

    # offline again: a new window, a fresh credit
    harness.clock.advance(timedelta(hours=1))
    later = harness.clock.now()
    harness.clock.advance(timedelta(hours=1))
    fresh = await upload(harness, device, machine, [offline_sale(8, later, [TER_AB])])
    assert codes(fresh) == [None]


async def test_sales_made_while_the_machine_keeps_contact_use_no_credit(make_harness):
    harness = await make_harness()
    admin = await harness.key("admin", None)
    device, machine = await register(harness, admin, offline_credit_limit_minor=0)
    harness.clock.advance(timedelta(seconds=30))
    assert (await harness.client.post(f"/v1/devices/{device['device_id']}/heartbeat", headers=machine)).status == 200
    sold_at = harness.clock.now() + timedelta(seconds=20)
    harness.clock.advance(timedelta(minutes=1))  # within the contact gap: it never was offline
    online = await upload(harness, device, machine, [offline_sale(1, sold_at, [TER_AB])])
    assert codes(online) == [None]
    harness.clock.advance(timedelta(minutes=30))  # silent for 30 minutes: the sale in that window needs credit
    offline = await upload(harness, device, machine,
                           [offline_sale(2, harness.clock.now() - timedelta(minutes=10), [TCL_PAPER])])
    assert codes(offline) == ["offline_credit_exceeded"]


async def test_the_injected_clock_decides_what_is_too_old_or_in_the_future(make_harness):
    harness = await make_harness()
    admin = await harness.key("admin", None)
    registered = harness.clock.now()
    device, machine = await register(harness, admin)
    harness.clock.advance(timedelta(days=20))
    now = harness.clock.now()
    result = await upload(harness, device, machine, [
        offline_sale(1, now - timedelta(days=15), [TCL_PAPER]),
        offline_sale(2, now + timedelta(hours=1), [TCL_PAPER]),
        offline_sale(3, registered - timedelta(minutes=1), [TCL_PAPER]),
        offline_sale(4, now - timedelta(days=13), [TCL_PAPER]),
        offline_sale(5, now + timedelta(minutes=4), [TCL_PAPER]),  # within the tolerated clock drift
        {**offline_sale(6, now, [TCL_PAPER]), "sold_at": "0001-01-01T00:00:00+23:59"},
    ])
    assert codes(result) == ["sale_too_old", "sold_in_future", "sold_before_registration", None, None,
                             "sold_at_out_of_range"]
    assert await harness.count("ticketing_orders") == 2


async def test_reused_and_missing_sequences_are_visible(make_harness):
    harness = await make_harness()
    admin = await harness.key("admin", None)
    device, machine = await register(harness, admin)
    now = harness.clock.now()
    harness.clock.advance(timedelta(minutes=10))
    sales = [offline_sale(n, now + timedelta(minutes=n), [TCL_PAPER]) for n in (1, 2, 5, 9)]
    await upload(harness, device, machine, sales)
    other = offline_sale(2, now + timedelta(minutes=2), [TER_AB])
    reused = await upload(harness, device, machine, [other, sales[1]])
    assert codes(reused) == ["sequence_reused", None]
    assert reused["sales"][0]["status"] == "refused" and reused["sales"][1]["replayed"] is True
    duplicated = await upload(harness, device, machine, [offline_sale(10, now, [TCL_PAPER])] * 2)
    assert [s["replayed"] for s in duplicated["sales"]] == [False, True]
    assert duplicated["sales"][0]["order_id"] == duplicated["sales"][1]["order_id"]
    await harness.client.post(f"/v1/devices/{device['device_id']}/heartbeat", headers=machine, json={"last_sequence": 13})

    status = await status_of(harness, device, admin)
    assert status["offline_sales"] == {"sold": 5, "refused": 0, "in_progress": 0, "highest_sequence": 10,
                                       "reported_last_sequence": 13, "awaiting_upload": 3, "missing": 5,
                                       "gaps": [{"from": 3, "to": 4}, {"from": 6, "to": 8}]}
    assert await harness.count("ticketing_orders") == 5


async def test_ticketing_refusals_are_passed_through_and_use_no_credit(make_harness):
    harness = await make_harness()
    admin = await harness.key("admin", None)
    device, machine = await register(harness, admin, offline_credit_limit_minor=6000)
    desk = await harness.key("sales_point", "sytral")
    card = (await (await harness.client.post("/v1/media", json={"kind": "smartcard"}, headers=desk)).json())["serial"]
    now = harness.clock.now()
    harness.clock.advance(timedelta(minutes=10))  # the card is declared lost after the machine sold onto it offline
    await harness.client.post(f"/v1/media/{card}/declare", json={"reason": "lost"}, headers=desk)
    harness.clock.advance(timedelta(minutes=10))
    carnet = {"fare_product_id": "ter-tcl-10", "fare_media_id": "oura-card", "medium": card}
    wrong_price = {**offline_sale(3, now + timedelta(minutes=3), [TCL_PAPER]), "payment": {"method": "cash", "amount_minor": 200}}
    result = await upload(harness, device, machine, [
        {"sequence": 1, "sold_at": (now + timedelta(minutes=1)).isoformat(), "lines": [carnet],
         "payment": {"method": "card", "amount_minor": 6000}},
        offline_sale(2, now + timedelta(minutes=2), [{"fare_product_id": "tcl:nope"}]),
        wrong_price,
        offline_sale(4, now + timedelta(minutes=4), [TER_AB]),  # decided while the carnet still held 6000
    ])
    assert codes(result) == ["medium_denied", "unknown_product", "price_mismatch", "offline_credit_exceeded"]
    assert await harness.count("ticketing_orders") == 0
    later = await upload(harness, device, machine, [offline_sale(5, now + timedelta(minutes=5), [TER_AB])])
    assert codes(later) == [None]  # the carnet ticketing refused released its credit
    assert await harness.count("ticketing_orders") == 1


async def test_a_validator_uploads_no_sales(make_harness):
    harness = await make_harness()
    admin = await harness.key("admin", None)
    device, validator = await register(harness, admin, kind="validator", label="T1 door 1")
    response = await harness.client.post(f"/v1/devices/{device['device_id']}/offline-sales", headers=validator,
                                         json={"sales": [offline_sale(1, harness.clock.now(), [TCL_PAPER])]})
    assert response.status == 409 and (await response.json())["code"] == "not_a_vending_machine"


async def test_an_upload_interrupted_after_its_decisions_is_finished_by_the_next_one(make_harness, monkeypatch):
    harness = await make_harness()
    admin = await harness.key("admin", None)
    device, machine = await register(harness, admin)
    now = harness.clock.now()
    harness.clock.advance(timedelta(minutes=10))
    sales = [offline_sale(n, now + timedelta(minutes=n), [TCL_PAPER]) for n in (1, 2)]
    real_sell = offline_sales.sell
    calls = []

    async def failing_sell(*args, **kwargs):
        calls.append(kwargs["request"].idempotency_key)
        if len(calls) == 2:
            raise PaymentPending()
        return await real_sell(*args, **kwargs)

    monkeypatch.setattr(offline_sales, "sell", failing_sell)
    response = await harness.client.post(f"/v1/devices/{device['device_id']}/offline-sales", headers=machine,
                                         json={"sales": sales})
    assert response.status == 503
    status = await status_of(harness, device, admin)
    assert (status["offline_sales"]["sold"], status["offline_sales"]["in_progress"]) == (1, 1)

    finished = await upload(harness, device, machine, sales)
    assert [s["status"] for s in finished["sales"]] == ["sold", "sold"] and finished["replayed"] == 2
    assert calls == [f"device-{device['device_id']}-sale-1", f"device-{device['device_id']}-sale-2",
                     f"device-{device['device_id']}-sale-2"]
    assert await harness.count("ticketing_orders") == 2
