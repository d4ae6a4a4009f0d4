"""The asyncpg pool: codecs, and the transaction helper every service function uses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

__all__ = ["create_pool", "transaction", "init_connection", "release_transaction_only"]


async def init_connection(conn: asyncpg.Connection) -> None:
    """jsonb and json arrive as Python values, and go in from Python values."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def release_transaction_only(conn: asyncpg.Connection) -> None:
    """The pool's reset on release: asyncpg has already rolled back any open transaction; nothing
    more is run. The default reset sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET
    ALL`` on every release, one more round trip per request (measured: 12 % of a sale's server time
    in bench/ticketing.py). It is not needed because no code leaves session state on a pooled
    connection: advisory locks are transaction-scoped (``pg_advisory_xact_lock``) except the
    migrator's, which unlocks in a ``finally``; nothing runs ``SET``, ``LISTEN`` or ``DECLARE``.
    Code that needs session state takes its own connection (``asyncpg.connect``), not a pooled
    one; tests/oura/test_pool.py checks the tree for those statements."""


async def create_pool(
    dsn: str, *, min_size: int = 2, max_size: int = 20, command_timeout_s: float = 30.0
) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout_s,
        init=init_connection,
        reset=release_transaction_only,
    )


@asynccontextmanager
async def transaction(
    pool: asyncpg.Pool, *, isolation: str = "read_committed"
) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside one transaction: committed on exit, rolled back on any error."""
    async with pool.acquire() as conn:
        async with conn.transaction(isolation=isolation):
            yield conn
