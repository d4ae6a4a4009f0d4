"""``oura cards decode|encode``: the command-line contract (hex -> JSON, JSON -> hex, exit 2 on bad input).

The records are real Navigo records of ../shared/specs/intercode-test-vectors, written out here
(29 bytes each) so the command line is checked even where the specs folder is absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nfc_gateway.intercode.cli import main

REPO = Path(__file__).resolve().parents[2]
ENV_1 = "24B928480805E66460B00012C100000000000000000000000000000000"
EVENT_1 = "887A2B900068A188189686880800804000000000000000000000000000"
CONTRACT = "E6040679AD10D67001B468040FFFF80402D10010200000000000100000"
CONTRACT_LIST = "4C1FF24C1FFE2C1FFE3C1FF21000000000000000000000000000000000"


def _oura(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oura", "cards", *args], cwd=REPO, capture_output=True, text=True,
                          input=stdin, timeout=120, check=False)


@pytest.mark.slow  # starts the `oura` command in new interpreters (one to two seconds each)
def test_oura_cards_decode_prints_the_fields_as_json():
    done = _oura("decode", "--record", "event", "--hex", EVENT_1)
    assert done.returncode == 0, done.stderr
    fields = json.loads(done.stdout)
    assert fields["EventDateTime"] == "2020-11-30T18:31:00"
    assert (fields["EventCode"], fields["EventServiceProvider"], fields["EventLocationId"]) == (0x31, 3, 4816)
    assert fields["EventLabel"] == "Métro - validation en entrée"
    assert "Métro" in done.stdout and done.stdout.startswith("{\n  \"")  # ensure_ascii off, indent 2
    assert fields["EventNetworkId"] is None and "EventVehicleId" in fields  # absent fields are null, not left out

    done = _oura("decode", "--record", "environment", "--hex", ENV_1)
    assert done.returncode == 0, done.stderr
    fields = json.loads(done.stdout)
    assert (fields["EnvNetworkId"], fields["EnvApplicationIssuerId"], fields["EnvApplicationValidityEndDate"]) == \
        ("250901", 0, "2030-01-31")
    assert fields["EnvPayMethod"] is None and fields["EnvSelectList"] is None


@pytest.mark.slow
def test_oura_cards_encode_prints_the_hex_and_bad_input_exits_2(tmp_path):
    done = _oura("decode", "--record", "contract", "--hex", CONTRACT)
    path = tmp_path / "contract.json"
    path.write_text(done.stdout, encoding="utf-8")
    done = _oura("encode", "--record", "contract", "--json", str(path))
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, CONTRACT, "")

    done = _oura("decode", "--record", "event", "--hex", EVENT_1[:-2])
    assert done.returncode == 2
    assert done.stdout == "" and "28" in done.stderr and "Traceback" not in done.stderr
    done = _oura("encode", "--record", "counter", "--json", "-", stdin='{"CounterValue": 16777216}')
    assert done.returncode == 2 and "counter 1" in done.stderr and "Traceback" not in done.stderr


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_decode_each_kind_in_process(capsys):
    code, out, _ = _run(capsys, "decode", "--record", "contract_list", "--hex", CONTRACT_LIST)
    assert code == 0
    entries = json.loads(out)["BestContracts"]
    assert [(e["BestContractsPointer"], e["BestContractsTariff"]) for e in entries] == \
        [(4, 4089), (2, 4095), (3, 4095), (1, 4089)]
    code, out, _ = _run(capsys, "decode", "--record", "counter", "--hex", "00000A")
    assert (code, json.loads(out)) == (0, {"CounterValue": 10, "CounterValues": [10]})
    code, out, _ = _run(capsys, "decode", "--record", "counter", "--hex", "00000A000003" + "00" * 23)
    assert code == 0 and json.loads(out)["CounterValues"] == [10, 3, 0, 0, 0, 0, 0, 0, 0]
    code, out, _ = _run(capsys, "decode", "--record", "contract", "--hex", CONTRACT)
    assert code == 0 and json.loads(out)["ContractTariff"] == 828


def test_layout_option_forces_the_contract_layout(capsys):
    code, out, _ = _run(capsys, "decode", "--record", "contract", "--layout", "FF", "--hex", CONTRACT)
    fields = json.loads(out)
    assert code == 0 and fields["ContractLayout"] == "FF" and fields["ContractTariff"] is None
    code, _, err = _run(capsys, "decode", "--record", "event", "--layout", "FF", "--hex", EVENT_1)
    assert code == 2 and "--layout" in err


def test_encode_reads_standard_input_and_prints_upper_case_hex(capsys, monkeypatch):
    import io

    fields = {"EventDateStamp": "2020-11-30", "EventTimeStamp": "18:31", "EventCode": 0x31, "EventServiceProvider": 3,
              "EventLocationId": 4816, "EventDevice": 53505, "EventRouteNumber": 16, "EventContractPointer": 1}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(fields)))
    code, out, err = _run(capsys, "encode", "--record", "event", "--json", "-")
    assert (code, out.strip(), err) == (0, EVENT_1, "")


@pytest.mark.parametrize(("args", "message"), [
    (("decode", "--record", "event", "--hex", "88 7A XYZ"), "not a hex string: 'X'"),
    (("decode", "--record", "event", "--hex", "887"), "even number of digits"),
    (("decode", "--record", "environment", "--hex", "24B9"), "29 bytes expected, got 2"),
    (("decode", "--record", "counter", "--hex", "0000"), "3 or 29 bytes expected, got 2"),
    (("encode", "--record", "environment", "--json", "/nonexistent/fields.json"), "cannot read"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(capsys, args, message):
    code, out, err = _run(capsys, *args)
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1


def test_encode_refuses_a_file_that_is_not_json(capsys, tmp_path):
    path = tmp_path / "fields.json"
    path.write_text("{not json", encoding="utf-8")
    code, _, err = _run(capsys, "encode", "--record", "event", "--json", str(path))
    assert code == 2 and "is not JSON" in err
    path.write_text("[1, 2]", encoding="utf-8")
    code, _, err = _run(capsys, "encode", "--record", "event", "--json", str(path))
    assert code == 2 and "object of fields" in err


def test_unknown_record_kind_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["decode", "--record", "purse", "--hex", "00"])
    assert stop.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
