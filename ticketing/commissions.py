"""Commission rates: what a selling authority keeps when it sells another authority's network.

A rate is ``commission_permille`` of the part of a sale that belongs to another authority
(``clearing.apportion_line``). Each selling authority may have its own row in
``ticketing_commission_rates``; the row ``'*'`` is the default for the others and always exists
(it cannot be deleted). Use cases, each owning its transaction and writing its audit row:

- `list_commission_rates`: the default and every authority's own rate (an authority sees the
  default and its own row only);
- `set_commission_rate`: upsert a rate, audited with its old and new value;
- `delete_commission_rate`: remove an authority's own rate, so it falls back to the default.

A rate applies to sales *claimed* after the change: the claim stores the rate on the order
(``request.commission_permille``) and a resumed order books its ledger with it, so a rate
changed while a payment is pending never reprices a sale already agreed.

Rate writers serialise on one transaction-level advisory lock (`lock_commission_rate_writes`):
changes are rare admin operations, and it makes the "old value" of the audit row exact even when
two admins create the same authority's row at once (a row lock cannot cover a row that does not
exist yet).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from ticketing.errors import DefaultCommissionRate, InvalidCommissionRate, UnknownCommissionRate, UnknownSellingAuthority
from ticketing.repository import Q, audit

__all__ = [
    "DEFAULT",
    "CommissionRate",
    "parse_commission_permille",
    "list_commission_rates",
    "set_commission_rate",
    "delete_commission_rate",
]

DEFAULT = "*"  # the selling_authority_id of the default rate


@dataclass(frozen=True)
class CommissionRate:
    selling_authority_id: str  # an authority id, or '*' for the default
    commission_permille: int


def parse_commission_permille(body: Any) -> int:
    """The rate of a PUT body ``{"commission_permille": 0..1000}``; an integer only (a float would
    be rounded somewhere, and money splits are integer arithmetic)."""
    value = body.get("commission_permille") if isinstance(body, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1000:
        raise InvalidCommissionRate()
    return value


def _check_authority(selling_authority_id: str, known_authority_ids: Iterable[str]) -> None:
    """Only an authority that owns a network can sell, so only those (and '*') have a rate: an
    unknown id is refused rather than stored as a rate nobody would ever use."""
    if selling_authority_id != DEFAULT and selling_authority_id not in set(known_authority_ids):
        raise UnknownSellingAuthority(f"no authority '{selling_authority_id}' owns a network")


async def list_commission_rates(pool: asyncpg.Pool, *, authority_id: str | None) -> list[CommissionRate]:
    """The default first, then every authority's own rate; ``authority_id`` keeps the default and
    that authority's row (the rates agreed with the others are theirs)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(Q.list_commission_rates, authority_id)
    return [CommissionRate(r["selling_authority_id"], r["commission_permille"]) for r in rows]


async def set_commission_rate(
    pool: asyncpg.Pool,
    known_authority_ids: Iterable[str],
    *,
    selling_authority_id: str,
    commission_permille: int,
    actor_key_id: str,
    now: datetime,
) -> CommissionRate:
    """Create or change a rate (``'*'``: the default), with its audit row, in one transaction."""
    _check_authority(selling_authority_id, known_authority_ids)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(Q.lock_commission_rate_writes)
        old = await conn.fetchval(Q.find_commission_rate, selling_authority_id)
        row = await conn.fetchrow(Q.upsert_commission_rate, selling_authority_id, commission_permille)
        await audit(conn, "ticketing.commission_rate.set", actor_key_id=actor_key_id,
                    authority_id=_audited_authority(selling_authority_id),
                    subject=f"commission_rate:{selling_authority_id}",
                    data={"old_permille": old, "new_permille": commission_permille}, now=now)
    return CommissionRate(row["selling_authority_id"], row["commission_permille"])


async def delete_commission_rate(
    pool: asyncpg.Pool,
    known_authority_ids: Iterable[str],
    *,
    selling_authority_id: str,
    actor_key_id: str,
    now: datetime,
) -> CommissionRate:
    """Remove an authority's own rate, with its audit row, in one transaction; returns the default
    it now falls back to. The default itself cannot be removed: a sale must always find a rate."""
    if selling_authority_id == DEFAULT:
        raise DefaultCommissionRate()
    _check_authority(selling_authority_id, known_authority_ids)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(Q.lock_commission_rate_writes)
        old = await conn.fetchval(Q.delete_commission_rate, selling_authority_id)
        if old is None:
            raise UnknownCommissionRate(f"authority '{selling_authority_id}' has no own rate: it uses the default")
        default = await conn.fetchval(Q.find_commission_rate, DEFAULT)
        await audit(conn, "ticketing.commission_rate.deleted", actor_key_id=actor_key_id,
                    authority_id=selling_authority_id, subject=f"commission_rate:{selling_authority_id}",
                    data={"old_permille": old, "new_permille": None, "default_permille": default}, now=now)
    return CommissionRate(DEFAULT, default)


def _audited_authority(selling_authority_id: str) -> str | None:
    """The authority an audit row concerns: none for the region-wide default."""
    return None if selling_authority_id == DEFAULT else selling_authority_id
