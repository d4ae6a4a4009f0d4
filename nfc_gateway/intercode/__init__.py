"""Calypso Intercode (EN 1545) card records: decode and encode (pure, no I/O).

The layouts are in `nfc_gateway.intercode.layouts` and explained, with their sources, in README.md.
The package's API is `nfc_gateway.intercode.records`' (its ``__all__``), re-exported here.
"""

from nfc_gateway.intercode import records
from nfc_gateway.intercode.records import *  # noqa: F403 (the API is records.__all__)

__all__ = list(records.__all__)
