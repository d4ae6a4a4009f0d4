"""GTFS service semantics (feeds.gtfs.service_days): service days, day origin, time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from feeds.gtfs.reader import GtfsTables
from feeds.gtfs.service_days import (
    FeedTimezoneError,
    parse_gtfs_date,
    read_service_days,
    resolve_timezone,
    service_day_origin_s,
    service_day_origins_s,
)

PARIS = ZoneInfo("Europe/Paris")


def _tables(**files: list[dict[str, str]]) -> GtfsTables:
    return GtfsTables("inline", {name: pd.DataFrame(rows, dtype=str) for name, rows in files.items()})


WEEKDAYS = {"monday": "1", "tuesday": "1", "wednesday": "1", "thursday": "1", "friday": "1",
            "saturday": "0", "sunday": "0"}


def test_calendar_weekdays_with_the_end_date_inclusive() -> None:
    # 2024-03-25 is a Monday; the range ends on Friday 2024-04-05
    tables = _tables(calendar=[{"service_id": "wk", **WEEKDAYS, "start_date": "20240325", "end_date": "20240405"}])
    days = read_service_days(tables)
    active = days.list_active_dates("wk")
    assert active[0] == dt.date(2024, 3, 25)
    assert active[-1] == dt.date(2024, 4, 5)  # the end date itself runs
    assert len(active) == 10
    assert not days.is_active("wk", dt.date(2024, 3, 30))  # Saturday
    assert not days.is_active("wk", dt.date(2024, 4, 8))  # after the range
    assert not days.is_active("unknown", dt.date(2024, 3, 25))


def test_calendar_dates_add_and_remove() -> None:
    tables = _tables(
        calendar=[{"service_id": "wk", **WEEKDAYS, "start_date": "20240325", "end_date": "20240405"}],
        calendar_dates=[
            {"service_id": "wk", "date": "20240401", "exception_type": "2"},  # Easter Monday off
            {"service_id": "wk", "date": "20240330", "exception_type": "1"},  # one Saturday on
            {"service_id": "extra", "date": "20240501", "exception_type": "1"},  # dates-only service
            {"service_id": "both", "date": "20240502", "exception_type": "1"},
            {"service_id": "both", "date": "20240502", "exception_type": "2"},  # removal wins
        ],
    )
    days = read_service_days(tables)
    assert not days.is_active("wk", dt.date(2024, 4, 1))
    assert days.is_active("wk", dt.date(2024, 3, 30))
    assert days.list_active_dates("extra") == [dt.date(2024, 5, 1)]
    assert days.list_active_dates("both") == []
    assert days.service_ids == ("wk", "extra", "both")
    assert days.first_ordinal == dt.date(2024, 3, 25).toordinal()
    assert days.last_ordinal == dt.date(2024, 5, 2).toordinal()


def test_malformed_rows_are_ignored_and_an_empty_feed_has_no_days() -> None:
    tables = _tables(
        calendar=[{"service_id": "bad", **WEEKDAYS, "start_date": "2024-03-25", "end_date": "20240405"}],
        calendar_dates=[{"service_id": "bad", "date": "20240230", "exception_type": "1"}],
    )
    days = read_service_days(tables)
    assert days.service_ids == ("bad",)
    assert days.day_count == 0 and days.list_active_dates("bad") == []
    assert read_service_days(_tables()).day_count == 0


def test_day_origin_is_noon_minus_12h_on_dst_days_in_paris() -> None:
    ordinary = dt.date(2024, 3, 30)
    spring = dt.date(2024, 3, 31)  # 02:00 -> 03:00: a 23-hour day
    autumn = dt.date(2024, 10, 27)  # 03:00 -> 02:00: a 25-hour day
    midnight = dt.datetime(2024, 3, 30, tzinfo=PARIS).timestamp()
    assert service_day_origin_s(PARIS, ordinary) == midnight
    # on the spring day the origin is 23:00 the evening before, one hour before midnight
    spring_midnight = dt.datetime(2024, 3, 31, tzinfo=PARIS).timestamp()
    assert service_day_origin_s(PARIS, spring) == spring_midnight - 3600
    # so 08:00:00 in GTFS is 08:00 on the wall clock that day
    eight = dt.datetime.fromtimestamp(service_day_origin_s(PARIS, spring) + 8 * 3600, tz=PARIS)
    assert (eight.hour, eight.minute, eight.date()) == (8, 0, spring)
    autumn_midnight = dt.datetime(2024, 10, 27, tzinfo=PARIS).timestamp()
    assert service_day_origin_s("Europe/Paris", autumn) == autumn_midnight + 3600
    origins = service_day_origins_s(PARIS, ordinary.toordinal(), 2)
    assert origins.tolist() == [service_day_origin_s(PARIS, ordinary), service_day_origin_s(PARIS, spring)]


def test_registry_zone_overrides_agency_timezone() -> None:
    tables = _tables(agency=[{"agency_id": "a", "agency_timezone": " America/Montreal "}])
    assert resolve_timezone(tables) == "America/Montreal"
    assert resolve_timezone(tables, "Europe/Paris") == "Europe/Paris"
    assert resolve_timezone(tables, "") == "America/Montreal"
    several = _tables(agency=[{"agency_timezone": ""}, {"agency_timezone": "Europe/Vilnius"}])
    assert resolve_timezone(several) == "Europe/Vilnius"


def test_no_usable_zone_is_an_error_not_a_fallback() -> None:
    with pytest.raises(FeedTimezoneError, match="no time zone"):
        resolve_timezone(_tables())
    with pytest.raises(FeedTimezoneError, match="no time zone"):
        resolve_timezone(_tables(agency=[{"agency_id": "a", "agency_timezone": ""}]))
    with pytest.raises(FeedTimezoneError, match="unknown time zone"):
        resolve_timezone(_tables(agency=[{"agency_timezone": "Europe/Atlantis"}]))
    with pytest.raises(FeedTimezoneError, match="unknown time zone"):
        resolve_timezone(_tables(), "Mars/Olympus")


def test_parse_gtfs_date() -> None:
    assert parse_gtfs_date("20240331") == dt.date(2024, 3, 31)
    assert parse_gtfs_date(" 20240331 ") == dt.date(2024, 3, 31)
    for bad in ("", None, "2024-03-31", "20240230", "2024033"):
        assert parse_gtfs_date(bad) is None
