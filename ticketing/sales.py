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
is then closed as *failed* (``failure_code`` ``medium_not_active``): the charge is refunded through
the provider (idempotent on ``refund-<id>``), the charge and the refund are recorded (money taken:
zero), no ledger row is booked (nothing was fulfilled), the reason is kept on the order
(``failure``) with an audit row ``ticketing.order.refused_medium_not_active``, and this retry and
every later one answer 409 ``medium_not_active``. This is what a fare-collection back office does
with a load for a hot-listed card: refuse the load, reverse the payment, never leave money taken
without a right.

A pending order whose client never comes back is closed by reconciliation (`reconcile_pending`)
once older than ``abandon_after_s``: under the order's row lock the provider is asked whether it
charged the key ``order-<id>`` (it never charges then); a charge is refunded (``refund-<id>``) and
both are recorded; the order becomes *failed* (``abandoned``), with no ledger row and no contract.
A retry after that answers 409 ``order_failed`` and is never charged. A retry whose charge was in
flight while reconciliation closed the order (the charge is made outside any lock) finds the order
failed after charging, and refunds that charge itself with the same key ``refund-<id>``: the
provider's idempotency makes it at most one refund, and the charge is recorded once. If that
refund does not answer (503), the next retry looks the charge up (never charging) and refunds it.

Refunds (`refund`) return unused contracts of a paid order, some or all: see its docstring.

The priced order is stored with the order (``request.lines``, and the seller's commission rate as
``request.commission_permille``), so resuming never re-prices with a catalogue or a commission rate
that changed in between. The client states the total it showed the rider
(``expected_total_minor``): a different catalogue total is a 409 ``price_mismatch``, which is
also what a tampered price gets.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from ticketing.clearing import apportion_line, apportion_refund, book
from oura.db.pool import DATABASE_UNAVAILABLE
from oura.errors import OuraError
from ticketing.errors import (
    EntitlementRequired,
    IdempotencyKeyReused,
    InvalidOrder,
    MediumNotActive,
    OrderFailed,
    PaymentDeclined,
    PaymentPending,
    PriceMismatch,
    RefundNotAllowed,
    UnknownMedium,
    UnknownOrder,
    UnknownProduct,
    UnregisteredAuthority,
)
from ticketing.media import MEDIA_KINDS, new_serial
from ticketing.payments import ChargeStatus, PaymentProvider, PaymentResult, PaymentUnavailable
from ticketing.products import Catalogue
from ticketing.repository import Q, audit

__all__ = [
    "CHANNELS",
    "OrderView",
    "PricedLine",
    "Reconciliation",
    "price_order",
    "sell",
    "refund",
    "parse_refund_body",
    "reconcile_pending",
    "get_order_view",
]

log = logging.getLogger(__name__)
CHANNELS = ("vending_machine", "desk", "web", "app")
MINOR_UNITS = "integer minor units of the currency: 1900 for 19.00 EUR"


def _is_int(value: Any) -> bool:
    """A JSON integer (not a boolean, which Python counts as one) that fits PostgreSQL's bigint."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
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
    if token is None:
        raise InvalidOrder("payment.token is required", code="invalid_payment")
    if not isinstance(token, str) or not token:
        raise InvalidOrder("payment.token must be a non-empty string", code="invalid_payment")
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_LINES:
        raise InvalidOrder(f"items must hold 1 to {MAX_LINES} lines")
    expected = body.get("expected_total_minor")
    if expected is None:
        raise InvalidOrder(f"expected_total_minor (the total shown to the rider, {MINOR_UNITS}) is required", code="invalid_price")
    if not _is_int(expected) or expected < 0:
        raise InvalidOrder(f"expected_total_minor must be an integer from 0 ({MINOR_UNITS})", code="invalid_price")
    lines: list[PricedLine] = []
    for line_no, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise InvalidOrder(f"item {line_no} must be an object")
        product_id = item.get("fare_product_id")
        quantity = item.get("quantity", 1)
        if product_id is None:
            raise InvalidOrder(f"item {line_no}: fare_product_id is required")
        for name in ("fare_product_id", "rider_category_id", "fare_media_id", "medium"):
            if item.get(name) is not None and not isinstance(item[name], str):
                raise InvalidOrder(f"item {line_no}: {name} must be a string")
        if not _is_int(quantity) or not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidOrder(f"item {line_no}: quantity must be an integer from 1 to {MAX_QUANTITY}", code="invalid_quantity")
        rider = item.get("rider_category_id") or catalogue.default_rider_category_id
        media = item.get("fare_media_id")
        offer = catalogue.find_offer(product_id, rider, media)
        if offer is None:
            raise UnknownProduct(f"item {line_no}: no product '{product_id}' for rider category '{rider}' on media '{media}'")
        unit = item.get("unit_price_minor")
        if unit is not None and not _is_int(unit):
            raise InvalidOrder(f"item {line_no}: unit_price_minor must be an integer ({MINOR_UNITS})", code="invalid_price")
        if unit is not None and unit != offer.price_minor:
            raise PriceMismatch(f"item {line_no}: unit_price_minor is {offer.price_minor} (minor units of {offer.currency}), not {unit}")
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
        raise PriceMismatch(f"expected_total_minor: the total is {total} (minor units of {currencies.pop()}), not {expected}")
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
    failure: dict[str, Any] | None = None  # a failed order's reason: {code, detail}

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
        failure=record["failure"],
    )


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
        record = await conn.fetchrow(Q.get_medium, line.medium_serial)
        if record is None:
            raise UnknownMedium(f"item {line.line_no}: no medium '{line.medium_serial}'")
        if record["status"] != "active" or record["replaced_by"] is not None:
            raise InvalidOrder(f"item {line.line_no}: medium '{line.medium_serial}' is deny-listed", code="medium_denied")
        if record["fare_media_id"] != line.fare_media_id:
            raise InvalidOrder(f"item {line.line_no}: medium '{line.medium_serial}' is a {record['fare_media_id']}, not a {line.fare_media_id}", code="medium_mismatch")


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
    if selling_authority_id not in network_authority.values():  # a key made for an authority the registry lacks
        raise UnregisteredAuthority(f"'{selling_authority_id}' owns no network of the registry: it cannot sell")
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
                await _check_entitlements(conn, lines, catalogue.default_rider_category_id, now)
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
            if view.status == "failed" and view.total_minor > 0 and not view.payments:
                view = await _refund_unrecorded_charge(pool, provider, view, now, sales_point_key_id)
            return _answer(view, False)
        async with pool.acquire() as conn:  # resuming: the priced order and its rate come from the claim
            order = await conn.fetchrow(Q.get_order, order_id)
            commission_permille = await _claimed_commission_permille(conn, order)
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
            elif charge is not None:  # closed meanwhile: paid by a concurrent retry, or failed
                await _refund_charge_of_failed_order(conn, provider, order_id, charge, now, sales_point_key_id)
        view = await get_order_view(conn, order_id)
    return _answer(view, created)


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
        order = await conn.fetchrow(Q.lock_order, order_id)
        if order["status"] != "pending":
            return
        refunded = None
        if charge is not None:
            try:
                refunded = await _reverse_charge(conn, provider, order_id, charge, now)
            except PaymentUnavailable as error:
                raise PaymentPending(extra={"order_id": order_id}) from error
        await conn.fetchval(Q.fail_pending_order, order_id, now, refunded.amount_minor if refunded else 0,
                            MediumNotActive.code, detail)
        await audit(conn, "ticketing.order.refused_medium_not_active", actor_key_id=sales_point_key_id,
                    authority_id=selling_authority_id, subject=f"order:{order_id}",
                    data={**detail, "total_minor": total, "currency": currency,
                          "charge_reference": charge.reference if charge else None,
                          "refund_reference": refunded.reference if refunded else None}, now=now)


async def _reverse_charge(
    conn: asyncpg.Connection, provider: PaymentProvider, order_id: int, charge: PaymentResult, now: datetime
) -> PaymentResult:
    """Refund an order's whole charge and record the charge and the refund, in the caller's
    transaction (which holds the order's row lock). The key ``refund-<id>`` is the one every path
    that returns an order's charge uses, so the provider makes at most one such refund. Raises
    PaymentUnavailable when the provider does not answer (nothing is recorded then)."""
    refunded = await provider.refund(charge_reference=charge.reference, amount_minor=charge.amount_minor,
                                     currency=charge.currency, idempotency_key=f"refund-{order_id}")
    await conn.execute(Q.insert_payment, order_id, "charge", provider.name, charge.reference, charge.amount_minor,
                       charge.currency, now)
    await conn.execute(Q.insert_payment, order_id, "refund", provider.name, refunded.reference, refunded.amount_minor,
                       charge.currency, now)
    return refunded


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
        order = await conn.fetchrow(Q.lock_order, order_id)
        payments = await conn.fetch(Q.list_payments, order_id)
        if order["status"] != "failed" or any(p["provider_reference"] == charge.reference for p in payments):
            return
        try:
            refunded = await _reverse_charge(conn, provider, order_id, charge, now)
        except PaymentUnavailable as error:
            raise PaymentPending(extra={"order_id": order_id}) from error
        await conn.execute(Q.add_refunded_minor, order_id, now, refunded.amount_minor)
        await audit(conn, "ticketing.order.late_charge_refunded", actor_key_id=actor_key_id,
                    authority_id=order["selling_authority_id"], subject=f"order:{order_id}",
                    data={"failure_code": order["failure_code"], "amount_minor": charge.amount_minor,
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


async def _claimed_commission_permille(conn: asyncpg.Connection, order: asyncpg.Record) -> int:
    """The seller's commission rate stored with the order's claim (a later rate change never
    applies to it); for an order claimed before rates were stored, the seller's current rate."""
    commission_permille = order["request"].get("commission_permille")
    if commission_permille is None:
        commission_permille = await conn.fetchval(Q.get_commission_permille, order["selling_authority_id"])
    return commission_permille or 0


REFUNDABLE = ("paid", "partially_refunded", "refunded")
MAX_REFUND_CONTRACTS = MAX_LINES * MAX_QUANTITY  # every contract an order can have


def parse_refund_body(body: Any) -> list[int] | None:
    """The contracts a refund names (``{"contract_ids": [...]}``); None (no body, or no
    ``contract_ids``) asks for every contract of the order not refunded yet."""
    if body is None:
        return None
    if not isinstance(body, dict):
        raise InvalidOrder("the body must be a JSON object", code="invalid_refund")
    contract_ids = body.get("contract_ids")
    if contract_ids is None:
        return None
    if (not isinstance(contract_ids, list) or not 1 <= len(contract_ids) <= MAX_REFUND_CONTRACTS
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in contract_ids)):
        raise InvalidOrder(f"contract_ids must be a list of 1 to {MAX_REFUND_CONTRACTS} contract ids", code="invalid_refund")
    return list(dict.fromkeys(contract_ids))


async def refund(
    pool: asyncpg.Pool,
    provider: PaymentProvider,
    *,
    order_id: int,
    actor_key_id: str,
    authority_id: str | None,
    now: datetime,
    contract_ids: list[int] | None = None,
) -> OrderView:
    """Refund contracts of a paid order that were never used: those ``contract_ids`` names, or
    (None) every contract not refunded yet, which is the whole order the first time. Only active,
    never-used contracts can be refunded; one that is not makes the whole request a 409 naming
    it. Idempotent: contracts already refunded are not refunded again, so repeating a refund
    (the same ids, or a whole refund) returns the order unchanged. The provider is called inside
    the transaction that holds the order and contract locks (refunds are rare; this keeps "used
    meanwhile" impossible)."""
    async with pool.acquire() as conn, conn.transaction():
        order = await conn.fetchrow(Q.lock_order, order_id)
        if order is None or (authority_id is not None and order["selling_authority_id"] != authority_id):
            raise UnknownOrder()
        if order["status"] not in REFUNDABLE:
            raise RefundNotAllowed(f"order {order_id} is {order['status']}")
        contracts = await conn.fetch(Q.lock_contracts_of_order, order_id)
        chosen = _contracts_to_refund(order_id, contracts, contract_ids)
        if chosen:
            await _refund_contracts(conn, provider, order, contracts, chosen, actor_key_id, now)
        return await get_order_view(conn, order_id)


def _contracts_to_refund(order_id: int, contracts: list[asyncpg.Record], contract_ids: list[int] | None) -> list[asyncpg.Record]:
    """The contracts a refund request returns: none when every one it names is refunded already
    (a repeated request); else every one must be an active, never-used contract of the order."""
    by_id = {c["contract_id"]: c for c in contracts}
    if contract_ids is None:
        wanted = [c for c in contracts if c["status"] != "refunded"]
    else:
        strangers = [i for i in contract_ids if i not in by_id]
        if strangers:
            raise RefundNotAllowed(f"contracts {strangers} are not contracts of order {order_id}",
                                   extra={"order_id": order_id, "contract_ids": strangers})
        wanted = [by_id[i] for i in contract_ids]
        if all(c["status"] == "refunded" for c in wanted):
            return []
    refused = [c["contract_id"] for c in wanted if c["status"] != "active" or c["first_used_at"] is not None]
    if refused:
        raise RefundNotAllowed(f"contracts {refused} were used, moved or refunded",
                               extra={"order_id": order_id, "contract_ids": refused})
    return wanted


async def _refund_contracts(
    conn: asyncpg.Connection,
    provider: PaymentProvider,
    order: asyncpg.Record,
    contracts: list[asyncpg.Record],
    chosen: list[asyncpg.Record],
    actor_key_id: str,
    now: datetime,
) -> None:
    """Refund ``chosen`` (locked, active, never-used contracts of the locked ``order``): one
    provider refund of the unit prices of their lines (key ``refund-<id>-<n>``, the order's n-th
    refund, so a retry after a provider timeout reuses it), the ledger rows apportioned with each
    line's clearing key, owners and the commission rate of the sale (so the order's ledger still
    sums to the money taken), the contracts and the order's status, the audit row."""
    order_id, currency = order["order_id"], order["currency"]
    lines = {line["line_no"]: PricedLine.from_json(line) for line in order["request"]["lines"]}
    commission_permille = await _claimed_commission_permille(conn, order)
    refunded_before = Counter(c["line_no"] for c in contracts if c["status"] == "refunded")
    refunding = Counter(c["line_no"] for c in chosen)
    rows = [
        row
        for line_no, count in sorted(refunding.items())
        for row in apportion_refund(
            line_no=line_no, amount_minor=lines[line_no].unit_price_minor * count,
            refunded_before_minor=lines[line_no].unit_price_minor * refunded_before[line_no],
            shares_permille=lines[line_no].shares_permille,
            network_authority=dict(zip(lines[line_no].network_ids, lines[line_no].owning_authority_ids)),
            selling_authority_id=order["selling_authority_id"], commission_permille=commission_permille)
    ]
    amount = sum(lines[line_no].unit_price_minor * count for line_no, count in refunding.items())
    payments = await conn.fetch(Q.list_payments, order_id)
    charge = next((p for p in payments if p["kind"] == "charge"), None)
    refund_no = sum(p["kind"] == "refund" for p in payments) + 1
    if charge is not None and amount > 0:
        try:
            result = await provider.refund(charge_reference=charge["provider_reference"], amount_minor=amount,
                                           currency=currency, idempotency_key=f"refund-{order_id}-{refund_no}")
        except PaymentUnavailable as error:
            raise PaymentPending(extra={"order_id": order_id}) from error
        await conn.execute(Q.insert_payment, order_id, "refund", provider.name, result.reference, amount, currency, now)
    await book(conn, order_id, currency, rows, now)
    await conn.execute(Q.set_contracts_status, [c["contract_id"] for c in chosen], "refunded")
    refunded_minor = order["refunded_minor"] + amount
    status = "refunded" if refunded_minor >= order["total_minor"] else "partially_refunded"
    await conn.execute(Q.set_order_status, order_id, status, now, refunded_minor)
    await audit(conn, "ticketing.order.refunded", actor_key_id=actor_key_id, authority_id=order["selling_authority_id"],
                subject=f"order:{order_id}",
                data={"amount_minor": amount, "currency": currency, "contract_ids": [c["contract_id"] for c in chosen],
                      "refund_no": refund_no, "status": status}, now=now)


ABANDONED = "abandoned"  # the failure_code of an order reconciliation closed
DEFAULT_ABANDON_AFTER_S = 900


@dataclass(frozen=True)
class Reconciliation:
    """What one reconciliation run did."""

    abandoned: int  # pending orders closed as failed
    refunded: int  # of those, the ones the provider had charged: the charge was refunded
    unanswered: int  # left pending because the provider did not answer; the next run retries them
    failed: int = 0  # left pending because closing them raised an error (logged); the next run retries them
    failures: tuple[dict[str, Any], ...] = ()  # one {order_id, error, detail} per failed order


async def reconcile_pending(
    pool: asyncpg.Pool, provider: PaymentProvider, now: datetime, abandon_after_s: float = DEFAULT_ABANDON_AFTER_S
) -> Reconciliation:
    """Close every order still pending ``abandon_after_s`` after its claim: its client never came
    back (see the module docstring). Each order in its own transaction holding its row lock, the
    provider asked inside it: a retry finishing the order at the same time either commits first
    (the order is paid or declined: left alone) or waits and then finds the order failed.

    One bad order never aborts the pass: an order whose closing raises is rolled back (it stays
    pending), logged and reported in ``failures``, and the pass goes on with the next one. Only a
    database that cannot be reached stops the pass (every other order would fail the same way)."""
    cutoff = now - timedelta(seconds=abandon_after_s)
    async with pool.acquire() as conn:
        order_ids = [r["order_id"] for r in await conn.fetch(Q.list_abandoned_orders, cutoff)]
    abandoned = refunded = unanswered = 0
    failures: list[dict[str, Any]] = []
    for order_id in order_ids:
        try:
            charged = await _abandon_order(pool, provider, order_id, cutoff, now, abandon_after_s)
        except PaymentUnavailable:
            unanswered += 1
            continue
        except DATABASE_UNAVAILABLE:
            raise
        except Exception as error:  # noqa: BLE001 - one order's failure is reported, not fatal to the pass
            log.exception("reconciling order %s failed; it stays pending", order_id)
            failures.append({"order_id": order_id, "error": type(error).__name__, "detail": str(error)[:200]})
            continue
        if charged is not None:
            abandoned += 1
            refunded += charged
    return Reconciliation(abandoned, refunded, unanswered, len(failures), tuple(failures))


async def _abandon_order(
    pool: asyncpg.Pool, provider: PaymentProvider, order_id: int, cutoff: datetime, now: datetime, abandon_after_s: float
) -> bool | None:
    """Close one abandoned order as failed: refund the charge the provider made for it, if any,
    and record both; no ledger row, no contract. Returns whether there was a charge; None when
    the order is no longer pending (finished meanwhile). A provider that does not answer rolls
    everything back (PaymentUnavailable): the order stays pending for the next run."""
    async with pool.acquire() as conn, conn.transaction():
        order = await conn.fetchrow(Q.lock_order, order_id)
        if order["status"] != "pending" or order["created_at"] >= cutoff:
            return None
        charge = await provider.find_charge(f"order-{order_id}")
        refunded = None
        if charge is not None and charge.status is ChargeStatus.APPROVED:
            refunded = await _reverse_charge(conn, provider, order_id, charge, now)
        detail = {"abandon_after_s": abandon_after_s, "charge_reference": charge.reference if refunded else None,
                  "refund_reference": refunded.reference if refunded else None}
        await conn.fetchval(Q.fail_pending_order, order_id, now, refunded.amount_minor if refunded else 0, ABANDONED, detail)
        await audit(conn, "ticketing.order.abandoned", actor_key_id=None, authority_id=order["selling_authority_id"],
                    subject=f"order:{order_id}",
                    data={**detail, "total_minor": order["total_minor"], "currency": order["currency"]}, now=now)
        return refunded is not None
