"""What other packages may read from feeds about a static GTFS feed: its tables, and the spatial links
between its stops.

This is the one module of `feeds.gtfs` that `journey_planner`, `ticketing` and the demo region
import (ARCHITECTURE.md's import table; `tests/architecture` enforces it), so the reader, the
archive limits and the validation rules can change behind it. Service semantics (service days,
the day origin, the feed's zone) are the other public module, `feeds.gtfs.service_days`.

- `read_gtfs(path, only=...)` -> `GtfsTables`: every file as a table of the exact strings the
  publisher wrote; `GtfsReadError` when the zip or folder cannot be read.
- `parse_gtfs_times`, `parse_factorized_gtfs_times`: ``HH:MM:SS`` (past 24 h allowed) -> seconds,
  vectorised; `parse_gtfs_dates`: ``YYYYMMDD`` -> dates; `parse_gtfs_integers` (empty or
  malformed -> a default) and `parse_gtfs_numbers` (-> NaN): number cells, vectorised.
- `find_stop_links` -> `StopLinks`: stops within walking distance of each other, across feeds.
"""

from __future__ import annotations

from feeds.gtfs.reader import (
    GtfsReadError,
    GtfsTables,
    parse_factorized_gtfs_times,
    parse_gtfs_dates,
    parse_gtfs_integers,
    parse_gtfs_numbers,
    parse_gtfs_times,
    read_gtfs,
)
from feeds.stop_links import EARTH_RADIUS_M, StopLinks, find_stop_links

__all__ = [
    "EARTH_RADIUS_M",
    "GtfsReadError",
    "GtfsTables",
    "StopLinks",
    "find_stop_links",
    "parse_factorized_gtfs_times",
    "parse_gtfs_dates",
    "parse_gtfs_integers",
    "parse_gtfs_numbers",
    "parse_gtfs_times",
    "read_gtfs",
]
