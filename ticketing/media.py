"""Media and their contracts: regional smartcards, phone wallets, paper tickets.

Use cases, each owning its transaction and writing its audit row:

- `issue_medium`: a new card or wallet, anonymous or with a holder account (a display name and
  an optional email: nothing more is needed to reconstitute a card for its holder);
- `declare_medium`: lost or stolen; the card goes on the deny list (a new version);
- `reconstitute_medium`: a declared card's remaining rights move to a new card, exactly: every
  active contract is copied with its remaining trips and validity, the old ones are closed as
  ``transferred``, and the old card points to the new one. Locks: the old card row, then its
  active contracts (the order validation never inverts: it locks contracts only). The
  ``replaced_by`` column is written once (``WHERE replaced_by IS NULL``), so a second call, even
  a concurrent one, gets ``already_reconstituted`` and no second card.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg

from ticketing.errors import AlreadyReconstituted, InvalidOrder, MediumNotDeclared, UnknownMedium
from ticketing.repository import (
    ContractRow,
    MediumRow,
    NewContract,
    Q,
    audit,
    contract_from_record,
    insert_contracts,
    medium_from_record,
)

__all__ = [
    "MEDIA_KINDS",
    "MediumView",
    "new_serial",
    "issue_medium",
    "declare_medium",
    "reconstitute_medium",
    "get_medium_view",
]

# medium kind -> (Fares v2 fare_media_id of the region, serial prefix)
MEDIA_KINDS = {"smartcard": ("oura-card", "C"), "wallet": ("oura-wallet", "W"), "paper": ("paper", "P")}


def new_serial(kind: str) -> str:
    """A fresh serial number: kind prefix + 16 hex digits (random, not guessable)."""
    return MEDIA_KINDS[kind][1] + secrets.token_hex(8).upper()


@dataclass(frozen=True)
class MediumView:
    medium: MediumRow
    contracts: tuple[ContractRow, ...]


async def _insert_medium(conn: asyncpg.Connection, kind: str, authority_id: str, account_id: int | None, now: datetime) -> MediumRow:
    serial = new_serial(kind)
    medium_id = await conn.fetchval(Q.insert_medium, serial, kind, MEDIA_KINDS[kind][0], account_id, authority_id, now)
    return MediumRow(medium_id, serial, kind, MEDIA_KINDS[kind][0], account_id, authority_id, "active", None, now)


async def issue_medium(
    pool: asyncpg.Pool,
    *,
    kind: str,
    authority_id: str,
    actor_key_id: str | None,
    holder: dict | None,
    now: datetime,
) -> MediumRow:
    if kind not in ("smartcard", "wallet"):
        raise InvalidOrder("kind must be 'smartcard' or 'wallet'", code="invalid_medium")
    if holder is not None:
        if not isinstance(holder, dict) or not isinstance(holder.get("display_name", ""), str) or not isinstance(holder.get("email") or "", str):
            raise InvalidOrder("holder must be {display_name, email?}", code="invalid_medium")
    async with pool.acquire() as conn, conn.transaction():
        account_id = None
        if holder:
            account_id = await conn.fetchval(Q.insert_account, holder.get("display_name", ""), holder.get("email"), now)
        medium = await _insert_medium(conn, kind, authority_id, account_id, now)
        await audit(conn, "ticketing.medium.issued", actor_key_id=actor_key_id, authority_id=authority_id,
                    subject=f"medium:{medium.serial}", data={"kind": kind, "anonymous": account_id is None}, now=now)
    return medium


async def get_medium_view(pool: asyncpg.Pool, serial: str) -> MediumView:
    async with pool.acquire() as conn:
        record = await conn.fetchrow(Q.get_medium, serial)
        if record is None:
            raise UnknownMedium()
        medium = medium_from_record(record)
        contracts = tuple(contract_from_record(r) for r in await conn.fetch(Q.list_contracts_of_medium, medium.medium_id))
    return MediumView(medium, contracts)


async def declare_medium(
    pool: asyncpg.Pool, *, serial: str, reason: str, actor_key_id: str | None, authority_id: str | None, now: datetime
) -> tuple[MediumRow, int]:
    """Declare a card lost or stolen; returns it and the deny-list version. Idempotent."""
    if reason not in ("lost", "stolen"):
        raise InvalidOrder("reason must be 'lost' or 'stolen'", code="invalid_declaration")
    async with pool.acquire() as conn, conn.transaction():
        record = await conn.fetchrow(Q.lock_medium, serial)
        if record is None:
            raise UnknownMedium()
        medium = medium_from_record(record)
        if medium.status != "active":
            version = await conn.fetchval(Q.get_denylist_version)
            return medium, version
        await conn.execute(Q.set_medium_status, medium.medium_id, reason)
        await conn.execute(Q.lock_denylist_writes)  # versions commit in order (see the query)
        version = await conn.fetchval(Q.insert_denylist, medium.medium_id, serial, reason, now)
        await audit(conn, f"ticketing.medium.declared_{reason}", actor_key_id=actor_key_id, authority_id=authority_id,
                    subject=f"medium:{serial}", data={"denylist_version": version}, now=now)
    return replace(medium, status=reason), version


async def reconstitute_medium(
    pool: asyncpg.Pool, *, serial: str, actor_key_id: str | None, authority_id: str, now: datetime
) -> MediumView:
    """Move every remaining right of a declared card onto a new card, once."""
    async with pool.acquire() as conn, conn.transaction():
        record = await conn.fetchrow(Q.lock_medium, serial)
        if record is None:
            raise UnknownMedium()
        old = medium_from_record(record)
        if old.replaced_by is not None:
            raise AlreadyReconstituted()
        if old.status == "active":
            raise MediumNotDeclared()
        contracts = [contract_from_record(r) for r in await conn.fetch(Q.lock_active_contracts_of_medium, old.medium_id)]
        new = await _insert_medium(conn, old.kind, authority_id, old.account_id, now)
        copies = [
            NewContract(
                medium_id=new.medium_id,
                fare_product_id=c.fare_product_id,
                network_ids=c.network_ids,
                valid_from=c.valid_from,
                transfer_window_s=c.transfer_window_s,
                order_id=c.order_id,
                line_no=c.line_no,
                rider_category_id=c.rider_category_id,
                area_ids=c.area_ids,
                valid_until=c.valid_until,
                duration_s=c.duration_s,
                trips_total=c.trips_total,
                remaining_trips=c.remaining_trips,
                first_used_at=c.first_used_at,
                last_counted_at=c.last_counted_at,
                last_route_id=c.last_route_id,
                reconstituted_from=c.contract_id,
            )
            for c in contracts
        ]
        await insert_contracts(conn, copies, now)
        await conn.execute(Q.set_contracts_status, [c.contract_id for c in contracts], "transferred")
        status = await conn.execute(Q.set_medium_replaced_by, old.medium_id, new.medium_id)
        if not status.endswith(" 1"):
            raise AlreadyReconstituted()
        await conn.execute(Q.lock_denylist_writes)  # versions commit in order (see the query)
        await conn.execute(Q.insert_denylist, old.medium_id, old.serial, "replaced", now)
        await audit(conn, "ticketing.medium.reconstituted", actor_key_id=actor_key_id, authority_id=authority_id,
                    subject=f"medium:{old.serial}",
                    data={"new_serial": new.serial, "contracts": [c.contract_id for c in contracts]}, now=now)
        new_contracts = tuple(contract_from_record(r) for r in await conn.fetch(Q.list_contracts_of_medium, new.medium_id))
    return MediumView(new, new_contracts)
