"""The HTTP side of the statistics benchmark (bench/statistics.py): the service process it starts,
the upload of validations over ``POST /v1/validations``, and the latency of the statistics routes."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import numpy as np

from bench.statistics_month import Network
from bench.ticketing import percentile

def serve(dsn: str, region: Path, port: int) -> None:
    """The service process: the full app factory, the ticketing context with the demo catalogue,
    the statistics job off (the bench releases itself), on loopback."""
    import logging

    from aiohttp import web

    from feeds.authorities import load_registry
    from oura.app import create_app
    from oura.config import Config, DatabaseConfig, FeedsConfig, HttpConfig, StatisticsConfig
    from ticketing.catalogue import load_catalogue
    from ticketing.service import network_authorities
    from ticketing.startup import make_ticketing_context

    logging.basicConfig(level=logging.WARNING)
    registry = load_registry(region / "registry.toml")
    catalogue, _ = load_catalogue(registry)
    config = Config(
        data_dir=region,
        database=DatabaseConfig(url=dsn, pool_min_size=4, pool_max_size=20),
        http=HttpConfig(host="127.0.0.1", port=port),
        feeds=FeedsConfig(registry=None, ingest_on_start=False, realtime=False),
        statistics=StatisticsConfig(every_s=0),
    )
    app = create_app(config, extra_contexts=[make_ticketing_context(catalogue, network_authorities(registry))])
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)



async def wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the server did not start")


async def seed_cards(dsn: str, cards: int, network: str, authority: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        serial_list = [f"CBENCH{i:010d}" for i in range(cards)]
        ids = await conn.fetch(
            "INSERT INTO ticketing_media (serial, kind, fare_media_id, issuing_authority_id, created_at) "
            "SELECT s, 'smartcard', 'oura-card', $2, $3 FROM unnest($1::text[]) AS s RETURNING medium_id",
            serial_list, authority, now)
        await conn.execute(
            "INSERT INTO ticketing_contracts (medium_id, fare_product_id, rider_category_id, network_ids, valid_from, "
            "trips_total, remaining_trips, transfer_window_s, created_at) "
            "SELECT m, $3 || ':10-trips', 'adult', ARRAY[$3], $2, 10, 10, 3600, $2 FROM unnest($1::bigint[]) AS m",
            [r["medium_id"] for r in ids], now - timedelta(days=1), network)
        return serial_list
    finally:
        await conn.close()


async def ingest(base: str, keys: list[dict[str, str]], serial_list: list[str], net: Network, batch: int,
                 batches: int) -> dict:
    """Devices post batches of events of today (real stops and routes of the network)."""
    rng = np.random.default_rng(3)
    t0 = datetime.now(UTC) - timedelta(hours=12)
    rows = np.flatnonzero(net.boardable)
    plans = []
    for b in range(batches):
        picked = rows[rng.integers(len(rows), size=batch)]
        cards = rng.integers(len(serial_list), size=batch)
        events = [{"event_id": f"http-{b}-{i}", "medium": serial_list[int(cards[i])],
                   "time": (t0 + timedelta(seconds=b * batch + i)).isoformat(),
                   "stop_id": net.stop_keys[net.tt.st_stop[r]], "route_id": net.route_keys[net.trip_route[net.row_trip[r]]],
                   "direction_id": int(net.directions[net.row_trip[r]])} for i, r in enumerate(picked)]
        plans.append((keys[b % len(keys)], {"events": events}))
    results: list[dict] = []
    async with aiohttp.ClientSession() as session:
        async def device(k: int) -> None:
            for headers, body in plans[k::len(keys)]:
                async with session.post(f"{base}/v1/validations", json=body, headers=headers) as response:
                    data = await response.json()
                    assert response.status == 200, data
                    results.append(data)

        started = time.perf_counter()
        await asyncio.gather(*(device(k) for k in range(len(keys))))
        elapsed = time.perf_counter() - started
    events = batch * batches
    return {"events": events, "seconds": round(elapsed, 2), "per_s": events / elapsed,
            "accepted": sum(d["accepted"] for r in results for d in r["decisions"])}


async def measure_routes(base: str, routes: list[tuple[str, str, dict[str, str]]], requests: int,
                         concurrency: int) -> list[tuple[str, dict]]:
    out = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        for label, path, headers in routes:
            async with session.get(base + path, headers=headers) as response:  # warm-up, and the answer checked
                body = await response.read()
                if response.status != 200:
                    out.append((label, {"status": response.status, "body": body[:200].decode(errors="replace")}))
                    continue
            latencies: list[float] = []
            statuses: dict[int, int] = defaultdict(int)
            todo = iter(range(requests))

            async def client() -> None:
                for _ in todo:
                    started = time.perf_counter()
                    async with session.get(base + path, headers=headers) as response:
                        await response.read()
                        statuses[response.status] += 1
                    latencies.append(1000 * (time.perf_counter() - started))

            await asyncio.gather(*(client() for _ in range(concurrency)))
            out.append((label, {"n": len(latencies), "bytes": len(body), "p50_ms": statistics.median(latencies),
                                "p95_ms": percentile(latencies, 0.95), "p99_ms": percentile(latencies, 0.99),
                                "statuses": dict(statuses)}))
            r = out[-1][1]
            print(f"  {label:<58} p50 {r['p50_ms']:7.1f}  p95 {r['p95_ms']:7.1f}  p99 {r['p99_ms']:7.1f} ms"
                  f"  ({r['bytes']:,} bytes, {dict(statuses)})", flush=True)
    return out

