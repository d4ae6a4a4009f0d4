"""The data shared by the remote protocol (`nfc_gateway.remote.services`, Keyple sessions) and the
load jobs (`nfc_gateway.remote.loads`): what a card holds, what the server wants written on it.

A **load job** is one contract (or one counter top-up) the server owes a card or wallet:

    pending --(session closed on the card, card MAC checked by the SAM)--> written --> confirmed
       \\--(deadline passed, never written)--> refunded        (written but unconfirmed: confirmed
                                                               by the next session that reads it)

The card is recognised as holding a load by the contract's serial number on the card
(``ContractSerialNumber`` of the Intercode contract record = ``LoadJob.card_contract_serial``),
so a session dropped after the card's session closed but before the server heard of it is
confirmed by the next read, never written twice; one dropped before the close left the card
unchanged (a Calypso session is atomic) and is written again.

A **top-up** adds its trips to the counter of a contract already on the card (``top_up_of``, that
contract's serial) instead of taking a record. Its session also rewrites that contract's record
with the top-up's rank (``top_up_seq``: 1, 2, ... among the contract's top-ups) in
`TOP_UP_RANK_FIELD`; top-ups of a contract are written in rank order, so the card holds a top-up
exactly when the record's rank is at least the top-up's (`CardImage.holds`). A counter alone could
not say it: validators decrease it.

Interface of `nfc_gateway.remote.loads` (owned by the loads module; the protocol calls only these):

- ``async def due_loads(pool, medium_serial: str, now: datetime, *, load_deadline_s=...) -> list[LoadJob]`` — jobs of
  this medium in ``written``, or ``pending`` until ``deadline - loads.WRITE_MARGIN``, oldest first (creates the jobs of
  paid contracts not seen yet); the pending ones returned are *in doubt* (never refunded before a read decides);
- ``async def reconcile(pool, medium_serial: str, image: CardImage, now: datetime, *, load_deadline_s=...) -> Reconciliation``
  — after a read: every ``written``/``pending`` job the card holds (`CardImage.holds`) is confirmed
  (and the mirror updated in the same transaction); the answer lists what still has to be written
  (in doubt from then on), serials the server does not know, refunded loads the card holds all the same;
- ``async def mark_written(pool, job_id: int, session_id: str, record: int, image: CardImage,
  now: datetime) -> LoadJob`` — the card's session closed and its MAC verified: ``written`` (``image``: the
  card after the session, holding the contract; the mirror becomes it). Idempotent;
- ``async def confirm(pool, job_id: int, image: CardImage, now: datetime) -> LoadJob`` — the
  terminal acknowledged the end of the service (or a read saw the contract): ``confirmed``, mirror
  updated in the same transaction. Idempotent. Both raise ``LoadRefunded`` / ``LoadCancelled`` (409)
  for such a job and ``LoadNotOnCard`` (409) when ``image`` is another card's or does not hold the job;
- ``async def refund_expired(pool, now: datetime, *, provider: PaymentProvider) -> int`` — pending jobs past
  their deadline (and not in doubt) are refunded through ticketing's refunds; the number refunded.
- ``async def mirror(pool, medium_serial: str) -> CardImage | None`` — the server's copy of the card.

``load_deadline_s``: the ``[nfc]`` setting (``app[CONFIG].nfc.load_deadline_s``; default 7 days).
A write session must close within ``loads.WRITE_MARGIN`` (10 min) of the call that gave it its jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["LoadStatus", "LoadKind", "LoadJob", "CardContract", "CardImage", "Reconciliation", "TOP_UP_RANK_FIELD"]

# The Intercode contract field (32 bits) holding the rank of the last top-up applied to the
# contract: OùRA's use of ContractPaymentPointer, which its own contracts leave empty otherwise.
TOP_UP_RANK_FIELD = "ContractPaymentPointer"


class LoadStatus(StrEnum):
    PENDING = "pending"
    WRITTEN = "written"
    CONFIRMED = "confirmed"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"  # its contract left the medium (moved to a new card by reconstitution): never written


class LoadKind(StrEnum):
    CONTRACT = "contract"    # write a contract record (and its counter, for trips)
    TOP_UP = "top_up"        # increase the counter of a contract already on the card


@dataclass(frozen=True)
class LoadJob:
    job_id: int
    medium_serial: str
    contract_id: int                  # ticketing_contracts.contract_id the load carries
    kind: LoadKind
    status: LoadStatus
    card_contract_serial: int         # ContractSerialNumber written on the card (unique per medium)
    tariff: int                       # ContractTariff (the card's product code)
    network_id: int                   # ContractNetworkId (0x250502 for OùRA)
    provider: int                     # ContractProvider (the operating authority's code)
    valid_from: datetime
    valid_until: datetime | None
    trips: int | None                 # counter value to write (or to add, for a top-up); None: no counter
    deadline: datetime                # not written by then: refunded
    created_at: datetime
    session_id: str | None = None     # the session that wrote it (written and later)
    card_record: int | None = None    # contract record number on the card (written and later)
    top_up_of: int | None = None      # a top-up: ContractSerialNumber of the contract on the card it adds to
    top_up_seq: int | None = None     # a top-up: its rank among that contract's top-ups (1, 2, ...)


@dataclass(frozen=True)
class CardContract:
    """One contract record as read on a card: its record number, decoded Intercode fields, counter."""
    record: int
    fields: dict[str, Any]            # decoded by nfc_gateway.intercode (ContractSerialNumber, ContractTariff, ...)
    counter: int | None = None


@dataclass(frozen=True)
class CardImage:
    """What a card holds, decoded: the server's mirror of a card has the same shape."""
    card_serial: str                  # the medium serial (ticketing_media.serial)
    environment: dict[str, Any]
    contracts: tuple[CardContract, ...] = ()
    events: tuple[dict[str, Any], ...] = ()

    def contract_serials(self) -> frozenset[int]:
        return frozenset(int(c.fields["ContractSerialNumber"]) for c in self.contracts
                         if c.fields.get("ContractSerialNumber") is not None)

    def find_contract(self, serial: int) -> CardContract | None:
        """The contract record of this ContractSerialNumber (None: not on the card)."""
        return next((c for c in self.contracts if c.fields.get("ContractSerialNumber") == serial), None)

    def top_up_rank(self, serial: int) -> int:
        """The rank of the last top-up applied to the contract of this serial (0: none, or not on the card)."""
        contract = self.find_contract(serial)
        rank = None if contract is None else contract.fields.get(TOP_UP_RANK_FIELD)
        return int(rank) if isinstance(rank, int) else 0

    def holds(self, job: LoadJob) -> bool:
        """Whether the card holds this load: its contract's serial, or for a top-up, its contract
        with a top-up rank at least the job's."""
        if job.kind is LoadKind.TOP_UP:
            assert job.top_up_of is not None and job.top_up_seq is not None
            return self.top_up_rank(job.top_up_of) >= job.top_up_seq
        return job.card_contract_serial in self.contract_serials()

    def free_records(self, capacity: int = 4) -> list[int]:
        used = {c.record for c in self.contracts}
        return [r for r in range(1, capacity + 1) if r not in used]

    def to_json(self) -> dict[str, Any]:
        return {"card_serial": self.card_serial, "environment": self.environment,
                "contracts": [{"record": c.record, "fields": c.fields, "counter": c.counter} for c in self.contracts],
                "events": list(self.events)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CardImage:
        return cls(data["card_serial"], dict(data.get("environment") or {}),
                   tuple(CardContract(int(c["record"]), dict(c["fields"]), c.get("counter")) for c in data.get("contracts", ())),
                   tuple(data.get("events", ())))


@dataclass(frozen=True)
class Reconciliation:
    confirmed: tuple[LoadJob, ...] = ()       # found on the card: confirmed by this read
    to_write: tuple[LoadJob, ...] = ()        # still owed to the card
    unknown_on_card: tuple[int, ...] = field(default_factory=tuple)  # contract serials the server does not know
    refunded_on_card: tuple[LoadJob, ...] = ()  # refunded, yet on the card: invalidate them there
