"""`SoftwareCard`: a Calypso-like contactless card, reachable only through APDU bytes.

One application (``AID``), DF Ticketing, files named by SFI (records of 29 bytes):

    SFI  file            structure                      modified with key
    07   Environment     linear, 1 record               issuer
    08   Event log       cyclic, 3 records (1 = newest) issuer, load, debit (APPEND RECORD)
    09   Contracts       linear, 4 records              issuer, load
    19   Counter         counters: 9 x 3 bytes + 2 pad  INCREASE: issuer, load; DECREASE: any key
    1E   Contract list   linear, 1 record               issuer, load

Reads are free. Every modification needs a secure session (outside one: 6982), opened with a key
index allowed for that file, and is applied only when the session closes with a correct terminal
MAC (scheme OURA-SIM-1, `nfc_gateway.sim.sam`). A session that is not closed -- the card left the
field (`remove`), another SELECT or OPEN arrived, a command of the session failed, or the MAC was
wrong -- leaves every file as it was: the session writes into a working copy that the close
commits in one step. That atomicity is what the gateway's exactly-once loads rely on.

Commands (CLA 00; P2 of record commands is ``SFI << 3 | mode``):

    SELECT APPLICATION   A4 04 00  data AID (or a prefix)      -> FCI
    READ RECORD(S)       B2 rec sfi<<3|4 (one) or |5 (rec..last: [rec, len, data]...)
    UPDATE RECORD        DC rec sfi<<3|4  data <= 29 bytes (the record is replaced, zero-padded)
    APPEND RECORD        E2 00  sfi<<3    data <= 29 bytes (cyclic file: becomes record 1)
    INCREASE / DECREASE  32 / 30  counter(1-9)  sfi<<3  data 3 bytes  -> new value (3 bytes)
    GET CHALLENGE        84 00 00  Le 08                       -> 8 random bytes
    OPEN SECURE SESSION  8A rec<<3|key sfi<<3  data terminal challenge (8)
                         -> card challenge (3: transaction counter) || ratified (00 yes, 01 no)
                            || key index || record length || record (rec = 0: none)
    CLOSE SECURE SESSION 8E 80|00 00  data terminal MAC (8; empty when nothing was written)
                         -> card MAC (8). P1 80: ratified now; 00: ratified by the next command
                            the card receives (a card torn before reports "not ratified" at the
                            next opening: the terminal may not have seen the close's answer).

The FCI is ``6F { 84 AID, A5 { BF0C { C7 serial(8), 53 startup info(7), C8 transaction counter(3) } } }``;
C8 is this simulator's own tag, so that a terminal can sign a whole session before it runs.
"""

from __future__ import annotations

import copy
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from nfc_gateway.errors import MalformedApdu
from nfc_gateway.sim.apdu import (
    CLA_ISO, INS_APPEND_RECORD, INS_CLOSE_SESSION, INS_DECREASE, INS_GET_CHALLENGE, INS_INCREASE,
    INS_OPEN_SESSION, INS_READ_RECORD, INS_SELECT, INS_UPDATE_RECORD, SW_AUTH_FAILED,
    SW_CLA_NOT_SUPPORTED, SW_CONDITIONS_NOT_SATISFIED, SW_COUNTER_OVERFLOW, SW_FILE_NOT_FOUND,
    SW_INCORRECT_FILE_TYPE, SW_INCORRECT_P1P2, SW_INS_NOT_SUPPORTED, SW_MEMORY_FULL,
    SW_RECORD_NOT_FOUND, SW_SECURITY_STATUS, SW_WRONG_LENGTH, SW_WRONG_P1P2, Command, Response,
)
from nfc_gateway.sim.sam import (
    CARD_CHALLENGE_LENGTH, CHALLENGE_LENGTH, KEY_INDEXES, KEY_ISSUER, KEY_LOAD, MAC_LENGTH,
    SCHEME, SERIAL_LENGTH, CardKeys, SessionDigest, session_key,
)

__all__ = [
    "SoftwareCard", "ElementaryFile", "AID", "STARTUP_INFO", "RECORD_SIZE", "COUNTERS",
    "SFI_ENVIRONMENT", "SFI_EVENT_LOG", "SFI_CONTRACTS", "SFI_COUNTER", "SFI_CONTRACT_LIST",
    "MAX_SESSION_MODIFICATIONS", "MAX_TRANSACTION_COUNTER", "FILE_LAYOUT",
]

AID = b"1TIC.ICA"                 # 315449432E494341: the Calypso Intercode application name
STARTUP_INFO = bytes.fromhex("0A3C2305141001")   # buffer, platform, app type/subtype, issuer, version, revision
RECORD_SIZE = 29
COUNTERS = RECORD_SIZE // 3       # 9 counters of 3 bytes, 2 bytes of padding
COUNTER_MAX = 0xFFFFFF
MAX_SESSION_MODIFICATIONS = 8     # like a real card's session buffer: more is 6400 and the session is lost
MAX_TRANSACTION_COUNTER = 0xFFFFFF

SFI_ENVIRONMENT = 0x07
SFI_EVENT_LOG = 0x08
SFI_CONTRACTS = 0x09
SFI_COUNTER = 0x19
SFI_CONTRACT_LIST = 0x1E

LINEAR, CYCLIC, COUNTER = "linear", "cyclic", "counters"

# SFI -> (structure, number of records, key indexes that may modify it)
FILE_LAYOUT: dict[int, tuple[str, int, frozenset[int]]] = {
    SFI_ENVIRONMENT: (LINEAR, 1, frozenset({KEY_ISSUER})),
    SFI_EVENT_LOG: (CYCLIC, 3, frozenset(KEY_INDEXES)),
    SFI_CONTRACTS: (LINEAR, 4, frozenset({KEY_ISSUER, KEY_LOAD})),
    SFI_COUNTER: (COUNTER, 1, frozenset({KEY_ISSUER, KEY_LOAD})),
    SFI_CONTRACT_LIST: (LINEAR, 1, frozenset({KEY_ISSUER, KEY_LOAD})),
}
DECREASE_KEYS = frozenset(KEY_INDEXES)   # a validator (debit key) may decrement counters


@dataclass
class ElementaryFile:
    structure: str
    records: list[bytes]
    write_keys: frozenset[int]


@dataclass
class _Session:
    key_index: int
    digest: SessionDigest
    files: dict[int, ElementaryFile]          # the working copy the close commits
    modifications: int = 0


class _Refused(Exception):
    def __init__(self, sw: int) -> None:
        self.sw = sw


@dataclass
class SoftwareCard:
    """A personalised card. `transmit` is the only way in, as through a PC/SC reader."""

    serial: bytes
    keys: CardKeys = field(repr=False)
    files: dict[int, ElementaryFile]
    aid: bytes = AID
    startup_info: bytes = STARTUP_INFO
    transaction_counter: int = 0
    ratified: bool = True
    # volatile state: lost when the card leaves the field
    _selected: bool = field(default=False, repr=False)
    _session: _Session | None = field(default=None, repr=False)
    _awaiting_ratification: bool = field(default=False, repr=False)

    @classmethod
    def blank(cls, serial: bytes, keys: CardKeys, *, aid: bytes = AID) -> SoftwareCard:
        """A personalised card with empty (all-zero) records, as an issuing machine leaves it."""
        if len(serial) != SERIAL_LENGTH:
            raise ValueError("a card serial is 8 bytes")
        files = {sfi: ElementaryFile(structure, [bytes(RECORD_SIZE)] * n, keys_)
                 for sfi, (structure, n, keys_) in FILE_LAYOUT.items()}
        return cls(bytes(serial), keys, files, aid=bytes(aid))

    # --- the field ---------------------------------------------------------------------------

    def remove(self) -> None:
        """The card leaves the field (or the connection drops): an open session is lost, unapplied."""
        self._selected = False
        self._session = None
        self._awaiting_ratification = False

    def transmit(self, apdu: bytes) -> bytes:
        if self._awaiting_ratification:          # any command after a close ratifies it
            self.ratified = True
            self._awaiting_ratification = False
        try:
            command = Command.from_bytes(apdu)
        except MalformedApdu:
            self._session = None
            return Response(sw=SW_WRONG_LENGTH).to_bytes()
        try:
            return self._execute(command).to_bytes()
        except _Refused as refused:
            # A refused command inside a session loses the session (nothing of it is applied).
            if command.ins != INS_OPEN_SESSION:
                self._session = None
            return Response(sw=refused.sw).to_bytes()

    # --- commands ----------------------------------------------------------------------------

    def _execute(self, command: Command) -> Response:
        if command.cla != CLA_ISO:
            raise _Refused(SW_CLA_NOT_SUPPORTED)
        handler = {
            INS_SELECT: self._select,
            INS_READ_RECORD: self._read_record,
            INS_UPDATE_RECORD: self._update_record,
            INS_APPEND_RECORD: self._append_record,
            INS_INCREASE: self._increase,
            INS_DECREASE: self._decrease,
            INS_GET_CHALLENGE: self._get_challenge,
            INS_OPEN_SESSION: self._open_session,
            INS_CLOSE_SESSION: self._close_session,
        }.get(command.ins)
        if handler is None:
            raise _Refused(SW_INS_NOT_SUPPORTED)
        if command.ins != INS_SELECT and not self._selected:
            raise _Refused(SW_CONDITIONS_NOT_SATISFIED)
        response = handler(command)
        if self._session is not None and command.ins not in (INS_OPEN_SESSION, INS_CLOSE_SESSION):
            self._session.digest.absorb(command.to_bytes(), response.to_bytes())
        return response

    def _select(self, command: Command) -> Response:
        self._session = None                     # a new selection abandons any session
        if command.p1 != 0x04 or command.p2 != 0x00:
            raise _Refused(SW_INCORRECT_P1P2)
        if not command.data or not self.aid.startswith(command.data):
            self._selected = False
            raise _Refused(SW_FILE_NOT_FOUND)
        self._selected = True
        return Response(self.fci())

    def fci(self) -> bytes:
        proprietary = (_tlv(b"\xc7", self.serial) + _tlv(b"\x53", self.startup_info)
                       + _tlv(b"\xc8", self.transaction_counter.to_bytes(3, "big")))
        return _tlv(b"\x6f", _tlv(b"\x84", self.aid) + _tlv(b"\xa5", _tlv(b"\xbf\x0c", proprietary)))

    def _files(self) -> dict[int, ElementaryFile]:
        return self._session.files if self._session is not None else self.files

    def _file(self, sfi: int) -> ElementaryFile:
        found = self._files().get(sfi)
        if found is None:
            raise _Refused(SW_FILE_NOT_FOUND)
        return found

    def _read_record(self, command: Command) -> Response:
        sfi, mode = command.p2 >> 3, command.p2 & 0x07
        if mode not in (4, 5) or sfi == 0:
            raise _Refused(SW_WRONG_P1P2)
        ef = self._file(sfi)
        if not 1 <= command.p1 <= len(ef.records):
            raise _Refused(SW_RECORD_NOT_FOUND)
        if mode == 4:
            return Response(ef.records[command.p1 - 1])
        out = b"".join(bytes((n, len(r))) + r for n, r in enumerate(ef.records, 1) if n >= command.p1)
        return Response(out)

    def _writable(self, sfi: int, keys: frozenset[int] | None = None) -> ElementaryFile:
        ef = self._file(sfi)
        if self._session is None or self._session.key_index not in (keys if keys is not None else ef.write_keys):
            raise _Refused(SW_SECURITY_STATUS)
        if self._session.modifications >= MAX_SESSION_MODIFICATIONS:
            raise _Refused(SW_MEMORY_FULL)
        self._session.modifications += 1
        return ef

    @staticmethod
    def _record_data(command: Command) -> bytes:
        if not 1 <= len(command.data) <= RECORD_SIZE:
            raise _Refused(SW_WRONG_LENGTH)
        return command.data + bytes(RECORD_SIZE - len(command.data))

    def _update_record(self, command: Command) -> Response:
        sfi, mode = command.p2 >> 3, command.p2 & 0x07
        if mode != 4 or sfi == 0:
            raise _Refused(SW_WRONG_P1P2)
        data = self._record_data(command)
        ef = self._writable(sfi)
        if not 1 <= command.p1 <= len(ef.records):
            raise _Refused(SW_RECORD_NOT_FOUND)
        ef.records[command.p1 - 1] = data
        return Response()

    def _append_record(self, command: Command) -> Response:
        sfi = command.p2 >> 3
        if command.p1 != 0 or command.p2 & 0x07 or sfi == 0:
            raise _Refused(SW_WRONG_P1P2)
        data = self._record_data(command)
        ef = self._writable(sfi)
        if ef.structure != CYCLIC:
            raise _Refused(SW_INCORRECT_FILE_TYPE)
        ef.records[:] = [data] + ef.records[:-1]
        return Response()

    def _increase(self, command: Command) -> Response:
        return self._change_counter(command, +1, None)

    def _decrease(self, command: Command) -> Response:
        return self._change_counter(command, -1, DECREASE_KEYS)

    def _change_counter(self, command: Command, sign: int, keys: frozenset[int] | None) -> Response:
        sfi = command.p2 >> 3
        if command.p2 & 0x07 or sfi == 0:
            raise _Refused(SW_WRONG_P1P2)
        if len(command.data) != 3:
            raise _Refused(SW_WRONG_LENGTH)
        ef = self._writable(sfi, keys)
        if ef.structure != COUNTER:
            raise _Refused(SW_INCORRECT_FILE_TYPE)
        if not 1 <= command.p1 <= COUNTERS:
            raise _Refused(SW_RECORD_NOT_FOUND)
        record = bytearray(ef.records[0])
        at = 3 * (command.p1 - 1)
        value = int.from_bytes(record[at:at + 3], "big") + sign * int.from_bytes(command.data, "big")
        if not 0 <= value <= COUNTER_MAX:
            raise _Refused(SW_COUNTER_OVERFLOW)
        record[at:at + 3] = value.to_bytes(3, "big")
        ef.records[0] = bytes(record)
        return Response(value.to_bytes(3, "big"))

    def _get_challenge(self, command: Command) -> Response:
        if command.p1 or command.p2:
            raise _Refused(SW_INCORRECT_P1P2)
        if command.le != 8:
            raise _Refused(SW_WRONG_LENGTH)
        return Response(secrets.token_bytes(8))

    def _open_session(self, command: Command) -> Response:
        self._session = None                     # an opening abandons the session before it
        key_index, record = command.p1 & 0x07, command.p1 >> 3
        sfi = command.p2 >> 3
        if key_index not in KEY_INDEXES or command.p2 & 0x07:
            raise _Refused(SW_INCORRECT_P1P2)
        if len(command.data) != CHALLENGE_LENGTH:
            raise _Refused(SW_WRONG_LENGTH)
        data = b""
        if record:
            ef = self._file(sfi)
            if record > len(ef.records):
                raise _Refused(SW_RECORD_NOT_FOUND)
            data = ef.records[record - 1]
        if self.transaction_counter >= MAX_TRANSACTION_COUNTER:
            raise _Refused(SW_CONDITIONS_NOT_SATISFIED)   # the card is worn out: no more sessions
        card_challenge = self.transaction_counter.to_bytes(CARD_CHALLENGE_LENGTH, "big")
        self.transaction_counter += 1            # spent even if the session is never closed
        key = session_key(self.keys.keys[key_index], self.serial, command.data, card_challenge)
        self._session = _Session(key_index, SessionDigest(key, command.to_bytes()), copy.deepcopy(self.files))
        status = b"\x00" if self.ratified else b"\x01"
        return Response(card_challenge + status + bytes((key_index, len(data))) + data)

    def _close_session(self, command: Command) -> Response:
        session = self._session
        if session is None:
            raise _Refused(SW_CONDITIONS_NOT_SATISFIED)
        if command.p1 not in (0x00, 0x80) or command.p2 != 0:
            raise _Refused(SW_INCORRECT_P1P2)
        terminal_mac = command.data
        if len(terminal_mac) not in (0, MAC_LENGTH):
            raise _Refused(SW_WRONG_LENGTH)
        if not terminal_mac and session.modifications:
            raise _Refused(SW_SECURITY_STATUS)   # writes need the terminal's signature
        if terminal_mac and not hmac.compare_digest(terminal_mac, session.digest.terminal_mac()):
            raise _Refused(SW_AUTH_FAILED)
        if session.modifications:
            self.files = session.files           # the atomic commit
            self.ratified = command.p1 == 0x80
            self._awaiting_ratification = not self.ratified
        self._session = None
        return Response(session.digest.card_mac(terminal_mac))

    # --- persistence (a test keeps a card across a simulated crash) ---------------------------

    def to_json(self) -> dict[str, Any]:
        """The card's memory: its own diversified keys, never the master key; no open session."""
        return {
            "scheme": SCHEME,
            "serial": self.serial.hex(),
            "aid": self.aid.hex(),
            "startup_info": self.startup_info.hex(),
            "keys": {str(i): k.hex() for i, k in sorted(self.keys.keys.items())},
            "transaction_counter": self.transaction_counter,
            "ratified": self.ratified,
            "files": {f"{sfi:02X}": {"structure": ef.structure, "write_keys": sorted(ef.write_keys),
                                     "records": [r.hex() for r in ef.records]}
                      for sfi, ef in sorted(self.files.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SoftwareCard:
        if data.get("scheme") != SCHEME:
            raise ValueError(f"not an {SCHEME} card")
        files = {int(sfi, 16): ElementaryFile(f["structure"], [bytes.fromhex(r) for r in f["records"]],
                                              frozenset(int(k) for k in f["write_keys"]))
                 for sfi, f in data["files"].items()}
        return cls(bytes.fromhex(data["serial"]), CardKeys({int(i): bytes.fromhex(k) for i, k in data["keys"].items()}),
                   files, aid=bytes.fromhex(data["aid"]), startup_info=bytes.fromhex(data["startup_info"]),
                   transaction_counter=int(data["transaction_counter"]), ratified=bool(data["ratified"]))


def _tlv(tag: bytes, value: bytes) -> bytes:
    if len(value) > 0x7F:
        raise ValueError("TLV values longer than 127 bytes are not needed here")
    return tag + bytes((len(value),)) + value

