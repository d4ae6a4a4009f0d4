"""EN 1545 structure elements and how each one reads and writes its bits. Pure: no I/O.

A record layout (`nfc_gateway.intercode.layouts`) is a tuple of elements:

- `Field`: a fixed-width unsigned integer, shown as a number, a hex string, a date, a time, a BCD
  date, a 5-bit text or (zero bits wide) a presence flag;
- `Bitmap`: a presence bitmap of one bit per child, then the children that are present, in order.
  The bitmap is read as one big-endian integer and child ``i`` is present when bit ``i`` (counted
  from the least significant bit) is set: the first child is the last bit of the bitmap;
- `Repeat`: a count of ``count_bits`` bits, then that many items.

Decoded values are a flat dict keyed by the Intercode field names (bitmaps flatten into it); a
`Repeat` is a list of such dicts. Every field of the layout is a key, None when absent, so the
JSON always shows the whole layout. A nested bitmap whose bit is set but holds no field (rare, but
it takes bits) is shown as ``"<BitmapName>": true`` so the bytes come back identical.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from nfc_gateway.intercode.bits import BitOverflow, BitReader, BitWriter

__all__ = ["Field", "Bitmap", "Repeat", "Element", "FieldError", "EPOCH", "decode_elements", "encode_elements",
           "field_names"]

EPOCH = date(1997, 1, 1)
"""EN 1545 DateStamp: days since 1997-01-01 (14 bits reach 2041-11-09)."""

Shown = Literal["int", "hex", "date", "time", "bcd_date", "text", "flag"]

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_BCD_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
_TEXT_ALPHABET = " ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_"  # EN 1545 5-bit characters: 0 is a space, 1..26 A..Z


class FieldError(ValueError):
    """A value cannot be read or written: the message names the field and the bit."""


@dataclass(frozen=True)
class Field:
    name: str
    bits: int
    shown: Shown = "int"

    def decode(self, reader: BitReader) -> Any:
        start = reader.position
        try:
            raw = reader.read(self.bits)
        except BitOverflow as error:
            raise FieldError(f"{self.name} (bit {start}, {self.bits} bits): {error}") from None
        return self._show(raw)

    def _show(self, raw: int) -> Any:
        if self.shown == "int":
            return raw
        if self.shown == "hex":
            return format(raw, f"0{(self.bits + 3) // 4}X")
        if self.shown == "date":
            return (EPOCH + timedelta(days=raw)).isoformat()
        if self.shown == "time":
            return f"{raw // 60:02d}:{raw % 60:02d}"  # minutes since midnight; 1440..2047 show as 24:00..34:07
        if self.shown == "bcd_date":
            digits = format(raw, f"0{self.bits // 4}X")
            if digits.isdigit() and len(digits) == 8:
                return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
            return digits  # not a BCD date: the raw nibbles, so the bytes come back identical
        if self.shown == "text":
            chars = [_TEXT_ALPHABET[(raw >> (self.bits - 5 * (i + 1))) & 0x1F] for i in range(self.bits // 5)]
            return "".join(chars).rstrip(" ")
        if self.shown == "flag":
            return True
        raise AssertionError(self.shown)

    def encode(self, value: Any, writer: BitWriter) -> None:
        raw = self.raw(value)
        if raw >> self.bits:
            raise FieldError(f"{self.name} (bit {writer.position}): {value!r} does not fit in {self.bits} bits")
        writer.write(raw, self.bits)

    def raw(self, value: Any) -> int:
        """The field's unsigned integer for a shown value (or the integer itself); `FieldError` if unusable."""
        name = self.name
        if self.shown == "flag":
            if value is not True:
                raise FieldError(f"{name}: a zero-bit field is true (present) or null (absent), not {value!r}")
            return 0
        if isinstance(value, date) and self.shown in ("date", "bcd_date"):
            value = value.isoformat()
        if isinstance(value, bool):
            raise FieldError(f"{name}: {value!r} is not a value of a {self.bits}-bit field")
        if isinstance(value, int):
            if value < 0:
                raise FieldError(f"{name}: {value} is negative")
            return value
        if not isinstance(value, str):
            raise FieldError(f"{name}: {value!r} is not a number or a string")
        text = value.strip()
        if self.shown == "hex":
            if not _HEX.match(text):
                raise FieldError(f"{name}: {value!r} is not a hex string")
            return int(text, 16)
        if self.shown == "date":
            try:
                days = (date.fromisoformat(text) - EPOCH).days
            except ValueError:
                raise FieldError(f"{name}: {value!r} is not an ISO date (YYYY-MM-DD)") from None
            if days < 0 or days >> self.bits:
                last = EPOCH + timedelta(days=(1 << self.bits) - 1)
                raise FieldError(f"{name}: {value} is outside {EPOCH.isoformat()}..{last.isoformat()}")
            return days
        if self.shown == "time":
            match = _TIME.match(text)
            if not match or int(match.group(2)) > 59:
                raise FieldError(f"{name}: {value!r} is not a time HH:MM")
            return int(match.group(1)) * 60 + int(match.group(2))
        if self.shown == "bcd_date":
            match = _BCD_DATE.match(text)
            digits = "".join(match.groups()) if match else text
            if len(digits) != self.bits // 4 or not _HEX.match(digits):
                raise FieldError(f"{name}: {value!r} is not a date YYYY-MM-DD (nor {self.bits // 4} hex digits)")
            return int(digits, 16)
        if self.shown == "text":
            length = self.bits // 5
            upper = value.upper()  # leading spaces are characters; trailing ones are the padding
            if len(upper) > length:
                raise FieldError(f"{name}: {value!r} is longer than {length} characters")
            raw = 0
            for char in upper.ljust(length):
                code = _TEXT_ALPHABET.find(char)
                if code < 0:
                    raise FieldError(f"{name}: {char!r} is not an EN 1545 character (A-Z, space)")
                raw = (raw << 5) | code
            return raw << (self.bits - 5 * length)
        if _HEX.match(text) and text.isdigit():
            return int(text)
        raise FieldError(f"{name}: {value!r} is not a number")

    def names(self) -> list[str]:
        return [self.name]


@dataclass(frozen=True)
class Bitmap:
    name: str
    children: tuple[Element, ...]

    def names(self) -> list[str]:
        return [name for child in self.children for name in child.names()]


@dataclass(frozen=True)
class Repeat:
    name: str
    count_bits: int
    item: Bitmap

    def names(self) -> list[str]:
        return [self.name]


Element = Field | Bitmap | Repeat


def field_names(elements: tuple[Element, ...]) -> list[str]:
    """Every key a decode of these elements has, in layout order."""
    return [name for element in elements for name in element.names()]


def decode_elements(elements: tuple[Element, ...], reader: BitReader, out: dict[str, Any]) -> None:
    """Reads the elements in order into ``out`` (absent fields are set to None)."""
    for element in elements:
        _decode(element, reader, out)
        if isinstance(element, Bitmap):
            out.pop(element.name, None)  # a top-level bitmap is always there: no marker needed


def _decode(element: Element, reader: BitReader, out: dict[str, Any]) -> None:
    if isinstance(element, Field):
        out[element.name] = element.decode(reader)
        return
    if isinstance(element, Repeat):
        start = reader.position
        try:
            count = reader.read(element.count_bits)
        except BitOverflow as error:
            raise FieldError(f"{element.name} count (bit {start}): {error}") from None
        items = []
        for _ in range(count):
            item: dict[str, Any] = {}
            _decode(element.item, reader, item)
            item.pop(element.item.name, None)
            items.append(item)
        out[element.name] = items
        return
    start = reader.position
    try:
        mask = reader.read(len(element.children))
    except BitOverflow as error:
        raise FieldError(f"{element.name} bitmap (bit {start}): {error}") from None
    for name in element.names():
        out.setdefault(name, None)
    for i, child in enumerate(element.children):
        if mask >> i & 1:
            _decode(child, reader, out)
        else:
            _set_absent(child, out)
    if mask == 0:
        out[element.name] = True  # present but empty; dropped for bitmaps that are always present


def _set_absent(element: Element, out: dict[str, Any]) -> None:
    for name in element.names():
        out[name] = None


def encode_elements(elements: tuple[Element, ...], values: Mapping[str, Any], writer: BitWriter) -> None:
    """Writes the elements in order from ``values``; a top-level field (outside any bitmap) is required."""
    for element in elements:
        if isinstance(element, Field) and values.get(element.name) is None:
            raise FieldError(f"{element.name} is required (it is not in a bitmap)")
        _encode(element, values, writer)


def _present(element: Element, values: Mapping[str, Any]) -> bool:
    if isinstance(element, Bitmap):
        return values.get(element.name) is True or any(_present(child, values) for child in element.children)
    return values.get(element.name) is not None


def _encode(element: Element, values: Mapping[str, Any], writer: BitWriter) -> None:
    if isinstance(element, Field):
        element.encode(values[element.name], writer)
        return
    if isinstance(element, Repeat):
        items = values[element.name]
        if not isinstance(items, list):
            raise FieldError(f"{element.name}: a list is required, not {items!r}")
        if len(items) >> element.count_bits:
            raise FieldError(f"{element.name}: {len(items)} items do not fit a {element.count_bits}-bit count")
        writer.write(len(items), element.count_bits)
        for i, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise FieldError(f"{element.name}[{i}]: an object is required, not {item!r}")
            try:
                _encode(element.item, item, writer)
            except FieldError as error:
                raise FieldError(f"{element.name}[{i}].{error}") from None
        return
    mask = 0
    for i, child in enumerate(element.children):
        if _present(child, values):
            mask |= 1 << i
    writer.write(mask, len(element.children))
    for i, child in enumerate(element.children):
        if mask >> i & 1:
            _encode(child, values, writer)
