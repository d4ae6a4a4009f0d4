"""The one way every package adds a command to the ``oura`` command line: a sub-command whose
``--help`` repeats its one-line help as the description and ends with an example."""

from __future__ import annotations

import argparse

__all__ = ["add_command"]


def add_command(
    sub: argparse._SubParsersAction,  # noqa: SLF001 - what add_subparsers returns
    name: str,
    help_text: str,
    example: str,
    *,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """``oura ... NAME``: ``help_text`` in the list of commands (and as the description unless
    ``description`` is given), ``example`` after the options: one command line, or several lines
    (then headed "examples:"), each indented as written."""
    lines = example.splitlines()
    heading = "examples:" if len(lines) > 1 else "example:"
    return sub.add_parser(
        name,
        help=help_text,
        description=description or help_text,
        epilog="\n".join([heading, *(f"  {line}" for line in lines)]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
