"""Intercode records: every real Navigo record of ../shared/specs/intercode-test-vectors decodes to
the values the upstream Keyple parser tests assert (and to the rest of the record by the Metrodroid
layout, where the vectors give it), and encodes back to its exact bytes.

The vectors are read from ../shared/specs (next to the repository, as real feeds are read from
../shared/data); where the folder is absent the tests skip (and fail under CI=true).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nfc_gateway.intercode import contract_structure, decode_record, encode_record

REPO = Path(__file__).resolve().parents[2]
VECTORS = Path(os.environ.get("OURA_SHARED_SPECS", REPO.parent / "shared" / "specs")) / \
    "intercode-test-vectors" / "keyple-navigo-intercode-records.json"


def _load() -> dict:
    return json.loads(VECTORS.read_text(encoding="utf-8")) if VECTORS.exists() else {}


_DOC = _load()


def _cases(section: str) -> list:
    return [pytest.param(entry, id=entry["name"]) for entry in _DOC.get(section, [])]


def _all_records() -> list:
    kinds = {"environment_holder": "environment", "events": "event", "contracts": "contract",
             "contract_list": "contract_list"}
    out = []
    for section, kind in kinds.items():
        for entry in _DOC.get(section, []):
            hexes = entry.get("hex_list") or [entry["hex"]]
            out += [pytest.param(kind, text, id=f"{entry['name']}#{i}") for i, text in enumerate(hexes)]
    return out


@pytest.fixture(autouse=True, scope="module")
def _vectors_present():
    if not VECTORS.exists():
        message = f"test vectors {VECTORS} are absent (set OURA_SHARED_SPECS or place ../shared/specs)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true requires them")
        pytest.skip(message)


def test_the_vectors_hold_every_record_kind():
    # 3 environments, 2 events, 6 contracts (1 + 1 + 4), 3 contract lists: a shrunken file fails here.
    assert len(_all_records()) == 14


# The two halves of EnvApplicationVersionNumber, as the vectors name them, and as decode names them.
ENV_ALIASES = {"intercode_version": "EnvIntercodeVersion", "application_version": "EnvApplicationVersion"}
ENV_BITMAP = ["EnvNetworkId", "EnvApplicationIssuerId", "EnvApplicationValidityEndDate", "EnvPayMethod",
              "EnvAuthenticator", "EnvSelectList", "EnvData"]  # bit 0 (least significant) first


@pytest.mark.parametrize("entry", _cases("environment_holder"))
def test_environment_decodes_to_the_upstream_values(entry):
    fields = decode_record("environment", entry["hex"])
    for key, expected in entry["expected"].items():
        if key.endswith("_note"):
            continue
        if key == "generalBitmap_as_upstream_lists_it":
            # upstream lists the 7-bit bitmap MSB first: its last flag is bit 0, the network id
            present = {name for name, flag in zip(ENV_BITMAP, reversed(expected)) if flag}
            decoded = {name for name in ENV_BITMAP[:6] if fields[name] is not None}
            decoded |= {"EnvData"} if fields["EnvCardStatus"] is not None or fields["EnvExtra"] else set()
            assert decoded == present
            continue
        assert fields[ENV_ALIASES.get(key, key)] == expected, key


@pytest.mark.parametrize("entry", _cases("events"))
def test_event_decodes_to_the_upstream_and_layout_values(entry):
    fields = decode_record("event", entry["hex"])
    expected = entry["expected"] or {}
    if "label" in expected:
        assert fields["EventLabel"] == expected["label"]
    if "datetime_local" in expected:
        assert fields["EventDateTime"] == expected["datetime_local"]
    if "EventServiceProvider" in expected:
        assert fields["EventServiceProvider"] == expected["EventServiceProvider"]
    # location_name / destination_name are lookups of Navigo's stations, not card fields: the
    # decoder gives the raw EventLocationId (checked below) and no names.
    helper = entry["decoded_by_helper"]
    assert fields["EventDateStamp"] == helper["date"]
    assert fields["EventTimeStamp"] == helper["time"]
    assert fields["EventDateTime"] == f"{helper['date']}T{helper['time']}:00"
    assert [fields["EventTransportMode"], fields["EventType"]] == helper["Code"]
    assert fields["EventCode"] == helper["Code"][0] << 4 | helper["Code"][1]
    for key in ("ServiceProvider", "LocationId", "Device", "RouteNumber", "ContractPointer"):
        assert fields[f"Event{key}"] == helper[key], key
    named = {"EventDateStamp", "EventTimeStamp", "EventCode", "EventServiceProvider", "EventLocationId",
             "EventDevice", "EventRouteNumber", "EventContractPointer"}
    derived = {"EventDateTime", "EventTransportMode", "EventType", "EventLabel"}
    assert {k for k, v in fields.items() if v is not None} - derived == named  # nothing else is on the record
    assert fields["UnknownTrailingBits"] is None


def test_common_contract_decodes_to_the_upstream_values():
    (entry,) = [e for e in _DOC["contracts"] if e["name"] == "IntercodePublicTransportContractParserTest.DATA"]
    fields = decode_record("contract", entry["hex"])
    assert fields["ContractLayout"] == "short"
    for key, expected in entry["expected"].items():
        assert fields[key] == expected, key
    helper = entry["decoded_by_helper"]
    assert (fields["ContractProvider"], fields["ContractTariff"], fields["ContractStatus"]) == \
        (helper["Provider"], helper["Tariff"], helper["Status"])
    assert (fields["ContractValidityStartDate"], fields["ContractValidityEndDate"]) == (helper["Start"], helper["End"])
    assert fields["ContractSerialNumber"] is None and fields["ContractPassengerClass"] is None
    assert fields["ContractData"] is True  # bit 6 set: the structure's own data follows, kept as bits
    assert fields["UnknownTrailingBits"]


def test_ff_contract_decodes_to_the_upstream_values():
    (entry,) = [e for e in _DOC["contracts"] if e["name"] == "IntercodeContractFFParserTest.DATA"]
    fields = decode_record("contract", entry["hex"])
    assert fields["ContractLayout"] == "FF"
    for key, expected in entry["expected"].items():
        assert fields[key] == expected, key


def test_ff_monthly_passes_read_as_navigo_months():
    # No upstream assertion for DATA_1..DATA_4; what they must be for the layout to be right: a
    # month of validity, sold on or before its first day, each with its own authenticator.
    (entry,) = [e for e in _DOC["contracts"] if e["name"] == "IntercodeContractFFParserTest.DATA_1..DATA_4"]
    decoded = [decode_record("contract", text) for text in entry["hex_list"]]
    for fields in decoded:
        assert fields["ContractLayout"] == "FF"
        start, end = fields["ContractValidityStartDate"], fields["ContractValidityEndDate"]
        assert start[8:] == "01" and start[:7] == end[:7] and end[8:] in ("30", "31")
        assert fields["ContractSaleDate"] <= start
        assert fields["ContractStatus"] == 1 and fields["UnknownTrailingBits"] is None
    assert len({fields["ContractAuthenticator"] for fields in decoded}) == 4


@pytest.mark.parametrize("entry", _cases("contract_list"))
def test_contract_list_decodes_to_the_upstream_entries(entry):
    fields = decode_record("contract_list", entry["hex"])
    got = [(item["BestContractsPointer"], item["BestContractsTariff"]) for item in fields["BestContracts"]]
    if entry.get("expected") is not None:
        assert got == [(item["pointer"], item["tariff"]) for item in entry["expected"]]
    else:
        assert got == [(item["ptr"], item["tariff"]) for item in entry["decoded_by_helper"]]
    # Navigo's best contracts all name the FF contract structure (bits 4..11 of their tariff)
    assert {contract_structure(tariff) for _, tariff in got} == {0xFF}


@pytest.mark.parametrize(("kind", "text"), _all_records())
def test_every_record_encodes_back_to_its_bytes(kind, text):
    fields = decode_record(kind, text)
    assert encode_record(kind, fields).hex().upper() == text
    # through JSON too, as the command line carries it
    assert encode_record(kind, json.loads(json.dumps(fields))).hex().upper() == text
