"""The one builder of realtime trip indexes: static feed versions -> `StaticTripIndex`, per feed.

Both ways the service finds its static feeds go through `TripIndexes.refresh`, so an index is
always built the same way: the version read with its network's adapter (`feeds.adapters`, as
every consumer of a stored version must), the registry's zone given to `StaticTripIndex.from_gtfs`
(`feeds.gtfs.service_days` decides the zone from there), and the version labelled so the poller
re-matches its payloads when it changes.

- `current_feed_sources(current, adapters)`: the versions ingested and served (the assembly
  refreshes after each publication, so trip updates are matched against the timetable the
  planner compiled, remote feeds included);
- `local_static_sources(networks)`: the registry's local static paths, when nothing is ingested.

Sync, disk- and CPU-bound: run `refresh` in an executor. Lookups (`find`) are a dict read; each
feed's entry is replaced by one reference swap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from feeds.adapters import read_network_feed
from feeds.authorities import Network
from feeds.realtime.match import StaticTripIndex
from feeds.repository import CurrentFeed

__all__ = ["INDEX_FILES", "StaticFeedSource", "TripIndexes", "current_feed_sources", "local_static_sources"]

log = logging.getLogger(__name__)

INDEX_FILES = ["agency", "trips", "stop_times", "stops", "routes", "calendar", "calendar_dates", "frequencies"]


@dataclass(frozen=True, slots=True)
class StaticFeedSource:
    """One static feed version to index."""

    feed_id: str
    path: Path  # zip or folder
    adapter: str | None  # feeds/adapters/<name>.py of the network, None when it has none
    timezone: str | None  # the registry's zone (overrides agency.txt), None when unknown
    version: str = ""  # label of the content (sha256); "" when it never changes


class TripIndexes:
    """Realtime trip indexes by feed id, rebuilt when a feed's version label changes."""

    def __init__(self) -> None:
        self._by_feed: dict[str, tuple[str, StaticTripIndex]] = {}

    def find(self, feed_id: str) -> StaticTripIndex | None:
        entry = self._by_feed.get(feed_id)
        return entry[1] if entry is not None else None

    def refresh(self, sources: Iterable[StaticFeedSource]) -> int:
        """Index the sources not indexed at their version yet; return how many were built.

        One unreadable version is logged and skipped: it must not stop the others.
        """
        built = 0
        for source in sources:
            known = self._by_feed.get(source.feed_id)
            if known is not None and known[0] == source.version:
                continue
            try:
                tables = read_network_feed(source.path, source.adapter, only=INDEX_FILES)
                index = StaticTripIndex.from_gtfs(source.feed_id, tables, timezone=source.timezone,
                                                 version=source.version)
            except Exception:  # one unreadable version must not stop the others
                log.exception("cannot index feed %s for realtime matching", source.feed_id)
                continue
            self._by_feed[source.feed_id] = (source.version, index)
            built += 1
        return built


def current_feed_sources(current: Iterable[CurrentFeed], adapters: Mapping[str, str]) -> list[StaticFeedSource]:
    """The served versions (``adapters``: network id -> adapter name, from the registry)."""
    return [
        StaticFeedSource(feed.feed_id, feed.content_path, adapters.get(feed.feed_id) or None,
                         feed.timezone or None, version=feed.sha256)
        for feed in current
    ]


def local_static_sources(networks: Iterable[Network]) -> list[StaticFeedSource]:
    """The registry's networks whose static feed is a local path (others are logged)."""
    sources = []
    for network in networks:
        static = network.static
        if static.startswith(("http://", "https://")) or not Path(static).exists():
            log.warning("realtime: no local static feed for %s (%s)", network.id, static)
            continue
        sources.append(StaticFeedSource(network.id, Path(static), network.adapter or None, network.timezone or None))
    return sources
