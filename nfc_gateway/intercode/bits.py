"""MSB-first bit reading and writing, the bit order of EN 1545 records.

Bit 0 of a record is the most significant bit of its first byte. Integers are read and written
big-endian over any number of bits (a 14-bit date may start in the middle of a byte). Pure: no I/O.
"""

from __future__ import annotations

__all__ = ["BitReader", "BitWriter", "BitOverflow"]


class BitOverflow(ValueError):
    """A read ran past the end of the record, or a value does not fit in its width."""


class BitReader:
    """Reads unsigned big-endian integers of any width from ``data``, bit by bit from the start."""

    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self.size = len(data) * 8
        self.position = 0

    @property
    def remaining(self) -> int:
        return self.size - self.position

    def read(self, width: int) -> int:
        if width < 0:
            raise ValueError("negative width")
        if width > self.remaining:
            raise BitOverflow(f"needs {width} bits at bit {self.position}, the record has {self.remaining} left")
        shift = self.size - self.position - width
        self.position += width
        return (self._value >> shift) & ((1 << width) - 1)

    def rest(self) -> str:
        """The bits not read yet, as a string of '0' and '1' (not consumed)."""
        if not self.remaining:
            return ""
        return format(self._value & ((1 << self.remaining) - 1), f"0{self.remaining}b")


class BitWriter:
    """Appends unsigned big-endian integers of given widths; `to_bytes` pads with zero bits."""

    def __init__(self) -> None:
        self._value = 0
        self.position = 0

    def write(self, value: int, width: int) -> None:
        if width < 0:
            raise ValueError("negative width")
        if value < 0 or value >> width:
            raise BitOverflow(f"{value} does not fit in {width} bits")
        self._value = (self._value << width) | value
        self.position += width

    def write_bits(self, bits: str) -> None:
        """Appends a string of '0' and '1'."""
        if bits.strip("01"):
            raise ValueError("bits must be a string of 0 and 1")
        if bits:
            self.write(int(bits, 2), len(bits))

    def to_bytes(self, size: int) -> bytes:
        """The bits written, then zero bits up to ``size`` bytes; `BitOverflow` when they do not fit."""
        if self.position > size * 8:
            raise BitOverflow(f"the fields take {self.position} bits, the record holds {size * 8}")
        return (self._value << (size * 8 - self.position)).to_bytes(size, "big")
