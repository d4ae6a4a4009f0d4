"""Forward-only plain-SQL migrations, applied under an advisory lock.

Files live in ``oura/db/migrations`` and are named ``NNNN_{pre|post}_short_description.sql``;
they run in numeric order, each in its own transaction, and are recorded in
``oura_schema_migrations`` with a checksum. Two processes starting together serialise on a
PostgreSQL advisory lock, so only one applies a given migration. An applied migration must never
be edited: a changed checksum stops the migrator with an error rather than silently diverging.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

__all__ = ["Migration", "MigrationError", "list_migrations", "apply_migrations", "MIGRATIONS_DIR"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SCHEMA_FILE = Path(__file__).with_name("schema.sql")
_LOCK_KEY = 0x6F757261  # "oura"
_NAME = re.compile(r"^(\d{4})_(pre|post)_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    """The migrations on disk and the database disagree."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def list_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"badly named migration file: {path.name}")
        migrations.append(Migration(version=match.group(1), name=path.stem, path=path))
    versions = [m.version for m in migrations]
    if len(versions) != len(set(versions)):
        raise MigrationError(f"two migration files share a number: {versions}")
    return migrations


async def apply_migrations(
    conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR
) -> list[str]:
    """Apply every pending migration; return the names applied (empty when up to date)."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS oura_schema_migrations (
                version text PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        rows = await conn.fetch("SELECT version, name, checksum FROM oura_schema_migrations")
        done = {row["version"]: row for row in rows}
        for migration in list_migrations(directory):
            row = done.get(migration.version)
            if row is not None:
                if row["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.name} was edited after being applied "
                        "(write a new migration instead)"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO oura_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            applied_now.append(migration.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now
