"""ISO 7816-4 short APDUs: the four cases, Le = 256 as 00, malformed bytes refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nfc_gateway.errors import MalformedApdu
from nfc_gateway.sim.apdu import SW_OK, SW_RECORD_NOT_FOUND, Command, Response, sw_name


@pytest.mark.parametrize(("command", "raw"), [
    (Command(0x00, 0x84, 0, 0), "00840000"),                                  # case 1
    (Command(0x00, 0x84, 0, 0, le=8), "0084000008"),                          # case 2
    (Command(0x00, 0xB2, 1, 0x3C, le=256), "00B2013C00"),                     # case 2, Le 256
    (Command(0x00, 0xDC, 1, 0x4C, b"\x01\x02"), "00DC014C020102"),            # case 3
    (Command(0x00, 0xA4, 4, 0, b"1TIC.ICA", 256), "00A40400083154494" "32E49434100"),  # case 4
])
def test_encoding_of_the_four_cases(command, raw):
    assert command.to_bytes() == bytes.fromhex(raw)
    assert Command.from_bytes(bytes.fromhex(raw)) == command


@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255),
       st.binary(max_size=255), st.none() | st.integers(1, 256))
def test_round_trip(cla, ins, p1, p2, data, le):
    command = Command(cla, ins, p1, p2, data, le)
    assert Command.from_bytes(command.to_bytes()) == command


@pytest.mark.parametrize("raw", ["", "00", "00A404", "00DC014C05010203", "00DC014C000102", "00DC014C01010203"])
def test_malformed_commands_are_refused(raw):
    with pytest.raises(MalformedApdu):
        Command.from_bytes(bytes.fromhex(raw))


def test_commands_out_of_range_are_refused():
    with pytest.raises(MalformedApdu):
        Command(0x100, 0, 0, 0)
    with pytest.raises(MalformedApdu):
        Command(0, 0, 0, 0, bytes(256))
    with pytest.raises(MalformedApdu):
        Command(0, 0, 0, 0, le=0)


def test_responses():
    assert Response(b"\x01\x02").to_bytes() == bytes.fromhex("01029000")
    assert Response.from_bytes(bytes.fromhex("6A83")) == Response(b"", SW_RECORD_NOT_FOUND)
    assert Response.from_bytes(bytes.fromhex("AB9000")).ok and not Response(sw=SW_RECORD_NOT_FOUND).ok
    assert Response().sw == SW_OK
    assert sw_name(0x6982) == "6982 security status not satisfied"
    with pytest.raises(MalformedApdu):
        Response.from_bytes(b"\x90")
