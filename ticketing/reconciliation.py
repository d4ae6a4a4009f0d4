"""Reconciliation: close the orders whose client never came back (`reconcile_pending`), one
transaction per order holding its row lock; a charge the provider made for one is refunded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from oura.db.pool import DATABASE_UNAVAILABLE
from ticketing.orders import reverse_charge
from ticketing.payments import ChargeStatus, PaymentProvider, PaymentUnavailable
from ticketing.repository import Q, audit, lock_order

__all__ = ["ABANDONED", "DEFAULT_ABANDON_AFTER_S", "Reconciliation", "reconcile_pending"]

log = logging.getLogger(__name__)


ABANDONED = "abandoned"  # the failure_code of an order reconciliation closed
DEFAULT_ABANDON_AFTER_S = 900


@dataclass(frozen=True)
class Reconciliation:
    """What one reconciliation run did."""

    abandoned: int  # pending orders closed as failed
    refunded: int  # of those, the ones the provider had charged: the charge was refunded
    unanswered: int  # left pending because the provider did not answer; the next run retries them
    failed: int = 0  # left pending because closing them raised an error (logged); the next run retries them
    failures: tuple[dict[str, Any], ...] = ()  # one {order_id, error, detail} per failed order


async def reconcile_pending(
    pool: asyncpg.Pool, provider: PaymentProvider, now: datetime, abandon_after_s: float = DEFAULT_ABANDON_AFTER_S
) -> Reconciliation:
    """Close every order still pending ``abandon_after_s`` after its claim: its client never came
    back (see `ticketing.selling`). Each order in its own transaction holding its row lock, the
    provider asked inside it: a retry finishing the order at the same time either commits first
    (the order is paid or declined: left alone) or waits and then finds the order failed.

    One bad order never aborts the pass: an order whose closing raises is rolled back (it stays
    pending), logged and reported in ``failures``, and the pass goes on with the next one. Only a
    database that cannot be reached stops the pass (every other order would fail the same way)."""
    cutoff = now - timedelta(seconds=abandon_after_s)
    async with pool.acquire() as conn:
        order_ids = [r["order_id"] for r in await conn.fetch(Q.list_abandoned_orders, cutoff)]
    abandoned = refunded = unanswered = 0
    failures: list[dict[str, Any]] = []
    for order_id in order_ids:
        try:
            charged = await _abandon_order(pool, provider, order_id, cutoff, now, abandon_after_s)
        except PaymentUnavailable:
            unanswered += 1
            continue
        except DATABASE_UNAVAILABLE:
            raise
        except Exception as error:  # noqa: BLE001 - one order's failure is reported, not fatal to the pass
            log.exception("reconciling order %s failed; it stays pending", order_id)
            failures.append({"order_id": order_id, "error": type(error).__name__, "detail": str(error)[:200]})
            continue
        if charged is not None:
            abandoned += 1
            refunded += charged
    return Reconciliation(abandoned, refunded, unanswered, len(failures), tuple(failures))


async def _abandon_order(
    pool: asyncpg.Pool, provider: PaymentProvider, order_id: int, cutoff: datetime, now: datetime, abandon_after_s: float
) -> bool | None:
    """Close one abandoned order as failed: refund the charge the provider made for it, if any,
    and record both; no ledger row, no contract. Returns whether there was a charge; None when
    the order is no longer pending (finished meanwhile). A provider that does not answer rolls
    everything back (PaymentUnavailable): the order stays pending for the next run."""
    async with pool.acquire() as conn, conn.transaction():
        order = await lock_order(conn, order_id)
        if order.status != "pending" or order.created_at >= cutoff:
            return None
        charge = await provider.find_charge(f"order-{order_id}")
        refunded = None
        if charge is not None and charge.status is ChargeStatus.APPROVED:
            refunded = await reverse_charge(conn, provider, order_id, charge, now)
        detail = {"abandon_after_s": abandon_after_s, "charge_reference": charge.reference if refunded else None,
                  "refund_reference": refunded.reference if refunded else None}
        await conn.fetchval(Q.fail_pending_order, order_id, now, refunded.amount_minor if refunded else 0, ABANDONED, detail)
        await audit(conn, "ticketing.order.abandoned", actor_key_id=None, authority_id=order.selling_authority_id,
                    subject=f"order:{order_id}",
                    data={**detail, "total_minor": order.total_minor, "currency": order.currency}, now=now)
        return refunded is not None
