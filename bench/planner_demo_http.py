"""Journeys over HTTP on the demo region: the latency a traveller sees, cold requests included.

    .venv/bin/python bench/planner_demo_http.py [--region DIR] [--queries 500] [--seed 7] [--port 8097]

What runs:

1. the demo region (seed 1, scale 1, service from 2025-03-03) generated into a temporary folder
   unless --region names one;
2. the whole OùRA app (`oura.app.create_app`: embedded PostgreSQL, migrations, ingestion of every
   feed, planner compile and publication, fare catalogue) in a *separate process* on 127.0.0.1,
   its clock fixed on the region's first Tuesday, realtime off;
3. as soon as ``/readyz`` says ready (no warm-up request: the first traveller's request is the
   first one measured), ``--queries`` varied ``GET /v1/journeys`` one after the other: random
   served stops or a point near one (1 in 10), 12 service dates in random order (so each date's
   first request is in the sample), times 06:00-21:00, 1 in 5 arrive-by; every answer priced
   (the default rider category);
4. then ``--windows`` one-hour window searches (``window=3600``) over the same kind of places,
   reported apart: a range search does several RAPTOR runs, a different cost, not a cold one.

Prints median / p95 / p99 / max, the p99-to-median ratio (acceptance of issue 12: <= 3), and the
latency of each date's first request and of the first arrive-by; the same for the CPU time the
server spent on each request (all its threads, from /proc/<pid>/task/*/schedstat, in ns): on a
machine shared with other work, wall times carry the waits for a core, the CPU times do not.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

SERVICE_START = date(2025, 3, 3)  # a Monday: the generated service starts that week
CLOCK = datetime(2025, 3, 4, 6, 0, tzinfo=ZoneInfo("Europe/Paris"))
TZ = ZoneInfo("Europe/Paris")
DATES = 12  # service dates the queries spread over
READY_TIMEOUT_S = 900


def serve(region: Path, work: Path, port: int) -> None:
    """The service process: the real app on the region, its clock fixed, realtime off."""
    import logging

    from aiohttp import web

    from oura.app import create_app
    from oura.clock import FixedClock
    from oura.config import Config, DatabaseConfig, FeedsConfig, HttpConfig, PlannerConfig

    logging.basicConfig(level=logging.WARNING)
    config = Config(
        data_dir=work,
        database=DatabaseConfig(url=None, embedded_pgdata=work / "pgdata"),
        http=HttpConfig(host="127.0.0.1", port=port),
        feeds=FeedsConfig(registry=region / "registry.toml", store_dir=work / "feeds", ingest_on_start=True,
                          realtime=False),
        planner=PlannerConfig(cache_dir=work / "cache"),
    )
    app = create_app(config, clock=FixedClock(CLOCK))
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


@dataclass(frozen=True)
class Stop:
    id: str
    lat: float
    lon: float


def served_stops(region: Path) -> list[Stop]:
    """Stations and stops without a station that trips call at (through a platform or directly)."""
    out = []
    for feed in sorted((region / "gtfs").glob("*.zip")):
        with zipfile.ZipFile(feed) as z:
            stops = list(csv.DictReader(io.TextIOWrapper(z.open("stops.txt"), "utf-8-sig")))
            called = {row["stop_id"] for row in csv.DictReader(io.TextIOWrapper(z.open("stop_times.txt"), "utf-8-sig"))}
        parent = {s["stop_id"]: s.get("parent_station", "") for s in stops}
        places = {parent[s] or s for s in called if s in parent}
        out += [Stop(f"{feed.stem}:{s['stop_id']}", float(s["stop_lat"]), float(s["stop_lon"]))
                for s in stops if s["stop_id"] in places]
    return out


@dataclass(frozen=True)
class Query:
    params: dict[str, str]
    kind: str  # depart, arrive_by, window
    day: date


def make_queries(stops: list[Stop], n: int, seed: int, window_s: int = 0) -> list[Query]:
    rng = random.Random(seed)
    days = [SERVICE_START + timedelta(days=1 + d) for d in range(DATES)]  # Tuesday onwards, weekends included
    out = []
    for _ in range(n):
        a, b = rng.sample(stops, 2)
        day = rng.choice(days)
        at = datetime(day.year, day.month, day.day, 6, 0, tzinfo=TZ) + timedelta(minutes=rng.randrange(15 * 60))
        origin = a.id
        if rng.random() < 0.1:  # from a point ~100-300 m from the stop
            origin = f"{a.lat + rng.uniform(-0.002, 0.002):.5f},{a.lon + rng.uniform(-0.002, 0.002):.5f}"
        params = {"from": origin, "to": b.id, "datetime": at.isoformat()}
        kind = "arrive_by" if rng.random() < 0.2 else "depart"
        if kind == "arrive_by":
            params["arrive_by"] = "true"
        if window_s:
            kind = "window"
            params["window"] = str(window_s)
        out.append(Query(params, kind, day))
    return out


async def wait_ready(base: str, server: subprocess.Popen) -> float:
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - started < READY_TIMEOUT_S:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with {server.returncode}")
            try:
                async with session.get(f"{base}/readyz") as response:
                    if (await response.json())["status"] == "ready":
                        return time.perf_counter() - started
            except (aiohttp.ClientError, ValueError):
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the server never got ready")


def server_cpu_ns(pid: int) -> int:
    """CPU time run so far by every thread of the process (Linux schedstat, nanoseconds)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@dataclass(frozen=True)
class Result:
    query: Query
    ms: float  # wall time seen by the client
    cpu_ms: float  # CPU time of the server's threads meanwhile
    status: int
    journeys: int


async def run_queries(base: str, queries: list[Query], pid: int) -> list[Result]:
    """Each query's result, sent one after the other."""
    out = []
    async with aiohttp.ClientSession() as session:
        for q in queries:
            cpu0, started = server_cpu_ns(pid), time.perf_counter()
            async with session.get(f"{base}/v1/journeys", params=q.params) as response:
                body = await response.json()
            ms = (time.perf_counter() - started) * 1000
            cpu_ms = (server_cpu_ns(pid) - cpu0) / 1e6
            out.append(Result(q, ms, cpu_ms, response.status,
                              len(body.get("journeys", [])) if response.status == 200 else 0))
    return out


def _rows(label: str, values: list[float], firsts: list[float], first_arrive_by: float | None) -> list[str]:
    median, p95, p99 = statistics.median(values), percentile(values, 0.95), percentile(values, 0.99)
    return [
        f"| {label}: median / p95 / p99 / max | {median:.1f} / {p95:.1f} / {p99:.1f} / {max(values):.1f} ms |",
        f"| {label}: p99 / median | {p99 / median:.2f} (acceptance: <= 3) |",
        f"| {label}: very first request; max of the first 20 | {values[0]:.1f}; {max(values[:20]):.1f} ms |",
        f"| {label}: first request of each of the {len(firsts)} dates, median / max | "
        f"{statistics.median(firsts):.1f} / {max(firsts):.1f} ms |",
        f"| {label}: first arrive-by | {first_arrive_by:.1f} ms |" if first_arrive_by is not None
        else f"| {label}: first arrive-by | - |",
    ]


def _median_p99(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} / {percentile(values, 0.99):.1f}"


def report(results: list[Result], ready_s: float, windows: list[Result]) -> str:
    statuses: dict[int, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    first_of_day: dict[date, int] = {}
    for i, r in enumerate(results):
        first_of_day.setdefault(r.query.day, i)
    first_arrive_by = next((i for i, r in enumerate(results) if r.query.kind == "arrive_by"), None)
    lines = [
        f"{len(results)} journeys over HTTP, one at a time, from the moment /readyz said ready "
        f"({ready_s:.0f} s after start); statuses {dict(sorted(statuses.items()))}, "
        f"{sum(1 for r in results if r.journeys)} with a journey; load average at the end "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    for label, value in (("wall", lambda r: r.ms), ("server CPU", lambda r: r.cpu_ms)):
        values = [value(r) for r in results]
        lines += _rows(label, values, [values[i] for i in first_of_day.values()],
                       values[first_arrive_by] if first_arrive_by is not None else None)
    groups = {kind: [r for r in results if r.query.kind == kind] for kind in ("depart", "arrive_by")}
    groups["one-hour windows, apart"] = windows
    for label, picked in groups.items():
        if picked:
            lines.append(f"| {label} ({len(picked)}), wall median / p99; server CPU median / p99 | "
                         f"{_median_p99([r.ms for r in picked])}; {_median_p99([r.cpu_ms for r in picked])} ms |")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="oura-bench-planner-http-") as tmp:
        work = Path(tmp)
        region = args.region
        if region is None:
            from oura.demo.generate import generate_region

            region = work / "region"
            generate_region(region, seed=1, scale=1.0, start_date=SERVICE_START, fmt="zip")
        stops = served_stops(region)
        queries = make_queries(stops, args.queries, args.seed)
        window_queries = make_queries(stops, args.windows, args.seed + 1, window_s=3600)
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(region), str(work), str(args.port)],
                                  cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        base = f"http://127.0.0.1:{args.port}"
        try:
            ready_s = await wait_ready(base, server)
            results = await run_queries(base, queries, server.pid)
            windows = await run_queries(base, window_queries, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=60)
    print(f"Command: `.venv/bin/python bench/planner_demo_http.py --queries {args.queries} --windows {args.windows} "
          f"--seed {args.seed}`")
    print()
    print(report(results, ready_s, windows))
    if args.dump is not None:  # one line per request, in order: kind, wall ms, server CPU ms, status, journeys
        args.dump.write_text("".join(f"{r.query.kind}\t{r.ms:.2f}\t{r.cpu_ms:.2f}\t{r.status}\t{r.journeys}\n"
                                     for r in results + windows))
    return 0


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--region", type=Path, help="an already generated region (seed 1, scale 1, from 2025-03-03)")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--windows", type=int, default=50)
    parser.add_argument("--dump", type=Path, help="write each request's figures there (TSV)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=8097)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
