"""A software Calypso-like card and secure module, behind the interfaces a real reader and SAM use.

See README.md: `SoftwareCard` (APDUs in, APDUs out), `SecureModule` (scheme OURA-SIM-1: the master
key, key diversification, session MACs) and the sans-IO plans `ReadCard` / `WriteSession` the
server drives through a relay.
"""

from nfc_gateway.sim.apdu import Command, Response
from nfc_gateway.sim.card import (
    AID, COUNTERS, RECORD_SIZE, SFI_CONTRACT_LIST, SFI_CONTRACTS, SFI_COUNTER, SFI_ENVIRONMENT, SFI_EVENT_LOG,
    SoftwareCard,
)
from nfc_gateway.sim.sam import KEY_DEBIT, KEY_ISSUER, KEY_LOAD, SCHEME, CardKeys, SecureModule
from nfc_gateway.sim.transaction import ReadCard, ReadResult, WriteSession, transmit_all

__all__ = [
    "Command", "Response", "SoftwareCard", "SecureModule", "CardKeys", "ReadCard", "ReadResult", "WriteSession",
    "transmit_all", "AID", "COUNTERS", "RECORD_SIZE", "SCHEME", "KEY_ISSUER", "KEY_LOAD", "KEY_DEBIT",
    "SFI_ENVIRONMENT", "SFI_EVENT_LOG", "SFI_CONTRACTS", "SFI_COUNTER", "SFI_CONTRACT_LIST",
]
