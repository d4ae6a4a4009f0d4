"""Data-quality issues of a static feed, as values.

Validation never raises for bad data: every rule returns `Issue`s, the report counts them, and
ingestion decides from their severity. An issue points at the place a publisher would fix it
(file, line, entity id, field, offending value) and says what is wrong in plain words.

``row`` is the line number in the file as a text editor shows it (the header is line 1, so the
first data row is line 2). Rules cap the issues they emit per code (`MAX_EXAMPLES_PER_CODE`);
the last issue of a capped series stands for the rest through its ``count``, so totals stay exact
while a feed with 400,000 bad rows does not produce 400,000 objects.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Issue", "IssueCode", "Severity", "MAX_EXAMPLES_PER_CODE", "issues_for_rows"]

MAX_EXAMPLES_PER_CODE = 50


class Severity(enum.StrEnum):
    """FATAL rejects the version; WARNING is stored and shown; INFO is a noteworthy fact."""

    FATAL = "fatal"
    WARNING = "warning"
    INFO = "info"


class IssueCode(enum.StrEnum):
    # archive and files
    UNREADABLE_FEED = "unreadable_feed"
    NOT_A_FEED = "not_a_feed"
    MEMBER_TOO_LARGE = "member_too_large"  # archive limits (`feeds.gtfs.archive`): zip bombs
    FEED_TOO_LARGE = "feed_too_large"
    COMPRESSION_RATIO_EXCEEDED = "compression_ratio_exceeded"
    TOO_MANY_MEMBERS = "too_many_members"
    NESTED_ARCHIVE = "nested_archive"
    UNSAFE_MEMBER_NAME = "unsafe_member_name"
    MISSING_FILE = "missing_file"
    EMPTY_FILE = "empty_file"
    MISSING_FIELD = "missing_field"
    MISSING_VALUE = "missing_value"
    # identifiers and references
    DUPLICATE_ID = "duplicate_id"
    UNKNOWN_REFERENCE = "unknown_reference"
    UNUSED_ENTITY = "unused_entity"
    TRIP_WITHOUT_STOP_TIMES = "trip_without_stop_times"
    # stop_times
    INVALID_STOP_SEQUENCE = "invalid_stop_sequence"
    DUPLICATE_STOP_SEQUENCE = "duplicate_stop_sequence"
    INVALID_TIME = "invalid_time"
    MISSING_TRIP_EDGE_TIME = "missing_trip_edge_time"
    DEPARTURE_BEFORE_ARRIVAL = "departure_before_arrival"
    NON_MONOTONIC_TIMES = "non_monotonic_times"
    TIME_PAST_24H = "time_past_24h"
    EXCESSIVE_TIME = "excessive_time"
    FLEX_STOP_TIMES = "flex_stop_times"
    # calendar
    INVALID_DATE = "invalid_date"
    INVERTED_DATE_RANGE = "inverted_date_range"
    SERVICE_WITHOUT_DAYS = "service_without_days"
    FEED_EXPIRED = "feed_expired"
    FEED_NOT_STARTED = "feed_not_started"
    SHORT_CALENDAR_COVERAGE = "short_calendar_coverage"
    # stops
    INVALID_COORDINATES = "invalid_coordinates"
    ZERO_COORDINATES = "zero_coordinates"
    STOP_FAR_FROM_NETWORK = "stop_far_from_network"
    # routes
    INVALID_ROUTE_TYPE = "invalid_route_type"
    UNKNOWN_ROUTE_TYPE = "unknown_route_type"
    # fares
    INVALID_FARE_AMOUNT = "invalid_fare_amount"
    # transfers
    INVALID_TRANSFER_TYPE = "invalid_transfer_type"


@dataclass(frozen=True, slots=True)
class Issue:
    code: IssueCode
    severity: Severity
    file: str | None
    row: int | None
    entity_id: str | None
    field: str | None
    value: str | None
    message: str
    count: int = 1  # how many occurrences this issue stands for (>1 only on a capped series' last issue)

    @property
    def fatal(self) -> bool:
        return self.severity is Severity.FATAL


def issues_for_rows(
    frame: pd.DataFrame,
    mask: np.ndarray | pd.Series,
    *,
    code: IssueCode,
    severity: Severity,
    file: str,
    field: str | None,
    entity_column: str | None,
    message: Callable[[str, str | None], str],
) -> list[Issue]:
    """Issues for the rows of ``frame`` selected by ``mask``, capped at `MAX_EXAMPLES_PER_CODE`.

    ``message(value, entity_id)`` words one issue. Row numbers come from the frame's index (the
    position in the file as read), so rules may filter and sort frames freely.
    """
    selected = np.flatnonzero(np.asarray(mask, dtype=bool))
    total = len(selected)
    if total == 0:
        return []
    shown = selected[:MAX_EXAMPLES_PER_CODE]
    positions = frame.index.to_numpy()[shown]
    values = frame[field].to_numpy()[shown] if field and field in frame.columns else [None] * len(shown)
    entities = (
        frame[entity_column].to_numpy()[shown]
        if entity_column and entity_column in frame.columns
        else [None] * len(shown)
    )
    issues: list[Issue] = []
    for index, (position, value, entity) in enumerate(zip(positions, values, entities, strict=True)):
        last = index == len(shown) - 1
        rest = total - len(shown)
        text = message(value, entity)
        if last and rest:
            text = f"{text} (and {rest} more rows like this)"
        issues.append(
            Issue(
                code=code,
                severity=severity,
                file=file,
                row=int(position) + 2,
                entity_id=None if entity is None else str(entity),
                field=field,
                value=None if value is None else str(value),
                message=text,
                count=1 + rest if last else 1,
            )
        )
    return issues


def count_issues(issues: Iterable[Issue]) -> dict[str, int]:
    """Occurrences per code (capped series counted in full)."""
    counts: dict[str, int] = {}
    for issue in issues:
        counts[issue.code.value] = counts.get(issue.code.value, 0) + issue.count
    return counts
