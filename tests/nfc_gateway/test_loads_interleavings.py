"""Random interleavings (seeded, 200 cases) of sessions that read, write, drop, mark written and
confirm, with refund passes and time passing: no load is both refunded and on the card, no card
holds a contract twice, and in the end every paid contract is on its card or refunded, once.

The sessions play by the protocol's rules (`nfc_gateway.remote.model`): a session reads the card
(`reconcile`) before writing, writes only what the read returned, and closes the card's session
within `loads.WRITE_MARGIN` of that read (a slower one gives up: the card is unchanged, a Calypso
session being atomic)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from nfc_gateway.remote import loads
from nfc_gateway.remote.model import CardContract, CardImage, LoadJob
from tests.nfc_gateway.test_loads import STAS_SINGLE, new_medium, sell
from ticketing.media import list_loadable_contracts
from tests.ticketing.conftest import make_harness, region_catalogue  # noqa: F401 (fixtures)

CASES = 200
STEPS = 14
STEP_TIMES = [timedelta(seconds=20), timedelta(minutes=4), timedelta(minutes=11), timedelta(hours=5),
              timedelta(days=2), timedelta(days=6, hours=23, minutes=55), timedelta(days=8)]


@dataclass
class Card:
    serial: str
    records: dict[int, int] = field(default_factory=dict)  # record -> contract serial

    def image(self) -> CardImage:
        return CardImage(self.serial, {"EnvNetworkId": "250502"},
                         tuple(CardContract(r, {"ContractSerialNumber": s}) for r, s in sorted(self.records.items())))

    def write(self, jobs: list[LoadJob]) -> dict[int, int]:
        """One atomic card session writing ``jobs`` into free records: job id -> record."""
        free = [r for r in range(1, 5) if r not in self.records]
        assert len(free) >= len(jobs), "the card is full"
        placed = dict(zip((j.job_id for j in jobs), free))
        for job in jobs:
            self.records[placed[job.job_id]] = job.card_contract_serial
        return placed


@dataclass
class Session:
    jobs: list[LoadJob]
    read_at: datetime
    placed: dict[int, int] | None = None  # after the card's session closed
    marked: bool = False


async def check(pool, card: Card, contract_ids: list[int]) -> dict[int, str]:
    rows = await pool.fetch("SELECT contract_id, status, card_contract_serial FROM nfc_load_jobs WHERE contract_id = ANY($1::bigint[])",
                            contract_ids)
    on_card = list(card.records.values())
    assert len(on_card) == len(set(on_card)), f"a contract is on card {card.serial} twice: {card.records}"
    assert len(rows) <= len(contract_ids)
    for row in rows:
        if row["status"] == "refunded":
            assert row["card_contract_serial"] not in on_card, f"contract {row['contract_id']} refunded yet on the card"
        if row["status"] == "confirmed":
            assert row["card_contract_serial"] in on_card, f"contract {row['contract_id']} confirmed, not on the card"
    return {r["contract_id"]: r["status"] for r in rows}


async def run_case(h, rng: random.Random, log: list[str]) -> None:
    pool, start = h.service.pool, h.clock.now()
    wallet = await new_medium(h, "wallet")
    items = [STAS_SINGLE] * rng.choice([1, 2])
    order = await sell(h, wallet, items, 160 * len(items))
    contract_ids = [c for line in order["lines"] for c in line["contract_ids"]]
    assert len(contract_ids) == len(items)
    card, now, session = Card(wallet), start, None
    # the background job's round right after the sale
    await loads.create_jobs(pool, await list_loadable_contracts(pool, serial=wallet), start)

    for _ in range(STEPS):
        op = rng.choice(["start", "start", "close", "close", "mark", "confirm", "drop", "peek", "refund", "refund",
                         "advance", "advance"])
        log.append(op)
        if op == "start" and session is None:
            result = await loads.reconcile(pool, wallet, card.image(), now)
            assert result.refunded_on_card == () and result.unknown_on_card == ()
            assert await loads.mirror(pool, wallet) == card.image()
            session = Session(list(result.to_write), now)
        elif op == "close" and session is not None and session.placed is None:
            if now - session.read_at < loads.WRITE_MARGIN:
                session.placed = card.write(session.jobs)
            else:
                session = None  # too slow: the terminal gave up before closing the card's session
        elif op == "mark" and session is not None and session.placed is not None and not session.marked:
            for job in session.jobs:
                await loads.mark_written(pool, job.job_id, "s", session.placed[job.job_id], card.image(), now)
            session.marked = True
        elif op == "confirm" and session is not None and session.marked:
            for job in session.jobs:
                await loads.confirm(pool, job.job_id, card.image(), now)
            assert await loads.mirror(pool, wallet) == card.image()
            session = None
        elif op == "drop":
            session = None
        elif op == "peek":
            await loads.due_loads(pool, wallet, now)
        elif op == "refund":
            await loads.refund_expired(pool, now, provider=h.provider)
        elif op == "advance":
            session_open = session is not None and session.placed is None
            now += rng.choice(STEP_TIMES)
            if session_open and now - session.read_at >= loads.WRITE_MARGIN:
                session = None
        await check(pool, card, contract_ids)

    # the card comes back long after: a read, then a refund pass decide every load
    now += timedelta(seconds=loads.DEFAULT_LOAD_DEADLINE_S) + timedelta(days=1)
    log.append("final")
    result = await loads.reconcile(pool, wallet, card.image(), now)
    assert result.to_write == ()
    await loads.refund_expired(pool, now, provider=h.provider)
    statuses = await check(pool, card, contract_ids)
    assert sorted(statuses) == sorted(contract_ids), "every paid contract has exactly one job"
    assert set(statuses.values()) <= {"confirmed", "refunded"}, statuses
    refunded_jobs = {c for c, s in statuses.items() if s == "refunded"}
    view = await h.service.get_order(order["order_id"])
    refunds = [p for p in view.payments if p["kind"] == "refund"]
    assert sum(p["amount_minor"] for p in refunds) == 160 * len(refunded_jobs) == view.refunded_minor
    contracts = await pool.fetch("SELECT contract_id, status FROM ticketing_contracts WHERE contract_id = ANY($1::bigint[])",
                                 contract_ids)
    assert {r["contract_id"] for r in contracts if r["status"] == "refunded"} == refunded_jobs
    assert await loads.mirror(pool, wallet) == card.image()


@pytest.mark.slow
async def test_random_interleavings_keep_the_invariants(make_harness):
    h = await make_harness()
    for seed in range(CASES):
        log: list[str] = []
        try:
            await run_case(h, random.Random(seed), log)
        except AssertionError as error:
            raise AssertionError(f"case {seed}, steps {log}: {error}") from error
