"""ISO 7816-4 command and response APDUs (short length encoding only), and the status words we use.

A command is ``CLA INS P1 P2 [Lc data] [Le]`` (cases 1 to 4 of ISO 7816-3, short form: Lc and Le
are one byte, ``Le = 00`` means 256). A response is ``data SW1 SW2``. Nothing here knows about
Calypso beyond the instruction bytes listed below; `nfc_gateway.sim.card` gives them meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

from nfc_gateway.errors import MalformedApdu

__all__ = [
    "Command", "Response",
    "CLA_ISO", "INS_SELECT", "INS_READ_RECORD", "INS_UPDATE_RECORD", "INS_APPEND_RECORD",
    "INS_INCREASE", "INS_DECREASE", "INS_GET_CHALLENGE", "INS_OPEN_SESSION", "INS_CLOSE_SESSION",
    "SW_OK", "SW_MEMORY_FULL", "SW_WRONG_LENGTH", "SW_INCORRECT_FILE_TYPE", "SW_SECURITY_STATUS", "SW_AUTH_FAILED",
    "SW_CONDITIONS_NOT_SATISFIED", "SW_WRONG_DATA", "SW_FILE_NOT_FOUND", "SW_RECORD_NOT_FOUND",
    "SW_INCORRECT_P1P2", "SW_WRONG_P1P2", "SW_INS_NOT_SUPPORTED", "SW_CLA_NOT_SUPPORTED",
    "SW_COUNTER_OVERFLOW", "SW_NAMES", "sw_name",
]

CLA_ISO = 0x00

# Instruction bytes (ISO 7816-4 where ISO defines them, Calypso's otherwise).
INS_SELECT = 0xA4
INS_READ_RECORD = 0xB2
INS_UPDATE_RECORD = 0xDC
INS_APPEND_RECORD = 0xE2
INS_INCREASE = 0x32
INS_DECREASE = 0x30
INS_GET_CHALLENGE = 0x84
INS_OPEN_SESSION = 0x8A
INS_CLOSE_SESSION = 0x8E

# Status words (SW1 SW2 as one int).
SW_OK = 0x9000
SW_MEMORY_FULL = 0x6400                # Calypso: too many modifications in the session
SW_WRONG_LENGTH = 0x6700
SW_INCORRECT_FILE_TYPE = 0x6981        # Calypso: the file is not of the type the command needs
SW_SECURITY_STATUS = 0x6982            # security status not satisfied (write outside a session, wrong key)
SW_AUTH_FAILED = 0x6988                # Calypso: incorrect signature (the terminal's session MAC)
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_WRONG_DATA = 0x6A80                 # incorrect data field
SW_COUNTER_OVERFLOW = 0x6A80           # Calypso reuses 6A80 for a counter out of its range
SW_FILE_NOT_FOUND = 0x6A82
SW_RECORD_NOT_FOUND = 0x6A83
SW_INCORRECT_P1P2 = 0x6A86
SW_WRONG_P1P2 = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00

SW_NAMES = {
    SW_OK: "success",
    SW_MEMORY_FULL: "session buffer full",
    SW_WRONG_LENGTH: "wrong length",
    SW_INCORRECT_FILE_TYPE: "incorrect file type",
    SW_SECURITY_STATUS: "security status not satisfied",
    SW_AUTH_FAILED: "incorrect session MAC",
    SW_CONDITIONS_NOT_SATISFIED: "conditions of use not satisfied",
    SW_WRONG_DATA: "incorrect data or counter out of range",
    SW_FILE_NOT_FOUND: "file not found",
    SW_RECORD_NOT_FOUND: "record not found",
    SW_INCORRECT_P1P2: "incorrect P1 P2",
    SW_WRONG_P1P2: "wrong P1 P2",
    SW_INS_NOT_SUPPORTED: "instruction not supported",
    SW_CLA_NOT_SUPPORTED: "class not supported",
}


def sw_name(sw: int) -> str:
    return f"{sw:04X} {SW_NAMES.get(sw, 'unknown status')}"


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None          # expected response length, 1..256; None: case 1 or 3 (no Le)

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise MalformedApdu(f"{name} must be one byte")
        if len(self.data) > 255:
            raise MalformedApdu("command data longer than 255 bytes (extended APDUs are not supported)")
        if self.le is not None and not 1 <= self.le <= 256:
            raise MalformedApdu("Le must be 1..256")

    def to_bytes(self) -> bytes:
        out = bytes((self.cla, self.ins, self.p1, self.p2))
        if self.data:
            out += bytes((len(self.data),)) + self.data
        if self.le is not None:
            out += bytes((self.le & 0xFF,))
        return out

    @classmethod
    def from_bytes(cls, raw: bytes) -> Command:
        raw = bytes(raw)
        if len(raw) < 4:
            raise MalformedApdu("a command APDU has at least 4 bytes")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:                                   # case 1
            return cls(cla, ins, p1, p2)
        if len(body) == 1:                             # case 2: Le only
            return cls(cla, ins, p1, p2, b"", body[0] or 256)
        lc = body[0]
        if lc == 0:
            raise MalformedApdu("Lc = 0 (extended length) is not supported")
        if len(body) == 1 + lc:                        # case 3
            return cls(cla, ins, p1, p2, body[1:])
        if len(body) == 2 + lc:                        # case 4
            return cls(cla, ins, p1, p2, body[1:-1], body[-1] or 256)
        raise MalformedApdu(f"Lc = {lc} does not match the {len(body) - 1} bytes that follow")


@dataclass(frozen=True)
class Response:
    data: bytes = b""
    sw: int = SW_OK

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def to_bytes(self) -> bytes:
        return bytes(self.data) + self.sw.to_bytes(2, "big")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Response:
        raw = bytes(raw)
        if len(raw) < 2:
            raise MalformedApdu("a response APDU has at least the 2 status bytes")
        return cls(raw[:-2], int.from_bytes(raw[-2:], "big"))
