"""The fare files of one rule set (a network's feed or the regional folder): which files the
catalogue reads, how their network ids are namespaced, and the data problems reading them
reports (`CatalogueIssue` values: a bad row is reported and skipped)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from feeds.gtfs.model import GtfsTables, read_gtfs

__all__ = ["FARE_FILES", "REGIONAL_FEED_ID", "CatalogueIssue", "CatalogueIssueCode", "load_regional_fares",
           "namespace_network"]

REGIONAL_FEED_ID = "regional"


FARE_FILES = (
    "networks",
    "route_networks",
    "routes",
    "agency",
    "fare_media",
    "rider_categories",
    "fare_products",
    "fare_leg_rules",
    "fare_leg_join_rules",
    "fare_transfer_rules",
    "areas",
    "stops",
    "stop_areas",
    "timeframes",
    "calendar",
    "calendar_dates",
    "fare_product_networks",
)


class CatalogueIssueCode(enum.StrEnum):
    FEED_NOT_AVAILABLE = "feed_not_available"
    BAD_AMOUNT = "bad_amount"
    BAD_NUMBER = "bad_number"
    UNKNOWN_PRODUCT = "unknown_product"
    MISSING_COLUMN = "missing_column"
    BAD_SHARES = "bad_shares"
    DEFAULT_SHARES = "default_shares"
    NO_TIMEZONE = "no_timezone"


@dataclass(frozen=True)
class CatalogueIssue:
    code: CatalogueIssueCode
    feed_id: str
    file: str
    row: int | None = None
    value: str = ""
    message: str = ""


def namespace_network(feed_id: str, network_id: str) -> str:
    """A feed's network id as seen downstream: kept when it is the feed id, else namespaced."""
    if feed_id == REGIONAL_FEED_ID or network_id == feed_id:
        return network_id
    return f"{feed_id}:{network_id}"


def load_regional_fares(path: str | Path) -> GtfsTables:
    """Read the regional combined products folder (Fares v2 files + fare_product_networks.txt)."""
    return read_gtfs(path, only=FARE_FILES)
