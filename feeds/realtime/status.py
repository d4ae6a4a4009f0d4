"""What every realtime source is doing: error counts by type, freshness, staleness.

`RealtimeStatus` is the one mutable object of the realtime side, owned by the poller (single
writer, on the event loop). Readers (`/metrics`, `oura feeds report`, `/v1/realtime/status`) take
`list_feed_statuses()`, which returns frozen copies. Counts only ever grow, as Prometheus
counters must; every `RtErrorType` of every known source is reported, zeros included, so that a
dashboard can tell "no error" from "not measured". The most recent rejected entities (at most
`RECENT_REJECTED_LIMIT` per source, newest first) are kept with their reasons for diagnostics.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from feeds.realtime.model import FeedKind, RtError, RtErrorType

__all__ = ["FeedStatus", "RECENT_REJECTED_LIMIT", "RealtimeStatus", "RejectedEntity", "PrometheusCollector"]

RECENT_REJECTED_LIMIT = 20


@dataclass(frozen=True, slots=True)
class RejectedEntity:
    """One entity (or payload) of a source that could not be used, when, and why."""

    at: dt.datetime
    error: RtError


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """One realtime source (a feed and a kind) as last seen."""

    feed_id: str
    kind: FeedKind
    url: str
    poll_s: int
    last_fetch_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None  # last payload decoded and applied
    header_timestamp: int | None = None  # of the state currently served
    entity_count: int = 0  # entities in the state currently served
    applied_count: int = 0  # of which usable after matching
    stale: bool = False
    last_error: str = ""
    fetch_count: int = 0
    not_modified_count: int = 0
    error_counts: Mapping[RtErrorType, int] = field(default_factory=dict)
    last_applied_at: dt.datetime | None = None  # same as last_success_at (kept for readers of both)
    rejected_count: int = 0  # entities of the state currently served that could not be used
    recent_rejected: tuple[RejectedEntity, ...] = ()  # newest first, bounded

    @property
    def error_total(self) -> int:
        return sum(self.error_counts.values())


@dataclass
class _Mutable:
    url: str
    poll_s: int
    last_fetch_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    header_timestamp: int | None = None
    entity_count: int = 0
    applied_count: int = 0
    stale: bool = False
    last_error: str = ""
    fetch_count: int = 0
    not_modified_count: int = 0
    errors: Counter = field(default_factory=Counter)
    rejected_count: int = 0
    recent: deque = field(default_factory=lambda: deque(maxlen=RECENT_REJECTED_LIMIT))


class RealtimeStatus:
    """Counters and freshness per (feed_id, kind)."""

    def __init__(self) -> None:
        self._sources: dict[tuple[str, FeedKind], _Mutable] = {}

    def declare(self, feed_id: str, kind: FeedKind, url: str, poll_s: int) -> None:
        self._sources.setdefault((feed_id, kind), _Mutable(url=url, poll_s=poll_s))

    def _get(self, feed_id: str, kind: FeedKind) -> _Mutable:
        return self._sources.setdefault((feed_id, kind), _Mutable(url="", poll_s=0))

    def count_errors(self, feed_id: str, kind: FeedKind, errors: Iterable[RtError],
                     at: dt.datetime | None = None) -> None:
        """Count ``errors`` by type and keep them among the recent rejections (stamped ``at``,
        else the source's last fetch time)."""
        source = self._get(feed_id, kind)
        stamp = at or source.last_fetch_at or dt.datetime.fromtimestamp(0, dt.UTC)
        for error in errors:
            source.errors[error.type] += 1
            source.last_error = f"{error.type.value}: {error.detail}" if error.detail else error.type.value
            source.recent.appendleft(RejectedEntity(stamp, error))

    def mark_fetched(self, feed_id: str, kind: FeedKind, at: dt.datetime, *, not_modified: bool = False) -> None:
        source = self._get(feed_id, kind)
        source.last_fetch_at = at
        source.fetch_count += 1
        if not_modified:
            source.not_modified_count += 1

    def mark_applied(
        self,
        feed_id: str,
        kind: FeedKind,
        at: dt.datetime,
        *,
        header_timestamp: int | None,
        entity_count: int,
        applied_count: int,
        rejected_count: int = 0,
    ) -> None:
        source = self._get(feed_id, kind)
        source.last_success_at = at
        source.header_timestamp = header_timestamp
        source.entity_count = entity_count
        source.applied_count = applied_count
        source.rejected_count = rejected_count
        source.stale = False

    def mark_stale(self, feed_id: str, kind: FeedKind) -> None:
        source = self._get(feed_id, kind)
        source.stale = True
        source.entity_count = 0
        source.applied_count = 0
        source.rejected_count = 0

    def get_error_count(self, feed_id: str, error_type: RtErrorType, kind: FeedKind | None = None) -> int:
        return sum(
            source.errors[error_type]
            for (fid, k), source in self._sources.items()
            if fid == feed_id and (kind is None or k == kind)
        )

    def list_feed_statuses(self) -> list[FeedStatus]:
        return [
            FeedStatus(
                feed_id=feed_id,
                kind=kind,
                url=source.url,
                poll_s=source.poll_s,
                last_fetch_at=source.last_fetch_at,
                last_success_at=source.last_success_at,
                header_timestamp=source.header_timestamp,
                entity_count=source.entity_count,
                applied_count=source.applied_count,
                stale=source.stale,
                last_error=source.last_error,
                fetch_count=source.fetch_count,
                not_modified_count=source.not_modified_count,
                error_counts={t: source.errors[t] for t in RtErrorType},
                last_applied_at=source.last_success_at,
                rejected_count=source.rejected_count,
                recent_rejected=tuple(source.recent),
            )
            for (feed_id, kind), source in sorted(self._sources.items())
        ]


class PrometheusCollector:
    """Exposes a `RealtimeStatus` on a prometheus_client registry, read at scrape time.

    ``registry.register(PrometheusCollector(status))``; metric names start ``oura_realtime_``.
    """

    def __init__(self, status: RealtimeStatus) -> None:
        self._status = status

    def describe(self) -> list:  # no fixed description: avoids a scrape at registration
        return []

    def collect(self) -> Iterator:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        errors = CounterMetricFamily(
            "oura_realtime_errors",
            "Realtime entities or payloads that could not be used, by feed, kind and error type",
            labels=["feed_id", "kind", "type"],
        )
        fetches = CounterMetricFamily(
            "oura_realtime_fetches", "Realtime fetches attempted, by feed and kind", labels=["feed_id", "kind"]
        )
        stale = GaugeMetricFamily(
            "oura_realtime_stale", "1 when the feed's updates are expired as stale", labels=["feed_id", "kind"]
        )
        header = GaugeMetricFamily(
            "oura_realtime_header_timestamp_seconds",
            "Header timestamp of the realtime state being served",
            labels=["feed_id", "kind"],
        )
        entities = GaugeMetricFamily(
            "oura_realtime_applied_entities",
            "Entities of the served state that matched the static feed",
            labels=["feed_id", "kind"],
        )
        for status in self._status.list_feed_statuses():
            labels = [status.feed_id, status.kind.value]
            for error_type, count in status.error_counts.items():
                errors.add_metric([*labels, error_type.value], count)
            fetches.add_metric(labels, status.fetch_count)
            stale.add_metric(labels, 1 if status.stale else 0)
            if status.header_timestamp is not None:
                header.add_metric(labels, status.header_timestamp)
            entities.add_metric(labels, status.applied_count)
        yield from (errors, fetches, stale, header, entities)
