"""PostgreSQL access of the feeds package: named queries in, frozen dataclasses out.

Every query lives in `queries.sql`; asyncpg records never leave this module. Functions take a
connection (or the pool, for reads) so that the service function calling them owns the
transaction. `list_current_feeds(pool)` is the planner's entry point (documented in README).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from feeds.gtfs.issues import Issue
from oura.db.queries import QueryFile

__all__ = [
    "CurrentFeed",
    "FeedVersion",
    "FetchState",
    "StoredIssue",
    "list_current_feeds",
    "list_versions",
    "find_version",
    "list_issues",
    "list_fetch_states",
    "find_fetch_state",
]

Executor = asyncpg.Connection | asyncpg.Pool


_q = QueryFile(Path(__file__).with_name("queries.sql"))


@dataclass(frozen=True, slots=True)
class CurrentFeed:
    """The accepted version a network serves: what the planner loads."""

    feed_id: str  # == network id; namespace of every id of the feed
    authority_id: str
    version_id: int
    sha256: str
    content_path: Path  # content-addressed zip
    timezone: str  # IANA zone of the feed's service days (from the registry; "" when unknown)
    fetched_at: dt.datetime
    fetch_started_at: dt.datetime  # when its download started: only a later one may replace it
    published_at: dt.datetime
    validity_start: dt.date | None
    validity_end: dt.date | None


@dataclass(frozen=True, slots=True)
class FeedVersion:
    version_id: int
    network_id: str
    authority_id: str
    sha256: str
    source: str
    status: str  # accepted | rejected | superseded
    fetched_at: dt.datetime
    validity_start: dt.date | None
    validity_end: dt.date | None
    size_bytes: int
    counts: dict[str, int] = field(default_factory=dict)
    issue_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    summary: str = ""
    content_path: str | None = None
    is_current: bool = False


@dataclass(frozen=True, slots=True)
class StoredIssue:
    code: str
    severity: str
    file: str | None
    row: int | None
    entity_id: str | None
    field: str | None
    value: str | None
    message: str
    count: int


@dataclass(frozen=True, slots=True)
class FetchState:
    network_id: str
    authority_id: str
    last_attempt_at: dt.datetime
    last_outcome: str  # accepted | rejected | unchanged | not_modified | failed
    last_error: str | None
    last_sha256: str | None
    etag: str | None
    last_modified: str | None
    consecutive_failures: int


async def lock_network(conn: asyncpg.Connection, network_id: str) -> None:
    await conn.execute(_q("lock_network"), network_id)


async def insert_version(conn: asyncpg.Connection, **values: Any) -> int:
    return await conn.fetchval(
        _q("insert_version"), values["network_id"], values["authority_id"], values["sha256"], values["source"],
        values["status"], values["fetched_at"], values["validity_start"], values["validity_end"],
        values["size_bytes"], values["counts"], values["issue_counts"], values["summary"], values["content_path"],
        values["etag"], values["last_modified"], values["fetch_started_at"],
    )


async def insert_issues(conn: asyncpg.Connection, version_id: int, issues: tuple[Issue, ...]) -> None:
    if not issues:
        return
    await conn.executemany(
        _q("insert_issues"),
        [(version_id, ordinal, i.code.value, i.severity.value, i.file, i.row, i.entity_id, i.field,
          None if i.value is None else i.value[:1000], i.message, i.count)
         for ordinal, i in enumerate(issues)],
    )


async def publish_current(conn: asyncpg.Connection, network_id: str, version_id: int, at: dt.datetime) -> None:
    await conn.execute(_q("publish_current"), network_id, version_id, at)


async def upsert_fetch_state(conn: asyncpg.Connection, *, network_id: str, authority_id: str, at: dt.datetime,
                             fetch_started_at: dt.datetime, outcome: str, error: str | None, sha256: str | None,
                             etag: str | None, last_modified: str | None, still_rejected: bool = False) -> None:
    """Record an attempt, unless one whose download started later already did (its state stands).

    ``still_rejected``: the attempt found the publisher still offering rejected content.
    """
    await conn.execute(_q("upsert_fetch_state"), network_id, authority_id, at, outcome, error, sha256, etag,
                       last_modified, still_rejected, fetch_started_at)


async def find_fetch_state(db: Executor, network_id: str) -> FetchState | None:
    row = await db.fetchrow(_q("find_fetch_state"), network_id)
    return None if row is None else FetchState(**dict(row))


async def list_fetch_states(db: Executor) -> list[FetchState]:
    return [FetchState(**dict(row)) for row in await db.fetch(_q("list_fetch_states"))]


async def list_current_feeds(db: Executor, *, timezones: dict[str, str] | None = None) -> list[CurrentFeed]:
    """Every network's current accepted version. ``timezones`` (network id -> zone) fills `timezone`."""
    zones = timezones or {}
    return [
        CurrentFeed(feed_id=row["network_id"], authority_id=row["authority_id"], version_id=row["version_id"],
                    sha256=row["sha256"], content_path=Path(row["content_path"]),
                    timezone=zones.get(row["network_id"], ""), fetched_at=row["fetched_at"],
                    fetch_started_at=row["fetch_started_at"], published_at=row["published_at"],
                    validity_start=row["validity_start"], validity_end=row["validity_end"])
        for row in await db.fetch(_q("list_current_feeds"))
    ]


def _version(row: asyncpg.Record) -> FeedVersion:
    return FeedVersion(**dict(row))


async def list_versions(db: Executor, network_ids: list[str] | None = None, *, limit: int = 1000) -> list[FeedVersion]:
    return [_version(row) for row in await db.fetch(_q("list_versions"), network_ids, limit)]


async def find_version(db: Executor, version_id: int) -> FeedVersion | None:
    row = await db.fetchrow(_q("find_version"), version_id)
    return None if row is None else _version(row)


async def list_issues(db: Executor, version_id: int, *, limit: int = 1000) -> list[StoredIssue]:
    return [
        StoredIssue(code=row["code"], severity=row["severity"], file=row["file"], row=row["row_number"],
                    entity_id=row["entity_id"], field=row["field"], value=row["value"], message=row["message"],
                    count=row["occurrences"])
        for row in await db.fetch(_q("list_issues"), version_id, limit)
    ]
