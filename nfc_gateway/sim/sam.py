"""The software secure module (SAM) and the simulator's key scheme, OURA-SIM-1.

The secure module holds one secret, the region's master key. Everything else is derived from it
when needed and stays inside this module: a card's keys leave it only once, into the card at
personalisation (`SecureModule.personalise`, what an issuing machine does). The phone or reader that
relays APDUs between the server and the card never sees a key, only challenges and MACs.

Scheme OURA-SIM-1 (AES-CMAC, RFC 4493, from `cryptography`; ``||`` is concatenation, strings are
ASCII, the card serial is the 8-byte application serial number of the card's FCI):

- card key ``i`` (1 issuer, 2 load, 3 debit):
  ``K_i = CMAC(master, "OURA-SIM-1|div|" || serial || i)`` (``i`` one byte): AES-128 keys.
- session key, at OPEN SECURE SESSION with key ``i``:
  ``Ks = CMAC(K_i, "OURA-SIM-1|session|" || serial || terminal_challenge(8) || card_challenge(3))``.
  The card challenge is the card's transaction counter, which every opening advances (also when
  the session is then dropped), so a recorded session never verifies again.
- session digest, chained over the session: ``D_0 = CMAC(Ks, "OURA-SIM-1|open|" || open_command)``,
  then for each command ``c`` and response ``r`` (data and status word) between the opening and the
  closing, ``D_j = CMAC(Ks, D_{j-1} || len(c)(2) || c || len(r)(2) || r)``.
- terminal MAC (sent in CLOSE SECURE SESSION; the card checks it before applying anything):
  ``CMAC(Ks, "OURA-SIM-1|terminal|" || D_n)[:8]``. A session that wrote nothing may close without it.
- card MAC (the answer to the close; the SAM checks it): ``CMAC(Ks, "OURA-SIM-1|card|" || D_n ||
  terminal_mac)[:8]`` -- it proves that this card executed exactly these commands with exactly these
  responses, after the terminal's challenge.

Because the card challenge is the transaction counter the server read a moment before, the terminal
can compute its MAC before the session runs (predicting the responses of the writes, which are
deterministic), and a whole load travels in one batch: open, writes, close. A card whose state
changed in between answers differently, its digest differs, and it refuses the close.

The same functions run on the card (`nfc_gateway.sim.card` imports `session_key` and
`SessionDigest`): a real card implements them in its chip, a real SAM in its own.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

from nfc_gateway.errors import CardMacInvalid

__all__ = [
    "SCHEME", "KEY_ISSUER", "KEY_LOAD", "KEY_DEBIT", "KEY_INDEXES", "SERIAL_LENGTH", "CHALLENGE_LENGTH",
    "MAC_LENGTH", "CardKeys", "SecureModule", "SamSession", "SessionDigest", "session_key",
]

SCHEME = "OURA-SIM-1"
KEY_ISSUER = 1      # personalisation: every file
KEY_LOAD = 2        # loading and top-ups: contracts, contract list, counters up and down, events
KEY_DEBIT = 3       # validation: counters down, events; also authenticated reads
KEY_INDEXES = (KEY_ISSUER, KEY_LOAD, KEY_DEBIT)
SERIAL_LENGTH = 8
CHALLENGE_LENGTH = 8         # terminal challenge
CARD_CHALLENGE_LENGTH = 3    # the card's transaction counter
MAC_LENGTH = 8


def _cmac(key: bytes, data: bytes) -> bytes:
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def session_key(card_key: bytes, serial: bytes, terminal_challenge: bytes, card_challenge: bytes) -> bytes:
    return _cmac(card_key, f"{SCHEME}|session|".encode() + serial + terminal_challenge + card_challenge)


class SessionDigest:
    """The chained digest of one secure session (OURA-SIM-1), kept by both ends."""

    def __init__(self, key: bytes, open_command: bytes) -> None:
        self._key = key
        self._value = _cmac(key, f"{SCHEME}|open|".encode() + open_command)

    def absorb(self, command: bytes, response: bytes) -> None:
        self._value = _cmac(self._key, self._value + len(command).to_bytes(2, "big") + command
                            + len(response).to_bytes(2, "big") + response)

    def terminal_mac(self) -> bytes:
        return _cmac(self._key, f"{SCHEME}|terminal|".encode() + self._value)[:MAC_LENGTH]

    def card_mac(self, terminal_mac: bytes) -> bytes:
        return _cmac(self._key, f"{SCHEME}|card|".encode() + self._value + terminal_mac)[:MAC_LENGTH]


@dataclass(frozen=True)
class CardKeys:
    """A card's own diversified keys, by key index: what personalisation puts into one card."""

    keys: dict[int, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if sorted(self.keys) != list(KEY_INDEXES) or any(len(k) != 16 for k in self.keys.values()):
            raise ValueError("a card has three 16-byte keys, indexes 1 to 3")


class SamSession:
    """The secure module's side of one card session: its session key never leaves this object.

    Built by `SecureModule.session`; `terminal_mac` signs a session (the commands and the responses
    the card must give), `verify_card_mac` checks the card's proof over the responses it did give.
    """

    def __init__(self, key: bytes, open_command: bytes) -> None:
        self._key = key
        self._open_command = open_command

    def _digest(self, exchanges: Iterable[tuple[bytes, bytes]]) -> SessionDigest:
        digest = SessionDigest(self._key, self._open_command)
        for command, response in exchanges:
            digest.absorb(command, response)
        return digest

    def terminal_mac(self, exchanges: Iterable[tuple[bytes, bytes]]) -> bytes:
        return self._digest(exchanges).terminal_mac()

    def verify_card_mac(self, exchanges: Iterable[tuple[bytes, bytes]], terminal_mac: bytes, card_mac: bytes) -> None:
        expected = self._digest(exchanges).card_mac(terminal_mac)
        if not hmac.compare_digest(expected, bytes(card_mac)):
            raise CardMacInvalid()


class SecureModule:
    """A software SAM: the master key, card key diversification, session MACs."""

    def __init__(self, master_key: bytes, *, random: Callable[[int], bytes] = secrets.token_bytes) -> None:
        if len(master_key) not in (16, 24, 32):
            raise ValueError("the master key is an AES key: 16, 24 or 32 bytes")
        self._master = bytes(master_key)
        self._random = random

    def __repr__(self) -> str:
        return "SecureModule(<master key>)"

    def _card_key(self, serial: bytes, key_index: int) -> bytes:
        if len(serial) != SERIAL_LENGTH:
            raise ValueError("a card serial is 8 bytes")
        if key_index not in KEY_INDEXES:
            raise ValueError("key index is 1, 2 or 3")
        return _cmac(self._master, f"{SCHEME}|div|".encode() + serial + bytes((key_index,)))[:16]

    def personalise(self, serial: bytes) -> CardKeys:
        """The keys of a new card with this serial (for `SoftwareCard.blank`)."""
        return CardKeys({i: self._card_key(serial, i) for i in KEY_INDEXES})

    def challenge(self) -> bytes:
        """A fresh terminal challenge for OPEN SECURE SESSION."""
        return self._random(CHALLENGE_LENGTH)

    def session(self, serial: bytes, key_index: int, terminal_challenge: bytes, card_challenge: bytes,
                open_command: bytes) -> SamSession:
        key = session_key(self._card_key(serial, key_index), serial, terminal_challenge, card_challenge)
        return SamSession(key, open_command)
