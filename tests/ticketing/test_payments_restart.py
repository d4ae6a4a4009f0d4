"""Restarts of the payment provider: references unique across restarts, charges remembered through
the provider's journal (exactly once after a restart too), and one bad order never aborts a
reconciliation pass."""

from __future__ import annotations

from dataclasses import dataclass

from ticketing.payments import PaymentResult, TestPaymentProvider
from ticketing.reconciliation import Reconciliation

ABANDON_S = 900


def single_order(token: str) -> dict:
    item = {"fare_product_id": "tcl:single", "rider_category_id": "adult", "fare_media_id": "paper", "quantity": 2}
    return {"channel": "desk", "payment": {"token": token}, "expected_total_minor": 420, "items": [item]}


def _restart(h, provider: TestPaymentProvider) -> None:
    """What a restart of the process does to the provider: a new object (the database stays)."""
    h.service.provider = h.provider = provider


async def _payments(h) -> list[tuple[int, str, str, int]]:
    rows = await h.service.pool.fetch(
        "SELECT order_id, kind, provider_reference, amount_minor FROM ticketing_payments ORDER BY payment_id")
    return [tuple(r) for r in rows]


async def test_sales_after_a_restart_of_the_default_provider_are_paid(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    before = await h.client.post("/v1/orders", json=single_order("tok_approve"), headers={**desk, "Idempotency-Key": "a"})
    assert before.status == 201
    _restart(h, TestPaymentProvider())  # no journal: it forgot every charge it made

    after = await h.client.post("/v1/orders", json=single_order("tok_approve"), headers={**desk, "Idempotency-Key": "b"})
    assert after.status == 201, await after.text()  # was a 500: the new provider numbered from ch_1 again
    payments = await _payments(h)
    assert [kind for _, kind, _, _ in payments] == ["charge", "charge"]
    assert len({reference for _, _, reference, _ in payments}) == 2


async def _charged_then_lost(h, journal):
    """A sale whose charge went through but whose answer was lost, with a journaling provider."""
    _restart(h, TestPaymentProvider(journal=journal))
    desk = {**await h.key("sales_point", "sytral"), "Idempotency-Key": "k"}
    return desk, await h.client.post("/v1/orders", json=single_order("tok_fail_after_charge"), headers=desk)


async def test_a_retry_after_a_restart_gets_the_charge_made_before_it(make_harness, tmp_path):
    h = await make_harness()
    journal = tmp_path / "test-provider.jsonl"
    desk, first = await _charged_then_lost(h, journal)
    assert first.status == 503  # charged, but the answer was lost
    (charge,) = h.provider.charges.values()

    _restart(h, TestPaymentProvider(journal=journal))
    retry = await h.client.post("/v1/orders", json=single_order("tok_fail_after_charge"), headers=desk)
    assert retry.status == 200 and (await retry.json())["status"] == "paid"
    assert list(h.provider.charges.values()) == [charge]  # the same charge, not a second one
    assert [(kind, reference, amount) for _, kind, reference, amount in await _payments(h)] == [
        ("charge", charge.reference, 420)]


async def test_reconciliation_after_a_restart_refunds_a_charge_made_before_it(make_harness, tmp_path):
    h = await make_harness()
    journal = tmp_path / "test-provider.jsonl"
    _, first = await _charged_then_lost(h, journal)
    order_id = (await first.json())["order_id"]

    _restart(h, TestPaymentProvider(journal=journal))
    h.clock.advance(ABANDON_S + 1)
    assert await h.service.reconcile_pending() == Reconciliation(abandoned=1, refunded=1, unanswered=0)
    assert [kind for _, kind, _, _ in await _payments(h)] == ["charge", "refund"]
    assert list(TestPaymentProvider(journal=journal).refunds) == [f"refund-{order_id}"]  # journaled too


@dataclass
class BrokenLookupProvider(TestPaymentProvider):
    """A provider whose lookup of one key fails with an error nobody planned for."""

    broken_key: str = ""

    async def find_charge(self, idempotency_key: str) -> PaymentResult | None:
        if idempotency_key == self.broken_key:
            raise ValueError("malformed answer from the provider")
        return await super().find_charge(idempotency_key)


async def test_one_failing_order_never_aborts_a_reconciliation_pass(make_harness):
    h = await make_harness()
    desk = await h.key("sales_point", "sytral")
    order_ids = []
    for key in ("a", "b", "c"):
        answer = await h.client.post("/v1/orders", json=single_order("tok_timeout_always"),
                                     headers={**desk, "Idempotency-Key": key})
        assert answer.status == 503
        order_ids.append((await answer.json())["order_id"])
    _restart(h, BrokenLookupProvider(broken_key=f"order-{order_ids[0]}"))
    h.clock.advance(ABANDON_S + 1)

    admin = await h.key("admin", None)
    answer = await h.client.post("/v1/reconciliations", headers=admin)
    assert answer.status == 200, await answer.text()
    report = await answer.json()
    assert (report["abandoned"], report["unanswered"], report["failed"]) == (2, 0, 1)
    assert [(f["order_id"], f["error"]) for f in report["failures"]] == [(order_ids[0], "ValueError")]
    statuses = dict(await h.service.pool.fetch("SELECT order_id, status FROM ticketing_orders"))
    assert statuses == {order_ids[0]: "pending", order_ids[1]: "failed", order_ids[2]: "failed"}
