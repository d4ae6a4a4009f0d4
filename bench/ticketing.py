"""Benchmark: ticketing sales and validation ingestion against the running service, and the raw
PostgreSQL single-row insert rate of the same machine in the same run (the limit).

    .venv/bin/python bench/ticketing.py [--clients 50] [--sales-s 15] [--paced-rates 1,2,4,6]
                                        [--cards 2000] [--batch 500] [--batches 40] [--devices 4]

What runs:

1. an embedded PostgreSQL (pgserver) in a temporary folder, a fresh database, every migration;
2. the raw limit: N single-row INSERTs (autocommit, one round trip each) into a table shaped like
   a validation row, from 1 connection and from 8 concurrent connections; and the floor of one
   round trip (``SELECT 1``: wall time and the backend's CPU), which says how costly a context
   switch is on this machine;
3. the OùRA app (foundation + ticketing routes) in a *separate process* on 127.0.0.1, on a small
   generated demo region (`oura.demo`), so the load generator does not share its event loop;
4. sales: ``--clients`` concurrent sales points, each its own API key, selling a paper single ticket
   with a fresh Idempotency-Key per sale: closed loop (each client sends its next sale when the
   previous one returns: the throughput limit, where latency is clients / throughput by Little's
   law) and paced (each client sells ``rate`` times a second, for each of ``--paced-rates``: a
   sustained load where latency is the measure, counted from when each sale was due); during the
   closed loop, the CPU time of PostgreSQL (postmaster and backends), of the server and of the
   load generator is read from /proc and divided by the sales made: the CPU cost of one sale, and
   the throughput the machine's cores allow at that cost;
5. validations: ``--cards`` cards with a 10-trip contract, ``--devices`` validators posting
   ``--batches`` batches of ``--batch`` events concurrently; then the same batches again
   (idempotent replay: no decision changes, no trip taken twice), with the checks printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402


def serve(dsn: str, region: Path, port: int) -> None:
    """The service process: the real app factory with the ticketing routes, on loopback."""
    import logging

    from aiohttp import web

    from feeds.authorities import load_registry
    from feeds.gtfs.reader import read_gtfs
    from oura.app import create_app
    from oura.config import Config, DatabaseConfig, FeedsConfig, HttpConfig
    from ticketing.catalogue import FARE_FILES, build_catalogue, load_regional_fares
    from ticketing.http import routes
    from ticketing.startup import make_ticketing_context
    from ticketing.service import network_authorities

    logging.basicConfig(level=logging.WARNING)
    registry = load_registry(region / "registry.toml")
    feeds = {n.id: read_gtfs(n.static, only=FARE_FILES) for a in registry.authorities for n in a.networks}
    catalogue, _ = build_catalogue(feeds, regional=load_regional_fares(registry.regional_fares),
                                   region_timezone=registry.timezone)
    config = Config(
        data_dir=region,
        database=DatabaseConfig(url=dsn, pool_min_size=4, pool_max_size=20),
        http=HttpConfig(host="127.0.0.1", port=port),
        feeds=FeedsConfig(registry=None, ingest_on_start=False, realtime=False),
    )
    app = create_app(config, extra_routes=[routes],
                     extra_contexts=[make_ticketing_context(catalogue, network_authorities(registry))])
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def with_database(dsn: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def raw_insert_rate(dsn: str, rows: int, connections: int) -> float:
    conns = [await asyncpg.connect(dsn) for _ in range(connections)]
    await conns[0].execute("DROP TABLE IF EXISTS bench_raw; CREATE TABLE bench_raw (device text, event_id text, serial text, "
                           "at timestamptz, stop_id text, route_id text, PRIMARY KEY (device, event_id))")
    now = datetime.now(UTC)
    per = rows // connections

    async def worker(k: int, conn) -> None:
        for i in range(per):
            await conn.execute("INSERT INTO bench_raw VALUES ($1, $2, $3, $4, $5, $6)", f"d{k}", f"e{i}", "C1", now, "s", "r")

    started = time.perf_counter()
    await asyncio.gather(*(worker(k, c) for k, c in enumerate(conns)))
    elapsed = time.perf_counter() - started
    for conn in conns:
        await conn.close()
    return per * connections / elapsed


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time consumed so far by each of these processes (Linux /proc)."""
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings; a process absent before (a backend the pool opened
    meanwhile) counts from its start."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def postgres_pids(pgdata: Path) -> list[int]:
    """The postmaster (first line of postmaster.pid) and its children: backends, WAL writer..."""
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    children.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
    return [postmaster, *children]


async def wait_healthy(session: aiohttp.ClientSession, base: str, server: subprocess.Popen, tries: int) -> None:
    """Poll ``base``/healthz every 0.1 s until it answers 200, ``tries`` times at most; raise if the
    server process exits first."""
    for _ in range(tries):
        try:
            async with session.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        await asyncio.sleep(0.1)


async def round_trip(dsn: str, count: int = 2000) -> tuple[float, float]:
    """The machine's floor for one database round trip: ``SELECT 1`` on one connection, in ms of
    wall time and of backend CPU."""
    conn = await asyncpg.connect(dsn)
    try:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        cpu0, started = cpu_seconds([backend]), time.perf_counter()
        for _ in range(count):
            await conn.fetchval("SELECT 1")
        elapsed = time.perf_counter() - started
        return 1000 * elapsed / count, 1000 * cpu_used(cpu0, cpu_seconds([backend])) / count
    finally:
        await conn.close()


async def make_keys(dsn: str, role: str, authority: str, count: int) -> list[dict[str, str]]:
    from oura.auth import create_key

    conn = await asyncpg.connect(dsn)
    try:
        return [{"Authorization": f"Bearer {(await create_key(conn, role, authority))[1]}"} for _ in range(count)]
    finally:
        await conn.close()


ORDER = {"channel": "vending_machine", "payment": {"token": "tok_approve"}, "expected_total_minor": 230,
         "items": [{"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "paper", "quantity": 1}]}


async def sales(base: str, keys: list[dict[str, str]], duration_s: float, rate_per_client: float | None, label: str) -> dict:
    """Each client is one sales point with at most one sale in flight. Closed loop (no rate): the
    next sale leaves when the previous one returns. Paced: sale n is due at start + n / rate; the
    latency counts from when it was due, not from when it left (a sale delayed behind a slow one
    carries that delay: no coordinated omission)."""
    latencies: list[float] = []  # from when the sale was due (closed loop: when it left)
    service_times: list[float] = []  # from when the request left
    errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        deadline = time.perf_counter() + duration_s

        async def client(k: int) -> None:
            nonlocal errors
            n = 0
            due = time.perf_counter() + random.random() / (rate_per_client or 1e9)
            while time.perf_counter() < deadline:
                if rate_per_client:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    started = due
                    due += 1.0 / rate_per_client
                else:
                    started = time.perf_counter()
                sent = time.perf_counter()
                n += 1
                async with session.post(f"{base}/v1/orders", json=ORDER,
                                        headers={**keys[k], "Idempotency-Key": f"{label}-{k}-{n}"}) as response:
                    await response.read()
                    if response.status != 201:
                        errors += 1
                latencies.append(time.perf_counter() - started)
                service_times.append(time.perf_counter() - sent)

        started = time.perf_counter()
        await asyncio.gather(*(client(k) for k in range(len(keys))))
        elapsed = time.perf_counter() - started
    return {"sales": len(latencies), "per_s": len(latencies) / elapsed, "errors": errors,
            "p50_ms": 1000 * statistics.median(latencies), "p99_ms": 1000 * percentile(latencies, 0.99),
            "max_ms": 1000 * max(latencies), "p99_from_sent_ms": 1000 * percentile(service_times, 0.99)}


async def seed_cards(dsn: str, cards: int) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        serials = [f"CBENCH{i:08d}" for i in range(cards)]
        ids = await conn.fetch(
            "INSERT INTO ticketing_media (serial, kind, fare_media_id, issuing_authority_id, created_at) "
            "SELECT s, 'smartcard', 'oura-card', 'bench', $2 FROM unnest($1::text[]) AS s RETURNING medium_id", serials, now)
        await conn.execute(
            "INSERT INTO ticketing_contracts (medium_id, fare_product_id, network_ids, valid_from, trips_total, "
            "remaining_trips, transfer_window_s, created_at) "
            "SELECT m, 'tcl:10-trips', '{tcl}', $2, 10, 10, 3600, $2 FROM unnest($1::bigint[]) AS m",
            [r["medium_id"] for r in ids], now - timedelta(days=1))
        return serials
    finally:
        await conn.close()


async def validations(base: str, keys: list[dict[str, str]], serials: list[str], batch: int, batches: int) -> dict:
    rng = random.Random(3)
    t0 = datetime.now(UTC) - timedelta(hours=12)
    plans = []
    for b in range(batches):
        events = []
        for i in range(batch):
            serial = rng.choice(serials)
            events.append({"event_id": f"b{b}-{i}", "medium": serial,
                           "time": (t0 + timedelta(seconds=b * batch + i)).isoformat(),
                           "stop_id": "tcl:s", "route_id": rng.choice(["tcl:A", "tcl:B", "tcl:C", "tcl:D"]), "direction_id": 0})
        plans.append((keys[b % len(keys)], {"events": events}))

    async def run() -> tuple[float, list[dict]]:
        results: list[dict] = []
        async with aiohttp.ClientSession() as session:
            queue = list(plans)

            async def device(k: int) -> None:
                mine = [p for i, p in enumerate(queue) if i % len(keys) == k]
                for headers, body in mine:
                    async with session.post(f"{base}/v1/validations", json=body, headers=headers) as response:
                        data = await response.json()
                        assert response.status == 200, data
                        results.append(data)

            started = time.perf_counter()
            await asyncio.gather(*(device(k) for k in range(len(keys))))
            return time.perf_counter() - started, results

    first_s, first = await run()
    replay_s, replay = await run()
    events = batch * batches
    accepted = sum(d["accepted"] for r in first for d in r["decisions"])
    consumed = sum(d["reason"] == "valid" for r in first for d in r["decisions"])
    return {"events": events, "per_s": events / first_s, "replay_per_s": events / replay_s,
            "accepted": accepted, "valid": consumed,
            "replayed": sum(r["replayed_events"] for r in replay),
            "new_in_replay": sum(r["new_events"] for r in replay)}


async def main_async(args: argparse.Namespace) -> None:
    from oura.db.embedded import EmbeddedPostgres
    from oura.db.migrate import apply_migrations
    from oura.demo.generate import generate_region

    work = Path(tempfile.mkdtemp(prefix="oura-bench-ticketing-"))
    generate_region(work / "demo", seed=1, scale=0.02, start_date=date(2026, 3, 2), fmt="dir", days=7)
    pg = EmbeddedPostgres(work / "pgdata")
    server_dsn = pg.start()
    try:
        admin = await asyncpg.connect(server_dsn)
        await admin.execute("CREATE DATABASE bench")
        await admin.close()
        dsn = with_database(server_dsn, "bench")
        conn = await asyncpg.connect(dsn)
        await apply_migrations(conn)
        await conn.close()

        raw_1 = await raw_insert_rate(dsn, args.raw_rows, 1)
        raw_8 = await raw_insert_rate(dsn, args.raw_rows, 8)
        print(f"raw single-row INSERT: {raw_1:,.0f} rows/s (1 connection), {raw_8:,.0f} rows/s (8 connections)", flush=True)
        wall_ms, backend_ms = await round_trip(dsn)
        print(f"one round trip (SELECT 1, 1 connection): {wall_ms:.3f} ms wall, {backend_ms:.3f} ms of backend CPU", flush=True)

        port = args.port
        server = subprocess.Popen([sys.executable, __file__, "--serve", dsn, str(work / "demo"), str(port)],
                                  cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as session:
                await wait_healthy(session, base, server, 300)
            sale_keys = await make_keys(dsn, "sales_point", "sytral", args.clients)
            await sales(base, sale_keys[:4], 2.0, None, "warm")  # warm-up
            processes = {"postgres": lambda: postgres_pids(work / "pgdata"), "server": lambda: [server.pid],
                         "load generator": lambda: [os.getpid()]}
            cpu0 = {name: cpu_seconds(pids()) for name, pids in processes.items()}
            closed = await sales(base, sale_keys, args.sales_s, None, "closed")
            print(f"sales, closed loop, {args.clients} clients: {closed}", flush=True)
            per_sale = {name: 1000 * cpu_used(cpu0[name], cpu_seconds(pids())) / closed["sales"]
                        for name, pids in processes.items()}
            print("CPU per sale in the closed loop: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in per_sale.items())
                  + f"; total {sum(per_sale.values()):.2f} ms on {os.cpu_count()} cores -> at most "
                  f"{1000 * os.cpu_count() / sum(per_sale.values()):.0f} sales/s", flush=True)
            paced_runs = []
            for rate in args.paced_rates:
                paced = await sales(base, sale_keys, args.sales_s, rate, f"paced{rate}")
                paced_runs.append((rate, paced))
                print(f"sales, paced {rate}/s per client ({rate * args.clients:g} sales/s offered), "
                      f"{args.clients} clients: {paced}", flush=True)
            held = 0.0  # the highest offered rate up to which every paced run kept p99 < 50 ms
            for rate, run in sorted(paced_runs):
                if run["p99_ms"] >= 50 or run["errors"]:
                    break
                held = rate * args.clients
            print(f"sale p99 < 50 ms with {args.clients} concurrent clients held up to {held:g} sales/s offered "
                  f"(of the rates tried); closed-loop saturation "
                  f"{closed['per_s']:.0f} sales/s", flush=True)
            paced = paced_runs[0][1]

            serials = await seed_cards(dsn, args.cards)
            device_keys = await make_keys(dsn, "device", "sytral", args.devices)
            result = await validations(base, device_keys, serials, args.batch, args.batches)
            conn = await asyncpg.connect(dsn)
            taken = await conn.fetchval("SELECT sum(10 - remaining_trips) FROM ticketing_contracts WHERE fare_product_id = 'tcl:10-trips'")
            recorded = await conn.fetchval("SELECT count(*) FROM ticketing_validations")
            await conn.close()
            print(f"validations: {result}; trips taken {taken} == valid decisions {result['valid']}: {taken == result['valid']}; "
                  f"rows {recorded}", flush=True)
            best_raw = max(raw_1, raw_8)
            print(f"validation ingestion = {100 * result['per_s'] / best_raw:.0f}% of the best raw insert rate "
                  f"(target >= 30%); sale p99 paced {args.paced_rates[0]:g}/s per client = {paced['p99_ms']:.1f} ms, closed = {closed['p99_ms']:.1f} ms "
                  f"(target < 50 ms)", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=20)
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--sales-s", type=float, default=15.0)
    parser.add_argument("--paced-rates", type=lambda text: [float(r) for r in text.split(",")], default=[1.0, 2.0, 4.0, 6.0],
                        help="sales per second per client, one paced run each (comma-separated)")
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--raw-rows", type=int, default=8000)
    parser.add_argument("--port", type=int, default=18731)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
