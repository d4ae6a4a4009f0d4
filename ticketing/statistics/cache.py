"""An in-memory cache of what the statistics routes compute from released cells.

A release is immutable once stored (``stat_releases`` rows are claimed once, their ``stat_cells``
never change), so anything computed from released cells is a function of the releases it read
and of the request's parameters: the grouped rows of a table, a PNG chart, the monthly report. The
routes key entries by (kind of answer, the releases read as ``(release_id, created_at)`` pairs, the
caller's scope, the parameters); a new release of a period has a new id, so it is never answered
from an older one's entry. ``created_at`` is in the key too, so a database rebuilt under a running
process (ids starting again at 1) cannot be answered from the old one.

Entries are weighed (bytes for rendered answers, an estimate for rows) and the least recently
used go first once the total weight is over the bound. Concurrent requests for one missing entry
compute it once (the others wait for the first). One cache per application (`cache_of`): tests
that build a new app with a new database never share entries.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

__all__ = ["StatisticsCache", "Cached", "cache_of", "etag_of", "DEFAULT_MAX_WEIGHT", "ROW_WEIGHT"]

DEFAULT_MAX_WEIGHT = 256 * 1024 * 1024  # about this many bytes of rendered answers and rows
ROW_WEIGHT = 400  # bytes a grouped row (a dict of a few short strings and ints) takes, roughly
_VERSION = "1"  # part of every ETag: bump when what a route draws or writes changes

T = TypeVar("T")


@dataclass
class Cached:
    value: Any
    weight: int


class StatisticsCache:
    """A bounded LRU of computed answers, with one computation per missing key at a time."""

    def __init__(self, max_weight: int = DEFAULT_MAX_WEIGHT) -> None:
        self.max_weight = max_weight
        self.weight = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, Cached] = OrderedDict()
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry.value

    def put(self, key: Hashable, value: Any, weight: int) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.weight -= old.weight
        if weight > self.max_weight:  # bigger than the whole cache: answered, not kept
            return
        self._entries[key] = Cached(value, weight)
        self.weight += weight
        while self.weight > self.max_weight:
            _, evicted = self._entries.popitem(last=False)
            self.weight -= evicted.weight

    async def get_or_compute(self, key: Hashable, compute: Callable[[], Awaitable[T]],
                             weigh: Callable[[T], int]) -> T:
        """The entry of ``key``, computed by ``compute`` if missing: once, however many ask at once,
        in a task of its own (a caller that goes away does not cancel it for the others). An
        exception of ``compute`` reaches every waiter and nothing is kept."""
        found = self.get(key)
        if found is not None:
            self.hits += 1
            return found
        task = self._pending.get(key)
        if task is None:
            self.misses += 1
            task = self._pending[key] = asyncio.ensure_future(self._compute(key, compute, weigh))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved, even if nobody waits
        else:
            self.hits += 1
        return await asyncio.shield(task)

    async def _compute(self, key: Hashable, compute: Callable[[], Awaitable[T]], weigh: Callable[[T], int]) -> T:
        try:
            value = await compute()
            self.put(key, value, weigh(value))
            return value
        finally:
            self._pending.pop(key, None)


_CACHES: weakref.WeakKeyDictionary[web.Application, StatisticsCache] = weakref.WeakKeyDictionary()


def cache_of(app: web.Application) -> StatisticsCache:
    """The statistics cache of this application (made on first use)."""
    cache = _CACHES.get(app)
    if cache is None:
        cache = _CACHES[app] = StatisticsCache()
    return cache


def etag_of(*parts: object) -> str:
    """A strong ETag of an answer from what it is a function of (its cache key and parameters)."""
    digest = hashlib.blake2b("|".join(map(repr, (_VERSION, *parts))).encode(), digest_size=16).hexdigest()
    return f'"{digest}"'
