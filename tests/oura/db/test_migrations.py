"""Migrations are forward-only, applied once under a lock, and agree with schema.sql."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from oura.db.migrate import SCHEMA_FILE, MigrationError, apply_migrations, list_migrations
from tests.db import with_database

_CATALOG_QUERIES = {
    "columns": """
        SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, is_identity
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> 'oura_schema_migrations'
        ORDER BY table_name, column_name""",
    "constraints": """
        SELECT c.relname AS table_name, k.conname, pg_get_constraintdef(k.oid) AS definition
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relname <> 'oura_schema_migrations'
        ORDER BY 1, 2""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> 'oura_schema_migrations'
        ORDER BY 1, 2""",
    "enums": """
        SELECT t.typname, e.enumlabel, e.enumsortorder FROM pg_type t
        JOIN pg_enum e ON e.enumtypid = t.oid ORDER BY 1, 3""",
    "functions": """
        SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1""",
    "triggers": """
        SELECT event_object_table, trigger_name, action_timing, event_manipulation, action_statement
        FROM information_schema.triggers WHERE trigger_schema = 'public' ORDER BY 1, 2, 4""",
    "views": """
        SELECT table_name, view_definition FROM information_schema.views
        WHERE table_schema = 'public' ORDER BY 1""",
}


async def _catalog(dsn: str) -> dict[str, list[tuple]]:
    conn = await asyncpg.connect(dsn)
    try:
        return {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in _CATALOG_QUERIES.items()}
    finally:
        await conn.close()


async def _empty_database(pg_server) -> str:
    name = await pg_server.create_database(template="template0")
    return name


async def test_migrations_produce_exactly_schema_sql(pg_server):
    migrated, from_schema = await _empty_database(pg_server), await _empty_database(pg_server)
    try:
        conn = await asyncpg.connect(with_database(pg_server.dsn, migrated))
        try:
            applied = await apply_migrations(conn)
        finally:
            await conn.close()
        assert applied == [m.name for m in list_migrations()]
        conn = await asyncpg.connect(with_database(pg_server.dsn, from_schema))
        try:
            await conn.execute(SCHEMA_FILE.read_text(encoding="utf-8"))
        finally:
            await conn.close()
        left = await _catalog(with_database(pg_server.dsn, migrated))
        right = await _catalog(with_database(pg_server.dsn, from_schema))
        for part in _CATALOG_QUERIES:
            only_migrations = sorted(set(left[part]) - set(right[part]))
            only_schema = sorted(set(right[part]) - set(left[part]))
            assert not only_migrations and not only_schema, (
                f"{part} differ between migrations and schema.sql:\n"
                f"  only in migrations: {only_migrations}\n  only in schema.sql: {only_schema}"
            )
        assert left["columns"], "the schema is empty"
    finally:
        await pg_server.drop_database(migrated)
        await pg_server.drop_database(from_schema)


async def test_concurrent_migrators_apply_each_migration_once(pg_server):
    name = await _empty_database(pg_server)
    dsn = with_database(pg_server.dsn, name)
    try:
        conns = [await asyncpg.connect(dsn) for _ in range(3)]
        try:
            results = await asyncio.gather(*(apply_migrations(c) for c in conns))
        finally:
            for c in conns:
                await c.close()
        all_applied = [n for r in results for n in r]
        assert sorted(all_applied) == sorted(m.name for m in list_migrations())
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SELECT count(*) FROM oura_schema_migrations") == len(list_migrations())
            assert await apply_migrations(conn) == []
        finally:
            await conn.close()
    finally:
        await pg_server.drop_database(name)


async def test_an_edited_applied_migration_is_refused(pg_server, tmp_path):
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "0001_pre_first.sql").write_text("CREATE TABLE t (a int);")
    name = await _empty_database(pg_server)
    conn = await asyncpg.connect(with_database(pg_server.dsn, name))
    try:
        assert await apply_migrations(conn, directory) == ["0001_pre_first"]
        (directory / "0001_pre_first.sql").write_text("CREATE TABLE t (a bigint);")
        with pytest.raises(MigrationError, match="edited after being applied"):
            await apply_migrations(conn, directory)
        (directory / "0001_pre_first.sql").write_text("CREATE TABLE t (a int);")
        (directory / "0002_pre_broken.sql").write_text("CREATE TABLE u (a int); SELECT 1/0;")
        with pytest.raises(asyncpg.DivisionByZeroError):
            await apply_migrations(conn, directory)
        # the failed migration left nothing half-applied
        assert await conn.fetchval("SELECT to_regclass('public.u')") is None
        assert await conn.fetchval("SELECT count(*) FROM oura_schema_migrations") == 1
    finally:
        await conn.close()
        await pg_server.drop_database(name)
