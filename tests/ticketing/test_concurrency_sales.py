"""Lock pair (STYLE rule 24): a card declared lost, or reconstituted, while its sale is finishing.

FEATURE UNDER TEST: a contract is never loaded on a card that is not active (README, locking
rule 4). The finalising statement ``fulfil_paid_order`` share-locks the media its lines name, so a
declaration (which locks the medium row ``FOR UPDATE``) either waits for the sale, or is seen by it.

- Statement level, two connections of the test database: a declaration of card C holds its
  transaction open; ``fulfil_paid_order`` for an order loading a contract on C waits for it (seen
  in ``pg_stat_activity``: ``wait_event_type = 'Lock'``, blocked by the declaring backend), then
  writes nothing and names C in ``dead_media``. The same statement without its ``FOR SHARE``
  loads the contract on the lost card: the race is real.
- The reverse order: the sale's statement holds its locks in an open transaction; the declaration
  waits, then declares the card once the contract exists, and reconstitution moves that contract.
- Over HTTP: the card dies while the provider is charging (a gated provider, no sleeps): 409
  ``medium_not_active``, one charge and one refund, nothing on the card, the same 409 on retry.

Other work may rename the closing status of refused orders (``refunded`` or ``failed``); the tests
assert what must hold, not that name.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

import pytest

import ticketing.media as media_module
from ticketing.media import HolderProof
from ticketing.payments import ChargeStatus, PaymentResult, TestPaymentProvider
from ticketing.repository import Q
from ticketing.orders import PricedLine
from ticketing.selling import fulfilment_arguments

WAIT_S = 10  # an upper bound for a step that should take milliseconds: a hang fails, it never blocks CI
CLOSED_REFUSED = ("refunded", "failed")


def card_order(card: str, token: str = "tok_approve") -> dict:
    item = {"fare_product_id": "ter-tcl-10", "fare_media_id": "oura-card", "quantity": 1, "medium": card}
    return {"channel": "desk", "payment": {"token": token}, "expected_total_minor": 6000, "items": [item]}


CARD_SECRETS: dict[str, str] = {}  # serial -> the secret printed on the anonymous card (proof for reconstitution)


async def _card(h, desk: dict) -> str:
    issued = await (await h.client.post("/v1/media", json={}, headers=desk)).json()
    CARD_SECRETS[issued["serial"]] = issued["card_secret"]
    return issued["serial"]


async def _pending_order_on_a_card(h) -> tuple[str, int]:
    """A card and a pending order loading a 10-trip contract on it (its first charge timed out)."""
    desk = await h.key("sales_point", "grenoble")
    card = await _card(h, desk)
    first = await h.client.post("/v1/orders", json=card_order(card, "tok_timeout"), headers={**desk, "Idempotency-Key": "k"})
    assert first.status == 503
    return card, (await first.json())["order_id"]


async def _fulfilment(h, order_id: int) -> list:
    """The parameters ``sell`` gives ``fulfil_paid_order`` for this order, with an approved charge."""
    pool = h.service.pool
    order = await pool.fetchrow(Q.get_order, order_id)
    lines = [PricedLine.from_json(line) for line in order["request"]["lines"]]
    commission = await pool.fetchval(Q.get_commission_permille, order["selling_authority_id"])
    charge = PaymentResult(ChargeStatus.APPROVED, "ch_race", order["total_minor"], order["currency"])
    return fulfilment_arguments(order_id, lines, charge, "test", order["currency"], order["total_minor"], h.clock.now(),
                                order["sales_point_key_id"], order["selling_authority_id"], h.service.network_authority,
                                commission or 0)


def _without_share_lock(sql: str) -> str:
    """The statement with its ``FOR SHARE`` removed (comment lines untouched): the race variant."""
    lines = sql.splitlines()
    unlocked = [line if line.lstrip().startswith("--") else re.sub(r"\s*\bFOR SHARE\b", "", line) for line in lines]
    assert sum(a != b for a, b in zip(lines, unlocked)) == 1, "fulfil_paid_order should hold exactly one FOR SHARE"
    return "\n".join(unlocked)


@dataclass
class HeldDeclaration:
    """A declaration stopped inside its transaction, after its writes, until ``release`` is set."""

    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    pid: int = 0  # the declaring backend


def hold_declaration(monkeypatch, serial: str) -> HeldDeclaration:
    held = HeldDeclaration()
    real_audit = media_module.audit

    async def audit_then_hold(conn, action, **kwargs):  # the last statement of `declare_medium`
        await real_audit(conn, action, **kwargs)
        if action.startswith("ticketing.medium.declared") and kwargs.get("subject") == f"medium:{serial}":
            held.pid = conn.get_server_pid()
            held.reached.set()
            await held.release.wait()

    monkeypatch.setattr(media_module, "audit", audit_then_hold)
    return held


async def _blocked_by(pool, blocker_pid: int, task: asyncio.Task) -> bool:
    """True once a backend waits on a lock that ``blocker_pid`` holds; False when ``task`` ends first
    (it never had to wait). Polls ``pg_stat_activity`` / ``pg_blocking_pids`` (``pg_locks``)."""
    async with asyncio.timeout(WAIT_S):
        while not task.done():
            if await pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND $1 = ANY(pg_blocking_pids(pid))",
                blocker_pid,
            ):
                return True
            await asyncio.sleep(0.01)
    return False


def _declare_lost(h, serial: str):
    """The real use case (``media.declare_medium``), as the HTTP route calls it."""
    return h.service.declare_medium(serial=serial, reason="lost", actor_key_id=None, authority_id=None)


async def _contracts_on(pool, serial: str) -> list:
    return await pool.fetch(
        "SELECT c.contract_id, c.status, c.remaining_trips FROM ticketing_contracts c JOIN ticketing_media m USING (medium_id)"
        " WHERE m.serial = $1 ORDER BY c.contract_id", serial)


async def _declared_during(h, monkeypatch, sql: str):
    """Run ``sql`` (fulfil_paid_order or its variant) while a declaration of the order's card holds
    its transaction open; the declaration commits once the statement waits (or has finished).
    Returns the card, the order, the statement's row and whether it waited for the declaration."""
    card, order_id = await _pending_order_on_a_card(h)
    arguments = await _fulfilment(h, order_id)
    held = hold_declaration(monkeypatch, card)
    declaring = asyncio.create_task(_declare_lost(h, card))
    await asyncio.wait_for(held.reached.wait(), WAIT_S)
    async with h.service.pool.acquire() as sale:
        selling = asyncio.create_task(sale.fetchrow(sql, *arguments))
        waited = await _blocked_by(h.service.pool, held.pid, selling)
        held.release.set()
        (medium, _), outcome = await asyncio.wait_for(asyncio.gather(declaring, selling), WAIT_S)
    assert medium.status == "lost"
    return card, order_id, outcome, waited


async def test_without_the_share_lock_a_contract_lands_on_the_lost_card(make_harness, monkeypatch):
    h = await make_harness()
    card, _, outcome, _ = await _declared_during(h, monkeypatch, _without_share_lock(Q.fulfil_paid_order))
    # It may wait too (its contract's foreign-key check key-share-locks the card row that the
    # declaration holds FOR UPDATE), but it never re-reads the card: its snapshot saw it active.
    assert outcome["paid"] == 1 and outcome["dead_media"] is None
    assert await h.service.pool.fetchval("SELECT status FROM ticketing_media WHERE serial = $1", card) == "lost"
    assert [c["status"] for c in await _contracts_on(h.service.pool, card)] == ["active"]  # the race is real


async def test_with_the_share_lock_the_sale_waits_and_writes_nothing(make_harness, monkeypatch):
    h = await make_harness()
    card, order_id, outcome, waited = await _declared_during(h, monkeypatch, Q.fulfil_paid_order)
    assert waited  # the statement really queued behind the declaration's row lock
    assert outcome["paid"] == 0
    assert [m["serial"] for m in outcome["dead_media"]] == [card] and outcome["dead_media"][0]["status"] == "lost"
    pool = h.service.pool
    assert await pool.fetchval("SELECT status FROM ticketing_orders WHERE order_id = $1", order_id) == "pending"
    assert await _contracts_on(pool, card) == []
    for table in ("ticketing_contracts", "ticketing_order_lines", "ticketing_payments", "ticketing_ledger"):
        assert await h.count(table) == 0, table


async def test_a_declaration_waits_for_the_sale_then_reconstitution_moves_its_contract(make_harness):
    h = await make_harness()
    card, order_id = await _pending_order_on_a_card(h)
    arguments = await _fulfilment(h, order_id)
    pool = h.service.pool
    async with pool.acquire() as sale:
        async with sale.transaction():  # the sale's statement, its locks held until this block commits
            outcome = await sale.fetchrow(Q.fulfil_paid_order, *arguments)
            assert outcome["paid"] == 1
            declaring = asyncio.create_task(_declare_lost(h, card))
            assert await _blocked_by(pool, sale.get_server_pid(), declaring)  # the declaration queues behind the sale
        medium, _ = await asyncio.wait_for(declaring, WAIT_S)
    assert medium.status == "lost"
    assert await pool.fetchval("SELECT status FROM ticketing_orders WHERE order_id = $1", order_id) == "paid"
    (sold,) = await _contracts_on(pool, card)
    assert (sold["status"], sold["remaining_trips"]) == ("active", 10)

    new = await h.service.reconstitute_medium(serial=card, actor_key_id=None, authority_id="grenoble",
                                              proof=HolderProof(card_secret=CARD_SECRETS[card]))
    (moved,) = new.contracts
    assert (moved.reconstituted_from, moved.order_id, moved.remaining_trips) == (sold["contract_id"], order_id, 10)
    assert [c["status"] for c in await _contracts_on(pool, card)] == ["transferred"]


@dataclass
class GatedProvider(TestPaymentProvider):
    """Charges only once the test opens ``gate``: the sale waits inside its charge, and the test
    kills the card meanwhile (``charging`` says the sale got there)."""

    charging: asyncio.Event = field(default_factory=asyncio.Event)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def charge(self, **kwargs) -> PaymentResult:
        self.charging.set()
        await self.gate.wait()
        return await super().charge(**kwargs)


@pytest.mark.parametrize("death", ["declare", "reconstitute"])
async def test_a_card_that_dies_during_the_charge_gets_nothing_and_the_money_back(make_harness, death):
    h = await make_harness()
    provider = h.service.provider = h.provider = GatedProvider()
    desk = await h.key("sales_point", "grenoble")
    card = await _card(h, desk)
    headers = {**desk, "Idempotency-Key": f"k-{death}"}
    selling = asyncio.create_task(h.client.post("/v1/orders", json=card_order(card), headers=headers))
    await asyncio.wait_for(provider.charging.wait(), WAIT_S)
    assert (await h.client.post(f"/v1/media/{card}/declare", json={"reason": "lost"}, headers=desk)).status == 200
    new_card = None
    if death == "reconstitute":
        reconstituted = await h.client.post(f"/v1/media/{card}/reconstitute", json={"card_secret": CARD_SECRETS[card]},
                                            headers=desk)
        assert reconstituted.status == 201
        new_card = (await reconstituted.json())["serial"]
    provider.gate.set()
    answer = await asyncio.wait_for(selling, WAIT_S)

    assert answer.status == 409 and answer.content_type == "application/problem+json"
    body = {k: v for k, v in (await answer.json()).items() if k != "instance"}  # instance: per request
    assert body["code"] == "medium_not_active" and body["medium"] == card
    assert body["medium_status"] == ("replaced" if new_card else "lost")
    retry = await h.client.post("/v1/orders", json=card_order(card), headers=headers)
    assert retry.status == 409 and {k: v for k, v in (await retry.json()).items() if k != "instance"} == body

    assert len(provider.charges) == 1 and len(provider.refunds) == 1  # the retry charged nothing more
    assert provider.charged_minor == 6000 == sum(r.amount_minor for r in provider.refunds.values())
    pool = h.service.pool
    order_id = body["order_id"]
    payments = await pool.fetch("SELECT kind, amount_minor FROM ticketing_payments WHERE order_id = $1 ORDER BY kind", order_id)
    assert [(p["kind"], p["amount_minor"]) for p in payments] == [("charge", 6000), ("refund", 6000)]  # money taken: 0
    assert await pool.fetchval("SELECT status FROM ticketing_orders WHERE order_id = $1", order_id) in CLOSED_REFUSED
    assert await _contracts_on(pool, card) == []
    if new_card:
        assert await _contracts_on(pool, new_card) == []
    assert await h.count("ticketing_contracts") == 0 and await h.count("ticketing_ledger") == 0
