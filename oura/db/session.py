"""Reaching the configured database from a command-line tool (outside the app's lifecycle)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from ..config import Config

__all__ = ["database_dsn"]


@contextlib.asynccontextmanager
async def database_dsn(config: Config, *, keep_running: bool = False) -> AsyncIterator[str]:
    """The configured DSN, starting the embedded server for the duration when none is configured."""
    if config.database.url:
        yield config.database.url
        return
    from ..concurrency import run_blocking
    from .embedded import EmbeddedPostgres

    embedded = EmbeddedPostgres(config.database.embedded_pgdata, keep_running=keep_running)
    dsn = await run_blocking(embedded.start)
    try:
        yield dsn
    finally:
        if not keep_running:
            await run_blocking(embedded.stop)
