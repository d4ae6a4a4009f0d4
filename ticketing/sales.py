"""Sales: quote, sell and refund. Each use case owns its transactions and writes audit rows.

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
is then closed as *refunded*: the charge is refunded through the provider (idempotent on
``refund-<id>``), the charge and the refund are recorded (money taken: zero), no ledger row is
booked (nothing was fulfilled), the reason is kept on the order (``refusal``) with an audit row
``ticketing.order.refused_medium_not_active``, and this retry and every later one answer 409
``medium_not_active``. This is what a fare-collection back office does with a load for a
hot-listed card: refuse the load, reverse the payment, never leave money taken without a right.

A pending order whose client never retries keeps its claim; reconciling those with the provider's
report is an operations task (listed in the README), not a request path.

The priced order is stored with the order (``request.lines``), so resuming never re-prices with a
catalogue that changed in between. The client states the total it showed the rider
(``expected_total_minor``): a different catalogue total is a 409 ``price_mismatch``, which is
also what a tampered price gets.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from ticketing.clearing import apportion_line, book, list_order_rows, negate
from oura.errors import OuraError
from ticketing.errors import (
    IdempotencyKeyReused,
    InvalidOrder,
    MediumNotActive,
    PaymentDeclined,
    PaymentPending,
    PriceMismatch,
    RefundNotAllowed,
    UnknownMedium,
    UnknownOrder,
    UnknownProduct,
)
from ticketing.media import MEDIA_KINDS, new_serial
from ticketing.payments import ChargeStatus, PaymentProvider, PaymentUnavailable
from ticketing.products import Catalogue
from ticketing.repository import Q, audit

__all__ = ["CHANNELS", "OrderView", "PricedLine", "price_order", "sell", "refund", "get_order_view"]

CHANNELS = ("vending_machine", "desk", "web", "app")
MAX_QUANTITY = 50
MAX_LINES = 20


@dataclass(frozen=True)
class PricedLine:
    line_no: int
    fare_product_id: str
    rider_category_id: str | None
    fare_media_id: str | None
    quantity: int
    unit_price_minor: int
    amount_minor: int
    currency: str
    network_ids: tuple[str, ...]
    owning_authority_ids: tuple[str, ...]
    shares_permille: tuple[tuple[str, int], ...]
    medium_serial: str | None
    duration_s: int | None
    trips: int | None
    transfer_window_s: int
    area_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """Stored with the order's claim, so resuming it never re-prices."""
        data = dict(self.__dict__)
        for name in ("network_ids", "owning_authority_ids", "area_ids"):
            data[name] = list(data[name])
        data["shares_permille"] = [[network, share] for network, share in self.shares_permille]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PricedLine:
        values = dict(data)
        for name in ("network_ids", "owning_authority_ids", "area_ids"):
            values[name] = tuple(values[name])
        values["shares_permille"] = tuple((n, int(s)) for n, s in values["shares_permille"])
        return cls(**values)


def price_order(catalogue: Catalogue, network_authority: Mapping[str, str], body: Any) -> tuple[str, list[PricedLine], str]:
    """Check and price an order body against the catalogue (pure). Returns (channel, lines, token)."""
    if not isinstance(body, dict):
        raise InvalidOrder("the body must be a JSON object")
    channel = body.get("channel")
    if channel not in CHANNELS:
        raise InvalidOrder(f"channel must be one of {', '.join(CHANNELS)}", code="invalid_channel")
    payment = body.get("payment")
    token = payment.get("token") if isinstance(payment, dict) else None
    if not isinstance(token, str) or not token:
        raise InvalidOrder("payment.token is required", code="invalid_payment")
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_LINES:
        raise InvalidOrder(f"items must hold 1 to {MAX_LINES} lines")
    expected = body.get("expected_total_minor")
    if not isinstance(expected, int) or isinstance(expected, bool) or expected < 0:
        raise InvalidOrder("expected_total_minor (integer minor units) is required", code="invalid_price")
    lines: list[PricedLine] = []
    for line_no, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InvalidOrder(f"item {line_no} must be an object")
        product_id = item.get("fare_product_id")
        quantity = item.get("quantity", 1)
        if not isinstance(product_id, str):
            raise InvalidOrder(f"item {line_no}: fare_product_id is required")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidOrder(f"item {line_no}: quantity must be an integer from 1 to {MAX_QUANTITY}", code="invalid_quantity")
        rider = item.get("rider_category_id") or catalogue.default_rider_category_id
        media = item.get("fare_media_id")
        offer = catalogue.find_offer(product_id, rider, media)
        if offer is None:
            raise UnknownProduct(f"item {line_no}: no product '{product_id}' for rider category '{rider}' on media '{media}'")
        unit = item.get("unit_price_minor")
        if unit is not None and unit != offer.price_minor:
            raise PriceMismatch(f"item {line_no}: unit price is {offer.price_minor}, not {unit}")
        medium_serial = item.get("medium")
        media_id = media or offer.fare_media_id
        needs_medium = media_id in (MEDIA_KINDS["smartcard"][0], MEDIA_KINDS["wallet"][0])
        if needs_medium and not isinstance(medium_serial, str):
            raise InvalidOrder(f"item {line_no}: a product on '{media_id}' needs the serial of the medium ('medium')", code="medium_required")
        owners = []
        for network_id in offer.network_ids:
            owner = network_authority.get(network_id)
            if owner is None:
                raise InvalidOrder(f"item {line_no}: no authority owns network '{network_id}'", code="unowned_network")
            owners.append(owner)
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
        raise InvalidOrder("one order, one currency", code="mixed_currency")
    total = sum(line.amount_minor for line in lines)
    if expected != total:
        raise PriceMismatch(f"the total is {total} {currencies.pop()}, not {expected}")
    return channel, lines, token


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class OrderView:
    order_id: int
    status: str
    selling_authority_id: str
    sales_point_key_id: str
    channel: str
    total_minor: int
    currency: str
    refunded_minor: int
    created_at: datetime
    lines: tuple[dict[str, Any], ...]
    payments: tuple[dict[str, Any], ...]
    ledger: tuple[dict[str, Any], ...]
    refusal: dict[str, Any] | None = None  # why a paid order was refunded before fulfilment

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def get_order_view(conn: asyncpg.Connection | asyncpg.Pool, order_id: int) -> OrderView:
    """The order as the API shows it, read in one query."""
    record = await conn.fetchrow(Q.get_order_view, order_id)
    if record is None:
        raise UnknownOrder()
    return _order_view(record)


def _order_view(record: asyncpg.Record) -> OrderView:
    """An ``OrderView`` from a record of ``get_order_view`` (or of ``fulfil_paid_order``, which
    returns the same columns for the order it paid)."""
    return OrderView(
        order_id=record["order_id"],
        status=record["status"],
        selling_authority_id=record["selling_authority_id"],
        sales_point_key_id=record["sales_point_key_id"],
        channel=record["channel"],
        total_minor=record["total_minor"],
        currency=record["currency"],
        refunded_minor=record["refunded_minor"],
        created_at=record["created_at"],
        lines=tuple(record["lines"]),
        payments=tuple(record["payments"]),
        ledger=tuple(record["ledger"]),
        refusal=record["refusal"],
    )


def _medium_not_active(order_id: int, refusal: Mapping[str, Any]) -> MediumNotActive:
    """The same answer for the retry that refused the order and every later one."""
    return MediumNotActive(
        f"item {refusal['line_no']}: medium '{refusal['medium']}' is {refusal['medium_status']}; "
        "nothing was loaded and the payment was refunded",
        extra={"order_id": order_id, "medium": refusal["medium"], "medium_status": refusal["medium_status"]},
    )


async def _check_media(conn: asyncpg.Connection, lines: list[PricedLine]) -> None:
    for line in lines:
        if line.medium_serial is None:
            continue
        record = await conn.fetchrow(Q.get_medium, line.medium_serial)
        if record is None:
            raise UnknownMedium(f"item {line.line_no}: no medium '{line.medium_serial}'")
        if record["status"] != "active" or record["replaced_by"] is not None:
            raise InvalidOrder(f"item {line.line_no}: medium '{line.medium_serial}' is deny-listed", code="medium_denied")
        if record["fare_media_id"] != line.fare_media_id:
            raise InvalidOrder(f"item {line.line_no}: medium '{line.medium_serial}' is a {record['fare_media_id']}, not a {line.fare_media_id}", code="medium_mismatch")


async def sell(
    pool: asyncpg.Pool,
    catalogue: Catalogue,
    network_authority: Mapping[str, str],
    provider: PaymentProvider,
    *,
    sales_point_key_id: str,
    selling_authority_id: str,
    idempotency_key: str | None,
    body: Any,
    now: datetime,
) -> tuple[OrderView, bool]:
    """Sell once per idempotency key. Returns the order and whether this call created it."""
    if not idempotency_key or len(idempotency_key) > 200:
        raise InvalidOrder("the Idempotency-Key header (1 to 200 characters) is required", code="idempotency_key_required")
    digest = request_hash(body)
    created = False
    order_id = None
    existing = None
    try:
        channel, lines, token = price_order(catalogue, network_authority, body)
    except OuraError:
        # A retry of an order priced with an older catalogue must still find its order.
        async with pool.acquire() as conn:
            existing = await conn.fetchrow(Q.find_order_by_key, sales_point_key_id, idempotency_key)
        if existing is None:
            raise
    if existing is None:
        total, currency = sum(line.amount_minor for line in lines), lines[0].currency
        stored = {"token": token, "lines": [line.to_json() for line in lines]}
        async with pool.acquire() as conn:
            try:
                await _check_media(conn, lines)
            except OuraError:
                # A retry whose medium died while its payment was pending must resume its order
                # (to refund it), not be refused as a new sale would be.
                existing = await conn.fetchrow(Q.find_order_by_key, sales_point_key_id, idempotency_key)
                if existing is None:
                    raise
    if existing is None:
        async with pool.acquire() as conn:
            claim = await conn.fetchrow(  # one statement: the claim and its audit row together
                Q.insert_order_audited, sales_point_key_id, idempotency_key, digest, selling_authority_id, channel,
                total, currency, stored, now, {"total_minor": total, "currency": currency, "channel": channel},
            )
            if claim is not None:
                order_id, commission_permille = claim["order_id"], claim["commission_permille"]
                created = True
            else:  # the key was claimed before (a retry, or a concurrent request)
                existing = await conn.fetchrow(Q.find_order_by_key, sales_point_key_id, idempotency_key)
    if existing is not None:
        if existing["request_hash"] != digest:
            raise IdempotencyKeyReused()
        order_id = existing["order_id"]
        if existing["status"] != "pending":
            view = await get_order_view(pool, order_id)
            if view.status == "declined":
                raise PaymentDeclined(extra={"order_id": order_id})
            if view.refusal is not None:
                raise _medium_not_active(order_id, view.refusal)
            return view, False
        async with pool.acquire() as conn:  # resuming: the priced order comes from the claim
            order = await conn.fetchrow(Q.get_order, order_id)
            commission_permille = await conn.fetchval(Q.get_commission_permille, order["selling_authority_id"])
        stored, total, currency = order["request"], order["total_minor"], order["currency"]
        lines = [PricedLine.from_json(line) for line in stored["lines"]]

    charge = None
    if total > 0:
        try:
            charge = await provider.charge(amount_minor=total, currency=currency, token=stored["token"], idempotency_key=f"order-{order_id}")
        except PaymentUnavailable as error:
            async with pool.acquire() as conn:
                await audit(conn, "ticketing.order.payment_unknown", actor_key_id=sales_point_key_id, authority_id=selling_authority_id,
                            subject=f"order:{order_id}", data={"error": str(error)}, now=now)
            raise PaymentPending(extra={"order_id": order_id}) from error

    # The outcome, each in one statement (one implicit transaction, one round trip) that locks the
    # order row and writes only while it is pending: concurrent retries serialise on that lock.
    async with pool.acquire() as conn:
        if charge is not None and charge.status is ChargeStatus.DECLINED:
            await conn.fetchval(Q.decline_pending_order, order_id, now, sales_point_key_id,
                                {"provider": provider.name, "reference": charge.reference})
        else:
            outcome = await conn.fetchrow(Q.fulfil_paid_order, *_fulfilment_arguments(
                order_id, lines, charge, provider.name, currency, total, now, sales_point_key_id, selling_authority_id,
                network_authority, commission_permille or 0,
            ))
            if outcome["paid"]:
                return _order_view(outcome), created  # the statement returns what it wrote: no read back
            if outcome["dead_media"]:
                await _refuse_for_dead_medium(conn, provider, order_id, lines, charge, outcome["dead_media"][0],
                                              total, currency, now, sales_point_key_id, selling_authority_id)
        view = await get_order_view(conn, order_id)
    if view.status == "declined":
        raise PaymentDeclined(extra={"order_id": order_id})
    if view.refusal is not None:
        raise _medium_not_active(order_id, view.refusal)
    return view, created


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
    """Close a pending order whose card or wallet died before fulfilment: refund the charge, record
    charge and refund, keep the reason, write the audit row. One transaction holding the order's
    row lock, the provider called inside it (as `refund` does): a concurrent retry waits, then
    finds the order closed. A provider that does not answer leaves the order pending (503); the
    next retry refunds with the same key, so at most one refund is ever made. The medium cannot
    come back to life, so every retry reaches this same outcome."""
    line_no = next(line.line_no for line in lines if line.medium_serial == dead["serial"])
    medium_status = "replaced" if dead["replaced"] else dead["status"]
    refusal = {"code": MediumNotActive.code, "line_no": line_no, "medium": dead["serial"], "medium_status": medium_status}
    async with conn.transaction():
        order = await conn.fetchrow(Q.lock_order, order_id)
        if order["status"] != "pending":
            return
        refunded = None
        if charge is not None:
            try:
                refunded = await provider.refund(charge_reference=charge.reference, amount_minor=charge.amount_minor,
                                                 currency=currency, idempotency_key=f"refund-{order_id}")
            except PaymentUnavailable as error:
                raise PaymentPending(extra={"order_id": order_id}) from error
            await conn.execute(Q.insert_payment, order_id, "charge", provider.name, charge.reference, charge.amount_minor, currency, now)
            await conn.execute(Q.insert_payment, order_id, "refund", provider.name, refunded.reference, refunded.amount_minor, currency, now)
        await conn.fetchval(Q.refuse_pending_order, order_id, now, refunded.amount_minor if refunded else 0, refusal)
        await audit(conn, "ticketing.order.refused_medium_not_active", actor_key_id=sales_point_key_id,
                    authority_id=selling_authority_id, subject=f"order:{order_id}",
                    data={**refusal, "total_minor": total, "currency": currency,
                          "charge_reference": charge.reference if charge else None,
                          "refund_reference": refunded.reference if refunded else None}, now=now)


def _fulfilment_arguments(
    order_id: int,
    lines: list[PricedLine],
    charge: Any,
    provider_name: str,
    currency: str,
    total: int,
    now: datetime,
    sales_point_key_id: str,
    selling_authority_id: str,
    network_authority: Mapping[str, str],
    commission_permille: int,
) -> list[Any]:
    """The parameters of ``fulfil_paid_order``: one contract per unit, on the card or wallet the
    line names, or on a new paper ticket each; the ledger rows of every line (pure)."""
    rows = [
        row
        for line in lines
        for row in apportion_line(line_no=line.line_no, amount_minor=line.amount_minor,
                                  shares_permille=line.shares_permille, network_authority=network_authority,
                                  selling_authority_id=selling_authority_id, commission_permille=commission_permille)
    ]
    paper_serials: list[str] = []
    paper_media: list[str] = []
    contracts: list[tuple] = []
    for line in lines:
        for _ in range(line.quantity):
            serial = line.medium_serial
            if serial is None:
                serial = new_serial("paper")
                paper_serials.append(serial)
                paper_media.append(line.fare_media_id or "paper")
            contracts.append((serial, line.line_no, line.fare_product_id, line.rider_category_id, ",".join(line.network_ids),
                              ",".join(line.area_ids), line.duration_s, line.trips, line.transfer_window_s))
    return [
        order_id, now, sales_point_key_id, provider_name,
        charge.reference if charge else None, charge.amount_minor if charge else None, currency,
        [r.line_no for r in rows], [r.kind for r in rows], [r.collector_authority_id for r in rows],
        [r.beneficiary_authority_id for r in rows], [r.network_id for r in rows], [r.amount_minor for r in rows],
        {"total_minor": total, "currency": currency,
         "owning_networks": sorted({n for line in lines for n in line.network_ids}),
         "reference": charge.reference if charge else None},
        [l.line_no for l in lines], [l.fare_product_id for l in lines], [l.rider_category_id for l in lines],
        [l.fare_media_id for l in lines], [l.quantity for l in lines], [l.unit_price_minor for l in lines],
        [l.amount_minor for l in lines], [",".join(l.network_ids) for l in lines],
        [",".join(l.owning_authority_ids) for l in lines], [l.medium_serial for l in lines],
        selling_authority_id, paper_serials, paper_media,
        *[list(column) for column in zip(*contracts)],
        sorted({line.medium_serial for line in lines if line.medium_serial is not None}),
    ]


async def refund(
    pool: asyncpg.Pool,
    provider: PaymentProvider,
    *,
    order_id: int,
    actor_key_id: str,
    authority_id: str | None,
    now: datetime,
) -> OrderView:
    """Refund a whole paid order whose contracts were never used. Idempotent: a refunded order
    comes back as is. The provider is called inside the transaction that holds the order and
    contract locks (refunds are rare; this keeps "used meanwhile" impossible)."""
    async with pool.acquire() as conn, conn.transaction():
        order = await conn.fetchrow(Q.lock_order, order_id)
        if order is None or (authority_id is not None and order["selling_authority_id"] != authority_id):
            raise UnknownOrder()
        if order["status"] == "refunded":
            return await get_order_view(conn, order_id)
        if order["status"] != "paid":
            raise RefundNotAllowed(f"order {order_id} is {order['status']}")
        contracts = await conn.fetch(Q.lock_contracts_of_order, order_id)
        used = [c["contract_id"] for c in contracts if c["first_used_at"] is not None or c["status"] != "active"]
        if used:
            raise RefundNotAllowed(f"contracts {used} were used or moved")
        payments = await conn.fetch(Q.list_payments, order_id)
        charges = [p for p in payments if p["kind"] == "charge"]
        if charges:
            result = await provider.refund(charge_reference=charges[0]["provider_reference"], amount_minor=order["total_minor"],
                                           currency=order["currency"], idempotency_key=f"refund-{order_id}")
            await conn.execute(Q.insert_payment, order_id, "refund", provider.name, result.reference, order["total_minor"], order["currency"], now)
        await book(conn, order_id, order["currency"], negate(await list_order_rows(conn, order_id)), now)
        await conn.execute(Q.set_contracts_status, [c["contract_id"] for c in contracts], "refunded")
        await conn.execute(Q.set_order_status, order_id, "refunded", now, order["total_minor"])
        await audit(conn, "ticketing.order.refunded", actor_key_id=actor_key_id, authority_id=order["selling_authority_id"],
                    subject=f"order:{order_id}", data={"amount_minor": order["total_minor"], "currency": order["currency"]}, now=now)
        return await get_order_view(conn, order_id)
