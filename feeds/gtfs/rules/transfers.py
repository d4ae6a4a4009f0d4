"""transfers.txt: known transfer types and usable minimum transfer times.

The planner honours min_transfer_time (type 2) and never connects type 3 (forbidden) pairs, so a
bad value would silently change journeys; still, a bad transfer row only affects that pair, so
these are warnings and the row is ignored downstream.
"""

from __future__ import annotations

import numpy as np

from feeds.gtfs.issues import Issue, IssueCode, Severity, issues_for_rows
from feeds.gtfs.reader import GtfsTables
from feeds.gtfs.rules._common import blank, to_numbers

TRANSFER_TYPES = frozenset({0, 1, 2, 3, 4, 5})


def check_transfers(tables: GtfsTables) -> list[Issue]:
    transfers = tables.find("transfers")
    if transfers is None or len(transfers) == 0 or "transfer_type" not in transfers.columns:
        return []
    kind = to_numbers(transfers["transfer_type"])
    kind = np.where(blank(transfers["transfer_type"]), 0, kind)  # empty means 0 (recommended)
    unknown = ~np.isin(np.nan_to_num(kind, nan=-1), list(TRANSFER_TYPES))
    issues = issues_for_rows(
        transfers, unknown, code=IssueCode.INVALID_TRANSFER_TYPE, severity=Severity.WARNING, file="transfers.txt",
        field="transfer_type", entity_column="from_stop_id",
        message=lambda value, stop: f"transfer from {stop} has transfer_type {value!r}; the row is ignored",
    )
    if "min_transfer_time" in transfers.columns:
        seconds = to_numbers(transfers["min_transfer_time"])
        filled = ~blank(transfers["min_transfer_time"])
        bad = filled & ~(np.isfinite(seconds) & (seconds >= 0))
        missing = (kind == 2) & ~filled
        issues += issues_for_rows(
            transfers, bad | missing, code=IssueCode.MISSING_VALUE, severity=Severity.WARNING,
            file="transfers.txt", field="min_transfer_time", entity_column="from_stop_id",
            message=lambda value, stop: f"transfer from {stop} needs a min_transfer_time in seconds, has {value!r}",
        )
    return issues
