"""The pool releases a connection with one rollback at most, and nothing leaves session state on it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oura.db.pool import create_pool

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("oura", "feeds", "journey_planner", "ticketing", "nfc_gateway")
# Statements whose effect outlives a transaction: the lean reset would hand them to the next user.
SESSION_STATE = re.compile(r"\bpg_(try_)?advisory_lock\(|\bLISTEN\s+\w|\bDECLARE\s+\w+\s+[\w\s]*CURSOR\b"
                           r"|^\s*SET\s+(?!LOCAL)\w+\s*(=|TO\b)", re.MULTILINE)  # SQL keywords are upper case here
MIGRATOR = ROOT / "oura" / "db" / "migrate.py"  # takes its lock and unlocks it in a finally


def session_statements(text: str) -> list[str]:
    """The session-state statements of a source text; ``UPDATE t`` + newline + ``SET x = ...`` is not one."""
    found = []
    for match in SESSION_STATE.finditer(text):
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
        if match.group(0).lstrip().startswith("SET") and "UPDATE" in before:
            continue
        found.append(match.group(0).strip())
    return found


@pytest.mark.asyncio
async def test_a_released_connection_has_no_open_transaction(db_dsn):
    pool = await create_pool(db_dsn, min_size=1, max_size=1)
    try:
        conn = await pool.acquire()
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute("CREATE TABLE pool_probe (x int)")
        await pool.release(conn)  # released mid-transaction, as a crashed handler would
        async with pool.acquire() as again:
            assert not again.is_in_transaction()
            assert await again.fetchval("SELECT to_regclass('pool_probe')") is None  # rolled back
    finally:
        await pool.close()


def test_no_code_leaves_session_state_on_a_pooled_connection():
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix not in (".py", ".sql") or path == MIGRATOR or "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(ROOT)}: {found}" for found in session_statements(text)]
    assert offenders == []


def test_the_pattern_finds_session_state():
    found = session_statements(
        "UPDATE t\nSET x = 1;\nSELECT pg_advisory_lock(1);\nSET search_path = x;\n  SET LOCAL lock_timeout = 1;\nLISTEN ch;\n"
        "DECLARE c NO SCROLL CURSOR FOR SELECT 1;\nSELECT pg_advisory_xact_lock(1); -- we listen, declare, set\n")
    assert found == ["pg_advisory_lock(", "SET search_path =", "LISTEN c", "DECLARE c NO SCROLL CURSOR"]
