"""Test databases: one embedded (or TEST_DATABASE_URL) server per test session, a migrated
template database per session, and a fresh clone of it for each test that asks (procrastinate's
pattern), so tests share no state and run in any order."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from oura.db.embedded import EmbeddedPostgres
from oura.db.migrate import apply_migrations

REPO_ROOT = Path(__file__).resolve().parents[1]


def with_database(dsn: str, name: str) -> str:
    """The same server DSN pointing at database ``name``."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


class TestServer:
    """A PostgreSQL server for the test session, and the databases made on it."""

    def __init__(self) -> None:
        self.embedded: EmbeddedPostgres | None = None
        url = os.environ.get("TEST_DATABASE_URL")
        if url:
            self.dsn = url
        else:
            pgdata = Path(os.environ.get("OURA_TEST_PGDATA", REPO_ROOT / "var" / "test-pgdata"))
            self.embedded = EmbeddedPostgres(pgdata)
            self.dsn = self.embedded.start()
        self.template = f"oura_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def create_template(self) -> None:
        admin = await asyncpg.connect(self.dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{self.template}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(with_database(self.dsn, self.template))
        try:
            await apply_migrations(conn)
        finally:
            await conn.close()

    async def create_database(self, *, template: str | None = None) -> str:
        name = f"oura_test_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(self.dsn)
        try:
            source = template or self.template
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        finally:
            await admin.close()
        return name

    async def drop_database(self, name: str) -> None:
        admin = await asyncpg.connect(self.dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
