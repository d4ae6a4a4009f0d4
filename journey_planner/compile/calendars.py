"""Services and service days: calendar.txt + calendar_dates.txt -> a (service, day) bitmap on a
day axis shared by all feeds, the agency time zone, and each day's "noon minus 12 h" origin.

Services: calendar.txt weekdays within [start_date, end_date], then calendar_dates.txt adds (1)
or removes (2) days. Days are global across feeds (DayIdx 0 = earliest service day). A feed
whose agency_timezone is missing or unknown is read in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from feeds.gtfs.reader import GtfsTables

from .columns import column, int_cells

__all__ = ["FeedServices", "ServiceCalendar", "day_bases", "feed_services", "feed_timezone", "merge_services"]

WEEKDAY_COLUMNS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EXCEPTION_ADDED = 1  # calendar_dates.txt exception_type: service added that day
EXCEPTION_REMOVED = 2  # calendar_dates.txt exception_type: service removed that day
NOON_MINUS_12H_S = 43200
EMPTY_AXIS_ORDINAL = date(2000, 1, 1).toordinal()  # day axis of a network without any service


def feed_timezone(tables: GtfsTables) -> str:
    """The first agency's agency_timezone when it names a known zone, else UTC."""
    for value in column(tables.find("agency"), "agency_timezone").tolist():
        if value and value.strip():
            try:
                ZoneInfo(value.strip())
                return value.strip()
            except (KeyError, ValueError):
                break
    return "UTC"


def _date_ordinals(values: np.ndarray) -> np.ndarray:
    """YYYYMMDD cells -> date ordinals, -1 where the cell is not a date."""
    text = pd.Series(values, dtype=object).astype(str).str.strip()
    parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    ordinals = np.full(len(values), -1, dtype=np.int64)
    ok = parsed.notna().to_numpy()
    if ok.any():
        days = parsed[ok].to_numpy().astype("datetime64[D]").astype(np.int64)
        ordinals[ok] = days + date(1970, 1, 1).toordinal()
    return ordinals


@dataclass
class FeedServices:
    ids: list[str]
    start: int  # ordinal of the first day with service
    end: int
    days: np.ndarray  # (service, day from start) uint8


def feed_services(tables: GtfsTables) -> FeedServices:
    """One feed's services as a bitmap over the days from its first to its last service day."""
    calendar = tables.find("calendar")
    dates = tables.find("calendar_dates")
    has_calendar = calendar is not None and len(calendar) > 0
    has_dates = dates is not None and len(dates) > 0
    ids: dict[str, int] = {}
    spans: list[tuple[int, int]] = []
    if has_calendar:
        starts = _date_ordinals(column(calendar, "start_date"))
        ends = _date_ordinals(column(calendar, "end_date"))
        for service_id in column(calendar, "service_id").tolist():
            ids.setdefault(service_id, len(ids))
        spans += [(int(a), int(b)) for a, b in zip(starts, ends) if a > 0 and b >= a]
    if has_dates:
        exception_dates = _date_ordinals(column(dates, "date"))
        for service_id in column(dates, "service_id").tolist():
            ids.setdefault(service_id, len(ids))
        valid = exception_dates[exception_dates > 0]
        if valid.size:
            spans.append((int(valid.min()), int(valid.max())))
    if not spans:
        return FeedServices(list(ids), 0, -1, np.zeros((len(ids), 0), dtype=np.uint8))
    start = min(a for a, _ in spans)
    end = max(b for _, b in spans)
    days = np.zeros((len(ids), end - start + 1), dtype=np.uint8)
    if has_calendar:
        _mark_calendar_days(days, ids, calendar, starts, ends, start, end)
    if has_dates:
        _apply_calendar_dates(days, ids, dates, exception_dates, start)
    return FeedServices(list(ids), start, end, days)


def _mark_calendar_days(
    days: np.ndarray, ids: dict[str, int], calendar: pd.DataFrame,
    starts: np.ndarray, ends: np.ndarray, start: int, end: int,
) -> None:
    flags = np.stack([int_cells(column(calendar, c), 0) == 1 for c in WEEKDAY_COLUMNS], axis=1)
    day_ordinals = np.arange(start, end + 1)
    weekday = (day_ordinals - 1) % 7  # date.fromordinal(1) is a Monday
    for row, service_id in enumerate(column(calendar, "service_id").tolist()):
        first, last = starts[row], ends[row]
        if first <= 0 or last < first:
            continue
        in_span = (day_ordinals >= first) & (day_ordinals <= last)
        days[ids[service_id]] |= (in_span & flags[row, weekday]).astype(np.uint8)


def _apply_calendar_dates(
    days: np.ndarray, ids: dict[str, int], dates: pd.DataFrame, exception_dates: np.ndarray, start: int,
) -> None:
    service_rows = np.asarray([ids[s] for s in column(dates, "service_id").tolist()], dtype=np.int64)
    day_offsets = exception_dates - start
    kind = int_cells(column(dates, "exception_type"), 0)
    ok = exception_dates > 0
    added = ok & (kind == EXCEPTION_ADDED)
    removed = ok & (kind == EXCEPTION_REMOVED)
    days[service_rows[added], day_offsets[added]] = 1
    days[service_rows[removed], day_offsets[removed]] = 0


@dataclass(frozen=True)
class ServiceCalendar:
    """All feeds' services on one day axis."""

    first_ordinal: int  # DayIdx 0 -> date ordinal
    service_days: np.ndarray  # (service, DayIdx) uint8
    service_offsets: tuple[int, ...]  # feed -> its first service row

    @property
    def day_count(self) -> int:
        return int(self.service_days.shape[1])


def merge_services(services: Sequence[FeedServices]) -> ServiceCalendar:
    """The feeds' service bitmaps stacked on the day axis from the earliest to the latest day."""
    spans = [(s.start, s.end) for s in services if s.end >= s.start]
    if spans:
        first = min(a for a, _ in spans)
        last = max(b for _, b in spans)
    else:
        first = last = EMPTY_AXIS_ORDINAL
    n_days = last - first + 1
    blocks = []
    offsets = []
    total = 0
    for s in services:
        block = np.zeros((len(s.ids), n_days), dtype=np.uint8)
        if s.end >= s.start:
            block[:, s.start - first: s.end - first + 1] = s.days
        blocks.append(block)
        offsets.append(total)
        total += len(s.ids)
    service_days = np.concatenate(blocks) if blocks else np.zeros((0, n_days), np.uint8)
    return ServiceCalendar(first, service_days, tuple(offsets))


def day_bases(first_ordinal: int, n_days: int, timezones: Sequence[str]) -> np.ndarray:
    """(day, tz) -> POSIX seconds of local noon minus 12 h: the zero of GTFS times that day."""
    out = np.zeros((n_days, len(timezones)), dtype=np.int64)
    for z, name in enumerate(timezones):
        tz = ZoneInfo(name)
        for d in range(n_days):
            day = date.fromordinal(first_ordinal + d)
            noon = datetime(day.year, day.month, day.day, 12, tzinfo=tz)
            out[d, z] = int(noon.timestamp()) - NOON_MINUS_12H_S
    return out


def date_range(first_ordinal: int, n_days: int) -> list[date]:
    return [date.fromordinal(first_ordinal + d) for d in range(n_days)]
