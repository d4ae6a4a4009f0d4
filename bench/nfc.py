"""Benchmark: the NFC gateway's remote loads (issue 15): loads per second, latency per protocol
message and round trips per load, with 200 concurrent sessions on loopback, over HTTP and WebSocket.

    .venv/bin/python bench/nfc.py [--sessions 200] [--loads 2000] [--transport http|ws|both]
                                  [--baseline-sessions 10] [--baseline-loads 300] [--port 18751]

What runs:

1. an embedded PostgreSQL (pgserver) in its own folder under /tmp, a fresh database, every migration;
2. the OùRA app in a *separate process* on 127.0.0.1, served as ``oura serve`` serves it
   (`oura.http.server.serve`, the whole app of `oura.app.create_app`, ticketing on the small
   generated demo region's fares, the test payment provider), with the load jobs' background
   round off (``[nfc] every_s = 0``): each load's job is created by the session that writes it,
   as for a card presented right after its sale (the heavier path);
3. set-up over HTTP, through the real paths: one vending machine per session registered by an
   admin (``POST /v1/devices``: its key is the session's device key); then, per run, ``--loads``
   phone wallets (``POST /v1/media``) each sold one TCL 10-trip carnet (``POST /v1/orders``, paid);
4. per transport, ``--sessions`` concurrent sessions (asyncio, one process), each a reference
   terminal (`nfc_gateway.remote.terminal`) with its own device key driving one software card
   (`nfc_gateway.sim.SoftwareCard`, personalised with the server's demo master key) per load
   through LOAD_CONTRACTS, card after card until every load is done. Over HTTP each message is a
   POST on keep-alive connections; over WebSocket each session keeps one socket for all its loads;
5. what is reported: confirmed loads per second, end-to-end load latency, latency per message
   exchanged (what the terminal sent -> what the server answered), round trips per load counted
   by the client (HTTP requests, WebSocket messages; TCP connections and WebSocket handshakes
   counted apart) and by the server (``outputData.exchanges``), errors, and CPU per load of the
   server, PostgreSQL and the bench process (terminals + cards + HTTP client);
6. checks afterwards: every card is read straight from the card (not through the server) and
   must hold exactly its one contract, with 10 trips, the server's mirror must equal that read,
   and in the database every contract sold has one load job, confirmed by its session.

The bench process's CPU (the 200 terminals, the software cards' AES-CMAC and the HTTP client)
competes with the server and PostgreSQL on this machine's 2 cores, so the closed-loop rate is
the machine's, not the server's: the CPU per load of each process says what the server alone
would allow, and a second, small run (``--baseline-sessions``) shows the latency of each message
when the machine is not saturated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# run as a script, bench/ comes first on the path and bench/statistics.py would shadow the stdlib's
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

from bench.ticketing import cpu_seconds, cpu_used, make_keys, percentile, postgres_pids, wait_healthy, with_database  # noqa: E402
from nfc_gateway.remote.cardio import CardRead  # noqa: E402
from nfc_gateway.remote.services import card_serial_of_medium, demo_master_key  # noqa: E402
from nfc_gateway.remote.terminal import HttpTransport, RemoteRefused, Terminal, WebSocketTransport  # noqa: E402
from nfc_gateway.sim.card import SoftwareCard  # noqa: E402
from nfc_gateway.sim.sam import SecureModule  # noqa: E402
from nfc_gateway.sim.transaction import ReadCard  # noqa: E402

PRODUCT = "tcl:10-trips"
MEDIUM = "oura-wallet"
TRIPS = 10
LOAD_TIMEOUT_S = 120.0   # a load taking longer is counted as an error (a hang, not a slow load)
REMOTE = "/v1/nfc/remote"


# --- the app, in its own process ------------------------------------------------------------------

def load_region(region: Path) -> tuple[Any, Any]:
    """(registry, catalogue) of the generated demo region: its fares only."""
    from feeds.authorities import load_registry
    from feeds.gtfs.reader import read_gtfs
    from ticketing.catalogue import FARE_FILES, build_catalogue, load_regional_fares

    registry = load_registry(region / "registry.toml")
    feeds = {n.id: read_gtfs(n.static, only=FARE_FILES) for a in registry.authorities for n in a.networks}
    catalogue, _ = build_catalogue(feeds, regional=load_regional_fares(registry.regional_fares),
                                   region_timezone=registry.timezone)
    return registry, catalogue


def serve(dsn: str, region: Path, data_dir: Path, port: int) -> None:
    """The service process: `create_app`'s whole app, served by `oura.http.server.serve`."""
    import logging

    from oura.app import create_app
    from oura.config import Config, DatabaseConfig, FeedsConfig, HttpConfig, NfcConfig, PlannerConfig
    from oura.http.server import serve as serve_app
    from ticketing.payments import TestPaymentProvider
    from ticketing.service import network_authorities
    from ticketing.startup import make_ticketing_context

    logging.basicConfig(level=logging.WARNING)
    registry, catalogue = load_region(region)
    config = Config(
        data_dir=data_dir,
        database=DatabaseConfig(url=dsn),   # the default pool (2 to 20 connections)
        http=HttpConfig(host="127.0.0.1", port=port),
        feeds=FeedsConfig(registry=None, store_dir=data_dir / "feeds", ingest_on_start=False, realtime=False),
        planner=PlannerConfig(cache_dir=data_dir / "cache"),
        nfc=NfcConfig(every_s=0.0),
    )
    app = create_app(config, extra_contexts=[
        make_ticketing_context(catalogue, network_authorities(registry), TestPaymentProvider())])
    serve_app(app, host="127.0.0.1", port=port, shutdown_timeout_s=5.0)


# --- set-up over HTTP -----------------------------------------------------------------------------

class SetupFailed(Exception):
    pass


async def _post(http: aiohttp.ClientSession, url: str, body: dict, headers: dict[str, str], expected: int) -> dict:
    async with http.post(url, json=body, headers=headers) as response:
        data = await response.json(content_type=None)
        if response.status != expected:
            raise SetupFailed(f"POST {url}: {response.status} {data}")
        return data


async def register_devices(http: aiohttp.ClientSession, base: str, admin: dict[str, str], authority: str,
                           count: int) -> list[dict[str, str]]:
    """``count`` vending machines registered by an admin; their keys (role device) as headers."""
    keys = []
    for k in range(count):
        body = {"authority_id": authority, "kind": "vending_machine", "label": f"NFC bench reader {k + 1}"}
        registration = await _post(http, f"{base}/v1/devices", body, admin, 201)
        keys.append({"Authorization": f"Bearer {registration['api_key']}"})
    return keys


async def seed_wallets(http: aiohttp.ClientSession, base: str, desk: dict[str, str], count: int, price_minor: int,
                       *, concurrency: int = 40) -> list[str]:
    """``count`` phone wallets, each sold one paid carnet through ``POST /v1/orders``: their serials."""
    serials: list[str] = []
    numbers = iter(range(count))

    async def seller() -> None:
        for _ in numbers:
            wallet = await _post(http, f"{base}/v1/media", {"kind": "wallet", "holder": {"display_name": "NFC bench"}},
                                 desk, 201)
            order = {"channel": "app", "payment": {"token": "tok_approve"}, "expected_total_minor": price_minor,
                     "items": [{"fare_product_id": PRODUCT, "fare_media_id": MEDIUM, "medium": wallet["serial"]}]}
            paid = await _post(http, f"{base}/v1/orders", order, {**desk, "Idempotency-Key": f"nfc-{wallet['serial']}"}, 201)
            if paid["status"] != "paid":
                raise SetupFailed(f"order {paid['order_id']} is {paid['status']}")
            serials.append(wallet["serial"])

    await asyncio.gather(*(seller() for _ in range(min(concurrency, count))))
    return serials


# --- the measured run -----------------------------------------------------------------------------

class TimedCard:
    """A software card whose APDU processing time is summed (the client's share of the CPU)."""

    def __init__(self, card: SoftwareCard, clock: list[float]) -> None:
        self.card, self.clock = card, clock

    def transmit(self, apdu: bytes) -> bytes:
        started = time.perf_counter()
        try:
            return self.card.transmit(apdu)
        finally:
            self.clock[0] += time.perf_counter() - started

    def remove(self) -> None:
        self.card.remove()


@dataclass
class Tally:
    transport: str
    sessions: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    loads: list[float] = field(default_factory=list)          # end-to-end seconds of each confirmed load
    round_trips: list[int] = field(default_factory=list)      # messages the terminal sent, per load
    server_exchanges: list[int] = field(default_factory=list)  # the server's own count (outputData.exchanges)
    errors: Counter = field(default_factory=Counter)
    card_s: list[float] = field(default_factory=lambda: [0.0])
    connections: int = 0                                       # TCP connections opened (HTTP) / WebSocket handshakes
    elapsed_s: float = 0.0
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cpu_ms_per_load: dict[str, float] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def confirmed(self) -> int:
        return len(self.loads)


def _sent_kind(message: dict[str, Any]) -> str:
    if message["action"] == "RESP":
        return "RESP " + json.loads(message["body"])["service"]
    return message["action"]


def _answer_kind(answer: Any) -> str:
    command = answer[0]
    if command["action"] == "CMD":
        return "CMD " + json.loads(command["body"])["service"]
    return command["action"]


class TimedTransport:
    """Times each message the terminal sends until the server's answer, by (sent -> answered) kind."""

    def __init__(self, inner: Any, tally: Tally) -> None:
        self.inner, self.tally, self.sent = inner, tally, 0

    async def send(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        kind = _sent_kind(message)
        started = time.perf_counter()
        answer = await self.inner.send(message)
        self.tally.latencies[f"{kind} -> {_answer_kind(answer)}"].append(time.perf_counter() - started)
        self.sent += 1
        return answer


@dataclass
class BenchCard:
    serial: str
    card: SoftwareCard


def make_cards(serials: Sequence[str], sam: SecureModule) -> list[BenchCard]:
    """The phones' cards, personalised with the keys the server's secure module derives."""
    cards = []
    for serial in serials:
        card_serial = card_serial_of_medium(serial)
        cards.append(BenchCard(serial, SoftwareCard.blank(card_serial, sam.personalise(card_serial))))
    return cards


async def _load_one(terminal: Terminal, timed: TimedTransport, tally: Tally) -> None:
    before, started = timed.sent, time.perf_counter()
    try:
        async with asyncio.timeout(LOAD_TIMEOUT_S):
            outcome = await terminal.run("LOAD_CONTRACTS")
    except RemoteRefused as refused:
        tally.errors[f"{refused.status} {refused.code}"] += 1
        return
    except Exception as error:  # noqa: BLE001 - counted and shown: the bench must report, not stop
        tally.errors[type(error).__name__] += 1
        return
    elapsed = time.perf_counter() - started
    loaded = [job for job in outcome.output.get("loads", ()) if job.get("written_by_this_session")]
    if not outcome.output.get("successful") or len(loaded) != 1 or loaded[0]["status"] != "confirmed":
        tally.errors["not loaded: " + json.dumps(outcome.output.get("error") or outcome.output.get("not_loaded"))] += 1
        return
    tally.loads.append(elapsed)
    tally.round_trips.append(timed.sent - before)
    tally.server_exchanges.append(int(outcome.output.get("exchanges", 0)))


async def run_loads(http: aiohttp.ClientSession, base: str, cards: Sequence[BenchCard], devices: Sequence[dict[str, str]],
                    transport: str, sessions: int) -> Tally:
    """``sessions`` terminals load ``cards`` (one due carnet each), taking the next card as each
    load ends (closed loop). ``http`` must count its new connections into ``tally.connections``
    (see `counting_session`) for HTTP; a WebSocket session counts its handshake."""
    tally = Tally(transport, sessions)
    queue = iter(cards)

    async def session(k: int) -> None:
        device = devices[k % len(devices)]
        if transport == "ws":
            async with http.ws_connect(f"{base}{REMOTE}/ws", headers=device) as ws:
                tally.connections += 1
                await drive(TimedTransport(WebSocketTransport(ws), tally))
        else:
            await drive(TimedTransport(HttpTransport(http, f"{base}{REMOTE}", device), tally))

    async def drive(timed: TimedTransport) -> None:
        for bench_card in queue:
            await _load_one(Terminal(TimedCard(bench_card.card, tally.card_s), timed), timed, tally)

    started = time.perf_counter()
    await asyncio.gather(*(session(k) for k in range(sessions)))
    tally.elapsed_s = time.perf_counter() - started
    tally.load_average = os.getloadavg()
    return tally


def counting_session(counter: list[int]) -> aiohttp.ClientSession:
    """An HTTP client (keep-alive, no connection limit) counting the TCP connections it opens."""
    trace = aiohttp.TraceConfig()

    async def opened(session: Any, context: Any, params: Any) -> None:
        counter[0] += 1

    trace.on_connection_create_end.append(opened)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), trace_configs=[trace])


# --- checks afterwards ----------------------------------------------------------------------------

def _as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def check_loads(db: Any, sam: SecureModule, cards: Sequence[BenchCard]) -> dict[str, Any]:
    """Each card read straight from the card, and the database: every contract sold for these
    wallets has one load job, confirmed by a session, the card holds it once with its trips, and
    the server's mirror is the card. ``db`` is an asyncpg connection or pool."""
    serials = [c.serial for c in cards]
    sold = await db.fetch("SELECT m.serial, c.contract_id FROM ticketing_contracts c JOIN ticketing_media m USING (medium_id) "
                          "WHERE m.serial = ANY($1::text[])", serials)
    jobs = await db.fetch("SELECT medium_serial, contract_id, status, confirmed_by FROM nfc_load_jobs "
                          "WHERE medium_serial = ANY($1::text[])", serials)
    mirrors = {r["medium_serial"]: _as_json(r["image"]) for r in await db.fetch(
        "SELECT medium_serial, image FROM nfc_card_mirror WHERE medium_serial = ANY($1::text[])", serials)}
    outcomes = Counter({r["outcome"]: r["n"] for r in await db.fetch(
        "SELECT outcome, count(*) AS n FROM nfc_remote_sessions WHERE medium_serial = ANY($1::text[]) GROUP BY outcome",
        serials)})
    contract_of: dict[str, set[int]] = defaultdict(set)
    for row in sold:
        contract_of[row["serial"]].add(row["contract_id"])
    once, mirrored = 0, 0
    for bench_card in cards:
        reader = ReadCard(sam)
        image = CardRead(reader.result([bench_card.card.transmit(c) for c in reader.commands()])).image(bench_card.serial)
        on_card = [int(c.fields["ContractSerialNumber"]) for c in image.contracts]
        once += (sorted(on_card) == sorted(contract_of[bench_card.serial])
                 and all(c.counter == TRIPS for c in image.contracts))
        mirrored += mirrors.get(bench_card.serial) == json.loads(json.dumps(image.to_json()))
    return {
        "cards": len(cards), "contracts_sold": len(sold), "jobs": len(jobs),
        "jobs_per_contract_max": max(Counter(r["contract_id"] for r in jobs).values(), default=0),
        "confirmed_by_session": sum(r["status"] == "confirmed" and r["confirmed_by"] == "session" for r in jobs),
        "cards_holding_their_contract_once": once, "mirrors_equal_to_card": mirrored,
        "sessions_done": outcomes.get("done", 0), "sessions_failed_or_lost": outcomes.get("failed", 0) + outcomes.get("lost", 0),
    }


def checks_pass(checks: dict[str, Any]) -> bool:
    n = checks["cards"]
    return (checks["contracts_sold"] == checks["jobs"] == checks["confirmed_by_session"] == n
            and checks["jobs_per_contract_max"] == 1 and checks["cards_holding_their_contract_once"] == n
            and checks["mirrors_equal_to_card"] == n and checks["sessions_done"] == n
            and checks["sessions_failed_or_lost"] == 0)


# --- report ---------------------------------------------------------------------------------------

def _ms(values: list[float], q: float) -> str:
    return f"{1000 * percentile(values, q):.1f}" if values else "-"


def report(tallies: Sequence[Tally]) -> str:
    """The figures as markdown tables."""
    lines = ["| transport | sessions | confirmed loads | loads/s | load p50 ms | load p99 ms | round trips per load "
             "(client; server) | TCP connections / WS handshakes | errors | checks | load average |",
             "|---|---:|---:|---:|---:|---:|---|---:|---:|---|---|"]
    for t in tallies:
        trips = Counter(t.round_trips)
        server = Counter(t.server_exchanges)
        lines.append(
            f"| {t.transport} | {t.sessions} | {t.confirmed} | {t.confirmed / t.elapsed_s:.1f} | {_ms(t.loads, 0.5)} | "
            f"{_ms(t.loads, 0.99)} | {_counts(trips)}; {_counts(server)} | {t.connections} | "
            f"{sum(t.errors.values())}{' ' + str(dict(t.errors)) if t.errors else ''} | "
            f"{'pass' if t.checks and checks_pass(t.checks) else 'FAIL ' + json.dumps(t.checks)} | "
            f"{' '.join(f'{x:.2f}' for x in t.load_average)} |")
    lines += ["", "| transport | sessions | message sent -> server's answer | count | p50 ms | p95 ms | p99 ms |",
              "|---|---:|---|---:|---:|---:|---:|"]
    for t in tallies:
        for kind, values in t.latencies.items():
            lines.append(f"| {t.transport} | {t.sessions} | {kind} | {len(values)} | {_ms(values, 0.5)} | "
                         f"{_ms(values, 0.95)} | {_ms(values, 0.99)} |")
    lines += ["", "| transport | sessions | server CPU ms/load | PostgreSQL CPU ms/load | bench process CPU ms/load "
              "(of which the cards) | loads/s the server + PostgreSQL alone would allow |",
              "|---|---:|---:|---:|---:|---:|"]
    for t in tallies:
        if not t.cpu_ms_per_load:
            continue
        server, pg, client = (t.cpu_ms_per_load[k] for k in ("server", "postgres", "bench"))
        card_ms = 1000 * t.card_s[0] / max(t.confirmed, 1)
        bound = min(1000 / server, 1000 * (os.cpu_count() or 1) / (server + pg))  # the server is one event loop
        lines.append(f"| {t.transport} | {t.sessions} | {server:.2f} | {pg:.2f} | {client:.2f} ({card_ms:.2f}) | {bound:.0f} |")
    return "\n".join(lines)


def _counts(counter: Counter) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items())) or "-"


# --- main -----------------------------------------------------------------------------------------

@dataclass
class Bench:
    base: str
    dsn: str
    pgdata: Path
    server_pid: int
    sam: SecureModule
    desk: dict[str, str]
    devices: list[dict[str, str]]
    price_minor: int


async def measured_run(bench: Bench, transport: str, sessions: int, loads: int) -> Tally:
    """Seed ``loads`` wallets, load them with ``sessions`` terminals over ``transport``, check."""
    async with aiohttp.ClientSession() as http:
        started = time.perf_counter()
        serials = await seed_wallets(http, bench.base, bench.desk, loads, bench.price_minor)
        print(f"seeded {loads} wallets with a paid carnet over HTTP in {time.perf_counter() - started:.1f} s", flush=True)
    cards = make_cards(serials, bench.sam)
    processes = {"server": lambda: [bench.server_pid], "postgres": lambda: postgres_pids(bench.pgdata),
                 "bench": lambda: [os.getpid()]}
    connections = [0]
    async with counting_session(connections) as http:
        cpu0 = {name: cpu_seconds(pids()) for name, pids in processes.items()}
        tally = await run_loads(http, bench.base, cards, bench.devices, transport, sessions)
        cpu1 = {name: cpu_seconds(pids()) for name, pids in processes.items()}
    if transport == "http":
        tally.connections = connections[0]
    tally.cpu_ms_per_load = {name: 1000 * cpu_used(cpu0[name], cpu1[name]) / max(tally.confirmed, 1) for name in processes}
    conn = await asyncpg.connect(bench.dsn)
    try:
        tally.checks = await check_loads(conn, bench.sam, cards)
    finally:
        await conn.close()
    print(f"{transport}, {sessions} sessions: {tally.confirmed} loads in {tally.elapsed_s:.1f} s, "
          f"errors {dict(tally.errors)}, checks {tally.checks}, load average {tally.load_average}", flush=True)
    return tally


async def start_bench(work: Path, dsn: str, port: int, devices: int) -> tuple[Bench, subprocess.Popen]:
    from ticketing.service import network_authorities

    registry, catalogue = load_region(work / "demo")
    authority = network_authorities(registry)["tcl"]
    data_dir = work / "data"
    server = subprocess.Popen([sys.executable, __file__, "--serve", dsn, str(work / "demo"), str(data_dir), str(port)],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        try:
            await wait_healthy(http, base, server, 600)
        except RuntimeError as error:
            raise SetupFailed(str(error)) from None
        (admin,) = await make_keys(dsn, "admin", None, 1)
        (desk,) = await make_keys(dsn, "sales_point", authority, 1)
        keys = await register_devices(http, base, admin, authority, devices)
    sam = SecureModule(demo_master_key(str(data_dir.resolve())))   # the server's key (derived from its data folder)
    price = catalogue.find_offer(PRODUCT, "adult", MEDIUM).price_minor
    return Bench(base, dsn, work / "pgdata", server.pid, sam, desk, keys, price), server


async def main_async(args: argparse.Namespace) -> None:
    from oura.db.embedded import EmbeddedPostgres
    from oura.db.migrate import apply_migrations
    from oura.demo.generate import generate_region

    work = Path(tempfile.mkdtemp(prefix="oura-bench-nfc-", dir="/tmp"))
    generate_region(work / "demo", seed=1, scale=0.02, start_date=date(2026, 3, 2), fmt="dir", days=7)
    pg = EmbeddedPostgres(work / "pgdata")
    server_dsn = pg.start()
    server = None
    try:
        admin = await asyncpg.connect(server_dsn)
        await admin.execute("CREATE DATABASE bench")
        await admin.close()
        dsn = with_database(server_dsn, "bench")
        conn = await asyncpg.connect(dsn)
        await apply_migrations(conn)
        await conn.close()
        bench, server = await start_bench(work, dsn, args.port, max(args.sessions, args.baseline_sessions))
        print(f"load average at start {os.getloadavg()}, {os.cpu_count()} cores", flush=True)
        transports = ["http", "ws"] if args.transport == "both" else [args.transport]
        tallies = []
        for transport in transports:
            await measured_run(bench, transport, min(4, args.sessions), 20)  # warm-up (not reported)
            tallies.append(await measured_run(bench, transport, args.sessions, args.loads))
            if args.baseline_sessions:
                tallies.append(await measured_run(bench, transport, args.baseline_sessions, args.baseline_loads))
        print()
        print(report(tallies))
        if any(t.errors or not checks_pass(t.checks) for t in tallies):
            sys.exit(1)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--serve":
        serve(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200, help="concurrent terminal sessions")
    parser.add_argument("--loads", type=int, default=2000, help="loads per transport (one wallet and one carnet each)")
    parser.add_argument("--transport", choices=["http", "ws", "both"], default="both")
    parser.add_argument("--baseline-sessions", type=int, default=10,
                        help="a second, small run per transport with this many sessions (0: none)")
    parser.add_argument("--baseline-loads", type=int, default=300)
    parser.add_argument("--port", type=int, default=18751)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
