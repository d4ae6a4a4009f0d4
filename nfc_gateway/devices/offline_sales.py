"""Offline sales of vending machines: uploaded later, each made an order exactly once, within the
machine's offline credit.

A vending machine numbers its sales itself (``sequence``: 1, 2, 3, ... from its registration) and
uploads them whenever it can, as many times as it likes: ``POST /v1/devices/{id}/offline-sales``.
Each sale becomes an order through `ticketing.selling.sell` (so it is priced, booked in the clearing
and shared between authorities like any sale), with

- the machine's key as the sales point and its authority as the seller, channel ``vending_machine``;
- the idempotency key ``device-<id>-sale-<sequence>``: a second upload, or a concurrent one, finds
  the same order and the answer says ``replayed``; the same sequence with another sale (another
  body) is refused ``sequence_reused`` and changes nothing;
- the time of the order is ``sold_at`` (the clearing period and the ticket's validity follow it),
  refused when older than ``max_sale_age_s`` (``sale_too_old``), later than the server's clock plus
  ``max_clock_ahead_s`` (``sold_in_future``), or before the machine was registered
  (``sold_before_registration``); "now" is the injected clock;
- the payment as the machine took it (cash in its box, or a card it charged offline): a tender that
  the server records and never charges (`OfflineTender`), whose amount must be the catalogue's
  total (``price_mismatch``).

The offline credit. A sale sold inside an *offline window* (a silence of the machine longer than
the contact gap, from its last online contact, or its registration, to the contact that ended it:
`nfc_gateway.devices.registry`) counts against the machine's ``offline_credit_limit_minor`` for that
window. The sales of a window are counted in the order the server receives them (within an upload,
by sequence); one that would take the window's total beyond the limit is refused
``offline_credit_exceeded`` (the sales after it may still fit). A sale refused for another reason
uses no credit. Sales sold while the machine kept contacting the server (no window) are not
counted: the machine was online, and its status shows the sales it holds back
(``awaiting_upload``, from the heartbeat's ``last_sequence``).

Every outcome is stored once per (device, sequence): a replay gives the same answer, and the gaps
in a machine's sequences are visible in its status (a machine that lost sales shows). Two steps:
first, under the device's row lock, the new sales are decided (time, price, credit) and stored as
accepted or refused; then each accepted one is sold. A crash between the two leaves accepted sales,
which the next upload sells (selling is idempotent on the key).

Known limits: the server prices with its current catalogue, so a sale made offline at a price that
changed since is refused ``price_mismatch``; a sale whose order reconciliation closes as abandoned
between its claim and its fulfilment (a crash there, on an order dated days ago) is refused
``order_failed`` although the machine took the money.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from nfc_gateway.devices.registry import DeviceKind, DeviceSettings, lock_own_device, record_contact
from nfc_gateway.devices.repository import Q, DeviceRow
from nfc_gateway.errors import InvalidOfflineSales, NotAVendingMachine
from oura.auth import Principal
from oura.errors import BadRequest, OuraError
from ticketing.payments import ChargeStatus, PaymentResult, derive_reference
from ticketing.products import Catalogue
from ticketing.requests import SaleRequest, parse_sale_request, request_hash
from ticketing.selling import price_order, sell

__all__ = [
    "MAX_SALES_PER_UPLOAD",
    "PAYMENT_METHODS",
    "OfflineSale",
    "OfflineTender",
    "Refusal",
    "SaleOutcome",
    "UploadResult",
    "decide_new_sales",
    "parse_offline_sales",
    "upload_offline_sales",
]

MAX_SALES_PER_UPLOAD = 500
PAYMENT_METHODS = ("cash", "card")
MAX_MINOR = 2**63 - 1


class Refusal(enum.StrEnum):
    """Why the server refused an offline sale, besides the codes ticketing's sale refuses with
    (``unknown_product``, ``price_mismatch``, ``medium_denied``, ...), which are passed through."""

    SALE_TOO_OLD = "sale_too_old"
    SOLD_IN_FUTURE = "sold_in_future"
    SOLD_BEFORE_REGISTRATION = "sold_before_registration"
    SOLD_AT_OUT_OF_RANGE = "sold_at_out_of_range"
    OFFLINE_CREDIT_EXCEEDED = "offline_credit_exceeded"
    SEQUENCE_REUSED = "sequence_reused"


@dataclass(frozen=True)
class OfflineSale:
    """One sale as the machine sent it: ``body`` (stored, and hashed to recognise a replay),
    ``sold_at`` in UTC (None: a time Python cannot hold in UTC, refused), its lines as ticketing's
    sale lines and the payment it took."""

    sequence: int
    sold_at: datetime | None
    lines: tuple[Any, ...]
    payment_method: str
    amount_minor: int
    body: Mapping[str, Any]
    request_hash: str

    def sale_request(self, device_id: int) -> SaleRequest:
        """The sale as ticketing sells it (the idempotency key is the device and the sequence)."""
        body = {"channel": "vending_machine", "payment": {"token": f"offline-{self.payment_method}"},
                "items": list(self.lines), "expected_total_minor": self.amount_minor}
        return parse_sale_request(body, f"device-{device_id}-sale-{self.sequence}")


@dataclass(frozen=True)
class OfflineTender:
    """The payment of an offline sale: the machine already took it (cash, or a card it charged
    offline); the server only records it. Charging returns the tender (a reference derived from
    the order's key: the same for every retry); a lookup finds nothing, since the server never
    charged anything."""

    method: str
    amount_minor: int

    @property
    def name(self) -> str:
        return f"offline_{self.method}"

    async def charge(self, *, amount_minor: int, currency: str, token: str, idempotency_key: str) -> PaymentResult:
        return PaymentResult(ChargeStatus.APPROVED, derive_reference(self.method, idempotency_key), amount_minor, currency)

    async def refund(self, *, charge_reference: str, amount_minor: int, currency: str, idempotency_key: str) -> PaymentResult:
        return PaymentResult(ChargeStatus.APPROVED, derive_reference(f"{self.method}_re", idempotency_key), amount_minor,
                             currency)

    async def find_charge(self, idempotency_key: str) -> PaymentResult | None:
        return None


@dataclass(frozen=True)
class SaleOutcome:
    """What the server answers for one sale of an upload."""

    sequence: int
    status: str  # sold | refused | in_progress
    replayed: bool  # received before (by an earlier or concurrent upload, or earlier in this one)
    order_id: int | None
    amount_minor: int
    refusal_code: str | None = None
    refusal_detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        refusal = None if self.refusal_code is None else {"code": self.refusal_code, "detail": self.refusal_detail or ""}
        return {"sequence": self.sequence, "status": self.status, "replayed": self.replayed, "order_id": self.order_id,
                "amount_minor": self.amount_minor, "refusal": refusal}


@dataclass(frozen=True)
class UploadResult:
    device_id: int
    outcomes: tuple[SaleOutcome, ...]

    def to_json(self) -> dict[str, Any]:
        count = lambda status: sum(1 for o in self.outcomes if o.status == status)  # noqa: E731
        return {"device_id": self.device_id, "received": len(self.outcomes),
                "sold": count("sold"), "refused": count("refused"), "in_progress": count("in_progress"),
                "replayed": sum(1 for o in self.outcomes if o.replayed),
                "sales": [o.to_json() for o in self.outcomes]}


# --- parsing (shape only; prices, media and products are checked when the sale is decided) --------

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_time(text: Any, where: str) -> datetime | None:
    """An ISO 8601 date-time with an offset -> UTC; None when it is valid but beyond what a UTC
    datetime holds (year 1 at +23:59, say)."""
    if not isinstance(text, str) or len(text) > 64:
        raise InvalidOfflineSales(f"{where}.sold_at must be an ISO 8601 date-time with its offset")
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        raise InvalidOfflineSales(f"{where}.sold_at must be an ISO 8601 date-time with its offset, got {text[:40]!r}") from None
    if moment.tzinfo is None:
        raise InvalidOfflineSales(f"{where}.sold_at must carry its UTC offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def parse_offline_sale(raw: Any, where: str = "sale") -> OfflineSale:
    if not isinstance(raw, dict):
        raise InvalidOfflineSales(f"{where} must be an object")
    sequence = raw.get("sequence")
    if not _is_int(sequence) or not 1 <= sequence <= MAX_MINOR:
        raise InvalidOfflineSales(f"{where}.sequence must be an integer from 1 (the machine's own numbering)")
    sold_at = _parse_time(raw.get("sold_at"), where)
    payment = raw.get("payment")
    if not isinstance(payment, dict):
        raise InvalidOfflineSales(f"{where}.payment must be an object {{method, amount_minor}}")
    method, amount = payment.get("method"), payment.get("amount_minor")
    if method not in PAYMENT_METHODS:
        raise InvalidOfflineSales(f"{where}.payment.method must be one of {', '.join(PAYMENT_METHODS)}")
    if not _is_int(amount) or not 0 <= amount <= MAX_MINOR:
        raise InvalidOfflineSales(f"{where}.payment.amount_minor must be an integer from 0 (minor units)")
    lines = raw.get("lines")
    if not isinstance(lines, list):
        raise InvalidOfflineSales(f"{where}.lines must be a list of sale lines")
    sale = OfflineSale(sequence, sold_at, tuple(lines), method, amount, raw, request_hash(raw))
    try:  # the lines' shape, as a sale request checks it (same rules, same messages)
        sale.sale_request(0)
    except BadRequest as error:
        raise InvalidOfflineSales(f"{where}.lines (a sale request's items): {error.detail}") from None
    return sale


def parse_offline_sales(body: Any) -> list[OfflineSale]:
    """The sales of an upload body ``{"sales": [...]}``, or the 400 of its first problem."""
    if not isinstance(body, dict) or not isinstance(body.get("sales"), list):
        raise InvalidOfflineSales("the body must be an object with a list 'sales'")
    sales = body["sales"]
    if not 1 <= len(sales) <= MAX_SALES_PER_UPLOAD:
        raise InvalidOfflineSales(f"an upload holds 1 to {MAX_SALES_PER_UPLOAD} sales")
    return [parse_offline_sale(raw, f"sales[{i}]") for i, raw in enumerate(sales)]


# --- deciding the new sales of an upload (pure) -------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """The first decision on a new sale: accepted (counted in ``window_from``, None: sold online)
    or refused with a code."""

    sale: OfflineSale
    window_from: datetime | None
    refusal_code: str | None = None
    refusal_detail: str | None = None


def _window_of(sold_at: datetime, windows: Sequence[tuple[datetime, datetime]]) -> tuple[datetime, datetime] | None:
    for offline_from, online_again_at in windows:
        if offline_from < sold_at <= online_again_at:
            return offline_from, online_again_at
    return None


def decide_new_sales(
    sales: Sequence[OfflineSale],
    *,
    device: DeviceRow,
    windows: Sequence[tuple[datetime, datetime]],
    credit_used: Mapping[datetime, int],
    catalogue: Catalogue,
    network_authority: Mapping[str, str],
    now: datetime,
    settings: DeviceSettings,
) -> list[Decision]:
    """Decide sales the server has not received yet, in sequence order: time, price, then the
    offline credit of their window (``credit_used``: what each window used before this upload)."""
    used = dict(credit_used)
    limit = device.offline_credit_limit_minor or 0
    decisions = []
    for sale in sorted(sales, key=lambda s: s.sequence):
        def refuse(code: str, detail: str) -> None:
            decisions.append(Decision(sale, None, code, detail))  # noqa: B023 - called at once

        if sale.sold_at is None:
            refuse(Refusal.SOLD_AT_OUT_OF_RANGE, "sold_at is beyond the times the server can hold")
            continue
        if sale.sold_at > now + timedelta(seconds=settings.max_clock_ahead_s):
            refuse(Refusal.SOLD_IN_FUTURE, f"sold_at {sale.sold_at.isoformat()} is ahead of the server's clock "
                                           f"({now.isoformat()}) by more than {settings.max_clock_ahead_s:.0f} s")
            continue
        if sale.sold_at < device.created_at:
            refuse(Refusal.SOLD_BEFORE_REGISTRATION, f"sold_at {sale.sold_at.isoformat()} is before the machine was "
                                                     f"registered ({device.created_at.isoformat()})")
            continue
        if sale.sold_at < now - timedelta(seconds=settings.max_sale_age_s):
            refuse(Refusal.SALE_TOO_OLD, f"sold_at {sale.sold_at.isoformat()} is more than "
                                         f"{settings.max_sale_age_s:.0f} s before the server's clock")
            continue
        try:
            price_order(catalogue, network_authority, sale.sale_request(device.device_id))
        except OuraError as error:
            if error.status >= 500:
                raise
            refuse(error.code, error.detail)
            continue
        window = _window_of(sale.sold_at, windows)
        if window is not None:
            offline_from, online_again_at = window
            before = used.get(offline_from, 0)
            if before + sale.amount_minor > limit:
                refuse(Refusal.OFFLINE_CREDIT_EXCEEDED,
                       f"offline from {offline_from.isoformat()} to {online_again_at.isoformat()}: {before} of the "
                       f"machine's {limit} minor units were sold already, {sale.amount_minor} more exceed its credit")
                continue
            used[offline_from] = before + sale.amount_minor
        decisions.append(Decision(sale, window[0] if window else None))
    return decisions


# --- the upload ---------------------------------------------------------------------------------

def _stored_row(decision: Decision) -> dict[str, Any]:
    sale = decision.sale
    return {"sequence": sale.sequence, "request_hash": sale.request_hash, "sale": sale.body,
            "sold_at": sale.sold_at.isoformat(), "amount_minor": sale.amount_minor,
            "payment_method": sale.payment_method,
            "window_from": decision.window_from.isoformat() if decision.window_from else None,
            "status": "refused" if decision.refusal_code else "accepted",
            "refusal_code": decision.refusal_code, "refusal_detail": decision.refusal_detail}


async def _decide_and_store(
    pool: asyncpg.Pool, principal: Principal, device_id: int, sales: Sequence[OfflineSale], *,
    catalogue: Catalogue, network_authority: Mapping[str, str], now: datetime, settings: DeviceSettings,
) -> tuple[DeviceRow, dict[int, str], list[OfflineSale]]:
    """Step one, under the device's row lock: record the contact, decide the sales not received
    yet and store every one of them. Returns the device, the hash each sequence was first received
    with before this upload, and the sales refused here without being stored (out-of-range times)."""
    firsts: dict[int, OfflineSale] = {}
    for sale in sales:
        firsts.setdefault(sale.sequence, sale)
    async with pool.acquire() as conn, conn.transaction():
        device = await lock_own_device(conn, device_id, principal)
        if device.kind != DeviceKind.VENDING_MACHINE:
            raise NotAVendingMachine()
        await record_contact(conn, device, now, settings)
        known = {r["sequence"]: r["request_hash"]
                 for r in await conn.fetch(Q.list_offline_sales, device_id, list(firsts))}
        new = [sale for seq, sale in firsts.items() if seq not in known]
        unstorable = [sale for sale in new if sale.sold_at is None]
        timed = [sale for sale in new if sale.sold_at is not None]
        windows: list[tuple[datetime, datetime]] = []
        used: dict[datetime, int] = {}
        if timed:
            earliest, latest = min(s.sold_at for s in timed), max(s.sold_at for s in timed)
            windows = [(r["offline_from"], r["online_again_at"])
                       for r in await conn.fetch(Q.list_offline_windows, device_id, earliest, latest)]
            if windows:
                used = {r["window_from"]: r["used_minor"]
                        for r in await conn.fetch(Q.list_window_credit, device_id, [w[0] for w in windows])}
        decisions = decide_new_sales(timed, device=device, windows=windows, credit_used=used, catalogue=catalogue,
                                     network_authority=network_authority, now=now, settings=settings)
        if decisions:
            await conn.execute(Q.insert_offline_sales, device_id, now, [_stored_row(d) for d in decisions])
    return device, known, unstorable


async def _sell_accepted(
    pool: asyncpg.Pool, device: DeviceRow, sequences: Sequence[int], *, catalogue: Catalogue,
    network_authority: Mapping[str, str], now: datetime,
) -> None:
    """Step two: make the order of every accepted sale among ``sequences`` (this upload's, and
    those an interrupted upload left), each through ticketing's idempotent sale, dated at its
    ``sold_at``. A sale ticketing refuses (4xx) is refused with its code; a 5xx (the database,
    say) stops the upload, and its sales stay accepted for the next one."""
    rows = await pool.fetch(Q.list_accepted_sales, device.device_id, list(sequences))
    for row in rows:
        sale = parse_offline_sale(row["sale"])
        tender = OfflineTender(sale.payment_method, sale.amount_minor)
        try:
            order, _created = await sell(pool, catalogue, network_authority, tender, sales_point_key_id=device.key_id,
                                         selling_authority_id=device.authority_id,
                                         request=sale.sale_request(device.device_id), now=sale.sold_at)
        except OuraError as error:
            if error.status >= 500:
                raise
            await pool.execute(Q.mark_sale_refused, device.device_id, sale.sequence, error.code, error.detail, now)
            continue
        await pool.execute(Q.mark_sale_sold, device.device_id, sale.sequence, order.order_id, now)


async def upload_offline_sales(
    pool: asyncpg.Pool,
    principal: Principal,
    device_id: int,
    sales: Sequence[OfflineSale],
    *,
    catalogue: Catalogue,
    network_authority: Mapping[str, str],
    now: datetime,
    settings: DeviceSettings,
) -> UploadResult:
    """Upload a machine's offline sales (idempotent on device and sequence): one outcome per sale
    sent, in the order sent."""
    device, known, unstorable = await _decide_and_store(
        pool, principal, device_id, sales, catalogue=catalogue, network_authority=network_authority, now=now,
        settings=settings)
    sequences = sorted({sale.sequence for sale in sales})
    await _sell_accepted(pool, device, sequences, catalogue=catalogue, network_authority=network_authority, now=now)
    stored = {r["sequence"]: r for r in await pool.fetch(Q.list_offline_sales, device_id, sequences)}
    out_of_range = {sale.sequence for sale in unstorable}
    outcomes: list[SaleOutcome] = []
    seen: set[int] = set()
    for sale in sales:
        replayed = sale.sequence in known or sale.sequence in seen
        seen.add(sale.sequence)
        row = stored.get(sale.sequence)
        if row is not None and row["request_hash"] != sale.request_hash:
            outcomes.append(SaleOutcome(sale.sequence, "refused", False, None, sale.amount_minor,
                                        Refusal.SEQUENCE_REUSED,
                                        f"sequence {sale.sequence} was received before with another sale; "
                                        "that sale stands"))
            continue
        if row is None:  # refused without being stored (its time is out of range), the same every time
            assert sale.sequence in out_of_range
            outcomes.append(SaleOutcome(sale.sequence, "refused", replayed, None, sale.amount_minor,
                                        Refusal.SOLD_AT_OUT_OF_RANGE, "sold_at is beyond the times the server can hold"))
            continue
        status = {"accepted": "in_progress"}.get(row["status"], row["status"])
        outcomes.append(SaleOutcome(sale.sequence, status, replayed, row["order_id"], row["amount_minor"],
                                    row["refusal_code"], row["refusal_detail"]))
    return UploadResult(device_id, tuple(outcomes))
