"""Namespacing of ids: ``<feed_id>:<original id>`` everywhere downstream of a feed.

Thirty publishers reuse the same short ids ("1", "A", "STATION_1"); prefixing every id with the
feed id (the registry network id) makes them unique across the region without renumbering. The
region-wide Fares v2 vocabulary is the exception and stays verbatim, because every feed shares it
on purpose: fare media (`oura-card`, `oura-wallet`, `paper`), rider categories (`adult`, ...) and
network ids (a feed's network id *is* its registry network id, used by regional fare rules).

`ID_COLUMNS` is the catalogue of id columns per file, as data.
"""

from __future__ import annotations

import pandas as pd

from feeds.gtfs.reader import GtfsTables

__all__ = ["ID_COLUMNS", "REGION_WIDE_COLUMNS", "namespace_id", "namespace_tables", "split_namespaced_id"]

SEPARATOR = ":"

# file -> columns holding feed-local ids (namespaced)
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "agency": ("agency_id",),
    "stops": ("stop_id", "parent_station", "level_id", "zone_id"),
    "routes": ("route_id", "agency_id"),
    "trips": ("trip_id", "route_id", "service_id", "shape_id", "block_id"),
    "stop_times": ("trip_id", "stop_id", "location_group_id", "location_id"),
    "calendar": ("service_id",),
    "calendar_dates": ("service_id",),
    "frequencies": ("trip_id",),
    "shapes": ("shape_id",),
    "transfers": ("from_stop_id", "to_stop_id", "from_route_id", "to_route_id", "from_trip_id", "to_trip_id"),
    "pathways": ("pathway_id", "from_stop_id", "to_stop_id"),
    "levels": ("level_id",),
    "fare_attributes": ("fare_id", "agency_id"),
    "fare_rules": ("fare_id", "route_id", "origin_id", "destination_id", "contains_id"),
    "fare_products": ("fare_product_id",),
    "fare_leg_rules": ("fare_product_id", "from_area_id", "to_area_id", "from_timeframe_group_id",
                       "to_timeframe_group_id", "leg_group_id"),
    "fare_transfer_rules": ("from_leg_group_id", "to_leg_group_id", "fare_product_id"),
    "fare_leg_join_rules": ("from_stop_id", "to_stop_id"),
    "route_networks": ("route_id",),
    "areas": ("area_id",),
    "stop_areas": ("area_id", "stop_id"),
    "timeframes": ("timeframe_group_id", "service_id"),
    "location_groups": ("location_group_id",),
    "location_group_stops": ("location_group_id", "stop_id"),
    "booking_rules": ("booking_rule_id", "prior_notice_service_id"),
}

# Shared verbatim by every feed of the region (see the registry contract in feeds/README.md).
REGION_WIDE_COLUMNS = frozenset({"fare_media_id", "rider_category_id", "network_id"})


def namespace_id(feed_id: str, original_id: str) -> str:
    return f"{feed_id}{SEPARATOR}{original_id}"


def split_namespaced_id(namespaced_id: str) -> tuple[str, str]:
    """``"tcl:T1"`` -> ``("tcl", "T1")``; original ids may themselves contain colons."""
    feed_id, _, original = namespaced_id.partition(SEPARATOR)
    return feed_id, original


def namespace_column(feed_id: str, series: pd.Series) -> pd.Series:
    """Prefix every non-empty cell (empty cells stay empty: "no reference")."""
    prefixed = (feed_id + SEPARATOR) + series.astype(object)
    return prefixed.where(series.astype(object) != "", "")


def namespace_tables(tables: GtfsTables, feed_id: str) -> GtfsTables:
    """A copy of the feed with every id column of `ID_COLUMNS` namespaced by ``feed_id``."""
    renamed = {}
    for stem, frame in tables.tables.items():
        columns = [c for c in ID_COLUMNS.get(stem, ()) if c in frame.columns]
        if not columns:
            renamed[stem] = frame
            continue
        frame = frame.copy()
        for column in columns:
            frame[column] = namespace_column(feed_id, frame[column])
        renamed[stem] = frame
    return GtfsTables(source=tables.source, tables=renamed, extra_files=tables.extra_files)
