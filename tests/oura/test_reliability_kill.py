"""Reliability: `oura serve` killed with SIGKILL in the middle of a sales and validation load.

The server (and its embedded PostgreSQL, as when the machine dies) is killed while sales points
sell with an Idempotency-Key per sale and a validator uploads events, with the default payment
provider. It is started again on the same data folder, every request that was not acknowledged
is retried with its key or event id, and then:

- nothing acknowledged is lost: every order and every decision answered before the kill is there;
- nothing is charged or counted twice: one order and one charge per sale key (references unique,
  the provider's own journal agrees), one validation per event id, one trip per valid event;
- the ledger equals the money taken;
- no answer during either start-up was a 404 or an ``unknown_*`` refusal (a 503 is fine: retried).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import psutil
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.db, pytest.mark.http]  # oura serve and its own PostgreSQL

START_TIMEOUT_S = 60  # bounds, not expectations: a hang fails the test, it never blocks CI
RETRY_TIMEOUT_S = 60
CARDS = 6
EVENTS_PER_CARD = 2  # 130 s apart on one route: each one counts a trip (anti-passback is 120 s)
SALES = 24
KILL_AFTER_ACKS = 8  # the load's acknowledged answers before the kill
KEEP = {"auvergne-rhone-alpes": {"ter"}, "sytral": {"tcl"}}  # two networks: a fast start-up


@pytest.fixture
def home() -> Iterator[Path]:
    """A data folder outside pytest's temporary root (as root, postgres runs as pgserver's user,
    which must reach the folder; see tests/oura/test_db_outage.py)."""
    folder = Path(tempfile.mkdtemp(prefix="oura-kill-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _small_registry(home: Path) -> Path:
    """The demo region's TER and TCL networks only, as a registry of absolute paths."""
    from oura.demo.generate import generate_region

    region = home / "region"
    generate_region(region, seed=1, scale=0.02, start_date=date.today() - timedelta(days=1), fmt="dir", days=7)
    data = tomllib.loads((region / "registry.toml").read_text(encoding="utf-8"))

    def text(value: object) -> str:
        return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string

    lines = ["[region]", f"name = {text(data['region']['name'])}", f"timezone = {text(data['region']['timezone'])}",
             f"regional_fares = {text(region / data['region']['regional_fares'])}", ""]
    for authority in data["authorities"]:
        if authority["id"] not in KEEP:
            continue
        lines += ["[[authorities]]", *(f"{k} = {text(authority[k])}" for k in ("id", "name", "kind", "timezone"))]
        for network in authority["networks"]:
            if network["id"] in KEEP[authority["id"]]:
                lines += ["[[authorities.networks]]", f"id = {text(network['id'])}", f"name = {text(network['name'])}",
                          f"static = {text(region / network['static'])}", f"static_poll_s = {network['static_poll_s']}"]
        lines.append("")
    registry = home / "registry.toml"
    registry.write_text("\n".join(lines), encoding="utf-8")
    return registry


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_of(pgdata: Path) -> list[psutil.Process]:
    """The postmaster of ``pgdata`` (from its postmaster.pid, if alive) and its backends."""
    try:
        postmaster = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
        if postmaster.status() == psutil.STATUS_ZOMBIE or postmaster.name() != "postgres":
            return []
        return [postmaster, *postmaster.children(recursive=True)]
    except (OSError, ValueError, psutil.Error):
        return []


@dataclass
class Server:
    env: dict[str, str]
    port: int
    pgdata: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.pgdata.parent / "serve.log", "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen([sys.executable, "-m", "oura", "serve", "--no-usage", "--port", str(self.port)],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        log.close()

    def kill(self) -> None:
        """SIGKILL the server and its database at once, as when the machine dies."""
        victims = [self.proc.pid, *(p.pid for p in _postgres_of(self.pgdata))]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def log_tail(self) -> str:
        return (self.pgdata.parent / "serve.log").read_text(errors="replace")[-3000:]


@dataclass
class Load:
    """Every request of the test, what was answered, and what start-up answered."""

    session: aiohttp.ClientSession
    server: Server
    startup_answers: list[tuple[str, int, str]] = field(default_factory=list)  # (what, status, code)
    in_startup: bool = True

    async def send(self, what: str, method: str, path: str, **kwargs) -> tuple[int, dict] | None:
        """One attempt; None when the server did not answer (down, or killed mid-request)."""
        try:
            async with self.session.request(method, self.server.url + path, **kwargs) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
            return None
        if self.in_startup:
            code = body.get("code", "") if isinstance(body, dict) else ""
            if isinstance(body, dict) and "decisions" in body:
                code = ",".join(d["reason"] for d in body["decisions"])
            self.startup_answers.append((what, response.status, code))
        return response.status, body

    async def until_acknowledged(self, what: str, method: str, path: str, **kwargs) -> tuple[int, dict]:
        """Retry (same key, same body) until a final answer: anything but no answer or a 503."""
        deadline = asyncio.get_running_loop().time() + RETRY_TIMEOUT_S
        while True:
            answer = await self.send(what, method, path, **kwargs)
            if answer is not None and answer[0] != 503:
                return answer
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{what} never acknowledged: {answer}\n{self.server.log_tail()}")
            await asyncio.sleep(0.2)


async def _dsn(env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "oura", "db", "dsn", env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await asyncio.wait_for(process.communicate(), START_TIMEOUT_S)
    assert process.returncode == 0
    return out.decode().strip()


async def _wait_until_listening(load: Load) -> None:
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
    while await load.send("healthz", "GET", "/healthz") is None:
        assert load.server.proc.poll() is None, load.server.log_tail()
        assert asyncio.get_running_loop().time() < deadline, "oura serve did not listen in time"
        await asyncio.sleep(0.1)


async def _startup_probes(load: Load, stop: asyncio.Event) -> None:
    """Ask for the products all through a start-up: the catalogue must never look empty."""
    while not stop.is_set():
        await load.send("products", "GET", "/v1/products?network=tcl")
        await asyncio.sleep(0.05)


async def test_sigkill_during_sales_and_validations_loses_nothing_and_charges_nothing_twice(home):
    registry = _small_registry(home)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "OURA_CONFIG"}}
    env.update(OURA_DATA_DIR=str(home / "var"), OURA_REGISTRY=str(registry), OURA_LOG_FORMAT="text")
    server = Server(env, _free_port(), (home / "var" / "pgdata").resolve())
    journal = home / "var" / "payments" / "test-provider.jsonl"
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        load = Load(session, server)
        try:
            server.start()
            await _wait_until_listening(load)
            dsn = await _dsn(env)
            conn = await asyncpg.connect(dsn)
            try:
                from oura.auth import create_key

                tokens = {role: (await create_key(conn, role, authority, label="kill test"))[1]
                          for role, authority in (("sales_point", "sytral"), ("device", "sytral"), ("admin", None))}
            finally:
                await conn.close()
            desk, device, admin = ({"Authorization": f"Bearer {tokens[r]}"} for r in ("sales_point", "device", "admin"))

            # --- the first start-up, and what the load needs: cards with ten trips each -------------
            stop_probes = asyncio.Event()
            probes = asyncio.create_task(_startup_probes(load, stop_probes))
            _, listed = await load.until_acknowledged("products", "GET", "/v1/products?network=tcl&rider_category=adult")
            price = {(p["fare_product_id"], p["fare_media_id"]): p["price_minor"] for p in listed["products"]}
            paper, ten_trips = price[("tcl:single", "paper")], price[("tcl:10-trips", "oura-card")]
            cards = []
            for _ in range(CARDS):
                status, card = await load.until_acknowledged("medium", "POST", "/v1/media", json={"kind": "smartcard"},
                                                             headers=desk)
                assert status == 201, card
                cards.append(card["serial"])
            sales: dict[str, dict] = {}  # Idempotency-Key -> body
            for i, serial in enumerate(cards):
                sales[f"load-card-{i}"] = {"channel": "desk", "payment": {"token": "tok_approve"},
                                           "expected_total_minor": ten_trips, "items": [
                                               {"fare_product_id": "tcl:10-trips", "rider_category_id": "adult",
                                                "fare_media_id": "oura-card", "medium": serial}]}
            acked_orders: dict[str, dict] = {}  # key -> the order first acknowledged
            for key, body in sales.items():
                status, order = await load.until_acknowledged(key, "POST", "/v1/orders", json=body,
                                                              headers={**desk, "Idempotency-Key": key})
                assert status == 201, order
                acked_orders[key] = order
            stop_probes.set()
            await probes
            load.in_startup = False

            # --- the load, killed in the middle -----------------------------------------------------
            sold_at = datetime.now(UTC)
            for i in range(SALES):
                sales[f"sale-{i}"] = {"channel": "desk", "payment": {"token": "tok_approve"},
                                      "expected_total_minor": paper, "items": [
                                          {"fare_product_id": "tcl:single", "rider_category_id": "adult",
                                           "fare_media_id": "paper"}]}
            events = {f"ev-{c}-{n}": {"event_id": f"ev-{c}-{n}", "medium": serial, "route_id": "tcl:A",
                                      "stop_id": "tcl:perrache-A",
                                      "time": (sold_at + timedelta(seconds=5 + 130 * n)).isoformat()}
                      for c, serial in enumerate(cards) for n in range(EVENTS_PER_CARD)}
            acked_decisions: dict[str, dict] = {}
            acks = asyncio.Event()

            def count_ack() -> None:
                if len(acked_decisions) + len(acked_orders) - CARDS >= KILL_AFTER_ACKS:
                    acks.set()

            async def sell_all() -> None:
                for key in [k for k in sales if k.startswith("sale-")]:
                    answer = await load.send(key, "POST", "/v1/orders", json=sales[key],
                                             headers={**desk, "Idempotency-Key": key})
                    if answer is not None and answer[0] in (200, 201):
                        acked_orders[key] = answer[1]
                        count_ack()

            async def validate_all() -> None:
                for event_id, event in events.items():
                    answer = await load.send(event_id, "POST", "/v1/validations", json={"events": [event]}, headers=device)
                    if answer is not None and answer[0] == 200:
                        acked_decisions[event_id] = answer[1]["decisions"][0]
                        count_ack()

            workers = [asyncio.create_task(sell_all()), asyncio.create_task(sell_all()), asyncio.create_task(validate_all())]
            await asyncio.wait_for(acks.wait(), RETRY_TIMEOUT_S)
            server.kill()
            await asyncio.gather(*workers)
            acked_before_kill = {"orders": dict(acked_orders), "decisions": dict(acked_decisions)}
            assert len(acked_orders) - CARDS + len(acked_decisions) < SALES + len(events), "the kill came too late"

            # --- the restart, and every unacknowledged request retried with its key ---------------
            load.in_startup = True
            server.start()
            stop_probes = asyncio.Event()
            probes = asyncio.create_task(_startup_probes(load, stop_probes))
            for key, body in sales.items():
                status, order = await load.until_acknowledged(key, "POST", "/v1/orders", json=body,
                                                              headers={**desk, "Idempotency-Key": key})
                assert status in (200, 201), order
                acked_orders.setdefault(key, order)
            for event_id, event in events.items():
                status, answer = await load.until_acknowledged(event_id, "POST", "/v1/validations",
                                                               json={"events": [event]}, headers=device)
                assert status == 200, answer
                acked_decisions.setdefault(event_id, answer["decisions"][0])
            stop_probes.set()
            await probes

            # --- what was acknowledged is there, once ------------------------------------------------
            for key, order in acked_before_kill["orders"].items():
                status, now = await load.until_acknowledged(key, "GET", f"/v1/orders/{order['order_id']}", headers=admin)
                assert status == 200 and now["status"] == "paid" and now["payments"] == order["payments"], (key, now)
            conn = await asyncpg.connect(await _dsn(env))
            try:
                orders = await conn.fetch("SELECT order_id, idempotency_key, status, total_minor FROM ticketing_orders")
                payments = await conn.fetch("SELECT order_id, kind, provider_reference, amount_minor FROM ticketing_payments")
                ledger_minor = await conn.fetchval("SELECT coalesce(sum(amount_minor), 0) FROM ticketing_ledger")
                validations = await conn.fetch("SELECT event_id, accepted, reason, contract_id FROM ticketing_validations")
                trips_left = dict(await conn.fetch(
                    "SELECT m.serial, c.remaining_trips FROM ticketing_contracts c JOIN ticketing_media m USING (medium_id)"
                    " WHERE m.serial = ANY($1::text[])", cards))
            finally:
                await conn.close()
        finally:
            server.stop()

    # one order per sale key, all paid; one charge each, unique references; the money is the ledger
    assert sorted(o["idempotency_key"] for o in orders) == sorted(sales)
    assert {o["status"] for o in orders} == {"paid"}
    assert {acked_orders[o["idempotency_key"]]["order_id"] for o in orders} == {o["order_id"] for o in orders}
    charges = [p for p in payments if p["kind"] == "charge"]
    assert sorted(p["order_id"] for p in charges) == sorted(o["order_id"] for o in orders)
    assert len({p["provider_reference"] for p in charges}) == len(charges) and len(payments) == len(charges)
    taken = sum(p["amount_minor"] for p in charges)
    assert taken == sum(o["total_minor"] for o in orders) == ledger_minor
    # the provider's own record (it outlived the kill) agrees: no charge the database does not know
    journaled = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    assert sorted(e["key"] for e in journaled if e["kind"] == "charge") == sorted(f"order-{o['order_id']}" for o in orders)
    assert sum(e["amount_minor"] for e in journaled if e["kind"] == "charge") == taken

    # one decision per event id, the one acknowledged first; one trip per valid event
    assert sorted(v["event_id"] for v in validations) == sorted(events)
    recorded = {v["event_id"]: v["reason"] for v in validations}
    assert {e: d["reason"] for e, d in acked_before_kill["decisions"].items()} == {
        e: recorded[e] for e in acked_before_kill["decisions"]}
    assert set(recorded.values()) == {"valid"}, recorded
    valid_per_card = Counter(events[e]["medium"] for e, reason in recorded.items() if reason == "valid")
    assert trips_left == {serial: 10 - valid_per_card[serial] for serial in cards}

    # start-up never gave a permanent wrong answer: no 404, no unknown_* (503 is a "retry")
    assert load.startup_answers, "nothing was asked during start-up"
    wrong = [a for a in load.startup_answers if a[1] == 404 or "unknown_" in a[2]]
    assert wrong == [], wrong
    deadline = asyncio.get_running_loop().time() + 10
    while _postgres_of(server.pgdata) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
    assert not _postgres_of(server.pgdata), "the restarted server left its database running after SIGTERM"
