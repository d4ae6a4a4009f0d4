"""Services on a day axis shared by all feeds, and each day's origin in every zone.

The GTFS semantics (which days a service runs, "noon minus 12 h", which zone a feed's times are
in) are `feeds.gtfs.service_days`'s, the one module the realtime trip index and the ticketing
catalogue read too; this module only lays each feed's bitmap onto the network's global day axis
(DayIdx 0 = earliest service day of any feed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from feeds.gtfs.model import GtfsTables
from feeds.gtfs.service_days import ServiceDays, read_service_days, resolve_timezone, service_day_origins_s

__all__ = ["ServiceCalendar", "ServiceDays", "day_bases", "feed_services", "feed_timezone", "merge_services"]

EMPTY_AXIS_ORDINAL = date(2000, 1, 1).toordinal()  # day axis of a network without any service


def feed_timezone(tables: GtfsTables, registry_zone: str = "") -> str:
    """The zone of the feed's times: the registry's when given, else agency_timezone (or raise)."""
    return resolve_timezone(tables, registry_zone or None)


def feed_services(tables: GtfsTables) -> ServiceDays:
    return read_service_days(tables)


@dataclass(frozen=True)
class ServiceCalendar:
    """All feeds' services on one day axis."""

    first_ordinal: int  # DayIdx 0 -> date ordinal
    service_days: np.ndarray  # (service, DayIdx) uint8
    service_offsets: tuple[int, ...]  # feed -> its first service row

    @property
    def day_count(self) -> int:
        return int(self.service_days.shape[1])


def merge_services(services: Sequence[ServiceDays]) -> ServiceCalendar:
    """The feeds' service bitmaps stacked on the day axis from the earliest to the latest day."""
    spans = [(s.first_ordinal, s.last_ordinal) for s in services if s.day_count > 0]
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
        block = np.zeros((len(s.service_ids), n_days), dtype=np.uint8)
        if s.day_count > 0:
            block[:, s.first_ordinal - first: s.last_ordinal - first + 1] = s.days
        blocks.append(block)
        offsets.append(total)
        total += len(s.service_ids)
    service_days = np.concatenate(blocks) if blocks else np.zeros((0, n_days), np.uint8)
    return ServiceCalendar(first, service_days, tuple(offsets))


def day_bases(first_ordinal: int, n_days: int, timezones: Sequence[str]) -> np.ndarray:
    """(day, tz) -> POSIX seconds of local noon minus 12 h: the zero of GTFS times that day."""
    out = np.zeros((n_days, len(timezones)), dtype=np.int64)
    for column, name in enumerate(timezones):
        out[:, column] = service_day_origins_s(name, first_ordinal, n_days)
    return out
