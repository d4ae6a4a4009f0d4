"""Poll GTFS-realtime sources, keep the last good state, hand updates to a sink.

One asyncio task per (feed, kind) polls at the source's own interval with a conditional GET.
Each payload is decoded and matched in an executor (protobuf decoding and matching are CPU work),
then handed to a `RealtimeSink`. The rules, chosen so that a bad fetch never makes things worse:

- A payload that cannot be decoded (truncated, HTML error page, ...) or a failed fetch is counted
  (``malformed_payload`` / ``fetch_failed``) and ignored: the previous good state keeps serving.
- A payload whose header timestamp is older than ``stale_after_intervals`` polling intervals
  (at least ``min_stale_after_s``), or older than the state already served, is counted as ``stale_header`` and ignored.
- When the served state itself becomes older than ``stale_after_intervals`` intervals (the
  publisher stopped updating, or every fetch failed), the source is flagged stale and its updates
  are expired: the sink receives an empty set, so the planner falls back to the schedule.
- When the static version of the feed changes (`StaticTripIndex.version` differs from the one the
  served state was matched against), the next poll fetches the payload in full and applies it
  again even if unchanged: the old matching (trips renamed or removed) must not outlive it.
- Every `RtError` of decoding and matching is counted per (feed, kind, type) in `RealtimeStatus`.

Freshness is judged on the header timestamp (when the publisher gives one, as the spec asks),
otherwise on the time the payload was received. "Now" comes from the injected `Clock`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiohttp

from feeds.realtime.decode import RtDecodeError, decode_feed_message
from feeds.realtime.match import StaticTripIndex, resolve_trip_updates, resolve_vehicle_positions
from feeds.realtime.model import (
    Alert,
    FeedKind,
    FeedMessage,
    ResolvedTripUpdate,
    ResolvedVehiclePosition,
    RtError,
    RtErrorType,
)
from feeds.realtime.status import RealtimeStatus
from oura.clock import Clock
from oura.concurrency import run_blocking

__all__ = [
    "FanOutSink",
    "PollOutcome",
    "RealtimePoller",
    "RealtimeSink",
    "RealtimeSource",
    "list_realtime_sources",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024


class RealtimeSink(Protocol):
    """Where decoded, matched realtime goes (the planner's single writer, the alert store, ...).

    Each call carries the *complete* current state of one feed for that kind (FULL_DATASET
    semantics): it replaces what the feed sent before. An empty sequence means "no realtime for
    this feed any more" (expired as stale).
    """

    async def on_trip_updates(
        self, feed_id: str, resolved: Sequence[ResolvedTripUpdate], received_at: dt.datetime
    ) -> None: ...

    async def on_alerts(self, feed_id: str, alerts: Sequence[Alert], received_at: dt.datetime) -> None: ...

    async def on_vehicle_positions(
        self, feed_id: str, vehicles: Sequence[ResolvedVehiclePosition], received_at: dt.datetime
    ) -> None: ...


class FanOutSink:
    """Hands every call to several sinks; one failing sink does not starve the others."""

    def __init__(self, sinks: Iterable[RealtimeSink]) -> None:
        self.sinks = list(sinks)

    async def _each(self, method: str, *args: object) -> None:
        for sink in self.sinks:
            try:
                await getattr(sink, method)(*args)
            except Exception:  # a consumer's bug must not stop the poller
                log.exception("realtime sink %s.%s failed", type(sink).__name__, method)

    async def on_trip_updates(self, feed_id, resolved, received_at) -> None:  # type: ignore[no-untyped-def]
        await self._each("on_trip_updates", feed_id, resolved, received_at)

    async def on_alerts(self, feed_id, alerts, received_at) -> None:  # type: ignore[no-untyped-def]
        await self._each("on_alerts", feed_id, alerts, received_at)

    async def on_vehicle_positions(self, feed_id, vehicles, received_at) -> None:  # type: ignore[no-untyped-def]
        await self._each("on_vehicle_positions", feed_id, vehicles, received_at)


@dataclass(frozen=True, slots=True)
class RealtimeSource:
    feed_id: str
    kind: FeedKind
    url: str  # http(s) URL, or a local file path
    poll_s: int = 30


def list_realtime_sources(networks: Iterable[object]) -> list[RealtimeSource]:
    """The sources declared by registry networks (`feeds.authorities.Network`)."""
    sources = []
    for network in networks:
        realtime = getattr(network, "realtime", None)
        if realtime is None:
            continue
        for kind in FeedKind:
            url = getattr(realtime, kind.value, None)
            if url:
                sources.append(RealtimeSource(network.id, kind, url, realtime.poll_s))  # type: ignore[attr-defined]
    return sources


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll did: ``applied`` (also when an unchanged payload was re-matched against a
    new static version; ``detail`` says so), ``not_modified``, ``unchanged``, ``rejected``
    (malformed or stale header), ``failed`` (fetch), ``no_static`` (static feed not loaded yet)."""

    result: str
    errors: tuple[RtError, ...] = ()
    expired: bool = False
    detail: str = ""


@dataclass(frozen=True, slots=True)
class _ServedState:
    header_timestamp: int | None
    received_at: dt.datetime
    etag: str | None
    last_modified: str | None
    items: tuple[object, ...]  # what the sink last received
    raw_header_timestamp: int | None = None  # as published (header_timestamp is capped at receipt)
    static_version: str = ""  # `StaticTripIndex.version` the items were matched against

    def freshness_s(self) -> float:
        if self.header_timestamp is not None:
            return float(self.header_timestamp)
        return self.received_at.timestamp()


@dataclass(frozen=True, slots=True)
class _Decoded:
    message: FeedMessage
    items: tuple[object, ...]
    errors: tuple[RtError, ...]


class RealtimePoller:
    """Polls every source at its interval; `poll_once` is the unit (tests call it directly)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        sources: Iterable[RealtimeSource],
        *,
        sink: RealtimeSink,
        find_index: Callable[[str], StaticTripIndex | None],
        clock: Clock,
        status: RealtimeStatus | None = None,
        stale_after_intervals: int = 3,
        min_stale_after_s: int = 90,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        request_timeout_s: float = 20.0,
    ) -> None:
        self.session = session
        self.sources = list(sources)
        self.sink = sink
        self.find_index = find_index
        self.clock = clock
        self.status = status or RealtimeStatus()
        self.stale_after_intervals = stale_after_intervals
        self.min_stale_after_s = min_stale_after_s
        self.max_payload_bytes = max_payload_bytes
        self.request_timeout_s = request_timeout_s
        self._served: dict[tuple[str, FeedKind], _ServedState] = {}
        self._validators: dict[tuple[str, FeedKind], tuple[str | None, str | None]] = {}
        for source in self.sources:
            self.status.declare(source.feed_id, source.kind, source.url, source.poll_s)

    # --- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll every source forever (until cancelled)."""
        async with asyncio.TaskGroup() as group:
            for source in self.sources:
                group.create_task(self._loop(source), name=f"realtime:{source.feed_id}:{source.kind}")

    async def _loop(self, source: RealtimeSource) -> None:
        while True:
            try:
                await self.poll_once(source)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one source's bug stop its polling
                log.exception("realtime poll of %s %s failed unexpectedly", source.feed_id, source.kind)
            await asyncio.sleep(source.poll_s)

    def find_served(self, feed_id: str, kind: FeedKind) -> tuple[object, ...] | None:
        """What the sink last received for this source (None before the first good payload)."""
        state = self._served.get((feed_id, kind))
        return None if state is None else state.items

    # --- one poll -----------------------------------------------------------------------------

    async def poll_once(self, source: RealtimeSource) -> PollOutcome:
        now = self.clock.now()
        outcome = await self._fetch_and_apply(source, now)
        expired = await self._expire_if_stale(source, now)
        return dataclasses.replace(outcome, expired=expired) if expired else outcome

    async def _fetch_and_apply(self, source: RealtimeSource, now: dt.datetime) -> PollOutcome:
        key = (source.feed_id, source.kind)
        index = None if source.kind == FeedKind.ALERTS else self.find_index(source.feed_id)
        previous = self._served.get(key)
        # What is served was matched against a static version that no longer serves: its trips may
        # be gone or renamed. Fetch in full (a 304 would hide the payload) and apply it again even
        # if unchanged, so matching follows the timetable without waiting for new realtime bytes.
        rematch = previous is not None and index is not None and index.version != previous.static_version
        fetched = await self._fetch(source, conditional=not rematch)
        self.status.mark_fetched(source.feed_id, source.kind, now, not_modified=fetched is None)
        if isinstance(fetched, RtError):
            self.status.count_errors(source.feed_id, source.kind, [fetched])
            return PollOutcome("failed", (fetched,), detail=fetched.detail)
        if fetched is None:
            return PollOutcome("not_modified")
        payload, etag, last_modified = fetched
        if source.kind != FeedKind.ALERTS and index is None:
            return PollOutcome("no_static", detail="static feed not loaded yet")
        try:
            decoded = await run_blocking(_decode_and_resolve, payload, source, index)
        except RtDecodeError as error:
            rt_error = error.to_rt_error()
            self.status.count_errors(source.feed_id, source.kind, [rt_error])
            # one line, no traceback: a bad payload is the publisher's problem, not a bug of ours
            log.warning("realtime %s %s payload rejected (malformed_payload): %s",
                        source.feed_id, source.kind.value, error.detail)
            return PollOutcome("rejected", (rt_error,), detail=error.detail)

        raw_header = decoded.message.header_timestamp
        # A header ahead of our clock (a publisher's clock off for a moment) counts as "now":
        # taken as is, it would make every later, correct payload "older than the served state"
        # and keep the source fresh for as long as the clock was ahead.
        header = None if raw_header is None else min(raw_header, int(now.timestamp()))
        stale_before = now.timestamp() - self._stale_after_s(source)
        if header is not None and (
            header < stale_before or (previous is not None and previous.header_timestamp is not None and header < previous.header_timestamp)
        ):
            error = RtError(
                type=RtErrorType.STALE_HEADER,
                detail=f"header timestamp {header} is older than {int(stale_before)} or the served state",
            )
            self.status.count_errors(source.feed_id, source.kind, [error])
            return PollOutcome("rejected", (error,), detail=error.detail)
        self._validators[key] = (etag, last_modified)
        if (not rematch and previous is not None and raw_header is not None
                and raw_header == previous.raw_header_timestamp):
            return PollOutcome("unchanged")  # same snapshot served again: nothing new to apply

        self.status.count_errors(source.feed_id, source.kind, decoded.errors)
        await self._hand_over(source, decoded.items, now)
        static_version = "" if index is None else index.version
        self._served[key] = _ServedState(header, now, etag, last_modified, decoded.items, raw_header, static_version)
        self.status.mark_applied(
            source.feed_id,
            source.kind,
            now,
            header_timestamp=raw_header,
            entity_count=_entity_count(decoded.message, source.kind),
            applied_count=len(decoded.items),
            rejected_count=sum(1 for e in decoded.errors if e.entity_id is not None),
        )
        return PollOutcome("applied", decoded.errors, detail="re-matched: new static version" if rematch else "")

    def _stale_after_s(self, source: RealtimeSource) -> int:
        """Age at which a source's state is stale: N intervals, but never less than a floor, since
        a publisher polled every few seconds may legitimately update only every 30 s."""
        return max(self.stale_after_intervals * source.poll_s, self.min_stale_after_s)

    async def _expire_if_stale(self, source: RealtimeSource, now: dt.datetime) -> bool:
        key = (source.feed_id, source.kind)
        state = self._served.get(key)
        if state is None:
            return False
        horizon = now.timestamp() - self._stale_after_s(source)
        if state.freshness_s() >= horizon:
            return False
        log.warning("realtime %s %s is stale: updates expired", source.feed_id, source.kind)
        await self._hand_over(source, (), now)
        del self._served[key]
        self._validators.pop(key, None)  # refetch in full next time
        self.status.mark_stale(source.feed_id, source.kind)
        return True

    async def _hand_over(self, source: RealtimeSource, items: Sequence[object], now: dt.datetime) -> None:
        if source.kind == FeedKind.TRIP_UPDATES:
            await self.sink.on_trip_updates(source.feed_id, items, now)  # type: ignore[arg-type]
        elif source.kind == FeedKind.ALERTS:
            await self.sink.on_alerts(source.feed_id, items, now)  # type: ignore[arg-type]
        else:
            await self.sink.on_vehicle_positions(source.feed_id, items, now)  # type: ignore[arg-type]

    async def _fetch(
        self, source: RealtimeSource, *, conditional: bool = True
    ) -> tuple[bytes, str | None, str | None] | RtError | None:
        """(payload, etag, last_modified), None when not modified, or the fetch error."""
        key = (source.feed_id, source.kind)
        etag, last_modified = self._validators.get(key, (None, None)) if conditional else (None, None)
        if not source.url.startswith(("http://", "https://")):
            return await _read_file(source.url, last_modified)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            timeout = aiohttp.ClientTimeout(total=self.request_timeout_s)
            async with self.session.get(source.url, headers=headers, timeout=timeout) as response:
                if response.status == 304:
                    return None
                if response.status != 200:
                    return RtError(type=RtErrorType.FETCH_FAILED, detail=f"HTTP {response.status} from {source.url}")
                if response.content_length is not None and response.content_length > self.max_payload_bytes:
                    return RtError(type=RtErrorType.FETCH_FAILED, detail=f"payload over {self.max_payload_bytes} bytes")
                # read to the end (StreamReader.read(n) returns as soon as *some* bytes arrived)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_chunked(1 << 16):
                    size += len(chunk)
                    if size > self.max_payload_bytes:
                        return RtError(type=RtErrorType.FETCH_FAILED,
                                       detail=f"payload over {self.max_payload_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("ETag"), response.headers.get("Last-Modified")
        except (aiohttp.ClientError, TimeoutError) as error:
            return RtError(type=RtErrorType.FETCH_FAILED, detail=f"{type(error).__name__}: {error} ({source.url})")


async def _read_file(path: str, last_modified: str | None) -> tuple[bytes, None, str] | RtError | None:
    def read() -> tuple[bytes, str] | None:
        file = Path(path)
        stamp = str(file.stat().st_mtime_ns)
        if stamp == last_modified:
            return None
        return file.read_bytes(), stamp

    try:
        result = await run_blocking(read)
    except OSError as error:
        return RtError(type=RtErrorType.FETCH_FAILED, detail=f"cannot read {path}: {error}")
    if result is None:
        return None
    return result[0], None, result[1]


def _decode_and_resolve(payload: bytes, source: RealtimeSource, index: StaticTripIndex | None) -> _Decoded:
    """Sync: decode one payload and match it (runs in the executor)."""
    message = decode_feed_message(payload, feed_id=source.feed_id)
    errors = list(message.errors)
    items: tuple[object, ...]
    if source.kind == FeedKind.TRIP_UPDATES:
        assert index is not None
        resolved, match_errors = resolve_trip_updates(message, index)
        errors.extend(match_errors)
        items = tuple(resolved)
    elif source.kind == FeedKind.VEHICLE_POSITIONS:
        assert index is not None
        vehicles, match_errors = resolve_vehicle_positions(message, index)
        errors.extend(match_errors)
        items = tuple(vehicles)
    else:
        items = message.alerts
    return _Decoded(message, items, tuple(errors))


def _entity_count(message: FeedMessage, kind: FeedKind) -> int:
    if kind == FeedKind.TRIP_UPDATES:
        return len(message.trip_updates)
    if kind == FeedKind.ALERTS:
        return len(message.alerts)
    return len(message.vehicle_positions)
