"""The broken-feed corpus, made at test time from real feeds: each defect is rejected with a clear
issue that names the file, the line and the offending value. Nothing raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.gtfs.issues import IssueCode, Severity
from feeds.validate import validate_path
from tests.feeds.conftest import edit_cell, feed_members, real_feed_path, rewrite_feed

pytestmark = pytest.mark.realdata


def _fatal_codes(report) -> set[IssueCode]:
    return {issue.code for issue in report.issues if issue.severity is Severity.FATAL}


def _broken(tmp_path: Path, name: str, changes) -> Path:
    return rewrite_feed(real_feed_path(name), tmp_path / "broken.zip", changes)


def test_missing_required_file(tmp_path: Path) -> None:
    _, report = validate_path(_broken(tmp_path, "bullrunner", {"stops.txt": None}), feed_id="usf")
    assert report.fatal
    missing = [i for i in report.issues if i.code is IssueCode.MISSING_FILE]
    assert [i.file for i in missing] == ["stops.txt"]
    assert "REJECTED" in report.summary() and "stops.txt" in report.summary()


def test_dangling_stop_id(tmp_path: Path) -> None:
    path = _broken(tmp_path, "bullrunner", {
        "stop_times.txt": lambda text: edit_cell(text, row=3, column="stop_id", value="no-such-stop")})
    _, report = validate_path(path, feed_id="usf")
    dangling = [i for i in report.issues if i.code is IssueCode.UNKNOWN_REFERENCE and i.fatal]
    assert len(dangling) == 1
    assert (dangling[0].file, dangling[0].row, dangling[0].field, dangling[0].value) == (
        "stop_times.txt", 5, "stop_id", "no-such-stop")


def test_non_monotonic_times(tmp_path: Path) -> None:
    # Row 5 of caltrain's stop_times goes back to 00:01:00, before the previous stop of its trip.
    path = _broken(tmp_path, "caltrain", {
        "stop_times.txt": lambda text: edit_cell(
            edit_cell(text, row=5, column="arrival_time", value="00:01:00"),
            row=5, column="departure_time", value="00:01:00")})
    _, report = validate_path(path, feed_id="ct")
    assert IssueCode.NON_MONOTONIC_TIMES in _fatal_codes(report)
    issue = next(i for i in report.issues if i.code is IssueCode.NON_MONOTONIC_TIMES)
    assert issue.row == 7 and issue.value == "00:01:00"


def test_malformed_time_and_sequence(tmp_path: Path) -> None:
    path = _broken(tmp_path, "bullrunner", {
        "stop_times.txt": lambda text: edit_cell(
            edit_cell(text, row=0, column="arrival_time", value="7h00"), row=2, column="stop_sequence", value="x")})
    _, report = validate_path(path, feed_id="usf")
    assert {IssueCode.INVALID_TIME, IssueCode.INVALID_STOP_SEQUENCE} <= _fatal_codes(report)


def test_garbage_zip(tmp_path: Path) -> None:
    path = tmp_path / "garbage.zip"
    path.write_bytes(bytes(range(256)) * 40)
    tables, report = validate_path(path, feed_id="x")
    assert tables is None and report.fatal
    assert [i.code for i in report.issues] == [IssueCode.UNREADABLE_FEED]


def test_truncated_zip(tmp_path: Path) -> None:
    whole = real_feed_path("bullrunner").read_bytes()
    path = tmp_path / "truncated.zip"
    path.write_bytes(whole[: len(whole) // 2])
    _, report = validate_path(path, feed_id="usf")
    assert report.fatal and report.issues[0].code is IssueCode.UNREADABLE_FEED


def test_html_error_page_instead_of_a_feed(tmp_path: Path) -> None:
    path = tmp_path / "feed.zip"
    path.write_text("<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>")
    _, report = validate_path(path, feed_id="x")
    assert [i.code for i in report.issues] == [IssueCode.NOT_A_FEED]
    assert "HTML page" in report.summary()


def test_duplicate_stop_and_bad_coordinates(tmp_path: Path) -> None:
    members = feed_members(real_feed_path("bullrunner"))
    stops = members["stops.txt"].decode("utf-8-sig")
    first_row = stops.splitlines()[1]
    path = _broken(tmp_path, "bullrunner", {
        "stops.txt": lambda text: edit_cell(text.rstrip("\n") + "\n" + first_row + "\n", row=4, column="stop_lat",
                                            value="128.5")})
    _, report = validate_path(path, feed_id="usf")
    assert {IssueCode.DUPLICATE_ID, IssueCode.INVALID_COORDINATES} <= _fatal_codes(report)


def test_unknown_and_invalid_route_types(tmp_path: Path) -> None:
    path = _broken(tmp_path, "bullrunner", {
        "routes.txt": lambda text: edit_cell(edit_cell(text, row=0, column="route_type", value="712"),
                                             row=1, column="route_type", value="9999")})
    _, report = validate_path(path, feed_id="usf")
    assert not report.fatal  # 712 is an extended type; 9999 is unknown but only a warning
    unknown = [i for i in report.issues if i.code is IssueCode.UNKNOWN_ROUTE_TYPE]
    assert [i.value for i in unknown] == ["9999"]
    path = _broken(tmp_path, "bullrunner", {
        "routes.txt": lambda text: edit_cell(text, row=0, column="route_type", value="bus")})
    _, report = validate_path(path, feed_id="usf")
    assert IssueCode.INVALID_ROUTE_TYPE in _fatal_codes(report)


def test_dangling_fares_v2_reference(tmp_path: Path) -> None:
    path = _broken(tmp_path, "ctran", {
        "fare_leg_rules.txt": lambda text: edit_cell(text, row=0, column="fare_product_id", value="ghost")})
    _, report = validate_path(path, feed_id="ctran")
    dangling = [i for i in report.issues if i.code is IssueCode.UNKNOWN_REFERENCE and i.fatal]
    assert [(i.file, i.field, i.value) for i in dangling] == [("fare_leg_rules.txt", "fare_product_id", "ghost")]


def test_calendar_without_any_service_file_and_inverted_range(tmp_path: Path) -> None:
    path = _broken(tmp_path, "bullrunner", {
        "calendar.txt": lambda text: edit_cell(text, row=0, column="end_date", value="20000101")})
    _, report = validate_path(path, feed_id="usf")
    assert IssueCode.INVERTED_DATE_RANGE in _fatal_codes(report)
    path = _broken(tmp_path, "bullrunner", {"calendar.txt": None, "calendar_dates.txt": None})
    _, report = validate_path(path, feed_id="usf")
    assert IssueCode.MISSING_FILE in _fatal_codes(report)
