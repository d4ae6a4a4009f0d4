"""GTFS service semantics, in one place: which days a service runs, where a service day's times
start, and which time zone a feed's times are in.

Every consumer of a static feed (the planner's compile, realtime's trip index, the ticketing
catalogue's timeframes) reads calendars and zones through this module, so they cannot disagree on
which days a trip runs or on the instant a GTFS time designates. ``tests/feeds/gtfs/
test_service_days_agreement.py`` runs the real feeds and the demo region through all three and
checks that they agree.

Decisions (the GTFS reference leaves the first and the last to consumers):

- **Service days** (`read_service_days`): calendar.txt marks its weekdays between ``start_date``
  and ``end_date``, both inclusive; calendar_dates.txt then adds (``exception_type`` 1) or removes
  (2) single dates, a service that has only calendar_dates rows included. Several calendar rows
  of one service_id are a union. When one date is both added and removed, removal wins. Malformed
  dates and unknown exception types are ignored here (validation reports them).
- **Day origin** (`service_day_origin_s`): GTFS times count from "noon minus 12 h" of the service
  day in the feed's zone, not from midnight: on a DST change day the two differ by an hour, and
  ``08:00:00`` is still 08:00 on the wall clock.
- **Time zone** (`resolve_timezone`): the registry's zone for the network, when it states one,
  overrides the feed (the registry owns zones: a publisher's agency_timezone can be wrong); else
  the first non-empty ``agency_timezone`` of agency.txt. A feed with neither, or a name that is
  not an IANA zone, raises `FeedTimezoneError`: validation already rejects a feed without
  agency_timezone (``files.py``, fatal), and the registry checks its zones when it is loaded, so
  in the running service this only happens with hand-built tables. There is no silent fallback
  (UTC or the region's zone): a wrong zone shifts every time of the feed.

Pure and synchronous: numpy only, no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from feeds.gtfs.reader import GtfsTables

__all__ = [
    "FeedTimezoneError",
    "ServiceDays",
    "get_zone",
    "parse_gtfs_date",
    "read_service_days",
    "resolve_timezone",
    "service_day_origin_s",
    "service_day_origins_s",
]

NOON_S = 12 * 3600
WEEKDAY_COLUMNS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EXCEPTION_ADDED = 1
_EXCEPTION_REMOVED = 2
_NO_DATE = -1  # ordinal of a malformed date


class FeedTimezoneError(ValueError):
    """The feed's times have no usable time zone (no registry zone, no valid agency_timezone)."""


# --- time zone -----------------------------------------------------------------------------------


def resolve_timezone(tables: GtfsTables, registry_zone: str | None = None) -> str:
    """The IANA zone of the feed's times: ``registry_zone`` when given, else agency_timezone.

    Raises `FeedTimezoneError` when neither gives a valid zone name.
    """
    name = (registry_zone or "").strip()
    if not name:
        zones = tables.column("agency", "agency_timezone")
        values = [] if zones is None else [str(value).strip() for value in zones.tolist()]
        name = next((value for value in values if value), "")
    if not name:
        raise FeedTimezoneError("no time zone: neither the registry nor agency.txt (agency_timezone) states one")
    get_zone(name)
    return name


def get_zone(name: str) -> ZoneInfo:
    """The `ZoneInfo` of an IANA name; raises `FeedTimezoneError` for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise FeedTimezoneError(f"unknown time zone {name!r}") from error


# --- day origin ----------------------------------------------------------------------------------


def service_day_origin_s(zone: ZoneInfo | str, day: dt.date) -> int:
    """POSIX seconds of the zero of GTFS times on ``day``: local noon minus 12 h."""
    tz = zone if isinstance(zone, ZoneInfo) else get_zone(zone)
    noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=tz)
    return int(noon.timestamp()) - NOON_S


def service_day_origins_s(zone: ZoneInfo | str, first_ordinal: int, day_count: int) -> np.ndarray:
    """`service_day_origin_s` of ``day_count`` consecutive days from ``first_ordinal`` (int64)."""
    tz = zone if isinstance(zone, ZoneInfo) else get_zone(zone)
    origins = np.zeros(max(day_count, 0), dtype=np.int64)
    for offset in range(day_count):
        origins[offset] = service_day_origin_s(tz, dt.date.fromordinal(first_ordinal + offset))
    return origins


def parse_gtfs_date(text: str | None) -> dt.date | None:
    """A GTFS ``YYYYMMDD`` date, or None when malformed."""
    value = (text or "").strip()
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


# --- service days --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceDays:
    """The service-day bitmap of one feed.

    ``days[s, d]`` is 1 when service ``service_ids[s]`` runs on the day of ordinal
    ``first_ordinal + d`` (`datetime.date.toordinal`). The day axis spans every date any calendar
    row or calendar_dates row names; a feed without any has ``first_ordinal`` 0 and no columns.
    """

    service_ids: tuple[str, ...]  # service index -> service_id (calendar order, then calendar_dates)
    first_ordinal: int  # day 0 of the axis
    days: np.ndarray = field(repr=False)  # (service index, day from first_ordinal) -> runs (uint8)
    service_index: Mapping[str, int] = field(repr=False)  # service_id -> service index

    @property
    def day_count(self) -> int:
        return int(self.days.shape[1])

    @property
    def last_ordinal(self) -> int:
        """Ordinal of the last day of the axis (``first_ordinal - 1`` when there is none)."""
        return self.first_ordinal + self.day_count - 1

    def find_service(self, service_id: str) -> int | None:
        return self.service_index.get(service_id)

    def is_active(self, service_id: str, day: dt.date) -> bool:
        """Whether ``service_id`` runs on ``day``; an unknown service never runs."""
        service = self.service_index.get(service_id)
        offset = day.toordinal() - self.first_ordinal
        if service is None or not 0 <= offset < self.day_count:
            return False
        return bool(self.days[service, offset])

    def list_active_dates(self, service_id: str) -> list[dt.date]:
        """Every date ``service_id`` runs, in order."""
        service = self.service_index.get(service_id)
        if service is None:
            return []
        return [dt.date.fromordinal(self.first_ordinal + int(d)) for d in np.flatnonzero(self.days[service])]


def read_service_days(tables: GtfsTables) -> ServiceDays:
    """The service-day bitmap of calendar.txt + calendar_dates.txt (decisions: module docstring)."""
    calendar = _non_empty(tables.find("calendar"))
    dates = _non_empty(tables.find("calendar_dates"))
    index: dict[str, int] = {}
    spans: list[tuple[int, int]] = []
    if calendar is not None:
        calendar_ids = _strings(calendar, "service_id")
        starts = _date_ordinals(_strings(calendar, "start_date"))
        ends = _date_ordinals(_strings(calendar, "end_date"))
        for service_id in calendar_ids:
            index.setdefault(service_id, len(index))
        spans += [(int(a), int(b)) for a, b in zip(starts, ends) if a != _NO_DATE and b >= a]
    if dates is not None:
        date_ids = _strings(dates, "service_id")
        date_ordinals = _date_ordinals(_strings(dates, "date"))
        for service_id in date_ids:
            index.setdefault(service_id, len(index))
        valid = date_ordinals[date_ordinals != _NO_DATE]
        if valid.size:
            spans.append((int(valid.min()), int(valid.max())))
    service_ids = tuple(index)
    if not spans:
        return ServiceDays(service_ids, 0, np.zeros((len(index), 0), dtype=np.uint8), index)
    first = min(start for start, _ in spans)
    last = max(end for _, end in spans)
    days = np.zeros((len(index), last - first + 1), dtype=np.uint8)
    if calendar is not None:
        flags = np.stack([_integers(_strings(calendar, name)) == 1 for name in WEEKDAY_COLUMNS], axis=1)
        ordinals = np.arange(first, last + 1)
        weekdays = (ordinals - 1) % 7  # date.fromordinal(1) is a Monday
        for row, service_id in enumerate(calendar_ids):
            start, end = starts[row], ends[row]
            if start == _NO_DATE or end < start:
                continue
            in_range = (ordinals >= start) & (ordinals <= end)
            days[index[service_id]] |= (in_range & flags[row, weekdays]).astype(np.uint8)
    if dates is not None:
        rows = np.array([index[service_id] for service_id in date_ids], dtype=np.int64)
        offsets = date_ordinals - first
        kinds = _integers(_strings(dates, "exception_type"))
        dated = date_ordinals != _NO_DATE
        added = dated & (kinds == _EXCEPTION_ADDED)
        removed = dated & (kinds == _EXCEPTION_REMOVED)
        days[rows[added], offsets[added]] = 1
        days[rows[removed], offsets[removed]] = 0  # after the additions: removal wins
    return ServiceDays(service_ids, first, days, index)


def _non_empty(table: pd.DataFrame | None) -> pd.DataFrame | None:
    return table if table is not None and len(table) else None


def _strings(table: pd.DataFrame, column: str) -> list[str]:
    if column not in table.columns:
        return [""] * len(table)
    return [str(value).strip() for value in table[column].tolist()]


def _integers(values: list[str]) -> np.ndarray:
    """Integer cells; empty or malformed ones are 0 (no weekday, no exception type)."""
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").fillna(0).to_numpy(dtype=np.int64)


def _date_ordinals(values: list[str]) -> np.ndarray:
    parsed = pd.to_datetime(pd.Series(values, dtype=object), format="%Y%m%d", errors="coerce")
    ordinals = np.full(len(values), _NO_DATE, dtype=np.int64)
    valid = parsed.notna().to_numpy()
    if valid.any():
        epoch_days = parsed[valid].to_numpy().astype("datetime64[D]").astype(np.int64)
        ordinals[valid] = epoch_days + dt.date(1970, 1, 1).toordinal()
    return ordinals
