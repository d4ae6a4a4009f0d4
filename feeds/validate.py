"""Validate one static feed: run every rule, count what the feed holds, decide accept or reject.

`validate_feed` is pure and synchronous (call it in an executor from async code). It never raises
for bad data; an unreadable archive becomes a fatal issue through `validate_path`. The report's
`summary()` is what `oura feeds report` prints: plain words first (accepted or rejected, and why),
then the issue counts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from feeds.gtfs.issues import Issue, IssueCode, Severity
from feeds.gtfs.reader import ArchiveLimits, ArchiveRejected, GtfsReadError, GtfsTables
from feeds.gtfs.rules import shared_factorizations
from feeds.gtfs.rules import (
    check_calendar,
    check_duplicate_ids,
    check_fares_v2,
    check_references,
    check_required_files_and_fields,
    check_route_types,
    check_stop_locations,
    check_stop_times,
    check_transfers,
    find_flex_rows,
    get_validity_range,
)

__all__ = ["ValidationReport", "validate_feed", "validate_path", "count_entities", "sniff_content"]

COUNTED_FILES = ("agency", "routes", "stops", "trips", "stop_times", "shapes", "transfers", "frequencies",
                 "fare_products", "fare_leg_rules")

_SHOWN_IN_SUMMARY = 5


@dataclass(frozen=True)
class ValidationReport:
    feed_id: str
    issues: tuple[Issue, ...]
    counts: Mapping[str, int] = field(default_factory=dict)  # file stem -> rows (plus "flex_stop_times")
    validity_start: dt.date | None = None
    validity_end: dt.date | None = None

    @property
    def fatal(self) -> bool:
        return any(issue.fatal for issue in self.issues)

    @property
    def status(self) -> str:
        return "rejected" if self.fatal else "accepted"

    def list_fatal(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.fatal]

    def issue_counts(self) -> dict[str, dict[str, int]]:
        """severity -> code -> occurrences (capped series counted in full)."""
        counts: dict[str, Counter[str]] = {}
        for issue in self.issues:
            counts.setdefault(issue.severity.value, Counter())[issue.code.value] += issue.count
        return {severity: dict(codes) for severity, codes in counts.items()}

    def summary(self) -> str:
        """Plain-words verdict, the reasons for a rejection, and the counts of everything else."""
        lines: list[str] = []
        fatal = self.list_fatal()
        if fatal:
            lines.append(f"Feed {self.feed_id} was REJECTED: {_reason_count(fatal)} make it unusable. "
                         "The previous accepted version (if any) stays in service.")
            lines += _examples(fatal)
        else:
            span = ""
            if self.validity_start and self.validity_end:
                span = f", service from {self.validity_start.isoformat()} to {self.validity_end.isoformat()}"
            lines.append(
                f"Feed {self.feed_id} was ACCEPTED: {self.counts.get('routes', 0)} routes, "
                f"{self.counts.get('stops', 0)} stops, {self.counts.get('trips', 0)} trips, "
                f"{self.counts.get('stop_times', 0)} stop_times{span}."
            )
        warnings = [issue for issue in self.issues if issue.severity is Severity.WARNING]
        if warnings:
            lines.append(f"Warnings ({sum(i.count for i in warnings)}), stored but not blocking:")
            lines += _examples(warnings)
        infos = [issue for issue in self.issues if issue.severity is Severity.INFO]
        for issue in infos:
            lines.append(f"  note: {issue.message}")
        return "\n".join(lines)


def _reason_count(issues: list[Issue]) -> str:
    total = sum(issue.count for issue in issues)
    return "1 problem" if total == 1 else f"{total} problems"


def _examples(issues: list[Issue]) -> list[str]:
    """Per code: total and the first few examples with their place in the feed."""
    lines: list[str] = []
    by_code: dict[IssueCode, list[Issue]] = {}
    for issue in issues:
        by_code.setdefault(issue.code, []).append(issue)
    for code, group in by_code.items():
        total = sum(issue.count for issue in group)
        lines.append(f"  - {code.value} ({total}):")
        for issue in group[:_SHOWN_IN_SUMMARY]:
            where = issue.file or ""
            if issue.row is not None:
                where += f" line {issue.row}"
            lines.append(f"      {where}: {issue.message}" if where else f"      {issue.message}")
        if len(group) > _SHOWN_IN_SUMMARY:
            lines.append(f"      ... {total - sum(i.count for i in group[:_SHOWN_IN_SUMMARY])} more")
    return lines


def count_entities(tables: GtfsTables) -> dict[str, int]:
    counts = {stem: len(tables.get(stem)) for stem in COUNTED_FILES if tables.has(stem)}
    stop_times = tables.find("stop_times")
    if stop_times is not None and len(stop_times):
        counts["flex_stop_times"] = int(find_flex_rows(stop_times).sum())
    return counts


def validate_feed(tables: GtfsTables, *, feed_id: str, today: dt.date | None = None) -> ValidationReport:
    """Run every rule on the feed. ``today`` (feed time zone) enables the coverage checks."""
    issues: list[Issue] = []
    with shared_factorizations():
        issues += check_required_files_and_fields(tables)
        issues += check_duplicate_ids(tables)
        issues += check_references(tables)
        issues += check_stop_times(tables)
        issues += check_calendar(tables, today=today)
        issues += check_stop_locations(tables)
        issues += check_route_types(tables)
        issues += check_transfers(tables)
        issues += check_fares_v2(tables)
        counts = count_entities(tables)
    start, end = get_validity_range(tables)
    return ValidationReport(feed_id=feed_id, issues=tuple(issues), counts=counts,
                            validity_start=start, validity_end=end)


def sniff_content(path: Path) -> str | None:
    """Name what a file that is not a zip actually is (HTML error page, JSON, text), if recognisable."""
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError:
        return None
    text = head.lstrip().lower()
    if text.startswith(b"<!doctype html") or text.startswith(b"<html") or b"<html" in text[:200]:
        return "an HTML page (probably an error or login page served instead of the feed)"
    if text.startswith(b"{") or text.startswith(b"["):
        return "a JSON document"
    if not head:
        return "an empty file"
    return None


def validate_path(
    path: Path, *, feed_id: str, today: dt.date | None = None, adapter: str | None = None,
    limits: ArchiveLimits = ArchiveLimits(),
) -> tuple[GtfsTables | None, ValidationReport]:
    """Read (and adapt, see `feeds.adapters`) then validate the feed at ``path``; unreadable input
    becomes one fatal issue.

    The feed is untrusted, so reading is bounded by ``limits`` (`FeedsConfig`'s in ingestion): a
    zip bomb, a nested archive or an unsafe member name is one fatal issue naming the member and
    its declared and actual sizes, found before the feed is inflated.
    """
    from feeds.adapters import UnknownAdapter, read_network_feed

    try:
        tables = read_network_feed(path, adapter, limits=limits)
    except UnknownAdapter as error:
        issue = Issue(IssueCode.UNREADABLE_FEED, Severity.FATAL, None, None, None, None, None,
                      f"the registry names an adapter that cannot be used: {error}")
        return None, ValidationReport(feed_id=feed_id, issues=(issue,))
    except ArchiveRejected as error:
        return None, ValidationReport(feed_id=feed_id, issues=(_archive_issue(error),))
    except GtfsReadError as error:
        what = sniff_content(path) if path.is_file() else None
        if what:
            issue = Issue(IssueCode.NOT_A_FEED, Severity.FATAL, error.file, None, None, None, None,
                          f"the download is {what}, not a GTFS zip archive")
        else:
            issue = Issue(IssueCode.UNREADABLE_FEED, Severity.FATAL, error.file, None, None, None, None,
                          f"the feed cannot be read: {error}")
        return None, ValidationReport(feed_id=feed_id, issues=(issue,))
    except MemoryError:
        # The last resort when the limits are set above what this machine holds: a report, not a crash.
        issue = Issue(IssueCode.FEED_TOO_LARGE, Severity.FATAL, None, None, None, None, None,
                      "the feed does not fit in memory once decompressed; lower feeds.max_member_uncompressed_bytes "
                      "and feeds.max_feed_uncompressed_bytes to reject such feeds before reading them")
        return None, ValidationReport(feed_id=feed_id, issues=(issue,))
    return tables, validate_feed(tables, feed_id=feed_id, today=today)


def _archive_issue(error: ArchiveRejected) -> Issue:
    """One fatal issue for an archive limit breach: the member is the file, its sizes (bytes) the value."""
    sizes = [f"{what} {size}" for what, size in (("declared", error.declared_bytes), ("actual", error.actual_bytes),
                                                 ("compressed", error.compressed_bytes)) if size is not None]
    return Issue(error.code, Severity.FATAL, error.file, None, None, None, ", ".join(sizes) or None,
                 f"the feed archive is refused: {error}")
