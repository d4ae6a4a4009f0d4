"""Counter top-ups end to end: a second carnet bought for a card holding a carnet of the same
product adds its trips to that contract's counter (a TOP_UP load job), written and confirmed
exactly once like a contract load, over the reference terminal and a software card, with the
connection dropped at every message, replays refused, and the rank rules (`nfc_gateway.remote.model`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nfc_gateway.remote import loads
from nfc_gateway.remote.cardio import CardRead
from nfc_gateway.remote.model import TOP_UP_RANK_FIELD, CardContract, CardImage, LoadKind, LoadStatus
from nfc_gateway.remote.terminal import ConnectionDropped, Drop, RemoteRefused
from nfc_gateway.sim.card import SoftwareCard
from nfc_gateway.sim.transaction import ReadCard
from tests.nfc_gateway.remote_support import CARNET, make_remote_harness
from tests.ticketing.conftest import demo_catalogue, demo_region  # noqa: F401  (fixtures)

DAY_PASS = "tcl:monthly-pass"   # no trips: never a top-up


@pytest.fixture
async def h(app_config, make_client, demo_catalogue):  # noqa: F811
    return await make_remote_harness(app_config, make_client, demo_catalogue)


class RecordingCard:
    """A software card that keeps every command APDU it was sent (what a relay could replay)."""

    def __init__(self, card: SoftwareCard) -> None:
        self.card, self.commands = card, []

    def transmit(self, apdu: bytes) -> bytes:
        self.commands.append(apdu)
        return self.card.transmit(apdu)

    def remove(self) -> None:
        self.card.remove()


def read_card(h, card) -> CardImage:
    """The card as it is, read straight from it (not through the server)."""
    reader = ReadCard(h.services.sam)
    return CardRead(reader.result([card.transmit(c) for c in reader.commands()])).image("")


async def jobs_of(h, serial: str) -> list[dict]:
    return [dict(r) for r in await h.pool.fetch(
        "SELECT contract_id, kind, status, card_contract_serial, trips, top_up_of, top_up_seq, confirmed_by "
        "FROM nfc_load_jobs WHERE medium_serial = $1 ORDER BY job_id", serial)]


async def carnet_on_card(h):
    """A wallet, its card holding one loaded carnet: (desk, phone, serial, card, the carnet's contract id)."""
    desk = await h.key("sales_point", h.authorities["tcl"])
    phone = await h.key("device", h.authorities["tcl"])
    serial = await h.wallet(desk)
    order = await h.buy(desk, serial, key=f"first-{serial}")
    card = h.card(serial)
    outcome = await h.terminal(card, phone).run("LOAD_CONTRACTS")
    assert [j["kind"] for j in outcome.output["loads"]] == ["contract"]
    return desk, phone, serial, card, order["lines"][0]["contract_ids"][0]


async def test_a_second_carnet_tops_up_the_first_ones_counter_in_three_round_trips(h):
    desk, phone, serial, card, first = await carnet_on_card(h)
    second = (await h.buy(desk, serial, key="second"))["lines"][0]["contract_ids"][0]

    outcome = await h.terminal(card, phone).run("LOAD_CONTRACTS")

    assert outcome.output["successful"] and outcome.exchanges == 3
    (load,) = outcome.output["loads"]
    assert (load["kind"], load["contract_id"], load["status"], load["top_up_of"], load["top_up_rank"]) == (
        "top_up", second, "confirmed", first, 1)
    assert load["written_by_this_session"] and load["record"] == 1
    image = read_card(h, card)
    (contract,) = image.contracts           # no second record: the trips went to the first carnet's counter
    assert contract.fields["ContractSerialNumber"] == first and contract.counter == 20
    assert contract.fields[TOP_UP_RANK_FIELD] == 1
    assert [(j["kind"], j["status"], j["top_up_of"], j["top_up_seq"]) for j in await jobs_of(h, serial)] == [
        ("contract", "confirmed", None, None), ("top_up", "confirmed", first, 1)]
    mirror = await loads.mirror(h.pool, serial)
    assert mirror is not None and mirror.contracts == tuple(
        CardContract(c.record, c.fields, c.counter) for c in image.contracts)
    # nothing is owed any more: a new session writes nothing
    again = await h.terminal(card, phone).run("LOAD_CONTRACTS")
    assert again.output["loads"] == [] and read_card(h, card).contracts[0].counter == 20


@pytest.mark.parametrize("drop", [Drop(1, "before"), Drop(1, "after"), Drop(2, "before"), Drop(2, "after"),
                                  Drop(3, "before"), Drop(3, "after")], ids=str)
async def test_a_top_up_cut_at_any_message_is_resumed_exactly_once(h, drop):
    desk, phone, serial, card, first = await carnet_on_card(h)
    await h.buy(desk, serial, key="second")

    with pytest.raises(ConnectionDropped):
        await h.terminal(card, phone).run("LOAD_CONTRACTS", drop_at=drop)
    # cut at 3 before: the card applied the session, the server never heard (the write's answer is lost)
    applied = drop.message == 3
    assert read_card(h, card).contracts[0].counter == (20 if applied else 10)
    resumed = await h.terminal(card, phone).run("LOAD_CONTRACTS")

    assert resumed.output["successful"]
    written_now = [j for j in resumed.output["loads"] if j["written_by_this_session"]]
    assert len(written_now) == (0 if applied else 1)
    (contract,) = read_card(h, card).contracts
    assert contract.counter == 20 and contract.fields[TOP_UP_RANK_FIELD] == 1   # added once, never twice
    top_up = (await jobs_of(h, serial))[1]
    assert top_up["status"] == "confirmed"
    assert top_up["confirmed_by"] == ("read" if drop == Drop(3, "before") else "session")
    assert (await loads.mirror(h.pool, serial)).contracts[0].counter == 20


async def test_replayed_messages_and_a_replayed_card_batch_add_nothing(h):
    desk, phone, serial, card, first = await carnet_on_card(h)
    await h.buy(desk, serial, key="second")
    relay = RecordingCard(card)
    outcome = await h.terminal(relay, phone).run("LOAD_CONTRACTS")
    assert read_card(h, card).contracts[0].counter == 20

    # the server refuses every message of the session again, the write's RESP included
    for message, code in ((outcome.messages[2], "remote_message_replayed"), (outcome.messages[1], "remote_message_replayed"),
                          (outcome.messages[0], "remote_session_reused")):
        with pytest.raises(RemoteRefused) as refused:
            await h.terminal(card, phone).transport.send(message)
        assert refused.value.status == 409 and refused.value.code == code
    # a relay sending the top-up's card batch again: the card refuses the close (its transaction
    # counter moved on, so the MAC signed for the old one is wrong) and applies nothing
    starts = [i for i, c in enumerate(relay.commands) if c[1] == 0xA4]   # SELECT APPLICATION
    batch = relay.commands[starts[-1]:]
    answers = [card.transmit(c) for c in batch]
    assert answers[-1][-2:] != b"\x90\x00"
    assert read_card(h, card).contracts[0].counter == 20
    # and a session afterwards finds nothing to do
    assert (await h.terminal(card, phone).run("LOAD_CONTRACTS")).output["loads"] == []
    assert read_card(h, card).contracts[0].counter == 20


async def test_top_ups_of_one_contract_are_ranked_and_written_together(h):
    desk, phone, serial, card, first = await carnet_on_card(h)
    await h.buy(desk, serial, key="second")
    await h.buy(desk, serial, key="third")
    await h.buy(desk, serial, DAY_PASS, key="pass")      # no trips: a contract load of its own

    top_ups = await h.terminal(card, phone).run("TOP_UP")   # the TOP_UP service writes only top-ups

    assert sorted((j["kind"], j["top_up_rank"]) for j in top_ups.output["loads"]) == [("top_up", 1), ("top_up", 2)]
    image = read_card(h, card)
    assert [c.counter for c in image.contracts] == [30] and image.top_up_rank(first) == 2
    assert [j["status"] for j in await jobs_of(h, serial)] == ["confirmed", "confirmed", "confirmed", "pending"]
    rest = await h.terminal(card, phone).run("LOAD_CONTRACTS")
    assert [j["kind"] for j in rest.output["loads"] if j["written_by_this_session"]] == ["contract"]
    assert len(read_card(h, card).contracts) == 2


async def test_a_carnet_bought_before_the_first_is_on_the_card_is_a_contract_of_its_own(h):
    desk = await h.key("sales_point", h.authorities["tcl"])
    phone = await h.key("device", h.authorities["tcl"])
    serial = await h.wallet(desk)
    await h.buy(desk, serial, key="first")
    await h.buy(desk, serial, key="second")   # the first is not confirmed on the card yet

    outcome = await h.terminal(h.card(serial), phone).run("LOAD_CONTRACTS")

    assert [j["kind"] for j in outcome.output["loads"]] == ["contract", "contract"]
    assert {j["kind"] for j in await jobs_of(h, serial)} == {"contract"}


# --- the rank rules, on the load jobs (card images as a read would give them) ----------------------

def image_with(serial: str, host_serial: int, tariff: int, rank: int | None, counter: int) -> CardImage:
    fields = {"ContractSerialNumber": host_serial, "ContractTariff": tariff, TOP_UP_RANK_FIELD: rank}
    return CardImage(serial, {"EnvNetworkId": "250502"}, (CardContract(1, fields, counter),))


async def host_confirmed(h):
    desk = await h.key("sales_point", h.authorities["tcl"])
    serial = await h.wallet(desk)
    await h.buy(desk, serial, key="first")
    now = h.clock.now()
    [host] = await loads.due_loads(h.pool, serial, now)
    await loads.reconcile(h.pool, serial, image_with(serial, host.card_contract_serial, host.tariff, None, 10), now)
    return desk, serial, host


async def test_a_top_up_waits_for_a_lower_rank_that_can_no_longer_be_written_then_goes(h):
    desk, serial, host = await host_confirmed(h)
    now = h.clock.now()
    first = (await h.buy(desk, serial, key="second"))["lines"][0]["contract_ids"][0]
    [a] = [j for j in await loads.due_loads(h.pool, serial, now) if j.kind is LoadKind.TOP_UP]
    h.clock.advance(timedelta(days=1))
    await h.buy(desk, serial, key="third")
    later = h.clock.now()
    [b] = [j for j in await loads.due_loads(h.pool, serial, later) if j.contract_id != a.contract_id]
    assert (a.contract_id, a.top_up_of, a.top_up_seq, b.top_up_seq) == (first, host.card_contract_serial, 1, 2)
    card = image_with(serial, host.card_contract_serial, host.tariff, None, 10)

    # too late to write rank 1 (inside the write margin of its deadline): rank 2 may not go first
    close_to_a = a.deadline - timedelta(minutes=5)
    waiting = await loads.reconcile(h.pool, serial, card, close_to_a)
    assert waiting.to_write == () and waiting.confirmed == ()
    # rank 1 is refunded at its deadline (a read decided it is absent); then rank 2 is written
    assert await loads.refund_expired(h.pool, a.deadline, provider=h.provider) == 1
    going = await loads.reconcile(h.pool, serial, card, a.deadline + timedelta(minutes=1))
    assert [j.job_id for j in going.to_write] == [b.job_id]
    after = image_with(serial, host.card_contract_serial, host.tariff, 2, 20)
    await loads.mark_written(h.pool, b.job_id, "s", 1, after, a.deadline + timedelta(minutes=2))
    confirmed = await loads.confirm(h.pool, b.job_id, after, a.deadline + timedelta(minutes=2))
    assert confirmed.status is LoadStatus.CONFIRMED
    # the refunded rank 1 is below the card's rank yet was never applied: not reported as on the card
    final = await loads.reconcile(h.pool, serial, after, a.deadline + DAY_S)
    assert final.refunded_on_card == () and final.to_write == ()
    statuses = {r["contract_id"]: r["status"] for r in await jobs_of(h, serial)}
    assert statuses[a.contract_id] == "refunded" and statuses[b.contract_id] == "confirmed"


DAY_S = timedelta(days=1)


async def test_a_top_up_whose_contract_left_the_card_becomes_a_contract_load(h):
    desk, serial, host = await host_confirmed(h)
    now = h.clock.now()
    await h.buy(desk, serial, key="second")
    [top_up] = [j for j in await loads.due_loads(h.pool, serial, now) if j.kind is LoadKind.TOP_UP]
    # a write MAC that does not show the top-up's rank is refused as proof
    from nfc_gateway.errors import LoadNotOnCard

    with pytest.raises(LoadNotOnCard):
        await loads.mark_written(h.pool, top_up.job_id, "s", 1,
                                 image_with(serial, host.card_contract_serial, host.tariff, None, 20), now)

    empty = CardImage(serial, {"EnvNetworkId": "250502"})
    result = await loads.reconcile(h.pool, serial, empty, now)

    [owed] = [j for j in result.to_write if j.job_id == top_up.job_id]
    assert (owed.kind, owed.top_up_of, owed.top_up_seq) == (LoadKind.CONTRACT, None, None)
    row = await h.pool.fetchrow("SELECT kind, top_up_of, top_up_seq FROM nfc_load_jobs WHERE job_id = $1", top_up.job_id)
    assert tuple(row) == ("contract", None, None)
