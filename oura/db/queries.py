"""Named SQL queries: a package keeps its SQL in a .sql file of ``-- name: x`` sections (the
description comment under the name stays with the query) and reads them through one `QueryFile`.

    _q = QueryFile(Path(__file__).with_name("queries.sql"))
    await conn.fetch(_q("list_feeds"), ...)   # or _q.list_feeds

The file is read once, at the first query asked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

__all__ = ["QueryFile", "load_queries"]

_HEADER = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


@cache
def load_queries(path: Path) -> Mapping[str, str]:
    """``-- name: x`` sections of the file -> SQL text."""
    parts = _HEADER.split(path.read_text(encoding="utf-8"))
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


class QueryFile:
    """The queries of one file, by call (``q("name")``) or attribute (``q.name``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, name: str) -> str:
        try:
            return load_queries(self.path)[name]
        except KeyError:
            raise KeyError(f"no query named {name!r} in {self.path}") from None

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return load_queries(self.path)[name]
        except KeyError:
            raise AttributeError(f"no query named {name!r} in {self.path}") from None

    def names(self) -> list[str]:
        return list(load_queries(self.path))
