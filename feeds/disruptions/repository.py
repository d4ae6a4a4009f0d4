"""PostgreSQL storage of operator disruptions and their audit (SQL in queries.sql).

Each change and its audit row are written in one transaction, so the audit never misses a change
nor records one that did not happen. Returned values are `Disruption`s and `AuditEntry`s;
asyncpg records never leave this module.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from feeds.disruptions.model import Disruption, DisruptionDraft, Kind, Period
from oura.db.queries import QueryFile

__all__ = ["AuditEntry", "Actor", "DisruptionRepository"]


_q = QueryFile(Path(__file__).with_name("queries.sql"))


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: the API key and the authority it acts for (None for an admin)."""

    key_id: str
    authority_id: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    disruption_id: int
    action: str  # create | update | end
    key_id: str
    authority_id: str | None
    at: dt.datetime
    before: Mapping[str, Any] | None
    after: Mapping[str, Any]


def _disruption(row: asyncpg.Record) -> Disruption:
    return Disruption(
        id=row["disruption_id"], authority_id=row["authority_id"], network_id=row["network_id"],
        kind=Kind(row["kind"]), spec=row["spec"], period=Period(row["period_start"], row["period_end"]),
        cause=row["cause"], effect=row["effect"], header_text=row["header_text"],
        description_text=row["description_text"], url=row["url"], created_at=row["created_at"],
        updated_at=row["updated_at"], ended_at=row["ended_at"],
    )


class DisruptionRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(self, draft: DisruptionDraft, authority_id: str, actor: Actor, now: dt.datetime,
                     idempotency: tuple[str, str] | None = None) -> tuple[Disruption, bool]:
        """Store a new disruption and its 'create' audit row; with ``idempotency`` (key, request
        hash), a retry returns the first one (False) and a reused key raises KeyError(hash)."""
        key, digest = idempotency if idempotency is not None else (None, None)
        async with self.pool.acquire() as conn, conn.transaction():
            if key is not None:
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"disruption:{actor.key_id}:{key}")
                row = await conn.fetchrow(_q("find_by_idempotency_key"), actor.key_id, key)
                if row is not None:
                    if row["request_hash"] != digest:
                        raise KeyError(key)
                    return _disruption(row), False
            row = await conn.fetchrow(
                _q("insert_disruption"), authority_id, draft.network_id, draft.kind.value, dict(draft.spec),
                draft.period.start, draft.period.end, draft.cause, draft.effect, dict(draft.header_text),
                dict(draft.description_text), dict(draft.url), now, actor.key_id, key, digest)
            created = _disruption(row)
            await conn.execute(_q("insert_audit"), created.id, "create", actor.key_id, actor.authority_id, now,
                               None, created.to_json(now))
        return created, True

    async def get(self, disruption_id: int) -> Disruption | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_q("get_disruption"), disruption_id)
        return None if row is None else _disruption(row)

    async def update(self, changed: Disruption, before: Disruption, actor: Actor, now: dt.datetime) -> Disruption:
        """Write the new period and texts of ``changed`` and an 'update' audit row."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                _q("update_disruption"), changed.id, changed.period.start, changed.period.end, changed.cause,
                dict(changed.header_text), dict(changed.description_text), dict(changed.url), now)
            after = _disruption(row)
            await conn.execute(_q("insert_audit"), after.id, "update", actor.key_id, actor.authority_id, now,
                               before.to_json(now), after.to_json(now))
        return after

    async def end(self, before: Disruption, actor: Actor, now: dt.datetime) -> Disruption | None:
        """Mark it ended (kept) with an 'end' audit row; None when it had ended already."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(_q("end_disruption"), before.id, now)
            if row is None:
                return None
            after = _disruption(row)
            await conn.execute(_q("insert_audit"), after.id, "end", actor.key_id, actor.authority_id, now,
                               before.to_json(now), after.to_json(now))
        return after

    async def list(self, authority_id: str | None, *, include_ended: bool, limit: int = 500) -> list[Disruption]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_q("list_disruptions"), authority_id, include_ended, limit)
        return [_disruption(r) for r in rows]

    async def list_current(self, now: dt.datetime) -> list[Disruption]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_q("list_current_disruptions"), now)
        return [_disruption(r) for r in rows]

    async def list_audit(self, disruption_id: int) -> list[AuditEntry]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_q("list_audit"), disruption_id)
        return [AuditEntry(r["disruption_id"], r["action"], r["key_id"], r["authority_id"], r["at"], r["before"],
                           r["after"]) for r in rows]
