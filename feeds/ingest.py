"""The static ingestion pipeline: fetch -> hash (skip unchanged) -> read -> validate -> store ->
record the version -> publish it as the network's current version.

`ingest_network` is the service function for one network: it owns its transaction (one per
ingestion, holding a per-network advisory lock so two schedulers never interleave), and it never
raises for bad input. Every attempt ends in one `IngestOutcome`:

- ``accepted``: a new version passed validation, is stored content-addressed and now serves;
- ``rejected``: a new version failed validation; it is recorded with its issues, but the previous
  accepted version keeps serving (a rejected feed never replaces the last good one);
- ``unchanged``: the content hash equals the last fetched content (nothing re-validated);
- ``not_modified``: the server answered 304 to the conditional GET;
- ``failed``: the feed could not be fetched at all (network, HTTP error, size limit);
- ``superseded``: another ingestion of the network, whose download started later, published
  first; this older content is recorded (with its issues) but never replaces the newer one.

The fetch state (health, conditional GET validators) is the newest attempt's: an attempt whose
download started before the one that last wrote it, whatever its outcome, leaves it alone.

Reading is bounded by `ArchiveLimits` (`archive_limits(config.feeds)`): a zip bomb is a
``rejected`` version with one fatal issue, found before the feed is inflated.

CPU-bound steps (reading, validating, hashing, copying) run through `oura.concurrency.run_blocking`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg

from feeds import repository
from feeds.authorities import Network
from feeds.fetch import FetchLimits, FetchStatus, ProgressCallback, fetch_feed
from feeds.gtfs.archive import ArchiveLimits
from feeds.store import FeedStore
from feeds.validate import ValidationReport, validate_path
from oura.clock import Clock
from oura.concurrency import run_blocking
from oura.config import FeedsConfig
from oura.db.pool import transaction

__all__ = ["IngestOutcome", "Outcome", "archive_limits", "fetch_limits", "ingest_network", "ingest_networks"]


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNCHANGED = "unchanged"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class IngestOutcome:
    network_id: str
    authority_id: str
    outcome: Outcome
    message: str  # one line in plain words
    version_id: int | None = None
    sha256: str | None = None
    report: ValidationReport | None = None
    timings_s: dict[str, float] = field(default_factory=dict)  # step -> seconds


async def ingest_network(
    pool: asyncpg.Pool,
    network: Network,
    *,
    store: FeedStore,
    session: aiohttp.ClientSession | None,
    clock: Clock,
    work_dir: Path,
    limits: FetchLimits = FetchLimits(),
    archive_limits: ArchiveLimits = ArchiveLimits(),
    progress: ProgressCallback | None = None,
    force: bool = False,
) -> IngestOutcome:
    """Ingest the static feed of one network (see the module docstring for the outcomes)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    state = await repository.find_fetch_state(pool, network.id)
    current = next((f for f in await repository.list_current_feeds(pool) if f.feed_id == network.id), None)
    has_current = current is not None
    conditional = state is not None and has_current and not force
    fetch_started_at = clock.now()
    fetched = await fetch_feed(
        network.static, session=session, dest_dir=work_dir, etag=state.etag if conditional else None,
        last_modified=state.last_modified if conditional else None, limits=limits, progress=progress,
    )
    timings["fetch_s"] = time.perf_counter() - started
    now = clock.now()
    try:
        if fetched.status is FetchStatus.FAILED:
            await _record_attempt(pool, network, now, Outcome.FAILED, fetched.error, None, None, None,
                                  fetch_started_at=fetch_started_at)
            return IngestOutcome(network.id, network.authority_id, Outcome.FAILED,
                                 f"fetch failed: {fetched.error}; the current version (if any) keeps serving",
                                 timings_s=timings)
        if fetched.status is FetchStatus.NOT_MODIFIED:
            # 304: the publisher still offers the last fetched content, which may be a rejected one
            offered = state.last_sha256 if state is not None else None
            await _record_attempt(pool, network, now, Outcome.NOT_MODIFIED, None, None, fetched.etag,
                                  fetched.last_modified, fetch_started_at=fetch_started_at,
                                  still_rejected=_is_rejected(offered, current))
            return IngestOutcome(network.id, network.authority_id, Outcome.NOT_MODIFIED,
                                 "not modified since the last fetch (HTTP 304)", timings_s=timings)
        assert fetched.path is not None and fetched.sha256 is not None
        if _is_known(fetched.sha256, state, current) and not force:
            await _record_attempt(pool, network, now, Outcome.UNCHANGED, None, fetched.sha256, fetched.etag,
                                  fetched.last_modified, fetch_started_at=fetch_started_at,
                                  still_rejected=_is_rejected(fetched.sha256, current))
            return _unchanged(network, fetched.sha256, timings)

        mark = time.perf_counter()
        today = now.astimezone(ZoneInfo(network.timezone)).date() if network.timezone else now.date()
        _, report = await run_blocking(validate_path, fetched.path, feed_id=network.id, today=today,
                                       adapter=network.adapter, limits=archive_limits)
        timings["read_validate_s"] = time.perf_counter() - mark

        mark = time.perf_counter()
        content_path = None
        if not report.fatal:
            content_path = await run_blocking(store.put, fetched.path, fetched.sha256)
        timings["store_s"] = time.perf_counter() - mark

        mark = time.perf_counter()
        outcome = Outcome.REJECTED if report.fatal else Outcome.ACCEPTED
        async with transaction(pool) as conn:
            await repository.lock_network(conn, network.id)
            # Another ingestion of this network (the scheduler and `oura feeds ingest`) may have
            # recorded the same content while this one was fetching and validating.
            state_now = await repository.find_fetch_state(conn, network.id)
            current_now = next((f for f in await repository.list_current_feeds(conn) if f.feed_id == network.id),
                               None)
            if not force and _is_known(fetched.sha256, state_now, current_now) and (state_now, current_now) != (
                    state, current):
                await repository.upsert_fetch_state(
                    conn, network_id=network.id, authority_id=network.authority_id, at=now,
                    fetch_started_at=fetch_started_at, outcome=Outcome.UNCHANGED.value, error=None,
                    sha256=fetched.sha256, etag=fetched.etag, last_modified=fetched.last_modified,
                    still_rejected=_is_rejected(fetched.sha256, current_now))
                return _unchanged(network, fetched.sha256, timings)
            summary = report.summary()
            superseded_by = _find_superseding(current_now, fetch_started_at)
            if superseded_by is not None:
                outcome = Outcome.SUPERSEDED
                summary = (f"SUPERSEDED: version {superseded_by}, whose download started later, serves; "
                           f"this content was not published.\n{summary}")
            version_id = await repository.insert_version(
                conn, network_id=network.id, authority_id=network.authority_id, sha256=fetched.sha256,
                source=network.static, status=outcome.value, fetch_started_at=fetch_started_at, fetched_at=now,
                validity_start=report.validity_start, validity_end=report.validity_end,
                size_bytes=fetched.size_bytes, counts=dict(report.counts), issue_counts=report.issue_counts(),
                summary=summary, content_path=None if content_path is None else str(content_path),
                etag=fetched.etag, last_modified=fetched.last_modified,
            )
            await repository.insert_issues(conn, version_id, report.issues)
            if outcome is Outcome.ACCEPTED:
                await repository.publish_current(conn, network.id, version_id, now)
            if outcome is not Outcome.SUPERSEDED:  # else the newer download's state (validators, health) stands
                await repository.upsert_fetch_state(
                    conn, network_id=network.id, authority_id=network.authority_id, at=now,
                    fetch_started_at=fetch_started_at, outcome=outcome.value,
                    error=None if outcome is Outcome.ACCEPTED else _first_reason(report), sha256=fetched.sha256,
                    etag=fetched.etag, last_modified=fetched.last_modified,
                )
        timings["record_s"] = time.perf_counter() - mark
        timings["total_s"] = time.perf_counter() - started
        if outcome is Outcome.ACCEPTED:
            message = (f"accepted version {version_id}: {report.counts.get('trips', 0)} trips, "
                       f"{report.counts.get('stop_times', 0)} stop_times")
        elif outcome is Outcome.SUPERSEDED:
            message = (f"superseded version {version_id}: version {superseded_by}, whose download "
                       "started later, already serves")
        else:
            message = f"rejected version {version_id}: {_first_reason(report)}; the previous version keeps serving"
        return IngestOutcome(network.id, network.authority_id, outcome, message, version_id, fetched.sha256,
                             report, timings)
    finally:
        fetched.discard()


async def ingest_networks(
    pool: asyncpg.Pool,
    networks: Sequence[Network],
    *,
    store: FeedStore,
    session: aiohttp.ClientSession | None,
    clock: Clock,
    work_dir: Path,
    limits: FetchLimits = FetchLimits(),
    archive_limits: ArchiveLimits = ArchiveLimits(),
    concurrency: int = 1,
    progress_for: Callable[[Network], ProgressCallback | None] | None = None,
    force: bool = False,
) -> list[IngestOutcome]:
    """Ingest several networks, at most ``concurrency`` at a time; one failure never stops the others.

    The default is one at a time: reading and validating hold the GIL most of the time, so two
    threads are slower than one on a shared 2-core machine (bench/ingest.py measures both).
    """
    gate = asyncio.Semaphore(concurrency)

    async def one(network: Network) -> IngestOutcome:
        async with gate:
            return await ingest_network(
                pool, network, store=store, session=session, clock=clock, work_dir=work_dir, limits=limits,
                archive_limits=archive_limits, progress=progress_for(network) if progress_for else None,
                force=force,
            )

    return list(await asyncio.gather(*(one(network) for network in networks)))


def fetch_limits(config: FeedsConfig) -> FetchLimits:
    """The configured bound on one download (the other fetch settings keep their defaults)."""
    return FetchLimits(max_bytes=config.max_download_bytes)


def archive_limits(config: FeedsConfig) -> ArchiveLimits:
    """The configured bounds on what a fetched feed may inflate to."""
    return ArchiveLimits(
        max_member_uncompressed_bytes=config.max_member_uncompressed_bytes,
        max_feed_uncompressed_bytes=config.max_feed_uncompressed_bytes,
        max_compression_ratio=config.max_compression_ratio,
        max_members=config.max_members,
    )


async def _record_attempt(pool: asyncpg.Pool, network: Network, at: dt.datetime, outcome: Outcome,
                          error: str | None, sha256: str | None, etag: str | None, last_modified: str | None,
                          *, fetch_started_at: dt.datetime, still_rejected: bool = False) -> None:
    async with transaction(pool) as conn:
        await repository.lock_network(conn, network.id)
        await repository.upsert_fetch_state(conn, network_id=network.id, authority_id=network.authority_id, at=at,
                                            fetch_started_at=fetch_started_at, outcome=outcome.value, error=error,
                                            sha256=sha256, etag=etag, last_modified=last_modified,
                                            still_rejected=still_rejected)


def _is_known(sha256: str, state: repository.FetchState | None, current: repository.CurrentFeed | None) -> bool:
    """Whether ``sha256`` is the last fetched content or the serving one (nothing to validate)."""
    return sha256 in {state.last_sha256 if state else None, current.sha256 if current else None}


def _find_superseding(current: repository.CurrentFeed | None, fetch_started_at: dt.datetime) -> int | None:
    """The serving version's id if its download started after this one's, else None.

    Two ingestions of one network (the scheduler and `oura feeds ingest`) may fetch different
    contents at the same moment; the lock orders their commits, not their downloads. The content
    whose download started later is the publisher's newer one, so it must serve whichever commits
    last: publishing the older one would roll the network back until the publisher changes again.
    Equal starts cannot be told apart, and the last commit serves, as before.
    """
    return current.version_id if current is not None and current.fetch_started_at > fetch_started_at else None


def _is_rejected(offered_sha256: str | None, current: repository.CurrentFeed | None) -> bool:
    """Whether the content a publisher still offers is not the serving one, hence was rejected.

    The last fetched content that is not serving was rejected (an accepted one would serve), so a
    304 or the same bytes again keep the network failing instead of looking healthy.
    """
    if offered_sha256 is None:
        return False
    return current is None or offered_sha256 != current.sha256


def _unchanged(network: Network, sha256: str, timings: dict[str, float]) -> IngestOutcome:
    return IngestOutcome(network.id, network.authority_id, Outcome.UNCHANGED,
                         f"content unchanged (sha256 {sha256[:12]})", sha256=sha256, timings_s=timings)


def _first_reason(report: ValidationReport) -> str:
    fatal = report.list_fatal()
    if not fatal:
        return ""
    total = sum(issue.count for issue in fatal)
    more = f" (and {total - fatal[0].count} more fatal issues)" if total > fatal[0].count else ""
    return f"{fatal[0].message}{more}"
