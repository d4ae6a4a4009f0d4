"""The asyncpg pool: codecs, and the transaction helper every service function uses.

Outages. asyncpg pools reconnect lazily: a connection that broke is replaced by a new one on a
later acquire, so the pool recovers by itself once the server answers again. While it does not,
what a request gets is one of `DATABASE_UNAVAILABLE` (a connection lost in the middle of a query,
or a new one refused); the HTTP error middleware answers those 503 ``database_unavailable`` with
Retry-After instead of a bare 500. Connecting fails with plain ``OSError``s (refused, no socket
file, timeout), too broad to be told apart from a handler's own file errors, so the pool's
``connect`` turns them into `DatabaseUnreachable` at the source."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from ..errors import DatabaseUnavailable

__all__ = [
    "create_pool",
    "transaction",
    "init_connection",
    "release_transaction_only",
    "DatabaseUnreachable",
    "DatabaseUnavailable",
    "DATABASE_UNAVAILABLE",
]


class DatabaseUnreachable(ConnectionError):
    """A new connection to the database could not be made (refused, no server, timeout)."""


# What reaching an unavailable database raises: a retry later can succeed, so these are a 503,
# never a 500. InternalClientError is what asyncpg raises when a connection whose server died is
# used again before the pool has noticed (its protocol state is broken).
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # lost in the middle of a query, or refused by the server
    asyncpg.CannotConnectNowError,  # the server is starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.InternalClientError,
    ConnectionError,  # DatabaseUnreachable, and a reset socket
)


async def _connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(*args, **kwargs)
    except (OSError, TimeoutError) as error:
        raise DatabaseUnreachable(f"cannot connect to the database: {error}") from error


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
        connect=_connect,
    )


@asynccontextmanager
async def transaction(
    pool: asyncpg.Pool, *, isolation: str = "read_committed"
) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside one transaction: committed on exit, rolled back on any error."""
    async with pool.acquire() as conn:
        async with conn.transaction(isolation=isolation):
            yield conn
