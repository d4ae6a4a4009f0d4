"""Benchmark: the statistics query routes over HTTP (issue 14, "statistics queries p95 <= 100 ms").

Two steps, so the (slow) fill is done once and the routes measured as often as wanted:

    .venv/bin/python bench/statistics_queries.py fill --work /tmp/statq [--validations 1000000]
                     [--sales 100000] [--days 30] [--workers 2]
    (or, on a folder kept by `bench/statistics.py --keep DIR --load-only`, a copy of it best:
    .venv/bin/python bench/statistics_queries.py release --work DIR [--workers 2])
    .venv/bin/python bench/statistics_queries.py measure --work /tmp/statq [--requests 40]
                     [--concurrency 4] [--port 18751]

``fill`` builds a database in ``--work`` (an embedded PostgreSQL kept there) the way
bench/statistics.py does, with its functions: the demo region, a simulated month of sales and
validations bulk-loaded by COPY, every day released with suppression (``--workers`` processes,
each releasing its share of the days), then the month. It writes ``state.json`` (the fullest day,
the month, the biggest network and its authority). Nothing is purged, nothing is ingested over
HTTP: this bench is about reads.

``measure`` starts the embedded PostgreSQL of ``--work`` again, the full app factory in a separate
process (as bench/statistics.py serves it), an authority key of the biggest network and an admin
key, then runs ``--requests`` requests per route at ``--concurrency`` after one warm-up request
(whose latency is reported apart: for a chart or the report it is the render before the cache
holds it), and prints a markdown table: p50 / p95 / p99, bytes, the first request. A route whose
label ends in "If-None-Match" sends the ETag of its first answer (revalidation: 304 expected).
The client (aiohttp) sends ``Accept-Encoding: gzip, deflate`` unless a route says otherwise, so CSV
exports come gzip-compressed and their latency includes the client's decompression (in this
process, on the same cores); bytes are counted decompressed. A label with "not decompressed"
reads the compressed bytes as they are (what the server costs). ``fill`` and ``release`` skip the days already released, so ``release`` also
finishes a folder kept by an interrupted ``bench/statistics.py --keep DIR`` (write its
``bench.json`` first: dsn, timezone, network_authority, days, per_day).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
import numpy as np  # noqa: E402

from bench.ticketing import make_keys, percentile, with_database  # noqa: E402


MONTH_TIMEOUT_S = 3600.0


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def log(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S} UTC, {load_average()}] {text}", flush=True)


# ---------------------------------------------------------------- fill


async def fill(args: argparse.Namespace) -> None:
    from bench import statistics as sb
    from feeds.authorities import load_registry
    from oura.db.embedded import EmbeddedPostgres
    from oura.db.migrate import apply_migrations
    from oura.demo.generate import generate_region
    from oura.demo.region import COACH_NETWORKS, URBAN_AREAS
    from oura.usage import load_usage_inputs
    from ticketing.catalogue import load_catalogue

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    first_day = args.first_day or sb.default_first_day()
    days = [first_day + timedelta(days=k) for k in range(args.days)]
    log(f"fill {work}: {args.days} days {days[0]}..{days[-1]}, {args.validations:,} validations, {args.sales:,} sales")
    generate_region(work / "demo", seed=1, scale=args.scale, start_date=days[0] - timedelta(days=7), fmt="dir",
                    days=args.days + 21, workers=2)
    timetables, network_authority, timezone = load_usage_inputs(work / "demo" / "registry.toml")
    catalogue, _ = load_catalogue(load_registry(work / "demo" / "registry.toml"))
    ridden = sorted(n for n in timetables if n in network_authority and n in
                    {a.network_id for a in URBAN_AREAS} | {c.network_id for c in COACH_NETWORKS})
    networks = [sb.Network(i, timetables[n], network_authority[n]) for i, n in enumerate(ridden)]
    log("demo region generated")
    pg = EmbeddedPostgres(work / "pgdata")
    server_dsn = pg.start()
    try:
        admin = await asyncpg.connect(server_dsn)
        await admin.execute("DROP DATABASE IF EXISTS bench")
        await admin.execute("CREATE DATABASE bench")
        await admin.close()
        dsn = with_database(server_dsn, "bench")
        conn = await asyncpg.connect(dsn)
        await apply_migrations(conn)
        month = sb.Month(networks, days, ZoneInfo(timezone), args.seed)
        commuters, carnets, singles, evaders = sb.plan_sizes(args.validations, args.sales, days)
        month.commuters(commuters)
        month.carnets(carnets)
        month.singles(singles)
        month.evaders(evaders)
        day_events = [e.arrays() for e in month.events]
        trips = np.concatenate([np.full(part["n"], {"monthly-pass": 0, "10-trips": 10, "single": 1}[part["product"]])
                                for part in month.sales.parts])
        usage, remaining = sb.contract_usage(day_events, trips)
        for u in usage.values():
            k, pos = u.pop("row")
            ev = day_events[k]
            net = networks[int(ev["net"][pos])]
            u["route"] = net.route_keys[net.trip_route[net.row_trip[int(ev["row"][pos])]]]
        writer = sb.Writer(conn, month, catalogue, ZoneInfo(timezone), timezone)
        await writer.keys()
        await writer.media()
        await writer.sales(usage)
        next_id, per_day = 0, []
        for k, ev in enumerate(day_events):
            next_id += await writer.validations(k, ev, remaining[k], next_id)
            per_day.append(len(ev["t"]))
        await conn.execute("ANALYZE")
        log(f"loaded {sum(per_day):,} validations, {month.sales.count:,} orders")
        biggest = networks[int(np.argmax(month.weights))]
        fullest = days[int(np.argmax(per_day[:-1] or per_day))]
        state = {"dsn_database": "bench", "days": [d.isoformat() for d in days], "per_day": per_day,
                 "fullest_day": fullest.isoformat(), "month": days[0].strftime("%Y-%m"), "network": biggest.id,
                 "authority": biggest.authority, "timezone": timezone, "network_authority": dict(network_authority),
                 "validations": sum(per_day), "sales": month.sales.count - month.prewindow_orders}
        (work / "state.json").write_text(json.dumps(state, indent=1))
        await conn.close()
        t = time.perf_counter()
        shares = [[d.isoformat() for d in days[w::args.workers]] for w in range(args.workers)]
        workers = [subprocess.Popen([sys.executable, __file__, "release-days", dsn, str(work / "state.json"), *share],
                                    cwd=ROOT) for share in shares]
        if any(w.wait() != 0 for w in workers):
            raise SystemExit("a release worker failed")
        log(f"{len(days)} days released in {time.perf_counter() - t:.0f} s ({args.workers} processes)")
        await release_the_month(dsn, state)
        conn = await asyncpg.connect(dsn)
        log(f"month released; stat_cells holds {await conn.fetchval('SELECT count(*) FROM stat_cells'):,} cells; "
            f"database {await conn.fetchval('SELECT pg_size_pretty(pg_database_size(current_database()))')}")
        await conn.close()
    finally:
        pg.stop()


async def release_days(dsn: str, state_path: str, day_texts: list[str]) -> None:
    from oura.db.pool import create_pool
    from ticketing.statistics.model import StatisticsSettings
    from ticketing.statistics.release import release_day, service_day_bounds

    state = json.loads(Path(state_path).read_text())
    pool = await create_pool(dsn, min_size=1, max_size=3)
    try:
        done = {r["period_start"] for r in await pool.fetch(
            "SELECT period_start FROM stat_releases WHERE period_kind = 'day' GROUP BY period_start HAVING count(*) = 3")}
        for text in day_texts:
            d = date.fromisoformat(text)
            if d in done:  # a resumed run (a folder kept by bench/statistics.py): released already
                log(f"  {d} released already")
                continue
            t = time.perf_counter()
            await release_day(pool, d, now=service_day_bounds(d, state["timezone"])[1] + timedelta(hours=1),
                              settings=StatisticsSettings(), network_authority=state["network_authority"],
                              timezone=state["timezone"])
            log(f"  released {d} in {time.perf_counter() - t:.1f} s")
    finally:
        await pool.close()


async def release_the_month(dsn: str, state: dict) -> None:
    from oura.db.pool import create_pool
    from ticketing.statistics.model import StatisticsSettings
    from ticketing.statistics.release import release_month

    # a month of the full-size run reads ~10 M day cells in one query: longer than the pool's 30 s default
    pool = await create_pool(dsn, min_size=1, max_size=3, command_timeout_s=MONTH_TIMEOUT_S)
    try:
        t = time.perf_counter()
        await release_month(pool, date.fromisoformat(state["month"] + "-01"), now=datetime.now(UTC),
                            settings=StatisticsSettings(), timezone=state["timezone"])
        log(f"release_month {state['month']}: {time.perf_counter() - t:.1f} s")
    finally:
        await pool.close()


async def release_kept(args: argparse.Namespace) -> None:
    """A folder kept by ``bench/statistics.py --keep DIR --load-only`` (its ``bench.json``): release
    every day with suppression (``--workers`` processes), then the month, and write ``state.json``."""
    from oura.db.embedded import EmbeddedPostgres
    from oura.db.migrate import apply_migrations

    work = Path(args.work)
    kept = json.loads((work / "bench.json").read_text())
    pg = EmbeddedPostgres(work / "pgdata")
    dsn = with_database(pg.start(), "bench")
    try:
        conn = await asyncpg.connect(dsn)
        await apply_migrations(conn)
        days, per_day = kept["days"], kept["per_day"]
        fullest = days[max(range(len(days)), key=lambda k: per_day[k])]
        biggest = await conn.fetchrow(
            "SELECT network_id, count(*) FROM ticketing_validations WHERE network_id IS NOT NULL "
            "GROUP BY network_id ORDER BY 2 DESC LIMIT 1")
        state = {"dsn_database": "bench", "days": days, "per_day": per_day, "fullest_day": fullest,
                 "month": days[0][:7], "network": biggest["network_id"],
                 "authority": kept["network_authority"][biggest["network_id"]], "timezone": kept["timezone"],
                 "network_authority": kept["network_authority"], "validations": sum(per_day),
                 "sales": await conn.fetchval("SELECT count(*) FROM ticketing_orders")}
        (work / "state.json").write_text(json.dumps(state, indent=1))
        await conn.close()
        t = time.perf_counter()
        shares = [share for w in range(args.workers) if (share := days[w::args.workers])]
        workers = [subprocess.Popen([sys.executable, __file__, "release-days", dsn, str(work / "state.json"), *share],
                                    cwd=ROOT) for share in shares]
        if any(w.wait() != 0 for w in workers):
            raise SystemExit("a release worker failed")
        log(f"{len(days)} days released in {time.perf_counter() - t:.0f} s ({len(shares)} processes)")
        await release_the_month(dsn, state)
        conn = await asyncpg.connect(dsn)
        log(f"month released; stat_cells holds {await conn.fetchval('SELECT count(*) FROM stat_cells'):,} cells")
        await conn.close()
    finally:
        pg.stop()


# ---------------------------------------------------------------- measure


def routes_of(state: dict, a: dict[str, str], s: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """The routes bench/statistics.py measures (same labels and queries), then the paged and
    exported variants this issue added."""
    day, mon, net = state["fullest_day"], state["month"], state["network"]
    v, o, sa = "/v1/statistics/validations", "/v1/statistics/od", "/v1/statistics/sales"
    return [
        (f"validations day route,hour ({state['authority']})", f"{v}?period={day}&group_by=route,hour", a),
        ("validations day route", f"{v}?period={day}&group_by=route", a),
        ("validations day hour", f"{v}?period={day}&group_by=hour", a),
        ("validations day stop", f"{v}?period={day}&group_by=stop", a),
        ("validations day product_kind,rider_category", f"{v}?period={day}&group_by=product_kind,rider_category", a),
        ("validations day reason", f"{v}?period={day}&group_by=reason", a),
        ("validations day route,hour CSV", f"{v}?period={day}&group_by=route,hour&format=csv", a),
        ("validations month route", f"{v}?period={mon}&group_by=route", a),
        ("validations month stop", f"{v}?period={mon}&group_by=stop", a),
        ("od day origin,destination", f"{o}?period={day}&group_by=origin,destination&network={net}", a),
        ("od day origin", f"{o}?period={day}&group_by=origin", a),
        ("od month origin,destination", f"{o}?period={mon}&group_by=origin,destination&network={net}", a),
        ("sales day product,channel", f"{sa}?period={day}&group_by=product,channel", a),
        ("sales day sales_point", f"{sa}?period={day}&group_by=sales_point", a),
        ("sales month day", f"{sa}?period={mon}&group_by=day", a),
        ("validations.png hourly (day)", f"/v1/statistics/validations.png?period={day}&chart=hourly", a),
        ("od.png heatmap (day)", f"/v1/statistics/od.png?period={day}&network={net}", a),
        ("sales.png channels (month)", f"/v1/statistics/sales.png?period={mon}", a),
        ("report (month)", f"/v1/statistics/report?period={mon}", a),
        ("releases", "/v1/statistics/releases", a),
        ("admin: validations day route,hour (region)", f"{v}?period={day}&group_by=route,hour", s),
        ("admin: validations month stop (region)", f"{v}?period={mon}&group_by=stop", s),
        ("admin: od day origin,destination (region)", f"{o}?period={day}&group_by=origin,destination", s),
        ("admin: sales month product,channel (region)", f"{sa}?period={mon}&group_by=product,channel", s),
        ("admin: report (month, region)", f"/v1/statistics/report?period={mon}", s),
        ("admin: releases", "/v1/statistics/releases", s),
        # pages, exports and revalidation (issue 14 follow-up)
        ("admin: od month origin,destination, page 2 (offset 100)", f"{o}?period={mon}&offset=100", s),
        ("admin: od month origin,destination, limit 1000", f"{o}?period={mon}&limit=1000", s),
        ("admin: validations month stop, by key, page 3", f"{v}?period={mon}&group_by=stop&order=key&offset=200", s),
        ("admin: validations month stop CSV export (every row)", f"{v}?period={mon}&group_by=stop&format=csv", s),
        ("admin: od month origin,destination CSV export (every row)", f"{o}?period={mon}&format=csv", s),
        ("admin: od month origin,destination CSV export (every row, no gzip)", f"{o}?period={mon}&format=csv",
         {**s, "Accept-Encoding": "identity"}),
        ("admin: od month origin,destination CSV export (every row, gzip bytes, not decompressed)",
         f"{o}?period={mon}&format=csv", {**s, "Accept-Encoding": "gzip"}),
        ("od.png heatmap (day) If-None-Match", f"/v1/statistics/od.png?period={day}&network={net}", a),
        ("admin: report (month, region) If-None-Match", f"/v1/statistics/report?period={mon}", s),
    ]


async def measure_routes(base: str, routes: list[tuple[str, str, dict[str, str]]], requests: int,
                         concurrency: int) -> list[tuple[str, dict]]:
    out = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        for label, path, headers in routes:
            started = time.perf_counter()
            async with session.get(base + path, headers=headers) as response:  # the first request, apart
                body = await response.read()
            first_ms = 1000 * (time.perf_counter() - started)
            if label.endswith("If-None-Match") and "ETag" in response.headers:  # revalidation: 304 expected
                headers = {**headers, "If-None-Match": response.headers["ETag"]}
            if response.status != 200:
                out.append((label, {"status": response.status, "body": body[:200].decode(errors="replace")}))
                log(f"  {label}: {response.status} {body[:200]!r}")
                continue
            latencies: list[float] = []
            statuses: dict[int, int] = defaultdict(int)
            todo = iter(range(requests))

            raw = "not decompressed" in label  # the server's side of a gzip answer, without the client's inflate

            async def client(headers: dict[str, str] = headers) -> None:
                for _ in todo:
                    t = time.perf_counter()
                    async with session.get(base + path, headers=headers, auto_decompress=not raw) as r:
                        await r.read()
                        statuses[r.status] += 1
                    latencies.append(1000 * (time.perf_counter() - t))

            await asyncio.gather(*(client() for _ in range(concurrency)))
            result = {"n": len(latencies), "bytes": len(body), "first_ms": first_ms,
                      "p50_ms": percentile(latencies, 0.5), "p95_ms": percentile(latencies, 0.95),
                      "p99_ms": percentile(latencies, 0.99), "statuses": dict(statuses)}
            out.append((label, result))
            log(f"  {label:<58} first {first_ms:7.1f}  p50 {result['p50_ms']:7.1f}  p95 {result['p95_ms']:7.1f} ms "
                f"({len(body):,} bytes, {dict(statuses)})")
    return out


def markdown(measured: list[tuple[str, dict]]) -> str:
    lines = ["| route | bytes | first request ms | p50 ms | p95 ms | p99 ms |", "|---|---:|---:|---:|---:|---:|"]
    for label, r in measured:
        if "p95_ms" not in r:
            lines.append(f"| {label} | status {r['status']} | | | | |")
            continue
        mark = "" if r["p95_ms"] <= 100 else " **over**"
        lines.append(f"| {label} | {r['bytes']:,} | {r['first_ms']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f}{mark} | "
                     f"{r['p99_ms']:.1f} |")
    return "\n".join(lines)


async def wait_ready(base: str, server: subprocess.Popen) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(900):
            if server.poll() is not None:
                raise SystemExit("the server exited")
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the server did not start")


async def measure(args: argparse.Namespace) -> None:
    from oura.db.embedded import EmbeddedPostgres

    work = Path(args.work)
    state = json.loads((work / "state.json").read_text())
    pg = EmbeddedPostgres(work / "pgdata")
    dsn = with_database(pg.start(), state["dsn_database"])
    server = None
    try:
        server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "statistics.py"), "--serve", dsn,
                                   str(work / "demo"), str(args.port)], cwd=ROOT,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        base = f"http://127.0.0.1:{args.port}"
        await wait_ready(base, server)
        a = (await make_keys(dsn, "authority", state["authority"], 1))[0]
        s = (await make_keys(dsn, "admin", None, 1))[0]
        log(f"measuring on {state['validations']:,} validations, {state['sales']:,} sales; day {state['fullest_day']}, "
            f"month {state['month']}, authority {state['authority']} (network {state['network']}); "
            f"{args.requests} requests per route at concurrency {args.concurrency}")
        routes = routes_of(state, a, s)
        if args.only:
            routes = [r for r in routes if args.only in r[0]]
        measured = await measure_routes(base, routes, args.requests, args.concurrency)
        ok = [r for _, r in measured if "p95_ms" in r]
        over = [label for label, r in measured if "p95_ms" in r and r["p95_ms"] > 100]
        log(f"{len(ok)} routes answered 200; p95 over 100 ms: {', '.join(over) or 'none'}")
        print()
        print(markdown(measured))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        pg.stop()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "release-days":
        asyncio.run(release_days(sys.argv[2], sys.argv[3], sys.argv[4:]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    f = sub.add_parser("fill", help="build the database once")
    f.add_argument("--work", required=True)
    f.add_argument("--validations", type=int, default=1_000_000)
    f.add_argument("--sales", type=int, default=100_000)
    f.add_argument("--days", type=int, default=30)
    f.add_argument("--first-day", type=date.fromisoformat, default=None)
    f.add_argument("--scale", type=float, default=1.0)
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--workers", type=int, default=2, help="processes releasing the days")
    r = sub.add_parser("release", help="release the days and the month of a folder kept by "
                                       "bench/statistics.py --keep DIR --load-only")
    r.add_argument("--work", required=True)
    r.add_argument("--workers", type=int, default=2, help="processes releasing the days")
    m = sub.add_parser("measure", help="measure the routes on a filled database")
    m.add_argument("--work", required=True)
    m.add_argument("--requests", type=int, default=40)
    m.add_argument("--concurrency", type=int, default=4)
    m.add_argument("--port", type=int, default=18751)
    m.add_argument("--only", default=None, help="only the routes whose label contains this")
    args = parser.parse_args()
    asyncio.run({"fill": fill, "release": release_kept, "measure": measure}[args.step](args))


if __name__ == "__main__":
    main()
