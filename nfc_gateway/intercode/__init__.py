"""Calypso Intercode (EN 1545) card records: decode and encode (pure, no I/O).

The layouts are in `nfc_gateway.intercode.layouts` and explained, with their sources, in README.md.
"""

from nfc_gateway.intercode.records import (
    CONTRACT_LAYOUTS,
    KINDS,
    OURA_ENV_VERSION,
    OURA_NETWORK_ID,
    contract_layout,
    contract_structure,
    counter_record,
    counter_values,
    decode_record,
    encode_record,
    event_label,
    oura_contract,
    oura_environment,
    parse_hex,
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
