"""PostgreSQL storage of realtime alerts and source statuses (SQL in queries.sql).

Alerts are replaced per feed in one transaction: readers see the previous set or the new one,
never a mix. Returned values are dataclasses; asyncpg records never leave this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from feeds.realtime.model import Alert, EntitySelector, FeedKind, RtErrorType, TimeRange, TripDescriptor, namespace_alert
from feeds.realtime.status import FeedStatus
from oura.db.queries import QueryFile

__all__ = ["StoredAlert", "AlertRepository", "namespace_alert"]


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert as served: its feed, and ids namespaced ``<feed_id>:<id>``."""

    feed_id: str
    alert: Alert
    received_at: dt.datetime


_q = QueryFile(Path(__file__).with_name("queries.sql"))


def _ts(posix_s: int | None) -> dt.datetime | None:
    return None if posix_s is None else dt.datetime.fromtimestamp(posix_s, dt.UTC)


class AlertRepository:
    """Alerts and realtime statuses in PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def replace_alerts(self, feed_id: str, alerts: Sequence[Alert], received_at: dt.datetime) -> int:
        """Make ``alerts`` (publisher ids) the whole alert set of ``feed_id``; returns the count."""
        unique = {alert.entity_id: namespace_alert(feed_id, alert) for alert in alerts}  # last wins
        alert_rows, period_rows, entity_rows = [], [], []
        for entity_id, alert in unique.items():
            alert_rows.append(
                (feed_id, entity_id, alert.cause, alert.effect, alert.severity_level,
                 alert.header_text, alert.description_text, alert.url, received_at)
            )
            for period in alert.active_periods:
                period_rows.append((feed_id, entity_id, _ts(period.start), _ts(period.end)))
            for s in alert.informed_entities:
                entity_rows.append(
                    (feed_id, entity_id, s.agency_id, s.route_id, s.route_type, s.direction_id, s.stop_id,
                     s.trip.trip_id if s.trip is not None else None)
                )
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(_q("delete_feed_alerts"), feed_id)
            if alert_rows:
                await conn.executemany(_q("insert_alert"), alert_rows)
            if period_rows:
                await conn.executemany(_q("insert_active_period"), period_rows)
            if entity_rows:
                await conn.executemany(_q("insert_informed_entity"), entity_rows)
        return len(alert_rows)

    async def list_active_alerts(
        self, active_at: dt.datetime, *, stop_id: str | None = None, route_id: str | None = None, limit: int = 500
    ) -> list[StoredAlert]:
        """Alerts active at ``active_at``, optionally about a (namespaced) stop and/or route."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_q("list_active_alerts"), active_at, stop_id, route_id, limit)
            if not rows:
                return []
            feeds = [r["feed_id"] for r in rows]
            entities = [r["entity_id"] for r in rows]
            period_rows = await conn.fetch(_q("list_alert_periods"), feeds, entities)
            selector_rows = await conn.fetch(_q("list_alert_informed_entities"), feeds, entities)
        periods: dict[tuple[str, str], list[TimeRange]] = {}
        for r in period_rows:
            periods.setdefault((r["feed_id"], r["entity_id"]), []).append(
                TimeRange(
                    start=int(r["start_at"].timestamp()) if r["start_at"] is not None else None,
                    end=int(r["end_at"].timestamp()) if r["end_at"] is not None else None,
                )
            )
        selectors: dict[tuple[str, str], list[EntitySelector]] = {}
        for r in selector_rows:
            selectors.setdefault((r["feed_id"], r["entity_id"]), []).append(
                EntitySelector(
                    agency_id=r["agency_id"],
                    route_id=r["route_id"],
                    route_type=r["route_type"],
                    stop_id=r["stop_id"],
                    trip=TripDescriptor(trip_id=r["trip_id"]) if r["trip_id"] is not None else None,
                    direction_id=r["direction_id"],
                )
            )
        return [
            StoredAlert(
                feed_id=r["feed_id"],
                alert=Alert(
                    entity_id=r["entity_id"],
                    active_periods=tuple(periods.get((r["feed_id"], r["entity_id"]), ())),
                    informed_entities=tuple(selectors.get((r["feed_id"], r["entity_id"]), ())),
                    cause=r["cause"],
                    effect=r["effect"],
                    severity_level=r["severity_level"],
                    header_text=r["header_text"],
                    description_text=r["description_text"],
                    url=r["url"],
                ),
                received_at=r["received_at"],
            )
            for r in rows
        ]

    async def save_feed_statuses(self, statuses: Iterable[FeedStatus], now: dt.datetime) -> None:
        rows = [
            (s.feed_id, s.kind.value, s.url, s.poll_s, s.last_fetch_at, s.last_success_at, _ts(s.header_timestamp),
             s.entity_count, s.applied_count, s.stale, s.last_error,
             {t.value: n for t, n in s.error_counts.items()}, now)
            for s in statuses
        ]
        if rows:
            async with self.pool.acquire() as conn:
                await conn.executemany(_q("upsert_feed_status"), rows)

    async def list_feed_statuses(self) -> list[FeedStatus]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_q("list_feed_statuses"))
        return [
            FeedStatus(
                feed_id=r["feed_id"],
                kind=FeedKind(r["kind"]),
                url=r["url"],
                poll_s=r["poll_s"],
                last_fetch_at=r["last_fetch_at"],
                last_success_at=r["last_success_at"],
                header_timestamp=int(r["header_timestamp"].timestamp()) if r["header_timestamp"] else None,
                entity_count=r["entity_count"],
                applied_count=r["applied_count"],
                stale=r["stale"],
                last_error=r["last_error"],
                error_counts={RtErrorType(k): v for k, v in r["error_counts"].items() if k in RtErrorType._value2member_map_},
            )
            for r in rows
        ]
