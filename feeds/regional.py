"""Validation of the regional combined fare products (the folder named by `region.regional_fares`).

These Fares v2 files are not a feed: they combine networks of several feeds, so their references
are checked against the registry (every network_id must be a registry network) as well as inside
the folder, and the clearing extension `fare_product_networks.txt` must give each product shares
of its networks that sum to 1000 permille. Same issue vocabulary and report as feed validation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from feeds.authorities import Registry
from feeds.gtfs.issues import Issue, IssueCode, Severity, issues_for_rows
from feeds.gtfs.reader import GtfsReadError, GtfsTables, read_gtfs
from feeds.gtfs.rules import not_in, to_numbers
from feeds.gtfs.rules.fares import check_fares_v2
from feeds.gtfs.rules.files import check_required_files_and_fields
from feeds.gtfs.rules.identifiers import check_duplicate_ids
from feeds.validate import ValidationReport

__all__ = ["validate_regional_fares", "REGIONAL_FEED_ID"]

REGIONAL_FEED_ID = "regional-fares"
_PERMILLE = 1000


def validate_regional_fares(folder: Path, registry: Registry) -> ValidationReport:
    try:
        tables = read_gtfs(folder)
    except GtfsReadError as error:
        issue = Issue(IssueCode.UNREADABLE_FEED, Severity.FATAL, error.file, None, None, None, None,
                      f"the regional fares cannot be read: {error}")
        return ValidationReport(feed_id=REGIONAL_FEED_ID, issues=(issue,))
    issues: list[Issue] = []
    for stem in ("fare_products", "fare_leg_rules", "fare_product_networks"):
        if not tables.has(stem):
            issues.append(Issue(IssueCode.MISSING_FILE, Severity.FATAL, f"{stem}.txt", None, None, None, None,
                                f"the regional fares folder has no {stem}.txt"))
    # feed-level rules that apply to a fares-only folder (core GTFS files are not expected here)
    issues += [i for i in check_required_files_and_fields(tables) if i.code is not IssueCode.MISSING_FILE]
    issues += check_duplicate_ids(tables)
    issues += check_fares_v2(tables)
    known_networks = pd.Index([n.id for n in registry.list_networks()])
    for stem in ("networks", "fare_leg_rules", "fare_product_networks"):
        column = tables.column(stem, "network_id")
        if column is None:
            continue
        issues += issues_for_rows(
            tables.get(stem), not_in(column, known_networks), code=IssueCode.UNKNOWN_REFERENCE,
            severity=Severity.FATAL, file=f"{stem}.txt", field="network_id", entity_column=None,
            message=lambda value, _e, s=stem: f"{s}.txt names network {value!r}, which is not in the registry",
        )
    issues += _check_shares(tables)
    counts = {stem: len(tables.get(stem)) for stem in ("fare_products", "fare_leg_rules", "fare_product_networks")
              if tables.has(stem)}
    return ValidationReport(feed_id=REGIONAL_FEED_ID, issues=tuple(issues), counts=counts)


def _check_shares(tables: GtfsTables) -> list[Issue]:
    shares = tables.find("fare_product_networks")
    if shares is None or not {"fare_product_id", "network_id", "share_permille"} <= set(shares.columns):
        return []
    issues: list[Issue] = []
    products = tables.column("fare_products", "fare_product_id")
    if products is not None:
        issues += issues_for_rows(
            shares, not_in(shares["fare_product_id"], pd.Index(products.unique())),
            code=IssueCode.UNKNOWN_REFERENCE, severity=Severity.FATAL, file="fare_product_networks.txt",
            field="fare_product_id", entity_column=None,
            message=lambda value, _e: f"shares are given for fare product {value!r}, which fare_products.txt "
            "does not define",
        )
    permille = to_numbers(shares["share_permille"])
    bad = ~np.isfinite(permille) | (permille < 0) | (permille > _PERMILLE)
    issues += issues_for_rows(
        shares, bad, code=IssueCode.MISSING_VALUE, severity=Severity.FATAL, file="fare_product_networks.txt",
        field="share_permille", entity_column="fare_product_id",
        message=lambda value, product: f"product {product} has share_permille {value!r}; it must be 0..1000",
    )
    totals = pd.Series(np.nan_to_num(permille), index=shares.index).groupby(shares["fare_product_id"]).sum()
    for product, total in totals.items():
        if total != _PERMILLE:
            issues.append(Issue(IssueCode.MISSING_VALUE, Severity.FATAL, "fare_product_networks.txt", None,
                                str(product), "share_permille", f"{total:g}",
                                f"the shares of product {product} sum to {total:g} permille, not 1000: clearing "
                                "would create or lose money"))
    return issues
