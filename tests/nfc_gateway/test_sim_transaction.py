"""The sans-IO plans against the software card: a load in two round trips, the card's MAC checked,
a relay that alters a response caught, a card that changed since its read left untouched; the secure
module's keys: per card, never in what the relay carries, never in the card's memory but its own."""

import json

import pytest

from nfc_gateway.errors import CardCommandFailed, CardMacInvalid, CardSessionPlanInvalid, CardStateChanged
from nfc_gateway.sim import (
    KEY_DEBIT, SFI_CONTRACT_LIST, SFI_CONTRACTS, SFI_COUNTER, SFI_ENVIRONMENT, SFI_EVENT_LOG, ReadCard, ReadResult,
    SecureModule, SoftwareCard, WriteSession, transmit_all,
)
from nfc_gateway.sim.card import MAX_SESSION_MODIFICATIONS

MASTER = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
SERIAL = bytes.fromhex("0000000000ABCDEF")
CONTRACT = bytes.fromhex("11" * 29)
EVENT = bytes.fromhex("22" * 29)


class Relay:
    """The phone or vending machine: carries batches, counts round trips, may misbehave."""

    def __init__(self, card: SoftwareCard) -> None:
        self.card = card
        self.round_trips = 0
        self.seen: list[bytes] = []

    def __call__(self, commands: list[bytes]) -> list[bytes]:
        self.round_trips += 1
        responses = transmit_all(self.card.transmit, commands)
        self.seen += commands + responses
        return responses


@pytest.fixture()
def sam():
    return SecureModule(MASTER)


@pytest.fixture()
def card(sam):
    return SoftwareCard.blank(SERIAL, sam.personalise(SERIAL))


def read(sam, relay) -> ReadResult:
    plan = ReadCard(sam)
    return plan.result(relay(plan.commands()))


def load(sam, relay, record: int = 1, trips: int = 10) -> WriteSession:
    session = WriteSession.after(sam, read(sam, relay))
    session.update_record(SFI_CONTRACTS, record, CONTRACT)
    session.increase(record, trips)
    session.append_record(SFI_EVENT_LOG, EVENT)
    session.check(relay(session.close()))
    return session


def test_a_load_takes_two_round_trips_and_the_next_read_sees_it(sam, card):
    relay = Relay(card)
    session = load(sam, relay, record=2, trips=10)
    assert relay.round_trips == 2
    assert session.counters[1] == 10
    after = read(sam, Relay(card))
    assert after.authenticated and after.serial == SERIAL
    assert after.get_record(SFI_CONTRACTS, 2) == CONTRACT
    assert after.records[SFI_CONTRACTS][0] == bytes(29)
    assert after.records[SFI_EVENT_LOG] == (EVENT, bytes(29), bytes(29))
    assert after.counters == (0, 10, 0, 0, 0, 0, 0, 0, 0)
    assert set(after.records) == {SFI_ENVIRONMENT, SFI_EVENT_LOG, SFI_CONTRACTS, SFI_COUNTER, SFI_CONTRACT_LIST}
    assert after.transaction_counter == 3 == session.next_transaction_counter + 1   # read, write, read


def test_the_read_is_one_batch_and_reports_ratification(sam, card):
    relay = Relay(card)
    first = read(sam, relay)
    assert relay.round_trips == 1 and first.previous_session_ratified is True and first.transaction_counter == 1
    session = WriteSession.after(sam, first)
    session.increase(1, 1)
    session.check(relay(session.close()))
    card.remove()                                        # the phone leaves before any other command
    assert read(sam, relay).previous_session_ratified is False


def test_a_tampered_read_response_is_detected(sam, card):
    plan = ReadCard(sam)
    responses = transmit_all(card.transmit, plan.commands())
    contracts = plan.commands().index(next(c for c in plan.commands() if c[1] == 0xB2 and c[3] >> 3 == SFI_CONTRACTS))
    forged = bytearray(responses[contracts])
    forged[2] ^= 0x01                                    # a relay pretending the card holds a contract
    responses[contracts] = bytes(forged)
    with pytest.raises(CardMacInvalid):
        plan.result(responses)


def test_a_card_of_another_region_fails_the_read(card):
    plan = ReadCard(SecureModule(bytes(16)))
    with pytest.raises(CardMacInvalid):
        plan.result(transmit_all(card.transmit, plan.commands()))


def test_an_unauthenticated_read_needs_no_sam(sam, card):
    load(sam, Relay(card))
    plan = ReadCard(None)
    result = plan.result(transmit_all(card.transmit, plan.commands()))
    assert not result.authenticated and result.previous_session_ratified is None
    assert result.get_record(SFI_CONTRACTS, 1) == CONTRACT and result.counters[0] == 10
    assert result.transaction_counter == 2                     # a plain read spends no session


@pytest.mark.parametrize("what", ["increase answer", "card mac"])
def test_a_tampered_write_response_is_detected(sam, card, what):
    first = read(sam, Relay(card))
    session = WriteSession.after(sam, first)
    session.update_record(SFI_CONTRACTS, 1, CONTRACT)
    session.increase(1, 10)
    batch = session.close()
    responses = transmit_all(card.transmit, batch)
    at = 3 if what == "increase answer" else -1
    forged = bytearray(responses[at])
    forged[0] ^= 0x80
    responses[at] = bytes(forged)
    with pytest.raises(CardMacInvalid):
        session.check(responses)
    # the card did apply the session: only the next authenticated read tells the truth
    assert read(sam, Relay(card)).get_record(SFI_CONTRACTS, 1) == CONTRACT


def test_a_card_changed_since_its_read_refuses_the_session(sam, card):
    stale = read(sam, Relay(card))
    load(sam, Relay(card), record=3)                     # another terminal wrote meanwhile
    before = card.to_json()["files"]
    session = WriteSession.after(sam, stale)
    session.update_record(SFI_CONTRACTS, 1, CONTRACT)
    responses = transmit_all(card.transmit, session.close())
    assert responses[-1][-2:] == bytes.fromhex("6988")   # the card refused the pre-signed close
    with pytest.raises(CardStateChanged):
        session.check(responses)
    assert card.to_json()["files"] == before


def test_a_counter_that_moved_makes_the_card_refuse(sam, card):
    first = read(sam, Relay(card))
    # same transaction counter, but the SAM predicts a counter the card does not hold
    session = WriteSession(sam, first.serial, first.transaction_counter, (5,) + first.counters[1:])
    session.increase(1, 1)
    responses = transmit_all(card.transmit, session.close())
    with pytest.raises(CardCommandFailed) as refused:
        session.check(responses)
    assert refused.value.sw == 0x6988
    assert read(sam, Relay(card)).counters[0] == 0


def test_another_card_answering_is_refused(sam, card):
    other_serial = bytes.fromhex("0000000000000002")
    other = SoftwareCard.blank(other_serial, sam.personalise(other_serial))
    session = WriteSession.after(sam, read(sam, Relay(card)))
    session.update_record(SFI_CONTRACTS, 1, CONTRACT)
    with pytest.raises(CardStateChanged):
        session.check(transmit_all(other.transmit, session.close()))
    other.transmit(ReadCard(None).commands()[0])
    assert ReadCard(None).result(transmit_all(other.transmit, ReadCard(None).commands())).records[SFI_CONTRACTS][0] \
        == bytes(29)


def test_a_batch_cut_short_is_not_taken_for_a_write(sam, card):
    session = WriteSession.after(sam, read(sam, Relay(card)))
    session.update_record(SFI_CONTRACTS, 1, CONTRACT)
    batch = session.close()
    responses = transmit_all(card.transmit, batch[:-1])      # the connection dropped before the close
    card.remove()
    with pytest.raises(CardCommandFailed):
        session.check(responses)
    assert read(sam, Relay(card)).get_record(SFI_CONTRACTS, 1) == bytes(29)


def test_impossible_plans_are_refused_before_anything_is_sent(sam, card):
    first = read(sam, Relay(card))
    with pytest.raises(CardSessionPlanInvalid):
        WriteSession.after(sam, first).update_record(SFI_CONTRACTS, 5, CONTRACT)
    with pytest.raises(CardSessionPlanInvalid):
        WriteSession.after(sam, first).update_record(0x0A, 1, CONTRACT)
    with pytest.raises(CardSessionPlanInvalid):
        WriteSession.after(sam, first).update_record(SFI_CONTRACTS, 1, bytes(30))
    with pytest.raises(CardSessionPlanInvalid):
        WriteSession.after(sam, first).decrease(1, 1)                          # counter 1 is 0
    with pytest.raises(CardSessionPlanInvalid):
        WriteSession.after(sam, first).update_record(SFI_ENVIRONMENT, 1, CONTRACT)   # the load key may not
    with pytest.raises(CardSessionPlanInvalid):
        WriteSession.after(sam, first, key_index=KEY_DEBIT).increase(1, 1)
    with pytest.raises(CardSessionPlanInvalid):
        WriteSession.after(sam, first).append_record(SFI_CONTRACTS, CONTRACT)   # not cyclic
    full = WriteSession.after(sam, first)
    for _ in range(MAX_SESSION_MODIFICATIONS):
        full.increase(1, 1)
    with pytest.raises(CardSessionPlanInvalid):
        full.increase(1, 1)
    closed = WriteSession.after(sam, first)
    closed.close()
    with pytest.raises(CardSessionPlanInvalid):
        closed.increase(1, 1)


def test_set_counter_and_a_validator_session(sam, card):
    load(sam, Relay(card), record=1, trips=10)
    top_up = WriteSession.after(sam, read(sam, Relay(card)))
    assert top_up.set_counter(1, 10) is None
    top_up.set_counter(1, 4)
    top_up.set_counter(2, 7)
    top_up.check(transmit_all(card.transmit, top_up.close()))
    validator = WriteSession.after(sam, read(sam, Relay(card)), key_index=KEY_DEBIT)
    validator.decrease(1, 1)
    validator.append_record(SFI_EVENT_LOG, EVENT)
    validator.check(transmit_all(card.transmit, validator.close()))
    assert read(sam, Relay(card)).counters[:2] == (3, 7)


def test_read_result_json_round_trip(sam, card):
    load(sam, Relay(card))
    result = read(sam, Relay(card))
    assert ReadResult.from_json(json.loads(json.dumps(result.to_json()))) == result


def test_two_cards_get_different_keys_and_one_card_always_the_same(sam):
    a, b = sam.personalise(bytes.fromhex("0000000000000001")), sam.personalise(bytes.fromhex("0000000000000002"))
    assert set(a.keys.values()).isdisjoint(b.keys.values())
    assert len(set(a.keys.values())) == 3                  # three distinct keys per card
    assert SecureModule(MASTER).personalise(bytes.fromhex("0000000000000001")) == a
    assert SecureModule(bytes(16)).personalise(bytes.fromhex("0000000000000001")) != a
    assert MASTER not in a.keys.values()
    assert "keys" not in repr(a) and MASTER.hex() not in repr(sam)


def test_the_relay_sees_no_key(sam, card):
    relay = Relay(card)
    load(sam, relay)
    read(sam, relay)
    carried = b"".join(relay.seen)
    for secret in [MASTER, *sam.personalise(SERIAL).keys.values()]:
        for i in range(len(secret) - 5):                  # not even 6 bytes in a row
            assert secret[i:i + 6] not in carried


def test_the_card_memory_holds_its_own_keys_only(sam, card):
    memory = json.dumps(card.to_json())
    assert MASTER.hex() not in memory.lower()
    assert sorted(card.to_json()["keys"].values()) == sorted(k.hex() for k in sam.personalise(SERIAL).keys.values())
    other = SoftwareCard.blank(bytes.fromhex("0000000000000009"), sam.personalise(bytes.fromhex("0000000000000009")))
    assert set(card.to_json()["keys"].values()).isdisjoint(other.to_json()["keys"].values())


def test_a_card_kept_across_a_crash_goes_on(sam, card):
    relay = Relay(card)
    first = read(sam, relay)
    session = WriteSession.after(sam, first)
    session.update_record(SFI_CONTRACTS, 1, CONTRACT)
    batch = session.close()
    transmit_all(card.transmit, batch[:3])                # open and the write, then everything stops
    revived = SoftwareCard.from_json(json.loads(json.dumps(card.to_json())))
    assert read(sam, Relay(revived)).get_record(SFI_CONTRACTS, 1) == bytes(29)
    load(sam, Relay(revived))
    assert read(sam, Relay(revived)).get_record(SFI_CONTRACTS, 1) == CONTRACT
