"""Intercode records: the bit order, the OùRA helpers the remote protocol writes with, and the
errors (each names the field or the bit)."""

from __future__ import annotations

from datetime import date

import pytest

from nfc_gateway.errors import InvalidCardRecord
from nfc_gateway.intercode import (
    OURA_NETWORK_ID,
    contract_layout,
    counter_record,
    decode_record,
    encode_record,
    oura_contract,
    oura_environment,
)
from nfc_gateway.intercode.bits import BitOverflow, BitReader, BitWriter


def test_bits_are_read_and_written_most_significant_first():
    reader = BitReader(bytes([0b1011_0010, 0b0100_0000]))
    assert [reader.read(1), reader.read(3), reader.read(6)] == [1, 0b011, 0b001001]
    assert reader.rest() == "000000" and reader.remaining == 6
    with pytest.raises(BitOverflow):
        reader.read(7)
    writer = BitWriter()
    writer.write(1, 1)
    writer.write(0b011, 3)
    writer.write(0b001001, 6)
    assert writer.to_bytes(2) == bytes([0b1011_0010, 0b0100_0000])
    with pytest.raises(BitOverflow):
        writer.write(8, 3)
    with pytest.raises(BitOverflow):
        writer.to_bytes(1)


def test_dates_count_days_from_1997_and_times_minutes_from_midnight():
    # A bare event: 14-bit date then 11-bit time then the 28-bit bitmap, nothing present.
    record = encode_record("event", {"EventDateStamp": "1997-01-02", "EventTimeStamp": "00:03"})
    # 00000000000001 | 00000000011 | 0000...: date 1, time 3, then the empty bitmap
    assert record[:4] == bytes([0b0000_0000, 0b0000_0100, 0b0000_0001, 0b1000_0000])
    fields = decode_record("event", record)
    assert fields["EventDateTime"] == "1997-01-02T00:03:00"
    assert fields["EventCode"] is None and fields["EventLabel"] is None
    last = decode_record("event", encode_record("event", {"EventDateStamp": "2041-11-09", "EventTimeStamp": "23:59"}))
    assert last["EventDateStamp"] == "2041-11-09"  # 2**14 - 1 days after 1997-01-01


def test_oura_environment_names_the_network_issuer_and_dates():
    record = oura_environment(issuer=7, validity_end=date(2031, 12, 31), holder_birth_date=date(1990, 5, 17))
    fields = decode_record("environment", record)
    assert len(record) == 29
    assert fields["EnvNetworkId"] == "250502" == format(OURA_NETWORK_ID, "06X")
    assert (fields["EnvApplicationIssuerId"], fields["EnvApplicationValidityEndDate"]) == (7, "2031-12-31")
    assert fields["HolderBirthDate"] == "1990-05-17" and fields["HolderSurname"] is None
    assert (fields["EnvIntercodeVersion"], fields["EnvApplicationVersion"]) == (1, 1)
    anonymous = decode_record("environment", oura_environment(issuer=7, validity_end=date(2031, 12, 31)))
    assert anonymous["HolderBirthDate"] is None


def test_oura_contract_reads_back_and_is_recognised_as_ff():
    record = oura_contract(serial=0xDEADBEEF, tariff=0x6601, provider=2, valid_from=date(2026, 12, 4),
                           valid_until=date(2027, 1, 3), sale_date=date(2026, 12, 1))
    assert contract_layout(record) == "FF"
    fields = decode_record("contract", record)
    assert (fields["ContractNetworkId"], fields["ContractProvider"], fields["ContractTariff"]) == ("250502", 2, 0x6601)
    assert (fields["ContractSerialNumber"], fields["ContractStatus"]) == (0xDEADBEEF, 1)
    assert (fields["ContractValidityStartDate"], fields["ContractValidityEndDate"], fields["ContractSaleDate"]) == \
        ("2026-12-04", "2027-01-03", "2026-12-01")
    open_ended = decode_record("contract", oura_contract(serial=1, tariff=3, provider=3, valid_from=date(2026, 12, 4),
                                                         valid_until=None, status=0))
    assert open_ended["ContractValidityEndDate"] is None and open_ended["ContractStatus"] == 0
    with pytest.raises(InvalidCardRecord, match="ContractSerialNumber"):
        oura_contract(serial=1 << 32, tariff=1, provider=1, valid_from=date(2026, 1, 1), valid_until=None)


def test_counter_record_is_nine_three_byte_counters():
    record = counter_record([10, 0x010203])
    assert record == bytes([0, 0, 10, 1, 2, 3]) + bytes(23)
    assert decode_record("counter", record)["CounterValues"] == [10, 0x010203] + [0] * 7
    with pytest.raises(InvalidCardRecord, match="9 counters"):
        counter_record([0] * 10)
    with pytest.raises(InvalidCardRecord, match="counter 2"):
        counter_record([0, -1])


def test_an_empty_contract_slot_decodes_as_an_empty_ff_contract():
    fields = decode_record("contract", bytes(29))
    assert fields["ContractLayout"] == "FF" and fields["ContractTariff"] is None
    assert encode_record("contract", fields) == bytes(29)


@pytest.mark.parametrize(("kind", "fields", "message"), [
    ("environment", {"EnvApplicationVersionNumber": 64}, "EnvApplicationVersionNumber (bit 0): 64 does not fit in 6 bits"),
    ("environment", {"EnvApplicationVersionNumber": 9, "EnvNetworkId": "25G502"}, "EnvNetworkId: '25G502' is not a hex"),
    ("environment", {"EnvApplicationVersionNumber": 9, "EnvNetworkId": "1250502"}, "EnvNetworkId (bit 13)"),
    ("environment", {"EnvApplicationVersionNumber": 9, "EnvApplicationValidityEndDate": "2042-01-01"},
     "outside 1997-01-01..2041-11-09"),
    ("environment", {"EnvApplicationVersionNumber": 9, "EnvApplicationValidityEndDate": "31/12/2030"},
     "not an ISO date"),
    ("environment", {"EnvApplicationVersionNumber": 9, "HolderSurname": "Dupont-Durand"}, "'-' is not an EN 1545"),
    ("environment", {}, "EnvApplicationVersionNumber is required"),
    ("event", {"EventDateStamp": "2020-11-30", "EventTimeStamp": "18:61"}, "not a time HH:MM"),
    ("event", {"EventDateStamp": "2020-11-30", "EventTimeStamp": "18:31", "EventCode": -1}, "EventCode: -1 is negative"),
    ("event", {"EventDateStamp": "2020-11-30", "EventTimeStamp": "18:31", "EventEmployee": "0" * 60,
               "EventAuthenticator": "0000"}, "the record holds 232"),
    ("contract", {"ContractLayout": "46h"}, "unknown layout '46h'"),
    ("contract", {"ContractTariff": True}, "ContractTariff: True is not a value"),
    ("contract", {"ContractData": 1}, "ContractData: a zero-bit field is true"),
    ("contract", {"UnknownTrailingBits": "012"}, "UnknownTrailingBits: a string of 0 and 1"),
    ("contract_list", {"BestContracts": [{}] * 16}, "16 items do not fit a 4-bit count"),
    ("contract_list", {"BestContracts": [{"BestContractsPointer": 32}]}, "BestContracts[0].BestContractsPointer"),
    ("counter", {}, "CounterValue or CounterValues is required"),
    ("counter", {"CounterValues": [1], "UnknownTrailingBits": "1" * 17}, "at most 16 bits"),
])
def test_encode_errors_name_the_field(kind, fields, message):
    with pytest.raises(InvalidCardRecord) as raised:
        encode_record(kind, fields)
    assert message in raised.value.detail
    assert raised.value.status == 400 and raised.value.code == "invalid_card_record"


def test_decode_errors_name_the_length_the_hex_or_the_bit():
    with pytest.raises(InvalidCardRecord, match="29 bytes expected, got 30"):
        decode_record("event", bytes(30))
    with pytest.raises(InvalidCardRecord, match="not a hex string: 'g' at character 3"):
        decode_record("event", "00g0")
    with pytest.raises(InvalidCardRecord, match="unknown record kind 'purse'"):
        decode_record("purse", bytes(29))
    # An event whose bitmap announces EventEmployee (240 bits) cannot fit in 29 bytes: the
    # message gives the field and the bit where it starts.
    writer = BitWriter()
    writer.write(0, 25)
    writer.write(1 << 17, 28)  # bit 17 of the event bitmap: EventEmployee
    with pytest.raises(InvalidCardRecord, match=r"EventEmployee \(bit 53, 240 bits\)"):
        decode_record("event", writer.to_bytes(29))
