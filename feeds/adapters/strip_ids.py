"""Adapter for publishers whose id cells carry stray spaces (``" 1234"`` in stop_times.txt for
``"1234"`` in stops.txt): strips leading and trailing whitespace from every id column, which the
GTFS spec never allows to be significant. Without it such feeds are rejected for dangling
references."""

from __future__ import annotations

from feeds.gtfs.reader import GtfsTables
from feeds.namespace import ID_COLUMNS, REGION_WIDE_COLUMNS

__all__ = ["adapt"]


def adapt(tables: GtfsTables) -> GtfsTables:
    cleaned = {}
    for stem, frame in tables.tables.items():
        columns = [c for c in (*ID_COLUMNS.get(stem, ()), *REGION_WIDE_COLUMNS) if c in frame.columns]
        if columns:
            frame = frame.copy()
            for column in columns:
                frame[column] = frame[column].str.strip()
        cleaned[stem] = frame
    return GtfsTables(source=tables.source, tables=cleaned, extra_files=tables.extra_files)
