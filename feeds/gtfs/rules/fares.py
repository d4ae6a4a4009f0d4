"""GTFS Fares v2 references: products, media, rider categories, networks, areas, timeframes.

Ticketing sells from these tables, so a dangling reference would price or sell the wrong thing:
every broken Fares v2 reference is fatal. Region-wide ids (fare media `oura-card`, rider category
`adult`, ...) are declared by each feed in its own fare_media.txt / rider_categories.txt, so they
are checked inside the feed like any other id.
"""

from __future__ import annotations

import numpy as np

from feeds.gtfs.issues import Issue, IssueCode, Severity, issues_for_rows
from feeds.gtfs.reader import GtfsTables
from feeds.gtfs.rules._common import blank, to_numbers
from feeds.gtfs.rules.references import check_reference

FARES_V2_REFERENCES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("fare_leg_rules", "fare_product_id", (("fare_products", "fare_product_id"),)),
    ("fare_leg_rules", "network_id", (("networks", "network_id"), ("routes", "network_id"),
                                      ("route_networks", "network_id"))),
    ("fare_leg_rules", "from_area_id", (("areas", "area_id"),)),
    ("fare_leg_rules", "to_area_id", (("areas", "area_id"),)),
    ("fare_leg_rules", "from_timeframe_group_id", (("timeframes", "timeframe_group_id"),)),
    ("fare_leg_rules", "to_timeframe_group_id", (("timeframes", "timeframe_group_id"),)),
    ("fare_products", "fare_media_id", (("fare_media", "fare_media_id"),)),
    ("fare_products", "rider_category_id", (("rider_categories", "rider_category_id"),)),
    ("fare_transfer_rules", "from_leg_group_id", (("fare_leg_rules", "leg_group_id"),)),
    ("fare_transfer_rules", "to_leg_group_id", (("fare_leg_rules", "leg_group_id"),)),
    ("fare_transfer_rules", "fare_product_id", (("fare_products", "fare_product_id"),)),
    ("stop_areas", "area_id", (("areas", "area_id"),)),
    ("stop_areas", "stop_id", (("stops", "stop_id"),)),
    ("route_networks", "route_id", (("routes", "route_id"),)),
    ("route_networks", "network_id", (("networks", "network_id"),)),
    ("timeframes", "service_id", (("calendar", "service_id"), ("calendar_dates", "service_id"))),
)


def check_fares_v2(tables: GtfsTables) -> list[Issue]:
    issues: list[Issue] = []
    for child, column, parents in FARES_V2_REFERENCES:
        if child == "route_networks" and column == "network_id" and not tables.has("networks"):
            continue  # networks.txt is optional when route_networks names the networks
        issues += check_reference(tables, child, column, parents, Severity.FATAL)
    products = tables.find("fare_products")
    if products is not None and "amount" in products.columns and len(products):
        amount = to_numbers(products["amount"])
        bad = ~blank(products["amount"]) & ~np.isfinite(amount)
        issues += issues_for_rows(
            products, bad, code=IssueCode.INVALID_FARE_AMOUNT, severity=Severity.FATAL, file="fare_products.txt",
            field="amount", entity_column="fare_product_id",
            message=lambda value, product: f"fare product {product} has amount {value!r}, not a number",
        )
    return issues
