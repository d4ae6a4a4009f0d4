"""`oura cards decode|encode` (to be written)."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001
    """Add ``oura cards``."""
