"""Benchmark: the static ingestion pipeline vs gtfs-kit's `read_feed` alone, on the same input.

    .venv/bin/python bench/ingest.py [--feed hart-tampa-2021/hart.zip] [--demo-scale 1.0] [--no-demo]

Two inputs: the largest shared feed (HART, 438k stop_times) and the whole generated demo region
(27 feeds). For each, two measurements, each in a fresh child process so peak memory is that
step's alone:

- ``read_feed``: `gtfs_kit.read_feed(path, dist_units="km")` for every feed;
- ``pipeline``: `feeds.ingest.ingest_networks` over real HTTP from a local aiohttp server on
  127.0.0.1 into a fresh PostgreSQL database: fetch (conditional GET, streamed to disk, hashed) +
  read + validate + content-addressed store + record version and issues + publish. One network at
  a time (like `read_feed`, and the default), then two at a time (threads).

Each measurement runs ``--repeat`` times (default 3) and the fastest run is kept: the machine is
shared, and the minimum is the least disturbed figure. Wall time is the measured step only (server start, database creation and imports excluded). Peak
memory is the child's peak RSS above its RSS before the step (PostgreSQL runs in its own process
and is not counted). Target from the issue: pipeline within 3x of `read_feed` alone.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from urllib.parse import urlsplit, urlunsplit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

from tests.registry_toml import TestNetwork, write_registry  # noqa: E402  (the repository is on sys.path)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_read_feed(paths: list[str]) -> dict:
    import gtfs_kit

    before = _rss_mb()
    started = time.perf_counter()
    for path in paths:
        gtfs_kit.read_feed(path, dist_units="km")
    return {"wall_s": time.perf_counter() - started, "peak_mb": _peak_mb() - before}


def _child_pipeline(registry_path: str, concurrency: int) -> dict:
    import aiohttp
    import asyncpg
    from aiohttp import web

    from feeds.authorities import load_registry
    from feeds.ingest import Outcome, ingest_networks
    from feeds.store import FeedStore
    from oura.clock import SystemClock
    from oura.db.embedded import EmbeddedPostgres
    from oura.db.migrate import apply_migrations
    from oura.db.pool import create_pool

    registry = load_registry(registry_path)
    networks = registry.list_networks()

    async def run() -> dict:
        files = {f"/{n.id}.zip": Path(n.static) for n in networks}

        async def serve(request: web.Request) -> web.StreamResponse:
            return web.FileResponse(files[request.path])

        app = web.Application()
        app.router.add_get("/{name}", serve)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
        from dataclasses import replace

        over_http = [replace(n, static=f"http://127.0.0.1:{port}/{n.id}.zip") for n in networks]
        embedded = None
        dsn = os.environ.get("DATABASE_URL")
        if not dsn:
            embedded = EmbeddedPostgres(ROOT / "var" / "bench-pgdata")
            dsn = embedded.start()
        name = f"bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(dsn)
        await admin.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(dsn)
        db_dsn = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
        try:
            pool = await create_pool(db_dsn, min_size=1, max_size=4)
            async with pool.acquire() as conn:
                await apply_migrations(conn)
            with tempfile.TemporaryDirectory() as tmp:
                store = FeedStore(Path(tmp) / "feeds")
                async with aiohttp.ClientSession() as session:
                    before = _rss_mb()
                    started = time.perf_counter()
                    outcomes = await ingest_networks(pool, over_http, store=store, session=session,
                                                     clock=SystemClock(), work_dir=store.work_dir,
                                                     concurrency=concurrency)
                    wall = time.perf_counter() - started
                    peak = _peak_mb() - before
            await pool.close()
            steps: dict[str, float] = {}
            for outcome in outcomes:
                for step, seconds in outcome.timings_s.items():
                    steps[step] = steps.get(step, 0.0) + seconds
            accepted = sum(o.outcome is Outcome.ACCEPTED for o in outcomes)
            stop_times = sum(o.report.counts.get("stop_times", 0) for o in outcomes if o.report)
            return {"wall_s": wall, "peak_mb": peak, "accepted": accepted, "feeds": len(outcomes),
                    "stop_times": stop_times, "steps_s": steps}
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
            if embedded is not None:
                embedded.stop()
            await runner.cleanup()

    return asyncio.run(run())


def _in_child(*args: str) -> dict:
    output = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True,
                            text=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])


def _single_feed_registry(feed: Path, folder: Path) -> Path:
    network = TestNetwork("bench", feed.stem.replace(".", "-").lower(), feed, authority_name="bench",
                          network_name=feed.stem)
    return write_registry(folder / "registry.toml", network, region="bench")


def _best(runs: list[dict]) -> dict:
    """The fastest run (the machine is shared: the minimum is the least disturbed measurement)."""
    return min(runs, key=lambda run: run["wall_s"])


def _measure(label: str, registry: Path, repeat: int) -> list[str]:
    from feeds.authorities import load_registry

    paths = [n.static for n in load_registry(registry).list_networks()]
    baseline = _best([_in_child("read_feed", *paths) for _ in range(repeat)])
    rows = []
    for concurrency in (1, 2):
        pipeline = _best([_in_child("pipeline", str(registry), str(concurrency)) for _ in range(repeat)])
        ratio = pipeline["wall_s"] / baseline["wall_s"]
        steps = ", ".join(f"{k.removesuffix('_s')} {v:.2f}" for k, v in pipeline["steps_s"].items()
                          if k != "total_s")
        rows.append(
            f"| {label} | {pipeline['feeds']} ({pipeline['accepted']} accepted), {pipeline['stop_times']:,} stop_times "
            f"| {concurrency} | {baseline['wall_s']:.2f} s / {baseline['peak_mb']:.0f} MB "
            f"| {pipeline['wall_s']:.2f} s / {pipeline['peak_mb']:.0f} MB | **{ratio:.2f}x** | {steps} |"
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feed", default="hart-tampa-2021/hart.zip", help="feed under ../shared/data")
    parser.add_argument("--demo-scale", type=float, default=1.0)
    parser.add_argument("--no-demo", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest is kept")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = _child_read_feed(rest) if kind == "read_feed" else _child_pipeline(rest[0], int(rest[1]))
        print(json.dumps(result))
        return
    print("| input | feeds, stop_times | concurrency | gtfs-kit read_feed (wall / peak RSS) "
          "| pipeline (wall / peak RSS) | pipeline / read_feed | pipeline steps summed over feeds (s) |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        feed = SHARED / args.feed
        _measure(feed.name, _single_feed_registry(feed, Path(tmp)), args.repeat)
        if not args.no_demo:
            from oura.demo import generate_region

            summary = generate_region(Path(tmp) / "demo", seed=1, scale=args.demo_scale,
                                      start_date=dt.date(2026, 11, 30))
            _measure(f"demo region (scale {args.demo_scale:g})", Path(summary.registry), args.repeat)


if __name__ == "__main__":
    main()
