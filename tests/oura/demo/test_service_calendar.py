"""Service calendar: bank holidays, school holidays and the exceptions they create."""

from datetime import date

from oura.demo.service_calendar import (
    SATURDAY,
    SCHOOL_DAY,
    SUNDAY,
    WEEKDAY,
    build_calendar,
    get_service_start,
    is_school_holiday,
    list_bank_holidays,
)


def test_service_starts_on_the_monday_of_the_week():
    assert get_service_start(date(2025, 3, 5)) == date(2025, 3, 3)
    assert get_service_start(date(2025, 3, 3)) == date(2025, 3, 3)
    assert get_service_start(date(2025, 3, 9)) == date(2025, 3, 3)


def test_bank_holidays_include_easter_based_days():
    days = list_bank_holidays(2025)
    assert date(2025, 4, 21) in days  # Easter Monday
    assert date(2025, 5, 29) in days  # Ascension
    assert date(2025, 6, 9) in days  # Whit Monday
    assert date(2025, 7, 14) in days and len(days) == 11


def test_summer_and_christmas_are_school_holidays_but_not_an_ordinary_march_tuesday():
    assert is_school_holiday(date(2025, 8, 5))
    assert is_school_holiday(date(2025, 12, 26))
    assert is_school_holiday(date(2026, 1, 2))
    assert not is_school_holiday(date(2025, 3, 11))


def test_a_weekday_bank_holiday_runs_the_sunday_service():
    calendar = build_calendar(date(2025, 3, 3), 90)
    easter_monday = date(2025, 4, 21)
    assert calendar.is_active(SUNDAY, easter_monday)
    assert not calendar.is_active(WEEKDAY, easter_monday)
    assert not calendar.is_active(SCHOOL_DAY, easter_monday)
    assert calendar.is_active(SATURDAY, date(2025, 3, 8))
    assert not calendar.is_active(WEEKDAY, date(2025, 3, 8))


def test_school_day_trips_stop_during_school_holidays():
    calendar = build_calendar(date(2025, 3, 3), 90)
    holiday = calendar.school_holidays[0]
    assert calendar.is_active(WEEKDAY, holiday)
    assert not calendar.is_active(SCHOOL_DAY, holiday)
    typical = calendar.find_typical_school_day()
    assert typical is not None and calendar.is_active(SCHOOL_DAY, typical)
    assert calendar.end == date(2025, 5, 31)
