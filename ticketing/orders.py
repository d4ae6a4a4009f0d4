"""An order as the sale, refund and reconciliation use cases share it: its priced lines (stored
with the claim, so resuming or refunding never re-prices), the view the API shows, and the
reversal of a whole charge (every path that returns an order's charge uses the key
``refund-<id>``, so the provider makes at most one such refund)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from ticketing.errors import UnknownOrder
from ticketing.payments import PaymentProvider, PaymentResult
from ticketing.repository import OrderRow, Q, row_of

__all__ = ["MAX_LINES", "MAX_QUANTITY", "OrderView", "PricedLine", "claimed_commission_permille", "get_order_view",
           "order_view_from_row", "reverse_charge"]

MAX_QUANTITY = 50
MAX_LINES = 20


@dataclass(frozen=True)
class PricedLine:
    line_no: int
    fare_product_id: str
    rider_category_id: str | None
    fare_media_id: str | None
    quantity: int
    unit_price_minor: int
    amount_minor: int
    currency: str
    network_ids: tuple[str, ...]
    owning_authority_ids: tuple[str, ...]
    shares_permille: tuple[tuple[str, int], ...]
    medium_serial: str | None
    duration_s: int | None
    trips: int | None
    transfer_window_s: int
    area_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """Stored with the order's claim, so resuming it never re-prices."""
        data = dict(self.__dict__)
        for name in ("network_ids", "owning_authority_ids", "area_ids"):
            data[name] = list(data[name])
        data["shares_permille"] = [[network, share] for network, share in self.shares_permille]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PricedLine:
        values = dict(data)
        for name in ("network_ids", "owning_authority_ids", "area_ids"):
            values[name] = tuple(values[name])
        values["shares_permille"] = tuple((n, int(s)) for n, s in values["shares_permille"])
        return cls(**values)



@dataclass(frozen=True)
class OrderView:
    order_id: int
    status: str
    selling_authority_id: str
    sales_point_key_id: str
    channel: str
    total_minor: int
    currency: str
    refunded_minor: int
    created_at: datetime
    lines: tuple[dict[str, Any], ...]
    payments: tuple[dict[str, Any], ...]
    ledger: tuple[dict[str, Any], ...]
    failure: dict[str, Any] | None = None  # a failed order's reason: {code, detail}

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def get_order_view(conn: asyncpg.Connection | asyncpg.Pool, order_id: int) -> OrderView:
    """The order as the API shows it, read in one query."""
    record = await conn.fetchrow(Q.get_order_view, order_id)
    if record is None:
        raise UnknownOrder()
    return order_view_from_row(record)


def order_view_from_row(record: Mapping[str, Any]) -> OrderView:
    """An ``OrderView`` from a record of ``get_order_view`` (or of ``fulfil_paid_order``, which
    returns the same columns for the order it paid)."""
    return row_of(OrderView, record, lines=tuple(record["lines"]), payments=tuple(record["payments"]),
                  ledger=tuple(record["ledger"]))



async def reverse_charge(
    conn: asyncpg.Connection, provider: PaymentProvider, order_id: int, charge: PaymentResult, now: datetime
) -> PaymentResult:
    """Refund an order's whole charge and record the charge and the refund, in the caller's
    transaction (which holds the order's row lock). The key ``refund-<id>`` is the one every path
    that returns an order's charge uses, so the provider makes at most one such refund. Raises
    PaymentUnavailable when the provider does not answer (nothing is recorded then)."""
    refunded = await provider.refund(charge_reference=charge.reference, amount_minor=charge.amount_minor,
                                     currency=charge.currency, idempotency_key=f"refund-{order_id}")
    await conn.execute(Q.insert_payment, order_id, "charge", provider.name, charge.reference, charge.amount_minor,
                       charge.currency, now)
    await conn.execute(Q.insert_payment, order_id, "refund", provider.name, refunded.reference, refunded.amount_minor,
                       charge.currency, now)
    return refunded



async def claimed_commission_permille(conn: asyncpg.Connection, order: OrderRow) -> int:
    """The seller's commission rate stored with the order's claim (a later rate change never
    applies to it); for an order claimed before rates were stored, the seller's current rate."""
    commission_permille = order.request.get("commission_permille")
    if commission_permille is None:
        commission_permille = await conn.fetchval(Q.get_commission_permille, order.selling_authority_id)
    return commission_permille or 0

