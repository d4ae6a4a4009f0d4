"""The card side of the remote services: the secure module's transactions (`nfc_gateway.sim`)
planned for load jobs, and what a read means (records decoded by `nfc_gateway.intercode`). Pure.

Card layout the server writes (Calypso Intercode, `nfc_gateway.sim.card`): a load job's contract
goes into a free record of EF Contracts (SFI 09, records 1-4; a record of zeros is free), and its
trips into the counter of the same number in EF Counter (SFI 19, counter n for contract n). A
top-up (or several of one contract) rewrites that contract's record with the rank of its last
top-up (`nfc_gateway.remote.model.TOP_UP_RANK_FIELD`) and increases its counter, in one session. A card
whose Environment record is empty gets the OùRA environment in the same session (opened with the
issuer key then: the server is the issuer of the region's phone wallets). A session holds
at most `MAX_SESSION_MODIFICATIONS` writes, so a card owed more contracts gets several sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ticketing.products import DEFAULT_TIMEZONE

from ..errors import InvalidCardRecord
from ..intercode import counter_record, decode_record, encode_record, oura_contract, oura_environment
from ..sim.card import AID, MAX_SESSION_MODIFICATIONS, SFI_CONTRACTS, SFI_COUNTER, SFI_ENVIRONMENT, SFI_EVENT_LOG
from ..sim.sam import KEY_ISSUER, KEY_LOAD, SecureModule
from ..sim.transaction import ReadCard, ReadResult, WriteSession
from .model import TOP_UP_RANK_FIELD, CardContract, CardImage, LoadJob, LoadKind

__all__ = ["CardIo", "CardRead", "WritePlan", "OURA_ISSUER", "APPLICATION_VALIDITY_YEARS"]

OURA_ISSUER = 1                     # EnvApplicationIssuerId of cards the region's server personalises
APPLICATION_VALIDITY_YEARS = 10     # EnvApplicationValidityEndDate: 31 December, this many years ahead


def _decode(kind: str, raw: bytes) -> dict[str, Any]:
    try:
        return decode_record(kind, raw)
    except InvalidCardRecord:
        return {"undecodable": raw.hex().upper()}  # a record the server did not write; shown as it is


@dataclass(frozen=True)
class CardRead:
    """A card as an authenticated read (or a completed write session) left it."""

    read: ReadResult

    @property
    def serial(self) -> bytes:
        return self.read.serial

    def _records(self, sfi: int) -> tuple[bytes, ...]:
        return self.read.records.get(sfi, ())

    def free_records(self) -> list[int]:
        return [n for n, raw in enumerate(self._records(SFI_CONTRACTS), 1) if not any(raw)]

    def environment_empty(self) -> bool:
        records = self._records(SFI_ENVIRONMENT)
        return not records or not any(records[0])

    def image(self, medium_serial: str) -> CardImage:
        """The decoded card (the server's mirror of a card has this shape)."""
        counters = self.read.counters
        environment = {} if self.environment_empty() else _decode("environment", self._records(SFI_ENVIRONMENT)[0])
        contracts = tuple(CardContract(n, _decode("contract", raw), counters[n - 1])
                          for n, raw in enumerate(self._records(SFI_CONTRACTS), 1) if any(raw))
        events = tuple(_decode("event", raw) for raw in self._records(SFI_EVENT_LOG) if any(raw))
        return CardImage(medium_serial, environment, contracts, events)


@dataclass
class WritePlan:
    """One write session: the jobs it writes (job id -> contract record), its APDUs."""

    session: WriteSession | None
    jobs: tuple[LoadJob, ...] = ()
    records: dict[int, int] = field(default_factory=dict)
    left_out: tuple[LoadJob, ...] = ()           # no free record on the card
    later: tuple[LoadJob, ...] = ()              # fit on the card, not in this session: the next one
    written: dict[int, tuple[int, bytes]] = field(default_factory=dict)   # sfi -> (record, data) planned

    @property
    def apdus(self) -> list[bytes]:
        return [] if self.session is None else self.session.close()


def _local_date(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date()


class CardIo:
    """Card transactions of the server's secure module."""

    def __init__(self, sam: SecureModule) -> None:
        self.sam = sam

    def read_plan(self) -> tuple[bytes, list[bytes], ReadCard]:
        """(AID to select, the APDUs after the selection, the transaction) of an authenticated read."""
        reader = ReadCard(self.sam)
        commands = reader.commands()
        return AID, commands[1:], reader   # commands[0] is SELECT APPLICATION: the card selector does it

    def read_result(self, reader: ReadCard, answers: Sequence[bytes]) -> CardRead:
        return CardRead(reader.result(list(answers)))  # raises CardMacInvalid, CardCommandFailed, ...

    def write_plan(self, card: CardRead, jobs: Sequence[LoadJob], now: datetime) -> WritePlan:
        """Write as many of ``jobs`` (contracts, or top-ups of contracts on the card) as one session holds."""
        personalise = card.environment_empty() and any(job.kind is LoadKind.CONTRACT for job in jobs)
        # the first load of a card without environment also writes it: only the issuer key may
        session = WriteSession.after(self.sam, card.read, key_index=KEY_ISSUER if personalise else KEY_LOAD)
        plan = WritePlan(session)
        budget = MAX_SESSION_MODIFICATIONS
        if personalise:
            end = date(_local_date(now).year + APPLICATION_VALIDITY_YEARS, 12, 31)
            session.update_record(SFI_ENVIRONMENT, 1, oura_environment(issuer=OURA_ISSUER, validity_end=end))
            budget -= 1
        free = card.free_records()
        image = card.image("")
        chosen, left_out, later = [], [], []
        top_ups: dict[int, list[LoadJob]] = {}            # contract serial on the card -> its top-ups
        for job in jobs:
            if job.kind is LoadKind.TOP_UP:
                assert job.top_up_of is not None
                top_ups.setdefault(job.top_up_of, []).append(job)
        for job in jobs:
            if job.kind is LoadKind.TOP_UP:
                group = top_ups.pop(job.top_up_of, None)   # a contract's top-ups go together, in rank order
                if group is None:
                    continue
                cost = self._top_up(session, image, group, budget)
                if cost is None:
                    left_out.extend(group)
                elif cost > budget:
                    later.extend(group)
                else:
                    record = image.find_contract(job.top_up_of).record  # type: ignore[union-attr]
                    plan.records.update((j.job_id, record) for j in group)
                    chosen.extend(group)
                    budget -= cost
                continue
            cost = 1 + (job.trips is not None)
            if not free:
                left_out.append(job)
            elif cost > budget:
                later.append(job)
            else:
                record = free.pop(0)
                session.update_record(SFI_CONTRACTS, record, oura_contract(
                    serial=job.card_contract_serial, tariff=job.tariff, provider=job.provider,
                    valid_from=_local_date(job.valid_from),
                    valid_until=None if job.valid_until is None else _local_date(job.valid_until),
                    sale_date=_local_date(job.created_at)))
                if job.trips is not None:
                    session.set_counter(record, job.trips)
                plan.records[job.job_id] = record
                chosen.append(job)
                budget -= cost
        plan.jobs, plan.left_out, plan.later = tuple(chosen), tuple(left_out), tuple(later)
        if not chosen:
            plan.session = None
        return plan

    @staticmethod
    def _top_up(session: WriteSession, image: CardImage, group: list[LoadJob], budget: int) -> int | None:
        """Add ``group`` (top-ups of one contract on the card) to ``session`` if ``budget`` allows:
        the contract's record rewritten with the highest rank of the group, its counter increased
        by their trips. The writes it takes (more than ``budget``: nothing added); None when the
        card does not hold the contract (or not in a record the server can rewrite)."""
        serial = group[0].top_up_of
        assert serial is not None
        contract = image.find_contract(serial)
        if contract is None or "undecodable" in contract.fields:
            return None
        group.sort(key=lambda j: j.top_up_seq or 0)
        trips = sum(j.trips or 0 for j in group)
        cost = 1 + (trips > 0)
        if cost <= budget:
            fields = {**contract.fields, TOP_UP_RANK_FIELD: max(j.top_up_seq or 0 for j in group)}
            session.update_record(SFI_CONTRACTS, contract.record, encode_record("contract", fields))
            if trips:
                session.increase(contract.record, trips)
        return cost

    def check_write(self, plan: WritePlan, answers: Sequence[bytes], card: CardRead) -> CardRead:
        """The card after the session, once its MAC is verified (raises otherwise)."""
        assert plan.session is not None
        plan.session.check(list(answers))
        records = dict(card.read.records)
        for command in plan.session.close()[2:-1]:
            ins, p1, p2 = command[1], command[2], command[3]
            if ins == 0xDC:   # UPDATE RECORD: record p1 of SFI p2 >> 3, data after Lc
                sfi, data = p2 >> 3, command[5:5 + command[4]]
                rows = list(records.get(sfi, ()))
                rows[p1 - 1] = data + bytes(29 - len(data))
                records[sfi] = tuple(rows)
        records[SFI_COUNTER] = (counter_record(plan.session.counters),)
        read = replace(card.read, records=records, transaction_counter=plan.session.next_transaction_counter)
        return CardRead(read)
