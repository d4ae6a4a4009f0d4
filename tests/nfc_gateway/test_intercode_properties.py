"""Intercode records, property: random valid field dicts of every layout survive encode -> decode.

The dicts are drawn from the layout tables themselves (`nfc_gateway.intercode.layouts`): each
field of a bitmap present or absent, each value anywhere in its width, shown as decode shows it.
A draw whose fields do not fit a 29-byte record is refused by the encoder (checked) and discarded.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nfc_gateway.errors import InvalidCardRecord
from nfc_gateway.intercode import CONTRACT_LAYOUTS, decode_record, encode_record
from nfc_gateway.intercode.fields import EPOCH, Bitmap, Element, Field, Repeat
from nfc_gateway.intercode.layouts import CONTRACT_LIST, ENVIRONMENT, EVENT

LAYOUTS = {"environment": ENVIRONMENT, "event": EVENT, "contract_list": CONTRACT_LIST,
           "contract FF": CONTRACT_LAYOUTS["FF"], "contract short": CONTRACT_LAYOUTS["short"]}


def _value(field: Field) -> st.SearchStrategy[Any]:
    top = (1 << field.bits) - 1
    if field.shown == "int":
        return st.integers(0, top)
    if field.shown == "hex":
        return st.integers(0, top).map(lambda raw: format(raw, f"0{(field.bits + 3) // 4}X"))
    if field.shown == "date":
        return st.integers(0, top).map(lambda days: (EPOCH + timedelta(days=days)).isoformat())
    if field.shown == "time":
        return st.integers(0, 1439).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")
    if field.shown == "bcd_date":
        return st.dates(date(1900, 1, 1), date(2099, 12, 31)).map(date.isoformat)
    if field.shown == "text":
        letters = st.text(alphabet=" ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=field.bits // 5)
        return letters.map(lambda text: text.rstrip(" "))
    assert field.shown == "flag"
    return st.just(True)


@st.composite
def _fields(draw, elements: tuple[Element, ...], *, optional: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for element in elements:
        if optional and not draw(st.booleans()):
            continue
        if isinstance(element, Field):
            out[element.name] = draw(_value(element))
        elif isinstance(element, Bitmap):
            out.update(draw(_fields(element.children, optional=True)))
        else:
            assert isinstance(element, Repeat)
            count = draw(st.integers(0, min(4, (1 << element.count_bits) - 1)))
            out[element.name] = [draw(_fields(element.item.children, optional=True)) for _ in range(count)]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LAYOUTS))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_valid_fields_round_trip(name, data):
    kind, _, layout = name.partition(" ")
    fields = data.draw(_fields(LAYOUTS[name]))
    if layout:
        fields["ContractLayout"] = layout
    try:
        record = encode_record(kind, fields)
    except InvalidCardRecord as error:
        assert "the record holds 232" in str(error.detail)  # too many fields for 29 bytes, nothing else
        assume(False)
        return
    assert len(record) == 29
    decoded = decode_record(kind, record, layout=layout or None)
    for key, value in fields.items():
        if isinstance(value, list):
            assert [{k: v for k, v in item.items() if v is not None} for item in decoded[key]] == value, key
        else:
            assert decoded[key] == value, key
    # every other field of the layout is absent
    others = set(decoded) - set(fields) - _DERIVED - _BITMAP_MARKERS - {"UnknownTrailingBits"}
    assert {key: decoded[key] for key in others if decoded[key] is not None} == {}
    assert decoded["UnknownTrailingBits"] is None
    assert encode_record(kind, decoded) == record


_DERIVED = {"EnvIntercodeVersion", "EnvApplicationVersion", "EventDateTime", "EventTransportMode", "EventType",
            "EventLabel", "ContractLayout"}
_BITMAP_MARKERS = {"EnvData", "HolderName", "HolderBirth", "HolderData", "EventData", "ContractCustomerInfo",
                   "ContractPassengerInfo", "ContractRestriction", "ContractValidityInfo", "ContractJourneyData",
                   "ContractSaleData"}  # `"<Bitmap>": true` only for a present, empty nested bitmap


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.integers(0, (1 << 24) - 1), min_size=1, max_size=9))
def test_counter_records_round_trip(values):
    from nfc_gateway.intercode import counter_record

    record = counter_record(values)
    decoded = decode_record("counter", record)
    assert decoded["CounterValues"] == values + [0] * (9 - len(values))
    assert encode_record("counter", decoded) == record
    single = encode_record("counter", {"CounterValue": values[0]})
    assert single == values[0].to_bytes(3, "big")
    assert decode_record("counter", single)["CounterValue"] == values[0]


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(min_size=29, max_size=29), kind=st.sampled_from(["environment", "event", "contract",
                                                                      "contract_list"]))
def test_any_record_that_decodes_encodes_back_to_its_bytes(raw, kind):
    # Arbitrary bytes: either a clear refusal (a field runs past the end) or an exact round trip.
    try:
        decoded = decode_record(kind, raw)
    except InvalidCardRecord as error:
        assert "bit" in str(error.detail)
        return
    assert encode_record(kind, decoded) == raw
