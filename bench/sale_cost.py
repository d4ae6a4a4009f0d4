"""Benchmark: what one sale costs PostgreSQL, statement by statement, with nothing else running.

    .venv/bin/python bench/sale_cost.py [--sales 2000]

Sells ``--sales`` paper singles one after the other through `ticketing.selling.sell` (no HTTP) on a
pool of one connection to an embedded PostgreSQL in a temporary folder, and reads that backend's
CPU time (/proc) around every statement: the CPU one sale's statements cost the database when no
other backend competes for the cores. bench/ticketing.py measures the same under 50 concurrent
clients; the difference is what concurrency (context switches between 20 backends) adds.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.ticketing import ORDER, cpu_seconds, cpu_used  # noqa: E402


async def main_async(count: int) -> None:
    from feeds.authorities import load_registry
    from feeds.gtfs.reader import read_gtfs
    from oura.db.embedded import EmbeddedPostgres
    from oura.db.migrate import apply_migrations
    from oura.db.pool import create_pool
    from oura.demo.generate import generate_region
    from ticketing import selling
    from ticketing.requests import parse_sale_request
    from ticketing.catalogue import FARE_FILES, build_catalogue, load_regional_fares
    from ticketing.payments import TestPaymentProvider
    from ticketing.repository import load_queries
    from ticketing.service import network_authorities

    work = Path(tempfile.mkdtemp(prefix="oura-bench-sale-cost-"))
    generate_region(work / "demo", seed=1, scale=0.02, start_date=date(2026, 3, 2), fmt="dir", days=7)
    registry = load_registry(work / "demo" / "registry.toml")
    feeds = {n.id: read_gtfs(n.static, only=FARE_FILES) for a in registry.authorities for n in a.networks}
    catalogue, _ = build_catalogue(feeds, regional=load_regional_fares(registry.regional_fares),
                                   region_timezone=registry.timezone)
    authorities = network_authorities(registry)
    pg = EmbeddedPostgres(work / "pgdata")
    dsn = pg.start()
    try:
        pool = await create_pool(dsn, min_size=1, max_size=1)
        async with pool.acquire() as conn:
            await apply_migrations(conn)
            backend = await conn.fetchval("SELECT pg_backend_pid()")
        names = {sql: name for name, sql in load_queries().items()}
        spent: collections.Counter[str] = collections.Counter()
        calls: collections.Counter[str] = collections.Counter()
        fetchrow = asyncpg.connection.Connection.fetchrow

        async def measured_fetchrow(self, query, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
            before = cpu_seconds([backend])
            try:
                return await fetchrow(self, query, *args, **kwargs)
            finally:
                name = names.get(query, query[:40])
                spent[name] += cpu_used(before, cpu_seconds([backend]))
                calls[name] += 1

        provider = TestPaymentProvider()

        async def sell(key: str) -> None:
            await selling.sell(pool, catalogue, authorities, provider, sales_point_key_id="bench", selling_authority_id="sytral",
                               request=parse_sale_request(ORDER, key), now=datetime.now(UTC))

        for i in range(50):  # warm-up: prepared statements, caches
            await sell(f"warm-{i}")
        asyncpg.connection.Connection.fetchrow = measured_fetchrow
        before, started = cpu_seconds([backend]), time.perf_counter()
        for i in range(count):
            await sell(f"sale-{i}")
        elapsed = time.perf_counter() - started
        total = cpu_used(before, cpu_seconds([backend]))
        asyncpg.connection.Connection.fetchrow = fetchrow
        print(f"{count} sales one after the other: {1000 * elapsed / count:.2f} ms each (wall), "
              f"{1000 * total / count:.2f} ms of backend CPU each")
        for name, seconds in spent.most_common():
            print(f"  {name}: {1000 * seconds / calls[name]:.3f} ms of backend CPU per call ({calls[name]} calls)")
        await pool.close()
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=2000)
    asyncio.run(main_async(parser.parse_args().sales))


if __name__ == "__main__":
    main()
