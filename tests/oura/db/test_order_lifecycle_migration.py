"""Migration 0005 moves the old "refunded with a refusal" orders to the `failed` status."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import asyncpg
import pytest

from oura.db.migrate import MIGRATIONS_DIR, apply_migrations, list_migrations
from tests.db import with_database

ORDER = """
INSERT INTO ticketing_orders (sales_point_key_id, idempotency_key, request_hash, selling_authority_id, channel, status,
                              total_minor, currency, refunded_minor, request, created_at, updated_at)
VALUES ('desk', $1, 'h', 'grenoble', 'desk', $2, 6000, 'EUR', $3, $4, $5, $5) RETURNING order_id"""


async def test_refused_orders_become_failed_with_their_reason(pg_server, tmp_path):
    before = tmp_path / "migrations"
    before.mkdir()
    for migration in list_migrations():
        if migration.version < "0005":
            shutil.copy(migration.path, before)
    name = await pg_server.create_database(template="template0")
    conn = await asyncpg.connect(with_database(pg_server.dsn, name))
    try:
        await apply_migrations(conn, before)
        refusal = {"code": "medium_not_active", "line_no": 1, "medium": "C1", "medium_status": "lost"}
        now = datetime(2026, 3, 2, tzinfo=UTC)
        refused = await conn.fetchval(ORDER, "k1", "refunded", 6000, json.dumps({"token": "t", "lines": [], "refusal": refusal}), now)
        refunded = await conn.fetchval(ORDER, "k2", "refunded", 6000, '{"token": "t", "lines": []}', now)
        paid = await conn.fetchval(ORDER, "k3", "paid", 0, '{"token": "t", "lines": []}', now)

        assert await apply_migrations(conn, MIGRATIONS_DIR) == [m.name for m in list_migrations() if m.version >= "0005"]
        rows = {r["order_id"]: r for r in await conn.fetch(
            "SELECT order_id, status, failure_code, failure_detail::text AS detail, request::text AS request,"
            " refunded_minor FROM ticketing_orders")}
        assert (rows[refused]["status"], rows[refused]["failure_code"], rows[refused]["refunded_minor"]) == (
            "failed", "medium_not_active", 6000)
        assert rows[refused]["detail"] == '{"medium": "C1", "line_no": 1, "medium_status": "lost"}'
        assert "refusal" not in rows[refused]["request"]
        assert [(rows[i]["status"], rows[i]["failure_code"], rows[i]["detail"]) for i in (refunded, paid)] == [
            ("refunded", None, None), ("paid", None, None)]
        with pytest.raises(asyncpg.CheckViolationError):  # failed <=> a failure code
            await conn.execute("UPDATE ticketing_orders SET failure_code = NULL WHERE order_id = $1", refused)
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE ticketing_orders SET failure_code = 'x' WHERE order_id = $1", paid)
    finally:
        await conn.close()
        await pg_server.drop_database(name)
