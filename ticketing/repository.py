"""The ticketing tables, through the named queries of ``queries.sql``. Private to the package.

Functions take the connection of the caller's transaction (the service function owns it, STYLE
rule 7) and return plain values: asyncpg records never leave this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from oura.db.queries import QueryFile
from oura.db.queries import load_queries as _load_queries

__all__ = [
    "Q", "load_queries", "ClaimedKey", "ContractRow", "MediumRow", "OrderContract", "OrderRow", "PaymentRow", "audit",
    "contract_from_record", "find_medium", "row_of", "find_order", "find_order_by_key", "list_payments", "lock_contracts_of_order",
    "lock_order",
]

RowT = TypeVar("RowT")

def load_queries(path: Path = Path(__file__).with_name("queries.sql")) -> Mapping[str, str]:
    """``-- name: x`` sections of a ticketing .sql file (default: queries.sql) -> SQL text."""
    return _load_queries(path)


Q = QueryFile(Path(__file__).with_name("queries.sql"))


@dataclass(frozen=True)
class MediumRow:
    medium_id: int
    serial: str
    kind: str
    fare_media_id: str
    account_id: int | None
    issuing_authority_id: str
    status: str
    replaced_by: int | None
    created_at: datetime
    replaced_by_serial: str | None = None


def row_of(cls: type[RowT], record: Mapping[str, Any], **converted: Any) -> RowT:
    """A frozen dataclass from a record: each field from the column of its name (a field the record
    lacks keeps its default; columns no field names are ignored); ``converted`` gives the fields
    whose type the column does not carry (a tuple for an array, say)."""
    data = dict(record)
    return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data and f.name not in converted}, **converted)


def columns_of(rows: Sequence[Any], *names: str) -> list[list[Any]]:
    """The named attributes of ``rows``, one list per name: the array arguments of a query that
    inserts or updates many rows at once (``unnest($1::bigint[], ...)``)."""
    return [[getattr(row, name) for row in rows] for name in names]


def medium_from_record(record: asyncpg.Record) -> MediumRow:
    return row_of(MediumRow, record)


@dataclass(frozen=True)
class ContractRow:
    contract_id: int
    medium_id: int
    order_id: int | None
    line_no: int | None
    fare_product_id: str
    rider_category_id: str | None
    network_ids: tuple[str, ...]
    area_ids: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime | None
    duration_s: int | None
    trips_total: int | None
    remaining_trips: int | None
    transfer_window_s: int
    status: str
    first_used_at: datetime | None
    last_counted_at: datetime | None
    last_route_id: str | None
    reconstituted_from: int | None


def contract_from_record(record: asyncpg.Record) -> ContractRow:
    return row_of(ContractRow, record, network_ids=tuple(record["network_ids"]), area_ids=tuple(record["area_ids"] or ()))


@dataclass(frozen=True)
class NewContract:
    medium_id: int
    fare_product_id: str
    network_ids: Sequence[str]
    valid_from: datetime
    transfer_window_s: int
    order_id: int | None = None
    line_no: int | None = None
    rider_category_id: str | None = None
    area_ids: Sequence[str] = ()
    valid_until: datetime | None = None
    duration_s: int | None = None
    trips_total: int | None = None
    remaining_trips: int | None = None
    first_used_at: datetime | None = None
    last_counted_at: datetime | None = None
    last_route_id: str | None = None
    reconstituted_from: int | None = None


async def insert_contracts(conn: asyncpg.Connection, contracts: Sequence[NewContract], now: datetime) -> list[int]:
    if not contracts:
        return []
    columns = [
        *columns_of(contracts, "medium_id", "order_id", "line_no", "fare_product_id", "rider_category_id"),
        [",".join(c.network_ids) for c in contracts],
        [",".join(c.area_ids) for c in contracts],
        *columns_of(contracts, "valid_from", "valid_until", "duration_s", "trips_total", "remaining_trips",
                    "transfer_window_s", "first_used_at", "last_counted_at", "last_route_id", "reconstituted_from"),
    ]
    rows = await conn.fetch(Q.insert_contracts, now, *columns)
    return [r["contract_id"] for r in rows]


async def audit(
    conn: asyncpg.Connection,
    action: str,
    *,
    actor_key_id: str | None,
    authority_id: str | None,
    subject: str,
    data: Mapping[str, Any],
    now: datetime,
) -> None:
    """One audit row (dotted action name, e.g. ``ticketing.order.paid``), in the caller's transaction."""
    await conn.execute(Q.insert_audit, action, actor_key_id, authority_id, subject, dict(data), now)


@dataclass(frozen=True)
class OrderRow:
    """An order as the sale, refund and reconciliation use cases read it (``request``: the priced
    lines, payment token and commission rate stored with the claim)."""

    order_id: int
    sales_point_key_id: str
    selling_authority_id: str
    channel: str
    status: str
    total_minor: int
    currency: str
    refunded_minor: int
    request: Mapping[str, Any]
    created_at: datetime
    failure_code: str | None = None


@dataclass(frozen=True)
class ClaimedKey:
    """The order an idempotency key claimed: its id, the hash of the body it was claimed with, its status."""

    order_id: int
    request_hash: str
    status: str


@dataclass(frozen=True)
class OrderContract:
    """A contract of an order, as a refund checks it."""

    contract_id: int
    medium_id: int
    line_no: int | None
    trips_total: int | None
    remaining_trips: int | None
    first_used_at: datetime | None
    status: str


@dataclass(frozen=True)
class PaymentRow:
    kind: str  # charge | refund
    provider: str
    provider_reference: str
    amount_minor: int
    currency: str
    created_at: datetime


def _order_row(record: asyncpg.Record | None) -> OrderRow | None:
    return None if record is None else OrderRow(**dict(record))


async def lock_order(conn: asyncpg.Connection, order_id: int) -> OrderRow | None:
    """The order row, locked (``FOR UPDATE``) until the caller's transaction ends."""
    return _order_row(await conn.fetchrow(Q.lock_order, order_id))


async def find_order(conn: asyncpg.Connection | asyncpg.Pool, order_id: int) -> OrderRow | None:
    return _order_row(await conn.fetchrow(Q.get_order, order_id))


async def find_order_by_key(conn: asyncpg.Connection, sales_point_key_id: str, idempotency_key: str) -> ClaimedKey | None:
    record = await conn.fetchrow(Q.find_order_by_key, sales_point_key_id, idempotency_key)
    return None if record is None else ClaimedKey(**dict(record))


async def lock_contracts_of_order(conn: asyncpg.Connection, order_id: int) -> list[OrderContract]:
    """The contracts an order created (and their copies by reconstitution), locked, in id order."""
    return [OrderContract(**dict(r)) for r in await conn.fetch(Q.lock_contracts_of_order, order_id)]


async def list_payments(conn: asyncpg.Connection, order_id: int) -> list[PaymentRow]:
    return [PaymentRow(**dict(r)) for r in await conn.fetch(Q.list_payments, order_id)]


async def find_medium(conn: asyncpg.Connection, serial: str) -> MediumRow | None:
    record = await conn.fetchrow(Q.get_medium, serial)
    return None if record is None else medium_from_record(record)
