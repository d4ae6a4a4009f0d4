"""Clearing: who owes whom for the tickets the region's authorities sell for each other.

The ledger is append-only (a trigger refuses updates and deletes). Each paid order line books
rows that say who *collected* the money (the selling authority) and whom it belongs to (the
*beneficiary*):

- the line's amount is split between its networks by the product's clearing key
  (``shares_permille``; single-network products: 1000 to their network), in integer minor units,
  the remainder of the division going to the largest shares first so nothing is lost;
- each network's part goes to the authority owning the network; when that is not the seller,
  the seller keeps a commission (``commission_permille`` of the part, a row per selling authority
  in ``ticketing_commission_rates``, default ``'*'``), booked as its own row;
- a refund of some units of a line books minus the apportionment of their price, with the
  line's clearing key, owners and the commission rate of the sale (`apportion_refund`); a line
  refunded whole, at once or in parts, ends at the exact negation of its sale's rows.

So the ledger always sums to the money taken (charges minus refunds), per currency; the clearing
report checks it and says so. The balance between two authorities is what each collected on
behalf of the other, netted.

An authority's report is about that authority only, and consistent with itself: its
``ledger_total_minor`` is what the rows it *collected* sum to, its ``money_taken_minor`` what the
payment provider took and gave back for its sales points' orders (read from the payments, not from
the ledger), and ``is_balanced`` compares those two. The region's totals are never in it (they would
reveal the other authorities' takings), and neither is their verdict: a booking missing from another
authority's sales never makes this one's report say it is unbalanced, nor does the region being
balanced hide that one of this authority's sales was not booked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from ticketing.errors import UnownedNetwork
from ticketing.products import DEFAULT_TIMEZONE
from ticketing.repository import Q, columns_of

__all__ = ["LedgerRow", "apportion_line", "apportion_refund", "negate", "parse_period", "get_clearing_report", "ClearingReport"]


@dataclass(frozen=True)
class LedgerRow:
    line_no: int
    kind: str  # "revenue" | "commission"
    collector_authority_id: str
    beneficiary_authority_id: str
    network_id: str | None
    amount_minor: int


def split_by_shares(amount_minor: int, shares_permille: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """Integer split of ``amount_minor`` by permille keys; the parts sum exactly to the amount."""
    if not shares_permille:
        raise ValueError("a product without networks cannot be cleared")
    parts = [(network, amount_minor * share // 1000) for network, share in shares_permille]
    remainder = amount_minor - sum(p for _, p in parts)
    order = sorted(range(len(parts)), key=lambda i: (-shares_permille[i][1], shares_permille[i][0]))
    parts = list(parts)
    for k in range(remainder):
        i = order[k % len(order)]
        parts[i] = (parts[i][0], parts[i][1] + 1)
    return parts


def apportion_line(
    *,
    line_no: int,
    amount_minor: int,
    shares_permille: Sequence[tuple[str, int]],
    network_authority: Mapping[str, str],
    selling_authority_id: str,
    commission_permille: int,
) -> list[LedgerRow]:
    """The ledger rows of one paid line (pure). Sum of amounts == ``amount_minor``."""
    rows: list[LedgerRow] = []
    for network_id, part in split_by_shares(amount_minor, shares_permille):
        owner = network_authority.get(network_id)
        if owner is None:
            raise UnownedNetwork(f"no authority owns network '{network_id}'")
        if owner == selling_authority_id:
            rows.append(LedgerRow(line_no, "revenue", selling_authority_id, owner, network_id, part))
            continue
        commission = part * commission_permille // 1000
        rows.append(LedgerRow(line_no, "revenue", selling_authority_id, owner, network_id, part - commission))
        if commission:
            rows.append(LedgerRow(line_no, "commission", selling_authority_id, selling_authority_id, network_id, commission))
    return rows


def negate(rows: Sequence[LedgerRow]) -> list[LedgerRow]:
    return [LedgerRow(r.line_no, r.kind, r.collector_authority_id, r.beneficiary_authority_id, r.network_id, -r.amount_minor) for r in rows]


def apportion_refund(
    *,
    line_no: int,
    amount_minor: int,
    refunded_before_minor: int,
    shares_permille: Sequence[tuple[str, int]],
    network_authority: Mapping[str, str],
    selling_authority_id: str,
    commission_permille: int,
) -> list[LedgerRow]:
    """The ledger rows of refunding ``amount_minor`` more of a line of which
    ``refunded_before_minor`` was refunded already (pure). Sum of amounts == -``amount_minor``.

    The rows are the apportionment of everything refunded after this refund minus that of
    everything refunded before it, negated: for a first refund that is exactly minus the
    apportionment of its amount, and a line refunded in several parts ends at the exact negation
    of its sale's rows. Apportioning each part on its own would round each part separately and
    leave a cent between two authorities for an order refunded whole (210 + 210 of a 420 sale at
    50 permille: commissions 10 + 10, not 21)."""
    def apportion(amount: int) -> list[LedgerRow]:
        return apportion_line(line_no=line_no, amount_minor=amount, shares_permille=shares_permille,
                              network_authority=network_authority, selling_authority_id=selling_authority_id,
                              commission_permille=commission_permille)

    change: dict[tuple[str, str, str, str | None], int] = {}
    for sign, amount in ((-1, refunded_before_minor + amount_minor), (1, refunded_before_minor)):
        for r in apportion(amount):
            key = (r.kind, r.collector_authority_id, r.beneficiary_authority_id, r.network_id)
            change[key] = change.get(key, 0) + sign * r.amount_minor
    return [LedgerRow(line_no, *key, amount) for key, amount in change.items() if amount]


async def book(conn: asyncpg.Connection, order_id: int, currency: str, rows: Sequence[LedgerRow], now: datetime) -> None:
    if not rows:
        return
    await conn.execute(
        Q.insert_ledger,
        order_id,
        currency,
        now,
        *columns_of(rows, "line_no", "kind", "collector_authority_id", "beneficiary_authority_id", "network_id",
                    "amount_minor"),
    )


def parse_period(text: str, timezone: str = DEFAULT_TIMEZONE) -> tuple[datetime, datetime]:
    """``YYYY-MM`` (a month), ``YYYY-MM-DD`` (a day) or ``YYYY-MM-DD/YYYY-MM-DD`` (end exclusive),
    from and to local midnight in the region's ``timezone``: authorities settle their accounts by
    their own calendar month, so a sale at 23:30 on 31 March in Lyon is March's even though it is
    21:30 UTC, and one at 00:30 on 1 April is April's. Returns the two instants in UTC (inside
    the system times are UTC: Python subtracts two datetimes of one zone by wall clock)."""
    try:
        if "/" in text:
            start_text, end_text = text.split("/", 1)
            start, end = date.fromisoformat(start_text), date.fromisoformat(end_text)
        elif len(text) == 7:
            start = date.fromisoformat(text + "-01")
            end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            start = date.fromisoformat(text)
            end = start + timedelta(days=1)
    except ValueError as error:
        raise ValueError(f"period must be YYYY-MM, YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD ({error})") from None
    if end <= start:
        raise ValueError("period end must be after its start")
    zone = ZoneInfo(timezone)
    as_dt = lambda d: datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC)  # noqa: E731
    return as_dt(start), as_dt(end)


@dataclass(frozen=True)
class Balance:
    debtor_authority_id: str  # collected money that belongs to the creditor
    creditor_authority_id: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class AuthorityTotals:
    authority_id: str
    currency: str
    collected_minor: int  # money its sales points took
    revenue_minor: int  # money that belongs to it as network owner
    commission_minor: int  # commission it kept on others' products


@dataclass(frozen=True)
class ClearingReport:
    period_start: datetime
    period_end: datetime
    balances: tuple[Balance, ...]
    authorities: tuple[AuthorityTotals, ...]
    ledger_total_minor: Mapping[str, int]  # per currency (an authority's report: the rows it collected)
    money_taken_minor: Mapping[str, int]  # per currency, from the payments (an authority's: its sales points' orders)
    is_balanced: bool  # ledger_total_minor == money_taken_minor, as shown in this report


async def get_clearing_report(
    conn: asyncpg.Connection, start: datetime, end: datetime, *, authority_id: str | None = None
) -> ClearingReport:
    """Net balances between every pair of authorities over [start, end); ``authority_id`` keeps
    only the pairs and totals that involve it (what an authority's key may see)."""
    rows = await conn.fetch(Q.sum_ledger_by_pair, start, end)
    owed: dict[tuple[str, str, str], int] = {}
    totals: dict[tuple[str, str], list[int]] = {}
    ledger_total: dict[str, int] = {}
    for r in rows:
        collector, beneficiary, kind, currency, amount = (
            r["collector_authority_id"], r["beneficiary_authority_id"], r["kind"], r["currency"], r["amount_minor"]
        )
        ledger_total[currency] = ledger_total.get(currency, 0) + amount
        totals.setdefault((collector, currency), [0, 0, 0])[0] += amount
        if kind == "commission":
            totals.setdefault((beneficiary, currency), [0, 0, 0])[2] += amount
        else:
            totals.setdefault((beneficiary, currency), [0, 0, 0])[1] += amount
        if collector != beneficiary:
            owed[(collector, beneficiary, currency)] = owed.get((collector, beneficiary, currency), 0) + amount
    balances: list[Balance] = []
    seen: set[tuple[str, str, str]] = set()
    for (a, b, currency), amount in sorted(owed.items()):
        pair = (min(a, b), max(a, b), currency)
        if pair in seen:
            continue
        seen.add(pair)
        net = amount - owed.get((b, a, currency), 0)
        if net > 0:
            balances.append(Balance(a, b, net, currency))
        elif net < 0:
            balances.append(Balance(b, a, -net, currency))
    authorities = tuple(
        AuthorityTotals(a, c, *v) for (a, c), v in sorted(totals.items()) if authority_id is None or a == authority_id
    )
    if authority_id is None:
        payments = {r["currency"]: r["amount_minor"] for r in await conn.fetch(Q.sum_payments, start, end)}
    else:
        # An authority's own figures only (see the module docstring): what its rows as collector
        # sum to, against the money its sales points' orders took.
        balances = [b for b in balances if authority_id in (b.debtor_authority_id, b.creditor_authority_id)]
        ledger_total = {}
        for r in rows:
            if r["collector_authority_id"] == authority_id:
                ledger_total[r["currency"]] = ledger_total.get(r["currency"], 0) + r["amount_minor"]
        payments = {r["currency"]: r["amount_minor"]
                    for r in await conn.fetch(Q.sum_payments_of_seller, start, end, authority_id)}
    ledger_total = {k: v for k, v in ledger_total.items() if v}
    payments = {k: v for k, v in payments.items() if v}
    is_balanced = ledger_total == payments  # computed from the figures this report shows, nothing else
    return ClearingReport(start, end, tuple(balances), authorities, ledger_total, payments, is_balanced)
