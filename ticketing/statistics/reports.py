"""Reading released statistics for a caller: which cells a grouping reads, the caller's
isolation, derived (coarser) groupings, CSV.

Answers are computed from released cells only (stat_cells), never from raw events, so asking
again or differently reveals nothing new. A grouping that a family releases directly (its inner
cells, row or column margins, total) returns those cells; a coarser one (sales by channel over
several sellers' scopes, by selling authority...) is the sum of released cells, and is itself
suppressed when any of its parts is (a sum with a hidden part would give that part back by
difference). Month cells whose ``parts_suppressed`` > 0 are lower bounds (``lower_bound``).

Visibility: an admin reads everything; an authority reads the cells whose ``authority_ids``
contain it, and asking ``network=`` of another authority's network is refused (403) before any
query, on every route.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from ticketing.errors import InvalidStatisticsPeriod, OtherAuthorityStatistics, StatisticsNotReleased, UnsupportedGrouping
from ticketing.products import SERVICE_DAY_START
from ticketing.statistics.model import ALL, ONE_COLUMN

__all__ = ["Period", "Grouping", "GROUPINGS", "DEFAULT_GROUPING", "Report", "Releases", "Table", "parse_period",
           "parse_group_by", "check_network", "find_releases", "find_period_releases", "read_groupings", "read_report",
           "ordered", "totals_of", "list_releases", "rows_csv", "SUPPRESSION_NOTE", "ORDERS", "DEFAULT_LIMIT",
           "MAX_LIMIT"]

SUPPRESSION_NOTE = ("count null (suppressed): fewer than k events, or hidden so that totals cannot give a small cell "
                    "back; a sum over released cells is suppressed when any part is; lower_bound: a month cell that "
                    "leaves out days where it was suppressed, so its count is at least the value shown")


@dataclass(frozen=True)
class Period:
    kind: str  # day | month
    start: date  # the service day, or the month's first day

    @property
    def text(self) -> str:
        return self.start.isoformat() if self.kind == "day" else self.start.isoformat()[:7]

    def end_day(self) -> date:
        if self.kind == "day":
            return self.start + timedelta(days=1)
        return (self.start.replace(day=28) + timedelta(days=4)).replace(day=1)

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """04:00 local on the first service day to 04:00 local after the last (DST-safe: 04:00 is
        never in a gap or a fold in the zones served)."""
        zone = ZoneInfo(timezone)
        return (datetime.combine(self.start, SERVICE_DAY_START, tzinfo=zone),
                datetime.combine(self.end_day(), SERVICE_DAY_START, tzinfo=zone))


def parse_period(text: str) -> Period:
    try:
        if len(text) == 10:
            return Period("day", date.fromisoformat(text))
        if len(text) == 7 and text[4] == "-":
            return Period("month", date.fromisoformat(text + "-01"))
    except ValueError:
        pass
    raise InvalidStatisticsPeriod(f"period must be a service day YYYY-MM-DD or a month YYYY-MM, got {text[:40]!r}")


# Which cells of a family a grouping reads.
INNER, ROWS, COLS, TOTAL, ROWS_1D = "inner", "rows", "cols", "total", "rows_1d"


@dataclass(frozen=True)
class Grouping:
    """``dims`` in answer order; ``family`` and ``cells`` say what is read; ``row_dim``/``col_dim``
    name the dimensions the row and column keys fill; scope dimensions come from the scope."""

    dims: tuple[str, ...]
    family: str
    cells: str
    row_dim: str | None = None
    col_dim: str | None = None
    by_day: bool = False  # sales by day of a month: the day releases' totals


def _g(dims: str, family: str, cells: str, row: str | None = None, col: str | None = None, **kw: Any) -> Grouping:
    return Grouping(tuple(d for d in dims.split(",") if d), family, cells, row, col, **kw)


_VALIDATIONS = [
    _g("route,hour", "route_hour", INNER, "route", "hour"), _g("route", "route_hour", ROWS, "route"),
    _g("hour", "route_hour", COLS, None, "hour"), _g("", "route_hour", TOTAL), _g("stop", "stop", ROWS_1D, "stop"),
    _g("product_kind,rider_category", "product", INNER, "product_kind", "rider_category"),
    _g("product_kind", "product", ROWS, "product_kind"), _g("rider_category", "product", COLS, None, "rider_category"),
    _g("medium_kind,product_kind", "medium", INNER, "medium_kind", "product_kind"),
    _g("medium_kind", "medium", ROWS, "medium_kind"), _g("reason", "refusals", ROWS_1D, "reason"),
]
_OD = [_g("origin,destination", "od", INNER, "origin", "destination"), _g("origin", "od", ROWS, "origin"),
       _g("destination", "od", COLS, None, "destination"), _g("", "od", TOTAL)]
_SALES = [
    _g("product,channel", "product_channel", INNER, "product", "channel"),
    _g("product", "product_channel", ROWS, "product"), _g("channel", "product_channel", COLS, None, "channel"),
    _g("", "product_channel", TOTAL),
    _g("sales_point,channel", "sales_point", INNER, "sales_point", "channel"),
    _g("sales_point", "sales_point", ROWS, "sales_point"),
    _g("day", "product_channel", TOTAL, by_day=True),
]
_SALES_SCOPE_DIMS = ("selling_authority", "owning_network")
# every sales grouping of product_channel also takes the scope's dimensions (sums over scopes)
_SALES += [Grouping(tuple(scope) + g.dims, g.family, g.cells, g.row_dim, g.col_dim)
           for g in list(_SALES) if g.family == "product_channel" and not g.by_day
           for scope in (("selling_authority",), ("owning_network",), ("selling_authority", "owning_network"))]

GROUPINGS: Mapping[str, Mapping[frozenset[str], Grouping]] = {
    kind: {frozenset(g.dims): g for g in groupings}
    for kind, groupings in (("validations", _VALIDATIONS), ("od", _OD), ("sales", _SALES))
}
DEFAULT_GROUPING = {"validations": "route,hour", "od": "origin,destination", "sales": "product,channel"}


def parse_group_by(kind: str, text: str | None) -> Grouping:
    names = [n.strip() for n in (DEFAULT_GROUPING[kind] if text is None else text).split(",") if n.strip()]
    if kind != "sales":
        names = [n for n in names if n != "network"]  # always in the answer: the scope of validations and od
    found = GROUPINGS[kind].get(frozenset(names))
    if found is None or len(set(names)) != len(names):
        supported = sorted(",".join(g.dims) or "(empty)" for g in GROUPINGS[kind].values())
        raise UnsupportedGrouping(f"group_by {text!r} is not supported for {kind}; supported: {'; '.join(supported)}",
                                  extra={"supported": supported})
    return found


def check_network(network: str | None, authority_id: str | None, network_authority: Mapping[str, str]) -> None:
    """An authority asking for a network that is not its own: 403 (admin: ``authority_id`` None)."""
    if network is not None and authority_id is not None and network_authority.get(network) != authority_id:
        raise OtherAuthorityStatistics(f"network {network[:100]!r} is not a network of authority {authority_id!r}")


@dataclass(frozen=True)
class Report:
    kind: str
    period: Period
    method: str
    parameters: Mapping[str, Any]
    grouping: Grouping
    rows: tuple[dict[str, Any], ...]


# The class of a cell in its family's table: inner, a row or column margin, the total.
_CELL_CLASS = """CASE WHEN c.row_key = '*' AND c.col_key IN ('*', '') THEN 'total'
                    WHEN c.row_key = '*' THEN 'cols' WHEN c.col_key = '*' THEN 'rows'
                    WHEN c.col_key = '' THEN 'rows_1d' ELSE 'inner' END"""

# One query for every grouping read from the same releases: the wanted (family, class) pairs
# ($2, as 'family:class'); the primary key (release_id, family, ...) finds the families' cells.
# No ORDER BY (the rows are sorted once grouped) and no join (a release's day is in `Releases`).
_CELLS_SQL = f"""
SELECT c.release_id, c.family, {_CELL_CLASS} AS class, c.scope, c.row_key, c.col_key, c.count, c.amount_minor,
       c.parts_suppressed
FROM stat_cells c
WHERE c.release_id = ANY($1::bigint[]) AND c.family = ANY($3::text[])
  AND c.family || ':' || {_CELL_CLASS} = ANY($2::text[])
  AND ($4::text IS NULL OR $4 = ANY(c.authority_ids))
  AND ($5::text IS NULL OR $5 = ANY(c.network_ids))
"""


@dataclass(frozen=True)
class Releases:
    """The releases a grouping reads (one, or a month's days for ``by_day``), and what identifies
    them for a cache: ``key`` holds (release_id, created_at) pairs, immutable once stored."""

    kind: str
    period: Period
    ids: tuple[int, ...]
    key: tuple[tuple[int, str], ...]
    method: str
    parameters: Mapping[str, Any]
    starts: Mapping[int, date]  # release id -> its period's first day


def _releases(kind: str, period: Period, rows: Sequence[asyncpg.Record]) -> Releases:
    last = rows[-1]
    return Releases(kind, period, tuple(r["release_id"] for r in rows),
                    tuple((r["release_id"], r["created_at"].isoformat()) for r in rows), last["method"],
                    dict(last["parameters"] or {}), {r["release_id"]: r["period_start"] for r in rows})


async def find_releases(conn: asyncpg.Connection | asyncpg.Pool, kind: str, period: Period,
                        grouping: Grouping) -> Releases:
    """The releases ``grouping`` of ``kind`` reads for ``period`` (404 when not released)."""
    if grouping.by_day:
        if period.kind != "month":
            raise UnsupportedGrouping("group_by day needs a month period (YYYY-MM)")
        days = await conn.fetch(
            "SELECT release_id, period_start, method, parameters, created_at FROM stat_releases WHERE kind = $1 "
            "AND period_kind = 'day' AND period_start >= $2 AND period_start < $3 ORDER BY period_start",
            kind, period.start, period.end_day())
        if not days:
            raise StatisticsNotReleased(f"no day of {period.text} is released yet")
        return _releases(kind, period, days)
    release = await conn.fetchrow(
        "SELECT release_id, period_start, method, parameters, created_at FROM stat_releases WHERE kind = $1 "
        "AND period_kind = $2 AND period_start = $3", kind, period.kind, period.start)
    if release is None:
        raise StatisticsNotReleased(f"{kind} of {period.text} are not released yet (a service day is released once it is "
                                    "closed, a month once all its days are)")
    return _releases(kind, period, [release])


async def find_period_releases(conn: asyncpg.Connection | asyncpg.Pool, period: Period) -> dict[str, Releases]:
    """Every kind released for exactly this period, in one query (the monthly report's)."""
    rows = await conn.fetch(
        "SELECT kind, release_id, period_start, method, parameters, created_at FROM stat_releases WHERE period_kind = $1 "
        "AND period_start = $2", period.kind, period.start)
    return {r["kind"]: _releases(r["kind"], period, [r]) for r in rows}


def _scope_fields(kind: str, family: str, scope: str) -> dict[str, str]:
    if kind != "sales":
        return {"network": scope}
    seller, _, networks = scope.partition("|")
    return {"selling_authority": seller, "owning_network": networks} if family == "product_channel" else {
        "selling_authority": seller}


def _sum(parts: Sequence[asyncpg.Record], money: bool) -> dict[str, Any]:
    suppressed = any(p["count"] is None for p in parts)
    lower = sum(p["parts_suppressed"] for p in parts)
    out: dict[str, Any] = {"count": None if suppressed else sum(p["count"] for p in parts)}
    if money:
        out["amount_minor"] = None if suppressed or any(p["amount_minor"] is None for p in parts) else sum(
            p["amount_minor"] for p in parts)
    out["suppressed"] = suppressed
    out["lower_bound"] = not suppressed and lower > 0
    return out


def _one_per_cell(grouping: Grouping, cells: Sequence[asyncpg.Record]) -> tuple[dict[str, Any], ...]:
    """Validations and od of one release: a row is one cell ((scope, row, column) is the cells'
    key), so no sums; sorted by (network, row, column) like the general case."""
    row_dim, col_dim = grouping.row_dim, grouping.col_dim
    rows = []
    for cell in sorted(cells, key=lambda c: (c["scope"], c["row_key"], c["col_key"])):
        count = cell["count"]
        row: dict[str, Any] = {"network": cell["scope"]}
        if row_dim:
            row[row_dim] = cell["row_key"]
        if col_dim:
            row[col_dim] = cell["col_key"]
        row["count"] = count
        row["suppressed"] = count is None
        row["lower_bound"] = count is not None and cell["parts_suppressed"] > 0
        rows.append(row)
    return tuple(rows)


def _group(kind: str, grouping: Grouping, cells: Sequence[asyncpg.Record], currency: str,
           starts: Mapping[int, date], one_release: bool) -> tuple[dict[str, Any], ...]:
    """The rows of one grouping from its cells, sorted by their keys (scope, day, row, column)."""
    if kind != "sales" and one_release and not grouping.by_day:
        return _one_per_cell(grouping, cells)
    money = kind == "sales"
    groups: dict[tuple, list[asyncpg.Record]] = {}
    keys: dict[tuple, dict[str, Any]] = {}
    for cell in cells:
        fields = {k: v for k, v in _scope_fields(kind, grouping.family, cell["scope"]).items()
                  if kind != "sales" or k in grouping.dims or grouping.family == "sales_point"}
        if grouping.by_day:
            fields["day"] = starts[cell["release_id"]].isoformat()
        if grouping.row_dim:
            fields[grouping.row_dim] = cell["row_key"]
        if grouping.col_dim:
            fields[grouping.col_dim] = cell["col_key"]
        key = tuple(fields.items())  # the answer order: scope, day, row, column
        if key not in keys:
            keys[key] = fields
            groups[key] = [cell]
        else:
            groups[key].append(cell)
    rows = []
    for key in sorted(groups):
        row = keys[key]
        row.update(_sum(groups[key], money))
        if money:
            row["currency"] = currency
        rows.append(row)
    return tuple(rows)


async def read_groupings(pool: asyncpg.Pool, releases: Releases, groupings: Sequence[Grouping], *,
                         authority_id: str | None, network: str | None,
                         currency: str = "EUR") -> dict[tuple[str, ...], Report]:
    """The reports of several groupings of the same releases, read in one query (keyed by dims)."""
    wanted = sorted({f"{g.family}:{g.cells}" for g in groupings})
    families = sorted({g.family for g in groupings})
    async with pool.acquire() as conn:
        cells = await conn.fetch(_CELLS_SQL, list(releases.ids), wanted, families, authority_id, network)
    by_class: dict[str, list[asyncpg.Record]] = {w: [] for w in wanted}
    for cell in cells:
        by_class[f"{cell['family']}:{cell['class']}"].append(cell)
    return {g.dims: Report(releases.kind, releases.period, releases.method, releases.parameters, g,
                           _group(releases.kind, g, by_class[f"{g.family}:{g.cells}"], currency, releases.starts,
                                  len(releases.ids) == 1))
            for g in groupings}


async def read_report(pool: asyncpg.Pool, kind: str, period: Period, grouping: Grouping, *, authority_id: str | None,
                      network: str | None, currency: str = "EUR", releases: Releases | None = None) -> Report:
    """The rows of one grouping for a caller (``authority_id`` None: admin), sorted by key."""
    if releases is None:
        releases = await find_releases(pool, kind, period, grouping)
    read = await read_groupings(pool, releases, [grouping], authority_id=authority_id, network=network,
                                currency=currency)
    return read[grouping.dims]


# ---------------------------------------------------------------- pages

ORDERS = ("count", "key")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Table:
    """A report's rows in one order (``count``: count descending, suppressed last, then key;
    ``key``: by key), with the totals over every row, so that a page needs nothing else."""

    report: Report
    order: str
    rows: tuple[dict[str, Any], ...]
    totals: Mapping[str, Any]

    def page(self, limit: int, offset: int) -> tuple[dict[str, Any], ...]:
        return self.rows[offset:offset + limit]


def totals_of(report: Report) -> dict[str, Any]:
    """Sums over the released rows of a report (every page): ``count`` adds the released counts
    (suppressed rows add nothing, so it is exact only when ``suppressed_rows`` is 0), like
    ``amount_minor`` for sales. Nothing here is more than a sum of rows the caller can read."""
    rows = report.rows
    out: dict[str, Any] = {"rows": len(rows), "count": sum(r["count"] for r in rows if r["count"] is not None),
                           "suppressed_rows": sum(1 for r in rows if r["count"] is None),
                           "lower_bound_rows": sum(1 for r in rows if r["lower_bound"])}
    if report.kind == "sales":
        out["amount_minor"] = sum(r["amount_minor"] for r in rows if r.get("amount_minor") is not None)
    return out


def ordered(report: Report, order: str) -> Table:
    if order == "key":
        rows = report.rows
    else:  # stable: equal counts keep the key order
        rows = tuple(sorted(report.rows, key=lambda r: (r["count"] is None, -(r["count"] or 0))))
    return Table(report, order, rows, totals_of(report))


async def list_releases(pool: asyncpg.Pool, period: Period | None) -> list[dict[str, Any]]:
    """The released periods (of one period, or all), newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT kind, period_kind, period_start, method, parameters, created_at FROM stat_releases "
            "WHERE $1::text IS NULL OR (period_kind = $1 AND period_start = $2) "
            "ORDER BY period_start DESC, period_kind, kind LIMIT 2000",
            None if period is None else period.kind, None if period is None else period.start)
    return [{"kind": r["kind"], "period": Period(r["period_kind"], r["period_start"]).text, "period_kind": r["period_kind"],
             "method": r["method"], "parameters": dict(r["parameters"] or {}), "created_at": r["created_at"].isoformat()}
            for r in rows]


def rows_csv(report: Report, rows: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The rows (default: all of the report's) as CSV: one header line; a suppressed cell has an
    empty count and suppressed=true."""
    scope = ["network"] if report.kind != "sales" else [d for d in ("selling_authority", "owning_network")
                                                         if any(d in r for r in report.rows)]
    dims = [d for d in ("day", *report.grouping.dims) if d not in scope and any(d in r for r in report.rows)]
    if report.grouping.by_day and "day" not in dims:
        dims.insert(0, "day")
    money = ["amount_minor", "currency"] if report.kind == "sales" else []
    header = [*scope, *dict.fromkeys(dims), "count", *money, "suppressed", "lower_bound"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in report.rows if rows is None else rows:
        writer.writerow(["" if row.get(h) is None else str(row[h]).lower() if isinstance(row[h], bool) else row[h]
                         for h in header])
    return out.getvalue()
