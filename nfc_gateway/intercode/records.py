"""Decode and encode Calypso Intercode records (EN 1545, MSB-first, 29 bytes). Pure: no I/O.

`decode_record(kind, data)` gives a JSON-able dict keyed by the Intercode field names of the
record's layout (`nfc_gateway.intercode.layouts`), every field present (None when absent), dates
as ISO dates, times as "HH:MM", network ids and authenticators as hex strings. Two keys are not
card fields but keep the bytes exact: ``UnknownTrailingBits`` (the bits after the last field of
the layout, trailing zero padding left out; None when only padding follows) and, for contracts,
``ContractLayout`` ("FF" or "short", see `contract_layout`). Some keys are derived for readers and
ignored by the encoder: ``EnvIntercodeVersion`` and ``EnvApplicationVersion`` (the two halves of
EnvApplicationVersionNumber), ``EventDateTime`` (EventDateStamp + EventTimeStamp as the local
"YYYY-MM-DDTHH:MM:00"), ``EventTransportMode``, ``EventType`` and ``EventLabel`` (EventCode).

`encode_record(kind, fields)` is the inverse: ``encode_record(k, decode_record(k, b)) == b`` for
every record this module decodes. Errors are `nfc_gateway.errors.InvalidCardRecord`, naming the
field or the bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from nfc_gateway.errors import InvalidCardRecord
from nfc_gateway.intercode.bits import BitOverflow, BitReader, BitWriter
from nfc_gateway.intercode.fields import Element, FieldError, decode_elements, encode_elements, field_names
from nfc_gateway.intercode.layouts import (
    CONTRACT_FF,
    CONTRACT_LIST,
    CONTRACT_SHORT,
    COUNTER_BYTES,
    ENVIRONMENT,
    EVENT,
    RECORD_BYTES,
)

__all__ = [
    "KINDS",
    "CONTRACT_LAYOUTS",
    "OURA_NETWORK_ID",
    "OURA_ENV_VERSION",
    "decode_record",
    "encode_record",
    "parse_hex",
    "contract_layout",
    "contract_structure",
    "oura_environment",
    "oura_contract",
    "counter_record",
    "counter_values",
    "event_label",
]

KINDS = ("environment", "contract", "counter", "event", "contract_list")

OURA_NETWORK_ID = 0x250502
"""OùRA's Intercode network id: country 250 (France), network 502."""

OURA_ENV_VERSION = 0b001_001
"""EnvApplicationVersionNumber written on OùRA cards: Intercode version 1, application version 1 (as Navigo's)."""

CONTRACT_LAYOUTS: dict[str, tuple[Element, ...]] = {"FF": CONTRACT_FF, "short": CONTRACT_SHORT}

_LAYOUTS: dict[str, tuple[Element, ...]] = {
    "environment": ENVIRONMENT,
    "event": EVENT,
    "contract_list": CONTRACT_LIST,
}

_COUNTERS_PER_RECORD = RECORD_BYTES // COUNTER_BYTES  # 9 counters, then 2 bytes

# EventCode: the transport mode is its 4 high bits, the event type its 4 low bits (Intercode).
_TRANSPORT_MODES = {
    0: "Non précisé", 1: "Bus urbain", 2: "Bus interurbain", 3: "Métro", 4: "Tramway", 5: "Train",
    6: "Bateau", 7: "Péage", 8: "Parking", 9: "Taxi",
}
_EVENT_TYPES = {
    1: "validation en entrée", 2: "validation en sortie", 4: "contrôle volant", 5: "validation de test",
    6: "validation en correspondance en entrée", 7: "validation en correspondance en sortie",
    9: "annulation de validation", 13: "distribution", 15: "invalidation",
}


def parse_hex(text: str) -> bytes:
    """The bytes of a hex string (spaces allowed); `InvalidCardRecord` naming the first bad character."""
    compact = "".join(text.split())
    for i, char in enumerate(compact):
        if char not in "0123456789abcdefABCDEF":
            raise InvalidCardRecord(f"not a hex string: {char!r} at character {i + 1}")
    if len(compact) % 2:
        raise InvalidCardRecord(f"a hex string has an even number of digits, this one has {len(compact)}")
    return bytes.fromhex(compact)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InvalidCardRecord(f"unknown record kind {kind!r} (known: {', '.join(KINDS)})")


def _check_length(kind: str, data: bytes) -> None:
    allowed = (COUNTER_BYTES, RECORD_BYTES) if kind == "counter" else (RECORD_BYTES,)
    if len(data) not in allowed:
        sizes = " or ".join(str(size) for size in allowed)
        raise InvalidCardRecord(f"{kind} record: {sizes} bytes expected, got {len(data)}")


def decode_record(kind: str, data: bytes | str, *, layout: str | None = None) -> dict[str, Any]:
    """The fields of one record of ``kind`` (`KINDS`); ``data`` is bytes or a hex string.
    ``layout`` ("FF" or "short") forces a contract layout instead of `contract_layout`'s choice."""
    _check_kind(kind)
    raw = parse_hex(data) if isinstance(data, str) else bytes(data)
    _check_length(kind, raw)
    if kind == "counter":
        values = counter_values(raw)
        out: dict[str, Any] = {"CounterValue": values[0], "CounterValues": values}
        if len(raw) == RECORD_BYTES:
            out["UnknownTrailingBits"] = _trailing(BitReader(raw[_COUNTERS_PER_RECORD * COUNTER_BYTES:]))
        return out
    if kind == "contract":
        chosen = layout if layout is not None else contract_layout(raw)
        if chosen not in CONTRACT_LAYOUTS:
            raise InvalidCardRecord(f"unknown contract layout {chosen!r} (known: {', '.join(CONTRACT_LAYOUTS)})")
        out = {"ContractLayout": chosen, **_decode(kind, CONTRACT_LAYOUTS[chosen], raw)}
        return out
    out = _decode(kind, _LAYOUTS[kind], raw)
    if kind == "environment":
        version = out["EnvApplicationVersionNumber"]
        out["EnvIntercodeVersion"] = version >> 3
        out["EnvApplicationVersion"] = version & 0b111
    elif kind == "event":
        _add_event_readings(out)
    return out


def _decode(kind: str, elements: tuple[Element, ...], raw: bytes) -> dict[str, Any]:
    reader = BitReader(raw)
    out: dict[str, Any] = dict.fromkeys(field_names(elements))
    try:
        decode_elements(elements, reader, out)
    except FieldError as error:
        raise InvalidCardRecord(f"{kind} record: {error}") from None
    out["UnknownTrailingBits"] = _trailing(reader)
    return out


def _trailing(reader: BitReader) -> str | None:
    return reader.rest().rstrip("0") or None


def _add_event_readings(out: dict[str, Any]) -> None:
    moment = datetime.fromisoformat(out["EventDateStamp"])
    hours, minutes = (int(part) for part in out["EventTimeStamp"].split(":"))
    out["EventDateTime"] = (moment + timedelta(hours=hours, minutes=minutes)).isoformat(timespec="seconds")
    code = out["EventCode"]
    out["EventTransportMode"] = None if code is None else code >> 4
    out["EventType"] = None if code is None else code & 0x0F
    out["EventLabel"] = None if code is None else event_label(code)


def event_label(code: int) -> str | None:
    """"Métro - validation en entrée" for EventCode 0x31; None when the mode or type is not known."""
    mode, kind = _TRANSPORT_MODES.get(code >> 4), _EVENT_TYPES.get(code & 0x0F)
    return f"{mode} - {kind}" if mode and kind else None


def contract_structure(tariff: int) -> int:
    """The contract structure named by a best-contract tariff (its bits 4..11): 0xFF for the FF layout."""
    return (tariff >> 4) & 0xFF


def contract_layout(data: bytes) -> str:
    """Which contract layout a record read alone follows: "FF" (20-bit bitmap) or "short" (7-bit).

    On a card the best-contract list says it (`contract_structure` of the tariff). Alone, a
    record is taken as FF when it reads as FF with a ContractTariff, else as short when it reads
    as short with one (a contract always names its tariff), else FF (an empty record is FF).
    """
    for name in ("FF", "short"):
        try:
            fields = _decode("contract", CONTRACT_LAYOUTS[name], data)
        except InvalidCardRecord:
            continue
        if fields["ContractTariff"] is not None:
            return name
    return "FF"


def encode_record(kind: str, fields: Mapping[str, Any]) -> bytes:
    """The bytes of one record of ``kind`` from its fields (as `decode_record` gives them)."""
    _check_kind(kind)
    if not isinstance(fields, Mapping):
        raise InvalidCardRecord(f"a {kind} record is encoded from an object of fields, not {type(fields).__name__}")
    if kind == "counter":
        return _encode_counter(fields)
    if kind == "contract":
        chosen = fields.get("ContractLayout") or "FF"
        if chosen not in CONTRACT_LAYOUTS:
            raise InvalidCardRecord(f"ContractLayout: unknown layout {chosen!r} (known: {', '.join(CONTRACT_LAYOUTS)})")
        elements = CONTRACT_LAYOUTS[chosen]
    else:
        elements = _LAYOUTS[kind]
    writer = BitWriter()
    try:
        encode_elements(elements, fields, writer)
        trailing = fields.get("UnknownTrailingBits")
        if trailing is not None:
            if not isinstance(trailing, str) or trailing.strip("01"):
                raise FieldError(f"UnknownTrailingBits: a string of 0 and 1 is required, not {trailing!r}")
            writer.write_bits(trailing)
        return writer.to_bytes(RECORD_BYTES)
    except FieldError as error:
        raise InvalidCardRecord(f"{kind} record: {error}") from None
    except BitOverflow as error:
        raise InvalidCardRecord(f"{kind} record: {error}") from None


def counter_values(data: bytes) -> list[int]:
    """The 3-byte big-endian counters of a counter record (1 for 3 bytes, 9 for 29)."""
    count = len(data) // COUNTER_BYTES
    return [int.from_bytes(data[i * COUNTER_BYTES:(i + 1) * COUNTER_BYTES], "big") for i in range(count)]


def _encode_counter(fields: Mapping[str, Any]) -> bytes:
    values = fields.get("CounterValues")
    if values is None:
        if fields.get("CounterValue") is None:
            raise InvalidCardRecord("counter record: CounterValue or CounterValues is required")
        values = [fields["CounterValue"]]
    if not isinstance(values, list) or not values:
        raise InvalidCardRecord("counter record: CounterValues is a non-empty list of numbers")
    if len(values) == 1 and fields.get("UnknownTrailingBits") is None:
        return _counter_bytes(values, 1)
    record = counter_record(values)
    trailing = fields.get("UnknownTrailingBits")
    if trailing is not None:
        if not isinstance(trailing, str) or trailing.strip("01") or len(trailing) > 16:
            raise InvalidCardRecord("counter record: UnknownTrailingBits is at most 16 bits of 0 and 1")
        record = record[:-2] + (int(trailing, 2) << (16 - len(trailing))).to_bytes(2, "big")
    return record


def _counter_bytes(values: Sequence[int], slots: int) -> bytes:
    out = bytearray()
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidCardRecord(f"counter {i + 1}: {value!r} is not a whole number")
        if not 0 <= value < 1 << (8 * COUNTER_BYTES):
            raise InvalidCardRecord(f"counter {i + 1}: {value} does not fit in {8 * COUNTER_BYTES} bits (0..16777215)")
        out += value.to_bytes(COUNTER_BYTES, "big")
    return bytes(out) + bytes(COUNTER_BYTES * (slots - len(values)))


def counter_record(values: Sequence[int]) -> bytes:
    """A 29-byte counter record: up to 9 counters of 3 bytes (the missing ones 0), then 2 zero bytes."""
    values = list(values)
    if len(values) > _COUNTERS_PER_RECORD:
        raise InvalidCardRecord(f"a counter record holds {_COUNTERS_PER_RECORD} counters, not {len(values)}")
    return _counter_bytes(values, _COUNTERS_PER_RECORD) + bytes(RECORD_BYTES - _COUNTERS_PER_RECORD * COUNTER_BYTES)


def oura_environment(*, issuer: int, validity_end: date, holder_birth_date: date | None = None) -> bytes:
    """The Environment/Holder record of an OùRA card: network 250502, its issuer (8 bits), the
    application's end of validity and, when given, the holder's birth date (BCD)."""
    return encode_record("environment", {
        "EnvApplicationVersionNumber": OURA_ENV_VERSION,
        "EnvNetworkId": format(OURA_NETWORK_ID, "06X"),
        "EnvApplicationIssuerId": issuer,
        "EnvApplicationValidityEndDate": validity_end,
        "HolderBirthDate": holder_birth_date,
    })


def oura_contract(*, serial: int, tariff: int, provider: int, valid_from: date, valid_until: date | None,
                  status: int = 1, sale_date: date | None = None) -> bytes:
    """An OùRA contract record (layout FF, network 250502): provider (8 bits), tariff (16),
    serial number (32), validity start and end dates, status (8), sale date."""
    return encode_record("contract", {
        "ContractLayout": "FF",
        "ContractNetworkId": format(OURA_NETWORK_ID, "06X"),
        "ContractProvider": provider,
        "ContractTariff": tariff,
        "ContractSerialNumber": serial,
        "ContractValidityStartDate": valid_from,
        "ContractValidityEndDate": valid_until,
        "ContractStatus": status,
        "ContractSaleDate": sale_date,
    })
