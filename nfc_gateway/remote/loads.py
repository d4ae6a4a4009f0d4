"""Load jobs: what the server owes each card or wallet, exactly once, and its mirror of each card.

A paid contract on a smartcard or wallet (never paper) gets one load job (``UNIQUE (contract_id)``),
created by the background job (`nfc_gateway.remote.jobs`) or, for a card presented right after a
sale, by `due_loads` / `reconcile` themselves. The states are those of `nfc_gateway.remote.model`:

    pending --mark_written--> written --confirm / a read--> confirmed
    pending --a read sees it on the card--> confirmed      (the session closed, the server never heard)
    pending --deadline passed, not in doubt--> refunded    (through ticketing's refunds)
    pending --its contract moved to another card--> cancelled

Every transition is a conditional UPDATE (``WHERE status = ...``) on a row the caller's
transaction locks, so a retried message or two sessions at once change nothing twice.

**In doubt.** A pending job handed to a session to write (`due_loads`, `reconcile`'s ``to_write``)
may be on the card once that session's card transaction closed, even if the server never heard of
it (a connection dropped between the close and `mark_written`). Such a job is *in doubt*
(``offered_at`` set) and, like a written one, is never refunded before a read of the card decides:
on the card, confirmed; absent and too late to write, no longer in doubt and refunded at its
deadline. A job is offered only until ``deadline - WRITE_MARGIN``, so a session that closes
within `WRITE_MARGIN` of getting its jobs never races the refund.

**Used before loaded.** Validation is server side (by serial), so a contract may be used before
it reaches the card. A used contract is not refundable (ticketing refuses), and its rider evidently
got it: at its deadline its job is confirmed (``confirmed_by = 'use'``) instead of refunded; until
then it is still offered, with the trips it has left.

**Refund exactly once.** `refund_expired` locks the job row (``FOR UPDATE SKIP LOCKED``: a second
pass skips it), calls `ticketing.refunds.refund` for that one contract (its own transaction), then
marks the job refunded and commits. A crash between the two leaves a pending job whose contract is
refunded; the next pass sees that, marks it without refunding again (ticketing's refund of a
refunded contract is a no-op anyway).

**Top-ups.** A trips contract (a carnet, a single) for a medium whose card holds a confirmed
contract load of the same product (same tariff code; that contract still paid, active and not
expired, and its validity on the card at least the new one's) gets a ``top_up`` job instead: its
trips go to that contract's counter, not to a record of its own (`create_jobs`, `_can_host`; the
oldest such contract when there are several). Its rank (``top_up_seq``, 1, 2, ... per contract,
given under a lock of the contract's job row) is written into the contract record in the same
card session (`nfc_gateway.remote.model.TOP_UP_RANK_FIELD`), so a read recognises it like a
contract's serial (`CardImage.holds`): pending -> written -> confirmed, resumed and refunded
exactly like a contract load. Ranks are written in order: a top-up waits while a lower rank of
its contract is owed but too close to its deadline to be written (`_in_rank_order`); a refunded
rank below the card's is therefore known never applied (not reported as on the card). A pending
top-up whose contract a read does not show becomes a contract load (it cannot have been applied:
there was nowhere to apply it). The ticketing contracts stay two; only the card merges the trips.

**Card codes.** ``card_contract_serial`` is the ticketing contract id (a 32-bit ContractSerialNumber,
unique per card and the same on every retry). ``tariff`` is a stable code per fare product and
``provider`` per authority (the owner of the contract's first network), each assigned on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from nfc_gateway.errors import LoadCancelled, LoadNotOnCard, LoadRefunded, UnknownLoadJob
from nfc_gateway.remote.model import CardImage, LoadJob, LoadKind, LoadStatus, Reconciliation
from oura.db.queries import QueryFile
from ticketing.errors import PaymentPending, RefundNotAllowed
from ticketing.media import LoadableContract, list_loadable_contracts
from ticketing.payments import PaymentProvider
from ticketing.refunds import refund
from ticketing.requests import RefundRequest

__all__ = [
    "OURA_NETWORK_ID",
    "WRITE_MARGIN",
    "DEFAULT_LOAD_DEADLINE_S",
    "due_loads",
    "reconcile",
    "mark_written",
    "confirm",
    "refund_expired",
    "mirror",
    "create_jobs",
    "create_jobs_for_new_sales",
]

log = logging.getLogger(__name__)

OURA_NETWORK_ID = 0x250502  # ContractNetworkId of every OùRA contract (nfc_gateway.intercode has the same)
WRITE_MARGIN = timedelta(minutes=10)  # a pending job is offered until deadline - WRITE_MARGIN
DEFAULT_LOAD_DEADLINE_S = 7 * 86400.0  # [nfc] load_deadline_s
REFUND_BATCH = 500

_q = QueryFile(Path(__file__).with_name("loads_queries.sql"))


def _job(record: Mapping[str, Any]) -> LoadJob:
    return LoadJob(
        job_id=record["job_id"], medium_serial=record["medium_serial"], contract_id=record["contract_id"],
        kind=LoadKind(record["kind"]), status=LoadStatus(record["status"]),
        card_contract_serial=record["card_contract_serial"], tariff=record["tariff"], network_id=record["network_id"],
        provider=record["provider"], valid_from=record["valid_from"], valid_until=record["valid_until"],
        trips=record["trips"], deadline=record["deadline"], created_at=record["created_at"],
        session_id=record["session_id"], card_record=record["card_record"],
        top_up_of=record["top_up_of"], top_up_seq=record["top_up_seq"],
    )


def _offerable(job: LoadJob, now: datetime) -> bool:
    return job.status is LoadStatus.PENDING and now < job.deadline - WRITE_MARGIN


def _provider_authority(contract: LoadableContract) -> str:
    return contract.owning_authority_ids[0] if contract.owning_authority_ids else contract.selling_authority_id


def _is_loadable(contract: LoadableContract) -> bool:
    return contract.status == "active" and contract.order_status in ("paid", "partially_refunded")


# --- card codes ----------------------------------------------------------------------------------

async def _codes(pool: asyncpg.Pool, products: Iterable[str], authorities: Iterable[str],
                 now: datetime) -> tuple[dict[str, int], dict[str, int]]:
    """The tariff code of each product and the provider code of each authority, the missing ones
    assigned (one assigner at a time; a code, once given, never changes)."""
    products, authorities = sorted(set(products)), sorted(set(authorities))
    async with pool.acquire() as conn:
        tariffs = {r["fare_product_id"]: r["tariff"] for r in await conn.fetch(_q("find_tariff_codes"), products)}
        providers = {r["authority_id"]: r["provider"] for r in await conn.fetch(_q("find_provider_codes"), authorities)}
        if len(tariffs) == len(products) and len(providers) == len(authorities):
            return tariffs, providers
        async with conn.transaction():
            await conn.execute(_q("lock_code_tables"))
            tariffs = {r["fare_product_id"]: r["tariff"] for r in await conn.fetch(_q("find_tariff_codes"), products)}
            providers = {r["authority_id"]: r["provider"] for r in await conn.fetch(_q("find_provider_codes"), authorities)}
            await conn.execute(_q("assign_tariff_codes"), [p for p in products if p not in tariffs], now)
            await conn.execute(_q("assign_provider_codes"), [a for a in authorities if a not in providers], now)
            tariffs = {r["fare_product_id"]: r["tariff"] for r in await conn.fetch(_q("find_tariff_codes"), products)}
            providers = {r["authority_id"]: r["provider"] for r in await conn.fetch(_q("find_provider_codes"), authorities)}
    return tariffs, providers


# --- job creation --------------------------------------------------------------------------------

async def create_jobs(pool: asyncpg.Pool, contracts: Sequence[LoadableContract], now: datetime,
                      load_deadline_s: float = DEFAULT_LOAD_DEADLINE_S) -> int:
    """A pending job for each loadable contract (active, of a paid order) that has none; the
    number created. Idempotent: a contract with a job (even a concurrent one's) is skipped.

    A trips contract whose card holds a contract of the same product it can add to (`_find_host`)
    gets a top-up job of that contract; any other, a contract load."""
    wanted = [c for c in contracts if _is_loadable(c)]
    if not wanted:
        return 0
    tariffs, providers = await _codes(pool, (c.fare_product_id for c in wanted), map(_provider_authority, wanted), now)
    hosts = await _top_up_hosts(pool, wanted, tariffs, now)
    created = 0
    if hosts:
        created, refused = await _insert_top_ups(pool, [c for c in wanted if c.contract_id in hosts], hosts, tariffs,
                                                 providers, now, load_deadline_s)
        wanted = [c for c in wanted if c.contract_id not in hosts or c.contract_id in refused]
    if not wanted:
        return created
    status = await pool.execute(
        _q("insert_jobs"), now, OURA_NETWORK_ID, float(load_deadline_s),
        [c.medium_serial for c in wanted], [c.contract_id for c in wanted],
        [tariffs[c.fare_product_id] for c in wanted], [providers[_provider_authority(c)] for c in wanted],
        [c.valid_from for c in wanted], [c.valid_until for c in wanted], [c.remaining_trips for c in wanted])
    return created + int(status.split()[-1])


def _can_host(host: LoadJob, hosted: LoadableContract | None, contract: LoadableContract, tariff: int,
              now: datetime) -> bool:
    """Whether ``contract``'s trips may be added to the counter of ``host`` (a contract load
    confirmed on the same medium): the same product (tariff), the host's contract still paid,
    active and not expired, and the validity the card shows for it (its job's) at least the
    new contract's, so the card never shows the new trips with a shorter validity."""
    if host.medium_serial != contract.medium_serial or host.tariff != tariff or host.contract_id == contract.contract_id:
        return False
    if hosted is None or not _is_loadable(hosted) or (hosted.valid_until is not None and hosted.valid_until <= now):
        return False
    return host.valid_until is None or (contract.valid_until is not None and host.valid_until >= contract.valid_until)


async def _top_up_hosts(pool: asyncpg.Pool, wanted: Sequence[LoadableContract], tariffs: Mapping[str, int],
                        now: datetime) -> dict[int, LoadJob]:
    """contract id -> the contract load it tops up, for the trips contracts that have no job yet
    and whose medium's card holds a contract they can add to (the oldest such)."""
    candidates = [c for c in wanted if c.remaining_trips is not None]
    if candidates:  # the usual case, a card read again: every contract has its job already
        existing = {r["contract_id"] for r in await pool.fetch(_q("find_jobs_of_contracts"),
                                                                [c.contract_id for c in candidates])}
        candidates = [c for c in candidates if c.contract_id not in existing]
    if not candidates:
        return {}
    jobs = [_job(r) for r in await pool.fetch(_q("list_top_up_hosts"), sorted({c.medium_serial for c in candidates}))]
    if not jobs:
        return {}
    hosted = {c.contract_id: c for c in await list_loadable_contracts(pool, contract_ids=[j.contract_id for j in jobs],
                                                                        limit=max(len(jobs), 1))}
    hosts = {}
    for contract in candidates:
        host = next((j for j in jobs if _can_host(j, hosted.get(j.contract_id), contract,
                                                   tariffs[contract.fare_product_id], now)), None)
        if host is not None:
            hosts[contract.contract_id] = host
    return hosts


async def _insert_top_ups(pool: asyncpg.Pool, contracts: Sequence[LoadableContract], hosts: Mapping[int, LoadJob],
                          tariffs: Mapping[str, int], providers: Mapping[str, int], now: datetime,
                          load_deadline_s: float) -> tuple[int, set[int]]:
    """Top-up jobs of ``contracts``, ranked after their host's earlier top-ups (host rows locked:
    one ranker at a time); (jobs created, contracts whose host is no longer confirmed: to load as
    contracts)."""
    async with pool.acquire() as conn, conn.transaction():
        locked = {r["job_id"]: r["status"] for r in await conn.fetch(
            _q("lock_top_up_hosts"), sorted({h.job_id for h in hosts.values()}))}
        refused = {c.contract_id for c in contracts if locked.get(hosts[c.contract_id].job_id) != LoadStatus.CONFIRMED}
        existing = {r["contract_id"] for r in await conn.fetch(_q("find_jobs_of_contracts"), [c.contract_id for c in contracts])}
        chosen = sorted((c for c in contracts if c.contract_id not in refused and c.contract_id not in existing),
                        key=lambda c: c.contract_id)
        if not chosen:
            return 0, refused
        serials = {c.contract_id: hosts[c.contract_id].card_contract_serial for c in chosen}
        ranks = {(r["medium_serial"], r["top_up_of"]): r["rank"] for r in await conn.fetch(
            _q("last_top_up_ranks"), sorted({c.medium_serial for c in chosen}), sorted(set(serials.values())))}
        rank_of = {}
        for contract in chosen:
            key = (contract.medium_serial, serials[contract.contract_id])
            ranks[key] = rank_of[contract.contract_id] = ranks.get(key, 0) + 1
        status = await conn.execute(
            _q("insert_top_ups"), now, OURA_NETWORK_ID, float(load_deadline_s),
            [c.medium_serial for c in chosen], [c.contract_id for c in chosen],
            [tariffs[c.fare_product_id] for c in chosen], [providers[_provider_authority(c)] for c in chosen],
            [c.valid_from for c in chosen], [c.valid_until for c in chosen], [c.remaining_trips for c in chosen],
            [serials[c.contract_id] for c in chosen], [rank_of[c.contract_id] for c in chosen])
    return int(status.split()[-1]), refused


async def create_jobs_for_new_sales(pool: asyncpg.Pool, now: datetime, *, after_contract_id: int,
                                    created_since: datetime, load_deadline_s: float = DEFAULT_LOAD_DEADLINE_S,
                                    page: int = 1000) -> tuple[int, int]:
    """Jobs for the loadable contracts with an id above ``after_contract_id`` created at
    ``created_since`` or later, page by page; returns (jobs created, highest contract id seen)."""
    created, last = 0, after_contract_id
    while True:
        contracts = await list_loadable_contracts(pool, after_contract_id=last, created_since=created_since, limit=page)
        if not contracts:
            return created, last
        created += await create_jobs(pool, contracts, now, load_deadline_s)
        last = contracts[-1].contract_id
        if len(contracts) < page:
            return created, last


async def _sync_medium(pool: asyncpg.Pool, medium_serial: str, now: datetime, load_deadline_s: float) -> None:
    """The medium's jobs follow its contracts: missing jobs created, pending ones refreshed."""
    contracts = await list_loadable_contracts(pool, serial=medium_serial)
    await create_jobs(pool, contracts, now, load_deadline_s)
    if contracts:
        await pool.execute(_q("refresh_pending_jobs"), now, [c.contract_id for c in contracts],
                           [c.status if c.order_status != "refunded" else "refunded" for c in contracts],
                           [c.remaining_trips for c in contracts], [c.valid_until for c in contracts])


async def _save_mirror(conn: asyncpg.Connection, image: CardImage, now: datetime) -> None:
    await conn.execute(_q("upsert_mirror"), image.card_serial, image.to_json(), now)


# --- the interface of the remote protocol (nfc_gateway.remote.model) ------------------------------

async def due_loads(pool: asyncpg.Pool, medium_serial: str, now: datetime, *,
                    load_deadline_s: float = DEFAULT_LOAD_DEADLINE_S) -> list[LoadJob]:
    """The jobs of this medium to write (pending, until ``deadline - WRITE_MARGIN``) or to find on
    the card (written), oldest first; the jobs of paid contracts not seen yet are created first.
    The pending ones returned are in doubt from now on (see the module)."""
    await _sync_medium(pool, medium_serial, now, load_deadline_s)
    async with pool.acquire() as conn, conn.transaction():
        jobs = [_job(r) for r in await conn.fetch(_q("list_open_jobs_of_medium"), medium_serial)]
        offered = [j for j in jobs if _offerable(j, now)]
        if offered:
            await conn.execute(_q("offer_jobs"), [j.job_id for j in offered], now)
    return [j for j in jobs if j.status is LoadStatus.WRITTEN or _offerable(j, now)]


async def reconcile(pool: asyncpg.Pool, medium_serial: str, image: CardImage, now: datetime, *,
                    load_deadline_s: float = DEFAULT_LOAD_DEADLINE_S) -> Reconciliation:
    """After a read of the card: every pending or written job whose contract serial is on the
    card is confirmed, and the mirror becomes ``image``, in one transaction. The answer lists the
    jobs still to write (offered: in doubt from now on), the serials on the card no job of this
    medium has, and the refunded jobs the card holds all the same. A written job the card does not
    show is owed again (the card lost it)."""
    if image.card_serial != medium_serial:
        raise LoadNotOnCard(f"the image is of card '{image.card_serial}', not '{medium_serial}'")
    await _sync_medium(pool, medium_serial, now, load_deadline_s)
    on_card = image.contract_serials()
    async with pool.acquire() as conn, conn.transaction():
        jobs = [_job(r) for r in await conn.fetch(_q("lock_jobs_of_medium"), medium_serial)]
        orphans = [j for j in jobs if j.kind is LoadKind.TOP_UP and j.status is LoadStatus.PENDING
                   and j.top_up_of not in on_card]
        if orphans:  # their contract is not on the card: each is loaded as a contract of its own
            await conn.execute(_q("top_ups_to_contracts"), [j.job_id for j in orphans])
            converted = {j.job_id for j in orphans}
            jobs = [replace(j, kind=LoadKind.CONTRACT, top_up_of=None, top_up_seq=None) if j.job_id in converted else j
                    for j in jobs]
        open_jobs = [j for j in jobs if j.status in (LoadStatus.PENDING, LoadStatus.WRITTEN)]
        found = [j for j in open_jobs if image.holds(j)]
        lost = [j for j in open_jobs if j.status is LoadStatus.WRITTEN and not image.holds(j)]
        if lost:
            log.warning("written loads not on card %s: owed again", medium_serial,
                        extra={"job_ids": [j.job_id for j in lost]})
            await conn.execute(_q("reopen_lost"), [j.job_id for j in lost])
        absent = [_with_status(j, LoadStatus.PENDING) for j in open_jobs if not image.holds(j)]
        to_write = _in_rank_order([j for j in absent if _offerable(j, now)], absent)
        offered = {j.job_id for j in to_write}
        settled = [j for j in absent if j.job_id not in offered]
        await conn.execute(_q("confirm_by_read"), [j.job_id for j in found], now)
        await conn.execute(_q("offer_jobs"), [j.job_id for j in to_write], now)
        await conn.execute(_q("resolve_absent"), [j.job_id for j in settled])
        await _save_mirror(conn, image, now)
    known = {j.card_contract_serial for j in jobs if j.kind is LoadKind.CONTRACT}
    return Reconciliation(
        confirmed=tuple(_with_status(j, LoadStatus.CONFIRMED) for j in found),
        to_write=tuple(to_write),
        unknown_on_card=tuple(sorted(on_card - known)),
        refunded_on_card=tuple(j for j in jobs if j.status is LoadStatus.REFUNDED and j.kind is LoadKind.CONTRACT
                               and j.card_contract_serial in on_card),
    )


def _in_rank_order(offerable: list[LoadJob], absent: list[LoadJob]) -> list[LoadJob]:
    """The offerable jobs that may be written now: a top-up waits while a lower-ranked top-up of
    the same contract is owed but may not be written (too close to its deadline: it is refunded
    first), since writing a rank says every lower rank is on the card."""
    waiting: dict[int, int] = {}
    ids = {j.job_id for j in offerable}
    for job in absent:
        if job.kind is LoadKind.TOP_UP and job.job_id not in ids:
            assert job.top_up_of is not None and job.top_up_seq is not None
            waiting[job.top_up_of] = min(job.top_up_seq, waiting.get(job.top_up_of, job.top_up_seq))
    return [j for j in offerable if j.kind is not LoadKind.TOP_UP
            or j.top_up_seq < waiting.get(j.top_up_of, j.top_up_seq + 1)]  # type: ignore[operator]


def _with_status(job: LoadJob, status: LoadStatus) -> LoadJob:
    return replace(job, status=status)


async def _locked_job(conn: asyncpg.Connection, job_id: int, image: CardImage) -> LoadJob:
    """The job, locked; the image must be of its card and hold its contract serial."""
    record = await conn.fetchrow(_q("lock_job"), job_id)
    if record is None:
        raise UnknownLoadJob(extra={"job_id": job_id})
    job = _job(record)
    if job.status is LoadStatus.REFUNDED:
        raise LoadRefunded(extra={"job_id": job_id})
    if job.status is LoadStatus.CANCELLED:
        raise LoadCancelled(extra={"job_id": job_id})
    if image.card_serial != job.medium_serial or not image.holds(job):
        what = (f"top-up {job.top_up_seq} of contract serial {job.top_up_of}" if job.kind is LoadKind.TOP_UP
                else f"contract serial {job.card_contract_serial}")
        raise LoadNotOnCard(f"the image of card '{image.card_serial}' does not hold {what} of load {job_id} "
                            f"(card '{job.medium_serial}')", extra={"job_id": job_id})
    return job


async def mark_written(pool: asyncpg.Pool, job_id: int, session_id: str, record: int, image: CardImage,
                       now: datetime) -> LoadJob:
    """The card's session closed with the job's contract in record ``record`` and its MAC was
    verified: ``written`` (and the mirror becomes ``image``, the card after the session).
    Idempotent: a written or confirmed job is returned as it is."""
    async with pool.acquire() as conn, conn.transaction():
        job = await _locked_job(conn, job_id, image)
        if job.status is LoadStatus.PENDING:
            job = _job(await conn.fetchrow(_q("set_written"), job_id, session_id, record, now))
        await _save_mirror(conn, image, now)
    return job


async def confirm(pool: asyncpg.Pool, job_id: int, image: CardImage, now: datetime) -> LoadJob:
    """The terminal acknowledged the end of the service (or a read saw the contract):
    ``confirmed``, the mirror becoming ``image`` in the same transaction. Idempotent."""
    async with pool.acquire() as conn, conn.transaction():
        job = await _locked_job(conn, job_id, image)
        if job.status in (LoadStatus.PENDING, LoadStatus.WRITTEN):
            job = _job(await conn.fetchrow(_q("set_confirmed"), job_id,
                                           "session" if job.status is LoadStatus.WRITTEN or job.session_id else "read", now))
        await _save_mirror(conn, image, now)
    return job


async def mirror(pool: asyncpg.Pool, medium_serial: str) -> CardImage | None:
    """The server's copy of the card (None: never read nor written through the gateway)."""
    record = await pool.fetchrow(_q("get_mirror"), medium_serial)
    return None if record is None else CardImage.from_json(record["image"])


async def refund_expired(pool: asyncpg.Pool, now: datetime, *, provider: PaymentProvider,
                         limit: int = REFUND_BATCH) -> int:
    """Refund the pending jobs past their deadline that are not in doubt, each through
    ``ticketing.refunds.refund`` of its one contract, and mark them refunded; the number marked.
    A contract used meanwhile is confirmed instead, one refunded by ticketing already is only
    marked, one moved to another card cancels its job. A provider that does not answer leaves the
    job pending for the next pass."""
    rows = await pool.fetch(_q("list_expired"), now, limit)
    refunded = 0
    for row in rows:
        try:
            refunded += await _refund_one(pool, provider, row["job_id"], now)
        except PaymentPending:
            log.warning("refund of load %s: the payment provider did not answer; next pass", row["job_id"])
    return refunded


async def _refund_one(pool: asyncpg.Pool, provider: PaymentProvider, job_id: int, now: datetime) -> int:
    async with pool.acquire() as conn, conn.transaction():
        claimed = await conn.fetchrow(_q("claim_expired"), job_id, now)
        if claimed is None:  # another pass holds it, or it changed since it was listed
            return 0
        contract_id = claimed["contract_id"]
        contract = await _contract(pool, contract_id)
        if contract is not None and contract.status == "active" and contract.first_used_at is None:
            try:
                await refund(pool, provider, order_id=contract.order_id, actor_key_id=None, authority_id=None,
                             now=now, request=RefundRequest((contract_id,)))
            except RefundNotAllowed:  # used (or moved) between the read and the refund's lock
                contract = await _contract(pool, contract_id)
            else:
                contract = await _contract(pool, contract_id)
        if contract is None:
            log.error("load %s: contract %s is no longer a loadable contract; left pending", job_id, contract_id)
            return 0
        if contract.status == "refunded" or contract.order_status == "refunded":
            await conn.execute(_q("set_refunded"), job_id, now)
            return 1
        if contract.status == "transferred":
            await conn.execute(_q("set_cancelled"), job_id)
            return 0
        if contract.first_used_at is not None:
            await conn.execute(_q("confirm_by_use"), job_id, now)
            return 0
        log.error("load %s: contract %s could not be refunded; left pending", job_id, contract_id)
        return 0


async def _contract(pool: asyncpg.Pool, contract_id: int) -> LoadableContract | None:
    found = await list_loadable_contracts(pool, contract_ids=(contract_id,))
    return found[0] if found else None
