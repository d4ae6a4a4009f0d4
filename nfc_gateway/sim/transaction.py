"""Sans-IO card transactions: the server plans APDU batches, a relay carries them, the server checks.

Nothing here talks to a card. A plan gives a list of command APDUs (bytes); whoever holds the card
(the phone's NFC stack, a vending machine's PC/SC reader, `transmit_all` in tests) sends them in
order and returns the list of response APDUs; the plan turns them into a result or an error. The
remote protocol (`nfc_gateway.remote`) carries one batch per Keyple TRANSMIT_CARD_REQUEST, so a
load costs two round trips:

1. `ReadCard`: SELECT, OPEN SECURE SESSION (debit key), READ RECORDS of every file, CLOSE without
   terminal MAC. The card's closing MAC proves the records are this card's (the relay cannot
   invent or hide a contract), and the FCI gives the transaction counter of the next session.
2. `WriteSession`: SELECT, OPEN (load key), the writes, CLOSE with the terminal MAC. The MAC is
   computed before the batch leaves, over the commands and the responses the card must give
   (scheme OURA-SIM-1, `nfc_gateway.sim.sam`): if the card is not in the state read at step 1
   it refuses the close and nothing is written.

What `WriteSession.check` tells the caller about the card:

- returns: the card applied the whole session (its MAC is verified);
- `CardCommandFailed`, `CardStateChanged`: the card refused the session, nothing was written --
  *if* the relay told the truth; a lying relay could hide a success;
- `CardMacInvalid` or a missing response: unknown (the close may have been applied).

So the loads never decide from a write's outcome alone whether to write again: the next session's
authenticated read is the truth (`nfc_gateway.remote.model`: a contract is recognised by its
serial on the card). Records are raw 29-byte strings here; decoding them is
`nfc_gateway.intercode`'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from nfc_gateway.errors import CardCommandFailed, CardSessionPlanInvalid, CardStateChanged, MalformedApdu
from nfc_gateway.sim.apdu import (
    CLA_ISO, INS_APPEND_RECORD, INS_CLOSE_SESSION, INS_DECREASE, INS_INCREASE, INS_OPEN_SESSION,
    INS_READ_RECORD, INS_SELECT, INS_UPDATE_RECORD, SW_OK, Command, Response, sw_name,
)
from nfc_gateway.sim.card import (
    AID, COUNTERS, FILE_LAYOUT, MAX_SESSION_MODIFICATIONS, RECORD_SIZE, SFI_CONTRACT_LIST, SFI_CONTRACTS,
    SFI_COUNTER, SFI_ENVIRONMENT, SFI_EVENT_LOG,
)
from nfc_gateway.sim.sam import CARD_CHALLENGE_LENGTH, KEY_DEBIT, KEY_LOAD, SamSession, SecureModule

__all__ = [
    "ReadCard", "ReadResult", "WriteSession", "READ_FILES", "transmit_all",
    "select_application", "read_records", "update_record", "append_record", "increase", "decrease",
    "open_session", "close_session", "parse_fci",
]

READ_FILES = (SFI_ENVIRONMENT, SFI_EVENT_LOG, SFI_CONTRACTS, SFI_COUNTER, SFI_CONTRACT_LIST)
COUNTER_MAX = 0xFFFFFF


# --- command builders --------------------------------------------------------------------------

def select_application(aid: bytes = AID) -> bytes:
    return Command(CLA_ISO, INS_SELECT, 0x04, 0x00, aid, 256).to_bytes()


def read_records(sfi: int, first: int = 1, *, only: bool = False) -> bytes:
    """READ RECORD(S): record ``first`` alone (``only``) or ``first`` to the last one."""
    return Command(CLA_ISO, INS_READ_RECORD, first, sfi << 3 | (4 if only else 5), le=256).to_bytes()


def update_record(sfi: int, record: int, data: bytes) -> bytes:
    return Command(CLA_ISO, INS_UPDATE_RECORD, record, sfi << 3 | 4, data).to_bytes()


def append_record(sfi: int, data: bytes) -> bytes:
    return Command(CLA_ISO, INS_APPEND_RECORD, 0, sfi << 3, data).to_bytes()


def increase(counter: int, amount: int, sfi: int = SFI_COUNTER) -> bytes:
    return Command(CLA_ISO, INS_INCREASE, counter, sfi << 3, amount.to_bytes(3, "big"), 3).to_bytes()


def decrease(counter: int, amount: int, sfi: int = SFI_COUNTER) -> bytes:
    return Command(CLA_ISO, INS_DECREASE, counter, sfi << 3, amount.to_bytes(3, "big"), 3).to_bytes()


def open_session(key_index: int, terminal_challenge: bytes, *, sfi: int = 0, record: int = 0) -> bytes:
    return Command(CLA_ISO, INS_OPEN_SESSION, record << 3 | key_index, sfi << 3, terminal_challenge, 256).to_bytes()


def close_session(terminal_mac: bytes = b"", *, ratify_now: bool = False) -> bytes:
    return Command(CLA_ISO, INS_CLOSE_SESSION, 0x80 if ratify_now else 0x00, 0x00, terminal_mac, 256).to_bytes()


def transmit_all(transmit: Callable[[bytes], bytes], commands: Iterable[bytes]) -> list[bytes]:
    """What a relay does with one batch: send every command in order, collect every response."""
    return [transmit(command) for command in commands]


# --- FCI ---------------------------------------------------------------------------------------

def _tlvs(data: bytes) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    i = 0
    while i < len(data):
        start = i
        i += 1
        if data[start] & 0x1F == 0x1F:                 # multi-byte tag
            while i < len(data) and data[i] & 0x80:
                i += 1
            i += 1
        tag = data[start:i]
        if i >= len(data):
            raise MalformedApdu("the card's FCI is truncated")
        length = data[i]
        i += 1
        if length == 0x81:
            if i >= len(data):
                raise MalformedApdu("the card's FCI is truncated")
            length, i = data[i], i + 1
        elif length > 0x7F:
            raise MalformedApdu("the card's FCI has an unsupported length")
        if i + length > len(data):
            raise MalformedApdu("the card's FCI is truncated")
        out[tag] = data[i:i + length]
        i += length
    return out


@dataclass(frozen=True)
class Fci:
    aid: bytes
    serial: bytes
    startup_info: bytes
    transaction_counter: int


def parse_fci(data: bytes) -> Fci:
    try:
        fci = _tlvs(_tlvs(data)[b"\x6f"])
        proprietary = _tlvs(_tlvs(fci[b"\xa5"])[b"\xbf\x0c"])
        serial, counter = proprietary[b"\xc7"], proprietary[b"\xc8"]
    except KeyError as missing:
        raise MalformedApdu(f"the card's FCI has no tag {missing.args[0].hex().upper()}") from None
    if len(serial) != 8 or len(counter) != 3:
        raise MalformedApdu("the card's FCI has a serial of other than 8 bytes or a counter of other than 3")
    return Fci(fci.get(b"\x84", b""), serial, proprietary.get(b"\x53", b""), int.from_bytes(counter, "big"))


def _response(raw: bytes, what: str) -> Response:
    response = Response.from_bytes(raw)
    if response.sw != SW_OK:
        raise CardCommandFailed(f"the card refused {what}: {sw_name(response.sw)}", sw=response.sw)
    return response


def _split_records(data: bytes) -> tuple[bytes, ...]:
    records: list[bytes] = []
    i = 0
    while i < len(data):
        if i + 2 > len(data) or i + 2 + data[i + 1] > len(data):
            raise MalformedApdu("a READ RECORDS answer is truncated")
        number, length = data[i], data[i + 1]
        if number != len(records) + 1:
            raise MalformedApdu("a READ RECORDS answer skips a record")
        records.append(data[i + 2:i + 2 + length])
        i += 2 + length
    return tuple(records)


def _counters(record: bytes) -> tuple[int, ...]:
    return tuple(int.from_bytes(record[3 * i:3 * i + 3], "big") for i in range(COUNTERS))


# --- reading -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReadResult:
    serial: bytes                          # the application serial number (8 bytes)
    startup_info: bytes
    transaction_counter: int               # the card's counter now: the card challenge of its next session
    records: dict[int, tuple[bytes, ...]]  # SFI -> records, record 1 first (event log: newest first)
    authenticated: bool                    # read inside a session whose card MAC the SAM verified
    previous_session_ratified: bool | None = None   # None: not asked (unauthenticated read)

    @property
    def counters(self) -> tuple[int, ...]:
        """The 9 counters of EF Counter (counter ``n`` at index ``n - 1``)."""
        found = self.records.get(SFI_COUNTER)
        return _counters(found[0]) if found else (0,) * COUNTERS

    def get_record(self, sfi: int, record: int) -> bytes:
        return self.records[sfi][record - 1]

    def to_json(self) -> dict[str, Any]:
        return {"serial": self.serial.hex(), "startup_info": self.startup_info.hex(),
                "transaction_counter": self.transaction_counter,
                "records": {f"{sfi:02X}": [r.hex() for r in rs] for sfi, rs in sorted(self.records.items())},
                "authenticated": self.authenticated, "previous_session_ratified": self.previous_session_ratified}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReadResult:
        return cls(bytes.fromhex(data["serial"]), bytes.fromhex(data["startup_info"]), int(data["transaction_counter"]),
                   {int(sfi, 16): tuple(bytes.fromhex(r) for r in rs) for sfi, rs in data["records"].items()},
                   bool(data["authenticated"]), data.get("previous_session_ratified"))


class ReadCard:
    """Select the application and read every file, in one batch.

    With a secure module (the default way) the reads run inside a read-only secure session closed
    without terminal MAC, and `result` verifies the card's MAC; it spends one transaction counter.
    Without one (``sam=None``) the records are whatever the relay says.
    """

    def __init__(self, sam: SecureModule | None, *, aid: bytes = AID, files: Sequence[int] = READ_FILES,
                 key_index: int = KEY_DEBIT) -> None:
        self._sam = sam
        self._aid = aid
        self._files = tuple(files)
        self._key_index = key_index
        self._challenge = sam.challenge() if sam is not None else b""
        self._reads = [read_records(sfi) for sfi in self._files]
        self._open = open_session(key_index, self._challenge) if sam is not None else b""

    def commands(self) -> list[bytes]:
        if self._sam is None:
            return [select_application(self._aid), *self._reads]
        return [select_application(self._aid), self._open, *self._reads, close_session()]

    def result(self, responses: Sequence[bytes]) -> ReadResult:
        commands = self.commands()
        if len(responses) != len(commands):
            raise CardCommandFailed(f"{len(responses)} responses to {len(commands)} commands: the card left the field")
        fci = parse_fci(_response(responses[0], "the application selection").data)
        if self._sam is None:
            read = responses[1:]
            ratified = None
            counter = fci.transaction_counter
        else:
            opened = _response(responses[1], "the session opening").data
            card_challenge = opened[:CARD_CHALLENGE_LENGTH]
            if len(opened) < CARD_CHALLENGE_LENGTH + 3 or int.from_bytes(card_challenge, "big") != fci.transaction_counter:
                raise CardStateChanged("the session opening does not follow the selection")
            ratified = opened[CARD_CHALLENGE_LENGTH] == 0
            read = responses[2:-1]
            for raw in read:
                _response(raw, "a read")
            close = _response(responses[-1], "the session closing")
            session = self._sam.session(fci.serial, self._key_index, self._challenge, card_challenge, self._open)
            session.verify_card_mac(zip(self._reads, read), b"", close.data)
            counter = fci.transaction_counter + 1
        records = {sfi: _split_records(_response(raw, f"the read of file {sfi:02X}").data)
                   for sfi, raw in zip(self._files, read)}
        return ReadResult(fci.serial, fci.startup_info, counter, records, self._sam is not None, ratified)


# --- writing -----------------------------------------------------------------------------------

class WriteSession:
    """One secure session of writes, signed in advance and sent as one batch.

    ``transaction_counter`` and ``counters`` are the card's as last read (`WriteSession.after`):
    the session key depends on the first, and the SAM predicts INCREASE / DECREASE answers from the
    second. Add writes, then `close` gives the whole batch (SELECT, OPEN, writes, CLOSE); `check`
    takes its responses. `open` gives the first two commands, for a caller that shows them apart.
    """

    def __init__(self, sam: SecureModule, card_serial: bytes, transaction_counter: int,
                 counters: Sequence[int] = (0,) * COUNTERS, *, aid: bytes = AID, key_index: int = KEY_LOAD,
                 ratify_now: bool = False) -> None:
        if len(counters) != COUNTERS:
            raise CardSessionPlanInvalid(f"a card has {COUNTERS} counters")
        self._sam = sam
        self._serial = bytes(card_serial)
        self._counter = transaction_counter
        self._counters = list(counters)
        self._aid = aid
        self._key_index = key_index
        self._ratify_now = ratify_now
        self._challenge = sam.challenge()
        self._card_challenge = transaction_counter.to_bytes(CARD_CHALLENGE_LENGTH, "big")
        self._open = open_session(key_index, self._challenge)
        self._session: SamSession = sam.session(self._serial, key_index, self._challenge, self._card_challenge,
                                                self._open)
        self._writes: list[tuple[bytes, bytes]] = []   # (command, the response the card must give)
        self._batch: list[bytes] | None = None

    @classmethod
    def after(cls, sam: SecureModule, read: ReadResult, **options: Any) -> WriteSession:
        """A session for the card as `read` saw it."""
        return cls(sam, read.serial, read.transaction_counter, read.counters, **options)

    @property
    def counters(self) -> tuple[int, ...]:
        """The counters as they will be once the session is applied."""
        return tuple(self._counters)

    @property
    def next_transaction_counter(self) -> int:
        return self._counter + 1

    def open(self) -> list[bytes]:
        return [select_application(self._aid), self._open]

    def _add(self, sfi: int, command: bytes, response: bytes, *, decrease_: bool = False) -> bytes:
        if self._batch is not None:
            raise CardSessionPlanInvalid("the session is closed: start another one")
        layout = FILE_LAYOUT.get(sfi)
        if layout is None:
            raise CardSessionPlanInvalid(f"no file {sfi:02X} on the card")
        if self._key_index not in layout[2] and not decrease_:
            raise CardSessionPlanInvalid(f"key {self._key_index} may not modify file {sfi:02X}")
        if len(self._writes) >= MAX_SESSION_MODIFICATIONS:
            raise CardSessionPlanInvalid(f"a session holds at most {MAX_SESSION_MODIFICATIONS} modifications")
        self._writes.append((command, response + SW_OK.to_bytes(2, "big")))
        return command

    @staticmethod
    def _check_data(data: bytes) -> None:
        if not 1 <= len(data) <= RECORD_SIZE:
            raise CardSessionPlanInvalid(f"a record holds 1 to {RECORD_SIZE} bytes")

    def update_record(self, sfi: int, record: int, data: bytes) -> bytes:
        self._check_data(data)
        layout = FILE_LAYOUT.get(sfi)
        if layout is not None and not 1 <= record <= layout[1]:
            raise CardSessionPlanInvalid(f"file {sfi:02X} has records 1 to {layout[1]}")
        if sfi == SFI_COUNTER:
            self._counters = list(_counters(data + bytes(RECORD_SIZE - len(data))))
        return self._add(sfi, update_record(sfi, record, data), b"")

    def append_record(self, sfi: int, data: bytes) -> bytes:
        self._check_data(data)
        if sfi in FILE_LAYOUT and FILE_LAYOUT[sfi][0] != "cyclic":
            raise CardSessionPlanInvalid(f"file {sfi:02X} is not cyclic")
        return self._add(sfi, append_record(sfi, data), b"")

    def _change(self, counter: int, amount: int, sign: int) -> bytes:
        if not 1 <= counter <= COUNTERS:
            raise CardSessionPlanInvalid(f"counters are numbered 1 to {COUNTERS}")
        if not 0 <= amount <= COUNTER_MAX:
            raise CardSessionPlanInvalid("a counter changes by 0 to 16777215")
        value = self._counters[counter - 1] + sign * amount
        if not 0 <= value <= COUNTER_MAX:
            raise CardSessionPlanInvalid(f"counter {counter} would be {value}")
        build = increase if sign > 0 else decrease
        command = self._add(SFI_COUNTER, build(counter, amount), value.to_bytes(3, "big"), decrease_=sign < 0)
        self._counters[counter - 1] = value
        return command

    def increase(self, counter: int, amount: int) -> bytes:
        return self._change(counter, amount, +1)

    def decrease(self, counter: int, amount: int) -> bytes:
        return self._change(counter, amount, -1)

    def set_counter(self, counter: int, value: int) -> bytes | None:
        """Bring a counter to ``value`` (an INCREASE or a DECREASE); None when it already is."""
        current = self._counters[counter - 1] if 1 <= counter <= COUNTERS else 0
        if value == current:
            return None
        return self.increase(counter, value - current) if value > current else self.decrease(counter, current - value)

    def close(self) -> list[bytes]:
        """The whole session as one batch: SELECT, OPEN, the writes, CLOSE with the terminal MAC."""
        if self._batch is None:
            self._terminal_mac = self._session.terminal_mac(self._writes)
            self._batch = [*self.open(), *(c for c, _ in self._writes),
                           close_session(self._terminal_mac, ratify_now=self._ratify_now)]
        return list(self._batch)

    def check(self, responses: Sequence[bytes]) -> None:
        """Raise unless the card applied the whole session (see the module's docstring)."""
        batch = self.close()
        if len(responses) != len(batch):
            raise CardCommandFailed(f"{len(responses)} responses to {len(batch)} commands: the card left the field")
        fci = parse_fci(_response(responses[0], "the application selection").data)
        if fci.serial != self._serial:
            raise CardStateChanged("another card answered")
        if fci.transaction_counter != self._counter:
            raise CardStateChanged(f"the card had another session since it was read "
                                   f"(transaction counter {fci.transaction_counter}, not {self._counter})")
        opened = _response(responses[1], "the session opening").data
        if opened[:CARD_CHALLENGE_LENGTH] != self._card_challenge:
            raise CardStateChanged("the session opening does not follow the selection")
        writes = responses[2:-1]
        for (command, _), raw in zip(self._writes, writes):
            _response(raw, f"a write ({command[:4].hex().upper()})")
        close = _response(responses[-1], "the session closing (nothing was written)")
        self._session.verify_card_mac(zip((c for c, _ in self._writes), writes), self._terminal_mac, close.data)
