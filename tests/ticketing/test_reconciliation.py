"""Reconciliation of abandoned pending orders: closed as failed, any charge refunded, never money
without rights, even when a retry's charge races the reconciliation."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from ticketing.payments import PaymentResult, PaymentUnavailable, TestPaymentProvider
from ticketing.reconciliation import Reconciliation

WAIT_S = 10  # an upper bound for a step that should take milliseconds: a hang fails, it never blocks CI
ABANDON_S = 900


def single_order(token: str) -> dict:
    item = {"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "paper", "quantity": 2}
    return {"channel": "desk", "payment": {"token": token}, "expected_total_minor": 420, "items": [item]}


async def _pending_order(h, token: str, key: str = "k") -> tuple[dict, int]:
    """A sales point's headers and an order its first attempt left pending (503)."""
    desk = {**await h.key("sales_point", "sytral"), "Idempotency-Key": key}
    first = await h.client.post("/v1/orders", json=single_order(token), headers=desk)
    assert first.status == 503
    return desk, (await first.json())["order_id"]


async def _order(h, order_id: int) -> dict:
    admin = await h.key("admin", None)
    return await (await h.client.get(f"/v1/orders/{order_id}", headers=admin)).json()


async def _money(h, order_id: int) -> tuple[int, int]:
    """(money taken for the order: charges - refunds recorded, the sum of its ledger rows)."""
    pool = h.service.pool
    taken = await pool.fetchval("SELECT coalesce(sum(CASE WHEN kind = 'charge' THEN amount_minor ELSE -amount_minor END), 0)"
                                " FROM ticketing_payments WHERE order_id = $1", order_id)
    booked = await pool.fetchval("SELECT coalesce(sum(amount_minor), 0) FROM ticketing_ledger WHERE order_id = $1", order_id)
    return taken, booked


async def _actions(h, order_id: int) -> list[str]:
    rows = await h.service.pool.fetch("SELECT action FROM audit_log WHERE subject = $1 ORDER BY audit_id", f"order:{order_id}")
    return [r["action"] for r in rows]


async def test_an_abandoned_order_without_a_charge_fails_and_its_retry_is_never_charged(make_harness):
    h = await make_harness()
    desk, order_id = await _pending_order(h, "tok_timeout_always")
    h.clock.advance(ABANDON_S + 1)
    assert await h.service.reconcile_pending() == Reconciliation(abandoned=1, refunded=0, unanswered=0)
    view = await _order(h, order_id)
    assert (view["status"], view["refunded_minor"], view["payments"], view["ledger"], view["lines"]) == ("failed", 0, [], [], [])
    assert view["failure"] == {"code": "abandoned",
                               "detail": {"abandon_after_s": ABANDON_S, "charge_reference": None, "refund_reference": None}}
    assert (await _actions(h, order_id))[-1] == "ticketing.order.abandoned"
    assert await h.service.reconcile_pending() == Reconciliation(0, 0, 0)  # nothing left to do

    for _ in range(2):
        retry = await h.client.post("/v1/orders", json=single_order("tok_timeout_always"), headers=desk)
        assert retry.status == 409 and retry.content_type == "application/problem+json"
        body = await retry.json()
        assert (body["code"], body["order_id"], body["failure_code"]) == ("order_failed", order_id, "abandoned")
    assert h.provider.attempts == {f"order-{order_id}": 1}  # only the first attempt ever asked for money
    assert h.provider.charges == {} and await _money(h, order_id) == (0, 0)
    assert await h.count("ticketing_contracts") == 0


async def test_an_abandoned_order_the_provider_charged_is_refunded(make_harness):
    h = await make_harness()
    desk, order_id = await _pending_order(h, "tok_fail_after_charge")  # charged, but the answer was lost
    h.clock.advance(ABANDON_S + 1)
    assert await h.service.reconcile_pending() == Reconciliation(abandoned=1, refunded=1, unanswered=0)
    (charge,) = h.provider.charges.values()
    assert [(key, r.amount_minor) for key, r in h.provider.refunds.items()] == [(f"refund-{order_id}", 420)]
    view = await _order(h, order_id)
    assert (view["status"], view["refunded_minor"], view["failure"]["code"]) == ("failed", 420, "abandoned")
    assert view["failure"]["detail"]["charge_reference"] == charge.reference
    assert [(p["kind"], p["amount_minor"]) for p in view["payments"]] == [("charge", 420), ("refund", 420)]
    assert view["ledger"] == [] and await h.count("ticketing_contracts") == 0

    retry = await h.client.post("/v1/orders", json=single_order("tok_fail_after_charge"), headers=desk)
    assert retry.status == 409 and (await retry.json())["code"] == "order_failed"
    assert h.provider.attempts == {f"order-{order_id}": 1} and len(h.provider.refunds) == 1
    assert await _money(h, order_id) == (0, 0)
    admin = await h.key("admin", None)
    report = await (await h.client.get("/v1/clearing", params={"period": "2026-03-02"}, headers=admin)).json()
    assert report["is_balanced"] and report["money_taken_minor"] in ({}, {"EUR": 0})


async def test_young_pending_orders_and_finished_orders_are_left_alone(make_harness):
    h = await make_harness()
    desk, young = await _pending_order(h, "tok_timeout")
    paid = await h.client.post("/v1/orders", json=single_order("tok_approve"), headers={**desk, "Idempotency-Key": "paid"})
    assert paid.status == 201
    h.clock.advance(ABANDON_S - 1)
    assert await h.service.reconcile_pending() == Reconciliation(0, 0, 0)
    h.clock.advance(ABANDON_S)
    assert await h.service.reconcile_pending(abandon_after_s=3 * ABANDON_S) == Reconciliation(0, 0, 0)
    assert (await _order(h, young))["status"] == "pending"
    resumed = await h.client.post("/v1/orders", json=single_order("tok_timeout"), headers=desk)
    assert resumed.status == 200 and (await resumed.json())["status"] == "paid"
    assert await h.service.reconcile_pending() == Reconciliation(0, 0, 0)  # paid orders are never touched
    assert h.provider.refunds == {}


@dataclass
class SilentProvider(TestPaymentProvider):
    """A provider whose lookups do not answer while ``down``."""

    down: bool = True

    async def find_charge(self, idempotency_key: str) -> PaymentResult | None:
        if self.down:
            raise PaymentUnavailable("provider timed out")
        return await super().find_charge(idempotency_key)


async def test_a_provider_that_does_not_answer_leaves_the_order_pending_for_the_next_run(make_harness):
    h = await make_harness()
    provider = h.service.provider = h.provider = SilentProvider()
    _, order_id = await _pending_order(h, "tok_fail_after_charge")
    h.clock.advance(ABANDON_S + 1)
    assert await h.service.reconcile_pending() == Reconciliation(abandoned=0, refunded=0, unanswered=1)
    assert (await _order(h, order_id))["status"] == "pending"
    provider.down = False
    assert await h.service.reconcile_pending() == Reconciliation(abandoned=1, refunded=1, unanswered=0)


# --- a retry's charge racing the reconciliation ---------------------------------------------------


@dataclass
class PausingProvider(TestPaymentProvider):
    """Once ``armed``, holds each charge until the test opens ``gate`` — before charging
    (``after_charging`` false) or after (the money is taken, the sale has not heard of it yet);
    ``paused`` says a charge got there. ``refund_down`` makes the next refund time out."""

    armed: bool = False
    after_charging: bool = False
    refund_down: bool = False
    paused: asyncio.Event = field(default_factory=asyncio.Event)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def charge(self, **kwargs) -> PaymentResult:
        if self.armed and not self.after_charging:
            await self._hold()
        result = await super().charge(**kwargs)
        if self.armed and self.after_charging:
            await self._hold()
        return result

    async def refund(self, **kwargs) -> PaymentResult:
        if self.refund_down:
            self.refund_down = False
            raise PaymentUnavailable("provider timed out")
        return await super().refund(**kwargs)

    async def _hold(self) -> None:
        self.paused.set()
        await self.gate.wait()


async def _retry_held_in_its_charge(h, provider: PausingProvider, desk: dict) -> asyncio.Task:
    """A retry of the pending order, stopped inside the provider's charge."""
    provider.armed = True
    retry = asyncio.create_task(h.client.post("/v1/orders", json=single_order("tok_timeout"), headers=desk))
    await asyncio.wait_for(provider.paused.wait(), WAIT_S)
    return retry


async def _abandoned_order_with_a_retry_in_its_charge(h, *, after_charging: bool):
    """An order left pending past ABANDON_S, and a retry of it paused in the provider's charge
    (before or after charging): returns the provider, the sales point's headers, the order and the retry."""
    provider = h.service.provider = h.provider = PausingProvider(after_charging=after_charging)
    desk, order_id = await _pending_order(h, "tok_timeout")
    h.clock.advance(ABANDON_S + 1)
    return provider, desk, order_id, await _retry_held_in_its_charge(h, provider, desk)


async def test_a_retry_that_charges_after_reconciliation_closed_the_order_refunds_its_charge(make_harness):
    h = await make_harness()
    provider, desk, order_id, retry = await _abandoned_order_with_a_retry_in_its_charge(h, after_charging=False)
    assert await h.service.reconcile_pending() == Reconciliation(abandoned=1, refunded=0, unanswered=0)  # no charge yet
    provider.gate.set()  # the retry charges now, then finds the order failed
    answer = await asyncio.wait_for(retry, WAIT_S)

    assert answer.status == 409 and (await answer.json())["code"] == "order_failed"
    (charge,) = provider.charges.values()
    assert [(k, r.amount_minor) for k, r in provider.refunds.items()] == [(f"refund-{order_id}", 420)]
    view = await _order(h, order_id)
    assert (view["status"], view["failure"]["code"], view["refunded_minor"]) == ("failed", "abandoned", 420)
    assert [(p["kind"], p["provider_reference"]) for p in view["payments"]] == [
        ("charge", charge.reference), ("refund", provider.refunds[f"refund-{order_id}"].reference)]
    assert await _money(h, order_id) == (0, 0) and await h.count("ticketing_contracts") == 0
    assert "ticketing.order.late_charge_refunded" in await _actions(h, order_id)
    again = await h.client.post("/v1/orders", json=single_order("tok_timeout"), headers=desk)
    assert again.status == 409 and len(provider.charges) == len(provider.refunds) == 1


async def test_reconciliation_refunds_a_charge_whose_retry_has_not_finished(make_harness):
    h = await make_harness()
    # charged; the sale has not recorded it
    provider, desk, order_id, retry = await _abandoned_order_with_a_retry_in_its_charge(h, after_charging=True)
    assert await h.service.reconcile_pending() == Reconciliation(abandoned=1, refunded=1, unanswered=0)
    provider.gate.set()
    answer = await asyncio.wait_for(retry, WAIT_S)

    assert answer.status == 409 and (await answer.json())["code"] == "order_failed"
    assert len(provider.charges) == 1 and list(provider.refunds) == [f"refund-{order_id}"]
    view = await _order(h, order_id)
    assert [p["kind"] for p in view["payments"]] == ["charge", "refund"]  # recorded once, by reconciliation
    assert await _money(h, order_id) == (0, 0) and await h.count("ticketing_contracts") == 0


async def test_a_late_charge_whose_refund_times_out_is_refunded_by_the_next_retry(make_harness):
    h = await make_harness()
    provider, desk, order_id, retry = await _abandoned_order_with_a_retry_in_its_charge(h, after_charging=False)
    await h.service.reconcile_pending()
    provider.refund_down = True
    provider.gate.set()
    answer = await asyncio.wait_for(retry, WAIT_S)
    assert answer.status == 503 and (await answer.json())["code"] == "payment_pending"
    assert (await _order(h, order_id))["payments"] == [] and provider.refunds == {}  # money taken, not yet returned

    again = await h.client.post("/v1/orders", json=single_order("tok_timeout"), headers=desk)
    assert again.status == 409 and (await again.json())["code"] == "order_failed"
    assert len(provider.charges) == 1 and list(provider.refunds) == [f"refund-{order_id}"]
    assert [p["kind"] for p in (await _order(h, order_id))["payments"]] == ["charge", "refund"]
    assert await _money(h, order_id) == (0, 0)


@pytest.mark.parametrize("delay_s", [0.0, 0.005, 0.02])
async def test_a_retry_racing_reconciliation_never_leaves_money_without_rights(make_harness, delay_s):
    """Two tasks, no gate: whichever wins, at most one charge (none when reconciliation closed the
    order before the retry read it), and either a paid order with its rights or a failed order
    whose charge, if any, was refunded. The gated tests above force each interleaving."""
    h = await make_harness()
    desk, order_id = await _pending_order(h, "tok_timeout")
    h.clock.advance(ABANDON_S + 1)
    h.provider.delay_s = delay_s
    answer, _ = await asyncio.wait_for(asyncio.gather(
        h.client.post("/v1/orders", json=single_order("tok_timeout"), headers=desk), h.service.reconcile_pending()), WAIT_S)

    view = await _order(h, order_id)
    charged = [c.amount_minor for c in h.provider.charges.values()]
    assert charged in ([], [420])
    taken, booked = await _money(h, order_id)
    assert taken == booked
    if view["status"] == "paid":
        assert answer.status == 200 and h.provider.refunds == {} and taken == 420 == sum(charged)
        assert await h.count("ticketing_contracts") == 2
    else:
        assert view["status"] == "failed" and answer.status == 409 and (await answer.json())["code"] == "order_failed"
        assert [r.amount_minor for r in h.provider.refunds.values()] == charged and taken == 0
        assert await h.count("ticketing_contracts") == 0


# --- the app's background task and the command line -----------------------------------------------


@dataclass
class BrokenOnceProvider(TestPaymentProvider):
    """A provider whose first lookup fails with an unexpected error."""

    broken: bool = True

    async def find_charge(self, idempotency_key: str) -> PaymentResult | None:
        if self.broken:
            self.broken = False
            raise RuntimeError("unexpected provider error")
        return await super().find_charge(idempotency_key)


def _reconciler_tasks(service) -> list[asyncio.Task]:  # noqa: ANN001
    """The running reconciliation tasks of this service (the app also holds the wiring's own
    ticketing service, with its own task)."""
    return [t for t in asyncio.all_tasks() if t.get_coro().__name__ == "_reconcile_forever" and not t.done()
            and t.get_coro().cr_frame.f_locals.get("service") is service]


async def test_the_app_reconciles_in_the_background_and_survives_errors(make_harness, caplog):
    h = await make_harness(reconcile_every_s=0.01)
    h.service.provider = h.provider = BrokenOnceProvider()
    _, order_id = await _pending_order(h, "tok_timeout_always")
    assert len(_reconciler_tasks(h.service)) == 1
    with caplog.at_level(logging.ERROR, logger="ticketing"):
        h.clock.advance(ABANDON_S + 1)
        async with asyncio.timeout(WAIT_S):
            while await h.service.pool.fetchval("SELECT status FROM ticketing_orders WHERE order_id = $1", order_id) != "failed":
                await asyncio.sleep(0.01)
    assert not h.provider.broken and f"reconciling order {order_id} failed" in caplog.text  # logged, and the loop went on
    await h.client.close()
    assert _reconciler_tasks(h.service) == []  # stopped with the app


async def test_reconcile_every_0_starts_no_task(make_harness):
    h = await make_harness(reconcile_every_s=0)
    assert h.service.reconcile_every_s == 0 and _reconciler_tasks(h.service) == []


async def test_an_admin_runs_a_reconciliation_over_http(make_harness):
    h = await make_harness(reconcile_every_s=0)
    admin = await h.key("admin", None)
    _, old = await _pending_order(h, "tok_fail_after_charge", key="old")
    h.clock.advance(timedelta(hours=1))
    _, young = await _pending_order(h, "tok_timeout_always", key="young")
    h.clock.advance(timedelta(minutes=5))
    desk = await h.key("sales_point", "sytral")
    refused = await h.client.post("/v1/reconciliations", headers=desk)
    assert refused.status == 403 and (await _order(h, old))["status"] == "pending"
    bad = await h.client.post("/v1/reconciliations", params={"older_than_s": "-1"}, headers=admin)
    assert bad.status == 400 and bad.content_type == "application/problem+json"
    ran = await h.client.post("/v1/reconciliations", params={"older_than_s": "1800"}, headers=admin)
    assert ran.status == 200 and await ran.json() == {"abandoned": 1, "refunded": 1, "unanswered": 0, "failed": 0, "failures": []}
    assert ((await _order(h, old))["status"], (await _order(h, young))["status"]) == ("failed", "pending")
    assert await _money(h, old) == (0, 0)
    ran = await h.client.post("/v1/reconciliations", headers=admin)  # the default threshold: 900 s
    assert await ran.json() == {"abandoned": 0, "refunded": 0, "unanswered": 0, "failed": 0, "failures": []}  # young is 5 minutes old
