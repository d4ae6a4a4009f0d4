"""The software card through APDU bytes only: selection, reads, writes refused outside a session,
sessions applied only at a MAC-checked close, and left unapplied when dropped, torn or refused."""

import pytest

from nfc_gateway.sim.apdu import (
    SW_AUTH_FAILED, SW_CLA_NOT_SUPPORTED, SW_CONDITIONS_NOT_SATISFIED, SW_COUNTER_OVERFLOW, SW_FILE_NOT_FOUND,
    SW_INCORRECT_FILE_TYPE, SW_INS_NOT_SUPPORTED, SW_MEMORY_FULL, SW_OK, SW_RECORD_NOT_FOUND, SW_SECURITY_STATUS,
    SW_WRONG_LENGTH,
)
from nfc_gateway.sim.card import (
    MAX_SESSION_MODIFICATIONS, SFI_CONTRACT_LIST, SFI_CONTRACTS, SFI_COUNTER, SFI_ENVIRONMENT, SFI_EVENT_LOG,
    SoftwareCard,
)
from nfc_gateway.sim.sam import KEY_DEBIT, KEY_ISSUER, KEY_LOAD, SecureModule
from nfc_gateway.sim.transaction import (
    append_record, close_session, decrease, increase, open_session, parse_fci, read_records, select_application,
    update_record,
)

MASTER = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
SERIAL = bytes.fromhex("00000000C0FFEE01")
SELECT = bytes.fromhex("00A4040008315449432E49434100")     # SELECT APPLICATION 1TIC.ICA, spelled out


def sw(raw: bytes) -> int:
    return int.from_bytes(raw[-2:], "big")


def data(raw: bytes) -> bytes:
    return raw[:-2]


class Terminal:
    """Drives one secure session by hand: the SAM signs what the card actually answered."""

    def __init__(self, sam: SecureModule, card: SoftwareCard, key_index: int = KEY_LOAD) -> None:
        self.sam, self.card, self.key_index = sam, card, key_index
        self.challenge = sam.challenge()
        self.open_command = open_session(key_index, self.challenge)
        self.exchanges: list[tuple[bytes, bytes]] = []

    def open(self) -> bytes:
        answer = self.card.transmit(self.open_command)
        if sw(answer) == SW_OK:
            self.session = self.sam.session(self.card.serial, self.key_index, self.challenge, answer[:3],
                                            self.open_command)
        return answer

    def send(self, command: bytes) -> bytes:
        answer = self.card.transmit(command)
        self.exchanges.append((command, answer))
        return answer

    def close(self, *, mac: bytes | None = None, ratify_now: bool = False) -> bytes:
        terminal_mac = self.session.terminal_mac(self.exchanges) if mac is None else mac
        answer = self.card.transmit(close_session(terminal_mac, ratify_now=ratify_now))
        if sw(answer) == SW_OK:
            self.session.verify_card_mac(self.exchanges, terminal_mac, data(answer))   # raises if wrong
        return answer


@pytest.fixture()
def sam():
    return SecureModule(MASTER)


@pytest.fixture()
def card(sam):
    card = SoftwareCard.blank(SERIAL, sam.personalise(SERIAL))
    assert sw(card.transmit(SELECT)) == SW_OK
    return card


def read(card: SoftwareCard, sfi: int, record: int = 1) -> bytes:
    answer = card.transmit(read_records(sfi, record, only=True))
    assert sw(answer) == SW_OK
    return data(answer)


def test_selection_answers_the_fci_with_serial_and_startup_info(sam):
    card = SoftwareCard.blank(SERIAL, sam.personalise(SERIAL))
    assert sw(card.transmit(read_records(SFI_CONTRACTS))) == SW_CONDITIONS_NOT_SATISFIED   # nothing selected
    assert sw(card.transmit(bytes.fromhex("00A4040005A000000291"))) == SW_FILE_NOT_FOUND
    answer = card.transmit(SELECT)
    assert sw(answer) == SW_OK
    fci = parse_fci(data(answer))
    assert (fci.aid, fci.serial, len(fci.startup_info), fci.transaction_counter) == (b"1TIC.ICA", SERIAL, 7, 0)
    assert sw(card.transmit(bytes.fromhex("00A40400043154494300"))) == SW_OK   # a prefix of the AID selects too


def test_blank_card_has_the_calypso_ticketing_files(card):
    for sfi, records in ((SFI_ENVIRONMENT, 1), (SFI_EVENT_LOG, 3), (SFI_CONTRACTS, 4), (SFI_COUNTER, 1),
                         (SFI_CONTRACT_LIST, 1)):
        assert read(card, sfi, records) == bytes(29)
        assert sw(card.transmit(read_records(sfi, records + 1, only=True))) == SW_RECORD_NOT_FOUND
    assert sw(card.transmit(read_records(0x0A, 1, only=True))) == SW_FILE_NOT_FOUND
    every = data(card.transmit(read_records(SFI_CONTRACTS, 2)))   # records 2 to 4: [number, length, data]...
    assert every == b"".join(bytes((n, 29)) + bytes(29) for n in (2, 3, 4))


def test_unknown_class_instruction_and_malformed_bytes(card):
    assert sw(card.transmit(bytes.fromhex("94B2013C00"))) == SW_CLA_NOT_SUPPORTED
    assert sw(card.transmit(bytes.fromhex("00CA000000"))) == SW_INS_NOT_SUPPORTED
    assert sw(card.transmit(bytes.fromhex("00DC014C05AA"))) == SW_WRONG_LENGTH       # Lc says 5, 1 byte follows
    challenge = card.transmit(bytes.fromhex("0084000008"))
    assert sw(challenge) == SW_OK and len(data(challenge)) == 8


@pytest.mark.parametrize("command", [
    update_record(SFI_CONTRACTS, 1, b"\x01" * 29),
    update_record(SFI_ENVIRONMENT, 1, b"\x01" * 29),
    append_record(SFI_EVENT_LOG, b"\x01" * 29),
    increase(1, 5),
    decrease(1, 0),
])
def test_writes_outside_a_session_are_refused(card, command):
    before = card.to_json()
    assert sw(card.transmit(command)) == SW_SECURITY_STATUS
    assert card.to_json() == before


def test_a_session_closed_with_the_right_mac_is_applied(sam, card):
    terminal = Terminal(sam, card)
    opened = terminal.open()
    assert sw(opened) == SW_OK
    assert data(opened)[:3] == bytes(3) and data(opened)[3] == 0x00   # counter 0, previous session ratified
    contract = bytes(range(1, 30))
    assert sw(terminal.send(update_record(SFI_CONTRACTS, 2, contract))) == SW_OK
    assert data(terminal.send(increase(2, 10))) == (10).to_bytes(3, "big")
    assert data(terminal.send(decrease(2, 3))) == (7).to_bytes(3, "big")
    assert sw(terminal.send(append_record(SFI_EVENT_LOG, b"\xEE" * 29))) == SW_OK
    assert data(terminal.send(read_records(SFI_CONTRACTS, 2, only=True))) == contract   # the session sees its own writes
    answer = terminal.close()
    assert sw(answer) == SW_OK and len(data(answer)) == 8
    assert read(card, SFI_CONTRACTS, 2) == contract
    assert read(card, SFI_COUNTER)[3:6] == (7).to_bytes(3, "big")
    assert read(card, SFI_EVENT_LOG, 1) == b"\xEE" * 29


def test_a_shorter_update_replaces_the_record_zero_padded(sam, card):
    terminal = Terminal(sam, card)
    terminal.open()
    terminal.send(update_record(SFI_CONTRACTS, 1, b"\xFF" * 29))
    terminal.send(update_record(SFI_CONTRACTS, 1, b"\x01\x02"))
    assert sw(terminal.close()) == SW_OK
    assert read(card, SFI_CONTRACTS, 1) == b"\x01\x02" + bytes(27)


def test_the_event_log_is_cyclic_newest_first(sam, card):
    terminal = Terminal(sam, card, KEY_DEBIT)
    terminal.open()
    for n in range(1, 5):
        assert sw(terminal.send(append_record(SFI_EVENT_LOG, bytes((n,)) * 29))) == SW_OK
    assert sw(terminal.close()) == SW_OK
    assert [read(card, SFI_EVENT_LOG, r)[0] for r in (1, 2, 3)] == [4, 3, 2]


def test_a_wrong_terminal_mac_is_refused_and_nothing_applied(sam, card):
    before = card.to_json()
    terminal = Terminal(sam, card)
    terminal.open()
    terminal.send(update_record(SFI_CONTRACTS, 1, b"\x01" * 29))
    terminal.send(increase(1, 10))
    good = terminal.session.terminal_mac(terminal.exchanges)
    assert sw(terminal.close(mac=bytes(b ^ 1 for b in good))) == SW_AUTH_FAILED
    assert sw(card.transmit(close_session(good))) == SW_CONDITIONS_NOT_SATISFIED   # the session is gone
    after = card.to_json()
    assert after["files"] == before["files"]
    assert after["transaction_counter"] == before["transaction_counter"] + 1


def test_a_mac_from_another_card_s_keys_is_refused(card):
    other_sam = SecureModule(bytes(16))
    terminal = Terminal(other_sam, card)
    terminal.open()
    terminal.send(update_record(SFI_CONTRACTS, 1, b"\x01" * 29))
    assert sw(terminal.close()) == SW_AUTH_FAILED
    assert read(card, SFI_CONTRACTS, 1) == bytes(29)


def test_writes_need_the_terminal_mac(sam, card):
    terminal = Terminal(sam, card)
    terminal.open()
    terminal.send(update_record(SFI_CONTRACTS, 1, b"\x01" * 29))
    assert sw(card.transmit(close_session(b""))) == SW_SECURITY_STATUS
    assert read(card, SFI_CONTRACTS, 1) == bytes(29)


@pytest.mark.parametrize("drop", ["remove", "select", "open again", "crash"])
def test_a_dropped_session_leaves_the_card_as_before(sam, card, drop):
    before = card.to_json()
    terminal = Terminal(sam, card)
    terminal.open()
    terminal.send(update_record(SFI_CONTRACTS, 1, b"\x01" * 29))
    terminal.send(increase(1, 10))
    terminal.send(append_record(SFI_EVENT_LOG, b"\x02" * 29))
    if drop == "remove":
        card.remove()
        card.transmit(SELECT)
    elif drop == "select":
        card.transmit(SELECT)
    elif drop == "open again":
        assert sw(Terminal(sam, card).open()) == SW_OK
    else:
        card = SoftwareCard.from_json(card.to_json())     # the card's memory survives, the session does not
        card.transmit(SELECT)
    assert card.to_json()["files"] == before["files"]
    late_close = card.transmit(close_session(terminal.session.terminal_mac(terminal.exchanges)))
    # no session any more, or (after another opening) one whose digest the old MAC does not match
    assert sw(late_close) == (SW_AUTH_FAILED if drop == "open again" else SW_CONDITIONS_NOT_SATISFIED)
    assert card.to_json()["files"] == before["files"]


def test_a_refused_command_loses_the_session(sam, card):
    terminal = Terminal(sam, card)
    terminal.open()
    terminal.send(update_record(SFI_CONTRACTS, 1, b"\x01" * 29))
    assert sw(terminal.send(decrease(1, 1))) == SW_COUNTER_OVERFLOW     # counter 1 is 0
    assert sw(terminal.close()) == SW_CONDITIONS_NOT_SATISFIED
    assert read(card, SFI_CONTRACTS, 1) == bytes(29)


def test_counters_stay_in_three_bytes(sam, card):
    terminal = Terminal(sam, card, KEY_ISSUER)
    terminal.open()
    assert data(terminal.send(increase(9, 0xFFFFFF))) == b"\xFF\xFF\xFF"
    assert sw(terminal.close()) == SW_OK
    terminal = Terminal(sam, card, KEY_ISSUER)
    terminal.open()
    assert sw(terminal.send(increase(9, 1))) == SW_COUNTER_OVERFLOW
    assert sw(Terminal(sam, card).open()) == SW_OK
    assert sw(card.transmit(increase(10, 1))) == SW_RECORD_NOT_FOUND       # 9 counters only
    assert sw(Terminal(sam, card).open()) == SW_OK
    assert sw(card.transmit(bytes.fromhex("0032014803000001"))) == SW_INCORRECT_FILE_TYPE   # SFI 09 is no counter
    assert sw(card.transmit(increase(1, 1))) == SW_SECURITY_STATUS          # and the refusal lost the session


def test_key_rights_per_file(sam, card):
    terminal = Terminal(sam, card, KEY_DEBIT)            # a validator's session
    terminal.open()
    assert sw(terminal.send(update_record(SFI_CONTRACTS, 1, b"\x01" * 29))) == SW_SECURITY_STATUS
    terminal = Terminal(sam, card, KEY_DEBIT)
    terminal.open()
    assert sw(terminal.send(increase(1, 1))) == SW_SECURITY_STATUS
    terminal = Terminal(sam, card, KEY_LOAD)
    terminal.open()
    assert sw(terminal.send(update_record(SFI_ENVIRONMENT, 1, b"\x01" * 29))) == SW_SECURITY_STATUS
    terminal = Terminal(sam, card, KEY_ISSUER)
    terminal.open()
    assert sw(terminal.send(update_record(SFI_ENVIRONMENT, 1, b"\x05" * 29))) == SW_OK
    assert sw(terminal.send(increase(1, 3))) == SW_OK
    assert sw(terminal.close()) == SW_OK
    terminal = Terminal(sam, card, KEY_DEBIT)
    terminal.open()
    assert data(terminal.send(decrease(1, 1))) == (2).to_bytes(3, "big")
    assert sw(terminal.send(append_record(SFI_EVENT_LOG, b"\x07" * 29))) == SW_OK
    assert sw(terminal.close()) == SW_OK
    assert read(card, SFI_ENVIRONMENT) == b"\x05" * 29 and read(card, SFI_COUNTER)[:3] == b"\x00\x00\x02"


def test_a_session_holds_a_bounded_number_of_modifications(sam, card):
    terminal = Terminal(sam, card)
    terminal.open()
    for _ in range(MAX_SESSION_MODIFICATIONS):
        assert sw(terminal.send(increase(1, 1))) == SW_OK
    assert sw(terminal.send(increase(1, 1))) == SW_MEMORY_FULL
    assert sw(terminal.close()) == SW_CONDITIONS_NOT_SATISFIED
    assert read(card, SFI_COUNTER) == bytes(29)


def test_every_opening_spends_the_transaction_counter_so_a_recorded_session_never_replays(sam, card):
    terminal = Terminal(sam, card)
    terminal.open()
    terminal.send(increase(1, 10))
    mac = terminal.session.terminal_mac(terminal.exchanges)
    recorded = [terminal.open_command, increase(1, 10), close_session(mac)]
    assert sw(terminal.close()) == SW_OK
    answers = [card.transmit(c) for c in recorded]          # the same bytes, once more
    assert sw(answers[0]) == SW_OK and data(answers[0])[:3] == b"\x00\x00\x01"
    assert sw(answers[-1]) == SW_AUTH_FAILED
    assert read(card, SFI_COUNTER)[:3] == (10).to_bytes(3, "big")
    torn = Terminal(sam, card)
    torn.open()
    card.remove()
    card.transmit(SELECT)
    assert parse_fci(data(card.transmit(SELECT))).transaction_counter == 3   # a torn session spent one too


def test_ratification(sam, card):
    terminal = Terminal(sam, card)
    terminal.open()
    terminal.send(increase(1, 1))
    assert sw(terminal.close()) == SW_OK
    card.remove()                                           # torn right after the close's answer
    card.transmit(SELECT)
    terminal = Terminal(sam, card)
    opened = terminal.open()
    assert data(opened)[3] == 0x01                          # the previous session was not ratified
    assert data(terminal.send(read_records(SFI_COUNTER, 1, only=True)))[:3] == b"\x00\x00\x01"   # but applied
    terminal.send(increase(1, 1))
    assert sw(terminal.close()) == SW_OK
    card.transmit(read_records(SFI_COUNTER, 1, only=True))  # any next command ratifies
    assert data(Terminal(sam, card).open())[3] == 0x00
    terminal = Terminal(sam, card)
    terminal.open()
    terminal.send(increase(1, 1))
    assert sw(terminal.close(ratify_now=True)) == SW_OK
    card.remove()
    card.transmit(SELECT)
    assert data(Terminal(sam, card).open())[3] == 0x00


def test_open_can_return_a_record(sam, card):
    challenge = sam.challenge()
    opened = card.transmit(open_session(KEY_LOAD, challenge, sfi=SFI_CONTRACTS, record=4))
    assert sw(opened) == SW_OK
    assert data(opened)[4:6] == bytes((KEY_LOAD, 29)) and data(opened)[6:] == bytes(29)


def test_json_round_trip(sam, card):
    terminal = Terminal(sam, card)
    terminal.open()
    terminal.send(update_record(SFI_CONTRACTS, 3, b"\x33" * 29))
    terminal.send(increase(3, 4))
    assert sw(terminal.close()) == SW_OK
    copy = SoftwareCard.from_json(card.to_json())
    assert copy.to_json() == card.to_json()
    copy.transmit(SELECT)
    assert read(copy, SFI_CONTRACTS, 3) == b"\x33" * 29
    terminal = Terminal(sam, copy)                           # the copy still holds its keys
    terminal.open()
    terminal.send(decrease(3, 1))
    assert sw(terminal.close()) == SW_OK
