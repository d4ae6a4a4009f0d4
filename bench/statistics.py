"""Benchmark: anonymised statistics (issue 14) over a month of the demo region's simulated usage:
10 M validations and 1 M sales bulk-loaded, validation ingestion over HTTP against the raw insert
rate of the same run, the release of service days and of the month, and the statistics routes.

    .venv/bin/python bench/statistics.py [--validations 10000000] [--sales 1000000] [--days 30]
                                         [--requests 40] [--concurrency 4]

Quick run while developing: ``--validations 200000 --sales 20000``.

What runs:

1. the demo region (`oura.demo.generate_region`, scale 1: the region `make run` serves) with a
   service window covering the simulated days (by default the whole previous month), an embedded
   PostgreSQL (pgserver) in a temporary folder, a fresh database, every migration;
2. the load (not an acceptance figure): riders drawn with numpy over the demo timetables, every
   boarding a real stop_time of a trip running that day (the first departure from the rider's
   stop after the time the rider comes), in the row shapes ticketing writes, by COPY:
   - commuters (a monthly pass on a card or a wallet: the pass bought last month, then its renewal
     bought in the window on its last day), home stop -> work stop and back on weekdays (and
     some Saturdays), 1 % double taps refused by anti-passback (``already_validated``);
   - carnet riders (a 10-trip carnet on a card, bought in the window, 5 return trips on later
     days), single-ticket riders (a paper ticket bought minutes before boarding at a vending
     machine; 20 % change vehicle within the transfer window), and cards with nothing on them
     (refused ``no_contract_for_network``);
   - sales (orders, lines, the test provider's charges, the revenue ledger rows; paper media and
     contracts) at their simulated times; the 1 M sales are those in the window, the passes bought
     last month come on top;
   - the serial of every validation is kept until the release of its day (below), then removed by
     `ticketing.statistics.purge.purge_identifiers`, as the statistics job does: only the last 2
     days keep their serials;
3. releases: every day but the last two released in order with suppression (as
   `release_due` would), timed one by one, then the purge; the second-last day again with
   suppression and the last with laplace (differential privacy), then `release_month`;
4. ingestion: the raw limit (single-row INSERTs, autocommit, 1 and 8 connections, into a table
   shaped like a validation row) and then the real upload path (``POST /v1/validations``: devices
   posting batches of events of cards with a 10-trip carnet, as bench/ticketing.py), on the same
   database holding the month, at the same moment; the ratio of the two;
5. queries: the full app factory (`oura.app.create_app`; the registry is not loaded, the
   ticketing context carries the demo catalogue, the statistics job is off: ``every_s = 0``) in a
   separate process on 127.0.0.1; an authority key (the biggest network's) and an admin key;
   ``--requests`` requests per route at ``--concurrency``; p50 / p95 / p99 per route.

The machine is shared: the load average is printed at each phase.

Modules: this file runs the phases; `bench.statistics_month` draws the month (numpy, no I/O),
`bench.statistics_fill` writes it by COPY, `bench.statistics_http` is the service process, the
HTTP upload and the route latencies.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this file is named like the standard library's statistics module: its folder must not come first
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import numpy as np  # noqa: E402

from bench.statistics_fill import Writer  # noqa: E402
from bench.statistics_http import ingest, measure_routes, seed_cards, serve, wait_ready  # noqa: E402
from bench.statistics_month import Month, Network, contract_usage, plan_sizes  # noqa: E402
from bench.ticketing import make_keys, raw_insert_rate, with_database  # noqa: E402

__all__ = ["Month", "Network", "Writer", "contract_usage", "default_first_day", "plan_sizes"]  # bench/statistics_queries.py


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def phase(title: str) -> None:
    print(f"\n== {title} ({load_average()}, {datetime.now(UTC).strftime('%H:%M:%S')} UTC)", flush=True)


# ---------------------------------------------------------------- main


def default_first_day() -> date:
    today = datetime.now(UTC).date()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


async def main_async(args: argparse.Namespace) -> None:
    from feeds.authorities import load_registry
    from oura.db.embedded import EmbeddedPostgres
    from oura.db.migrate import apply_migrations
    from oura.db.pool import create_pool
    from oura.demo.generate import generate_region
    from oura.usage import load_usage_inputs
    from ticketing.catalogue import load_catalogue
    from ticketing.statistics.model import StatisticsSettings
    from ticketing.statistics.purge import purge_identifiers
    from ticketing.statistics.release import release_day, release_month, service_day_bounds

    started_all = time.perf_counter()
    first_day = args.first_day or default_first_day()
    days = [first_day + timedelta(days=k) for k in range(args.days)]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="oura-bench-statistics-"))
    work.mkdir(parents=True, exist_ok=True)
    phase(f"setup: {args.days} service days {days[0]}..{days[-1]}, {args.validations:,} validations, "
          f"{args.sales:,} sales, {os.cpu_count()} cores")
    t = time.perf_counter()
    generate_region(work / "demo", seed=1, scale=args.scale, start_date=days[0] - timedelta(days=7), fmt="dir",
                    days=args.days + 21, workers=2)
    timetables, network_authority, timezone = load_usage_inputs(work / "demo" / "registry.toml")
    registry = load_registry(work / "demo" / "registry.toml")
    catalogue, _ = load_catalogue(registry)
    print(f"demo region (scale {args.scale}) generated and read in {time.perf_counter() - t:.1f} s: "
          f"{len(timetables)} networks, {sum(len(tt.st_stop) for tt in timetables.values()):,} stop_times", flush=True)
    zone = ZoneInfo(timezone)
    from oura.demo.region import COACH_NETWORKS, URBAN_AREAS

    ridden = sorted(n for n in timetables if n in network_authority and n in
                    {a.network_id for a in URBAN_AREAS} | {c.network_id for c in COACH_NETWORKS})
    networks = [Network(i, timetables[n], network_authority[n]) for i, n in enumerate(ridden)]

    pg = EmbeddedPostgres(work / "pgdata")
    server_dsn = pg.start()
    server = None
    try:
        admin_conn = await asyncpg.connect(server_dsn)
        await admin_conn.execute("CREATE DATABASE bench")
        await admin_conn.close()
        dsn = with_database(server_dsn, "bench")
        conn = await asyncpg.connect(dsn)
        await apply_migrations(conn)

        # ------------------------------------------------ simulate and load
        phase("simulated month: drawing and loading (COPY)")
        t = time.perf_counter()
        commuters, carnets, singles, evaders = plan_sizes(args.validations, args.sales, days)
        month = Month(networks, days, zone, args.seed)
        month.commuters(commuters)
        month.carnets(carnets)
        month.singles(singles)
        month.evaders(evaders)
        day_events = [e.arrays() for e in month.events]
        trips = np.concatenate([np.full(part["n"], {"monthly-pass": 0, "10-trips": 10, "single": 1}[part["product"]])
                                for part in month.sales.parts])
        usage, remaining = contract_usage(day_events, trips)
        for c, u in usage.items():
            k, pos = u.pop("row")
            ev = day_events[k]
            net = networks[int(ev["net"][pos])]
            u["route"] = net.route_keys[net.trip_route[net.row_trip[int(ev["row"][pos])]]]
        drawn_s = time.perf_counter() - t
        total_v = sum(len(e["t"]) for e in day_events)
        in_window = month.sales.count - month.prewindow_orders
        print(f"drawn in {drawn_s:.1f} s: {commuters:,} commuters, {carnets:,} carnets, {singles:,} single tickets, "
              f"{evaders:,} cards without a ticket; {month.media.count:,} media; {total_v:,} validations; "
              f"{in_window:,} sales in the window (+ {month.prewindow_orders:,} passes bought the month before)",
              flush=True)
        writer = Writer(conn, month, catalogue, zone, timezone)
        t = time.perf_counter()
        await writer.keys()
        await writer.media()
        await writer.sales(usage)
        sales_s = time.perf_counter() - t
        print(f"keys, media and sales loaded in {sales_s:.1f} s", flush=True)
        t = time.perf_counter()
        next_id = 0
        per_day = []
        for k, ev in enumerate(day_events):
            next_id += await writer.validations(k, ev, remaining[k], next_id)
            per_day.append(len(ev["t"]))
        await conn.execute("ANALYZE")
        load_s = time.perf_counter() - t
        print(f"{total_v:,} validations loaded in {load_s:.1f} s ({total_v / load_s:,.0f} rows/s by COPY, indexes in place); "
              f"per day: min {min(per_day):,}, median {int(statistics.median(per_day)):,}, max {max(per_day):,}", flush=True)
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"database size {size}", flush=True)
        del day_events, remaining
        if args.load_only:
            (work / "bench.json").write_text(json.dumps({
                "dsn": dsn, "timezone": timezone, "network_authority": network_authority,
                "days": [d.isoformat() for d in days], "per_day": per_day}))
            print(f"load only: the database stays in {work} (bench.json says how to reach it)", flush=True)
            return

        # release_month reads every day cell of a kind in one query: 7 M OD cells at the full size take
        # longer than the pool's 30 s default (the first full run stopped there, 2026-12-06)
        pool = await create_pool(dsn, min_size=2, max_size=6, command_timeout_s=3600.0)
        settings = StatisticsSettings()
        suppression = settings
        from dataclasses import replace

        laplace = replace(settings, method="laplace")

        async def timed_release(d: date, s: StatisticsSettings) -> tuple[float, dict]:
            started = time.perf_counter()
            await release_day(pool, d, now=service_day_bounds(d, timezone)[1] + timedelta(hours=1), settings=s,
                              network_authority=network_authority, timezone=timezone)
            elapsed = time.perf_counter() - started
            rows = await conn.fetch("SELECT kind, parameters FROM stat_releases WHERE period_kind = 'day' "
                                    "AND period_start = $1", d)
            info = {r["kind"]: json.loads(r["parameters"]) for r in rows}
            return elapsed, info

        def describe(info: dict) -> str:
            return ", ".join(f"{k} {p.get('cells', 0):,} cells / {p.get('suppressed', 0):,} suppressed"
                             for k, p in sorted(info.items()))

        # ------------------------------------------------ releases of the history, then the purge
        phase("release of each day but the last two (suppression), in order, then the purge")
        history = []
        for k, d in enumerate(days[:-2]):
            elapsed, info = await timed_release(d, suppression)
            history.append((elapsed, d, per_day[k], info))
            print(f"  release_day {d} ({d.strftime('%a')}, {per_day[k]:,} validations): {elapsed:.1f} s; "
                  f"{describe(info)}", flush=True)
        if history:
            times = [h[0] for h in history]
            fullest = max(history, key=lambda h: h[2])
            print(f"release_day over {len(history)} days: median {statistics.median(times):.1f} s, "
                  f"max {max(times):.1f} s; the fullest day {fullest[1]} ({fullest[2]:,} validations): "
                  f"{fullest[0]:.1f} s (target <= 60 s)", flush=True)
        t = time.perf_counter()
        purge_now = service_day_bounds(days[-2], timezone)[0] + timedelta(seconds=settings.retention_s)
        purged = await purge_identifiers(pool, now=purge_now, retention_s=settings.retention_s)
        purge_s = time.perf_counter() - t
        kept = await conn.fetchval("SELECT count(*) FROM ticketing_validations WHERE medium_serial IS NOT NULL")
        print(f"purge (now = {purge_now.isoformat()}): {purged.validations:,} serials removed in {purge_s:.1f} s "
              f"({purged.validations / max(purge_s, 1e-9):,.0f} rows/s); {kept:,} validations keep their serial "
              f"(the last 2 days)", flush=True)

        # ------------------------------------------------ ingestion vs the raw limit
        phase("ingestion: raw single-row INSERT limit, then POST /v1/validations, same database")
        port = args.port
        server = subprocess.Popen([sys.executable, __file__, "--serve", dsn, str(work / "demo"), str(port)],
                                  cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base)
        biggest = networks[int(np.argmax(month.weights))]
        raw_1 = await raw_insert_rate(dsn, args.raw_rows, 1)
        raw_8 = await raw_insert_rate(dsn, args.raw_rows, 8)
        print(f"raw single-row INSERT: {raw_1:,.0f} rows/s (1 connection), {raw_8:,.0f} rows/s (8 connections) "
              f"({load_average()})", flush=True)
        card_list = await seed_cards(dsn, args.cards, biggest.id, biggest.authority)
        device_keys = await make_keys(dsn, "device", biggest.authority, args.devices)
        result = await ingest(base, device_keys, card_list, biggest, args.batch, args.batches)
        raw_after = await raw_insert_rate(dsn, args.raw_rows, 8)
        best_raw = max(raw_1, raw_8)
        print(f"validations over HTTP ({args.devices} devices, batches of {args.batch}): {result}", flush=True)
        print(f"raw single-row INSERT again after: {raw_after:,.0f} rows/s (8 connections) ({load_average()})", flush=True)
        print(f"validation ingestion = {100 * result['per_s'] / best_raw:.0f}% of the best raw insert rate measured "
              f"before it (target >= 30%); {100 * result['per_s'] / max(best_raw, raw_after):.0f}% of the best of all "
              f"three", flush=True)

        # ------------------------------------------------ the last two days and the month
        phase("release of the last two days (serials present): suppression, laplace; then the month")
        last_two = []
        for d, s in ((days[-2], suppression), (days[-1], laplace)):
            elapsed, info = await timed_release(d, s)
            last_two.append(elapsed)
            print(f"  release_day {d} ({d.strftime('%a')}, {per_day[days.index(d)]:,} validations, {s.method}): "
                  f"{elapsed:.1f} s; {describe(info)}", flush=True)
        months = sorted({d.replace(day=1) for d in days})
        for m0 in months:
            t = time.perf_counter()
            await release_month(pool, m0, now=datetime.now(UTC), settings=settings, timezone=timezone)
            elapsed = time.perf_counter() - t
            rows = await conn.fetch("SELECT kind, parameters FROM stat_releases WHERE period_kind = 'month' "
                                    "AND period_start = $1", m0)
            info = {r["kind"]: json.loads(r["parameters"]) for r in rows}
            print(f"  release_month {m0:%Y-%m} ({sum(1 for d in days if d.replace(day=1) == m0)} days): "
                  f"{elapsed:.1f} s; {describe(info)}", flush=True)
        cells = await conn.fetchval("SELECT count(*) FROM stat_cells")
        print(f"stat_cells holds {cells:,} cells", flush=True)
        await pool.close()

        # ------------------------------------------------ queries
        phase(f"statistics routes over HTTP: {args.requests} requests each, concurrency {args.concurrency}")
        authority_key = (await make_keys(dsn, "authority", biggest.authority, 1))[0]
        admin_key = (await make_keys(dsn, "admin", None, 1))[0]
        day = fullest[1].isoformat() if history else days[-2].isoformat()
        mon = months[0].strftime("%Y-%m")
        net = biggest.id
        a, s_ = authority_key, admin_key
        routes = [
            (f"validations day route,hour ({biggest.authority})", f"/v1/statistics/validations?period={day}&group_by=route,hour", a),
            ("validations day route", f"/v1/statistics/validations?period={day}&group_by=route", a),
            ("validations day hour", f"/v1/statistics/validations?period={day}&group_by=hour", a),
            ("validations day stop", f"/v1/statistics/validations?period={day}&group_by=stop", a),
            ("validations day product_kind,rider_category", f"/v1/statistics/validations?period={day}&group_by=product_kind,rider_category", a),
            ("validations day reason", f"/v1/statistics/validations?period={day}&group_by=reason", a),
            ("validations day route,hour CSV", f"/v1/statistics/validations?period={day}&group_by=route,hour&format=csv", a),
            ("validations month route", f"/v1/statistics/validations?period={mon}&group_by=route", a),
            ("validations month stop", f"/v1/statistics/validations?period={mon}&group_by=stop", a),
            ("od day origin,destination", f"/v1/statistics/od?period={day}&group_by=origin,destination&network={net}", a),
            ("od day origin", f"/v1/statistics/od?period={day}&group_by=origin", a),
            ("od month origin,destination", f"/v1/statistics/od?period={mon}&group_by=origin,destination&network={net}", a),
            ("sales day product,channel", f"/v1/statistics/sales?period={day}&group_by=product,channel", a),
            ("sales day sales_point", f"/v1/statistics/sales?period={day}&group_by=sales_point", a),
            ("sales month day", f"/v1/statistics/sales?period={mon}&group_by=day", a),
            ("validations.png hourly (day)", f"/v1/statistics/validations.png?period={day}&chart=hourly", a),
            ("od.png heatmap (day)", f"/v1/statistics/od.png?period={day}&network={net}", a),
            ("sales.png channels (month)", f"/v1/statistics/sales.png?period={mon}", a),
            ("report (month)", f"/v1/statistics/report?period={mon}", a),
            ("releases", "/v1/statistics/releases", a),
            ("admin: validations day route,hour (region)", f"/v1/statistics/validations?period={day}&group_by=route,hour", s_),
            ("admin: validations month stop (region)", f"/v1/statistics/validations?period={mon}&group_by=stop", s_),
            ("admin: od day origin,destination (region)", f"/v1/statistics/od?period={day}&group_by=origin,destination", s_),
            ("admin: sales month product,channel (region)", f"/v1/statistics/sales?period={mon}&group_by=product,channel", s_),
            ("admin: report (month, region)", f"/v1/statistics/report?period={mon}", s_),
            ("admin: releases", "/v1/statistics/releases", s_),
        ]
        measured = await measure_routes(base, routes, args.requests, args.concurrency)
        ok = [(label, r) for label, r in measured if "p95_ms" in r]
        failed = [(label, r) for label, r in measured if "p95_ms" not in r]
        over = [(label, r["p95_ms"]) for label, r in ok if r["p95_ms"] > 100]
        print(f"routes: {len(ok)} measured, {len(failed)} not answering 200 {failed or ''}; p95 over 100 ms: "
              + (", ".join(f"{label} {p:.0f} ms" for label, p in over) or "none"), flush=True)

        phase("summary")
        if history:
            print(f"release_day of the fullest day {fullest[1]} ({fullest[2]:,} validations, suppression): "
                  f"{fullest[0]:.1f} s; max over {len(history)} days {max(times):.1f} s; laplace {last_two[1]:.1f} s "
                  f"(target <= 60 s)")
        print(f"validation ingestion {result['per_s']:,.0f}/s = {100 * result['per_s'] / best_raw:.0f}% of the raw "
              f"single-row INSERT rate {best_raw:,.0f}/s (target >= 30%)")
        print(f"statistics routes: worst p95 {max(r['p95_ms'] for _, r in ok):.1f} ms "
              f"({max(ok, key=lambda x: x[1]['p95_ms'])[0]}); {len(over)} of {len(ok)} over 100 ms (target p95 <= 100 ms)")
        print(f"whole run {time.perf_counter() - started_all:.0f} s")
        await conn.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        pg.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validations", type=int, default=10_000_000)
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--first-day", type=date.fromisoformat, default=None,
                        help="first simulated service day (default: the first day of the previous month)")
    parser.add_argument("--scale", type=float, default=1.0, help="demo region scale (1: the served demo region)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=40, help="requests per statistics route")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--raw-rows", type=int, default=8000)
    parser.add_argument("--port", type=int, default=18741)
    parser.add_argument("--keep", default=None,
                        help="work in this folder and keep it (the demo region and the database) after the run")
    parser.add_argument("--load-only", action="store_true",
                        help="stop after the load (with --keep: a database to profile the release on)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
