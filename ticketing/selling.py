"""Selling: price an order and sell it, exactly once. Each step owns its transaction and writes its audit row.

Selling exactly once, with a payment provider in the middle:

1. The ``(sales point, Idempotency-Key)`` pair is claimed by inserting a ``pending`` order (a
   unique constraint). A retry finds it: same body -> the same order comes back (a paid one as
   is, a declined one as the same decline, a pending one resumes at step 2); another body with
   the same key -> 409 ``idempotency_key_reused``.
2. The provider is asked to charge with the key ``order-<id>``. Providers are idempotent on that
   key, so a retry after a timeout or a "failed after charging" gets the charge already made,
   never a second one.
3. The outcome is written in one statement (one atomic transaction, one round trip) that locks
   the order row first and writes only while it is pending: lines, payment, media and contracts,
   ledger rows, audit row, status. Two concurrent retries serialise on that lock and the second
   finds the order paid. Either everything is written or nothing is.

A contract is never loaded on a card or wallet that is not active. The first attempt checks the
media before claiming (``medium_denied``, nothing written), but a card can be declared lost or
stolen, or reconstituted, while the payment is pending (a timeout, a client that retries later).
Step 3 therefore re-checks the media under lock, and when one is dead it writes nothing; the order
is then closed as *failed* (``failure_code`` ``medium_not_active``): the charge is refunded through
the provider (idempotent on ``refund-<id>``), the charge and the refund are recorded (money taken:
zero), no ledger row is booked (nothing was fulfilled), the reason is kept on the order
(``failure``) with an audit row ``ticketing.order.refused_medium_not_active``, and this retry and
every later one answer 409 ``medium_not_active``. This is what a fare-collection back office does
with a load for a hot-listed card: refuse the load, reverse the payment, never leave money taken
without a right.

A pending order whose client never comes back is closed by `ticketing.reconciliation`
once older than ``abandon_after_s``: under the order's row lock the provider is asked whether it
charged the key ``order-<id>`` (it never charges then); a charge is refunded (``refund-<id>``) and
both are recorded; the order becomes *failed* (``abandoned``), with no ledger row and no contract.
A retry after that answers 409 ``order_failed`` and is never charged. A retry whose charge was in
flight while reconciliation closed the order (the charge is made outside any lock) finds the order
failed after charging, and refunds that charge itself with the same key ``refund-<id>``: the
provider's idempotency makes it at most one refund, and the charge is recorded once. If that
refund does not answer (503), the next retry looks the charge up (never charging) and refunds it.

Refunds of unused contracts of a paid order, some or all, are `ticketing.refunds`.

The priced order is stored with the order (``request.lines``, and the seller's commission rate as
``request.commission_permille``), so resuming never re-prices with a catalogue or a commission rate
that changed in between. The client states the total it showed the rider
(``expected_total_minor``): a different catalogue total is a 409 ``price_mismatch``, which is
also what a tampered price gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from ticketing.clearing import apportion_line
from oura.errors import OuraError
from ticketing.errors import (
    EntitlementRequired,
    IdempotencyKeyReused,
    MediumDenied,
    MediumMismatch,
    MediumNotActive,
    MediumRequired,
    MixedCurrency,
    OrderFailed,
    PaymentDeclined,
    PaymentPending,
    PriceMismatch,
    UnknownMedium,
    UnknownProduct,
    UnownedNetwork,
    UnregisteredAuthority,
)
from ticketing.media import MEDIA_KINDS, new_serial
from ticketing.orders import (
    OrderView,
    PricedLine,
    claimed_commission_permille,
    get_order_view,
    order_view_from_row,
    reverse_charge,
)
from ticketing.payments import ChargeStatus, PaymentProvider, PaymentResult, PaymentUnavailable
from ticketing.products import Catalogue
from ticketing.repository import (
    ClaimedKey,
    Q,
    audit,
    find_medium,
    find_order,
    find_order_by_key,
    list_payments,
    lock_order,
)
from ticketing.requests import SaleRequest

__all__ = ["fulfilment_arguments", "price_order", "sell"]


def price_order(catalogue: Catalogue, network_authority: Mapping[str, str], request: SaleRequest) -> list[PricedLine]:
    """Price a sale's lines against the catalogue (pure): the product must exist for the rider
    category and media, at the price the client showed, with the medium its media needs."""
    lines: list[PricedLine] = []
    for item in request.items:
        line_no, product_id, quantity = item.line_no, item.fare_product_id, item.quantity
        rider = item.rider_category_id or catalogue.default_rider_category_id
        media = item.fare_media_id
        offer = catalogue.find_offer(product_id, rider, media)
        if offer is None:
            raise UnknownProduct(f"item {line_no}: no product '{product_id}' for rider category '{rider}' on media '{media}'")
        unit = item.unit_price_minor
        if unit is not None and unit != offer.price_minor:
            raise PriceMismatch(f"item {line_no}: unit_price_minor is {offer.price_minor} (minor units of {offer.currency}), not {unit}")
        medium_serial = item.medium
        media_id = media or offer.fare_media_id
        needs_medium = media_id in (MEDIA_KINDS["smartcard"][0], MEDIA_KINDS["wallet"][0])
        if needs_medium and not isinstance(medium_serial, str):
            raise MediumRequired(f"item {line_no}: a product on '{media_id}' needs the serial of the medium ('medium')")
        owners = _owners(line_no, offer.network_ids, network_authority)
        lines.append(
            PricedLine(
                line_no=line_no,
                fare_product_id=offer.fare_product_id,
                rider_category_id=rider,
                fare_media_id=media_id,
                quantity=quantity,
                unit_price_minor=offer.price_minor,
                amount_minor=offer.price_minor * quantity,
                currency=offer.currency,
                network_ids=offer.network_ids,
                owning_authority_ids=tuple(owners),
                shares_permille=offer.shares_permille,
                medium_serial=medium_serial if needs_medium else None,
                duration_s=offer.validity.duration_s,
                trips=offer.validity.trips,
                transfer_window_s=offer.validity.transfer_window_s,
                area_ids=tuple(sorted(offer.validity.area_ids)),
            )
        )
    currencies = {line.currency for line in lines}
    if len(currencies) != 1:
        raise MixedCurrency("one order, one currency")
    total = sum(line.amount_minor for line in lines)
    if request.expected_total_minor != total:
        raise PriceMismatch(f"expected_total_minor: the total is {total} (minor units of {currencies.pop()}), "
                            f"not {request.expected_total_minor}")
    return lines


def _owners(line_no: int, network_ids: tuple[str, ...], network_authority: Mapping[str, str]) -> list[str]:
    """The authority owning each network of a line's product (every one must have one)."""
    owners = []
    for network_id in network_ids:
        owner = network_authority.get(network_id)
        if owner is None:
            raise UnownedNetwork(f"item {line_no}: no authority owns network '{network_id}'")
        owners.append(owner)
    return owners



def _answer(view: OrderView, created: bool) -> tuple[OrderView, bool]:
    """What a sale answers for its order: the order, or the same error for a declined or failed
    one, for the attempt that closed it and every later retry."""
    if view.status == "declined":
        raise PaymentDeclined(extra={"order_id": view.order_id})
    if view.failure is None:
        return view, created
    if view.failure["code"] == MediumNotActive.code:
        detail = view.failure["detail"]
        raise MediumNotActive(
            f"item {detail['line_no']}: medium '{detail['medium']}' is {detail['medium_status']}; "
            "nothing was loaded and the payment was refunded",
            extra={"order_id": view.order_id, "medium": detail["medium"], "medium_status": detail["medium_status"]},
        )
    raise OrderFailed(extra={"order_id": view.order_id, "failure_code": view.failure["code"]})


async def _check_media(conn: asyncpg.Connection, lines: list[PricedLine]) -> None:
    for line in lines:
        if line.medium_serial is None:
            continue
        record = await find_medium(conn, line.medium_serial)
        if record is None:
            raise UnknownMedium(f"item {line.line_no}: no medium '{line.medium_serial}'")
        if record.status != "active" or record.replaced_by is not None:
            raise MediumDenied(f"item {line.line_no}: medium '{line.medium_serial}' is deny-listed")
        if record.fare_media_id != line.fare_media_id:
            raise MediumMismatch(f"item {line.line_no}: medium '{line.medium_serial}' is a {record.fare_media_id}, not a {line.fare_media_id}")


async def _check_entitlements(conn: asyncpg.Connection, lines: list[PricedLine], default_rider_category_id: str | None,
                              now: datetime) -> None:
    """A line of a rider category other than the default is sold only onto a card or wallet that
    holds an entitlement to that category valid now (`media.record_entitlement`: checked by a
    sales point of the card's authority). A paper ticket or an anonymous medium cannot hold one,
    so they are sold the default category only. Checked with the media before the claim, in one
    query; an entitlement that expires while a payment is pending does not undo the sale."""
    reduced = [line for line in lines if line.rider_category_id not in (None, default_rider_category_id)]
    if not reduced:
        return
    serials = sorted({line.medium_serial for line in reduced if line.medium_serial is not None})
    held = {(r["serial"], r["rider_category_id"])
            for r in await conn.fetch(Q.list_valid_entitlements_by_serial, serials, now)} if serials else set()
    for line in reduced:
        if line.medium_serial is None:
            raise EntitlementRequired(f"item {line.line_no}: rider category '{line.rider_category_id}' is sold only on a "
                                      "card or wallet holding an entitlement to it, not on a paper ticket",
                                      extra={"line_no": line.line_no, "rider_category_id": line.rider_category_id})
        if (line.medium_serial, line.rider_category_id) not in held:
            raise EntitlementRequired(f"item {line.line_no}: medium '{line.medium_serial}' holds no valid entitlement to "
                                      f"rider category '{line.rider_category_id}'",
                                      extra={"line_no": line.line_no, "rider_category_id": line.rider_category_id,
                                             "medium": line.medium_serial})


@dataclass(frozen=True)
class _Claim:
    """An order this sale claimed, or the pending order a retry resumes: what charging and
    fulfilling it need (for a resumed order, read from its claim: never re-priced)."""

    order_id: int
    lines: tuple[PricedLine, ...]
    token: str
    total_minor: int
    currency: str
    commission_permille: int
    created: bool  # whether this call claimed it


async def sell(
    pool: asyncpg.Pool,
    catalogue: Catalogue,
    network_authority: Mapping[str, str],
    provider: PaymentProvider,
    *,
    sales_point_key_id: str,
    selling_authority_id: str,
    request: SaleRequest,
    now: datetime,
) -> tuple[OrderView, bool]:
    """Sell once per idempotency key. Returns the order and whether this call created it."""
    if selling_authority_id not in network_authority.values():  # a key made for an authority the registry lacks
        raise UnregisteredAuthority(f"'{selling_authority_id}' owns no network of the registry: it cannot sell")
    claim, existing = await _claim_order(pool, catalogue, network_authority, sales_point_key_id=sales_point_key_id,
                                         selling_authority_id=selling_authority_id, request=request, now=now)
    if existing is not None:
        if existing.request_hash != request.request_hash:
            raise IdempotencyKeyReused()
        if existing.status != "pending":
            return await _answer_closed_order(pool, provider, existing.order_id, now, sales_point_key_id)
        claim = await _resume_order(pool, existing.order_id)
    charge = await _charge(pool, provider, claim, now, sales_point_key_id, selling_authority_id)
    return await _record_outcome(pool, provider, network_authority, claim, charge, now, sales_point_key_id,
                                 selling_authority_id)


async def _claim_order(
    pool: asyncpg.Pool,
    catalogue: Catalogue,
    network_authority: Mapping[str, str],
    *,
    sales_point_key_id: str,
    selling_authority_id: str,
    request: SaleRequest,
    now: datetime,
) -> tuple[_Claim | None, ClaimedKey | None]:
    """Price the request, check its media and claim the key: (the claim, None); or (None, the order
    the key already claimed: a retry, or a concurrent request). A retry still finds its order when
    its request no longer prices (an older catalogue) or its medium died while its payment was
    pending (it must resume its order, to refund it, not be refused as a new sale would be)."""
    async with pool.acquire() as conn:
        try:
            lines = price_order(catalogue, network_authority, request)
            await _check_media(conn, lines)
            await _check_entitlements(conn, lines, catalogue.default_rider_category_id, now)
        except OuraError:
            existing = await find_order_by_key(conn, sales_point_key_id, request.idempotency_key)
            if existing is None:
                raise
            return None, existing
        total, currency = sum(line.amount_minor for line in lines), lines[0].currency
        stored = {"token": request.payment_token, "lines": [line.to_json() for line in lines]}
        claim = await conn.fetchrow(  # one statement: the claim and its audit row together
            Q.insert_order_audited, sales_point_key_id, request.idempotency_key, request.request_hash,
            selling_authority_id, request.channel, total, currency, stored, now,
            {"total_minor": total, "currency": currency, "channel": request.channel},
        )
        if claim is None:  # the key was claimed before (a retry, or a concurrent request)
            return None, await find_order_by_key(conn, sales_point_key_id, request.idempotency_key)
    return _Claim(claim["order_id"], tuple(lines), request.payment_token, total, currency, claim["commission_permille"] or 0, True), None


async def _resume_order(pool: asyncpg.Pool, order_id: int) -> _Claim:
    """A pending order resumed by a retry: the priced order and its rate come from the claim."""
    async with pool.acquire() as conn:
        order = await find_order(conn, order_id)
        commission_permille = await claimed_commission_permille(conn, order)
    stored = order.request
    return _Claim(order_id, tuple(PricedLine.from_json(line) for line in stored["lines"]), stored["token"],
                  order.total_minor, order.currency, commission_permille or 0, False)


async def _answer_closed_order(
    pool: asyncpg.Pool, provider: PaymentProvider, order_id: int, now: datetime, sales_point_key_id: str
) -> tuple[OrderView, bool]:
    """A retry of an order no longer pending: the same answer as the attempt that closed it (after
    refunding a charge that arrived once it had failed)."""
    view = await get_order_view(pool, order_id)
    if view.status == "failed" and view.total_minor > 0 and not view.payments:
        view = await _refund_unrecorded_charge(pool, provider, view, now, sales_point_key_id)
    return _answer(view, False)


async def _charge(
    pool: asyncpg.Pool, provider: PaymentProvider, claim: _Claim, now: datetime, sales_point_key_id: str,
    selling_authority_id: str,
) -> PaymentResult | None:
    """Ask the provider to charge the order (key ``order-<id>``: a retry gets the charge already
    made); None for a free order. A provider that does not answer leaves the order pending (503)."""
    if claim.total_minor <= 0:
        return None
    try:
        return await provider.charge(amount_minor=claim.total_minor, currency=claim.currency, token=claim.token,
                                     idempotency_key=f"order-{claim.order_id}")
    except PaymentUnavailable as error:
        async with pool.acquire() as conn:
            await audit(conn, "ticketing.order.payment_unknown", actor_key_id=sales_point_key_id,
                        authority_id=selling_authority_id, subject=f"order:{claim.order_id}", data={"error": str(error)},
                        now=now)
        raise PaymentPending(extra={"order_id": claim.order_id}) from error


async def _record_outcome(
    pool: asyncpg.Pool,
    provider: PaymentProvider,
    network_authority: Mapping[str, str],
    claim: _Claim,
    charge: PaymentResult | None,
    now: datetime,
    sales_point_key_id: str,
    selling_authority_id: str,
) -> tuple[OrderView, bool]:
    """The outcome, each in one statement (one implicit transaction, one round trip) that locks the
    order row and writes only while it is pending: concurrent retries serialise on that lock."""
    order_id, lines = claim.order_id, list(claim.lines)
    async with pool.acquire() as conn:
        if charge is not None and charge.status is ChargeStatus.DECLINED:
            await conn.fetchval(Q.decline_pending_order, order_id, now, sales_point_key_id,
                                {"provider": provider.name, "reference": charge.reference})
        else:
            outcome = await conn.fetchrow(Q.fulfil_paid_order, *fulfilment_arguments(
                order_id, lines, charge, provider.name, claim.currency, claim.total_minor, now, sales_point_key_id,
                selling_authority_id, network_authority, claim.commission_permille,
            ))
            if outcome["paid"]:
                return order_view_from_row(dict(outcome)), claim.created  # the statement returns what it wrote
            if outcome["dead_media"]:
                await _refuse_for_dead_medium(conn, provider, order_id, lines, charge, outcome["dead_media"][0],
                                              claim.total_minor, claim.currency, now, sales_point_key_id,
                                              selling_authority_id)
            elif charge is not None:  # closed meanwhile: paid by a concurrent retry, or failed
                await _refund_charge_of_failed_order(conn, provider, order_id, charge, now, sales_point_key_id)
        view = await get_order_view(conn, order_id)
    return _answer(view, claim.created)


async def _refuse_for_dead_medium(
    conn: asyncpg.Connection,
    provider: PaymentProvider,
    order_id: int,
    lines: list[PricedLine],
    charge: Any,
    dead: Mapping[str, Any],
    total: int,
    currency: str,
    now: datetime,
    sales_point_key_id: str,
    selling_authority_id: str,
) -> None:
    """Close a pending order whose card or wallet died before fulfilment as failed: refund the
    charge, record charge and refund, keep the reason, write the audit row. One transaction
    holding the order's row lock, the provider called inside it (as `refund` does): a concurrent
    retry waits, then finds the order closed. A provider that does not answer leaves the order pending (503); the
    next retry refunds with the same key, so at most one refund is ever made. The medium cannot
    come back to life, so every retry reaches this same outcome."""
    line_no = next(line.line_no for line in lines if line.medium_serial == dead["serial"])
    medium_status = "replaced" if dead["replaced"] else dead["status"]
    detail = {"line_no": line_no, "medium": dead["serial"], "medium_status": medium_status}
    async with conn.transaction():
        order = await lock_order(conn, order_id)
        if order.status != "pending":
            return
        refunded = None
        if charge is not None:
            try:
                refunded = await reverse_charge(conn, provider, order_id, charge, now)
            except PaymentUnavailable as error:
                raise PaymentPending(extra={"order_id": order_id}) from error
        await conn.fetchval(Q.fail_pending_order, order_id, now, refunded.amount_minor if refunded else 0,
                            MediumNotActive.code, detail)
        await audit(conn, "ticketing.order.refused_medium_not_active", actor_key_id=sales_point_key_id,
                    authority_id=selling_authority_id, subject=f"order:{order_id}",
                    data={**detail, "total_minor": total, "currency": currency,
                          "charge_reference": charge.reference if charge else None,
                          "refund_reference": refunded.reference if refunded else None}, now=now)


async def _refund_charge_of_failed_order(
    conn: asyncpg.Connection,
    provider: PaymentProvider,
    order_id: int,
    charge: PaymentResult,
    now: datetime,
    actor_key_id: str | None,
) -> None:
    """Refund a charge made for an order that failed meanwhile (reconciliation closed it while the
    charge was in flight), unless the order already records it (then it was refunded when the
    order failed). One transaction holding the order's row lock, the provider called inside it;
    the refund key ``refund-<id>`` is the one every path uses to return an order's charge, so
    the provider makes at most one refund. A provider that does not answer rolls everything back
    (503): the next retry finds the order failed without a charge and looks the charge up."""
    async with conn.transaction():
        order = await lock_order(conn, order_id)
        payments = await list_payments(conn, order_id)
        if order.status != "failed" or any(p.provider_reference == charge.reference for p in payments):
            return
        try:
            refunded = await reverse_charge(conn, provider, order_id, charge, now)
        except PaymentUnavailable as error:
            raise PaymentPending(extra={"order_id": order_id}) from error
        await conn.execute(Q.add_refunded_minor, order_id, now, refunded.amount_minor)
        await audit(conn, "ticketing.order.late_charge_refunded", actor_key_id=actor_key_id,
                    authority_id=order.selling_authority_id, subject=f"order:{order_id}",
                    data={"failure_code": order.failure_code, "amount_minor": charge.amount_minor,
                          "currency": charge.currency, "charge_reference": charge.reference,
                          "refund_reference": refunded.reference}, now=now)


async def _refund_unrecorded_charge(
    pool: asyncpg.Pool, provider: PaymentProvider, view: OrderView, now: datetime, actor_key_id: str
) -> OrderView:
    """A retry of a failed order that records no charge: ask the provider whether one was made
    anyway (a charge in flight when reconciliation closed the order, whose refund did not answer)
    and refund it. Never charges."""
    try:
        charge = await provider.find_charge(f"order-{view.order_id}")
    except PaymentUnavailable as error:
        raise PaymentPending(extra={"order_id": view.order_id}) from error
    if charge is None or charge.status is not ChargeStatus.APPROVED:
        return view
    async with pool.acquire() as conn:
        await _refund_charge_of_failed_order(conn, provider, view.order_id, charge, now, actor_key_id)
        return await get_order_view(conn, view.order_id)


def fulfilment_arguments(
    order_id: int,
    lines: list[PricedLine],
    charge: PaymentResult | None,
    provider_name: str,
    currency: str,
    total: int,
    now: datetime,
    sales_point_key_id: str,
    selling_authority_id: str,
    network_authority: Mapping[str, str],
    commission_permille: int,
) -> list[Any]:
    """The parameters of ``fulfil_paid_order``: the order's scalars, then one jsonb document of its
    rows: one contract per unit, on the card or wallet the line names, or on a new paper ticket
    each; the order lines; the ledger rows of every line; the media the lines name (pure)."""
    ledger = [
        {"line_no": row.line_no, "kind": row.kind, "collector": row.collector_authority_id,
         "beneficiary": row.beneficiary_authority_id, "network_id": row.network_id, "amount_minor": row.amount_minor}
        for line in lines
        for row in apportion_line(line_no=line.line_no, amount_minor=line.amount_minor,
                                  shares_permille=line.shares_permille, network_authority=network_authority,
                                  selling_authority_id=selling_authority_id, commission_permille=commission_permille)
    ]
    paper, contracts = _contract_rows(lines)
    order_lines = [_line_row(line) for line in lines]
    media = sorted({line.medium_serial for line in lines if line.medium_serial is not None})
    audit_data = {"total_minor": total, "currency": currency,
                  "owning_networks": sorted({n for line in lines for n in line.network_ids}),
                  "reference": charge.reference if charge else None}
    return [
        order_id, now, sales_point_key_id, provider_name,
        charge.reference if charge else None, charge.amount_minor if charge else None, currency,
        selling_authority_id, audit_data,
        {"paper": paper, "contracts": contracts, "lines": order_lines, "ledger": ledger, "media": media},
    ]


def _contract_rows(lines: list[PricedLine]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The new paper tickets and the contracts of ``fulfil_paid_order``: one contract per unit, on
    the card or wallet the line names, or on a new paper ticket each."""
    paper: list[dict[str, Any]] = []
    contracts: list[dict[str, Any]] = []
    for line in lines:
        for _ in range(line.quantity):
            serial = line.medium_serial
            if serial is None:
                serial = new_serial("paper")
                paper.append({"serial": serial, "fare_media_id": line.fare_media_id or "paper"})
            contracts.append({"serial": serial, "line_no": line.line_no, "fare_product_id": line.fare_product_id,
                              "rider_category_id": line.rider_category_id, "network_ids": ",".join(line.network_ids),
                              "area_ids": ",".join(line.area_ids), "duration_s": line.duration_s, "trips": line.trips,
                              "transfer_window_s": line.transfer_window_s})
    return paper, contracts


def _line_row(line: PricedLine) -> dict[str, Any]:
    """An order line of ``fulfil_paid_order``."""
    return {"line_no": line.line_no, "fare_product_id": line.fare_product_id, "rider_category_id": line.rider_category_id,
            "fare_media_id": line.fare_media_id, "quantity": line.quantity, "unit_price_minor": line.unit_price_minor,
            "amount_minor": line.amount_minor, "network_ids": ",".join(line.network_ids),
            "owning_authority_ids": ",".join(line.owning_authority_ids), "medium_serial": line.medium_serial}
