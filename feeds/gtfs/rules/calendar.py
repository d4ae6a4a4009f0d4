"""Service calendar: parseable dates, sane ranges, services that run, and the feed's coverage.

Coverage is judged against ``today`` (a date in the feed's time zone, passed in by the caller;
rules never read the clock). An expired feed is still the best data we have, so it is a warning,
not a rejection; the report says it plainly so an operator chases the publisher.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from feeds.gtfs.issues import Issue, IssueCode, Severity, issues_for_rows
from feeds.gtfs.reader import GtfsTables, parse_gtfs_dates
from feeds.gtfs.rules._common import blank
from feeds.gtfs.service_days import read_service_days

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MIN_COVERAGE_DAYS = 7


def get_validity_range(tables: GtfsTables) -> tuple[dt.date | None, dt.date | None]:
    """First and last service day the feed describes (calendar ranges and added dates)."""
    starts: list[pd.Timestamp] = []
    ends: list[pd.Timestamp] = []
    calendar = tables.find("calendar")
    if calendar is not None and {"start_date", "end_date"} <= set(calendar.columns) and len(calendar):
        starts.append(parse_gtfs_dates(calendar["start_date"]).min())
        ends.append(parse_gtfs_dates(calendar["end_date"]).max())
    dates = tables.find("calendar_dates")
    if dates is not None and {"date", "exception_type"} <= set(dates.columns) and len(dates):
        added = parse_gtfs_dates(dates.loc[dates["exception_type"].str.strip() == "1", "date"])
        if len(added):
            starts.append(added.min())
            ends.append(added.max())
    starts = [s for s in starts if not pd.isna(s)]
    ends = [e for e in ends if not pd.isna(e)]
    return (min(starts).date() if starts else None, max(ends).date() if ends else None)


def check_calendar(tables: GtfsTables, *, today: dt.date | None = None) -> list[Issue]:
    issues: list[Issue] = []
    calendar = tables.find("calendar")
    if calendar is not None and len(calendar) and {"service_id", "start_date", "end_date"} <= set(calendar.columns):
        start = parse_gtfs_dates(calendar["start_date"])
        end = parse_gtfs_dates(calendar["end_date"])
        for name, parsed in (("start_date", start), ("end_date", end)):
            issues += issues_for_rows(
                calendar, parsed.isna().to_numpy(), code=IssueCode.INVALID_DATE, severity=Severity.FATAL,
                file="calendar.txt", field=name, entity_column="service_id",
                message=lambda value, service, n=name: f"service {service} has {n} {value!r}, not a YYYYMMDD date",
            )
        inverted = (end < start).to_numpy()
        issues += issues_for_rows(
            calendar, inverted, code=IssueCode.INVERTED_DATE_RANGE, severity=Severity.FATAL, file="calendar.txt",
            field="end_date", entity_column="service_id",
            message=lambda value, service: f"service {service} ends ({value}) before it starts",
        )
        for day in WEEKDAYS:
            if day in calendar.columns:
                bad = ~calendar[day].str.strip().isin(["0", "1"]).to_numpy()
                issues += issues_for_rows(
                    calendar, bad, code=IssueCode.MISSING_VALUE, severity=Severity.FATAL, file="calendar.txt",
                    field=day, entity_column="service_id",
                    message=lambda value, service, d=day: f"service {service} has {d}={value!r}; it must be 0 or 1",
                )

    dates = tables.find("calendar_dates")
    if dates is not None and len(dates) and {"service_id", "date", "exception_type"} <= set(dates.columns):
        parsed = parse_gtfs_dates(dates["date"])
        issues += issues_for_rows(
            dates, parsed.isna().to_numpy(), code=IssueCode.INVALID_DATE, severity=Severity.FATAL,
            file="calendar_dates.txt", field="date", entity_column="service_id",
            message=lambda value, service: f"service {service} has date {value!r}, not a YYYYMMDD date",
        )
        kind = dates["exception_type"].str.strip()
        issues += issues_for_rows(
            dates, ~kind.isin(["1", "2"]).to_numpy(), code=IssueCode.MISSING_VALUE, severity=Severity.FATAL,
            file="calendar_dates.txt", field="exception_type", entity_column="service_id",
            message=lambda value, service: f"service {service} has exception_type {value!r}; it must be 1 or 2",
        )

    service_days = read_service_days(tables)  # the reading every consumer uses
    active_days = dict(zip(service_days.service_ids, service_days.days.sum(axis=1).tolist(), strict=True))
    issues += _services_without_days(tables, active_days)
    issues += _coverage(tables, today)
    return issues


def _services_without_days(tables: GtfsTables, active_days: dict[str, int]) -> list[Issue]:
    trips = tables.find("trips")
    if trips is None or "service_id" not in trips.columns or not active_days:
        return []
    idle = {service for service, days in active_days.items() if days <= 0}
    if not idle:
        return []
    used = trips.drop_duplicates("service_id")
    mask = used["service_id"].str.strip().isin(idle).to_numpy() & ~blank(used["service_id"])
    return issues_for_rows(
        used, mask, code=IssueCode.SERVICE_WITHOUT_DAYS, severity=Severity.WARNING, file="trips.txt",
        field="service_id", entity_column="trip_id",
        message=lambda value, _t: f"service {value} never runs (no active day), so its trips never run",
    )


def _coverage(tables: GtfsTables, today: dt.date | None) -> list[Issue]:
    if today is None:
        return []
    first, last = get_validity_range(tables)
    if last is None:
        return []
    if last < today:
        return [Issue(IssueCode.FEED_EXPIRED, Severity.WARNING, "calendar.txt", None, None, "end_date",
                      last.isoformat(), f"the feed's service ended on {last.isoformat()}; it has no trips from "
                      f"{today.isoformat()} on")]
    issues: list[Issue] = []
    if first is not None and first > today:
        issues.append(Issue(IssueCode.FEED_NOT_STARTED, Severity.INFO, "calendar.txt", None, None, "start_date",
                            first.isoformat(), f"the feed's service starts on {first.isoformat()}, in the future"))
    if (last - today).days < MIN_COVERAGE_DAYS:
        issues.append(Issue(IssueCode.SHORT_CALENDAR_COVERAGE, Severity.WARNING, "calendar.txt", None, None,
                            "end_date", last.isoformat(),
                            f"the feed's service ends on {last.isoformat()}, less than {MIN_COVERAGE_DAYS} days away"))
    return issues
