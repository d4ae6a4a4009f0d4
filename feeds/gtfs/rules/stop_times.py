"""stop_times: sequence order, parseable times and times that never go backwards along a trip.

Rows are ordered by (trip, stop_sequence) once, with numpy, and every check is a comparison of
neighbouring rows; nothing loops over rows in Python.

Decisions:
- A trip's first and last fixed stops must have times (the spec requires them; interpolation
  needs both ends). Intermediate empty times are allowed (interpolated downstream).
- Time travel (a stop reached before the previous stop's departure) is fatal: the planner would
  build impossible connections. Equal consecutive times are fine (dense urban stops).
- Times past 24:00 are normal GTFS (service after midnight) and are only reported as a fact;
  times past 48:00 are suspicious and warned about.
- GTFS-Flex rows (no stop_id, a location_group_id/location_id, pickup windows instead of times)
  are not errors: they are counted in one warning and skipped by every fixed-route check, as
  fixed-route consumers (the planner) skip them too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feeds.gtfs.issues import Issue, IssueCode, Severity, issues_for_rows
from feeds.gtfs.reader import GtfsTables, parse_factorized_gtfs_times
from feeds.gtfs.rules._common import blank, factorize, summary_issue, to_numbers

_FILE = "stop_times.txt"
SECONDS_PER_DAY = 86_400


def find_flex_rows(stop_times: pd.DataFrame) -> np.ndarray:
    """True for GTFS-Flex rows: no stop_id but a Flex location (group) to serve."""
    located = np.zeros(len(stop_times), dtype=bool)
    for column in ("location_group_id", "location_id"):
        if column in stop_times.columns:
            located |= ~blank(stop_times[column])
    if "stop_id" not in stop_times.columns:
        return located
    return located & blank(stop_times["stop_id"])


def check_stop_times(tables: GtfsTables) -> list[Issue]:
    frame = tables.find("stop_times")
    if frame is None or len(frame) == 0 or "trip_id" not in frame.columns or "stop_sequence" not in frame.columns:
        return []
    issues: list[Issue] = []
    flex = find_flex_rows(frame)
    issues += summary_issue(
        frame, flex, code=IssueCode.FLEX_STOP_TIMES, severity=Severity.WARNING, file=_FILE, field="stop_id",
        entity_column="trip_id",
        message=f"{int(flex.sum())} GTFS-Flex stop_times (service areas with pickup windows, no fixed stop or time)"
        " are kept but ignored by fixed-route journey planning",
    )

    sequence = to_numbers(frame["stop_sequence"])
    bad_sequence = ~np.isfinite(sequence) | (sequence < 0) | (np.mod(np.nan_to_num(sequence), 1) != 0)
    issues += issues_for_rows(
        frame, bad_sequence, code=IssueCode.INVALID_STOP_SEQUENCE, severity=Severity.FATAL, file=_FILE,
        field="stop_sequence", entity_column="trip_id",
        message=lambda value, trip: f"trip {trip} has stop_sequence {value!r}, which is not a non-negative integer",
    )

    arrival_text = frame["arrival_time"] if "arrival_time" in frame.columns else pd.Series([""] * len(frame))
    departure_text = frame["departure_time"] if "departure_time" in frame.columns else pd.Series([""] * len(frame))
    arrival = parse_factorized_gtfs_times(*factorize(arrival_text))
    departure = parse_factorized_gtfs_times(*factorize(departure_text))
    for name, text, parsed in (("arrival_time", arrival_text, arrival), ("departure_time", departure_text, departure)):
        if name not in frame.columns:
            continue
        malformed = np.zeros(len(frame), dtype=bool)
        unparsed = np.flatnonzero(parsed < 0)
        malformed[unparsed] = ~blank(text.iloc[unparsed])
        issues += issues_for_rows(
            frame, malformed, code=IssueCode.INVALID_TIME, severity=Severity.FATAL, file=_FILE, field=name,
            entity_column="trip_id",
            message=lambda value, trip, n=name: f"trip {trip} has {n} {value!r}, which is not a time like 08:05:00",
        )

    fixed = ~flex & ~bad_sequence
    issues += _check_order_and_times(frame, fixed, sequence, arrival, departure)

    latest = np.maximum(arrival, departure)
    issues += summary_issue(
        frame, fixed & (latest >= SECONDS_PER_DAY), code=IssueCode.TIME_PAST_24H, severity=Severity.INFO,
        file=_FILE, field="departure_time", entity_column="trip_id",
        message=f"{int((fixed & (latest >= SECONDS_PER_DAY)).sum())} stop_times are past 24:00"
        " (trips running after midnight on their service day)",
    )
    issues += issues_for_rows(
        frame, fixed & (latest >= 2 * SECONDS_PER_DAY), code=IssueCode.EXCESSIVE_TIME, severity=Severity.WARNING,
        file=_FILE, field="departure_time", entity_column="trip_id",
        message=lambda value, trip: f"trip {trip} has time {value!r}, more than 48 hours after its service day starts",
    )
    return issues


def _check_order_and_times(
    frame: pd.DataFrame, fixed: np.ndarray, sequence: np.ndarray, arrival: np.ndarray, departure: np.ndarray
) -> list[Issue]:
    issues: list[Issue] = []
    rows = np.flatnonzero(fixed)
    if len(rows) == 0:
        return issues
    trip_codes = factorize(frame["trip_id"])[0][rows]
    order = np.lexsort((sequence[rows], trip_codes))
    rows, trip = rows[order], trip_codes[order]
    seq, arr, dep = sequence[rows], arrival[rows], departure[rows]

    def in_file_order(mask: np.ndarray) -> np.ndarray:
        """A mask over the sorted rows -> the same rows in the file (no copy of the frame)."""
        selected = np.zeros(len(frame), dtype=bool)
        selected[rows[mask]] = True
        return selected

    same_trip_as_previous = np.zeros(len(rows), dtype=bool)
    same_trip_as_previous[1:] = trip[1:] == trip[:-1]
    duplicate = same_trip_as_previous & np.concatenate(([False], seq[1:] == seq[:-1]))
    issues += issues_for_rows(
        frame, in_file_order(duplicate), code=IssueCode.DUPLICATE_STOP_SEQUENCE, severity=Severity.FATAL, file=_FILE,
        field="stop_sequence", entity_column="trip_id",
        message=lambda value, t: f"trip {t} has two stop_times with stop_sequence {value}",
    )

    first = ~same_trip_as_previous
    last = np.concatenate((~same_trip_as_previous[1:], [True]))
    edge_without_time = (first | last) & ((arr < 0) | (dep < 0))
    issues += issues_for_rows(
        frame, in_file_order(edge_without_time), code=IssueCode.MISSING_TRIP_EDGE_TIME, severity=Severity.FATAL, file=_FILE,
        field="stop_sequence", entity_column="trip_id",
        message=lambda value, t: f"trip {t} has no arrival/departure time at its first or last stop (sequence {value})",
    )

    both = (arr >= 0) & (dep >= 0)
    issues += issues_for_rows(
        frame, in_file_order(both & (dep < arr)), code=IssueCode.DEPARTURE_BEFORE_ARRIVAL, severity=Severity.FATAL, file=_FILE,
        field="departure_time", entity_column="trip_id",
        message=lambda value, t: f"trip {t} departs at {value} before it arrives at the same stop",
    )

    # Earliest known time at each stop vs the latest known departure before it on the same trip.
    reached = np.where(arr >= 0, arr, dep)
    left = np.where(dep >= 0, dep, arr)
    timed = left >= 0
    position = np.arange(len(rows))
    last_timed = np.maximum.accumulate(np.where(timed, position, -1))
    previous = np.concatenate(([-1], last_timed[:-1]))
    has_previous = (previous >= 0) & (trip[np.maximum(previous, 0)] == trip)
    backwards = has_previous & (reached >= 0) & (reached < left[np.maximum(previous, 0)])
    issues += issues_for_rows(
        frame, in_file_order(backwards), code=IssueCode.NON_MONOTONIC_TIMES, severity=Severity.FATAL, file=_FILE,
        field="arrival_time", entity_column="trip_id",
        message=lambda value, t: f"trip {t} reaches a stop at {value}, before it left the previous stop",
    )
    return issues
