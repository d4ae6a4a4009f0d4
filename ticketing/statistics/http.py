"""HTTP routes of the statistics: GET /v1/statistics/... for authorities (their own networks)
and admins (the region).

Every route reads released cells only (`reports`). Isolation is the same on all of them: an
authority key sees the cells whose readers include its authority, and ``network=`` naming a
network of another authority answers 403 ``other_authority_statistics`` (JSON, CSV, PNG and the
report alike); an admin key sees everything (``authority=`` narrows the report to one authority).
A period not released yet is a 404 ``statistics_not_released``.

JSON tables are paged (``limit``, default 100, at most 1000, and ``offset``), ordered by count
(descending, suppressed last, then by key) or by key (``order=key``); every page carries the
number of rows and the totals over all of them. CSV is an export: the whole table, by key, unless
``limit`` or ``order`` say otherwise; it is sent gzip-compressed (``Content-Encoding: gzip``) to a
client whose Accept-Encoding lists gzip.

Released cells never change, so what is computed from them (grouped rows, charts, the report) is
kept in a per-application LRU (`cache`) keyed by the releases read, the caller's scope and the
parameters; every answer has an ETag of the same key (If-None-Match: 304, before any work past
finding the releases) and ``Cache-Control: private``.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from oura.auth import Role
from oura.concurrency import run_blocking
from oura.errors import InvalidParameter
from oura.http import RouteTable, get_principal, header, json_response, query, query_int, query_str, reply, schema_ref
from oura.keys import POOL
from ticketing.errors import AuthorityRequired, OtherAuthorityStatistics, StatisticsNotReleased
from ticketing.products import DEFAULT_TIMEZONE
from ticketing.startup import TICKETING
from ticketing.statistics import charts, reports
from ticketing.statistics.cache import ROW_WEIGHT, cache_of, etag_of
from ticketing.statistics.schemas import COMPONENTS, MONTH_PATTERN, PERIOD_PATTERN

__all__ = ["routes"]

routes = RouteTable(tag="statistics", components=COMPONENTS)
_ROLES = [Role.AUTHORITY, Role.ADMIN]
CSV = "text/csv"
PNG = "image/png"
HTML = "text/html"
KINDS = ("validations", "sales", "od")

_PERIOD = query("period", required=True, maxLength=10, pattern=PERIOD_PATTERN,
                description="a service day YYYY-MM-DD (04:00 to 04:00 in the region's zone) or a month YYYY-MM")
_NETWORK = query("network", maxLength=200, description="only this network (an authority key: one of its own)")
_ERRORS = {400: "Malformed period or group_by (the supported groupings are listed)",
           403: "A network of another authority (other_authority_statistics), or a role that does not read statistics",
           404: "This period is not released yet (statistics_not_released)"}


def _caller(request: web.Request) -> str | None:
    """The authority whose cells the caller reads; None: an admin (everything)."""
    principal = get_principal(request)
    if principal.role is Role.ADMIN:
        return None
    if principal.authority_id is None:
        raise AuthorityRequired("statistics are read for an authority; use a key bound to one")
    return principal.authority_id


def _context(request: web.Request) -> tuple[Mapping[str, str], str, str]:
    """(network -> authority, the region's zone, its currency)."""
    service = request.app.get(TICKETING)
    if service is None:
        return {}, DEFAULT_TIMEZONE, "EUR"
    catalogue = service.catalogue
    return service.network_authority, catalogue.timezone, catalogue.currency


def _period(request: web.Request) -> reports.Period:
    return reports.parse_period(query_str(request.query, "period", required=True, max_length=10))


def _scope(request: web.Request) -> tuple[str | None, str | None]:
    """(authority read for, network filter), refusing another authority's network first."""
    authority_id = _caller(request)
    network = query_str(request.query, "network", max_length=200)
    network_authority, _, _ = _context(request)
    reports.check_network(network, authority_id, network_authority)
    return authority_id, network


CACHE_CONTROL = "private, max-age=300"
_VARY = "Authorization, X-Api-Key"
_IF_NONE_MATCH = header("If-None-Match", maxLength=1000, description="an ETag of an earlier answer: 304 if unchanged")
_NOT_MODIFIED = {"description": "Not modified: If-None-Match names this answer's ETag", "content": {},
                 "headers": {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}}}
_CACHE_HEADERS = {"ETag": {"type": "string", "description": "the same for as long as the releases read are the same"},
                  "Cache-Control": {"type": "string"}}


def _validators(request: web.Request, etag: str) -> tuple[dict[str, str], bool]:
    """(the caching headers of an answer with this ETag, whether If-None-Match already names it)."""
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": _VARY}
    wanted = request.headers.get("If-None-Match")
    matched = wanted is not None and (wanted.strip() == "*" or etag in (t.strip() for t in wanted.split(",")))
    return headers, matched


def _scope_key(releases: reports.Releases, authority_id: str | None, network: str | None, currency: str) -> tuple:
    return (releases.kind, releases.key, authority_id, network, currency)


async def _grouped(request: web.Request, releases: reports.Releases, groupings: list[reports.Grouping],
                   authority_id: str | None, network: str | None) -> dict[tuple[str, ...], reports.Report]:
    """The reports of these groupings of the same releases: from the cache, the missing ones read
    together in one query."""
    _, _, currency = _context(request)
    cache = cache_of(request.app)
    scope = _scope_key(releases, authority_id, network, currency)
    found = {g.dims: cache.get(("rows", scope, g.dims)) for g in groupings}
    missing = [g for g in groupings if found[g.dims] is None]
    if len(missing) == 1:
        g = missing[0]

        async def one() -> reports.Report:
            return await reports.read_report(request.app[POOL], releases.kind, releases.period, g,
                                             authority_id=authority_id, network=network, currency=currency,
                                             releases=releases)

        found[g.dims] = await cache.get_or_compute(("rows", scope, g.dims), one, lambda r: ROW_WEIGHT * (1 + len(r.rows)))
    elif missing:
        read = await reports.read_groupings(request.app[POOL], releases, missing, authority_id=authority_id,
                                            network=network, currency=currency)
        for dims, report in read.items():
            cache.put(("rows", scope, dims), report, ROW_WEIGHT * (1 + len(report.rows)))
            found[dims] = report
    return found  # type: ignore[return-value]


async def _read(request: web.Request, kind: str, group_by: str | None, period: reports.Period,
                authority_id: str | None, network: str | None) -> reports.Report:
    grouping = reports.parse_group_by(kind, group_by)
    releases = await reports.find_releases(request.app[POOL], kind, period, grouping)
    return (await _grouped(request, releases, [grouping], authority_id, network))[grouping.dims]


async def _table(request: web.Request, releases: reports.Releases, grouping: reports.Grouping, order: str,
                 authority_id: str | None, network: str | None) -> reports.Table:
    _, _, currency = _context(request)

    async def build() -> reports.Table:
        report = (await _grouped(request, releases, [grouping], authority_id, network))[grouping.dims]
        return reports.ordered(report, order)

    key = ("table", _scope_key(releases, authority_id, network, currency), grouping.dims, order)
    return await cache_of(request.app).get_or_compute(key, build, lambda t: ROW_WEIGHT // 4 * (1 + len(t.rows)))


def _accepts_gzip(request: web.Request) -> bool:
    """Whether Accept-Encoding lists gzip (and does not refuse it with q=0)."""
    for item in request.headers.get("Accept-Encoding", "").lower().split(","):
        name, _, params = item.strip().partition(";")
        if name.strip() == "gzip":
            q = params.replace(" ", "")
            if not q.startswith("q="):
                return True
            try:
                return float(q[2:]) > 0
            except ValueError:
                return True
    return False


async def _csv(request: web.Request, releases: reports.Releases, grouping: reports.Grouping, order: str,
               limit: int | None, offset: int, authority_id: str | None, network: str | None,
               gzipped: bool = False) -> bytes:
    """A CSV answer's bytes (gzip-compressed if ``gzipped``), written and compressed once per
    releases, scope and parameters: the export of every row of a month's OD is 18 MB at the full
    bench size (10 M validations), seconds to write, about 10 times smaller compressed."""
    _, _, currency = _context(request)
    key = ("csv", _scope_key(releases, authority_id, network, currency), grouping.dims, order, limit, offset)

    async def write() -> bytes:
        table = await _table(request, releases, grouping, order, authority_id, network)
        rows = table.rows[offset:] if limit is None else table.page(limit, offset)
        return reports.rows_csv(table.report, rows).encode()

    async def compress() -> bytes:
        plain = await cache_of(request.app).get_or_compute(key, write, len)
        return await run_blocking(gzip.compress, plain, compresslevel=6, mtime=0)

    if gzipped:
        return await cache_of(request.app).get_or_compute((*key, "gzip"), compress, len)
    return await cache_of(request.app).get_or_compute(key, write, len)


def _report_json(report: reports.Report, timezone: str, table: reports.Table | None = None, limit: int | None = None,
                 offset: int = 0) -> dict[str, Any]:
    start, end = report.period.bounds(timezone)
    if table is None:
        table = reports.ordered(report, "key")
    limit = reports.DEFAULT_LIMIT if limit is None else limit
    rows = table.page(limit, offset)
    return {
        "kind": report.kind,
        "period": {"kind": report.period.kind, "text": report.period.text, "start": start.isoformat(),
                   "end": end.isoformat()},
        "method": report.method,
        "parameters": dict(report.parameters),
        "group_by": list(report.grouping.dims),
        "rows": list(rows),
        "note": reports.SUPPRESSION_NOTE,
        "order": table.order,
        "limit": limit,
        "offset": offset,
        "total_rows": len(table.rows),
        "next_offset": offset + limit if offset + limit < len(table.rows) else None,
        "totals": dict(table.totals),
    }


def _groupings_text(kind: str) -> str:
    return "; ".join(sorted(",".join(g.dims) or "(empty)" for g in reports.GROUPINGS[kind].values()))


def _wants_csv(request: web.Request) -> bool:
    wanted = query_str(request.query, "format", max_length=10)
    if wanted is not None and wanted not in ("json", "csv"):
        raise InvalidParameter("format", "json or csv")
    if wanted is not None:
        return wanted == "csv"
    return CSV in request.headers.get("Accept", "") and "application/json" not in request.headers.get("Accept", "")


_LIMIT = query("limit", "integer", minimum=1, maximum=reports.MAX_LIMIT,
               description=f"rows per page (JSON: default {reports.DEFAULT_LIMIT}; CSV: every row unless given)")
_OFFSET = query("offset", "integer", minimum=0, maximum=100_000_000, description="rows skipped before the page (default 0)")
_ORDER = query("order", enum=list(reports.ORDERS),
               description="count (JSON's default): count descending, suppressed rows last, then by key; "
                           "key (CSV's default): by key")


def _table_route(kind: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        period = _period(request)
        authority_id, network = _scope(request)
        as_csv = _wants_csv(request)
        grouping = reports.parse_group_by(kind, query_str(request.query, "group_by", max_length=200))
        limit = query_int(request.query, "limit", minimum=1, maximum=reports.MAX_LIMIT)
        offset = query_int(request.query, "offset", default=0, minimum=0, maximum=100_000_000) or 0
        order = query_str(request.query, "order", default="key" if as_csv else "count", max_length=10) or "count"
        if order not in reports.ORDERS:
            raise InvalidParameter("order", " or ".join(reports.ORDERS))
        releases = await reports.find_releases(request.app[POOL], kind, period, grouping)
        _, timezone, currency = _context(request)
        gzipped = as_csv and _accepts_gzip(request)
        headers, matched = _validators(request, etag_of(
            "table", _scope_key(releases, authority_id, network, currency), grouping.dims, order, limit, offset,
            ("csv-gzip" if gzipped else "csv") if as_csv else "json", timezone))
        if as_csv:
            headers["Vary"] = f"{_VARY}, Accept-Encoding"
        if matched:
            return web.Response(status=304, headers=headers)
        if as_csv:
            body = await _csv(request, releases, grouping, order, limit, offset, authority_id, network, gzipped)
            response = web.Response(body=body, content_type=CSV, charset="utf-8", headers=headers)
            if gzipped:
                response.headers["Content-Encoding"] = "gzip"
            return response
        table = await _table(request, releases, grouping, order, authority_id, network)
        return json_response(_report_json(table.report, timezone, table, limit, offset), headers=headers)

    handler.__name__ = handler.__qualname__ = f"get_{kind}_statistics"
    handler.__doc__ = (f"Released {kind} statistics of a period, grouped (default {reports.DEFAULT_GROUPING[kind]}). "
                       f"Supported group_by: {_groupings_text(kind)}. Coarser groupings are sums of released cells, "
                       "suppressed when any part is. JSON answers are pages (limit, offset) with the number of rows "
                       "and the totals over all of them; CSV is the whole table (by key) unless limit is given.")
    routes.get(
        f"/v1/statistics/{kind}", summary=f"Anonymised {kind} statistics of a released period", roles=_ROLES,
        params=[_PERIOD, query("group_by", maxLength=200, description=f"comma list of dimensions: {_groupings_text(kind)}"),
                _NETWORK, query("format", enum=["json", "csv"], description="json (default) or csv (or Accept: text/csv)"),
                _LIMIT, _OFFSET, _ORDER, _IF_NONE_MATCH],
        responses={200: {"description": "A page of the rows (JSON), or the rows as CSV (all of them unless limit is given)",
                         "headers": {**{name: {"schema": value} for name, value in _CACHE_HEADERS.items()},
                                     "Content-Encoding": {"schema": {"type": "string", "enum": ["gzip"]},
                                                          "description": "CSV, to a client accepting gzip"}},
                         "content": {"application/json": {"schema": schema_ref("Statistics")},
                                     CSV: {"schema": {"type": "string"}}}},
                   304: _NOT_MODIFIED, **_ERRORS},
    )(handler)


_CHART_SOURCE = {"hourly": ("validations", "hour"), "top_stops": ("validations", "stop"),
                 "channels": ("sales", "channel"), "heatmap": ("od", "origin,destination")}
_CHART_TITLES = {"hourly": "Boardings per hour", "top_stops": "Top stops", "channels": "Items sold by channel",
                 "heatmap": "Origin-destination flows"}


async def _chart_releases(request: web.Request, chart: str, period: reports.Period) -> reports.Releases:
    kind, group_by = _CHART_SOURCE[chart]
    return await reports.find_releases(request.app[POOL], kind, period, reports.parse_group_by(kind, group_by))


def _chart_key(chart: str, releases: reports.Releases, authority_id: str | None, network: str | None,
               currency: str) -> tuple:
    return ("chart", chart, _scope_key(releases, authority_id, network, currency))


async def _chart(request: web.Request, chart: str, releases: reports.Releases, authority_id: str | None,
                 network: str | None) -> bytes:
    """The PNG of a chart (rendered once per releases, scope and chart; then from the cache)."""
    kind, group_by = _CHART_SOURCE[chart]
    grouping = reports.parse_group_by(kind, group_by)
    _, _, currency = _context(request)

    async def render() -> bytes:
        report = (await _grouped(request, releases, [grouping], authority_id, network))[grouping.dims]
        title = f"{_CHART_TITLES[chart]} — {releases.period.text}"
        return await run_blocking(charts.render_chart, chart, report.rows, title)

    return await cache_of(request.app).get_or_compute(_chart_key(chart, releases, authority_id, network, currency),
                                                      render, len)


def _chart_route(kind: str) -> None:
    names = charts.CHARTS[kind]

    async def handler(request: web.Request) -> web.Response:
        period = _period(request)
        authority_id, network = _scope(request)
        chart = query_str(request.query, "chart", default=names[0], max_length=20)
        if chart not in names:
            raise InvalidParameter("chart", f"one of {', '.join(names)}")
        releases = await _chart_releases(request, chart, period)
        key = _chart_key(chart, releases, authority_id, network, _context(request)[2])
        headers, matched = _validators(request, etag_of(*key))
        if matched:
            return web.Response(status=304, headers=headers)
        png = await _chart(request, chart, releases, authority_id, network)
        return web.Response(body=png, content_type=PNG, headers=headers)

    handler.__name__ = handler.__qualname__ = f"get_{kind}_chart"
    handler.__doc__ = (f"A PNG chart of released {kind} statistics ({', '.join(names)}), drawn from released cells only; "
                       "drawn once per release and caller, then served from memory (ETag, If-None-Match: 304).")
    routes.get(
        f"/v1/statistics/{kind}.png", summary=f"A chart of {kind} statistics (PNG)", roles=_ROLES, content_type=PNG,
        params=[_PERIOD, query("chart", enum=list(names), description=f"default {names[0]}"), _NETWORK, _IF_NONE_MATCH],
        responses={200: reply("The chart", {"type": "string", "format": "binary"}, content_type=PNG,
                              headers=_CACHE_HEADERS), 304: _NOT_MODIFIED, **_ERRORS},
    )(handler)


@routes.get("/v1/statistics/releases", summary="Released periods, with their method and parameters", roles=_ROLES,
            params=[query("period", maxLength=10, pattern=PERIOD_PATTERN, description="only this day or month")],
            responses={200: reply("Releases, newest first", schema_ref("StatisticsReleases")), 400: _ERRORS[400]})
async def list_statistics_releases(request: web.Request) -> web.Response:
    """Which periods are released (each kind of each day and month), how they were protected."""
    _caller(request)
    text = query_str(request.query, "period", max_length=10)
    period = None if text is None else reports.parse_period(text)
    return json_response({"releases": await reports.list_releases(request.app[POOL], period)})


_REPORT_READS = {"total": ("validations", ""), "refusals": ("validations", "reason"),
                 "routes": ("validations", "route"), "sales": ("sales", ""), "od": ("od", "")}


@routes.get("/v1/statistics/report", summary="The monthly report of an authority (printable HTML with its charts)",
            roles=_ROLES, content_type=HTML,
            params=[query("period", required=True, maxLength=7, pattern=MONTH_PATTERN, description="a month YYYY-MM"),
                    query("authority", maxLength=200, description="admin: one authority (default: the region)"),
                    _NETWORK, _IF_NONE_MATCH],
            responses={200: reply("One HTML page, the charts embedded as data: URIs", {"type": "string"},
                                  content_type=HTML, headers=_CACHE_HEADERS), 304: _NOT_MODIFIED, **_ERRORS})
async def get_statistics_report(request: web.Request) -> web.Response:
    """Key figures, tables and charts of a released month, with the protection method used. Drawn
    once per month's releases and caller (one query per released table), then served from memory."""
    period = _period(request)
    if period.kind != "month":
        raise InvalidParameter("period", "the report is monthly: YYYY-MM")
    authority_id, network = _scope(request)
    asked = query_str(request.query, "authority", max_length=200)
    if asked is not None and authority_id is not None and asked != authority_id:
        raise OtherAuthorityStatistics(f"the report of {asked[:100]!r} is not yours to read")
    if authority_id is None:
        authority_id = asked
    released = await reports.find_period_releases(request.app[POOL], period)
    if not released:
        raise StatisticsNotReleased(f"nothing of {period.text} is released yet")
    _, _, currency = _context(request)
    key = ("report", tuple(sorted((k, r.key) for k, r in released.items())), authority_id, network, currency)
    headers, matched = _validators(request, etag_of(*key))
    if matched:
        return web.Response(status=304, headers=headers)

    async def build() -> str:
        return await _build_report(request, period, released, authority_id, network)

    page = await cache_of(request.app).get_or_compute(key, build, len)
    return web.Response(text=page, content_type=HTML, charset="utf-8", headers=headers)


async def _build_report(request: web.Request, period: reports.Period, released: Mapping[str, reports.Releases],
                        authority_id: str | None, network: str | None) -> str:
    wanted: dict[str, list[reports.Grouping]] = {}
    for kind, group_by in [*_REPORT_READS.values(), *_CHART_SOURCE.values()]:
        if kind in released:
            wanted.setdefault(kind, []).append(reports.parse_group_by(kind, group_by))
    grouped = {kind: await _grouped(request, released[kind], groupings, authority_id, network)
               for kind, groupings in wanted.items()}  # one query per kind for what is not cached yet
    read: dict[str, reports.Report | None] = {}
    for name, (kind, group_by) in _REPORT_READS.items():
        read[name] = grouped[kind][reports.parse_group_by(kind, group_by).dims] if kind in grouped else None
    figures = []

    def total(report: reports.Report | None) -> str:
        if report is None:
            return "not released"
        if any(r["count"] is None for r in report.rows):
            known = sum(r["count"] or 0 for r in report.rows)
            return f"at least {known} (some parts suppressed)"
        return str(sum(r["count"] for r in report.rows))

    figures.append(("accepted validations", total(read["total"])))
    figures.append(("refused validations", total(read["refusals"])))
    figures.append(("chained boardings (origin-destination)", total(read["od"])))
    figures.append(("items sold", total(read["sales"])))
    if read["sales"] is not None and read["sales"].rows and all(r["amount_minor"] is not None for r in read["sales"].rows):
        figures.append(("revenue (minor units)", f"{sum(r['amount_minor'] for r in read['sales'].rows)} "
                                                 f"{read['sales'].rows[0].get('currency', '')}"))
    images = []
    for chart, label in _CHART_TITLES.items():
        kind = _CHART_SOURCE[chart][0]
        if kind in released:
            images.append((label, await _chart(request, chart, released[kind], authority_id, network)))
    first = next(r for r in read.values() if r is not None) if any(r is not None for r in read.values()) else None
    method, parameters = (first.method, first.parameters) if first is not None else (
        next(iter(released.values())).method, next(iter(released.values())).parameters)
    tables = [(name, report.rows, ["network", *report.grouping.dims, "count"]) for name, report in
              (("Validations by route", read["routes"]), ("Refusals by reason", read["refusals"])) if report is not None]
    who = authority_id or "the region"
    return await run_blocking(
        charts.render_report, title=f"OùRA statistics — {who} — {period.text}", period=period.text,
        method=method, parameters=parameters, figures=figures, tables=tables, charts=images)


for _kind in KINDS:
    _chart_route(_kind)
for _kind in KINDS:
    _table_route(_kind)
