"""Released rows written straight into stat_releases / stat_cells, for the report tests.

    rid = await add_release(pool, "validations", "day", date(2026, 3, 2))
    await add_cells(pool, rid, "route_hour", "tcl", {("tcl:C3", "08"): 12, ("tcl:C3", "*"): None}, authorities=["sytral"])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

import asyncpg

__all__ = ["add_release", "add_cells"]


async def add_release(pool: asyncpg.Pool, kind: str, period_kind: str, start: date, *, method: str = "suppression",
                      parameters: Mapping | None = None) -> int:
    return await pool.fetchval(
        "INSERT INTO stat_releases (kind, period_kind, period_start, method, parameters, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING release_id", kind, period_kind, start, method,
        dict(parameters or {"k": 10}), datetime(2026, 3, 3, 5, 0, tzinfo=UTC))


async def add_cells(pool: asyncpg.Pool, release_id: int, family: str, scope: str,
                    cells: Mapping[tuple[str, str], int | None | tuple], *, authorities: Sequence[str],
                    networks: Sequence[str] | None = None) -> None:
    """cells: (row, col) -> count (None: suppressed), or (count, amount_minor[, parts_suppressed])."""
    rows = []
    for (row, col), value in cells.items():
        count, amount, parts = (value + (0,))[:3] if isinstance(value, tuple) and len(value) == 2 else (
            value if isinstance(value, tuple) else (value, None, 0))
        rows.append((release_id, family, scope, row, col, count, amount, parts, list(authorities),
                     list(networks if networks is not None else [scope])))
    await pool.executemany(
        "INSERT INTO stat_cells (release_id, family, scope, row_key, col_key, count, amount_minor, parts_suppressed, "
        "authority_ids, network_ids) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", rows)
