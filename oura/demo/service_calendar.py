"""Service days of the demo region: weekday, school-day, Saturday and Sunday services.

The window starts on a date given by the caller (the Monday of "this week" for `make run`) and
never reads the wall clock. French bank holidays are computed (Easter-based ones included) and run
the Sunday service; school holidays follow the usual zone A pattern (Toussaint, Christmas,
winter, spring, summer), approximated by rule so that any year works without a lookup table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "WEEKDAY",
    "SCHOOL_DAY",
    "SATURDAY",
    "SUNDAY",
    "ServiceCalendar",
    "get_service_start",
    "list_bank_holidays",
    "is_school_holiday",
    "build_calendar",
]

WEEKDAY = "WK"  # Monday-Friday, all year
SCHOOL_DAY = "SCO"  # extra school-day trips: Monday-Friday outside school holidays
SATURDAY = "SA"
SUNDAY = "SU"  # also runs on bank holidays


def get_service_start(today: date) -> date:
    """The Monday of the week that contains ``today``."""
    return today - timedelta(days=today.weekday())


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (name of the published algorithm)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def list_bank_holidays(year: int) -> list[date]:
    """French public holidays of ``year``."""
    easter = _easter(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    days = [date(year, m, d) for m, d in fixed]
    days += [easter + timedelta(days=1), easter + timedelta(days=39), easter + timedelta(days=50)]
    return sorted(days)


def _monday_between(year: int, month: int, first_day: int) -> date:
    d = date(year, month, first_day)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def is_school_holiday(day: date) -> bool:
    """Whether ``day`` falls in (zone A style) school holidays."""
    y = day.year
    starts = [
        _monday_between(y, 10, 19),  # Toussaint
        _monday_between(y, 12, 19),  # Christmas
        _monday_between(y - 1, 12, 19),  # last year's Christmas, into January
        _monday_between(y, 2, 7),  # winter
        _monday_between(y, 4, 6),  # spring
    ]
    for start in starts:
        if start <= day < start + timedelta(days=14):
            return True
    return date(y, 7, 5) <= day <= date(y, 8, 31)


@dataclass(frozen=True, slots=True)
class ServiceCalendar:
    """calendar.txt and calendar_dates.txt rows plus the active-days lookup they describe."""

    start: date
    end: date
    calendar_rows: tuple[tuple[str, tuple[int, ...], date, date], ...]
    calendar_dates_rows: tuple[tuple[str, date, int], ...]  # (service_id, date, exception_type)
    bank_holidays: tuple[date, ...]
    school_holidays: tuple[date, ...]  # weekdays without school inside the window

    def is_active(self, service_id: str, day: date) -> bool:
        if not self.start <= day <= self.end:
            return False
        for sid, date_, exception in self.calendar_dates_rows:
            if sid == service_id and date_ == day:
                return exception == 1
        for sid, weekdays, _, _ in self.calendar_rows:
            if sid == service_id:
                return bool(weekdays[day.weekday()])
        return False

    def find_typical_school_day(self) -> date | None:
        """The first Tuesday of the window on which every weekday service runs."""
        day = self.start
        while day <= self.end:
            if day.weekday() == 1 and self.is_active(WEEKDAY, day) and self.is_active(SCHOOL_DAY, day):
                return day
            day += timedelta(days=1)
        return None


def build_calendar(start: date, days: int = 90) -> ServiceCalendar:
    end = start + timedelta(days=days - 1)
    weekdays = (1, 1, 1, 1, 1, 0, 0)
    rows = (
        (WEEKDAY, weekdays, start, end),
        (SCHOOL_DAY, weekdays, start, end),
        (SATURDAY, (0, 0, 0, 0, 0, 1, 0), start, end),
        (SUNDAY, (0, 0, 0, 0, 0, 0, 1), start, end),
    )
    holidays = {d for y in range(start.year, end.year + 1) for d in list_bank_holidays(y) if start <= d <= end}
    exceptions: list[tuple[str, date, int]] = []
    school_off: list[date] = []
    day = start
    while day <= end:
        weekday = day.weekday()
        if day in holidays:
            if weekday < 5:
                exceptions += [(WEEKDAY, day, 2), (SCHOOL_DAY, day, 2), (SUNDAY, day, 1)]
            elif weekday == 5:
                exceptions += [(SATURDAY, day, 2), (SUNDAY, day, 1)]
        elif weekday < 5 and is_school_holiday(day):
            exceptions.append((SCHOOL_DAY, day, 2))
            school_off.append(day)
        day += timedelta(days=1)
    return ServiceCalendar(start, end, rows, tuple(exceptions), tuple(sorted(holidays)), tuple(school_off))
