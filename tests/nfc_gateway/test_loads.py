"""Load jobs on a real PostgreSQL: created once per paid card/wallet contract, confirmed by a session
or a read (the mirror in the same transaction), refunded exactly once past their deadline, never
while the card may hold them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from nfc_gateway.errors import LoadNotOnCard, LoadRefunded
from nfc_gateway.remote import loads
from nfc_gateway.remote.model import CardContract, CardImage, LoadStatus
from tests.ticketing.conftest import make_harness, region_catalogue, validation_event  # noqa: F401 (fixtures)
from ticketing.media import list_loadable_contracts

DAY = timedelta(days=1)


async def new_medium(h, kind: str) -> str:
    desk = await h.key("sales_point", "sytral")
    response = await h.client.post("/v1/media", json={"kind": kind}, headers=desk)
    assert response.status == 201
    return (await response.json())["serial"]


async def sell(h, serial: str, items: list[dict], total: int, key: str | None = None) -> dict:
    desk = await h.key("sales_point", "sytral")
    order = {"channel": "desk", "payment": {"token": "tok_approve"}, "expected_total_minor": total,
             "items": [{**item, "medium": serial} if serial else item for item in items]}
    response = await h.client.post("/v1/orders", json=order, headers={**desk, "Idempotency-Key": key or f"k-{serial}-{total}"})
    body = await response.json()
    assert response.status == 201, body
    return body


STAS_SINGLE = {"fare_product_id": "stas:single", "fare_media_id": "oura-wallet"}
CARNET = {"fare_product_id": "ter-tcl-10", "fare_media_id": "oura-card"}


async def wallet_with_single(h) -> tuple[str, dict]:
    wallet = await new_medium(h, "wallet")
    return wallet, await sell(h, wallet, [STAS_SINGLE], 160)


def card_image(serial: str, *jobs, extra: tuple[CardContract, ...] = ()) -> CardImage:
    """A card as read, holding ``jobs``' contracts in records 1, 2, ..."""
    contracts = tuple(CardContract(i + 1, {"ContractSerialNumber": j.card_contract_serial, "ContractTariff": j.tariff},
                                   j.trips) for i, j in enumerate(jobs))
    return CardImage(serial, {"EnvNetworkId": "250502"}, contracts + extra)


async def job_row(pool, job_id: int) -> dict:
    return dict(await pool.fetchrow("SELECT * FROM nfc_load_jobs WHERE job_id = $1", job_id))


async def refunds_of(pool, order_id: int) -> int:
    return await pool.fetchval("SELECT count(*) FROM ticketing_payments WHERE order_id = $1 AND kind = 'refund'", order_id)


async def test_a_paid_wallet_order_gives_one_pending_job(make_harness):
    h = await make_harness()
    pool, now = h.service.pool, h.clock.now()
    wallet, order = await wallet_with_single(h)
    contract_id = order["lines"][0]["contract_ids"][0]

    jobs = await loads.due_loads(pool, wallet, now)

    assert [(j.contract_id, j.status, j.medium_serial) for j in jobs] == [(contract_id, LoadStatus.PENDING, wallet)]
    job = jobs[0]
    assert job.card_contract_serial == contract_id and job.network_id == 0x250502
    assert job.deadline == now + timedelta(seconds=loads.DEFAULT_LOAD_DEADLINE_S)
    assert 1 <= job.tariff <= 0x3FFF and 1 <= job.provider <= 255
    # codes are stable: another product gets another tariff, the same product the same one
    card = await new_medium(h, "smartcard")
    carnet = await sell(h, card, [CARNET], 6000)
    await sell(h, card, [CARNET], 6000, key="second")
    carnets = await loads.due_loads(pool, card, now)
    assert len({j.tariff for j in carnets}) == 1 and carnets[0].tariff != job.tariff and carnets[0].trips == 10
    owner = carnet["lines"][0]["owning_authority_ids"][0]  # the owner of the contract's first network
    assert {j.provider for j in carnets} == {await pool.fetchval(
        "SELECT provider FROM nfc_provider_codes WHERE authority_id = $1", owner)} != {job.provider}


async def test_due_loads_twice_or_concurrently_creates_one_job(make_harness):
    h = await make_harness()
    pool, now = h.service.pool, h.clock.now()
    wallet, _ = await wallet_with_single(h)
    first = await loads.due_loads(pool, wallet, now)
    again = await loads.due_loads(pool, wallet, now + timedelta(minutes=1))
    assert [j.job_id for j in again] == [j.job_id for j in first]

    other, _ = await wallet_with_single(h)
    results = await asyncio.gather(*(loads.due_loads(pool, other, now) for _ in range(6)),
                                   loads.create_jobs_for_new_sales(pool, now, after_contract_id=0, created_since=now - DAY))
    assert len({tuple(j.job_id for j in r) for r in results[:-1]}) == 1
    assert await pool.fetchval("SELECT count(*) FROM nfc_load_jobs WHERE medium_serial = $1", other) == 1
    assert await pool.fetchval("SELECT count(*) FROM nfc_load_jobs") == 2


async def test_paper_tickets_never_get_a_job_and_the_background_scan_finds_new_sales(make_harness):
    h = await make_harness()
    pool, now = h.service.pool, h.clock.now()
    paper = await sell(h, "", [{"fare_product_id": "tcl:single", "fare_media_id": "paper"}], 210, key="paper")
    wallet, order = await wallet_with_single(h)
    created, last = await loads.create_jobs_for_new_sales(pool, now, after_contract_id=0, created_since=now - DAY)
    assert created == 1 and last == order["lines"][0]["contract_ids"][0]
    paper_contract = paper["lines"][0]["contract_ids"][0]
    assert await list_loadable_contracts(pool, contract_ids=[paper_contract]) == []
    assert await pool.fetchval("SELECT count(*) FROM nfc_load_jobs WHERE contract_id = $1", paper_contract) == 0
    # a scan from the last id seen finds nothing new; sales older than the window are left alone
    assert await loads.create_jobs_for_new_sales(pool, now, after_contract_id=last, created_since=now - DAY) == (0, last)
    later = await wallet_with_single(h)
    assert (await loads.create_jobs_for_new_sales(pool, now, after_contract_id=0, created_since=now + DAY))[0] == 0
    assert await pool.fetchval("SELECT count(*) FROM nfc_load_jobs WHERE medium_serial = $1", later[0]) == 0


async def test_a_read_holding_the_serial_confirms_and_updates_the_mirror_together(make_harness):
    h = await make_harness()
    pool, now = h.service.pool, h.clock.now()
    wallet, _ = await wallet_with_single(h)
    [job] = await loads.due_loads(pool, wallet, now)
    stranger = CardContract(4, {"ContractSerialNumber": 999_999})
    image = card_image(wallet, job, extra=(stranger,))

    result = await loads.reconcile(pool, wallet, image, now + timedelta(minutes=3))

    assert [j.job_id for j in result.confirmed] == [job.job_id] and result.to_write == ()
    assert result.unknown_on_card == (999_999,)
    row = await job_row(pool, job.job_id)
    mirror = await pool.fetchrow("SELECT image, version, updated_at FROM nfc_card_mirror WHERE medium_serial = $1", wallet)
    assert (row["status"], row["confirmed_by"]) == ("confirmed", "read")
    assert mirror["updated_at"] == row["confirmed_at"] == now + timedelta(minutes=3) and mirror["version"] == 1
    assert await loads.mirror(pool, wallet) == image
    # a later read that cannot be stored changes nothing: the confirmation and the mirror go together
    other, _ = await wallet_with_single(h)
    [pending] = await loads.due_loads(pool, other, now)
    unstorable = CardImage(other, {"EnvNetworkId": object()}, card_image(other, pending).contracts)
    with pytest.raises(asyncpg.DataError):
        await loads.reconcile(pool, other, unstorable, now)
    assert (await job_row(pool, pending.job_id))["status"] == "pending"
    assert await loads.mirror(pool, other) is None


async def test_written_then_a_lost_acknowledgement_then_a_read_confirms(make_harness):
    h = await make_harness()
    pool, now = h.service.pool, h.clock.now()
    wallet, _ = await wallet_with_single(h)
    [job] = await loads.due_loads(pool, wallet, now)
    on_card = card_image(wallet, job)
    with pytest.raises(LoadNotOnCard):  # the card after the session must hold the contract
        await loads.mark_written(pool, job.job_id, "s1", 1, card_image(wallet), now)

    written = await loads.mark_written(pool, job.job_id, "s1", 1, on_card, now + timedelta(seconds=5))
    assert (written.status, written.session_id, written.card_record) == (LoadStatus.WRITTEN, "s1", 1)
    assert await loads.mark_written(pool, job.job_id, "s1", 1, on_card, now + timedelta(seconds=6)) == written
    # the acknowledgement is lost; the next session asks what is due and reads the card
    assert [j.status for j in await loads.due_loads(pool, wallet, now + DAY)] == [LoadStatus.WRITTEN]
    result = await loads.reconcile(pool, wallet, on_card, now + DAY)
    assert [j.job_id for j in result.confirmed] == [job.job_id] and result.to_write == ()
    assert await loads.due_loads(pool, wallet, now + DAY) == []
    confirmed = await loads.confirm(pool, job.job_id, on_card, now + 2 * DAY)  # a late acknowledgement: no change
    assert confirmed.status is LoadStatus.CONFIRMED
    row = await job_row(pool, job.job_id)
    assert row["confirmed_at"] == now + DAY and row["session_id"] == "s1"


async def test_a_load_never_confirmed_is_refunded_once_after_its_deadline(make_harness):
    h = await make_harness()
    pool, now = h.service.pool, h.clock.now()
    wallet, order = await wallet_with_single(h)
    await loads.create_jobs_for_new_sales(pool, now, after_contract_id=0, created_since=now - DAY)
    [job] = [j for j in await loads.due_loads(pool, wallet, now)]
    await loads.reconcile(pool, wallet, card_image(wallet), job.deadline - timedelta(minutes=5))  # absent, too late to write

    assert await loads.refund_expired(pool, job.deadline - timedelta(seconds=1), provider=h.provider) == 0
    counts = await asyncio.gather(*(loads.refund_expired(pool, job.deadline, provider=h.provider) for _ in range(4)))
    assert sum(counts) == 1
    assert await loads.refund_expired(pool, job.deadline + DAY, provider=h.provider) == 0

    view = await h.service.get_order(order["order_id"])
    assert view.status == "refunded" and await refunds_of(pool, order["order_id"]) == 1
    row = await job_row(pool, job.job_id)
    assert (row["status"], row["refunded_at"]) == ("refunded", job.deadline)
    with pytest.raises(LoadRefunded):
        await loads.mark_written(pool, job.job_id, "late", 1, card_image(wallet, job), job.deadline + DAY)
    assert await loads.due_loads(pool, wallet, job.deadline + DAY) == []
    # the card holds it all the same (a session that broke the write margin): reported, not confirmed
    late = await loads.reconcile(pool, wallet, card_image(wallet, job), job.deadline + DAY)
    assert [j.job_id for j in late.refunded_on_card] == [job.job_id] and late.confirmed == ()


async def test_written_and_in_doubt_loads_are_not_refunded_until_a_read_decides(make_harness):
    h = await make_harness()
    pool, now = h.service.pool, h.clock.now()
    written_wallet, written_order = await wallet_with_single(h)
    doubt_wallet, doubt_order = await wallet_with_single(h)
    [written] = await loads.due_loads(pool, written_wallet, now)
    await loads.mark_written(pool, written.job_id, "s1", 1, card_image(written_wallet, written), now)
    [doubt] = await loads.due_loads(pool, doubt_wallet, now)  # offered to a session that was never heard of again

    after = now + 30 * DAY
    assert await loads.refund_expired(pool, after, provider=h.provider) == 0
    assert await refunds_of(pool, written_order["order_id"]) == await refunds_of(pool, doubt_order["order_id"]) == 0
    assert (await job_row(pool, written.job_id))["status"] == "written"
    # a read long after shows the offered load absent: it is refunded at the next pass
    result = await loads.reconcile(pool, doubt_wallet, card_image(doubt_wallet), after)
    assert result.to_write == () and result.confirmed == ()
    assert await loads.refund_expired(pool, after, provider=h.provider) == 1
    assert await refunds_of(pool, doubt_order["order_id"]) == 1
    # and a read showing the written one confirms it
    assert [j.job_id for j in (await loads.reconcile(pool, written_wallet, card_image(written_wallet, written),
                                                     after)).confirmed] == [written.job_id]


async def test_a_contract_used_before_its_deadline_is_confirmed_not_refunded(make_harness):
    h = await make_harness()
    pool, now = h.service.pool, h.clock.now()
    card = await new_medium(h, "smartcard")
    order = await sell(h, card, [CARNET], 6000)
    await loads.create_jobs_for_new_sales(pool, now, after_contract_id=0, created_since=now - DAY)
    validator = await h.key("device", "sytral")
    response = await h.client.post("/v1/validations", json={"events": [validation_event("e1", card, now + timedelta(minutes=1))]},
                                   headers=validator)
    assert response.status == 200
    [job] = await loads.due_loads(pool, card, now + timedelta(hours=1))
    assert job.trips == 9  # offered with the trips it has left
    await loads.reconcile(pool, card, card_image(card), job.deadline)  # absent; not offered any more

    assert await loads.refund_expired(pool, job.deadline, provider=h.provider) == 0
    row = await job_row(pool, job.job_id)
    assert (row["status"], row["confirmed_by"]) == ("confirmed", "use")
    assert await refunds_of(pool, order["order_id"]) == 0


async def test_a_desk_refund_or_a_reconstitution_closes_the_pending_job(make_harness):
    h = await make_harness()
    pool, now = h.service.pool, h.clock.now()
    wallet, order = await wallet_with_single(h)
    [job] = await loads.due_loads(pool, wallet, now)
    await h.service.refund(order_id=order["order_id"], actor_key_id="desk", authority_id=None)
    assert await loads.due_loads(pool, wallet, now) == []
    assert (await job_row(pool, job.job_id))["status"] == "refunded"
    assert await refunds_of(pool, order["order_id"]) == 1

    from ticketing.media import HolderProof

    desk = await h.key("sales_point", "sytral")
    response = await h.client.post("/v1/media", json={"kind": "smartcard", "holder": {"display_name": "R"}}, headers=desk)
    issued = await response.json()
    card = issued["serial"]
    await sell(h, card, [CARNET], 6000)
    [old] = await loads.due_loads(pool, card, now)
    await h.service.declare_medium(serial=card, reason="lost", actor_key_id=None, authority_id=None)
    new = await h.service.reconstitute_medium(serial=card, actor_key_id=None, authority_id="sytral",
                                              proof=HolderProof(holder_account=issued["holder"]["account_number"]))
    assert await loads.due_loads(pool, card, now) == []
    assert (await job_row(pool, old.job_id))["status"] == "cancelled"
    [moved] = await loads.due_loads(pool, new.medium.serial, now)
    assert moved.trips == 10 and moved.contract_id != old.contract_id
