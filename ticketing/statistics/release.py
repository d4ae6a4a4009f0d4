"""Releasing a closed period: the raw tables of a service day computed from PostgreSQL (while the
serials still exist, for OD chaining and contribution bounds), protected (`privacy`, `dp`), and
stored once in stat_releases / stat_cells (and the privacy ledger); months from their released
days.

(to be written: see the issue 14 brief "release")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from ticketing.statistics.model import StatisticsSettings

__all__ = ["ReleaseRun", "release_day", "release_month", "release_due", "service_day_bounds"]


@dataclass(frozen=True)
class ReleaseRun:
    released: tuple[tuple[str, str, date], ...]  # (kind, period_kind, period_start) released by this run
    skipped: tuple[tuple[str, str, date], ...] = ()  # already released (by another process, or before)


def service_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The instants a service day covers: 04:00 local on ``day`` to 04:00 local the next day."""
    raise NotImplementedError


async def release_day(pool: asyncpg.Pool, day: date, *, now: datetime, settings: StatisticsSettings,
                      network_authority: Mapping[str, str], timezone: str,
                      domains: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> ReleaseRun:
    """Compute and store the releases of one closed service day (validations, od, sales), once."""
    raise NotImplementedError


async def release_month(pool: asyncpg.Pool, month: date, *, now: datetime, settings: StatisticsSettings,
                        timezone: str) -> ReleaseRun:
    """Store the release of a month (``month`` is its first day) from its released days, once."""
    raise NotImplementedError


async def release_due(pool: asyncpg.Pool, *, now: datetime, settings: StatisticsSettings,
                      network_authority: Mapping[str, str], timezone: str,
                      domains: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
                      force_before: datetime | None = None) -> ReleaseRun:
    """Release every closed day not released yet (a day is closed ``release_grace_s`` after it ends;
    a day with events older than ``force_before`` is released even within its grace, since its
    serials are about to be purged), then every month whose days are all released."""
    raise NotImplementedError
