"""Validation: a card (or wallet, or paper ticket) presented to a validator gets a `Decision`.

`decide` is the rule, pure; `validate_batch` is the use case: a batch of events from one device,
idempotent on (device, event id), in one transaction.

The order of the checks is the explanation heuristic (pretix's ``_logic_explain``): the reason
given is the one a rider or an inspector can act on first.

0. an event dated outside what the server's clock allows -> ``event_time_out_of_range``: more
   than ``MAX_EVENT_FUTURE_S`` (5 minutes) ahead of the clock, or more than ``MAX_EVENT_AGE_S``
   (30 days) behind it. Validators keep NTP time, so minutes of skew are the most a real one
   shows; the past is generous because offline validators (a bus in the depot over a long
   weekend, a broken uplink) upload days late. Nothing is read or consumed, the refusal is recorded
   (a retry replays it), so a validator with a wrong clock cannot spend trips or lengthen a pass;
   an event the catalogue cannot place (checked before the card, by `find_network_refusal`): a
   route the catalogue does not know and no ``network_id`` -> ``unknown_route``; a network no
   authority owns -> ``unknown_network``; a network of another authority than the device's ->
   ``other_authority_network`` (nothing is read or consumed on that network's contracts). A stop
   the catalogue does not place in an area is not a refusal: the catalogue only knows the stops of
   fare areas, and a stop outside every area leaves the area check out;
1. unknown medium -> ``unknown_medium``; deny-listed (lost, stolen, replaced) -> ``deny_listed``;
2. no active contract for the event's network -> ``no_contract_for_network``; only contracts
   that start after the event (bought after an offline boarding) -> ``not_yet_valid``;
3. the same card on the same route within the anti-passback window after a counted boarding ->
   ``already_validated`` (refused, nothing consumed);
4. a boarding within a contract's transfer window after a counted boarding, on another route ->
   ``transfer_within_window`` (accepted, nothing consumed);
5. a usable contract (inside its validity, trips left, area) -> ``valid``, one trip consumed
   (unlimited passes are used before counted ones, then the one expiring first);
6. otherwise the most specific refusal: ``trips_exhausted``, ``out_of_area`` or ``expired``.

Events made offline hours earlier are decided in event-time order within their batch, against the
contract as it is now; the windows of steps 3 and 4 count on both sides of the last counted
boarding, and a pass's first use moves back to an earlier boarding uploaded late, so the outcome
does not depend on the order in which batches arrive; the validator's own decision at the time is not trusted. Every well-formed
event gets its own decision, recorded like any other: validators upload hours of offline events at
once, and an event the catalogue cannot place (a route added after the catalogue was built, a
misconfigured validator) must not hold back the others, nor be retried forever. Only a batch that
is malformed (not JSON of the right shape) is refused whole, with nothing written.

Locking (see README, "Locking rules"): the batch locks the active contracts of all its media in
one statement, in contract id order, before any check, so two validators presenting the same
10-trip card at the same instant decrement it twice, never once. ``lock_contracts=False`` is a
debug flag that skips the lock, kept only so the concurrency test can prove the race is real.

Parallel implementations that must change together: this module, and the offline check of the
validators (NFC gateway, ``nfc_gateway``); the reason codes are the wire values.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import asyncpg

from ticketing.errors import InvalidEvents
from ticketing.products import DEFAULT_TIMEZONE, Catalogue, get_validity_end
from ticketing.repository import Q, columns_of, row_of

__all__ = [
    "Reason",
    "Decision",
    "ContractState",
    "MediumState",
    "ValidationEvent",
    "decide",
    "find_network_refusal",
    "is_event_time_in_range",
    "MAX_EVENT_FUTURE_S",
    "MAX_EVENT_AGE_S",
    "parse_events",
    "validate_batch",
    "BatchResult",
]

DEFAULT_ANTI_PASSBACK_S = 120
MAX_EVENT_FUTURE_S = 5 * 60  # an event dated later than the clock plus this is refused (device clock skew)
MAX_EVENT_AGE_S = 30 * 86400  # an event older than this is refused (offline validators upload late)


class Reason(enum.StrEnum):
    VALID = "valid"
    TRANSFER = "transfer_within_window"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    NO_CONTRACT = "no_contract_for_network"
    DENY_LISTED = "deny_listed"
    ALREADY_VALIDATED = "already_validated"
    TRIPS_EXHAUSTED = "trips_exhausted"
    OUT_OF_AREA = "out_of_area"
    UNKNOWN_MEDIUM = "unknown_medium"
    UNKNOWN_ROUTE = "unknown_route"
    UNKNOWN_NETWORK = "unknown_network"
    OTHER_AUTHORITY_NETWORK = "other_authority_network"
    EVENT_TIME_OUT_OF_RANGE = "event_time_out_of_range"


ACCEPTED = frozenset({Reason.VALID, Reason.TRANSFER})

EXPLANATIONS: Mapping[Reason, str] = {
    Reason.VALID: "valid: one trip counted",
    Reason.TRANSFER: "transfer within the window of the previous boarding: nothing counted",
    Reason.EXPIRED: "every contract for this network has expired",
    Reason.NOT_YET_VALID: "the contract for this network starts after this boarding",
    Reason.NO_CONTRACT: "no contract for this network on this card",
    Reason.DENY_LISTED: "card declared lost or stolen, or replaced",
    Reason.ALREADY_VALIDATED: "already validated on this route a moment ago (anti-passback)",
    Reason.TRIPS_EXHAUSTED: "no trips left",
    Reason.OUT_OF_AREA: "the contract does not cover this stop's area",
    Reason.UNKNOWN_MEDIUM: "unknown card",
    Reason.UNKNOWN_ROUTE: "route unknown to the fare catalogue, and the event names no network: nothing counted",
    Reason.UNKNOWN_NETWORK: "network owned by no authority of the region: nothing counted",
    Reason.OTHER_AUTHORITY_NETWORK: "network of another authority than this validator's: nothing counted",
    Reason.EVENT_TIME_OUT_OF_RANGE: "event dated too far in the future or the past for the server's clock: nothing counted",
}


@dataclass(frozen=True)
class Decision:
    event_id: str
    accepted: bool
    reason: Reason
    explanation: str
    contract_id: int | None = None
    remaining_trips: int | None = None
    replayed: bool = False  # True when this event was decided before (idempotent retry)


@dataclass(frozen=True)
class ContractState:
    contract_id: int
    medium_id: int
    fare_product_id: str
    network_ids: frozenset[str]
    area_ids: frozenset[str]
    valid_from: datetime
    valid_until: datetime | None
    duration_s: int | None
    trips_total: int | None
    remaining_trips: int | None
    transfer_window_s: int
    first_used_at: datetime | None
    last_counted_at: datetime | None
    last_route_id: str | None


@dataclass(frozen=True)
class MediumState:
    medium_id: int
    serial: str
    status: str
    replaced_by: int | None

    @property
    def is_denied(self) -> bool:
        return self.status != "active" or self.replaced_by is not None


@dataclass(frozen=True)
class ValidationEvent:
    event_id: str
    medium_serial: str
    occurred_at: datetime
    stop_id: str
    route_id: str
    direction_id: int | None = None
    network_id: str | None = None


def _expiry(contract: ContractState, timezone: str) -> datetime | None:
    if contract.valid_until is not None:
        return contract.valid_until
    if contract.duration_s is not None and contract.first_used_at is not None:
        return get_validity_end(contract.first_used_at, contract.duration_s, timezone)
    return None


def _unusable_because(contract: ContractState, at: datetime, stop_areas: frozenset[str], timezone: str) -> Reason | None:
    """Why this contract cannot pay for a boarding at ``at`` (None: it can)."""
    expiry = _expiry(contract, timezone)
    if expiry is not None and at >= expiry:
        return Reason.EXPIRED
    if contract.remaining_trips is not None and contract.remaining_trips <= 0:
        return Reason.TRIPS_EXHAUSTED
    if contract.area_ids and stop_areas and not (contract.area_ids & stop_areas):
        return Reason.OUT_OF_AREA
    return None


def _counted(chosen: ContractState, event: ValidationEvent, timezone: str) -> ContractState:
    """The contract once this boarding is counted on it: one trip fewer, its first use and last
    boarding updated (whatever order the events were uploaded in)."""
    at = event.occurred_at
    # The first use is the earliest counted boarding, even one uploaded after later ones: a pass
    # whose validity runs from its first use must not be lengthened by a late upload.
    first_used = at if chosen.first_used_at is None or at < chosen.first_used_at else chosen.first_used_at
    valid_until = chosen.valid_until
    if chosen.duration_s is not None and (
        valid_until is None
        or (chosen.first_used_at is not None
            and valid_until == get_validity_end(chosen.first_used_at, chosen.duration_s, timezone))
    ):
        valid_until = get_validity_end(first_used, chosen.duration_s, timezone)
    return replace(
        chosen,
        remaining_trips=None if chosen.remaining_trips is None else chosen.remaining_trips - 1,
        first_used_at=first_used,
        valid_until=valid_until,
        last_counted_at=max(at, chosen.last_counted_at) if chosen.last_counted_at else at,
        last_route_id=event.route_id if not chosen.last_counted_at or at >= chosen.last_counted_at else chosen.last_route_id,
    )


def decide(
    event: ValidationEvent,
    network_id: str,
    medium: MediumState | None,
    contracts: Sequence[ContractState],
    *,
    stop_areas: frozenset[str] = frozenset(),
    anti_passback_s: int = DEFAULT_ANTI_PASSBACK_S,
    timezone: str = DEFAULT_TIMEZONE,
) -> tuple[Decision, ContractState | None]:
    """The decision for one event, and the contract as it must be written back (None: unchanged).

    ``timezone`` is the region's: passes of whole days run in its calendar (`get_validity_end`)."""

    def refuse(reason: Reason, contract: ContractState | None = None) -> tuple[Decision, None]:
        return Decision(event.event_id, False, reason, EXPLANATIONS[reason],
                        contract.contract_id if contract else None,
                        contract.remaining_trips if contract else None), None

    if medium is None:
        return refuse(Reason.UNKNOWN_MEDIUM)
    if medium.is_denied:
        return refuse(Reason.DENY_LISTED)
    at = event.occurred_at
    on_network = [c for c in contracts if c.medium_id == medium.medium_id and network_id in c.network_ids]
    if not on_network:
        return refuse(Reason.NO_CONTRACT)
    # A contract bought after the (offline) boarding did not exist when the rider boarded.
    mine = [c for c in on_network if c.valid_from <= at]
    if not mine:
        return refuse(Reason.NOT_YET_VALID, min(on_network, key=lambda c: (c.valid_from, c.contract_id)))
    for contract in mine:
        if contract.last_counted_at is None:
            continue
        # abs(): an offline event uploaded after a later one was counted is judged the same as
        # if it had arrived first (the outcome never depends on the upload order).
        since_s = abs((at - contract.last_counted_at).total_seconds())
        if contract.last_route_id == event.route_id and since_s < anti_passback_s:
            return refuse(Reason.ALREADY_VALIDATED, contract)
    for contract in mine:
        if contract.last_counted_at is None:
            continue
        since_s = abs((at - contract.last_counted_at).total_seconds())
        expiry = _expiry(contract, timezone)
        if since_s <= contract.transfer_window_s and (expiry is None or at < expiry) and contract.last_route_id != event.route_id:
            decision = Decision(event.event_id, True, Reason.TRANSFER, EXPLANATIONS[Reason.TRANSFER],
                                contract.contract_id, contract.remaining_trips)
            return decision, None

    verdicts = {c.contract_id: _unusable_because(c, at, stop_areas, timezone) for c in mine}
    candidates = [c for c in mine if verdicts[c.contract_id] is None]
    if not candidates:
        for reason in (Reason.TRIPS_EXHAUSTED, Reason.OUT_OF_AREA, Reason.EXPIRED):
            hit = [c for c in mine if verdicts[c.contract_id] is reason]
            if hit:
                return refuse(reason, hit[0])
    far = datetime.max.replace(tzinfo=at.tzinfo)
    chosen = min(candidates, key=lambda c: (c.remaining_trips is not None, _expiry(c, timezone) or far, c.contract_id))
    updated = _counted(chosen, event, timezone)
    return Decision(event.event_id, True, Reason.VALID, EXPLANATIONS[Reason.VALID], chosen.contract_id, updated.remaining_trips), updated


def find_network_refusal(
    event: ValidationEvent,
    catalogue: Catalogue,
    network_authority: Mapping[str, str],
    device_authority_id: str,
) -> tuple[str | None, Reason | None]:
    """The network an event is on, or why it cannot be decided at all (step 0 of the checks).

    Returns ``(network_id, None)`` when the event can go on to `decide`, else ``(network_id or
    None, reason)``. The network the event names wins over the catalogue's route -> network map:
    a validator knows which network it is mounted on, even for a route newer than the catalogue.
    """
    network_id = event.network_id or catalogue.find_network_of_route(event.route_id)
    if network_id is None:
        return None, Reason.UNKNOWN_ROUTE
    owner = network_authority.get(network_id)
    if owner is None:
        return network_id, Reason.UNKNOWN_NETWORK
    if owner != device_authority_id:
        return network_id, Reason.OTHER_AUTHORITY_NETWORK
    return network_id, None


def is_event_time_in_range(event: ValidationEvent, now: datetime) -> bool:
    """Whether an event's time is one a validator with a sound clock can report (step 0)."""
    return now - timedelta(seconds=MAX_EVENT_AGE_S) <= event.occurred_at <= now + timedelta(seconds=MAX_EVENT_FUTURE_S)


def refusal(event: ValidationEvent, reason: Reason) -> Decision:
    """A refusal that consumes nothing and names no contract."""
    return Decision(event.event_id, False, reason, EXPLANATIONS[reason])


# -- the use case ------------------------------------------------------------------------------------


def _parse_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 string")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("must carry a UTC offset")
    try:
        moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00: no UTC instant (nor a PostgreSQL one)
        raise ValueError("is out of range") from None
    return moment


def parse_events(payload: object, *, max_events: int = 5000) -> list[ValidationEvent]:
    """A request body ``{"events": [...]}`` -> events; InvalidEvents naming every bad one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise InvalidEvents("the body must be an object with an 'events' array")
    raw_events = payload["events"]
    if not raw_events or len(raw_events) > max_events:
        raise InvalidEvents(f"a batch holds 1 to {max_events} events")
    events: list[ValidationEvent] = []
    problems: list[dict[str, object]] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_events):
        try:
            if not isinstance(raw, dict):
                raise ValueError("an event must be an object")
            for name in ("event_id", "medium", "stop_id", "route_id"):
                if not isinstance(raw.get(name), str) or not raw[name] or len(raw[name]) > 200:
                    raise ValueError(f"'{name}' must be a non-empty string")
            direction = raw.get("direction_id")
            if direction is not None and (isinstance(direction, bool) or direction not in (0, 1)):  # False == 0
                raise ValueError("'direction_id' must be 0, 1 or absent")
            network = raw.get("network_id")
            if network is not None and not isinstance(network, str):
                raise ValueError("'network_id' must be a string")
            if raw["event_id"] in seen:
                raise ValueError("duplicate event_id in the batch")
            seen.add(raw["event_id"])
            try:
                occurred = _parse_time(raw.get("time"))
            except ValueError as error:
                raise ValueError(f"'time' {error}") from None
            events.append(ValidationEvent(raw["event_id"], raw["medium"], occurred, raw["stop_id"], raw["route_id"], direction, network))
        except ValueError as error:
            problems.append({"index": index, "reason": str(error)})
    if problems:
        raise InvalidEvents(f"{len(problems)} malformed event(s); none was recorded", extra={"invalid_events": problems[:50]})
    return events


@dataclass(frozen=True)
class BatchResult:
    decisions: tuple[Decision, ...]
    new_events: int
    replayed_events: int


def _contract_state(record: asyncpg.Record) -> ContractState:
    return row_of(ContractState, record, network_ids=frozenset(record["network_ids"]),
                  area_ids=frozenset(record["area_ids"] or ()))


def _prechecked(
    events: Sequence[ValidationEvent], catalogue: Catalogue, network_authority: Mapping[str, str],
    device_authority_id: str, now: datetime,
) -> tuple[list[str | None], dict[str, Reason]]:
    """Each event's network, and the refusals known before reading any contract (the catalogue
    cannot place the event, its time is out of range), by event id."""
    networks: list[str | None] = []
    precheck: dict[str, Reason] = {}
    for event in events:
        network_id, reason = find_network_refusal(event, catalogue, network_authority, device_authority_id)
        networks.append(network_id)
        if not is_event_time_in_range(event, now):
            reason = Reason.EVENT_TIME_OUT_OF_RANGE
        if reason is not None:
            precheck[event.event_id] = reason
    return networks, precheck


async def _recorded_decisions(conn: asyncpg.Connection, device_key_id: str, event_ids: list[str]) -> dict[str, Decision]:
    """The first decisions of events this device already sent (an idempotent retry replays them)."""
    replayed: dict[str, Decision] = {}
    if event_ids:
        for r in await conn.fetch(Q.list_validations, device_key_id, event_ids):
            reason = Reason(r["reason"]) if r["reason"] in Reason._value2member_map_ else Reason.UNKNOWN_MEDIUM
            replayed[r["event_id"]] = Decision(
                r["event_id"], r["accepted"], reason, EXPLANATIONS[reason], r["contract_id"], r["remaining_trips"], replayed=True
            )
    return replayed


async def _decide_fresh(
    conn: asyncpg.Connection,
    catalogue: Catalogue,
    fresh: list[tuple[ValidationEvent, str | None]],
    *,
    lock_contracts: bool,
    race_delay_s: float,
    anti_passback_s: int,
) -> dict[str, Decision]:
    """Decide the new events in the order they happened against their media's contracts (read,
    locked unless ``lock_contracts`` is False), and write the contracts' usage back."""
    media_rows = await conn.fetch(Q.list_media_by_serial, sorted({e.medium_serial for e, _ in fresh}))
    media = {r["serial"]: MediumState(r["medium_id"], r["serial"], r["status"], r["replaced_by"]) for r in media_rows}
    medium_ids = sorted(m.medium_id for m in media.values())
    query = Q.lock_active_contracts_of_media if lock_contracts else Q.read_active_contracts_of_media
    contracts = {r["contract_id"]: _contract_state(r) for r in await conn.fetch(query, medium_ids)}
    if race_delay_s:
        await asyncio.sleep(race_delay_s)
    decided: dict[str, Decision] = {}
    changed: dict[int, ContractState] = {}
    for event, network_id in sorted(fresh, key=lambda en: (en[0].occurred_at, en[0].event_id)):
        medium = media.get(event.medium_serial)
        own = [c for c in contracts.values() if medium is not None and c.medium_id == medium.medium_id]
        decision, updated = decide(
            event, network_id, medium, own,
            stop_areas=catalogue.stop_areas.get(event.stop_id, frozenset()),
            anti_passback_s=anti_passback_s,
            timezone=catalogue.timezone,
        )
        decided[event.event_id] = decision
        if updated is not None:
            contracts[updated.contract_id] = updated
            changed[updated.contract_id] = updated
    if changed:
        await conn.execute(Q.update_contract_usage, *columns_of(
            list(changed.values()), "contract_id", "remaining_trips", "valid_until", "first_used_at",
            "last_counted_at", "last_route_id"))
    return decided


async def validate_batch(
    pool: asyncpg.Pool,
    catalogue: Catalogue,
    network_authority: Mapping[str, str],
    *,
    device_key_id: str,
    device_authority_id: str,
    events: Sequence[ValidationEvent],
    now: datetime,
    lock_contracts: bool = True,
    race_delay_s: float = 0.0,
    anti_passback_s: int = DEFAULT_ANTI_PASSBACK_S,
    retention_s: float | None = None,
) -> BatchResult:
    """Decide and record a batch of one device's events, in one transaction.

    ``retention_s`` is how long identifying data lives (`ticketing.statistics.purge`): an event
    that occurred longer ago than that (an offline validator uploading days late) is decided in
    memory with its serial like any other, but stored without it, nor its contract link, as if
    already purged. None: every event is stored with its serial (the purge removes it later).

    Each event gets its own decision: one the catalogue cannot place (unknown route or network, a
    network of another authority) is refused with its reason and recorded, so a retry replays it
    and the rest of the batch goes through. Events already recorded for this device return their
    first decision. ``race_delay_s`` widens the read-modify-write window; only tests use it.
    """
    networks, precheck = _prechecked(events, catalogue, network_authority, device_authority_id, now)
    async with pool.acquire() as conn, conn.transaction():
        claimed = await conn.fetch(
            Q.claim_validations, device_key_id, device_authority_id, now,
            *columns_of(events, "event_id", "medium_serial", "occurred_at", "stop_id", "route_id", "direction_id"),
            networks, None if retention_s is None else now - timedelta(seconds=retention_s),
        )
        new_ids = {r["event_id"] for r in claimed}
        replayed = await _recorded_decisions(conn, device_key_id, [e.event_id for e in events if e.event_id not in new_ids])
        decided: dict[str, Decision] = {
            e.event_id: refusal(e, precheck[e.event_id]) for e in events if e.event_id in new_ids and e.event_id in precheck
        }
        fresh = [(e, n) for e, n in zip(events, networks) if e.event_id in new_ids and e.event_id not in precheck]
        if fresh:
            decided |= await _decide_fresh(conn, catalogue, fresh, lock_contracts=lock_contracts,
                                           race_delay_s=race_delay_s, anti_passback_s=anti_passback_s)
        if decided:
            ds = list(decided.values())
            await conn.execute(
                Q.record_decisions, device_key_id, *columns_of(ds, "event_id", "accepted"), [d.reason.value for d in ds],
                *columns_of(ds, "contract_id", "remaining_trips"),
            )
    ordered = tuple(decided.get(e.event_id) or replayed[e.event_id] for e in events)
    return BatchResult(ordered, len(decided), len(replayed))
