"""Releasing a service day and a month from PostgreSQL rows (the real protect and add_noise).

FEATURE UNDER TEST: release.release_day / release_month / release_due read validations, orders
and their lines, compute the families' raw tables in SQL, protect them and store them once.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ortools.linear_solver import pywraplp

from ticketing.errors import PrivacyBudgetExceeded
from ticketing.statistics import release
from ticketing.statistics.model import ALL, Cell, ReleasedTable, StatisticsSettings
from ticketing.statistics.privacy import combine_days
from tests.ticketing.statistics.factories import Boarding, Sale, add_medium, add_sales, add_validations

PARIS = ZoneInfo("Europe/Paris")
TZ = "Europe/Paris"
DAY = date(2026, 3, 10)
NET = {"tcl": "sytral", "tcl-car": "region"}
NOW = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)  # every day used here is closed


def at(day: date, hh: int, mm: int = 0, plus_days: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=PARIS) + timedelta(days=plus_days)


def settings(**changes) -> StatisticsSettings:
    return replace(StatisticsSettings(), **changes)


async def riders(pool, prefix: str, n: int, **medium) -> list[str]:
    serials = [f"{prefix}{i:03d}" for i in range(n)]
    for s in serials:
        await add_medium(pool, s, **medium)
    return serials


async def cells(pool, kind: str, family: str, scope: str | None = None, period_kind: str = "day",
                start: date = DAY) -> dict[tuple[str, str], int | None]:
    rows = await pool.fetch(
        "SELECT c.scope, c.row_key, c.col_key, c.count FROM stat_cells c JOIN stat_releases r USING (release_id) "
        "WHERE r.kind = $1 AND r.period_kind = $2 AND r.period_start = $3 AND c.family = $4 "
        "AND ($5::text IS NULL OR c.scope = $5)", kind, period_kind, start, family, scope)
    return {(r["row_key"], r["col_key"]): r["count"] for r in rows}


async def run_day(pool, day: date = DAY, s: StatisticsSettings | None = None, **kw) -> release.ReleaseRun:
    return await release.release_day(pool, day, now=NOW, settings=s or settings(), network_authority=NET,
                                     timezone=TZ, **kw)


def inner(table: dict) -> dict:
    return {key: v for key, v in table.items() if ALL not in key}


# ---------------------------------------------------------------- service days


def test_service_day_bounds_are_04_00_local_and_dst_safe():
    start, end = release.service_day_bounds(DAY, TZ)
    assert (start.isoformat(), end.isoformat()) == ("2026-03-10T04:00:00+01:00", "2026-03-11T04:00:00+01:00")
    spring = release.service_day_bounds(date(2026, 3, 28), TZ)  # clocks go forward at 02:00 on the 29th
    assert spring[1].isoformat() == "2026-03-29T04:00:00+02:00" and spring[1] - spring[0] == timedelta(hours=23)
    autumn = release.service_day_bounds(date(2026, 10, 24), TZ)  # back at 03:00 on the 25th
    assert autumn[1] - autumn[0] == timedelta(hours=25)


# ---------------------------------------------------------------- counts


async def test_big_cells_equal_raw_counts_small_ones_are_suppressed_and_the_day_ends_at_04_00(db_pool):
    busy = await riders(db_pool, "B", 12)
    quiet = await riders(db_pool, "Q", 3)
    night = await riders(db_pool, "N", 20)
    rows = [Boarding(s, at(DAY, 8, i), "tcl:S1", "tcl:R1") for i, s in enumerate(busy)]
    rows += [Boarding(s, at(DAY, 9, i), "tcl:S2", "tcl:R2") for i, s in enumerate(quiet)]
    # 03:59 the next calendar day still belongs to DAY; 04:00 starts the next service day
    rows += [Boarding(s, at(DAY, 3, 59, plus_days=1), "tcl:S3", "tcl:R3") for s in night[:10]]
    rows += [Boarding(s, at(DAY, 4, 0, plus_days=1), "tcl:S3", "tcl:R3") for s in night[10:]]
    rows += [Boarding("B000", at(DAY, 10), "tcl:S1", "tcl:R1", accepted=False, reason="trips_exhausted")]
    rows += [Boarding("B001", at(DAY, 10), "x:S", "x:R", network=None)]
    await add_validations(db_pool, rows)

    run = await run_day(db_pool)
    assert set(run.released) == {(k, "day", DAY) for k in release.KINDS}
    route_hour = await cells(db_pool, "validations", "route_hour", "tcl")
    assert route_hour[("tcl:R1", "08")] == 12
    assert route_hour[("tcl:R3", "03")] == 10
    assert route_hour[("tcl:R2", "09")] is None  # 3 < k
    assert ("tcl:R3", "04") not in route_hour
    stop = await cells(db_pool, "validations", "stop", "tcl")
    assert stop[("tcl:S1", "")] == 12 and stop[("tcl:S2", "")] is None
    assert stop[("tcl:S3", "")] is None  # the smallest released cell is the complement of S2 (the total is released)
    assert stop[(ALL, ALL)] == 25  # the refused and the unplaced validations are not boardings
    assert all(v is None or v >= 10 for v in route_hour.values())
    assert (await cells(db_pool, "validations", "refusals", "tcl"))[("trips_exhausted", "")] is None
    params = await db_pool.fetchval("SELECT parameters FROM stat_releases WHERE kind = 'validations'")
    assert params["unplaced"] == 1 and params["method"] == "suppression" and params["k"] == 10
    assert params["service_day"]["start"] == "2026-03-10T04:00:00+01:00"

    await run_day(db_pool, DAY + timedelta(days=1))
    assert (await cells(db_pool, "validations", "route_hour", "tcl", start=DAY + timedelta(days=1))) [("tcl:R3", "04")] == 10


async def test_product_and_medium_kinds_come_from_the_contract(db_pool):
    passes = await riders(db_pool, "P", 10, duration_s=30 * 86400, rider_category=None, kind="wallet")
    carnets = await riders(db_pool, "C", 10, trips=10)
    await add_validations(db_pool, [Boarding(s, at(DAY, 7, i), "tcl:S1", "tcl:R1") for i, s in enumerate(passes + carnets)])
    await run_day(db_pool, s=settings(k=1))
    product = inner(await cells(db_pool, "validations", "product", "tcl"))
    assert product == {("pass", "default"): 10, ("carnet", "adult"): 10}
    medium = inner(await cells(db_pool, "validations", "medium", "tcl"))
    assert medium == {("wallet", "pass"): 10, ("smartcard", "carnet"): 10}


async def test_the_hour_and_the_day_follow_local_time_across_dst(db_pool):
    day = date(2026, 3, 28)  # 23 hours: 03:30 on the 29th is summer time, still this service day
    serials = await riders(db_pool, "D", 10)
    await add_validations(db_pool, [Boarding(s, datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "tcl:S1", "tcl:R1")
                                    for s in serials])
    await run_day(db_pool, day)
    assert (await cells(db_pool, "validations", "route_hour", "tcl", start=day))[("tcl:R1", "03")] == 10


# ---------------------------------------------------------------- od


async def test_od_chains_each_medium_and_closes_the_last_trip_back_to_the_first_stop(db_pool):
    await riders(db_pool, "M", 3)
    await add_validations(db_pool, [
        Boarding("M000", at(DAY, 8), "tcl:S1", "tcl:R1"), Boarding("M000", at(DAY, 12), "tcl:S2", "tcl:R2"),
        Boarding("M000", at(DAY, 18), "tcl:S3", "tcl:R3"),
        Boarding("M001", at(DAY, 17), "tcl:S2", "tcl:R2"), Boarding("M001", at(DAY, 7), "tcl:S1", "tcl:R1"),
        Boarding("M002", at(DAY, 9), "tcl:S5", "tcl:R1"),  # one boarding: no pair
        Boarding("M002", at(DAY, 10), "tcl:S6", "tcl:R1", accepted=False, reason="trips_exhausted"),  # refused
        Boarding("M001", at(DAY, 5, plus_days=1), "tcl:S9", "tcl:R1"),  # the next service day
    ])
    await run_day(db_pool, s=settings(k=1))
    assert inner(await cells(db_pool, "od", "od", "tcl")) == {
        ("tcl:S1", "tcl:S2"): 2, ("tcl:S2", "tcl:S3"): 1, ("tcl:S3", "tcl:S1"): 1, ("tcl:S2", "tcl:S1"): 1}


# ---------------------------------------------------------------- sales


async def test_a_combined_sale_is_read_by_seller_and_owners_and_the_sales_point_is_its_label(db_pool):
    await db_pool.execute(
        "INSERT INTO api_keys (key_id, secret_hash, role, authority_id, label) VALUES "
        "('k-machine-3', '\\x00', 'sales_point', 'sytral', 'Part-Dieu machine 3'), "
        "('k-desk', '\\x00', 'sales_point', 'sytral', '')")
    day_at = at(DAY, 9)
    await add_sales(db_pool, [
        Sale(day_at, "combo:day", ["tcl-car", "tcl"], ["sytral", "region"], sales_point="k-machine-3", quantity=2,
             unit_price_minor=500),
        Sale(day_at, "combo:day", ["tcl", "tcl-car"], ["sytral", "region"], sales_point="k-machine-3", status="refunded",
             unit_price_minor=500),
        Sale(day_at, "tcl:single", ["tcl"], ["sytral"], sales_point="k-desk", channel="desk"),
        Sale(day_at, "tcl:single", ["tcl"], ["sytral"], sales_point="k-desk", status="pending"),  # not sold
        Sale(at(DAY, 3), "tcl:single", ["tcl"], ["sytral"], sales_point="k-desk"),  # the previous service day
    ])
    await run_day(db_pool, s=settings(k=1))
    rows = await db_pool.fetch("SELECT c.* FROM stat_cells c JOIN stat_releases r USING (release_id) "
                               "WHERE r.kind = 'sales' AND c.row_key <> '*' AND c.col_key <> '*'")
    got = {(r["family"], r["scope"], r["row_key"], r["col_key"]): (r["count"], r["amount_minor"], r["authority_ids"],
                                                                    r["network_ids"]) for r in rows}
    assert got == {
        ("product_channel", "sytral|tcl+tcl-car", "combo:day", "vending_machine"): (3, 1500, ["region", "sytral"], ["tcl", "tcl-car"]),
        ("product_channel", "sytral|tcl", "tcl:single", "desk"): (1, 190, ["sytral"], ["tcl"]),
        ("sales_point", "sytral", "Part-Dieu machine 3", "vending_machine"): (3, 1500, ["sytral"], ["tcl", "tcl-car"]),
        ("sales_point", "sytral", "unlabelled", "desk"): (1, 190, ["sytral"], ["tcl", "tcl-car"]),
    }


# ---------------------------------------------------------------- once


async def test_a_day_is_released_once_even_twice_or_concurrently(db_pool):
    serials = await riders(db_pool, "O", 12)
    await add_validations(db_pool, [Boarding(s, at(DAY, 8), "tcl:S1", "tcl:R1") for s in serials])
    await add_sales(db_pool, [Sale(at(DAY, 8), "tcl:single", ["tcl"], ["sytral"]) for _ in range(12)])
    first, second = await asyncio.gather(run_day(db_pool), run_day(db_pool))
    assert sorted(first.released + second.released) == sorted((k, "day", DAY) for k in release.KINDS)
    assert sorted(first.skipped + second.skipped) == sorted((k, "day", DAY) for k in release.KINDS)
    again = await run_day(db_pool)
    assert again.released == () and len(again.skipped) == 3
    assert await db_pool.fetchval("SELECT count(*) FROM stat_releases") == 3
    assert (await cells(db_pool, "validations", "stop", "tcl"))[("tcl:S1", "")] == 12
    assert await db_pool.fetchval("SELECT count(*) FROM stat_cells WHERE family = 'stop'") == 2  # S1 and the total


# ---------------------------------------------------------------- value-level privacy


async def test_no_released_key_is_a_serial_key_account_order_or_event_id(db_pool):
    account = await db_pool.fetchval(
        "INSERT INTO ticketing_accounts (display_name, email, created_at, account_number) "
        "VALUES ('Ada', 'ada@example.org', now(), 'ACC-12345') RETURNING account_id")
    serials = await riders(db_pool, "S", 6)
    await db_pool.execute("UPDATE ticketing_media SET account_id = $1 WHERE serial = 'S000'", account)
    await add_validations(db_pool, [Boarding(s, at(DAY, 8 + i), f"tcl:S{i}", "tcl:R1", device=f"dev-{i}")
                                    for i, s in enumerate(serials)])
    await db_pool.execute("INSERT INTO api_keys (key_id, secret_hash, role, authority_id, label) "
                          "VALUES ('sp-1', '\\x00', 'sales_point', 'sytral', 'Bellecour desk')")
    await add_sales(db_pool, [Sale(at(DAY, 9), "tcl:single", ["tcl"], ["sytral"])])
    await run_day(db_pool, s=settings(k=1))  # k = 1: every cell is released, the worst case for this test
    identifiers = {r[0] for r in await db_pool.fetch(
        "SELECT serial FROM ticketing_media UNION SELECT key_id FROM api_keys "
        "UNION SELECT device_key_id FROM ticketing_validations UNION SELECT event_id FROM ticketing_validations "
        "UNION SELECT account_number FROM ticketing_accounts UNION SELECT email FROM ticketing_accounts "
        "UNION SELECT order_id::text FROM ticketing_orders UNION SELECT medium_id::text FROM ticketing_media "
        "UNION SELECT contract_id::text FROM ticketing_contracts UNION SELECT account_id::text FROM ticketing_accounts "
        "UNION SELECT sales_point_key_id FROM ticketing_orders")}
    released = await db_pool.fetch("SELECT row_key, col_key, scope FROM stat_cells")
    assert len(released) > 20
    values = {v for r in released for v in (r["row_key"], r["col_key"], r["scope"])}
    assert values & identifiers == set()
    assert "Bellecour desk" in values


# ---------------------------------------------------------------- differencing


def _undetermined(tables: list[dict], target: tuple[int, tuple[str, str]]) -> tuple[float, float]:
    """An attacker's bounds (GLOP) on one inner cell of one of ``tables`` (released cells: value or
    None; suppressed inner cells ≥ 1, released margins are sums)."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    var = {}
    for n, table in enumerate(tables):
        for (row, col), v in table.items():
            if ALL not in (row, col) and v is None:
                var[(n, row, col)] = solver.NumVar(1, solver.infinity(), f"x{len(var)}")

    def value(n, row, col):
        v = tables[n][(row, col)]
        return var[(n, row, col)] if v is None else v

    for n, table in enumerate(tables):
        one_dim = all(col == "" for _, col in table)
        for (row, col), total in table.items():
            if total is None or ALL not in (row, col):
                continue
            parts = [value(n, r, c) for (r, c) in table if ALL not in (r, c)
                     and (row == ALL or r == row) and (col == ALL or c == col or one_dim)]
            solver.Add(sum(parts) == total)
    x = var[(target[0], *target[1])]
    bounds = []
    for sense in (solver.Minimize, solver.Maximize):
        sense(x)
        status = solver.Solve()
        bounds.append(x.solution_value() if status == pywraplp.Solver.OPTIMAL else float("inf"))
    return bounds[0], bounds[1]


async def test_a_traveller_on_a_quiet_stop_one_day_cannot_be_recovered_from_day_and_month(db_pool):
    """Traveller X boards at quiet stop tcl:Q on route tcl:R9 on DAY only; others ride every day."""
    month = DAY.replace(day=1)
    other_day = DAY + timedelta(days=1)
    crowd = await riders(db_pool, "K", 30)
    await add_medium(db_pool, "XXX")
    rows = []
    for d in (DAY, other_day):
        rows += [Boarding(s, at(d, 8, i), "tcl:S1", "tcl:R1") for i, s in enumerate(crowd[:15])]
        rows += [Boarding(s, at(d, 17, i), "tcl:S2", "tcl:R2") for i, s in enumerate(crowd[15:])]
    rows += [Boarding(s, at(DAY, 12), "tcl:S3", "tcl:R9") for s in crowd[:2]]  # a quiet route, not X alone
    rows += [Boarding(s, at(other_day, 12, 30), "tcl:Q", "tcl:R9") for s in crowd[:12]]  # Q is busy the other day
    rows.append(Boarding("XXX", at(DAY, 12, 30), "tcl:Q", "tcl:R9"))
    await add_validations(db_pool, rows)
    for d in (DAY, other_day):
        await run_day(db_pool, d)
    await release.release_month(db_pool, month, now=NOW, settings=settings(), timezone=TZ)

    stop_day = await cells(db_pool, "validations", "stop", "tcl")
    assert stop_day[("tcl:Q", "")] is None
    low, high = _undetermined([stop_day], (0, ("tcl:Q", "")))
    assert high - low >= 1
    route_hour = await cells(db_pool, "validations", "route_hour", "tcl")
    assert route_hour[("tcl:R9", "12")] is None
    low, high = _undetermined([route_hour], (0, ("tcl:R9", "12")))
    assert high - low >= 1
    # the month adds only released day values: month − the other day gives 0, not X
    stop_other = await cells(db_pool, "validations", "stop", "tcl", start=other_day)
    month_rows = await db_pool.fetch(
        "SELECT row_key, count, parts_suppressed FROM stat_cells c JOIN stat_releases r USING (release_id) "
        "WHERE r.kind = 'validations' AND r.period_kind = 'month' AND c.family = 'stop' AND c.row_key = 'tcl:Q'")
    assert [(r["count"], r["parts_suppressed"]) for r in month_rows] == [(stop_other[("tcl:Q", "")], 1)]
    month_total = await db_pool.fetchval(
        "SELECT count FROM stat_cells c JOIN stat_releases r USING (release_id) WHERE r.period_kind = 'month' "
        "AND c.family = 'stop' AND c.row_key = '*'")
    assert month_total == stop_day[(ALL, ALL)] + stop_other[(ALL, ALL)]  # both day totals were released
    params = await db_pool.fetchval("SELECT parameters FROM stat_releases WHERE period_kind = 'month' AND kind = 'validations'")
    assert params["post_processing"] is True and params["days"] == [DAY.isoformat(), other_day.isoformat()]


def _by_key(cells) -> tuple[Cell, ...]:
    return tuple(sorted(cells, key=lambda c: (c.row, c.col)))


async def _stored_tables(pool, kind: str, period_kind: str, start: date) -> dict[tuple[str, str], ReleasedTable]:
    rows = await pool.fetch(
        "SELECT c.* FROM stat_cells c JOIN stat_releases r USING (release_id) "
        "WHERE r.kind = $1 AND r.period_kind = $2 AND r.period_start = $3", kind, period_kind, start)
    grouped: dict[tuple[str, str], list] = {}
    for r in rows:
        grouped.setdefault((r["family"], r["scope"]), []).append(r)
    return {key: ReleasedTable(key[0], key[1],
                               _by_key(Cell(r["row_key"], r["col_key"], r["count"], r["amount_minor"], r["parts_suppressed"])
                                       for r in part),
                               tuple(sorted({a for r in part for a in r["authority_ids"]})),
                               tuple(sorted({n for r in part for n in r["network_ids"]})))
            for key, part in grouped.items()}


async def test_a_month_is_the_sum_of_its_released_days_as_combine_days_says(db_pool):
    """The month is summed in the database (one statement a kind): it must equal the pure
    reference, privacy.combine_days, over the stored day tables, cell by cell, amounts, suppressed
    parts and readers included."""
    days = [DAY + timedelta(days=i) for i in range(3)]
    crowd = await riders(db_pool, "M", 40)
    rows, sales = [], []
    for n, d in enumerate(days):
        rows += [Boarding(s, at(d, 7 + i % 3, i), f"tcl:S{i % (2 + n)}", f"tcl:R{i % 2}") for i, s in enumerate(crowd[:25 + 6 * n])]
        rows += [Boarding(s, at(d, 18, i), "tcl:S9", "tcl:R1") for i, s in enumerate(crowd[30:30 + 4 * n])]
        rows += [Boarding(s, at(d, 18, 30), "tcl-car:C1", "tcl-car:L1", network="tcl-car", authority="region")
                 for s in crowd[:11 + n]]
        sales += [Sale(at(d, 9, i), "tcl:single", ["tcl"], ["sytral"], channel=("web", "desk")[i % 2],
                       unit_price_minor=190 + n) for i in range(12 + 5 * n)]
        sales += [Sale(at(d, 10, i), "combined", ["tcl", "tcl-car"], ["sytral", "region"], seller="region",
                       unit_price_minor=450) for i in range(3 + 8 * (n == 1))]
    await add_validations(db_pool, rows)
    await add_sales(db_pool, sales)
    for d in days:
        await run_day(db_pool, d)
    month = DAY.replace(day=1)
    run = await release.release_month(db_pool, month, now=NOW, settings=settings(), timezone=TZ)
    assert {kind for kind, _, _ in run.released} == set(release.KINDS)

    for kind in release.KINDS:
        per_day = [await _stored_tables(db_pool, kind, "day", d) for d in days]
        stored = await _stored_tables(db_pool, kind, "month", month)
        assert stored and set(stored) == {key for tables in per_day for key in tables}
        hidden = 0
        for key, table in stored.items():
            expected = combine_days([tables[key] for tables in per_day if key in tables])
            assert table.cells == _by_key(expected.cells), (kind, key)
            assert (table.authority_ids, table.network_ids) == (tuple(sorted(expected.authority_ids)),
                                                                tuple(sorted(expected.network_ids)))
            hidden += sum(1 for c in table.cells if c.parts_suppressed)
        params = await db_pool.fetchval(
            "SELECT parameters FROM stat_releases WHERE kind = $1 AND period_kind = 'month'", kind)
        assert params["tables"] == len(stored)
        assert params["cells"] == sum(len(t.cells) for t in stored.values())
        assert params["suppressed"] == sum(1 for t in stored.values() for c in t.cells if c.count is None)
        if kind != "od":
            assert hidden, f"{kind}: the data should leave some day cells suppressed"
    amounts = [c.amount for t in (await _stored_tables(db_pool, "sales", "month", month)).values() for c in t.cells
               if c.amount is not None]
    assert amounts, "the sales month carries amounts"


# ---------------------------------------------------------------- differential privacy


async def test_laplace_releases_match_the_ledger_within_each_authoritys_budget(db_pool):
    serials = await riders(db_pool, "L", 40)
    await add_validations(db_pool, [Boarding(s, at(DAY, 8 + i % 3), f"tcl:S{i % 4}", "tcl:R1") for i, s in enumerate(serials)]
                          + [Boarding(s, at(DAY, 9), "car:S1", "car:R1", network="tcl-car", authority="region")
                             for s in serials[:15]])
    await add_sales(db_pool, [Sale(at(DAY, 10), "combo:day", ["tcl", "tcl-car"], ["sytral", "region"]) for _ in range(20)])
    s = settings(method="laplace", epsilon_per_day=1.0, k=5)
    domains = {"tcl": {"route": ["tcl:R1", "tcl:R2"], "stop": [f"tcl:S{i}" for i in range(6)]}}
    run = await run_day(db_pool, s=s, domains=domains)
    assert len(run.released) == 3
    ledger = await db_pool.fetch("SELECT * FROM stat_privacy_ledger")
    releases = {r["release_id"]: r for r in await db_pool.fetch("SELECT * FROM stat_releases")}
    assert {r["method"] for r in releases.values()} == {"laplace"}
    # one ledger row per noised table and authority reading it
    noised = sum(r["parameters"]["noised_tables"] for r in releases.values())
    tables = await db_pool.fetch("SELECT DISTINCT release_id, family, scope, authority_ids FROM stat_cells")
    assert noised == len(tables)
    assert len(ledger) == sum(len(t["authority_ids"]) for t in tables)
    spent_by = {}
    for authority in ("sytral", "region"):
        spent = spent_by[authority] = sum(r["epsilon"] for r in ledger if r["authority_id"] == authority)
        assert spent <= 1.0 + 1e-9
        assert sum(releases[rid]["parameters"]["epsilon_spent"].get(authority, 0) for rid in releases) == pytest.approx(spent)
    # the authority reading the most tables spends its whole budget; a shared table takes the smaller share
    assert max(spent_by.values()) == pytest.approx(1.0)
    assert all(r["mechanism"] == "laplace" and r["sensitivity"] == s.max_validations_per_medium_day
               for r in ledger if r["family"] != "product_channel" and r["family"] != "sales_point")
    assert all(r["scale"] >= r["sensitivity"] / r["epsilon"] - 1e-9 for r in ledger)
    values = [r["count"] for r in await db_pool.fetch("SELECT count FROM stat_cells WHERE count IS NOT NULL")]
    assert values and all(isinstance(v, int) and v >= 0 for v in values)
    assert releases[next(iter(releases))]["parameters"]["caps"]

    # the budget of that day is spent: anything more about it is refused
    rid = next(iter(releases))
    await db_pool.execute("DELETE FROM stat_releases WHERE kind = 'od'")
    await db_pool.execute(
        "INSERT INTO stat_privacy_ledger (authority_id, period_kind, period_start, release_id, family, mechanism, epsilon, "
        "delta, scale, sensitivity, created_at) VALUES ('sytral', 'day', $1, $2, 'stop', 'laplace', 0.5, 0, 1, 1, now())",
        DAY, rid)
    with pytest.raises(PrivacyBudgetExceeded):
        await run_day(db_pool, s=s)
    assert await db_pool.fetchval("SELECT count(*) FROM stat_releases WHERE kind = 'od'") == 0


# ---------------------------------------------------------------- due periods


async def test_release_due_waits_for_the_grace_unless_forced_then_releases_the_month(db_pool):
    serials = await riders(db_pool, "R", 12)
    last = date(2026, 3, 31)
    await add_validations(db_pool, [Boarding(s, at(d, 8), "tcl:S1", "tcl:R1") for s in serials for d in (DAY, last)])
    s = settings(release_grace_s=3600)
    _, last_end = release.service_day_bounds(last, TZ)

    def due(now, **kw):
        return release.release_due(db_pool, now=now, settings=s, network_authority=NET, timezone=TZ, **kw)

    run = await due(last_end + timedelta(minutes=30))  # DAY is closed, the last day of March within its grace
    assert set(run.released) == {(k, "day", DAY) for k in release.KINDS}
    run = await due(last_end + timedelta(minutes=31), force_before=last_end - timedelta(hours=20))
    assert set(run.released) == {(k, p, d) for k in release.KINDS for p, d in (("day", last), ("month", date(2026, 3, 1)))}
    assert (await due(last_end + timedelta(days=2))).released == ()
    month = await cells(db_pool, "validations", "stop", "tcl", period_kind="month", start=date(2026, 3, 1))
    assert month[("tcl:S1", "")] == 24
