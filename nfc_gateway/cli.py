"""The `oura cards` command line: decode and encode Intercode card records."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001
    """Add ``oura cards`` (filled in by nfc_gateway.intercode)."""
    from nfc_gateway.intercode.cli import register as register_intercode

    register_intercode(subparsers)
