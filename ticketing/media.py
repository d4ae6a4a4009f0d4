"""Media and their contracts: regional smartcards, phone wallets, paper tickets.

Use cases, each owning its transaction and writing its audit row:

- `issue_medium`: a new card or wallet, anonymous or with a holder account (a display name and
  an optional email). A registered medium's holder gets a random account number; an anonymous
  medium gets a random secret to print on it (or show in the wallet). Both are returned once and
  are what proves the holder later; the secret is stored as a SHA-256 hash only (128 random bits:
  no dictionary to try, so a slow KDF would add nothing), the account number as is;
- `record_entitlement`: a sales point of the medium's authority checked a proof (student card,
  age, …) and records the minimal claim: the rider category, until when, who checked it. Never
  the document. Only a registered medium can hold one: an anonymous card, wallet or paper ticket
  travels at the default rider category only;
- `declare_medium`: lost or stolen; the card goes on the deny list (a new version). A sales
  point may declare the cards its authority issued, or any card whose holder is present and
  proves it (`HolderProof`); an admin may declare any;
- `reconstitute_medium`: a declared card's remaining rights move to a new card, exactly: every
  active contract is copied with its remaining trips and validity (and its valid entitlements),
  the old ones are closed as ``transferred``, and the old card points to the new one. It needs
  the holder's proof: the account number of a registered card, the printed secret of an
  anonymous one; a paper ticket is never reconstituted. Locks: the old card row, then its
  active contracts (the order validation never inverts: it locks contracts only). The
  ``replaced_by`` column is written once (``WHERE replaced_by IS NULL``), so a second call, even
  a concurrent one, gets ``already_reconstituted`` and no second card.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from ticketing.errors import (
    AlreadyReconstituted,
    AnonymousMedium,
    InvalidDeclaration,
    InvalidEntitlement,
    InvalidMedium,
    InvalidProof,
    MediumNotActive,
    MediumNotDeclared,
    NotCardIssuer,
    PaperNotReconstitutable,
    ReconstitutionProofRequired,
    UnknownMedium,
)
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
    "Entitlement",
    "HolderProof",
    "new_serial",
    "new_card_secret",
    "hash_card_secret",
    "EntitlementRequest",
    "parse_entitlement_request",
    "Holder",
    "MediumRequest",
    "parse_medium_request",
    "parse_holder_proof",
    "issue_medium",
    "record_entitlement",
    "declare_medium",
    "reconstitute_medium",
    "get_medium_view",
    "LoadableContract",
    "list_loadable_contracts",
]

# medium kind -> (Fares v2 fare_media_id of the region, serial prefix)
MEDIA_KINDS = {"smartcard": ("oura-card", "C"), "wallet": ("oura-wallet", "W"), "paper": ("paper", "P")}


def new_serial(kind: str) -> str:
    """A fresh serial number: kind prefix + 16 hex digits (random, not guessable)."""
    return MEDIA_KINDS[kind][1] + secrets.token_hex(8).upper()


def new_card_secret() -> str:
    """The secret printed on an anonymous card: 128 random bits in base32, in groups of four."""
    text = base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def hash_card_secret(secret: str) -> bytes:
    """What is stored of a card secret; spaces, dashes and case do not matter (it is typed at a desk)."""
    return hashlib.sha256("".join(secret.split()).replace("-", "").upper().encode()).digest()


def new_account_number() -> str:
    """A holder's account number: 128 random bits, never printed on the card."""
    return "A" + secrets.token_hex(16).upper()


@dataclass(frozen=True)
class Entitlement:
    rider_category_id: str
    valid_until: datetime
    verified_by_authority_id: str
    created_at: datetime


@dataclass(frozen=True)
class MediumView:
    medium: MediumRow
    contracts: tuple[ContractRow, ...] = ()
    entitlements: tuple[Entitlement, ...] = ()
    card_secret: str | None = None  # a new anonymous medium's printed secret: returned once, never stored
    account_number: str | None = None  # a new registered medium's holder account number: returned once


@dataclass(frozen=True)
class HolderProof:
    """What the person at the desk shows: the account number of a registered card's holder, or
    the secret printed on an anonymous card."""

    card_secret: str | None = None
    holder_account: str | None = None


def parse_holder_proof(body: Any) -> HolderProof:
    """``{"card_secret": "..."}`` or ``{"holder_account": "A..."}`` (either may be absent)."""
    if body is None:
        return HolderProof()
    if not isinstance(body, dict):
        raise InvalidProof("the body must be a JSON object")
    values = {}
    for name in ("card_secret", "holder_account"):
        value = body.get(name)
        if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 200):
            raise InvalidProof(f"{name} must be a string of 1 to 200 characters")
        values[name] = value
    return HolderProof(**values)


async def _holder_is_present(conn: asyncpg.Connection, medium: MediumRow, proof: HolderProof) -> bool:
    """Whether ``proof`` is the holder's: a registered medium by its holder's account number, an
    anonymous one by its printed secret (media issued before secrets existed have none)."""
    record = await conn.fetchrow(Q.get_medium_proof, medium.medium_id)
    if medium.account_id is not None:
        number = record["account_number"]
        return proof.holder_account is not None and number is not None and hmac.compare_digest(
            proof.holder_account.strip().upper().encode(), number.encode())
    if record["secret_hash"] is None or proof.card_secret is None:
        return False
    return hmac.compare_digest(bytes(record["secret_hash"]), hash_card_secret(proof.card_secret))


async def _insert_medium(
    conn: asyncpg.Connection, kind: str, authority_id: str, account_id: int | None, now: datetime
) -> tuple[MediumRow, str | None]:
    """A new card or wallet; an anonymous one gets a secret (returned, only its hash stored)."""
    serial = new_serial(kind)
    secret = new_card_secret() if account_id is None else None
    medium_id = await conn.fetchval(Q.insert_medium, serial, kind, MEDIA_KINDS[kind][0], account_id, authority_id, now,
                                    hash_card_secret(secret) if secret else None)
    return MediumRow(medium_id, serial, kind, MEDIA_KINDS[kind][0], account_id, authority_id, "active", None, now), secret


@dataclass(frozen=True)
class Holder:
    """The holder of a registered card or wallet."""

    display_name: str = ""
    email: str | None = None


@dataclass(frozen=True)
class MediumRequest:
    kind: str = "smartcard"  # smartcard | wallet
    holder: Holder | None = None  # None: an anonymous medium


def parse_medium_request(body: Any) -> MediumRequest:
    """The medium a ``POST /v1/media`` asks for, or its 400 (``invalid_medium``)."""
    if not isinstance(body, dict):
        raise InvalidMedium("the body must be an object")
    kind = body.get("kind", "smartcard")
    if kind not in ("smartcard", "wallet"):
        raise InvalidMedium("kind must be 'smartcard' or 'wallet'")
    holder = body.get("holder")
    if holder is not None:
        if not isinstance(holder, dict) or not isinstance(holder.get("display_name", ""), str) or not isinstance(holder.get("email", ""), (str, type(None))):  # False or {} are no email
            raise InvalidMedium("holder must be {display_name, email?}")
    # an empty holder object asks for an anonymous medium, as it always has
    return MediumRequest(kind, Holder(holder.get("display_name", ""), holder.get("email")) if holder else None)


async def issue_medium(
    pool: asyncpg.Pool,
    *,
    request: MediumRequest,
    authority_id: str,
    actor_key_id: str | None,
    now: datetime,
) -> MediumView:
    """A new card or wallet, with its proof of holding returned once (`MediumView.card_secret`
    for an anonymous one, `MediumView.account_number` for a registered one)."""
    kind, holder = request.kind, request.holder
    async with pool.acquire() as conn, conn.transaction():
        account_id = account_number = None
        if holder is not None:
            account_number = new_account_number()
            account_id = await conn.fetchval(Q.insert_account, holder.display_name, holder.email, now, account_number)
        medium, secret = await _insert_medium(conn, kind, authority_id, account_id, now)
        await audit(conn, "ticketing.medium.issued", actor_key_id=actor_key_id, authority_id=authority_id,
                    subject=f"medium:{medium.serial}", data={"kind": kind, "anonymous": account_id is None}, now=now)
    return MediumView(medium, card_secret=secret, account_number=account_number)


async def get_medium_view(pool: asyncpg.Pool, serial: str, now: datetime) -> MediumView:
    async with pool.acquire() as conn:
        record = await conn.fetchrow(Q.get_medium, serial)
        if record is None:
            raise UnknownMedium()
        medium = medium_from_record(record)
        contracts = tuple(contract_from_record(r) for r in await conn.fetch(Q.list_contracts_of_medium, medium.medium_id))
        entitlements = tuple(Entitlement(**dict(r)) for r in await conn.fetch(Q.list_entitlements_of_medium, medium.medium_id, now))
    return MediumView(medium, contracts, entitlements)


MAX_ENTITLEMENT_DAYS = 3660  # ten years: a proof is checked again at least that often


@dataclass(frozen=True)
class EntitlementRequest:
    """An entitlement a sales point records after checking the holder's proof (never stored)."""

    rider_category_id: str
    valid_until: datetime  # timezone-aware


def parse_entitlement_request(body: Any, rider_categories: Collection[str],
                              default_rider_category_id: str | None) -> EntitlementRequest:
    """The entitlement a ``POST /v1/media/{serial}/entitlements`` asks for, or its 400 (the
    catalogue's rider categories name the valid ones; the end's range is checked when recording)."""
    if not isinstance(body, dict):
        raise InvalidEntitlement()
    category = body.get("rider_category_id")
    if not isinstance(category, str) or category not in rider_categories:
        raise InvalidEntitlement(f"rider_category_id must be one of {', '.join(sorted(rider_categories)) or '(none)'}")
    if category == default_rider_category_id:
        raise InvalidEntitlement(f"'{category}' is the default rider category: it needs no entitlement")
    if body.get("proof_checked") is not True:
        raise InvalidEntitlement("proof_checked must be true: the sales point checked the proof (it is not stored)")
    text = body.get("valid_until")
    try:
        valid_until = datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) else None
    except ValueError:
        valid_until = None
    if valid_until is None or valid_until.tzinfo is None:
        raise InvalidEntitlement("valid_until must be an ISO 8601 time with a UTC offset")
    return EntitlementRequest(category, valid_until)


async def record_entitlement(
    pool: asyncpg.Pool,
    *,
    serial: str,
    request: EntitlementRequest,
    authority_id: str,
    actor_key_id: str | None,
    now: datetime,
) -> Entitlement:
    """Record that a sales point of the medium's issuing authority checked the holder's proof
    for a rider category, valid until ``valid_until``. Only the claim is stored, never the
    document. The medium row is locked (as reconstitution locks it): an entitlement is never
    recorded on a card being replaced, and a reconstitution copies every one recorded before."""
    category, valid_until = request.rider_category_id, request.valid_until
    if not now < valid_until <= now + timedelta(days=MAX_ENTITLEMENT_DAYS):
        raise InvalidEntitlement(f"valid_until must be later than now and at most {MAX_ENTITLEMENT_DAYS} days ahead")
    async with pool.acquire() as conn, conn.transaction():
        record = await conn.fetchrow(Q.lock_medium, serial)
        if record is None:
            raise UnknownMedium()
        medium = medium_from_record(record)
        if medium.issuing_authority_id != authority_id:
            raise NotCardIssuer(f"only a sales point of '{medium.issuing_authority_id}', the holder's authority, "
                                "may record an entitlement on this card")
        if medium.account_id is None:
            raise AnonymousMedium()
        if medium.status != "active" or medium.replaced_by is not None:
            raise MediumNotActive(f"medium '{serial}' is {medium.status if medium.replaced_by is None else 'replaced'}",
                                  extra={"medium": serial})
        await conn.fetchval(Q.insert_entitlement, medium.medium_id, category, authority_id, actor_key_id, valid_until, now)
        await audit(conn, "ticketing.medium.entitlement_recorded", actor_key_id=actor_key_id, authority_id=authority_id,
                    subject=f"medium:{serial}",
                    data={"rider_category_id": category, "valid_until": valid_until.isoformat()}, now=now)
    return Entitlement(category, valid_until, authority_id, now)


async def declare_medium(
    pool: asyncpg.Pool,
    *,
    serial: str,
    reason: str,
    actor_key_id: str | None,
    authority_id: str | None,
    now: datetime,
    proof: HolderProof = HolderProof(),
) -> tuple[MediumRow, int]:
    """Declare a card lost or stolen; returns it and the deny-list version. Idempotent.

    ``authority_id`` is the declaring sales point's authority (None: an admin, who may declare
    any medium). A sales point of authority A may declare the media A issued, and another
    authority's only when the holder is present and proves it (``proof``): otherwise any desk of
    the region could deny-list any card it reads the serial of (a griefing attack on riders, and
    a way to have a stranger's card reconstituted away), while the rider who lost a card far
    from home can still declare it at the nearest desk with their account number or the
    secret printed on the card."""
    if reason not in ("lost", "stolen"):
        raise InvalidDeclaration("reason must be 'lost' or 'stolen'")
    async with pool.acquire() as conn, conn.transaction():
        record = await conn.fetchrow(Q.lock_medium, serial)
        if record is None:
            raise UnknownMedium()
        medium = medium_from_record(record)
        if (authority_id is not None and medium.issuing_authority_id != authority_id
                and not await _holder_is_present(conn, medium, proof)):
            raise NotCardIssuer(f"this card was issued by '{medium.issuing_authority_id}': declare it there, or "
                                "with the holder's account number (registered card) or the secret printed on it")
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
    pool: asyncpg.Pool,
    *,
    serial: str,
    actor_key_id: str | None,
    authority_id: str,
    now: datetime,
    proof: HolderProof = HolderProof(),
) -> MediumView:
    """Move every remaining right of a declared card onto a new card, once, for its holder only:
    ``proof`` must be the holder's account number (registered card) or the secret printed on the
    card (anonymous); a paper ticket is never reconstituted. A new anonymous card gets a new
    secret (`MediumView.card_secret`, returned once)."""
    async with pool.acquire() as conn, conn.transaction():
        record = await conn.fetchrow(Q.lock_medium, serial)
        if record is None:
            raise UnknownMedium()
        old = medium_from_record(record)
        if old.kind == "paper":
            raise PaperNotReconstitutable()
        if old.replaced_by is not None:
            raise AlreadyReconstituted()
        if old.status == "active":
            raise MediumNotDeclared()
        if not await _holder_is_present(conn, old, proof):
            raise ReconstitutionProofRequired()
        contracts = [contract_from_record(r) for r in await conn.fetch(Q.lock_active_contracts_of_medium, old.medium_id)]
        new, secret = await _insert_medium(conn, old.kind, authority_id, old.account_id, now)
        await conn.execute(Q.copy_entitlements, old.medium_id, new.medium_id, now)
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
        entitlements = tuple(Entitlement(**dict(r)) for r in await conn.fetch(Q.list_entitlements_of_medium, new.medium_id, now))
    return MediumView(new, new_contracts, entitlements, card_secret=secret)


@dataclass(frozen=True)
class LoadableContract:
    """A contract of a paid order on a card or wallet (never paper), as the NFC gateway loads it
    onto the medium: the product, its networks and their owning authorities, validity, trips."""

    contract_id: int
    medium_serial: str
    medium_kind: str  # smartcard | wallet
    order_id: int
    order_status: str
    selling_authority_id: str
    fare_product_id: str
    network_ids: tuple[str, ...]
    owning_authority_ids: tuple[str, ...]  # of the order line, one per network of the line
    valid_from: datetime
    valid_until: datetime | None
    duration_s: int | None
    trips_total: int | None
    remaining_trips: int | None
    status: str  # active | refunded | transferred
    first_used_at: datetime | None
    created_at: datetime


async def list_loadable_contracts(
    pool: asyncpg.Pool,
    *,
    serial: str | None = None,
    contract_ids: Collection[int] | None = None,
    after_contract_id: int | None = None,
    created_since: datetime | None = None,
    limit: int = 1000,
) -> list[LoadableContract]:
    """Contracts of paid orders on cards and wallets, in id order, one of three ways: every one
    of the medium ``serial`` (any status), those named by ``contract_ids`` (any status), or the
    active ones with an id above ``after_contract_id`` created at ``created_since`` or later, at
    most ``limit`` (pages of new sales). Paper tickets never appear."""
    if sum(x is not None for x in (serial, contract_ids, after_contract_id)) != 1:
        raise ValueError("give exactly one of serial, contract_ids, after_contract_id")
    async with pool.acquire() as conn:
        if serial is not None:
            records = await conn.fetch(Q.list_loadable_contracts_of_medium, serial)
        elif contract_ids is not None:
            records = await conn.fetch(Q.list_loadable_contracts_by_id, list(contract_ids))
        else:
            since = created_since if created_since is not None else datetime.min.replace(tzinfo=UTC)
            records = await conn.fetch(Q.list_new_loadable_contracts, after_contract_id, since, limit)
    return [LoadableContract(**{**dict(r), "network_ids": tuple(r["network_ids"]),
                                "owning_authority_ids": tuple(r["owning_authority_ids"])}) for r in records]
