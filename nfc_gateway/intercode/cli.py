"""``oura cards decode|encode``: Intercode card records to JSON and back. A stable interface:

    oura cards decode --record environment|contract|counter|event|contract_list --hex HEX [--layout FF|short]
    oura cards encode --record KIND --json FILE        (FILE may be - for standard input)

``decode`` prints the record's fields as JSON (indent 2, UTF-8), keyed by the Intercode field names,
absent fields null (`nfc_gateway.intercode.decode_record`); ``encode`` prints the record as upper-case
hex (`encode_record`). Exit status 0, or 2 with one line on stderr when the input is unusable.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nfc_gateway.errors import InvalidCardRecord
from nfc_gateway.intercode.records import CONTRACT_LAYOUTS, KINDS, decode_record, encode_record
from oura.commands import add_command

__all__ = ["register", "main", "run_decode", "run_encode"]


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # noqa: SLF001
    """Add ``oura cards`` with its ``decode`` and ``encode`` actions."""
    cards = add_command(subparsers, "cards", "Calypso Intercode card records: decode to JSON, encode from JSON",
                        "oura cards decode --record event --hex 887A2B900068A188189686880800804000000000000000000000000000",
                        description="Calypso Intercode (EN 1545) card records: decode to JSON, encode from JSON.")
    sub = cards.add_subparsers(dest="cards_command", metavar="ACTION", required=True)
    decode = add_command(
        sub, "decode", "print a record's fields as JSON (Intercode field names, absent fields null)",
        "oura cards decode --record environment --hex 24B928480805E66460B00012C100000000000000000000000000000000\n"
        "oura cards decode --record counter --hex 00000A",
    )
    decode.add_argument("--record", required=True, choices=KINDS, help="which file the record comes from")
    decode.add_argument("--hex", required=True, metavar="HEX", help="the record's bytes (29, or 3 for one counter)")
    decode.add_argument("--layout", choices=sorted(CONTRACT_LAYOUTS),
                        help="contract layout (default: recognised from the record)")
    decode.set_defaults(func=lambda args, *_: run_decode(args))
    encode = add_command(
        sub, "encode", "print the hex of a record given as JSON (the fields decode prints)",
        "oura cards encode --record contract --json contract.json",
    )
    encode.add_argument("--record", required=True, choices=KINDS, help="which file the record is for")
    encode.add_argument("--json", required=True, metavar="FILE", help="a JSON object of fields (- for standard input)")
    encode.set_defaults(func=lambda args, *_: run_encode(args))
    return cards


def run_decode(args: argparse.Namespace, out=None, err=None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if args.layout is not None and args.record != "contract":
        print("error: --layout applies to --record contract only", file=err)
        return 2
    try:
        fields = decode_record(args.record, args.hex, layout=args.layout)
    except InvalidCardRecord as error:
        print(f"error: {error.detail}", file=err)
        return 2
    print(json.dumps(fields, indent=2, ensure_ascii=False), file=out, flush=True)
    return 0


def run_encode(args: argparse.Namespace, out=None, err=None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        fields = _read_json(args.json)
        record = encode_record(args.record, fields)
    except InvalidCardRecord as error:
        print(f"error: {error.detail}", file=err)
        return 2
    print(record.hex().upper(), file=out, flush=True)
    return 0


def _read_json(name: str) -> Any:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidCardRecord(f"cannot read {name}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise InvalidCardRecord(f"{name} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise InvalidCardRecord(f"{name} is not JSON: {error}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """``oura cards ARGS`` without the rest of ``oura`` (``main(["decode", ...])``)."""
    parser = argparse.ArgumentParser(prog="oura")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(["cards", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
