"""Refunds: return unused contracts of a paid order, some or all (`refund`), in one transaction
holding the order's and its contracts' row locks, the provider called inside it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import asyncpg

from ticketing.clearing import apportion_refund, book
from ticketing.errors import PaymentPending, RefundNotAllowed, UnknownOrder
from ticketing.orders import OrderView, PricedLine, claimed_commission_permille, get_order_view
from ticketing.payments import PaymentProvider, PaymentUnavailable
from ticketing.repository import OrderContract, OrderRow, Q, audit, list_payments, lock_contracts_of_order, lock_order
from ticketing.requests import RefundRequest

__all__ = ["refund"]

REFUNDABLE = ("paid", "partially_refunded", "refunded")


async def refund(
    pool: asyncpg.Pool,
    provider: PaymentProvider,
    *,
    order_id: int,
    actor_key_id: str,
    authority_id: str | None,
    now: datetime,
    request: RefundRequest = RefundRequest(),
) -> OrderView:
    """Refund contracts of a paid order that were never used: those ``request.contract_ids`` names, or
    (None) every contract not refunded yet, which is the whole order the first time. Only active,
    never-used contracts can be refunded; one that is not makes the whole request a 409 naming
    it. Idempotent: contracts already refunded are not refunded again, so repeating a refund
    (the same ids, or a whole refund) returns the order unchanged. The provider is called inside
    the transaction that holds the order and contract locks (refunds are rare; this keeps "used
    meanwhile" impossible)."""
    async with pool.acquire() as conn, conn.transaction():
        order = await lock_order(conn, order_id)
        if order is None or (authority_id is not None and order.selling_authority_id != authority_id):
            raise UnknownOrder()
        if order.status not in REFUNDABLE:
            raise RefundNotAllowed(f"order {order_id} is {order.status}")
        contracts = await lock_contracts_of_order(conn, order_id)
        chosen = _contracts_to_refund(order_id, contracts, request.contract_ids)
        if chosen:
            await _refund_contracts(conn, provider, order, contracts, chosen, actor_key_id, now)
        return await get_order_view(conn, order_id)


def _contracts_to_refund(order_id: int, contracts: list[OrderContract], contract_ids: tuple[int, ...] | None) -> list[OrderContract]:
    """The contracts a refund request returns: none when every one it names is refunded already
    (a repeated request); else every one must be an active, never-used contract of the order."""
    by_id = {c.contract_id: c for c in contracts}
    if contract_ids is None:
        wanted = [c for c in contracts if c.status != "refunded"]
    else:
        strangers = [i for i in contract_ids if i not in by_id]
        if strangers:
            raise RefundNotAllowed(f"contracts {strangers} are not contracts of order {order_id}",
                                   extra={"order_id": order_id, "contract_ids": strangers})
        wanted = [by_id[i] for i in contract_ids]
        if all(c.status == "refunded" for c in wanted):
            return []
    refused = [c.contract_id for c in wanted if c.status != "active" or c.first_used_at is not None]
    if refused:
        raise RefundNotAllowed(f"contracts {refused} were used, moved or refunded",
                               extra={"order_id": order_id, "contract_ids": refused})
    return wanted


async def _refund_contracts(
    conn: asyncpg.Connection,
    provider: PaymentProvider,
    order: OrderRow,
    contracts: list[OrderContract],
    chosen: list[OrderContract],
    actor_key_id: str,
    now: datetime,
) -> None:
    """Refund ``chosen`` (locked, active, never-used contracts of the locked ``order``): one
    provider refund of the unit prices of their lines (key ``refund-<id>-<n>``, the order's n-th
    refund, so a retry after a provider timeout reuses it), the ledger rows apportioned with each
    line's clearing key, owners and the commission rate of the sale (so the order's ledger still
    sums to the money taken), the contracts and the order's status, the audit row."""
    order_id, currency = order.order_id, order.currency
    lines = {line["line_no"]: PricedLine.from_json(line) for line in order.request["lines"]}
    commission_permille = await claimed_commission_permille(conn, order)
    refunded_before = Counter(c.line_no for c in contracts if c.status == "refunded")
    refunding = Counter(c.line_no for c in chosen)
    rows = [
        row
        for line_no, count in sorted(refunding.items())
        for row in apportion_refund(
            line_no=line_no, amount_minor=lines[line_no].unit_price_minor * count,
            refunded_before_minor=lines[line_no].unit_price_minor * refunded_before[line_no],
            shares_permille=lines[line_no].shares_permille,
            network_authority=dict(zip(lines[line_no].network_ids, lines[line_no].owning_authority_ids)),
            selling_authority_id=order.selling_authority_id, commission_permille=commission_permille)
    ]
    amount = sum(lines[line_no].unit_price_minor * count for line_no, count in refunding.items())
    payments = await list_payments(conn, order_id)
    charge = next((p for p in payments if p.kind == "charge"), None)
    refund_no = sum(p.kind == "refund" for p in payments) + 1
    if charge is not None and amount > 0:
        try:
            result = await provider.refund(charge_reference=charge.provider_reference, amount_minor=amount,
                                           currency=currency, idempotency_key=f"refund-{order_id}-{refund_no}")
        except PaymentUnavailable as error:
            raise PaymentPending(extra={"order_id": order_id}) from error
        await conn.execute(Q.insert_payment, order_id, "refund", provider.name, result.reference, amount, currency, now)
    await book(conn, order_id, currency, rows, now)
    await conn.execute(Q.set_contracts_status, [c.contract_id for c in chosen], "refunded")
    refunded_minor = order.refunded_minor + amount
    status = "refunded" if refunded_minor >= order.total_minor else "partially_refunded"
    await conn.execute(Q.set_order_status, order_id, status, now, refunded_minor)
    await audit(conn, "ticketing.order.refunded", actor_key_id=actor_key_id, authority_id=order.selling_authority_id,
                subject=f"order:{order_id}",
                data={"amount_minor": amount, "currency": currency, "contract_ids": [c.contract_id for c in chosen],
                      "refund_no": refund_no, "status": status}, now=now)

