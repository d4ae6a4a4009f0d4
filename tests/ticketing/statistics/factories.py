"""Rows for statistics tests, written straight into the tables the release reads (a real
PostgreSQL, as everywhere): media with a contract, validations, paid orders with their lines.

    medium = await add_medium(pool, "C100", kind="smartcard", product="tcl:single", trips=10)
    await add_validations(pool, [Boarding("C100", at, "tcl:S1", "tcl:R1", network="tcl")], medium_ids={...})
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

__all__ = ["Boarding", "Sale", "add_medium", "add_validations", "add_sales"]

_events = itertools.count(1)
_orders = itertools.count(1)


@dataclass(frozen=True)
class Boarding:
    serial: str
    at: datetime
    stop_id: str
    route_id: str
    network: str = "tcl"
    authority: str = "sytral"
    accepted: bool = True
    reason: str = "ok"
    device: str = "dev-1"
    event_id: str | None = None


@dataclass(frozen=True)
class Sale:
    at: datetime
    product: str
    networks: Sequence[str]
    owners: Sequence[str]
    seller: str = "sytral"
    channel: str = "vending_machine"
    sales_point: str = "sp-1"
    quantity: int = 1
    unit_price_minor: int = 190
    status: str = "paid"


async def add_medium(pool: asyncpg.Pool, serial: str, *, kind: str = "smartcard", product: str = "tcl:single",
                     rider_category: str | None = "adult", networks: Sequence[str] = ("tcl",), trips: int | None = None,
                     duration_s: int | None = None, created_at: datetime | None = None) -> tuple[int, int]:
    """A medium and one contract on it; returns (medium_id, contract_id)."""
    at = created_at or datetime(2026, 1, 1, tzinfo=datetime.now().astimezone().tzinfo)
    media_id = {"smartcard": "oura-card", "wallet": "oura-wallet", "paper": "paper"}[kind]
    async with pool.acquire() as conn:
        medium_id = await conn.fetchval(
            "INSERT INTO ticketing_media (serial, kind, fare_media_id, issuing_authority_id, created_at) "
            "VALUES ($1, $2, $3, 'sytral', $4) RETURNING medium_id", serial, kind, media_id, at)
        contract_id = await conn.fetchval(
            "INSERT INTO ticketing_contracts (medium_id, fare_product_id, rider_category_id, network_ids, valid_from, "
            "duration_s, trips_total, remaining_trips, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $5) "
            "RETURNING contract_id", medium_id, product, rider_category, list(networks), at, duration_s, trips)
    return medium_id, contract_id


async def add_validations(pool: asyncpg.Pool, boardings: Iterable[Boarding], *, received_at: datetime | None = None) -> int:
    """Validation rows as the validation service records them (contract_id: the medium's first
    contract when accepted). Returns how many were written."""
    rows = list(boardings)
    async with pool.acquire() as conn:
        contracts = {r["serial"]: r["contract_id"] for r in await conn.fetch(
            "SELECT DISTINCT ON (m.serial) m.serial, c.contract_id FROM ticketing_media m "
            "JOIN ticketing_contracts c USING (medium_id) ORDER BY m.serial, c.contract_id")}
        await conn.executemany(
            "INSERT INTO ticketing_validations (device_key_id, event_id, authority_id, medium_serial, occurred_at, "
            "stop_id, route_id, network_id, accepted, reason, contract_id, received_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            [(b.device, b.event_id or f"ev-{next(_events)}", b.authority, b.serial, b.at, b.stop_id, b.route_id, b.network,
              b.accepted, b.reason, contracts.get(b.serial) if b.accepted else None, received_at or b.at + timedelta(seconds=5))
             for b in rows])
    return len(rows)


async def add_sales(pool: asyncpg.Pool, sales: Iterable[Sale]) -> list[int]:
    """One paid order of one line per sale; returns the order ids."""
    ids: list[int] = []
    async with pool.acquire() as conn:
        for s in sales:
            n = next(_orders)
            amount = s.quantity * s.unit_price_minor
            order_id = await conn.fetchval(
                "INSERT INTO ticketing_orders (sales_point_key_id, idempotency_key, request_hash, selling_authority_id, "
                "channel, status, total_minor, currency, request, created_at, updated_at) "
                "VALUES ($1, $2, 'h', $3, $4, $5, $6, 'EUR', '{}'::jsonb, $7, $7) RETURNING order_id",
                s.sales_point, f"idem-{n}", s.seller, s.channel, s.status, amount, s.at)
            await conn.execute(
                "INSERT INTO ticketing_order_lines (order_id, line_no, fare_product_id, quantity, unit_price_minor, "
                "amount_minor, currency, network_ids, owning_authority_ids) VALUES ($1, 1, $2, $3, $4, $5, 'EUR', $6, $7)",
                order_id, s.product, s.quantity, s.unit_price_minor, amount, list(s.networks), list(s.owners))
            ids.append(order_id)
    return ids
