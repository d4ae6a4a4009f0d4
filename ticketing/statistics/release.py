"""Releasing a closed period: the raw tables of a service day computed from PostgreSQL (while the
serials still exist, for OD chaining and contribution bounds), protected (`privacy`, `dp`), and
stored once in stat_releases / stat_cells (and the privacy ledger); months from their released
days.

**Once.** Each kind (validations, od, sales) of a period is one transaction that first claims its
``stat_releases`` row (``INSERT ... ON CONFLICT DO NOTHING``): a concurrent claim waits for the
first transaction and then finds the row, so two replicas or a retried job never release twice.
A transaction-level advisory lock on the period, held on a second connection for the whole call
(no session state on pooled connections), serialises whole calls, so the loser does not compute.

**Aggregation in SQL.** The serial is read by the queries (release_queries.sql) and never leaves
them: Python sees grouped counts only. Validations are grouped once per family (grouping sets).

**Budget (differential privacy).** ``epsilon_per_day`` is one authority's budget for a service day
over everything released about it: what the ledger has not spent yet is split evenly
(`dp.split_budget`) over the tables the authority can read that day (all kinds); a table read by
several authorities (a combined product's sales) takes the smallest of their shares, and a ledger
row is written for each of them. Before writing, the ledger's sum per (authority, day) plus the new
spend is checked against the budget (`PrivacyBudgetExceeded` otherwise: nothing of that kind is
released). Tables of a network no authority owns are readable by admins only and spend the budget
of the pseudo-authority ``*``. Contributions are bounded first (``max_validations_per_medium_day``
validations per medium, ``max_items_per_order`` items and ``max_amount_per_order_minor`` per order),
so each table's sensitivity is that bound. A scope with no event that day has no table at all.

**Months** are the released day tables summed in the database (``combine_day_cells``, whose
reference is `privacy.combine_days`): post-processing of released values, no budget.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

from oura.concurrency import run_blocking
from ticketing.errors import PrivacyBudgetExceeded
from ticketing.products import SERVICE_DAY_START
from ticketing.repository import load_queries
from ticketing.statistics import dp, privacy
from ticketing.statistics.model import ONE_COLUMN, NoiseRecord, RawTable, ReleasedTable, StatisticsSettings
from ticketing.validation import ACCEPTED, Reason

__all__ = ["ReleaseRun", "release_day", "release_month", "release_due", "service_day_bounds", "KINDS"]

log = logging.getLogger(__name__)

KINDS = ("validations", "od", "sales")
HOURS = tuple(f"{h:02d}" for h in range(24))
PRODUCT_KINDS = ("single", "carnet", "pass", "unknown")
MEDIUM_KINDS = ("smartcard", "wallet", "paper", "unknown")
CHANNELS = ("vending_machine", "desk", "web", "app")
REFUSAL_REASONS = tuple(r.value for r in Reason if r not in ACCEPTED)
NO_AUTHORITY = "*"  # the ledger's name for tables of a network no authority owns (admin only)
_LOCK_CLASS = 14_0001  # advisory lock key (class, day ordinal; months negated): one release call per period at a time
_BUDGET_SLACK = 1e-9  # float sums of even shares
# a month sums every day cell of a kind in one statement (7 M OD cells at 10 M validations a month:
# ~1 min), past the pool's default command timeout; the grouping fits in memory instead of spilling
_MONTH_TIMEOUT_S = 3600.0
_MONTH_WORK_MEM = "256MB"


def _queries() -> Mapping[str, str]:
    return load_queries(Path(__file__).with_name("release_queries.sql"))


@dataclass(frozen=True)
class ReleaseRun:
    released: tuple[tuple[str, str, date], ...]  # (kind, period_kind, period_start) released by this run
    skipped: tuple[tuple[str, str, date], ...] = ()  # already released (by another process, or before)


def service_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The instants a service day covers: 04:00 local on ``day`` to 04:00 local the next day."""
    zone = ZoneInfo(timezone)

    def fixed(local: datetime) -> datetime:  # a fixed offset: subtracting two bounds gives the real length (23/25 h)
        return local.astimezone(dt_timezone(local.utcoffset()))

    return (fixed(datetime.combine(day, SERVICE_DAY_START, tzinfo=zone)),
            fixed(datetime.combine(day + timedelta(days=1), SERVICE_DAY_START, tzinfo=zone)))


def service_day_of(at: datetime, timezone: str) -> date:
    local = at.astimezone(ZoneInfo(timezone))
    return local.date() if local.time() >= SERVICE_DAY_START else local.date() - timedelta(days=1)


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


# ---------------------------------------------------------------- raw tables (read)


@dataclass(frozen=True)
class _Raw:
    """The raw tables of one kind of a day, and what its parameters report."""

    tables: tuple[RawTable, ...]
    facts: Mapping[str, object]


def _table(family: str, scope: str, counts: dict, amounts: dict | None, authorities, networks) -> RawTable:
    return RawTable(family, scope, dict(counts), dict(amounts) if amounts is not None else None,
                    tuple(sorted(set(authorities))), tuple(sorted(set(networks))))


async def _validation_tables(conn: asyncpg.Connection, start: datetime, end: datetime, timezone: str,
                             cap: int | None, network_authority: Mapping[str, str]) -> _Raw:
    q = _queries()
    counts: dict[tuple[str, str], dict[tuple[str, str], int]] = defaultdict(dict)
    for r in await conn.fetch(q["validation_counts"], start, end, timezone, cap):
        family = r["family"]
        if family is None or r["accepted"] != (family != "refusals"):
            continue
        col = r["col_key"] if family in ("route_hour", "product", "medium") else ONE_COLUMN
        counts[(family, r["network_id"])][(r["row_key"], col)] = r["count"]
    unplaced = await conn.fetchval(q["unplaced_validations"], start, end)
    tables = []
    for (family, network), cells in sorted(counts.items()):
        owner = network_authority.get(network)
        tables.append(_table(family, network, cells, None, [owner] if owner else [], [network]))
    return _Raw(tuple(tables), {"unplaced": unplaced})


async def _od_tables(conn: asyncpg.Connection, start: datetime, end: datetime, cap: int | None,
                     network_authority: Mapping[str, str]) -> _Raw:
    counts: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for r in await conn.fetch(_queries()["od_pairs"], start, end, cap):
        counts[r["network_id"]][(r["origin"], r["destination"])] = r["count"]
    tables = []
    for network, cells in sorted(counts.items()):
        owner = network_authority.get(network)
        tables.append(_table("od", network, cells, None, [owner] if owner else [], [network]))
    return _Raw(tuple(tables), {})


async def _sales_tables(conn: asyncpg.Connection, start: datetime, end: datetime, items_cap: int | None,
                        amount_cap: int | None) -> _Raw:
    pc_counts: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    pc_amounts: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    pc_auth: dict[str, set] = defaultdict(set)
    pc_nets: dict[str, set] = defaultdict(set)
    sp_counts: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    sp_amounts: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    sp_nets: dict[str, set] = defaultdict(set)
    for r in await conn.fetch(_queries()["sales_lines"], start, end, items_cap, amount_cap):
        if r["count"] <= 0:
            continue  # bounded away
        networks = sorted(set(r["network_ids"]))
        scope = f"{r['seller']}|{'+'.join(networks)}"
        pc_counts[scope][(r["product"], r["channel"])] += r["count"]
        pc_amounts[scope][(r["product"], r["channel"])] += r["amount_minor"]
        pc_auth[scope] |= {r["seller"], *r["owning_authority_ids"]}
        pc_nets[scope] |= set(networks)
        sp_counts[r["seller"]][(r["sales_point"], r["channel"])] += r["count"]
        sp_amounts[r["seller"]][(r["sales_point"], r["channel"])] += r["amount_minor"]
        sp_nets[r["seller"]] |= set(networks)
    tables = [_table("product_channel", s, pc_counts[s], pc_amounts[s], pc_auth[s], pc_nets[s]) for s in sorted(pc_counts)]
    tables += [_table("sales_point", s, sp_counts[s], sp_amounts[s], [s], sp_nets[s]) for s in sorted(sp_counts)]
    return _Raw(tuple(tables), {})


# ---------------------------------------------------------------- protection (pure)


def _domain(table: RawTable, domains: Mapping[str, Mapping[str, Sequence[str]]] | None
            ) -> tuple[Sequence[str] | None, Sequence[str] | None]:
    """The public rows × cols a DP table is noised over (None: the present ones, weaker)."""
    own = (domains or {}).get(table.network_ids[0], {}) if len(table.network_ids) == 1 else {}
    match table.family:
        case "route_hour":
            return own.get("route"), HOURS
        case "stop":
            return own.get("stop"), (ONE_COLUMN,)
        case "product":
            return PRODUCT_KINDS, own.get("rider_category")
        case "medium":
            return MEDIUM_KINDS, PRODUCT_KINDS
        case "refusals":
            return REFUSAL_REASONS, (ONE_COLUMN,)
        case "od":
            return own.get("stop"), own.get("stop")
        case "product_channel" | "sales_point":
            return None, CHANNELS
    return None, None


def _readers(table: RawTable) -> tuple[str, ...]:
    return table.authority_ids or (NO_AUTHORITY,)


def _protect_all(tables: Sequence[RawTable], *, k: int, method: str, epsilons: Mapping[tuple[str, str], float],
                 delta_each: Mapping[tuple[str, str], float], sensitivity: int, amount_sensitivity: int | None,
                 domains) -> list[tuple[ReleasedTable, NoiseRecord | None]]:
    out = []
    for table in tables:
        if method == "suppression":
            out.append((privacy.protect(table, k), None))
            continue
        rows, cols = _domain(table, domains)
        key = (table.family, table.scope)
        noisy, record = dp.add_noise(table, mechanism=method, epsilon=epsilons[key], delta=delta_each[key],
                                     sensitivity=sensitivity,
                                     amount_sensitivity=amount_sensitivity if table.amounts is not None else None,
                                     rows=rows, cols=cols)
        out.append((privacy.protect(noisy, k, complementary=False), record))  # noisy values: post-processing
    return out


# ---------------------------------------------------------------- storing


def _cell_records(release_id: int, table: ReleasedTable, money: bool) -> list[tuple]:
    return [(release_id, table.family, table.scope, c.row, c.col, c.count,
             c.amount if money and c.count is not None else None, c.parts_suppressed,
             list(table.authority_ids), list(table.network_ids)) for c in table.cells]


_CELL_COLUMNS = ["release_id", "family", "scope", "row_key", "col_key", "count", "amount_minor",
                 "parts_suppressed", "authority_ids", "network_ids"]


async def _store_cells(conn: asyncpg.Connection, release_id: int, tables: Sequence[ReleasedTable]) -> int:
    records = [rec for t in tables for rec in _cell_records(release_id, t, t.family in ("product_channel", "sales_point"))]
    if records:
        await conn.copy_records_to_table("stat_cells", records=records, columns=_CELL_COLUMNS)
    return len(records)


def _summary(tables: Sequence[ReleasedTable]) -> dict[str, int]:
    return {"tables": len(tables), "cells": sum(len(t.cells) for t in tables),
            "suppressed": sum(1 for t in tables for c in t.cells if c.count is None)}


# ---------------------------------------------------------------- days


async def release_day(pool: asyncpg.Pool, day: date, *, now: datetime, settings: StatisticsSettings,
                      network_authority: Mapping[str, str], timezone: str,
                      domains: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> ReleaseRun:
    """Compute and store the releases of one closed service day (validations, od, sales), once.

    The caller says the day is closed (`release_due` checks it); a kind already released is
    skipped. Raises `PrivacyBudgetExceeded` (nothing of the kind stored) if a DP release would
    overspend an authority's budget for the day."""
    start, end = service_day_bounds(day, timezone)
    method = settings.method
    dp_on = method != "suppression"
    val_cap = settings.max_validations_per_medium_day if dp_on else None
    items_cap = settings.max_items_per_order if dp_on else None
    amount_cap = settings.max_amount_per_order_minor if dp_on else None
    q = _queries()
    released: list[tuple[str, str, date]] = []
    skipped: list[tuple[str, str, date]] = []
    async with pool.acquire() as lock_conn, lock_conn.transaction(), pool.acquire() as conn:
        await lock_conn.execute("SELECT pg_advisory_xact_lock($1, $2)", _LOCK_CLASS, day.toordinal())
        # the period's lock is held until lock_conn's transaction ends
        done = {r["kind"] for r in await conn.fetch(q["released_kinds"], "day", day)}
        skipped = [(kind, "day", day) for kind in KINDS if kind in done]
        todo = [kind for kind in KINDS if kind not in done]
        raws: dict[str, _Raw] = {}
        for kind in todo:
            if kind == "validations":
                raws[kind] = await _validation_tables(conn, start, end, timezone, val_cap, network_authority)
            elif kind == "od":
                raws[kind] = await _od_tables(conn, start, end, val_cap, network_authority)
            else:
                raws[kind] = await _sales_tables(conn, start, end, items_cap, amount_cap)
        epsilons: dict[tuple[str, str], float] = {}  # (family, scope) -> its share
        deltas: dict[tuple[str, str], float] = {}
        if dp_on:
            spent = {r["authority_id"]: (r["epsilon"], r["delta"])
                     for r in await conn.fetch(q["spent_budget"], "day", day)}
            per_authority: dict[str, int] = defaultdict(int)
            for raw in raws.values():
                for table in raw.tables:
                    for a in _readers(table):
                        per_authority[a] += 1
            shares = {}
            for a, n in per_authority.items():
                eps_left = settings.epsilon_per_day - spent.get(a, (0.0, 0.0))[0]
                delta_left = settings.delta - spent.get(a, (0.0, 0.0))[1]
                if eps_left <= _BUDGET_SLACK:
                    raise PrivacyBudgetExceeded(
                        f"authority {a!r} has spent its privacy budget for {day.isoformat()} "
                        f"(epsilon {settings.epsilon_per_day}); nothing released")
                shares[a] = dp.split_budget(eps_left, max(delta_left, 0.0), n)
            for raw in raws.values():
                for table in raw.tables:
                    epsilons[(table.family, table.scope)] = min(shares[a][0] for a in _readers(table))
                    deltas[(table.family, table.scope)] = min(shares[a][1] for a in _readers(table))
        for kind in todo:
            raw = raws[kind]
            sensitivity = (items_cap if kind == "sales" else val_cap) or 1
            protected = await run_blocking(
                _protect_all, raw.tables, k=settings.k, method=method, epsilons=epsilons, delta_each=deltas,
                sensitivity=sensitivity, amount_sensitivity=amount_cap if kind == "sales" else None,
                domains=domains)
            async with conn.transaction():
                release_id = await conn.fetchval(q["claim_release"], kind, "day", day, method, now)
                if release_id is None:
                    skipped.append((kind, "day", day))
                    continue
                ledger = []
                for table, (_, record) in zip(raw.tables, protected):
                    if record is not None:
                        ledger += [(a, "day", day, release_id, table.family, record.mechanism, record.epsilon,
                                    record.delta, record.scale, record.sensitivity, now) for a in _readers(table)]
                if ledger:
                    await _check_budget(conn, day, ledger, settings)
                    await conn.copy_records_to_table(
                        "stat_privacy_ledger", records=ledger,
                        columns=["authority_id", "period_kind", "period_start", "release_id", "family", "mechanism",
                                 "epsilon", "delta", "scale", "sensitivity", "created_at"])
                tables = [t for t, _ in protected]
                await _store_cells(conn, release_id, tables)
                parameters = {"k": settings.k, "method": method, "timezone": timezone,
                              "service_day": {"start": start.isoformat(), "end": end.isoformat()},
                              **_summary(tables), **raw.facts}
                if dp_on:
                    parameters.update({
                        "epsilon_per_day": settings.epsilon_per_day, "delta_per_day": settings.delta,
                        "epsilon_spent": {a: sum(r[6] for r in ledger if r[0] == a) for a in sorted({r[0] for r in ledger})},
                        "caps": ({"max_items_per_order": items_cap, "max_amount_per_order_minor": amount_cap}
                                 if kind == "sales" else {"max_validations_per_medium_day": val_cap}),
                        "noised_tables": sum(1 for _, rec in protected if rec is not None),
                        "domains": bool(domains)})
                await conn.execute(q["set_release_parameters"], release_id, parameters)
                released.append((kind, "day", day))
    return ReleaseRun(tuple(released), tuple(skipped))


async def _check_budget(conn: asyncpg.Connection, day: date, ledger: Sequence[tuple], settings: StatisticsSettings) -> None:
    spent = {r["authority_id"]: r["epsilon"] for r in await conn.fetch(_queries()["spent_budget"], "day", day)}
    new: dict[str, float] = defaultdict(float)
    for row in ledger:
        new[row[0]] += row[6]
    for authority, eps in new.items():
        if spent.get(authority, 0.0) + eps > settings.epsilon_per_day + _BUDGET_SLACK:
            raise PrivacyBudgetExceeded(
                f"releasing {day.isoformat()} would spend epsilon {spent.get(authority, 0.0) + eps:.6g} for authority "
                f"{authority!r}, over its budget of {settings.epsilon_per_day}; nothing released")


# ---------------------------------------------------------------- months


async def release_month(pool: asyncpg.Pool, month: date, *, now: datetime, settings: StatisticsSettings,
                        timezone: str) -> ReleaseRun:
    """Store the release of a month (``month`` is its first day) from its released days, once.

    A month's table is its days' released tables summed in one statement (``combine_day_cells``,
    `privacy.combine_days` in SQL): post-processing of released values, no budget spent. The caller (`release_due`) releases it once its days are."""
    month = month.replace(day=1)
    end = _month_end(month)
    q = _queries()
    released: list[tuple[str, str, date]] = []
    skipped: list[tuple[str, str, date]] = []
    async with pool.acquire() as lock_conn, lock_conn.transaction(), pool.acquire() as conn:
        await lock_conn.execute("SELECT pg_advisory_xact_lock($1, $2)", _LOCK_CLASS, -month.toordinal())
        # the period's lock is held until lock_conn's transaction ends
        for kind in KINDS:
            async with conn.transaction():
                days = await conn.fetch(q["day_releases"], kind, month, end)
                methods = sorted({r["method"] for r in days})
                method = methods[0] if len(methods) == 1 else (
                    next((m for m in ("gaussian", "laplace") if m in methods), settings.method) if methods else settings.method)
                release_id = await conn.fetchval(q["claim_release"], kind, "month", month, method, now)
                if release_id is None:
                    skipped.append((kind, "month", month))
                    continue
                await conn.execute(f"SET LOCAL work_mem = '{_MONTH_WORK_MEM}'")
                summary = await conn.fetchrow(q["combine_day_cells"], release_id, kind, month, end,
                                              timeout=_MONTH_TIMEOUT_S)
                parameters = {"post_processing": True, "combined_from": "day releases",
                              "days": [r["period_start"].isoformat() for r in days],
                              "day_methods": methods, "k": settings.k, "timezone": timezone,
                              "epsilon_spent": 0, **dict(summary)}
                await conn.execute(q["set_release_parameters"], release_id, parameters)
                released.append((kind, "month", month))
    return ReleaseRun(tuple(released), tuple(skipped))


# ---------------------------------------------------------------- due periods


async def release_due(pool: asyncpg.Pool, *, now: datetime, settings: StatisticsSettings,
                      network_authority: Mapping[str, str], timezone: str,
                      domains: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
                      force_before: datetime | None = None) -> ReleaseRun:
    """Release every closed day not released yet (a day is closed ``release_grace_s`` after it ends;
    a day with events older than ``force_before`` is released even within its grace, since its
    serials are about to be purged), then every month whose days are all released.

    Days are looked for after the last day whose every kind is released (released in order, so
    there is no gap before it): a late event for a released day is never counted."""
    q = _queries()
    grace = timedelta(seconds=settings.release_grace_s)
    async with pool.acquire() as conn:
        last = await conn.fetchval(q["last_complete_day"])
        first = last + timedelta(days=1) if last else date(1970, 1, 2)
        since = service_day_bounds(first, timezone)[0]
        days = {r["day"] for r in await conn.fetch(q["validation_days"], since, timezone)}
        days |= {r["day"] for r in await conn.fetch(q["order_days"], since, timezone)}
        complete = {r["period_start"] for r in await conn.fetch(q["day_release_counts"], first)
                    if r["kinds"] == len(KINDS)}

    def closed(d: date) -> bool:
        start, end = service_day_bounds(d, timezone)
        return end <= now and (end + grace <= now or (force_before is not None and start < force_before))

    pending = sorted(d for d in days if d not in complete)
    released: list[tuple[str, str, date]] = []
    skipped: list[tuple[str, str, date]] = []
    open_days = {d for d in pending if not closed(d)}
    for d in pending:
        if d in open_days:
            break  # in order: a later day waits for this one
        run = await release_day(pool, d, now=now, settings=settings, network_authority=network_authority,
                                timezone=timezone, domains=domains)
        released += run.released
        skipped += run.skipped
    async with pool.acquire() as conn:
        months = {r["month"] for r in await conn.fetch(q["released_day_months"])}
        month_done = {r["period_start"] for r in await conn.fetch(q["month_release_counts"]) if r["kinds"] == len(KINDS)}
    for month in sorted(months - month_done):
        last_day = _month_end(month) - timedelta(days=1)
        if not closed(last_day) or any(month <= d <= last_day for d in open_days):
            continue
        run = await release_month(pool, month, now=now, settings=settings, timezone=timezone)
        released += run.released
        skipped += run.skipped
    if released:
        log.info("statistics released: %s", ", ".join(f"{k} {p} {s.isoformat()}" for k, p, s in released))
    return ReleaseRun(tuple(released), tuple(skipped))
