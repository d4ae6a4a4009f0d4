"""Validation of the real feeds of ../shared/data: every one is accepted, the counts are the ones
their SOURCE.md states, and each feed's documented quirk is handled (Flex rows, BOM/CRLF, leading
space in a header, calendar_dates only, extended route_type, folder feeds, times past 24:00)."""

from __future__ import annotations

import datetime as dt

import pytest

from feeds.gtfs.issues import IssueCode, Severity
from feeds.validate import validate_path
from tests.feeds.conftest import REAL_FEEDS, real_feed_path, source_counts

pytestmark = pytest.mark.realdata


def _occurrences(report, code: IssueCode) -> int:
    return sum(issue.count for issue in report.issues if issue.code is code)


# HART and WMATA take about a second each: slow, so `make test-fast` validates the smaller feeds.
LARGE_FEEDS = {"hart", "wmata"}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name in LARGE_FEEDS else name
                                  for name in sorted(REAL_FEEDS)])
def test_real_feed_is_accepted_with_the_counts_of_its_source(name: str) -> None:
    tables, report = validate_path(real_feed_path(name), feed_id=name)
    assert tables is not None
    assert not report.fatal, report.summary()
    expected = source_counts(name)
    for key in ("agency", "routes", "stops", "trips", "stop_times"):
        if key in expected:
            assert report.counts[key] == expected[key], key
    if "past_24h" in expected:
        assert _occurrences(report, IssueCode.TIME_PAST_24H) == expected["past_24h"]
    assert report.summary().startswith(f"Feed {name} was ACCEPTED")


def test_flex_stop_times_are_warned_about_not_rejected() -> None:
    _, report = validate_path(real_feed_path("ctran"), feed_id="ctran")
    flex = [issue for issue in report.issues if issue.code is IssueCode.FLEX_STOP_TIMES]
    assert len(flex) == 1 and flex[0].severity is Severity.WARNING
    # SOURCE.md: arrival_time, departure_time and stop_id are all empty on every stop_times row
    assert flex[0].count == source_counts("ctran")["stop_times"] == report.counts["flex_stop_times"]


def test_extended_route_type_712_is_accepted() -> None:
    _, report = validate_path(real_feed_path("perigueux"), feed_id="perigueux")
    assert not any(issue.code in (IssueCode.UNKNOWN_ROUTE_TYPE, IssueCode.INVALID_ROUTE_TYPE)
                   for issue in report.issues)


def test_coverage_is_judged_against_the_given_day() -> None:
    path = real_feed_path("transcollines")
    _, after = validate_path(path, feed_id="transcollines", today=dt.date(2027, 1, 1))
    assert any(issue.code is IssueCode.FEED_EXPIRED for issue in after.issues)
    assert not after.fatal  # an expired feed is still the best data there is
    _, during = validate_path(path, feed_id="transcollines", today=dt.date(2026, 3, 1))
    assert not any(issue.code is IssueCode.FEED_EXPIRED for issue in during.issues)
    assert (during.validity_start, during.validity_end) == (dt.date(2026, 1, 5), dt.date(2026, 8, 23))
